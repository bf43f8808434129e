"""Speed shortcuts of the phrase matcher and the rule detectors, pinned to the straightforward code.

Every shortcut here replaces a plain computation (try each rule on each block, search a group's
whole alternation, walk every block) by one that skips work. Each test states the plain version and
checks, with hypothesis and on awkward input (empty text, 'İ' whose lower case is longer, 'ſ' and the
Kelvin sign that only IGNORECASE folds, newlines inside blocks, overlapping literals), that the
shortcut answers the same.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import MappingProxyType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleaners import patterns as patterns_module
from cleaners import shape
from cleaners.detectors import RULE_DETECTORS, SIGNAL_GROUPS
from cleaners.model import Block, Category, Document, LiteralQueries, Removal, TextIndex, View
from cleaners.patterns import LineMatcher, Rule, gate, load, needles, parse_groups, prefilter
from cleaners.segment import segment_text
from cleaners.settings import DEFAULT, Settings

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
PS = load()
MATCHER = PS.line_matcher(SIGNAL_GROUPS)

# Characters that make lower() and IGNORECASE disagree, or change length, or break lines.
AWKWARD = "İıſKkSsß\u212a\u0307\n \t©(){}=<>[]_.:;-–—„“\"'#|/·0123456789"


def plain_scan(matcher: LineMatcher, texts: list[str]) -> list[tuple[int, str, str]]:
    """The straightforward scan: per text, the first rule in order whose ``hits`` (the lower-cased
    check) and ``matches`` (the case-insensitive one) both accept it."""
    out = []
    for i, text in enumerate(texts):
        low = text.lower()
        for rule in matcher.rules:
            m = rule.matches(text) if rule.hits(text, low) else None
            if m is not None:
                out.append((i, rule.id, m.group(0)))
                break
    return out


def fast_scan(matcher: LineMatcher, texts: list[str]) -> list[tuple[int, str, str]]:
    return [(i, rule.id, m.group(0)) for i, rule, m in matcher.scan(texts, TextIndex.of(texts))]


# --------------------------------------------------------------------------- the packaged matcher

FRAGMENTS = [
    "Foto: dpa", "© AFP/Getty Images", "Bild: (c) Reuters", "Copyright 2021 Example News. All rights reserved.",
    "Alle Rechte vorbehalten.", "CC BY-SA 4.0", "Photo by Jane Doe on Unsplash", "Public Domain",
    "console.log(\"x\")", "var x = 1;", "window.dataLayer = window.dataLayer || [];", "});", "foo({a: 1});",
    "<script src=x>", "googletag.cmd.push(function() {", "document.getElementById('x')", "function f(a) {",
    "Folgen Sie uns auf Instagram", "Lesen Sie auch", "Mehr zum Thema", "Anzeige", "3 Min. Lesezeit",
    "Skip to content", "Startseite › Politik", "Facebook", "Twitter", "true", "showPaywall: true,",
    "Dieser Artikel wurde mit maschineller Unterstützung erstellt.", "Anna Muster sagt:", "Antworten",
    "Read more: the other story", "Newsletter abonnieren", "#news #politik", "Teilen", "",
    "Die Regierung hat am Montag neue Regeln beschlossen.",
]
_line = st.one_of(
    st.builds(
        lambda frag, case, pre, post: f"{pre}{getattr(frag, case)()}{post}",
        st.sampled_from(FRAGMENTS),
        st.sampled_from(["lower", "upper", "title", "strip"]),
        st.sampled_from(["", "x ", "  ", "İ", "ſ", "\n"]),
        st.sampled_from(["", ".", " und mehr", "\nzweite zeile", " " + "lang " * 60, "İ"]),
    ),
    st.text(alphabet=st.sampled_from(AWKWARD + "abcdefghijklmnopqrstuvwxyz"), max_size=30),
)


@given(st.lists(_line, max_size=20))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_scan_equals_the_plain_scan_on_random_documents(texts: list[str]) -> None:
    assert fast_scan(MATCHER, texts) == plain_scan(MATCHER, texts)


@pytest.mark.parametrize("seed", sorted(p.name for p in SEEDS.glob("*.txt")))
def test_scan_equals_the_plain_scan_on_seeds(seed: str) -> None:
    texts = [b.text for b in segment_text((SEEDS / seed).read_text(encoding="utf-8")).blocks]
    assert fast_scan(MATCHER, texts) == plain_scan(MATCHER, texts)


# --------------------------------------------------------------------------- shared literal searches

_index_text = st.text(alphabet=st.sampled_from("abcAB İ\n©(xſ"), max_size=12)
_literal = st.text(alphabet=st.sampled_from("abc©(xi\u0307"), min_size=1, max_size=3)


@given(
    st.lists(_index_text, max_size=12),
    st.lists(st.tuples(st.lists(_literal, max_size=4), st.one_of(st.none(), st.integers(0, 14))), max_size=5),
)
@settings(max_examples=400, deadline=None)
def test_lines_of_several_queries_equal_the_per_text_check(
    texts: list[str], queries: list[tuple[list[str], int | None]]
) -> None:
    """One automaton pass for several (literals, limit) queries: the same lines as checking every
    text for every query (queries share literals under other limits; literals overlap and hold
    one another, as "abc", "bc" and "c" do)."""
    index = TextIndex.of(texts)

    def holding(lits: list[str], limit: int | None) -> list[int]:
        fits = [i for i, t in enumerate(texts) if limit is None or len(t) <= limit]
        return [i for i in fits if any(lit in texts[i].lower() for lit in lits)]

    assert index.lines_containing_each(LiteralQueries.build(queries)) == [holding(*q) for q in queries]
    shared = [(lits, limit) for lits, _ in queries for limit in (None, 0, 3)]  # the same literals, three limits
    assert index.lines_containing_each(LiteralQueries.build(shared)) == [holding(*q) for q in shared]


def test_literal_queries_hold_their_literals_once() -> None:
    search = LiteralQueries.build([(("foto", "bild"), 80), (("foto",), None), ((), 10)])
    assert search.queries == ((("foto", "bild"), 80), (("foto",), None), ((), 10))
    assert search.ids == ((1, 0), (1,), ())  # numbers in the automaton: the sorted distinct literals
    index = TextIndex.of(["Foto: X", "ein Bild", "kein Treffer", "Foto " + "x" * 90])
    assert index.lines_containing_each(search) == [[0, 1], [0, 3], []]
    assert TextIndex.of([]).lines_containing_each(search) == [[], [], []]
    assert index.lines_containing_each(LiteralQueries.build([])) == []
    assert index.lines_containing_each(LiteralQueries.build([((), None)])) == [[]]


@pytest.mark.parametrize("literal", ["", "a\nb"])
def test_literal_queries_refuse_literals_that_could_span_blocks(literal: str) -> None:
    with pytest.raises(ValueError, match="non-empty"):
        LiteralQueries.build([(("ok", literal), None)])


def test_the_packaged_matcher_asks_for_the_literals_of_its_lazy_rules() -> None:
    filtered = [r for _, r in MATCHER.lazy if prefilter(r)]
    assert MATCHER.lazy_filtered == tuple(bool(prefilter(r)) for _, r in MATCHER.lazy)
    assert {r.id for r in filtered} > {r.id for _, r in MATCHER.lazy if r.requires}  # needles of search groups
    gated = [r for r in filtered if r.gate and len(r.gate) < len(prefilter(r))]
    assert {r.id for r in gated} >= {"caption.trailing_credit"}
    # rules with literals whose patterns name their first characters go through the unions instead
    assert not {"caption.credit_label", "caption.source_label"} & {r.id for r in filtered}
    asked = [(r.gate if r in gated else prefilter(r), r.max_chars) for r in filtered]
    assert MATCHER.cased_gated and MATCHER.lazy_literals.queries == (*asked, ((":",), MATCHER.cased_max))
    assert MATCHER.lazy_recheck == tuple(prefilter(r) if r in gated else () for r in filtered)
    asked_literals = [lit for lits, _ in MATCHER.lazy_literals.queries for lit in lits]
    # rules share literals: the automaton holds each once
    assert len(set(asked_literals)) < len(asked_literals)
    assert max(i for ids in MATCHER.lazy_literals.ids for i in ids) == len(set(asked_literals)) - 1
    assert PS.get("comments.author").gate == (":",) and PS.get("script.code_line").gate == ()


# --------------------------------------------------------------------------- hand-made pattern sets

_GROUPS = r"""
[a0.required]
rationale = "r"
category = "teaser"
requires = ["hr", "bb"]
patterns = ['mehr|me', 'abb?']

