"""Acceptance cases: the five real seed pages, exactly.

For each seed: the title, the lines removed (with the rule family that must remove them), and
that every other non-empty line of the input is kept, in order.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cleaners import Article, BlockKind, clean_text

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def _seed(prefix: str) -> tuple[str, Article]:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    text = path.read_text(encoding="utf-8")
    return text, clean_text(text)


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.split("\n") if line.strip()]


def _strip_bullet(line: str) -> str:
    return line[2:] if line.startswith("- ") else line


def _check(text: str, art: Article, removed: list[tuple[str, str]], title: str | None) -> None:
    """``removed``: (line prefix, rule prefix) in document order; all other lines kept."""
    got_removed = [(r.text, r.rule) for r in art.removed]
    assert len(got_removed) == len(removed), "\n".join(f"{r} | {t[:60]}" for t, r in got_removed)
    for (gtext, grule), (etext, erule) in zip(got_removed, removed, strict=True):
        assert gtext.startswith(etext), (gtext, etext)
        assert grule.startswith(erule), (gtext, grule, erule)
    # removals are reported in document order: walk the input consuming them in sequence
    pending = [t for t, _ in got_removed]
    expected_kept = []
    for line in map(_strip_bullet, _lines(text)):
        if pending and line == pending[0]:
            pending.pop(0)
        else:
            expected_kept.append(line)
    assert not pending, pending
    got_kept = ([art.title] if art.title else []) + [b.text for b in art.blocks]
    assert got_kept == expected_kept
    assert art.title == title
    assert art.language == "de"
    assert art.language_confidence > 0.9


def test_seed_000_breadcrumb_caption_teasers_repeated_lead_ad() -> None:
    text, art = _seed("000")
    _check(
        text,
        art,
        [
            ("Startseite Nachrichten", "navigation.breadcrumb"),
            ("Donald Trump, Vladimir Putin", "caption."),
            ("Shutterstock.com", "caption."),
            ("Gerade lesen andere", "teaser."),
            ("Den Quellen zufolge", "dedupe.repeated_lead"),
            ("Lesen Sie auch", "teaser."),
            ("Lesen Sie auch", "teaser."),
            ("Ads by MGDK", "ad."),
        ],
        title="Kreml-Insider: Putin bewegt sich auf dünnem Eis – ein Nachgeben gegenüber Trumps "
        "Ultimatum gilt jedoch als unwahrscheinlich",
    )
    assert art.lead is not None and art.lead.startswith("Den Quellen zufolge")
    headings = [b.text for b in art.blocks if b.kind is BlockKind.HEADING]
    assert "Was geschieht derzeit?" in headings
    assert "Vier Regionen weiterhin im Fadenkreuz" in headings
    assert "Sanktionen treffen – doch Kriegsmaschinerie läuft weiter" in headings
    # the quoted line is kept, as a quote
    assert any(b.kind is BlockKind.QUOTE and b.text.startswith("„Es gibt") for b in art.blocks)
    # the text starts with the lead, title excluded, blocks separated by one blank line
    assert art.text.startswith("Den Quellen zufolge")
    assert "\n\nWas geschieht derzeit?\n\n" in art.text


def test_seed_001_no_title_teaser_more_news_disclaimer_as_note() -> None:
    text, art = _seed("001")
    _check(
        text,
        art,
        [
            ("++ Auch interessant:", "teaser."),
            ("Mehr News:", "teaser."),
            ("Dieser Artikel wurde teils mit maschineller Unterstützung", "disclaimer."),
        ],
        title=None,
    )
    assert art.lead is not None and art.lead.startswith("Wladimir Putin treibt")
    notes = {n.key: n.value for n in art.notes}
    assert "machine_assisted" in notes
    assert "maschineller Unterstützung" not in art.text


def test_seed_002_skip_links_captions_consent_pull_quote_paywall() -> None:
    text, art = _seed("002")
    _check(
        text,
        art,
        [
            ("zum Hauptinhalt", "navigation."),
            ("Trump rühmt sich", "caption."),
            ("© AFP/Brendan Smialowski", "caption."),
            ("Stand:", "metadata."),
            ("Empfohlener redaktioneller Inhalt", "consent.embed_notice"),
            ("An dieser Stelle finden Sie", "consent."),
            ("Ich bin damit einverstanden", "consent."),
            ("Der Sondergesandte des russischen Präsidenten", "caption."),
            ("© Imago/Zuma Press Wire/Mehmet Eser", "caption."),
            ("Wir sehen eine positive Dynamik", "pull_quote."),
            ("Kirill Dmitrijew, der Sondergesandte", "pull_quote."),
            ("Zur Startseite", "navigation."),
            ("showPaywall:", "script."),
            ("false", "script."),
            ("isSubscriber:", "script."),
            ("false", "script."),
            ("isPaid:", "script."),
            ("console.debug(", "script."),
        ],
        title="Erst nach vollständigem Waffenstillstand: Berater warnen Trump offenbar vor Gespräch mit Putin",
    )
    # the body paragraph that contains the quoted sentence stays
    assert "„Wir sehen eine positive Dynamik in unseren Beziehungen“, sagte Dmitrijew" in art.text
    assert art.lead is not None and art.lead.startswith("Der US-Präsident hat wegen der Ukraine")


def test_seed_003_tags_and_promo_tail() -> None:
    text, art = _seed("003")
    tail = _lines(text)[_lines(text).index("DER DIGITALE EURO KOMMT!") :]
    _check(
        text,
        art,
        [("Themen:", "tags."), ("#Wahlen", "tags.")] + [(_strip_bullet(line), "promo.") for line in tail],
        title="Trumps Geheimverhandlungen mit Moskau scheitern kläglich – Putin triumphiert über Geländegewinne",
    )
    assert art.text.endswith("unbeeindruckt von westlichen Ultimaten oder Trumps Dealmaker-Gehabe.")


def test_seed_004_clean_article_untouched_similar_paragraphs_both_stay() -> None:
    text, art = _seed("004")
    _check(text, art, [], title="Trump-Putin-Gespräch: Der erste Schritt und die Dilemmata des Kremls")
    assert art.text.count("Der Kreml ist") == 2


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_seed_ids_are_stable_and_distinct(prefix: str) -> None:
    _, a = _seed(prefix)
    _, b = _seed(prefix)
    assert a.id == b.id and len(a.id) == 20
    others = {_seed(p)[1].id for p in ["000", "001", "002", "003", "004"] if p != prefix}
    assert a.id not in others
