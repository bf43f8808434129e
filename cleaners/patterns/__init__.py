"""Boilerplate phrases, kept as data: one TOML file per language (plus ``common.toml``).

Each table is a *group* of phrases for one concept; its dotted name is the stable rule id
(``[teaser.related]`` -> ``teaser.related``). Keys of a group:

- ``rationale`` (required): one line on why this kind of text is not article text;
- ``category`` (required): a :class:`cleaners.model.Category` value;
- ``patterns`` (required): regular expressions, matched case-insensitively;
- ``match``: how a pattern must cover a block: ``"full"`` (the whole block, the default),
  ``"start"`` (a prefix) or ``"search"`` (anywhere);
- ``max_chars``: blocks longer than this never match (keeps a body paragraph that merely quotes
  the phrase);
- ``note``: a note key set on the article when the group fires (the fact is kept as metadata);
- ``requires``: literal strings (lower case), one of which every match contains; the group is
  only tried on blocks holding one of them, found by one pass over the document for all the
  literals of the groups (the prefilter for expensive groups: ``.{0,120}``-style patterns and search-mode groups).
  ``tests/test_patterns_matcher.py`` generates matches of every pattern and checks the list.

Several files may define the same group id (German and English phrases of one concept): their
patterns are merged, and the first file's rationale and settings win. Groups that are not
line-matchers (consent signals, promo anchors, stock credit names) use the same format and are
read by the detector that owns them.
"""

from __future__ import annotations

import importlib
import re
import string
import tomllib
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from itertools import compress
from types import MappingProxyType
from typing import Any

from cleaners.model import Category, LiteralQueries, TextIndex

# The parsed form of a pattern (the stdlib's own parser), for first-character dispatch.
_sre_c: Any = importlib.import_module("re._constants")
_sre_parse: Any = importlib.import_module("re._parser")

# Order matters: a group's rationale and settings come from the first file that defines it.
PATTERN_FILES: tuple[str, ...] = (
    "common.toml", "de.toml", "en.toml", "es.toml", "fr.toml", "it.toml", "pt.toml", "pl.toml",
)
MATCH_MODES = ("full", "start", "search")


_ESCAPE = re.compile(r"\\.")


def lowercase_safe(pattern: str) -> bool:
    """True when ``pattern`` matches the same on lower-cased text without re.IGNORECASE: no
    upper-case letter outside escapes like \\S or \\W, and no inline flag switching case off.
    (Python's re is 2-5x slower on large case-insensitive Unicode alternations.)"""
    return "(?-i" not in pattern and not any(c.isupper() for c in _ESCAPE.sub("", pattern))


def _compile_lower(patterns: list[str]) -> re.Pattern[str] | None:
    if not all(lowercase_safe(p) for p in patterns):
        return None
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.UNICODE)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    category: Category
    rationale: str
    match: str
    regex: re.Pattern[str]
    parts: tuple[re.Pattern[str], ...]
    max_chars: int | None
    note: str | None
    sources: tuple[str, ...]
    # The same alternation compiled case-sensitively, for lower-cased text (None: not safe).
    lower: re.Pattern[str] | None = None
    lower_parts: tuple[re.Pattern[str], ...] | None = None
    requires: tuple[str, ...] = ()
    # search mode, lower-case safe: each pattern with the literals one of which its matches contain
    # (``needles``; () for none), to search only the patterns whose literal occurs in the block
    search_parts: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] | None = None
    # punctuation literals one of which every match contains (``gate``; () for none)
    gate: tuple[str, ...] = ()

    def may_match(self, lowered: str) -> bool:
        """False when the prefilter rules a match out (``lowered`` is the lower-cased block)."""
        return not self.requires or any(r in lowered for r in self.requires)

    def matches(self, text: str) -> re.Match[str] | None:
        if self.max_chars is not None and len(text) > self.max_chars:
            return None
        if self.requires and not self.may_match(text.lower()):
            return None
        if self.match == "full":
            return self.regex.fullmatch(text)
        if self.match == "start":
            return self.regex.match(text)
        return self.regex.search(text)

    def hits(self, text: str, low: str) -> bool:
        """Whether ``matches`` would find something, checked on ``low`` (``text.lower()``) with the
        case-sensitive compilation where the group has one (2-5x faster than re.IGNORECASE)."""
        if self.max_chars is not None and len(text) > self.max_chars:
            return False
        if self.requires and not any(r in low for r in self.requires):
            return False
        return self.pattern_hits(text, low)

    def pattern_hits(self, text: str, low: str) -> bool:
        """``hits`` for a caller that knows ``text`` is short enough and holds a required literal."""
        if self.search_parts is not None:
            # plain loops: ``any(map(low.__contains__, lits))`` per pattern built two iterators each
            # time, 40 % of the cost on the blocks script.code_line is tried on (nine patterns)
            for p, lits in self.search_parts:
                if not lits:
                    if p.search(low) is not None:
                        return True
                    continue
                for lit in lits:
                    if lit in low:
                        if p.search(low) is not None:
                            return True
                        break
            return False
        regex, subject = (self.lower, low) if self.lower is not None else (self.regex, text)
        if self.match == "full":
            return regex.fullmatch(subject) is not None
        if self.match == "start":
            return regex.match(subject) is not None
        return regex.search(subject) is not None

    def count_distinct(self, text: str, lowered: str | None = None) -> int:
        """How many of the group's patterns occur in ``text`` (for signal-counting groups).
        ``lowered`` is ``text.lower()`` when the caller has it."""
        if self.lower is not None and self.lower_parts is not None:
            low = lowered if lowered is not None else text.lower()
            if self.lower.search(low) is None:  # one union search rules out most blocks
                return 0
            return sum(1 for p in self.lower_parts if p.search(low))
        if self.regex.search(text) is None:
            return 0
        return sum(1 for p in self.parts if p.search(text))