[a.full]
rationale = "r"
category = "teaser"
max_chars = 20
patterns = ['mehr zum thema', 'x+y', 'ab|abc']

[b.start]
rationale = "r"
category = "teaser"
match = "start"
patterns = ['mehr', '(ab)+c']

[c.search]
rationale = "r"
category = "ad"
match = "search"
requires = ["anzeige", "zeig"]
patterns = ['\banzeige\b', 'ze(?:ig)+']

[d.cased]
rationale = "r"
category = "ad"
patterns = ['Foo(?-i:Bar)', 'k+']

[e.search]
rationale = "r"
category = "ad"
match = "search"
patterns = ['zz\d', '(?i:ſ)x', '^s+$', 'k(?=x)']

[f.nullable]
rationale = "r"
category = "ad"
patterns = ['a*', 'ı?i']

[g.any]
rationale = "r"
category = "ad"
max_chars = 6
patterns = ['.{2}x', '\s*y']

[h.start_cased]
rationale = "r"
category = "ad"
match = "start"
patterns = ['(?-i:Q)q', 'i\u0307']

[i.backref]
rationale = "r"
category = "ad"
patterns = ['(a|b)\1c']

[j.late]
rationale = "r"
category = "ad"
match = "start"
max_chars = 3
patterns = ['ab', 'mehr', 'x']

