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
- ``requires``: literal strings (lower case), one of which every match contains; blocks with none
  of them are skipped without running the regex (a cheap prefilter for expensive groups).

Several files may define the same group id (German and English phrases of one concept): their
patterns are merged, and the first file's rationale and settings win. Groups that are not
line-matchers (consent signals, promo anchors, stock credit names) use the same format and are
read by the detector that owns them.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from cleaners.model import Category

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


@dataclass(frozen=True, slots=True)
class LineMatcher:
    """The line rules of a pattern set, with one union regex per match mode as a prefilter: a
    block no union matches (nearly all of them) costs three regex calls, not one per rule."""

    rules: tuple[Rule, ...]
    # per match mode: (union for lower-cased text, union of the remaining rules, case-insensitive)
    full: tuple[re.Pattern[str] | None, re.Pattern[str] | None]
    start: tuple[re.Pattern[str] | None, re.Pattern[str] | None]
    search: tuple[re.Pattern[str] | None, re.Pattern[str] | None]
    searchers: tuple[Rule, ...] = ()

    @classmethod
    def build(cls, rules: list[Rule]) -> LineMatcher:
        def union(mode: str) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
            low = [p for r in rules if r.match == mode and r.lower is not None for p in _alternatives(r)]
            rest = [p for r in rules if r.match == mode and r.lower is None for p in _alternatives(r)]
            return (
                re.compile("|".join(f"(?:{p})" for p in low), re.UNICODE) if low else None,
                re.compile("|".join(f"(?:{p})" for p in rest), re.IGNORECASE | re.UNICODE) if rest else None,
            )

        # Search-mode rules run one by one behind their prefilters: Python's re gains nothing from
        # an alternation of patterns with different prefixes (measured: the union was slower than
        # the rules run separately).
        searchers = tuple(r for r in rules if r.match == "search")
        return cls(tuple(rules), union("full"), union("start"), (None, None), searchers)

    def first(self, text: str) -> tuple[Rule, re.Match[str]] | None:
        """The first rule (in file order) whose pattern covers ``text``."""
        low = text.lower()
        full_l, full_r = self.full
        start_l, start_r = self.start
        if not (
            (full_l is not None and full_l.fullmatch(low))
            or (full_r is not None and full_r.fullmatch(text))
            or (start_l is not None and start_l.match(low))
            or (start_r is not None and start_r.match(text))
            or any(
                r.may_match(low)
                and (r.max_chars is None or len(text) <= r.max_chars)
                and (r.lower.search(low) if r.lower is not None else r.regex.search(text))
                for r in self.searchers
            )
        ):
            return None
        for rule in self.rules:
            m = rule.matches(text)
            if m is not None:
                return rule, m
        return None


def _alternatives(rule: Rule) -> list[str]:
    return [p.pattern for p in rule.parts]


@dataclass(frozen=True, slots=True, eq=False)  # identity hash: the loaded set is cached once
class PatternSet:
    rules: dict[str, Rule]

    def get(self, rule_id: str) -> Rule:
        return self.rules[rule_id]

    def line_matcher(self, exclude: frozenset[str]) -> LineMatcher:
        return _line_matcher(self, exclude)

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


@lru_cache(maxsize=1)
def load() -> PatternSet:
    """The packaged pattern set, read with importlib.resources and compiled once."""
    root = resources.files(__package__)
    files = {name: (root / name).read_text(encoding="utf-8") for name in PATTERN_FILES}
    return parse_groups(files)