# --------------------------------------------------------------------------- first-character dispatch
#
# A full- or start-mode pattern can only match a block whose first character is one its parse tree
# allows. Python's re tries every alternative of a union at position 0 whatever the character
# there, so the union of all line rules cost ~5 us per block; split by first character, a block
# only meets the alternatives that can start with its character (measured: 4x fewer steps).

# A character class larger than this is not enumerated: the alternative counts as "any start".
DISPATCH_MAX_CLASS = 64
# Highest code point of a Unicode whitespace character (U+3000 IDEOGRAPHIC SPACE): \s is enumerable.
_MAX_SPACE = 0x3000
_SPACES = frozenset(chr(c) for c in range(_MAX_SPACE + 1) if chr(c).isspace())
# Highest code point of a Unicode decimal digit (U+1FBF9 SEGMENTED DIGIT NINE, Unicode 14 of Python
# 3.11; a test checks no later one exists): \d on str is ``str.isdecimal``, 660 characters (6 ms to
# list at import). Enumerated, the date and count patterns that start with \d (metadata.date_line,
# comments.section_label) leave the unions of the other first characters: they were in all of
# them, 9 of the 62 alternatives of the "s" union.
MAX_DIGIT = 0x1FBF9
_DIGITS = frozenset(chr(c) for c in range(MAX_DIGIT + 1) if chr(c).isdecimal())
_SPACE_CATEGORIES = (_sre_c.CATEGORY_SPACE, _sre_c.CATEGORY_UNI_SPACE)  # str: Unicode \s
_DIGIT_CATEGORIES = (_sre_c.CATEGORY_DIGIT, _sre_c.CATEGORY_UNI_DIGIT)  # str: Unicode \d
_Items = Iterable[tuple[Any, Any]]


def _class_chars(items: _Items) -> frozenset[str] | None:
    chars: set[str] = set()
    for op, av in items:
        if op is _sre_c.LITERAL:
            chars.add(chr(av))
        elif op is _sre_c.RANGE and av[1] - av[0] < DISPATCH_MAX_CLASS:
            chars.update(chr(c) for c in range(av[0], av[1] + 1))
        elif op is _sre_c.CATEGORY and av in _SPACE_CATEGORIES:
            chars.update(_SPACES)
        elif op is _sre_c.CATEGORY and av in _DIGIT_CATEGORIES:
            chars.update(_DIGITS)
        else:  # negated sets, word categories, big ranges: not worth enumerating
            return None
    return frozenset(chars)


def _first_of(items: _Items) -> tuple[frozenset[str] | None, bool]:
    """(characters a match of ``items`` can start with or None for any, whether it can be empty)."""
    chars: set[str] = set()
    for op, av in items:
        if op is _sre_c.AT:  # \b, ^, $: zero width, the next item decides
            continue
        if op is _sre_c.LITERAL:
            return frozenset(chars | {chr(av)}), False
        if op is _sre_c.IN:
            got = _class_chars(av)
            return (None if got is None else frozenset(chars | got)), False
        if op is _sre_c.SUBPATTERN:
            if av[1] & re.IGNORECASE:  # (?i:...): its literals match other cases too ('ſ' matches 's')
                return None, False
            first, nullable = _first_of(av[-1])
        elif op is _sre_c.BRANCH:
            parts = [_first_of(alt) for alt in av[1]]
            if any(f is None for f, _ in parts):
                return None, False
            first = frozenset().union(*(f for f, _ in parts if f is not None))
            nullable = any(n for _, n in parts)
        elif op in (_sre_c.MAX_REPEAT, _sre_c.MIN_REPEAT, _sre_c.POSSESSIVE_REPEAT):
            first, nullable = _first_of(av[2])
            nullable = nullable or av[0] == 0
        else:  # ANY, categories, lookarounds, group references: could start anywhere
            return None, False
        if first is None:
            return None, False
        chars |= first
        if not nullable:
            return frozenset(chars), False
    return frozenset(chars), True