[k.search_open]
rationale = "r"
category = "ad"
match = "search"
patterns = ['\d{3}', 'ww']

[l.digits]
rationale = "r"
category = "ad"
patterns = ['\d+\s?k', '[\d.]x']

[m.folded]
rationale = "r"
category = "ad"
patterns = ['(?i:ſ)q', 'x(?i:ſ)|(?i:ſ)y']
"""
CUSTOM = parse_groups({"t.toml": _GROUPS})
_custom_text = st.text(alphabet=st.sampled_from("mehrzu thaxybcnigeFoBRQqKksſİı\u0307\u212a1\u0663. \n"), max_size=16)


@pytest.mark.parametrize("min_alternatives", [0, 4, 10**6])
@given(st.lists(_custom_text, max_size=12))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_scan_of_a_hand_made_set_equals_the_plain_scan(
    monkeypatch: pytest.MonkeyPatch, min_alternatives: int, texts: list[str]
) -> None:
    """Every kind of rule (full/start/search, lower-case safe or not, with groups or a backreference,
    nullable, with and without ``requires`` and ``max_chars``), unions split by first character or
    not: the first rule in order wins, as rule by rule."""
    monkeypatch.setattr(patterns_module, "DISPATCH_MIN_ALTERNATIVES", min_alternatives)
    matcher = LineMatcher.build(list(CUSTOM.rules.values()))
    assert fast_scan(matcher, texts) == plain_scan(matcher, texts)


def test_hand_made_set_covers_its_cases() -> None:
    matcher = LineMatcher.build(list(CUSTOM.rules.values()))
    texts = ["mehr zum thema", "Mehr Bilder", "eine Anzeige", "FOOBar", "fooBAR", "abc", "QQ", "qq", "aac",
             "zz1", "", "x", "ſx", "abcx", "bcx", "İx", "kx", "abb", "mehr", "ab", "me", "123", "12 k", ".x",
             "\u0663x", "sy", "Sq"]
    assert matcher.rules[0].id == "a0.required" and all(r.id != "a0.required" for _, r in matcher.lazy)
    # a search group without ``requires`` is prefiltered by its needles when every pattern has some
    filtered = {r.id: f for (_, r), f in zip(matcher.lazy, matcher.lazy_filtered, strict=True)}
    assert filtered["e.search"] and not filtered["k.search_open"]
    assert prefilter(CUSTOM.get("e.search")) == ("k", "s", "x", "zz")
    got = {t: r for i, r, _ in fast_scan(matcher, texts) for t in [texts[i]]}
    assert got == {
        "mehr zum thema": "a.full", "Mehr Bilder": "b.start", "eine Anzeige": "c.search", "FOOBar": "d.cased",
        "abc": "a.full", "QQ": "h.start_cased", "aac": "i.backref", "zz1": "e.search", "": "f.nullable",
        "x": "j.late", "ſx": "e.search", "bcx": "g.any", "abcx": "b.start", "kx": "e.search",
        "abb": "a0.required", "mehr": "a0.required", "ab": "a.full",  # "ab", "me": a0 without its literals
        "123": "k.search_open", "12 k": "l.digits", ".x": "l.digits", "\u0663x": "l.digits",
        "sy": "m.folded", "Sq": "m.folded",  # on the lower case, (?i:ſ) matches "s"
    }
    assert fast_scan(matcher, texts) == plain_scan(matcher, texts)


# --------------------------------------------------------------------------- needles of a pattern


def test_needles_of_simple_patterns() -> None:
    assert needles("abc") == ("abc",)
    assert needles(r"\bconsole\.(?:log|warn)\s*\(") == ("console.",)
    assert needles(r"^\s*(?:var|let|const)\s+x") == ("const", "let", "var")
    assert needles(r"(?:ab|cd)+x") == ("ab", "cd")  # the longer set wins over 'x'
    assert needles(r"a?b*") == ()  # may match the empty string
    assert needles(r"(?i:abc)") == ()  # case-insensitive: 'ABC' matches too
    assert needles(r"(?i)abc") == ()
    assert needles(r"x(?i:abc)yz") == ("yz",)
    assert needles(r"a|[bc]d") == ("a", "d")
    assert needles(r"ab|\d") == ()  # an alternative without a literal
    assert needles(r"(?>abc)d") == ("abc",)
    assert needles("[") == ()  # not a pattern


# Small patterns built from literals, classes, groups, alternations, repeats, anchors and lookarounds.
_atom = st.one_of(
    st.sampled_from([*"abcſİk.", r"\s", r"\w", "[ab]", "[^a]", r"\b", "^", "$", "(?=a)", "(?!b)"]),
)


def _pattern_strategy() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.lists(inner, min_size=1, max_size=4).map("".join),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: "(?:" + "|".join(xs) + ")"),
            st.tuples(inner, st.sampled_from(["*", "+", "?", "{2}", "{0,2}", "+?", "*+", "{1,3}"])).map(
                lambda t: f"(?:{t[0]}){t[1]}"
            ),
            inner.map(lambda x: f"(?i:{x})"),
            inner.map(lambda x: f"(?>{x})"),
            inner.map(lambda x: f"({x})"),
        )

    return st.recursive(_atom, extend, max_leaves=8)


@given(_pattern_strategy(), st.lists(st.text(alphabet=st.sampled_from("abcſİkK\u0307 x"), max_size=8), max_size=12))
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_match_holds_a_needle(pattern: str, texts: list[str]) -> None:
    """Whatever text a pattern finds something in holds one of its needles (random patterns over a
    small alphabet, random texts over the same one, so that many of them match)."""
    lits = needles(pattern)
    regex = re.compile(pattern, re.UNICODE)
    for text in texts:
        if lits and regex.search(text) is not None:
            assert any(lit in text for lit in lits), (pattern, lits, text)


def test_gates_of_simple_patterns() -> None:
    assert gate([r"\S.{0,60}?\s+(?:says|wrote)\s*:"]) == (":",)
    assert gate([r"a:b", r"#\w+"]) == ("#", ":")
    assert gate([r"(?:foto|bild):", r"photo by \w+"]) == ()  # the second pattern needs no punctuation
    assert gate([r"x[:#]y"]) == ("#", ":") and gate([r"x[:a]y"]) == ()
    assert gate([r"a\.b", r"\(c\)"]) == ()  # sentence marks are no gates: prose is full of them
    assert gate([r"(?:a:)?b"]) == () and gate([r"(?:a:)+b"]) == (":",) and gate([r"x|y:"]) == ()
    assert gate([r"(?i:ab::c)"]) == ("::",) and gate(["["]) == ()


_gate_atom = st.sampled_from([*"ab:#K", r"\+", r"\.", "a:", ":b", r"\s", r"\w", "[:#]", "[:a]", "[^:]", r"\b", "(?=:)"])


@given(
    st.recursive(
        _gate_atom,
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=4).map("".join),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: "(?:" + "|".join(xs) + ")"),
            st.tuples(inner, st.sampled_from(["*", "+", "?", "{2}", "{0,2}"])).map(lambda t: f"(?:{t[0]}){t[1]}"),
            inner.map(lambda x: f"(?i:{x})"),
        ),
        max_leaves=8,
    ),
    st.lists(st.text(alphabet=st.sampled_from("abAB:#+. K\u212a"), max_size=8), max_size=12),
)
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_match_holds_a_gate_literal(pattern: str, texts: list[str]) -> None:
    """Whatever text a pattern finds something in, with or without IGNORECASE, holds one of its gate
    literals, and so does its lower case (where the matcher searches)."""
    lits = gate([pattern])
    for flags in (re.UNICODE, re.UNICODE | re.IGNORECASE):
        regex = re.compile(pattern, flags)
        for text in texts:
            if lits and regex.search(text) is not None:
                assert any(lit in text.lower() for lit in lits), (pattern, lits, text)


# --------------------------------------------------------------------------- first characters

_first_atom = st.sampled_from([
    *"abſİk.", "\u0663", r"\s", r"\d", r"\w", "[ab]", "[\\d.]", "[^a]", r"\b", "^", "$", "(?=a)", "(?a:\\d)",
    "(?i:ſ)", "(?i:k)",
])


@given(
    st.recursive(
        _first_atom,
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=4).map("".join),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: "(?:" + "|".join(xs) + ")"),
            st.tuples(inner, st.sampled_from(["*", "+", "?", "{2}", "{0,2}", "+?"])).map(lambda t: f"(?:{t[0]}){t[1]}"),
        ),
        max_leaves=8,
    ),
    st.lists(st.text(alphabet=st.sampled_from("abſİk.1\u0663\u0967 \u00a0x_sK\u212a"), max_size=6), max_size=12),
)
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_match_starts_with_a_first_char(pattern: str, texts: list[str]) -> None:
    """A text a pattern matches at its start begins with one of its ``first_chars`` (None: any), with the
    digit and space classes enumerated (Unicode digits like U+0663 and U+0967 included), and
    case-insensitive groups, whose 'ſ' also matches 's', left open."""
    first = patterns_module.first_chars(pattern)
    regex = re.compile(pattern, re.UNICODE)
    for text in texts:
        # any match at the start (not only a full one: far more of the random texts have one)
        if first is not None and regex.match(text) is not None:
            assert text[:1] in first, (pattern, text)


def test_no_decimal_digit_past_max_digit() -> None:
    assert not any(chr(c).isdecimal() for c in range(patterns_module.MAX_DIGIT + 1, 0x110000))


SPLIT = [r for r in PS.rules.values() if r.search_parts is not None]


def test_search_groups_are_split() -> None:
    assert "script.code_line" in {r.id for r in SPLIT}
    code = PS.get("script.code_line")
    assert code.search_parts is not None and all(lits for _, lits in code.search_parts)


@pytest.mark.parametrize("rule", SPLIT, ids=[r.id for r in SPLIT])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_split_search_equals_the_whole_alternation(rule: Rule, data: st.DataObject) -> None:
    """``pattern_hits`` of a search group tries only the patterns whose needle occurs: the same answer
    as searching the group's whole (lower-case) alternation."""
    assert rule.lower is not None and rule.search_parts is not None
    pattern = data.draw(st.sampled_from([p for p, _ in rule.search_parts]))
    alphabet = st.characters(exclude_categories=["Cs"])
    matching = data.draw(st.from_regex(pattern, alphabet=alphabet))
    for text in (matching, matching.upper(), data.draw(_line), data.draw(st.text(alphabet=AWKWARD, max_size=20))):
        low = text.lower()
        assert rule.pattern_hits(text, low) == (rule.lower.search(low) is not None), (rule.id, text)


