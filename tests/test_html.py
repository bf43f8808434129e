"""The HTML path: DOM pre-cleaning with accounted removals, trafilatura blocks, metadata, fallback,
broken and huge pages, and non-UTF-8 pages end to end through the ingest runner."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jsonschema
import pytest

from cleaners import BlockKind, Category, clean_html
from cleaners.htmlpath import (
    DomRuleError,
    extract,
    load_dom_rules,
    parse_dom_rules,
    preclean,
    visible_text,
)
from cleaners.record import article_record, load_schema
from flows.runner import run_ingest

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "html"

BODY_DE = [
    "Nach jahrelanger Debatte hat der Stadtrat am Mittwochabend",
    "Die Kosten für das Bauwerk schätzt die Verwaltung",
    "Oberbürgermeisterin Katrin Vogel sprach",
    "Die Opposition im Stadtrat kritisierte",
    "Der Baubeginn ist für das Frühjahr 2025 geplant.",
]


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def rules_of(article_removed: object) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in article_removed:  # type: ignore[attr-defined]
        out.setdefault(r.rule, []).append(r.text)
    return out


# -- the rule file ----------------------------------------------------------------------------------


def test_packaged_dom_rules_have_rationale_category_and_unique_ids() -> None:
    rules = load_dom_rules()
    ids = [r.id for r in rules]
    assert len(ids) == len(set(ids)) and all(i.startswith("html.") for i in ids)
    for rule in rules:
        assert rule.rationale and isinstance(rule.category, Category)
        assert rule.tags or rule.roles or rule.tokens or rule.substrings or rule.attrs
    assert {"html.consent_layer", "html.paywall", "html.ad_slot", "html.newsletter_box",
            "html.social_share", "html.navigation", "html.invisible"} <= set(ids)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[x]\ncategory = 'ad'\ntags = ['div']\n", "rationale"),
        ("[x]\nrationale = 'r'\ncategory = 'nope'\ntags = ['div']\n", "category"),
        ("[x]\nrationale = 'r'\ncategory = 'ad'\n", "matches nothing"),
        ("[x]\nrationale = 'r'\ncategory = 'ad'\ntags = ['div']\ncolour = 'red'\n", "unknown keys"),
        ("[Bad-Name]\nrationale = 'r'\ncategory = 'ad'\ntags = ['div']\n", "snake_case"),
        ("[x]\nrationale = 'r'\ncategory = 'ad'\ntags = ['a']\nmin_link_density = 2\n", "min_link_density"),
        ("[x]\nrationale = 'r'\ncategory = 'ad'\ntags = ['a']\nmax_chars = 0\n", "max_chars"),
    ],
)
def test_bad_rule_files_are_refused(text: str, message: str) -> None:
    with pytest.raises(DomRuleError, match=message):
        parse_dom_rules(text)


def test_tokens_match_whole_class_tokens_only() -> None:
    from trafilatura.utils import load_html

    rules = parse_dom_rules("[ad]\nrationale = 'r'\ncategory = 'ad'\ntokens = ['ad']\n")
    tree = load_html(
        "<html><body><div class='header shadow'><p>Kopf</p></div><div class='ad-slot'>Anzeige</div>"
        "<div id='AD'>x</div><p>Ein Absatz mit Text, der bleiben soll, weil er kein Werbeplatz ist.</p></body></html>"
    )
    removed = preclean(tree, rules)
    assert [(r.rule, r.text) for r in removed] == [("html.ad", "Anzeige"), ("html.ad", "x")]
    assert "Kopf" in visible_text_of(tree)


def visible_text_of(tree: object) -> str:
    from lxml import etree  # type: ignore[import-untyped]

    return visible_text(etree.tostring(tree, encoding="unicode"))


def test_element_holding_the_article_is_never_removed() -> None:
    paras = "".join(f"<p>Absatz {i}: Die Stadt baut eine neue Brücke über den Fluss, sagt die Verwaltung.</p>"
                    for i in range(8))
    html = f"<html><body><div class='paywall'>{paras}</div><div class='paywall'>Jetzt abonnieren!</div></body></html>"
    page = extract(html)
    assert [r.text for r in page.removed if r.rule == "html.paywall"] == ["Jetzt abonnieren!"]
    assert "Absatz 7" in " ".join(b.text for b in page.blocks)


def test_small_furniture_rules_spare_article_sections_that_merely_host_it() -> None:
    # BEM modifier "--ads": a section of the article with ad slots in it, not an ad
    section = ("<section class='Report__Section Report__Section--Ads'><h2>Die Reinigung</h2><p>Das Gerät lässt "
               "sich einfach reinigen. Grillrost und Auffangblech sind spülmaschinenfest, die Heizstäbe wischt man "
               "mit einem feuchten Tuch ab. Nach dem Grillen sollte man das Fett sofort entfernen, bevor es "
               "einbrennt. Ein Nachteil: Das Blech verzieht sich bei großer Hitze leicht, und die Krümelschublade "
               "klemmt, sobald sich darin Fett gesammelt hat.</p>"
               "<div class='ad-slot'>Anzeige</div></section>")
    page = extract(f"<html><body><article><h1>Test</h1></article>{section}</body></html>")
    assert [(r.rule, r.text) for r in page.removed] == [("html.ad_slot", "Anzeige")]
    assert "Nachteil" in " ".join(b.text for b in page.blocks)


def test_link_density_decides_for_footer_and_aside() -> None:
    prose = "Der Autor lebt in Köln und schreibt seit zwanzig Jahren über Verkehrspolitik und Stadtplanung."
    body = "".join(f"<p>Satz {i} des Artikels, der lang genug ist, um ein echter Absatz zu sein.</p>" for i in range(6))
    html = (f"<html><body><article>{body}<footer><p>{prose}</p></footer></article>"
            "<footer><a href='/i'>Impressum</a> <a href='/d'>Datenschutz</a></footer></body></html>")
    removed = extract(html).removed
    assert [r.text for r in removed if r.rule == "html.link_list_footer"] == ["Impressum Datenschutz"]


# -- whole pages ------------------------------------------------------------------------------------


def test_german_news_page() -> None:
    art = clean_html(fixture("de_news.html"))
    assert art.extraction == "html:trafilatura"
    assert art.title == "Neue Radbrücke über den Fluss: Stadt beschließt Bau bis 2027"
    assert art.language == "de"
    for start in BODY_DE:
        assert start in art.text
    assert art.lead is not None and art.lead.startswith(BODY_DE[0])
    assert (BlockKind.HEADING, "Kritik an den Kosten") in [(b.kind, b.text) for b in art.blocks]
    for junk in ("Cookies", "abonnieren", "Newsletter", "Impressum", "Lesen Sie auch", "Foto:", "Anzeige",
                 "Teilen", "Hallenbad", "Startseite", "Politik", "window.__paywall"):
        assert junk not in art.text, junk
    rules = rules_of(art.removed)
    assert "Wir und unsere Partner verwenden Cookies" in rules["html.consent_layer"][0]
    assert "Jetzt Rheinkurier Plus abonnieren" in rules["html.paywall"][0]
    assert "Wochenmarkt zieht an den Hafen" in rules["html.link_list_aside"][0]
    assert "Foto: Stadt Rheinstadt" in rules["html.figure_caption"][0]
    assert rules["html.figure_caption"][0].startswith("So soll die neue Brücke")
    assert "html.newsletter_box" in rules and "html.social_share" in rules and "html.ad_slot" in rules
    assert rules["html.navigation"] == ["Politik\nWirtschaft\nLokales\nSport\nKultur"]
    # the teaser inside the body survives trafilatura; the text rules remove it, with a reason
    assert any(r.rule.startswith("teaser.") and r.text.startswith("Lesen Sie auch") for r in art.removed)
    # DOM removals come first, each with a category and a description of the element
    by_rule = {r.rule: r for r in art.removed}
    assert by_rule["html.consent_layer"].category is Category.CONSENT
    assert by_rule["html.paywall"].category is Category.PROMO
    assert "cmp-container" in by_rule["html.consent_layer"].detail
    assert art.removed[0].rule.startswith("html.")
    assert dict(art.metadata) == {
        "published": "2024-03-14",
        "author": "Julia Brenner",
        "site": "Rheinkurier",
        "url": "https://www.rheinkurier.example/lokales/radbruecke-beschluss-123.html",
        "description": "Der Stadtrat hat den Bau einer Fuß- und Radbrücke beschlossen. "
                       "Die Kosten liegen bei 18 Millionen Euro.",
    }


def test_english_news_page() -> None:
    art = clean_html(fixture("en_news.html"))
    assert art.extraction == "html:trafilatura" and art.language == "en"
    assert art.title == "City council approves new library branch"
    kinds = [(b.kind, b.text) for b in art.blocks]
    assert (BlockKind.QUOTE, "Libraries are the last free indoor public spaces we have, and every district "
                             "deserves one.") in kinds
    assert (BlockKind.LIST, "The branch is expected to open in late 2026.") in kinds
    assert (BlockKind.HEADING, "What happens next") in kinds
    for junk in ("cookies", "Share on", "Advertisement", "Most read", "Privacy policy", "createElement"):
        assert junk not in art.text, junk
    rules = rules_of(art.removed)
    for rid in ("html.consent_layer", "html.navigation", "html.social_share", "html.ad_slot",
                "html.link_list_aside", "html.link_list_footer", "html.invisible"):
        assert rid in rules, rid
    assert art.metadata["site"] == "The Harbor Gazette"
    assert art.metadata["url"] == "https://harborgazette.example/news/library-branch"
    assert art.metadata["published"] == "2023-11-02"


def test_record_with_metadata_is_schema_valid() -> None:
    from cleaners.record import Source

    art = clean_html(fixture("de_news.html"))
    record = article_record(art, [Source("de_news.html", "0" * 64, "utf-8", "html")])
    jsonschema.validate(record, load_schema())
    assert record["metadata"]["site"] == "Rheinkurier"
    assert record["removed"][0]["rule"].startswith("html.")
    json.dumps(record)


def test_title_from_metadata_when_the_text_has_none() -> None:
    paras = "".join(f"<p>Absatz {i}: Die Stadt baut eine neue Brücke über den Fluss, sagt die Verwaltung "
                    "am Mittwoch in einer Mitteilung.</p>" for i in range(5))
    html = (f"<html><head><title>Stadt baut neue Brücke</title><meta property='og:title' "
            f"content='Stadt baut neue Brücke'></head><body><article>{paras}</article></body></html>")
    art = clean_html(html)
    assert art.title == "Stadt baut neue Brücke"
    assert "Absatz 0" in art.text and "Stadt baut neue Brücke" not in art.text


# -- broken, empty, huge ----------------------------------------------------------------------------


def test_truncated_page_keeps_what_arrived() -> None:
    html = fixture("de_news.html")
    cut = html[: html.index("Kritik an den Kosten") + 5]
    art = clean_html(cut)
    assert BODY_DE[0] in art.text and BODY_DE[2] in art.text
    assert "Wir und unsere Partner verwenden Cookies" not in art.text


@pytest.mark.parametrize(
    "html",
    [
        "", " ", "<", "<html", "<<<>>>", "</div></div>", "<!DOCTYPE html>", "<p>nur ein Satz",
        "<html><body><p>unclosed <b>bold <i>italic</p></div></span></body>",
        "<?xml version='1.0' encoding='utf-8'?><html><body><p>xml declaration</p></body></html>",
        "<html><body>\x00\x01\x02 Steuerzeichen \ufffd im Text</body></html>",
        "<table><tr><td>Zelle<td>ohne<tr>Ende",
        "<script>alert(1)</script>",
    ],
)
def test_malformed_html_never_raises(html: str) -> None:
    art = clean_html(html)
    assert art.extraction.startswith("html:")
    assert art.is_empty == (art.empty_reason is not None)


def test_page_without_article_is_empty_with_reason_and_accounted() -> None:
    html = ("<html><body><nav><a href='/'>Startseite</a> <a href='/p'>Politik</a></nav>"
            "<div class='cookie-banner'>Wir verwenden Cookies.</div><script>var x = 1;</script>"
            "<footer><a href='/i'>Impressum</a></footer></body></html>")
    art = clean_html(html)
    assert art.is_empty and art.empty_reason
    assert art.extraction == "html:visible_text"
    assert {"html.navigation", "html.consent_layer", "html.invisible", "html.link_list_footer"} <= set(
        rules_of(art.removed))


def test_fallback_to_visible_text_when_trafilatura_finds_nothing() -> None:
    # A one-sentence brief: less than trafilatura's output needs to count as a found article.
    html = ("<html><body><div>Feuerwehr löscht Brand in der Altstadt.</div>"
            "<div class='social-share'>Teilen</div></body></html>")
    assert extract(html).blocks == ()
    art = clean_html(html)
    assert art.extraction == "html:visible_text"
    assert art.text == "Feuerwehr löscht Brand in der Altstadt."
    assert "Teilen" not in art.text and "html.social_share" in rules_of(art.removed)


def test_huge_page_is_handled_in_reasonable_time() -> None:
    para = "<p>Ein Absatz mit einigen Wörtern, der sich oft wiederholt und trotzdem Text ist, Nummer {i}.</p>"
    menu = "".join(f"<li><a href='/{i}'>Rubrik {i}</a></li>" for i in range(500))
    html = ("<html><body><nav><ul>" + menu + "</ul></nav><article>"
            + "".join(para.format(i=i) for i in range(8000)) + "</article></body></html>")
    assert len(html) > 700_000
    start = time.perf_counter()
    art = clean_html(html)
    assert time.perf_counter() - start < 60
    assert "Nummer 7999" in art.text and "Rubrik 499" not in art.text
    assert len(rules_of(art.removed)["html.navigation"][0]) <= 1000  # removed text is capped


def test_deeply_nested_page_does_not_hit_the_recursion_limit() -> None:
    html = "<html><body>" + "<div>" * 5000 + "<p>Tief verschachtelter Text in einem kaputten Dokument.</p>" + "</body>"
    art = clean_html(html)
    assert art.extraction.startswith("html:")


# -- non-UTF-8 pages, end to end --------------------------------------------------------------------

# charset declared, codec recorded (ISO-8859-1 is decoded as its superset windows-1252, as browsers do)
NON_UTF8 = [
    ("windows-1252", "cp1252", "Die Brücke über den Fluss kostet 18 Millionen €, sagte die Bürgermeisterin „gestern“."),
    ("iso-8859-1", "cp1252", "Le conseil municipal a approuvé la construction d'une passerelle piétonne au port."),
    ("koi8-r", "koi8-r", "Городской совет одобрил строительство нового моста через реку в центре города."),
    ("shift_jis", "shift_jis", "市議会は川に架かる新しい歩道橋の建設を承認した。工事は来年春に始まる予定です。"),
]


@pytest.mark.parametrize(("charset", "codec", "sentence"), NON_UTF8)
def test_non_utf8_page_declared_by_meta_charset_end_to_end(
    tmp_path: Path, charset: str, codec: str, sentence: str
) -> None:
    paras = "".join(f"<p>{sentence} ({i})</p>" for i in range(6))
    html = (f"<!DOCTYPE html><html><head><meta charset=\"{charset}\"><title>T</title></head><body>"
            f"<div class='cookie-consent'>Cookies</div><article>{paras}</article></body></html>")
    inp = tmp_path / "in"
    inp.mkdir()
    (inp / "page.html").write_bytes(html.encode(charset))
    report = run_ingest([str(inp)], str(tmp_path / "out"))
    [entry] = report["inputs"]
    assert entry["status"] == "ingested" and entry["format"] == "html"
    record = json.loads((tmp_path / "out" / "articles" / f"{entry['article_id']}.json").read_text(encoding="utf-8"))
    assert sentence in record["text"]
    assert record["extraction"] == "html:trafilatura"
    assert record["removed"][0]["rule"] == "html.consent_layer"
    assert record["sources"][0]["encoding"] == codec
    jsonschema.validate(record, load_schema())