def first_chars(pattern: str) -> frozenset[str] | None:
    """The characters a match of ``pattern`` (case-sensitive) can start with; None: any, or the
    pattern can match the empty string."""
    try:
        parsed = _sre_parse.parse(pattern, re.UNICODE)
        first, nullable = _first_of(parsed)
    except (re.error, RecursionError, TypeError, IndexError):
        return None
    if parsed.state.flags & re.IGNORECASE:  # a leading (?i): any case of the characters
        return None
    return None if nullable else first


# --------------------------------------------------------------------------- required literals
#
# A search-mode group is tried on a block by searching each of its patterns. A pattern that starts
# with \b or ^ gets no literal-prefix scan from Python's re, so a search tries it at every position
# of the block; most patterns can only match where some literal occurs ("console.", "window."),
# which a substring test finds at C speed.


@dataclass(frozen=True)
class _Wanted:
    """What a walk of a parse tree collects: the literal sets a run of literals and a character
    class offer, which of two sets is better, and whether a case-insensitive group is skipped (its
    literals also match other cases)."""

    of_run: Callable[[str], Iterable[frozenset[str]]]
    of_class: Callable[[Any], frozenset[str] | None]
    better: Callable[[frozenset[str], frozenset[str]], bool]
    case_sensitive: bool


def _literal_sets(items: _Items, want: _Wanted) -> frozenset[str] | None:
    """A set of literals one of which every match of ``items`` contains (the best the items offer,
    by ``want.better``), or None."""
    best: frozenset[str] | None = None

    def consider(got: frozenset[str] | None) -> None:
        nonlocal best
        if got and (best is None or want.better(got, best)):
            best = got

    run: list[str] = []
    for op, av in items:
        if op is _sre_c.LITERAL:
            run.append(chr(av))
            continue
        for got in want.of_run("".join(run)):  # a run of literals matches exactly that string
            consider(got)
        run = []
        if op is _sre_c.IN:
            consider(want.of_class(av))
        elif op is _sre_c.SUBPATTERN:
            if not (want.case_sensitive and av[1] & re.IGNORECASE):
                consider(_literal_sets(av[-1], want))
        elif op is _sre_c.ATOMIC_GROUP:
            consider(_literal_sets(av, want))
        elif op is _sre_c.BRANCH:
            alts = [_literal_sets(alt, want) for alt in av[1]]
            if all(alts):
                consider(frozenset().union(*(a for a in alts if a)))
        elif op in (_sre_c.MAX_REPEAT, _sre_c.MIN_REPEAT, _sre_c.POSSESSIVE_REPEAT) and av[0] >= 1:
            consider(_literal_sets(av[2], want))
        # anything else (anchors, lookarounds, optional parts) promises no literal
    for got in want.of_run("".join(run)):
        consider(got)
    return best


# Needles: the whole run; of the sets, the one whose shortest literal is longest (then the smallest).
_NEEDLES = _Wanted(
    of_run=lambda run: (frozenset({run}),) if run else (),
    of_class=lambda av: None,
    better=lambda a, b: (min(map(len, a)), -len(a)) > (min(map(len, b)), -len(b)),
    case_sensitive=True,
)


def _needle_sets(items: _Items) -> frozenset[str] | None:
    """A set of literals one of which every match of ``items`` (case-sensitive) contains, or None."""
    return _literal_sets(items, _NEEDLES)


def needles(pattern: str) -> tuple[str, ...]:
    """Literal strings one of which every match of ``pattern`` (compiled case-sensitively, as for
    lower-cased text) contains; () when no such set is known."""
    try:
        parsed = _sre_parse.parse(pattern, re.UNICODE)
    except (re.error, RecursionError, TypeError, IndexError):
        return ()
    if parsed.state.flags & re.IGNORECASE:
        return ()
    got = _needle_sets(parsed)
    return tuple(sorted(got)) if got else ()


# --------------------------------------------------------------------------- punctuation gates
#
# A literal search over the whole document costs about the same for any literal (~5 us a page), so
# a rule whose ``requires`` lists eighteen verbs ("says", "schreibt", ...) pays eighteen searches,
# where its patterns may all need one punctuation mark (the ":" after the verb). ASCII punctuation
# has no other case (so a gate holds for case-insensitive patterns too) and is rare in prose: one
# search for it finds the few blocks worth checking for the ``requires`` literals themselves.