NEEDLED = [r for r in PS.rules.values() if not r.requires and prefilter(r)]


def test_search_groups_without_requires_are_prefiltered_by_their_needles() -> None:
    assert {"ad.affiliate_disclosure", "newsletter.email_prompt"} <= {r.id for r in NEEDLED}
    assert prefilter(PS.get("ad.affiliate_disclosure")) == ("commission", "compensation", "provision")
    assert prefilter(PS.get("script.code_line")) == PS.get("script.code_line").requires
    assert prefilter(PS.get("teaser.related")) == ()  # a full-mode group: no search parts


@pytest.mark.parametrize("rule", NEEDLED, ids=[r.id for r in NEEDLED])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_blocks_without_a_needle_fail_pattern_hits(rule: Rule, data: st.DataObject) -> None:
    """The matcher only tries a needle-prefiltered group on the blocks holding a needle: every
    block ``pattern_hits`` accepts (texts its patterns match, upper-cased, random) holds one."""
    assert rule.search_parts is not None
    pattern = data.draw(st.sampled_from([p for p, _ in rule.search_parts]))
    matching = data.draw(st.from_regex(pattern, alphabet=st.characters(exclude_categories=["Cs"])))
    for text in (matching, matching.upper(), data.draw(_line), data.draw(st.text(alphabet=AWKWARD, max_size=20))):
        low = text.lower()
        if rule.pattern_hits(text, low):
            assert any(lit in low for lit in prefilter(rule)), (rule.id, text)


