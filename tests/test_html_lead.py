"""The HTML path keeps the article's lead: a marked standfirst between the headline and the body that
trafilatura leaves out (it takes the body container, and prunes "teaser" classes), and a heading
whose class names a type-scale style ("caption-s5") is not filed as a picture caption.

Every page here is written for the test."""

from __future__ import annotations

import pytest

from cleaners import BlockKind, clean_html
from cleaners.htmlpath import DomRuleError, extract, parse_dom_rules, preclean

HEADLINE = "Neue Fähre verbindet die beiden Ufer ab dem Sommer"
LEAD = ("Nach drei Jahren Planung hat der Kreistag den Auftrag vergeben. Die Fähre soll im Juni den "
        "Betrieb aufnehmen und im Takt von zwanzig Minuten fahren.")
BODY = [
    "Der Auftrag ging an eine Werft aus Norddeutschland, die bereits zwei ähnliche Schiffe für andere "
    "Landkreise gebaut hat. Die Kosten liegen bei knapp vier Millionen Euro, zwei Drittel trägt das Land.",
    "Landrätin Petra Albers sprach von einem wichtigen Tag für die Region. Pendler sparten künftig bis "
    "zu vierzig Minuten am Tag, weil der Umweg über die Autobahnbrücke entfalle.",
    "Kritik kam von den Anwohnern am Westufer, die mehr Verkehr in ihrem Ortsteil befürchten. Der Kreis "
    "will deshalb einen Parkplatz am Ortsrand bauen und eine Buslinie zum Anleger einrichten.",
    "Die Fähre bietet Platz für vierzig Autos und zweihundert Fahrgäste. Fahrräder werden kostenlos "
    "mitgenommen, eine Einzelfahrt mit dem Auto soll vier Euro kosten.",
]


def page(between: str, *, headline: str = f"<h1>{HEADLINE}</h1>") -> str:
    body = "".join(f"<p>{p}</p>" for p in BODY)
    return (
        "<html><head><title>Fähre | Kreiszeitung</title></head><body>"
        "<nav><a href='/'>Start</a> <a href='/region'>Region</a> <a href='/sport'>Sport</a></nav>"
        f"<main><div class='news-single'>{headline}{between}"
        f"<div class='article-body'>{body}</div></div></main></body></html>"
    )


def test_marked_lead_between_headline_and_body_is_kept_as_the_lead() -> None:
    html = page(f"<div class='teaser-text'><p>{LEAD}</p></div>")
    art = clean_html(html)
    assert art.title == HEADLINE
    assert art.lead == LEAD
    assert art.text.startswith(LEAD + "\n\n" + BODY[0])
    assert art.blocks[0].kind is BlockKind.PARAGRAPH


@pytest.mark.parametrize("marker", ["article__lead", "intro", "post-excerpt", "c-entry-dek", "chapo"])
def test_lead_markers_on_the_element_or_its_parent(marker: str) -> None:
    on_element = clean_html(page(f"<p class='{marker}'>{LEAD}</p>"))
    on_parent = clean_html(page(f"<div class='{marker}'><p><span>{LEAD}</span></p></div>"))
    assert on_element.lead == LEAD
    assert on_parent.lead == LEAD


def test_lead_after_a_headline_trafilatura_kept() -> None:
    # headline and lead inside the body container: trafilatura keeps the headline as the first
    # block and prunes the lead for its "teaser" class; the lead goes back after the headline
    body = "".join(f"<p>{p}</p>" for p in BODY)
    html = (f"<html><body><main><div class='article-body'><h1>{HEADLINE}</h1>"
            f"<div class='teaser-text'><p>{LEAD}</p></div>{body}</div></main></body></html>")
    assert [b.text for b in extract(html).blocks][:3] == [HEADLINE, LEAD, BODY[0]]
    art = clean_html(html)
    assert art.title == HEADLINE
    assert art.lead == LEAD


def test_headline_is_the_last_h1_before_the_body() -> None:
    logo = "<header><h1><a href='/'>Kreiszeitung</a></h1></header>"
    html = page(f"<div class='teaser-text'><p>{LEAD}</p></div>").replace("<body>", f"<body>{logo}", 1)
    assert clean_html(html).lead == LEAD


def test_unmarked_prose_between_headline_and_body_is_not_taken() -> None:
    bio = "Petra Schulz schreibt seit 2009 für die Kreiszeitung über Verkehr, Umwelt und den Kreistag."
    art = clean_html(page(f"<div class='author-box'><p>{bio}</p></div>"))
    assert bio not in art.text
    assert art.lead == BODY[0]


def test_teaser_links_and_truncated_excerpts_are_not_leads() -> None:
    links = ("<div class='teaser'><p><a href='/a'>Brücke bleibt bis Herbst gesperrt: Der Kreis prüft nun die "
             "Statik aller Brücken im Landkreis.</a></p></div>")
    excerpt = "<p class='excerpt'>Nach drei Jahren Planung hat der Kreistag den Auftrag vergeben, die Fähre ...</p>"
    for between in (links, excerpt):
        assert clean_html(page(between)).lead == BODY[0]


def test_a_list_of_marked_stories_is_not_a_lead() -> None:
    stories = "".join(
        f"<div class='teaser'><p>Meldung {i}: Der Kreistag hat am Mittwoch über den Haushalt beraten.</p></div>"
        for i in range(3)
    )
    art = clean_html(page(stories))
    assert "Meldung" not in art.text
    assert art.lead == BODY[0]


def test_no_lead_without_a_headline() -> None:
    art = clean_html(page(f"<div class='teaser-text'><p>{LEAD}</p></div>", headline=""))
    assert LEAD not in art.text


# -- spare_tags: a caption class on a heading ---------------------------------------------------------


def test_heading_with_a_caption_style_class_is_not_a_caption() -> None:
    import lxml.html  # type: ignore[import-untyped]

    subline = ("Nach drei Jahren Planung hat der Kreistag den Auftrag vergeben; die Fähre soll im Juni den "
               "Betrieb aufnehmen.")
    html = (f"<html><body><h1>{HEADLINE}</h1><h2 class='hero__teaser caption-s5 text-16'>{subline}</h2>"
            "<figure><img src='f.jpg'><figcaption class='caption-s5'>Die neue Fähre am Anleger.</figcaption>"
            "</figure><p class='caption'>Foto: Kreis</p></body></html>")
    tree = lxml.html.document_fromstring(html)
    removed = preclean(tree)
    assert [r.text for r in removed if r.rule == "html.figure_caption"] == ["Die neue Fähre am Anleger.",
                                                                            "Foto: Kreis"]
    assert subline in tree.text_content()


def test_spare_tags_must_be_a_list_of_names() -> None:
    base = "[r]\nrationale = 'x'\ncategory = 'caption'\ntokens = ['caption']\n"
    assert parse_dom_rules(base + "spare_tags = ['H2']\n")[0].spare_tags == frozenset({"h2"})
    with pytest.raises(DomRuleError, match="spare_tags"):
        parse_dom_rules(base + "spare_tags = 'h2'\n")