# The marks that end or split sentences are left out: a gate on them would find most blocks.
PROSE_MARKS = ".,;!?'\"()-"
GATE_CHARS = frozenset(string.punctuation) - frozenset(PROSE_MARKS)


def _gate_pieces(run: str) -> list[str]:
    """The maximal pieces of ``run`` made of GATE_CHARS (each lies in every match holding ``run``)."""
    pieces: list[str] = []
    piece = ""
    for c in run + "a":  # a closing letter ends the last piece
        if c in GATE_CHARS:
            piece += c
        elif piece:
            pieces.append(piece)
            piece = ""
    return pieces


def _gate_class(av: Any) -> frozenset[str] | None:
    """The marks of a class made of GATE_CHARS only ([.:] and the like)."""
    chars = [chr(a) for o, a in av if o is _sre_c.LITERAL]
    return frozenset(chars) if len(chars) == len(av) and all(c in GATE_CHARS for c in chars) else None


# Gates: the punctuation pieces of a run or a class of marks; of the sets, the smallest. Punctuation
# has no case, so case-insensitive groups count too.
_GATES = _Wanted(
    of_run=lambda run: (frozenset({piece}) for piece in _gate_pieces(run)),
    of_class=_gate_class,
    better=lambda a, b: len(a) < len(b),
    case_sensitive=False,
)


def _gate_sets(items: _Items) -> frozenset[str] | None:
    """A set of punctuation literals one of which every match of ``items`` contains, or None."""
    return _literal_sets(items, _GATES)


def gate(patterns: Iterable[str]) -> tuple[str, ...]:
    """Punctuation literals one of which every match of any of ``patterns`` contains (with or
    without re.IGNORECASE, on the text or on its lower case: punctuation has no case); () when some
    pattern offers none."""
    found: set[str] = set()
    for pattern in patterns:
        try:
            got = _gate_sets(_sre_parse.parse(pattern, re.UNICODE))
        except (re.error, RecursionError, TypeError, IndexError):
            return ()
        if not got:
            return ()
        found |= got
    return tuple(sorted(found))


# --------------------------------------------------------------------------- rule unions
#
# The rules without a literal prefilter are found through unions of their patterns in rule order,
# each rule's patterns in one capturing group: a fullmatch of the union says which rule comes
# first (``lastindex``: a union tries its alternatives in order, and the patterns hold no groups of
# their own). Start-mode patterns end in ``(?s:.*)``, so a fullmatch of them is a match at the
# start. Split by first character (``first_chars``): Python's re tries every alternative of a union
# at position 0 whatever the character there, so a block only meets the alternatives that can
# start with its character (measured: 4x fewer steps).

# Unions with fewer alternatives than this are not split by first character (the grouping of the
# blocks costs more than it saves).
DISPATCH_MIN_ALTERNATIVES = 12


def _union_source(entries: Sequence[tuple[Rule, list[str]]], grouped: bool) -> str:
    def alt(rule: Rule, p: str) -> str:
        return f"(?:{p})(?s:.*)" if rule.match == "start" else f"(?:{p})"

    if not grouped:
        return "|".join(alt(rule, p) for rule, ps in entries for p in ps)
    return "|".join("(" + "|".join(alt(rule, p) for p in ps) + ")" for rule, ps in entries)


@dataclass(frozen=True, slots=True)
class RuleUnion:
    """Full- and start-mode rules as one union for ``fullmatch``, with the rule position (in the
    matcher) of each of its groups; and the same union without the groups, which Python's re runs
    ~40 % faster: it rules out most blocks, the grouped one names the rule of the others."""

    regex: re.Pattern[str]
    rule_at: tuple[int, ...]  # by group number (index 0 unused)
    any: re.Pattern[str]

    @classmethod
    def build(cls, entries: Sequence[tuple[int, Rule, list[str]]], flags: int) -> RuleUnion | None:
        entries = [e for e in entries if e[2]]
        if not entries:
            return None
        sources = [(rule, ps) for _, rule, ps in entries]
        regex = re.compile(_union_source(sources, True), flags)
        return cls(regex, (-1, *(k for k, _, _ in entries)), re.compile(_union_source(sources, False), flags))