# --------------------------------------------------------------------------- rule detectors
#
# The plain versions of the detectors whose loops were cut: same rules, written the obvious way.

BODY = (
    "Die Regierung hat am Montag in Berlin neue Regeln für den Ausbau der Radwege beschlossen, "
    "sagte die Ministerin Anna Muster. „Wir werden das Netz bis 2030 verdoppeln“, sagte sie."
)
QUOTE = "Wir werden das Netz bis 2030 verdoppeln."
POOL = [
    BODY, BODY + " Mehr dazu später.", QUOTE, f"„{QUOTE}“", "— Anna Muster, Ministerin", "Anna Muster, Ministerin",
    "Die Stadt plant neue Wege für alle Menschen in der Region.", "var x = {a: 1, b: [2, 3]};", "});", "false", "42",
    "window.dataLayer = window.dataLayer || [];", "JETZT GRATIS TESTEN!", "Sign up for a free trial today",
    "Gewinnspiel: jetzt mitmachen und gewinnen", "DER DIGITALE EURO KOMMT", "Kurz notiert", "Menü", "",
    "İstanbul İçin Yeni Kurallar", "Wir werden das Netz bis 2030 verdoppeln, sagte sie gestern.", "x = 1",
    "Weitere Informationen finden Sie hier.", "Dieser Satz hat genau genug Wörter für ein Zitat.",
    "Dieser Satz hat genau genug Wörter für ein Zitat. Und noch einer danach, lang genug für alles.",
    "}); }); }); });", '{"ok": true, "n": 1}', "12 Kommentare", "Anna Muster sagt:", "John wrote:", "Antworten",
    "Reply", "19. November 2019 um 6:34 Uhr", "November 19, 2019 at 6:34 am", "Kommentare", "Leserkommentare",
]
RULES = ["script.code_line", "script.state_value", "caption.credit", "tags.label", "teaser.related", "comments.marker"]


