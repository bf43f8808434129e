"""The phrase matcher's fast paths must answer exactly as the plain per-rule check would.

``LineMatcher.scan`` (the detector's entry point) skips most work: a union split by first
character for full/start rules, and a document-wide literal scan for groups with ``requires``.
These tests pin the shortcuts to the reference semantics: the first rule, in file order, whose
``Rule.matches`` covers the block.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleaners.detectors import SIGNAL_GROUPS
from cleaners.model import LiteralQueries, TextIndex
from cleaners.patterns import Rule, first_chars, load, parse_groups
from cleaners.segment import segment_text

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
PS = load()
MATCHER = PS.line_matcher(SIGNAL_GROUPS)


def reference(text: str) -> tuple[str, str] | None:
    for rule in MATCHER.rules:
        m = rule.matches(text)
        if m is not None:
            return rule.id, m.group(0)
    return None


def scanned(texts: list[str]) -> list[tuple[int, str, str]]:
    return [(i, rule.id, m.group(0)) for i, rule, m in MATCHER.scan(texts)]


def expected(texts: list[str]) -> list[tuple[int, str, str]]:
    out = []
    for i, t in enumerate(texts):
        hit = reference(t)
        if hit is not None:
            out.append((i, *hit))
    return out


@pytest.mark.parametrize("seed", sorted(p.name for p in SEEDS.glob("*.txt")))
def test_scan_equals_rule_by_rule_on_seeds(seed: str) -> None:
    texts = [b.text for b in segment_text((SEEDS / seed).read_text(encoding="utf-8")).blocks]
    got = scanned(texts)
    assert got == expected(texts)
    assert [(r.id, m.group(0)) for r, m in filter(None, map(MATCHER.first, texts))] == [(r, g) for _, r, g in got]


def test_seeds_exercise_the_matcher() -> None:
    hits = [
        scanned([b.text for b in segment_text(p.read_text(encoding="utf-8")).blocks]) for p in SEEDS.glob("*.txt")
    ]
    assert sum(map(len, hits)) >= 10  # the equality above is not vacuous


# Lines that hit (or nearly hit) the gated and dispatched groups, in several casings.
FRAGMENTS = [
    "Foto: dpa", "© AFP/Getty Images", "Bild: (c) Reuters", "Copyright 2021 Example News. All rights reserved.",
    "Alle Rechte vorbehalten.", "CC BY-SA 4.0", "Foto: Wikimedia Commons / CC BY 2.0", "Public Domain",
    "This work is licensed under a Creative Commons licence.", "console.log(\"x\")", "var x = 1;",
    "Folgen Sie uns auf Instagram", "Download our free app for iOS and Android", "Lesen Sie auch",
    "Dieser Artikel wurde mit maschineller Unterstützung erstellt.", "Anzeige", "3 Min. Lesezeit",
    "Die Regierung hat am Montag neue Regeln beschlossen.", "unter anderem", "Accident under review",
    "Startseite › Politik › Ausland", "Mehr zum Thema", "12 Kommentare", "#news #politik",
    "Anna Muster sagt:", "November 19, 2019 at 6:34 am", "Antworten",
]
line = st.builds(
    lambda frag, case, pre, post: f"{pre}{getattr(frag, case)()}{post}",
    st.sampled_from(FRAGMENTS),
    st.sampled_from(["lower", "upper", "title", "strip"]),
    st.sampled_from(["", "Quelle: ", "x ", "  "]),
    st.sampled_from(["", ".", " und mehr", " " + "lang " * 40]),
)


@given(st.lists(line, max_size=25))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_scan_equals_rule_by_rule_on_random_documents(texts: list[str]) -> None:
    assert scanned(texts) == expected(texts)


GATED = [r for r in PS.rules.values() if r.requires]


@pytest.mark.parametrize("rule", GATED, ids=[r.id for r in GATED])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_requires_literals_cover_every_pattern(rule: Rule, data: st.DataObject) -> None:
    """A group's ``requires`` list is data someone must keep in step with its patterns: any text a
    pattern matches contains one of the literals (else the prefilter would hide real matches)."""
    pattern = data.draw(st.sampled_from(rule.parts))
    # the dotted capital I lower-cases to two characters; no phrase of ours is Turkish
    alphabet = st.characters(exclude_characters="İ", exclude_categories=["Cs"])
    text = data.draw(st.from_regex(pattern, fullmatch=True, alphabet=alphabet))
    assert any(lit in text.lower() for lit in rule.requires), (rule.id, pattern.pattern, text)


def test_first_chars_of_patterns() -> None:
    assert first_chars("abc") == frozenset("a")
    assert first_chars("(?:foto|bild)x") == frozenset("fb")
    got = first_chars(r"(?:foto|bild)?\s*©")
    assert got is not None and {"f", "b", "©", " ", "\u00a0"} <= got
    assert first_chars(r".{0,5}x") is None  # any character
    digits = frozenset(c for c in map(chr, range(0x110000)) if re.fullmatch(r"\d", c))
    assert first_chars(r"\d+ min") == digits  # all 660 Unicode digits, as re's \d on str
    assert first_chars(r"[\d.]x") == digits | {"."}
    assert first_chars(r"\w+") is None  # a word class is not enumerated
    assert first_chars(r"a?") is None  # can match the empty string
    assert first_chars(r"[a-c]x|y") == frozenset("abcy")


def test_dispatch_keeps_rule_order_and_modes() -> None:
    files = {
        "t.toml": """