@dataclass(frozen=True, slots=True)
class CharUnions:
    """A RuleUnion of lower-case-safe patterns per first character of the (lower-cased) block, and
    one for every other character; or one union for all when it is small."""

    by_char: dict[str, RuleUnion | None]
    other: RuleUnion | None
    split: bool

    @classmethod
    def build(cls, entries: Sequence[tuple[int, Rule]]) -> CharUnions | None:
        if not entries:
            return None
        parts = [(k, rule, _alternatives(rule)) for k, rule in entries]
        flags = re.UNICODE
        if sum(len(ps) for _, _, ps in parts) < DISPATCH_MIN_ALTERNATIVES:
            return cls({}, RuleUnion.build(parts, flags), False)
        starts = {p: first_chars(p) for _, _, ps in parts for p in ps}
        chars = sorted(set().union(*(f for f in starts.values() if f is not None)))

        def starting(c: str | None) -> list[tuple[int, Rule, list[str]]]:
            return [(k, r, [p for p in ps if _may_start(starts[p], c)]) for k, r, ps in parts]

        # characters whose alternatives are the same (the 660 digits) share one compiled union
        built: dict[tuple[tuple[str, ...], ...], RuleUnion | None] = {}

        def union(c: str | None) -> RuleUnion | None:
            chosen = starting(c)
            key = tuple(tuple(ps) for _, _, ps in chosen)
            if key not in built:
                built[key] = RuleUnion.build(chosen, flags)
            return built[key]

        by_char = {c: union(c) for c in chars}
        return cls(by_char, union(None), True)

    def first_rules(self, lows: Sequence[str], positions: Sequence[int], best: dict[int, int]) -> None:
        """Set ``best[i]``, for each of ``positions`` some rule covers, to the first such rule."""
        if not self.split:
            if self.other is not None:
                _note_firsts(self.other, [lows[i] for i in positions], positions, best)
            return
        # a page repeats many short lines (menu items, share buttons): match each distinct one once
        holders: dict[str, list[int]] = {}
        get = holders.get
        for i in positions:
            low = lows[i]
            at = get(low)
            if at is None:
                holders[low] = [i]
            else:
                at.append(i)
        by_first: dict[str, list[str]] = {}
        get_first = by_first.get
        for low in holders:
            first = low[:1]
            same = get_first(first)
            if same is None:
                by_first[first] = [low]
            else:
                same.append(low)
        by_char, other = self.by_char, self.other
        for first, subjects in by_first.items():
            union = by_char.get(first, other)
            if union is not None:
                grouped, rule_at = union.regex.fullmatch, union.rule_at
                for low in compress(subjects, list(map(union.any.fullmatch, subjects))):
                    m = grouped(low)
                    k = rule_at[m.lastindex or 0] if m is not None else -1
                    for i in holders[low]:
                        if k < best.get(i, k + 1):
                            best[i] = k


def _may_start(first: frozenset[str] | None, c: str | None) -> bool:
    """Whether a pattern with ``first_chars`` ``first`` belongs in the union for first character ``c``
    (None: the union for characters no pattern names)."""
    return first is None or (c is not None and c in first)


def _note_firsts(union: RuleUnion, subjects: list[str], positions: Sequence[int], best: dict[int, int]) -> None:
    """``best[i] = min(best[i], first rule of union covering subject)`` for the subjects it covers."""
    grouped, rule_at = union.regex.fullmatch, union.rule_at
    for i, subject in compress(zip(positions, subjects, strict=True), list(map(union.any.fullmatch, subjects))):
        m = grouped(subject)
        k = rule_at[m.lastindex or 0] if m is not None else -1
        if k < best.get(i, k + 1):
            best[i] = k