@st.composite
def views(draw: st.DrawFn) -> View:
    line = st.one_of(st.sampled_from(POOL), st.text(alphabet=AWKWARD + "abcXYZ", max_size=20))
    texts = draw(st.lists(line, max_size=24))
    blocks = tuple(
        Block(i, t, line=i + 1, group=i, bullet=draw(st.booleans())) for i, t in enumerate(texts)
    )
    removed = draw(st.dictionaries(st.integers(0, max(0, len(texts) - 1)), st.sampled_from(RULES), max_size=8))
    removals = {i: Removal(i, rule, Category.SCRIPT, "x") for i, rule in removed.items() if i < len(texts)}
    return View(Document(blocks), MappingProxyType(removals))


THREAD = ["12 Kommentare", "Anna Muster sagt:", "John wrote:", "Antworten", "Reply", "November 19, 2019 at 6:34 am",
          "Kommentare", "Ein Kommentar.", BODY, "Kurz"]


@st.composite
def thread_views(draw: st.DrawFn) -> View:
    """Pages with prose, then comment-thread material (headers, author lines, markers, bodies)."""
    texts = [BODY, *draw(st.lists(st.sampled_from(THREAD), min_size=4, max_size=20))]
    blocks = tuple(Block(i, t, line=i + 1, group=i) for i, t in enumerate(texts))
    removed = draw(st.lists(st.integers(0, len(texts) - 1), max_size=3))
    return View(Document(blocks), MappingProxyType({i: Removal(i, "teaser.related", Category.TEASER) for i in removed}))