[a.full]
rationale = "r"
category = "teaser"
patterns = ['mehr zum thema']

[b.start]
rationale = "r"
category = "teaser"
match = "start"
patterns = ['mehr']

[c.search]
rationale = "r"
category = "ad"
match = "search"
requires = ["anzeige"]
patterns = ['\\banzeige\\b']
"""
    }
    matcher = parse_groups(files).line_matcher(frozenset())
    texts = ["Mehr zum Thema", "Mehr Bilder", "Zur Anzeige hier", "Weniger", "MEHR ZUM THEMA!"]
    got = [(i, r.id) for i, r, _ in matcher.scan(texts)]
    assert got == [(0, "a.full"), (1, "b.start"), (2, "c.search"), (4, "b.start")]
    assert re.fullmatch(r"mehr", matcher.scan(["mehr"])[0][2].group(0), re.I)


# --------------------------------------------------------------------------- the shared TextIndex

_index_text = st.text(alphabet=st.sampled_from("abcAB İ\n©(x"), max_size=12)
_literal = st.text(alphabet=st.sampled_from("abc©(x"), min_size=1, max_size=3)


@given(st.lists(_index_text, max_size=12), st.lists(_literal, max_size=4), st.one_of(st.none(), st.integers(0, 14)))
@settings(max_examples=400, deadline=None)
def test_text_index_lines_equal_the_per_text_check(texts: list[str], literals: list[str], limit: int | None) -> None:
    index = TextIndex.of(texts)
    assert index.lows == tuple(t.lower() for t in texts)
    fits = [i for i, t in enumerate(texts) if limit is None or len(t) <= limit]
    assert sorted(index.within(limit)) == fits
    holding = [i for i in fits if any(lit in texts[i].lower() for lit in literals)]
    assert index.lines_containing_each(LiteralQueries.build([(literals, limit)])) == [holding]


def test_a_document_builds_its_text_index_once() -> None:
    doc = segment_text("Erste Zeile\n\nZweite Zeile")
    assert doc.text_index() is doc.text_index()
    assert doc.text_index().texts == ("Erste Zeile", "Zweite Zeile")
    assert doc == segment_text("Erste Zeile\n\nZweite Zeile")  # the index is not part of equality


@given(st.lists(line, max_size=25))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_blocks_matching_equals_rule_matches(texts: list[str]) -> None:
    index = TextIndex.of(texts)
    for rule_id in ("comments.author", "comments.marker", "caption.credit"):
        rule = PS.get(rule_id)
        want = {i for i, t in enumerate(texts) if rule.matches(t)}
        assert PS.blocks_matching(rule_id, texts) == PS.blocks_matching(rule_id, texts, index) == want