@dataclass(frozen=True, slots=True)
class LineMatcher:
    """The line rules of a pattern set. ``scan`` finds, per block, the first rule (in order) whose
    pattern covers it, as ``Rule.hits`` and ``Rule.matches`` would, without trying each rule on each
    block:

    - rules with a ``requires`` list are only tried on the blocks holding one of its literals,
      found by one pass over the document for all the literals (``LiteralQueries``); so are
      search-mode rules whose every pattern has needles (``prefilter``: a block holding none of
      them fails ``pattern_hits``);
    - the other full- and start-mode rules go through unions (``CharUnions``, ``RuleUnion``) that
      name the first rule covering a block;
    - the other search-mode rules (and rules whose patterns hold groups) are tried one by one, on
      the blocks no earlier rule covers.
    """

    rules: tuple[Rule, ...]
    lower: CharUnions | None  # lower-case-safe full/start rules, on lower-cased texts
    lower_max: int | None  # the longest block one of them covers (None: no limit)
    cased: RuleUnion | None  # the other full/start rules, case-insensitive on the texts
    cased_max: int | None
    lazy: tuple[tuple[int, Rule], ...]  # (position, rule) tried one by one, in order
    # per first character of the lower-cased block: (positions, rules) that may cover it, in order
    # (``first_chars``); ``other_rules`` for every character not in the table
    first_rules: dict[str, tuple[tuple[int, ...], tuple[Rule, ...]]] = field(default_factory=dict)
    other_rules: tuple[tuple[int, ...], tuple[Rule, ...]] = ((), ())
    # (literals, max_chars) looked for in the document (``TextIndex.lines_containing_each``): per lazy
    # rule with a ``prefilter``, in order, its ``gate`` when that is shorter (``lazy_recheck`` then
    # holds the prefilter, to check on the blocks the gate finds; () otherwise); last, the gate of
    # the ``cased`` union when it has one (``cased_gated``)
    lazy_literals: LiteralQueries = field(default_factory=lambda: LiteralQueries.build(()))
    lazy_recheck: tuple[tuple[str, ...], ...] = ()
    cased_gated: bool = False
    lazy_filtered: tuple[bool, ...] = ()  # per lazy rule: whether it has a ``prefilter``

    @classmethod
    def build(cls, rules: list[Rule]) -> LineMatcher:
        def unionable(r: Rule) -> bool:
            # A rule with a ``requires`` list joins the lower-case unions when its patterns name the
            # characters they start with (a rule that may start anywhere would be tried on every
            # block): a union meets only the blocks starting with one of them, cheaper than one
            # document search per literal. ``hits`` checks the literals on what the union finds.
            unioned = not r.requires or (r.lower is not None and _rule_first_chars(r) is not None)
            return unioned and r.match != "search" and all(p.groups == 0 for p in r.parts)

        lower = [(k, r) for k, r in enumerate(rules) if unionable(r) and r.lower is not None]
        cased = [(k, r) for k, r in enumerate(rules) if unionable(r) and r.lower is None]
        lazy = tuple((k, r) for k, r in enumerate(rules) if not unionable(r))
        starts = [_rule_first_chars(r) for r in rules]

        def listed(keep: Callable[[frozenset[str] | None], bool]) -> tuple[tuple[int, ...], tuple[Rule, ...]]:
            chosen = [(k, r) for k, (r, f) in enumerate(zip(rules, starts, strict=True)) if keep(f)]
            return tuple(k for k, _ in chosen), tuple(r for _, r in chosen)

        first_rules = {
            c: listed(lambda f, c=c: f is None or c in f)  # type: ignore[misc]
            for c in sorted(set().union(*(f for f in starts if f is not None)))
        }
        filtered = [(r, prefilter(r)) for _, r in lazy]
        filtered = [(r, lits) for r, lits in filtered if lits]
        gated = [bool(r.gate) and len(r.gate) < len(lits) for r, lits in filtered]
        queries = [(r.gate if use else lits, r.max_chars) for (r, lits), use in zip(filtered, gated, strict=True)]
        cased_max = _longest(r for _, r in cased)
        # the union is only tried on the blocks holding a gate literal when all its rules have one
        cased_gate = tuple(sorted({lit for _, r in cased for lit in r.gate})) if all(r.gate for _, r in cased) else ()
        if cased and cased_gate:
            queries.append((cased_gate, cased_max))
        return cls(
            tuple(rules),
            CharUnions.build(lower), _longest(r for _, r in lower),
            RuleUnion.build([(k, r, _alternatives(r)) for k, r in cased], re.IGNORECASE | re.UNICODE),
            cased_max,
            lazy, first_rules, listed(lambda f: f is None),
            LiteralQueries.build(queries),
            tuple(lits if use else () for (_, lits), use in zip(filtered, gated, strict=True)),
            bool(cased and cased_gate),
            tuple(bool(prefilter(r)) for _, r in lazy),
        )

    def scan(self, texts: Sequence[str], index: TextIndex | None = None) -> list[tuple[int, Rule, re.Match[str]]]:
        """``first`` for every text of a document: (position, rule, match) of the texts a rule covers.
        ``index`` is the TextIndex of ``texts`` when the caller has it (a document's, shared by its
        detectors)."""
        idx = index if index is not None else TextIndex.of(texts)
        texts, lows = idx.texts, idx.lows
        # best[i]: a rule position such that no earlier rule covers text i, and the rule at it
        # passes ``pattern_hits`` on text i (so only ``max_chars``, its ``requires`` literals and the
        # IGNORECASE check are left to ``matches``)
        best: dict[int, int] = {}
        if self.lower is not None:
            self.lower.first_rules(lows, idx.within(self.lower_max), best)
        found = idx.lines_containing_each(self.lazy_literals)
        if self.cased is not None:
            positions = found[-1] if self.cased_gated else idx.within(self.cased_max)
            _note_firsts(self.cased, [texts[i] for i in positions], positions, best)
        holding, rechecks = iter(found), iter(self.lazy_recheck)
        for (k, rule), filtered in zip(self.lazy, self.lazy_filtered, strict=True):
            lines: Sequence[int]
            if filtered:
                lines, recheck = next(holding), next(rechecks)
                if recheck:  # found through the gate: keep the blocks holding a required literal
                    lines = [i for i in lines if any(map(lows[i].__contains__, recheck))]
            else:
                lines = idx.within(rule.max_chars)
            for i in lines:
                if best.get(i, k + 1) > k and rule.pattern_hits(texts[i], lows[i]):
                    best[i] = k
        out: list[tuple[int, Rule, re.Match[str]]] = []
        for i in sorted(best):
            text, low = texts[i], lows[i]
            k = best[i]
            positions_, rules = self.first_rules.get(low[:1], self.other_rules)
            j = bisect_left(positions_, k)
            if j < len(rules) and positions_[j] == k:
                # the rule at ``k`` is known to pass ``pattern_hits``, the costly part of ``hits``:
                # ``matches`` checks the rest (length, required literals) and the IGNORECASE match
                m = rules[j].matches(text)
                if m is not None:
                    out.append((i, rules[j], m))
                    continue
                j += 1
            for rule in rules[j:]:
                m = rule.matches(text) if rule.hits(text, low) else None
                if m is not None:
                    out.append((i, rule, m))
                    break
        return out

    def first(self, text: str) -> tuple[Rule, re.Match[str]] | None:
        """The first rule (in file order) whose pattern covers ``text``."""
        hits = self.scan([text])
        return (hits[0][1], hits[0][2]) if hits else None