def plain_code_shape(view: View, settings: Settings) -> list[Removal]:
    out: list[Removal] = []
    kept = [b for b in view.doc.blocks if b.index not in view.removals]
    for block in kept:
        size = len(block.text)
        if size < settings.code_min_chars or shape.code_char_ratio(block.text) < settings.code_char_ratio:
            continue
        if not shape.is_prose(block.text, settings):
            n_code = sum(block.text.count(c) for c in shape.CODE_CHARS)
            out.append(Removal(block.index, "script.code_shape", Category.SCRIPT, f"code chars {n_code / size:.2f}"))
    script = {i for i, r in view.removals.items() if r.rule.startswith("script.")} | {r.index for r in out}
    shaped = {r.index for r in out}
    for block in kept:
        i = block.index
        if i in shaped or i - 1 not in script or i + 1 not in script:
            continue
        if shape.word_count(block.text) <= 2 and not shape.ends_sentence(block.text):
            out.append(Removal(i, "script.state_run", Category.SCRIPT, "value between script lines"))
    return out


def plain_promo_tail(view: View, settings: Settings) -> list[Removal]:
    anchor = PS.get("promo.anchor")
    start = None
    for block in reversed(view.doc.blocks):
        if block.index in view.removals:
            continue
        promo = anchor.regex.search(block.text) is not None and anchor.may_match(block.text.lower())
        prose = shape.is_prose(block.text, settings)
        if prose and not promo:
            break
        if shape.is_shouting(block.text, settings) or (promo and not prose):
            start = block
    if start is None:
        return []
    head = start.text if len(start.text) <= 60 else start.text[:59] + "…"
    return [
        Removal(b.index, "promo.tail", Category.PROMO, f"promo block from {head!r}")
        for b in view.doc.blocks[start.index :]
        if b.index not in view.removals
    ]


def plain_pull_quotes(view: View, settings: Settings) -> list[Removal]:
    """A host is the first kept block (in order), not cut short by an ellipsis, with a longer key holding
    the quote's key as whole words."""
    kept = [b for b in view.doc.blocks if b.index not in view.removals]
    out: list[Removal] = []
    for block in kept:
        text, key = block.text, block.key
        if block.bullet or len(text) > settings.pull_quote_max_chars or shape.word_count(text) < 5:
            continue
        if not (shape.ends_sentence(text) or shape.is_quoted(text)) or len(key.split(" ")) < 3:
            continue
        host = next(
            (h for h in kept if h.index != block.index and len(h.key) > len(key) and f" {key} " in f" {h.key} "
             and not shape.is_truncated(h.text)),
            None,
        )
        if host is None:
            continue
        detail = f"repeats line {host.line}"
        out.append(Removal(block.index, "pull_quote.repeated_sentence", Category.PULL_QUOTE, detail))
        nxt = next((b for b in kept if b.index > block.index), None)
        if nxt is None or nxt.index == host.index or nxt.bullet:
            continue
        if shape.word_count(nxt.text) > settings.attribution_max_words or shape.ends_sentence(nxt.text):
            continue
        names = {w for w in shape.words(nxt.text) if w[:1].isupper() and len(w) >= 4}
        if nxt.text[:1] in "-–—" or names & set(shape.words(host.text)):
            out.append(Removal(nxt.index, "pull_quote.attribution", Category.PULL_QUOTE, "names the quoted speaker"))
    return out


def _covers(rule: Rule, text: str) -> bool:
    return rule.hits(text, text.lower()) and rule.matches(text) is not None


