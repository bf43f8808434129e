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
  only tried on blocks holding one of them, found by one scan of the whole document per literal
  (the prefilter for expensive groups: ``.{0,120}``-style patterns and search-mode groups).
  ``tests/test_patterns_matcher.py`` generates matches of every pattern and checks the list.

Several files may define the same group id (German and English phrases of one concept): their
patterns are merged, and the first file's rationale and settings win. Groups that are not
line-matchers (consent signals, promo anchors, stock credit names) use the same format and are
read by the detector that owns them.
"""

from __future__ import annotations

import importlib
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from itertools import compress
from types import MappingProxyType
from typing import Any

from cleaners.model import Category, TextIndex

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
_Items = Iterable[tuple[Any, Any]]


def _class_chars(items: _Items) -> frozenset[str] | None:
    chars: set[str] = set()
    for op, av in items:
        if op is _sre_c.LITERAL:
            chars.add(chr(av))
        elif op is _sre_c.RANGE and av[1] - av[0] < DISPATCH_MAX_CLASS:
            chars.update(chr(c) for c in range(av[0], av[1] + 1))
        elif op is _sre_c.CATEGORY and av in (_sre_c.CATEGORY_SPACE, _sre_c.CATEGORY_UNI_SPACE):  # str: Unicode \s
            chars.update(_SPACES)
        else:  # negated sets, digit/word categories, big ranges: not worth enumerating
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
        first, nullable = _first_of(_sre_parse.parse(pattern, re.UNICODE))
    except (re.error, RecursionError, TypeError, IndexError):
        return None
    return None if nullable else first


def _dispatch(patterns: list[str]) -> tuple[dict[str, re.Pattern[str]], re.Pattern[str] | None]:
    """Per first character, the union of the alternatives that can start with it (and those that
    can start with anything); plus the union of the latter alone for every other character."""
    starts = [first_chars(p) for p in patterns]
    anywhere = [p for p, f in zip(patterns, starts, strict=True) if f is None]
    keyed: dict[str, list[str]] = {}
    for p, f in zip(patterns, starts, strict=True):
        for c in sorted(f or ()):
            keyed.setdefault(c, []).append(p)

    def union(ps: list[str]) -> re.Pattern[str]:
        return re.compile("|".join(f"(?:{p})" for p in ps), re.UNICODE)

    return (
        {c: union(ps + anywhere) for c, ps in keyed.items()},
        union(anywhere) if anywhere else None,
    )


@dataclass(frozen=True, slots=True)
class Dispatch:
    """A union of lower-case-safe alternatives, split by the block's first character."""

    by_char: dict[str, re.Pattern[str]]
    other: re.Pattern[str] | None

    @classmethod
    def build(cls, patterns: list[str]) -> Dispatch | None:
        if not patterns:
            return None
        by_char, other = _dispatch(patterns)
        return cls(by_char, other)

    def pattern_for(self, lowered: str) -> re.Pattern[str] | None:
        return self.by_char.get(lowered[:1], self.other)