def prefilter(rule: Rule) -> tuple[str, ...]:
    """Literals (without newlines) one of which the lower-cased text of every block that
    ``rule.pattern_hits`` accepts holds: its ``requires`` list, or for a split search-mode rule whose every pattern has
    needles, all of them (``pattern_hits`` only searches the patterns whose needle occurs); ()
    for none. Two search groups without ``requires`` (ad.affiliate_disclosure,
    newsletter.email_prompt) were otherwise tried on every block of up to 400 characters: 0.33 ms
    a page (on the 351 dev pages), where the document searches for their five needles cost ~0.03."""
    if rule.requires:
        return rule.requires
    parts = rule.search_parts
    if parts is None or not all(lits for _, lits in parts):
        return ()
    found = sorted({lit for _, lits in parts for lit in lits})
    return () if any("\n" in lit for lit in found) else tuple(found)


def _longest(rules: Iterable[Rule]) -> int | None:
    """The longest block one of ``rules`` may cover (None: no limit)."""
    limits = [r.max_chars for r in rules]
    return None if None in limits else max((m for m in limits if m is not None), default=0)


def _rule_first_chars(rule: Rule) -> frozenset[str] | None:
    """The first characters of the lower-cased blocks ``rule.hits`` can accept (None: any)."""
    if rule.match == "search" or rule.lower is None:
        return None
    firsts = [first_chars(p) for p in _alternatives(rule)]
    return None if any(f is None for f in firsts) else frozenset().union(*(f for f in firsts if f is not None))


def candidate_lines(rule: Rule, index: TextIndex) -> set[int] | None:
    """Positions of the texts of ``index`` that hold one of the rule's ``requires`` literals (the
    only ones it can match), or None when the rule has no prefilter."""
    if not rule.requires:
        return None
    return set(index.lines_containing_each(_requires_search(rule.requires))[0])


@lru_cache(maxsize=32)
def _requires_search(literals: tuple[str, ...]) -> LiteralQueries:
    """The automaton of one ``requires`` list, built once (the consent anchor's, on every page)."""
    return LiteralQueries.build([(literals, None)])


def _alternatives(rule: Rule) -> list[str]:
    return [p.pattern for p in rule.parts]


@dataclass(frozen=True, slots=True, eq=False)  # identity hash: the loaded set is cached once
class PatternSet:
    rules: dict[str, Rule]

    def get(self, rule_id: str) -> Rule:
        return self.rules[rule_id]

    def line_matcher(self, exclude: frozenset[str]) -> LineMatcher:
        return _line_matcher(self, exclude)

    def blocks_matching(self, rule_id: str, texts: Sequence[str], index: TextIndex | None = None) -> set[int]:
        """Positions of the texts that group ``rule_id`` covers (``Rule.matches``), found with the
        matcher's per-document shortcuts (``index``: the TextIndex of ``texts``, if at hand)."""
        return {i for i, _, _ in _single_matcher(self, rule_id).scan(texts, index)}

    def first_matching(
        self, rule_ids: tuple[str, ...], texts: Sequence[str], index: TextIndex | None = None
    ) -> list[tuple[int, Rule, re.Match[str]]]:
        """(position, rule, match) of the texts one of the groups ``rule_ids`` covers, with the first
        of them (in the order given) that does: one scan for several groups (``blocks_matching`` of
        each is the positions it names, plus those an earlier group took that it covers too)."""
        return _group_matcher(self, rule_ids).scan(texts, index)

    def note_keys(self) -> Mapping[str, str]:
        """Rule id -> note key, for the groups that set a note on the article."""
        return _note_keys(self)