def plain_comment_threads(view: View, settings: Settings) -> list[Removal]:
    """Author and marker lines tested block by block, each group on its own."""
    header, author, marker = (PS.get(f"comments.{g}") for g in ("header", "author", "marker"))
    blocks = view.doc.blocks
    is_author = [_covers(author, b.text) for b in blocks]
    marks = [b.index for b in blocks if is_author[b.index] or _covers(marker, b.text)]
    if len(marks) < 4:
        return []
    clusters: list[list[int]] = [[marks[0]]]
    for i in marks[1:]:
        if i - clusters[-1][-1] <= 6:
            clusters[-1].append(i)
        else:
            clusters.append([i])
    first_prose = next((b.index for b in blocks if shape.is_prose(b.text, settings)), len(blocks))
    out: list[Removal] = []
    for cluster in clusters:
        if len(cluster) < 4:
            continue
        lo = cluster[0]
        head = next((j for j in range(lo - 1, max(-1, lo - 5), -1) if header.matches(blocks[j].text)), None)
        if head is None and sum(is_author[i] for i in cluster) < 2:
            continue
        start = head if head is not None else lo
        if start <= first_prose:
            continue
        end = min(len(blocks) - 1, cluster[-1] + 2)
        what = blocks[start].text if len(blocks[start].text) <= 40 else blocks[start].text[:39] + "…"
        out.extend(
            Removal(i, "comments.thread", Category.COMMENTS, f"{len(cluster)} comment markers from {what!r}")
            for i in range(start, end + 1)
            if i not in view.removals
        )
    return out


PLAIN_DETECTORS = {
    "comment_threads": plain_comment_threads,
    "code_shape": plain_code_shape,
    "promo_tail": plain_promo_tail,
    "pull_quotes": plain_pull_quotes,
}


@given(view=thread_views())
@settings(max_examples=300, deadline=None)
def test_comment_threads_equal_the_plain_version_on_threads(view: View) -> None:
    assert dict(RULE_DETECTORS)["comment_threads"](view, PS, DEFAULT) == plain_comment_threads(view, DEFAULT)


@pytest.mark.parametrize("name", sorted(PLAIN_DETECTORS))
@given(view=views())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_detector_equals_its_plain_version(name: str, view: View) -> None:
    assert dict(RULE_DETECTORS)[name](view, PS, DEFAULT) == PLAIN_DETECTORS[name](view, DEFAULT)


@pytest.mark.parametrize("name", sorted(PLAIN_DETECTORS))
@pytest.mark.parametrize("seed", sorted(p.name for p in SEEDS.glob("*.txt")))
def test_detector_equals_its_plain_version_on_seeds(name: str, seed: str) -> None:
    view = View(segment_text((SEEDS / seed).read_text(encoding="utf-8")))
    for det_name, detector in RULE_DETECTORS:  # the verdicts the detector sees in the pipeline
        if det_name == name:
            break
        view = view.with_removals(detector(view, PS, DEFAULT))
    assert dict(RULE_DETECTORS)[name](view, PS, DEFAULT) == PLAIN_DETECTORS[name](view, DEFAULT)


@given(st.lists(st.text(alphabet=st.sampled_from("ab \n"), max_size=6), min_size=1, max_size=8))
def test_key_text_line_starts_are_where_the_lines_begin(keys: list[str]) -> None:
    """The line offsets ``_KeyText`` counts on first use: line j of its text starts at starts[j]."""
    from cleaners.detectors import _KeyText

    blocks = [Block(i, f"Block {i}", key=k or "x") for i, k in enumerate(keys)]
    key_text = _KeyText(blocks)
    plain, at = [], 0
    for b in blocks:
        plain.append(at)
        at += len(b.key) + 3
    assert key_text.starts == plain and key_text.starts is key_text.starts
    assert all(key_text.text.startswith(f" {b.key} ", s) for b, s in zip(blocks, plain, strict=True))


@given(st.lists(st.text(alphabet=st.sampled_from("ab \nİ"), max_size=6), max_size=8),
       st.lists(st.text(alphabet=st.sampled_from("abi"), min_size=1, max_size=3), max_size=3))
def test_holding_any_equals_the_per_text_check(texts: list[str], literals: list[str]) -> None:
    """The promo tail's literal test for a stretch of blocks, one search per literal: per text, as
    ``any(lit in text ...)`` (every text, when there are no literals)."""
    from cleaners.detectors import _holding_any

    want = [not literals or any(lit in t for lit in literals) for t in texts]
    assert _holding_any(texts, tuple(literals)) == want
