"""Engine invariants: segmentation, conservation of blocks, determinism, bad input, HTML path."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleaners import BlockKind, clean_html, clean_text, shape
from cleaners.detectors import DETECTORS
from cleaners.patterns import PatternError, load, parse_groups
from cleaners.pipeline import detect
from cleaners.segment import _BULLET, _SPACES, _collapse_spaces, _is_continuation, segment_text
from cleaners.settings import DEFAULT

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


# --------------------------------------------------------------------------- segmentation


def test_blank_line_and_single_newline_paragraphing_give_the_same_blocks() -> None:
    lines = ["Titel der Meldung", "Erster Absatz mit Inhalt.", "Zweiter Absatz mit Inhalt."]
    a = segment_text("\n\n".join(lines))
    b = segment_text("\n".join(lines))
    assert [x.text for x in a.blocks] == [x.text for x in b.blocks] == lines
    assert [x.group for x in a.blocks] == [0, 1, 2]
    assert [x.group for x in b.blocks] == [0, 0, 0]


def test_hard_wrapped_paragraph_is_joined_short_lines_are_not() -> None:
    text = ("Die Bundesregierung hat am Mittwoch ein neues Gesetz\nbeschlossen, das die Förderung von "
            "Radwegen\nverbessern soll.\n\n250.000\nrussische Soldaten sind gefallen.")
    doc = segment_text(text)
    assert [b.text for b in doc.blocks] == [
        "Die Bundesregierung hat am Mittwoch ein neues Gesetz beschlossen, das die Förderung von Radwegen "
        "verbessern soll.",
        "250.000",
        "russische Soldaten sind gefallen.",
    ]
    assert doc.blocks[0].line == 1 and doc.blocks[1].line == 5


def test_bullets_are_list_blocks_without_marker() -> None:
    doc = segment_text("- Erster Punkt\n• Zweiter Punkt\n* Dritter Punkt\n-kein Punkt")
    assert [(b.text, b.bullet, b.kind) for b in doc.blocks] == [
        ("Erster Punkt", True, BlockKind.LIST),
        ("Zweiter Punkt", True, BlockKind.LIST),
        ("Dritter Punkt", True, BlockKind.LIST),
        ("-kein Punkt", False, BlockKind.PARAGRAPH),
    ]


def _segment_line_by_line(text: str) -> list[tuple[str, int, int, bool]]:
    """The segmentation rules applied one input line at a time: (text, line, group, bullet)."""
    pieces: list[tuple[str, int, int, bool]] = []
    group, prev_blank = 0, True
    for lineno, raw in enumerate(text.split("\n"), start=1):
        line = _SPACES.sub(" ", raw).strip()
        if not line:
            group += 0 if prev_blank else 1
            prev_blank = True
            continue
        m = _BULLET.match(line)
        bullet = m is not None
        line = line[m.end() :] if m is not None else line
        prev = pieces[-1] if pieces and not prev_blank else None
        if prev is not None and not bullet and not prev[3] and _is_continuation(prev[0], line, DEFAULT):
            pieces[-1] = (f"{prev[0]} {line}", prev[1], prev[2], False)
        else:
            pieces.append((line, lineno, group, bullet))
        prev_blank = False
    return pieces


_seg_line = st.one_of(
    st.text(alphabet=st.sampled_from("aZß東 \t\u00a0\u2009\u3000-•*.:\r"), max_size=60),
    st.sampled_from(["Ein langer Satz, der am Zeilenende einfach weitergeht und", "weiter unten endet.",
                     "- Punkt", "-", "• ", "\u2013 Strich", "", "  ", "kurz"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_seg_line, max_size=25))
def test_segmentation_equals_the_line_by_line_rules(lines: list[str]) -> None:
    text = "\n".join(lines)
    got = [(b.text, b.line, b.group, b.bullet) for b in segment_text(text).blocks]
    assert got == _segment_line_by_line(text)
    assert _collapse_spaces(text) == _SPACES.sub(" ", text)


@given(st.lists(st.text(alphabet=st.sampled_from('ab {}[]();=<>"$\\|:'), max_size=30), max_size=8))
def test_code_char_counts_equal_the_ratio_numerators(texts: list[str]) -> None:
    assert shape.code_char_counts(texts) == [sum(map(t.count, shape.CODE_CHARS)) for t in texts]
    assert [round(shape.code_char_ratio(t) * len(t)) for t in texts] == shape.code_char_counts(texts)


# --------------------------------------------------------------------------- invariants

_line = st.one_of(
    st.text(min_size=0, max_size=120),
    st.sampled_from(["Lesen Sie auch", "© AFP", "Anzeige", "false", "showPaywall:", "- Politik", "",
                     "Ein ganz normaler Satz mit genug Wörtern für einen Absatz.", "#Tag"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_line, max_size=30), st.sampled_from(["\n", "\n\n"]))
def test_every_block_is_kept_or_removed_with_a_reason(lines: list[str], sep: str) -> None:
    text = sep.join(lines)
    doc = segment_text(text)
    art = clean_text(text)
    out = ([art.title] if art.title else []) + [b.text for b in art.blocks]
    assert len(out) + len(art.removed) == len(doc.blocks)
    assert sorted(out + [r.text for r in art.removed]) == sorted(b.text for b in doc.blocks)
    for r in art.removed:
        assert r.rule and "." in r.rule and r.category
    assert art.text == "\n\n".join(b.text for b in art.blocks)
    assert (art.id == "") == (art.text == "")
    assert clean_text(text) == art  # deterministic, language included


def test_every_rule_id_is_dotted_snake_case_with_rationale() -> None:
    ps = load()
    for rule in ps.rules.values():
        assert rule.rationale.strip()
        assert rule.id.replace(".", "").replace("_", "").isalnum()


def test_pattern_files_reject_groups_without_rationale_or_bad_category() -> None:
    with pytest.raises(PatternError):
        parse_groups({"x.toml": "[a.b]\ncategory='ad'\npatterns=['x']\n"})
    with pytest.raises(PatternError):
        parse_groups({"x.toml": "[a.b]\nrationale='r'\ncategory='nope'\npatterns=['x']\n"})
    with pytest.raises(PatternError):
        parse_groups({"x.toml": "[a.b]\nrationale='r'\ncategory='ad'\npatterns=['(']\n"})
    ps = parse_groups({
        "a.toml": "[a.b]\nrationale='r'\ncategory='ad'\nmax_chars=10\npatterns=['foo']\n",
        "b.toml": "[a.b]\nrationale='other'\ncategory='ad'\npatterns=['bar']\n",
    })
    rule = ps.get("a.b")
    assert rule.matches("FOO") and rule.matches("bar") and not rule.matches("foo but longer")
    assert rule.rationale == "r" and rule.sources == ("a.toml", "b.toml")


def test_detectors_do_not_edit_text() -> None:
    text = (SEEDS / next(p.name for p in SEEDS.glob("002_*"))).read_text(encoding="utf-8")
    doc = segment_text(text)
    view = detect(doc)
    assert view.doc is doc
    assert {name for name, _ in DETECTORS} >= {"phrases", "captions", "consent", "repeats", "pull_quotes"}


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("text", ["", "   \n\n \t ", "\x00\x01\x02", "\ufeff"])
def test_empty_or_garbage_input_gives_empty_article_with_reason(text: str) -> None:
    art = clean_text(text)
    assert art.is_empty and art.empty_reason and art.id == "" and art.language is None


def test_all_boilerplate_page_is_empty_with_reason() -> None:
    art = clean_text("Zum Inhalt springen\n\nLesen Sie auch\n\nAnzeige\n\n© dpa")
    assert art.is_empty
    assert art.empty_reason is not None and "boilerplate" in art.empty_reason
    assert len(art.removed) == 4


def test_huge_input_is_handled_linearly() -> None:
    para = "Ein Absatz mit einigen Wörtern, der sich oft wiederholt und trotzdem Text ist. "
    text = "\n\n".join(f"{i}. {para}" for i in range(20000))
    art = clean_text(text)
    assert len(art.blocks) == 20000


def test_truncated_and_malformed_html_do_not_raise() -> None:
    html = ("<html><head><title>T</title></head><body><article><h1>Radwege für alle</h1>"
            "<p>Die Stadt baut neue Radwege, und zwar schneller als geplant. Bis 2030 sollen vierzig "
            "Kilometer entstehen, teilte die Verwaltung mit.</p><p>Kritiker bemängeln die Finanzierung "
            "des Vorhabens, die noch nicht gesichert sei.<div><span>Lesen Sie auch")
    art = clean_html(html)
    assert "Die Stadt baut neue Radwege" in art.text
    assert art.extraction.startswith("html:")
    for broken in ["<", "<html", "<<<>>>", "<p>nur ein Satz", "</div></div>", "<!DOCTYPE html>"]:
        clean_html(broken)


def test_html_page_without_article_is_empty_not_an_error() -> None:
    art = clean_html("<html><body><nav><a href='/'>Startseite</a></nav><script>var x = 1;</script></body></html>")
    assert art.is_empty and art.empty_reason


_mixed_case = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["LESEN SIE AUCH", "Wir Verwenden Cookies", "© DPA", "Anzeige", "STAND: 12.03.2025",
                     "Ich bin damit EINVERSTANDEN", "Ads By Taboola", "İstanbul Straße ǅ"]),
)


@settings(max_examples=300, deadline=None)
@given(_mixed_case)
def test_lowercase_fast_path_agrees_with_case_insensitive_regex(text: str) -> None:
    ps = load()
    for rule in ps.rules.values():
        if rule.lower is None:
            continue
        low = text.lower()
        fast = {"full": rule.lower.fullmatch, "start": rule.lower.match, "search": rule.lower.search}[rule.match](low)
        slow = rule.matches(text) if rule.max_chars is None or len(text) <= rule.max_chars else None
        if rule.max_chars is None or len(text) <= rule.max_chars:
            assert (fast is not None) == (slow is not None), (rule.id, text)
        assert rule.count_distinct(text) == sum(1 for p in rule.parts if p.search(text)), (rule.id, text)


def test_title_recovered_from_head_chrome_is_a_headline_not_a_menu_label() -> None:
    menu = [f"Rubrik {i}" for i in range(12)]
    body = [
        "Die Stadtverwaltung hat am Dienstag neue Pläne für den Ausbau der Radwege vorgestellt, "
        f"die bis 2030 umgesetzt werden sollen ({i}. Absatz mit weiteren Einzelheiten)."
        for i in range(8)
    ]
    for head in (["Contact Us"], ["Kontakt", "Contact Us"]):
        art = clean_text("\n\n".join([*menu, "Contact Us", *head, *body, *menu]))
        assert art.title != "Contact Us"


@given(st.lists(st.booleans(), max_size=40), st.integers(min_value=0, max_value=3))
def test_marked_runs_are_maximal_runs_bridged_by_short_gaps(marked: list[bool], gap: int) -> None:
    """``shape.marked_runs`` with 'a marked position within ``gap`` after' as the bridge: the runs are
    exactly the maximal stretches from marked to marked with at most ``gap`` unmarked positions in a
    row (the plain definition, by splitting the marked positions where they lie too far apart)."""
    got = list(shape.marked_runs(marked, lambda j: any(marked[j + 1 : j + 1 + gap])))
    at = [i for i, m in enumerate(marked) if m]
    want: list[tuple[int, int, int]] = []
    for i in at:
        if want and i - want[-1][1] - 1 <= gap:
            start, _, n = want[-1]
            want[-1] = (start, i, n + 1)
        else:
            want.append((i, i, 1))
    assert got == want