def _walk(table: dict[str, Any], prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Yield (dotted id, group) for every table that has ``patterns``."""
    out: list[tuple[str, dict[str, Any]]] = []
    for key, value in table.items():
        if not isinstance(value, dict):
            continue
        rid = f"{prefix}.{key}" if prefix else key
        if "patterns" in value:
            out.append((rid, value))
        else:
            out.extend(_walk(value, rid))
    return out


class PatternError(ValueError):
    pass


def parse_groups(files: dict[str, str]) -> PatternSet:
    """Build a PatternSet from TOML texts keyed by file name (pure; used by tests too)."""
    merged: dict[str, dict[str, Any]] = {}
    for fname, text in files.items():
        data = tomllib.loads(text)
        for rid, group in _walk(data):
            if not re.fullmatch(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+", rid):
                raise PatternError(f"{fname}: group id {rid!r} is not dotted snake_case")
            pats = group.get("patterns")
            if not isinstance(pats, list) or not all(isinstance(p, str) for p in pats):
                raise PatternError(f"{fname}: [{rid}] patterns must be a list of strings")
            if rid in merged:
                merged[rid]["patterns"] = merged[rid]["patterns"] + list(pats)
                merged[rid]["sources"] = (*merged[rid]["sources"], fname)
                continue
            if not group.get("rationale"):
                raise PatternError(f"{fname}: [{rid}] needs a one-line rationale")
            try:
                Category(group.get("category", ""))
            except ValueError as exc:
                raise PatternError(f"{fname}: [{rid}] unknown category {group.get('category')!r}") from exc
            match = group.get("match", "full")
            if match not in MATCH_MODES:
                raise PatternError(f"{fname}: [{rid}] match must be one of {MATCH_MODES}")
            merged[rid] = {**group, "patterns": list(pats), "match": match, "sources": (fname,)}
    rules: dict[str, Rule] = {}
    for rid, g in merged.items():
        alternation = "|".join(f"(?:{p})" for p in g["patterns"])
        try:
            regex = re.compile(alternation, re.IGNORECASE | re.UNICODE)
        except re.error as exc:
            raise PatternError(f"[{rid}] bad pattern: {exc}") from exc
        lower_parts = (
            tuple(re.compile(p, re.UNICODE) for p in g["patterns"])
            if all(lowercase_safe(p) for p in g["patterns"])
            else None
        )
        # searching the patterns one by one is searching their union when none holds a group
        # (a backreference would be renumbered in the union)
        splittable = g["match"] == "search" and lower_parts is not None and all(p.groups == 0 for p in lower_parts)
        rules[rid] = Rule(
            id=rid,
            category=Category(g["category"]),
            rationale=str(g["rationale"]),
            match=str(g["match"]),
            regex=regex,
            parts=tuple(re.compile(p, re.IGNORECASE | re.UNICODE) for p in g["patterns"]),
            max_chars=int(g["max_chars"]) if "max_chars" in g else None,
            note=str(g["note"]) if "note" in g else None,
            sources=tuple(g["sources"]),
            lower=_compile_lower(g["patterns"]),
            requires=tuple(str(x).lower() for x in g.get("requires", ())),
            lower_parts=lower_parts,
            search_parts=(
                tuple((p, needles(p.pattern)) for p in lower_parts) if splittable and lower_parts is not None else None
            ),
            gate=gate(g["patterns"]),
        )
    return PatternSet(rules)


@lru_cache(maxsize=8)
def _line_matcher(ps: PatternSet, exclude: frozenset[str]) -> LineMatcher:
    return LineMatcher.build([r for r in ps.rules.values() if r.id not in exclude])


@lru_cache(maxsize=8)
def _note_keys(ps: PatternSet) -> Mapping[str, str]:
    return MappingProxyType({r.id: r.note for r in ps.rules.values() if r.note})


@lru_cache(maxsize=32)
def _group_matcher(ps: PatternSet, rule_ids: tuple[str, ...]) -> LineMatcher:
    return LineMatcher.build([ps.get(rule_id) for rule_id in rule_ids])


@lru_cache(maxsize=32)
def _single_matcher(ps: PatternSet, rule_id: str) -> LineMatcher:
    return LineMatcher.build([ps.get(rule_id)])


@lru_cache(maxsize=1)
def load() -> PatternSet:
    """The packaged pattern set, read with importlib.resources and compiled once."""
    root = resources.files(__package__)
    files = {name: (root / name).read_text(encoding="utf-8") for name in PATTERN_FILES}
    return parse_groups(files)