@dataclass(frozen=True, slots=True)
class LineMatcher:
    """The line rules of a pattern set, with one union regex per match mode as a prefilter: a
    block no union matches (nearly all of them) costs three regex calls, not one per rule."""

    rules: tuple[Rule, ...]
    # per match mode: (union for lower-cased text, split by first character; union of the
    # remaining rules, case-insensitive)
    full: tuple[Dispatch | None, re.Pattern[str] | None]
    start: tuple[Dispatch | None, re.Pattern[str] | None]
    # search-mode rules without a ``requires`` prefilter: run one by one on every block
    searchers: tuple[Rule, ...] = ()
    # rules with a ``requires`` prefilter (any mode): only blocks holding one of its literals
    # are tried, found by one scan of the document per literal
    gated: tuple[Rule, ...] = ()
    # whether there are rules without a prefilter, and the longest block one of them may cover
    # (None: no limit)
    has_plain: bool = True
    plain_max_chars: int | None = None
    # the rules a block may match, by the block's first character (lower-cased): a full- or
    # start-mode rule is left out where none of its alternatives can start with that character
    # (``first_chars``); ``other_rules`` for every character not in the table
    first_rules: dict[str, tuple[Rule, ...]] = field(default_factory=dict)
    other_rules: tuple[Rule, ...] = ()

    @classmethod
    def build(cls, rules: list[Rule]) -> LineMatcher:
        gated = tuple(r for r in rules if r.requires)
        plain = [r for r in rules if not r.requires]
        limits = [r.max_chars for r in plain]

        def union(mode: str) -> tuple[Dispatch | None, re.Pattern[str] | None]:
            low = [p for r in plain if r.match == mode and r.lower is not None for p in _alternatives(r)]
            rest = [p for r in plain if r.match == mode and r.lower is None for p in _alternatives(r)]
            return (
                Dispatch.build(low),
                re.compile("|".join(f"(?:{p})" for p in rest), re.IGNORECASE | re.UNICODE) if rest else None,
            )

        # Search-mode rules run one by one: Python's re gains nothing from an alternation of
        # patterns with different prefixes (measured: the union was slower than the rules run
        # separately).
        searchers = tuple(r for r in plain if r.match == "search")
        max_chars = None if not limits or None in limits else max(m for m in limits if m is not None)
        starts = [_rule_first_chars(r) for r in rules]
        first_rules = {
            c: tuple(r for r, f in zip(rules, starts, strict=True) if f is None or c in f)
            for c in sorted(set().union(*(f for f in starts if f is not None)))
        }
        other_rules = tuple(r for r, f in zip(rules, starts, strict=True) if f is None)
        return cls(
            tuple(rules), union("full"), union("start"), searchers, gated, bool(plain), max_chars,
            first_rules, other_rules,
        )

    def scan(self, texts: Sequence[str], index: TextIndex | None = None) -> list[tuple[int, Rule, re.Match[str]]]:
        """``first`` for every text of a document: (position, rule, match) of the texts a rule covers.
        ``index`` is the TextIndex of ``texts`` when the caller has it (a document's, shared by its
        detectors).

        The groups with a ``requires`` list look for their literals once in the whole document
        instead of once per block; the others go through the first-character unions."""
        idx = index if index is not None else TextIndex.of(texts)
        lows = idx.lows
        candidates = self._plain_candidates(texts, lows, idx.within(self.plain_max_chars)) if self.has_plain else set()
        for rule in self.gated:
            for i in idx.lines_containing(rule.requires, rule.max_chars):
                if i not in candidates and rule.pattern_hits(texts[i], lows[i]):
                    candidates.add(i)
        out: list[tuple[int, Rule, re.Match[str]]] = []
        for i in sorted(candidates):
            text, low = texts[i], lows[i]
            for rule in self.first_rules.get(low[:1], self.other_rules):
                m = rule.matches(text) if rule.hits(text, low) else None
                if m is not None:
                    out.append((i, rule, m))
                    break
        return out

    def first(self, text: str) -> tuple[Rule, re.Match[str]] | None:
        """The first rule (in file order) whose pattern covers ``text``."""
        hits = self.scan([text])
        return (hits[0][1], hits[0][2]) if hits else None

    def _plain_candidates(self, texts: Sequence[str], lows: Sequence[str], positions: Sequence[int]) -> set[int]:
        """Which of ``positions`` hold a text a rule without a ``requires`` list may cover (``lows``
        are the texts lower-cased): the per-mode unions, each mapped over the texts at C level
        (one first-character union over all the texts starting with that character)."""
        by_first: dict[str, list[int]] = {}
        for i in positions:
            by_first.setdefault(lows[i][:1], []).append(i)
        found: set[int] = set()
        full_d, full_r = self.full
        start_d, start_r = self.start
        for first, at in by_first.items():
            subjects = [lows[i] for i in at]
            full_l = full_d.pattern_for(first) if full_d is not None else None
            if full_l is not None:
                found.update(compress(at, map(full_l.fullmatch, subjects)))
            start_l = start_d.pattern_for(first) if start_d is not None else None
            if start_l is not None:
                found.update(compress(at, map(start_l.match, subjects)))
        originals = [texts[i] for i in positions]
        if full_r is not None:
            found.update(compress(positions, map(full_r.fullmatch, originals)))
        if start_r is not None:
            found.update(compress(positions, map(start_r.match, originals)))
        for rule in self.searchers:
            found.update(i for i in positions if _searches(rule, texts[i], lows[i]))
        return found


def _rule_first_chars(rule: Rule) -> frozenset[str] | None:
    """The first characters of the lower-cased blocks ``rule.hits`` can accept (None: any)."""
    if rule.match == "search" or rule.lower is None:
        return None
    firsts = [first_chars(p) for p in _alternatives(rule)]
    return None if any(f is None for f in firsts) else frozenset().union(*(f for f in firsts if f is not None))


def _searches(rule: Rule, text: str, low: str) -> bool:
    """A search-mode rule found in ``text`` (``low`` is ``text.lower()``)."""
    if rule.max_chars is not None and len(text) > rule.max_chars:
        return False
    return (rule.lower.search(low) if rule.lower is not None else rule.regex.search(text)) is not None


def candidate_lines(rule: Rule, index: TextIndex) -> set[int] | None:
    """Positions of the texts of ``index`` that hold one of the rule's ``requires`` literals (the
    only ones it can match), or None when the rule has no prefilter."""
    if not rule.requires:
        return None
    return set(index.lines_containing(rule.requires))


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

    def note_keys(self) -> Mapping[str, str]:
        """Rule id -> note key, for the groups that set a note on the article."""
        return _note_keys(self)

    def prefixed(self, prefix: str) -> list[Rule]:
        return [r for rid, r in self.rules.items() if rid.startswith(prefix)]


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
            lower_parts=(
                tuple(re.compile(p, re.UNICODE) for p in g["patterns"])
                if all(lowercase_safe(p) for p in g["patterns"])
                else None
            ),
        )
    return PatternSet(rules)


@lru_cache(maxsize=8)
def _line_matcher(ps: PatternSet, exclude: frozenset[str]) -> LineMatcher:
    return LineMatcher.build([r for r in ps.rules.values() if r.id not in exclude])


@lru_cache(maxsize=8)
def _note_keys(ps: PatternSet) -> Mapping[str, str]:
    return MappingProxyType({r.id: r.note for r in ps.rules.values() if r.note})


@lru_cache(maxsize=32)
def _single_matcher(ps: PatternSet, rule_id: str) -> LineMatcher:
    return LineMatcher.build([ps.get(rule_id)])


@lru_cache(maxsize=1)
def load() -> PatternSet:
    """The packaged pattern set, read with importlib.resources and compiled once."""
    root = resources.files(__package__)
    files = {name: (root / name).read_text(encoding="utf-8") for name in PATTERN_FILES}
    return parse_groups(files)
