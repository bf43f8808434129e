"""Template detection across the pages of a site: the detector, the site key, the SQLite history,
and the runner integration (cross-run, idempotent re-runs, crash safety, --no-templates)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import load_json, snapshot

import flows.templates as templates_mod
from cleaners import clean_text
from cleaners.model import Category
from cleaners.template import (
    RULE,
    SiteStats,
    TemplateSettings,
    line_hash,
    page_line_hashes,
    template_detector,
)
from flows.runner import BatchResult, process_batch, run_ingest
from flows.sources import Batch
from flows.templates import DB_NAME, STATE_DIR, PageLines, TemplateBatch, TemplateStore, page_key, site_key

# --------------------------------------------------------------------------- two fake sites

DE_SITE = "nordhessen"  # a folder of text dumps: the site is the folder
DE_HEAD = [
    "Nordhessen Bote",
    "Nachrichten aus Kassel und der Region seit 1952",
    "Startseite",
    "Lokales",
    "Politik",
    "Sport",
    "Kultur",
]
DE_FOOT = [
    "Unsere Redaktion erreichen Sie werktags von 8 bis 18 Uhr unter der Nummer 0561 987654.",
    "Nordhessen Bote – ein Angebot der Fuldatal Medien GmbH",
    "Leserbriefe bitte an leserpost@nordhessen-bote.example",
]
DE_STORIES = [
    ("Stadtbibliothek verlängert ihre Öffnungszeiten", [
        "Die Stadtbibliothek in Kassel öffnet ab dem kommenden Monat auch an Samstagnachmittagen. "
        "Das hat der Kulturausschuss am Dienstag mit großer Mehrheit beschlossen.",
        "Nach Angaben der Leiterin Ute Brenner fragen vor allem Familien und Studierende seit Jahren "
        "nach längeren Zeiten am Wochenende. Zwei zusätzliche Stellen sollen das möglich machen.",
        "Die Kosten von rund 90.000 Euro im Jahr trägt zunächst die Stadt. Ein Förderantrag beim Land "
        "ist gestellt, über ihn wird im Herbst entschieden.",
    ]),
    ("Neuer Radweg entlang der Fulda freigegeben", [
        "Radfahrer können seit Freitag auf einem neuen, vier Kilometer langen Weg zwischen der "
        "Innenstadt und Wolfsanger fahren. Der Bau hatte sich wegen Hochwassers um ein Jahr verzögert.",
        "Der Weg ist durchgehend beleuchtet und drei Meter breit. Fußgänger haben eine eigene Spur, "
        "was auf der alten Strecke immer wieder zu Streit geführt hatte.",
        "Der Allgemeine Deutsche Fahrrad-Club lobte das Projekt, forderte aber sichere Übergänge an "
        "den beiden großen Kreuzungen im Norden.",
    ]),
    ("Handballer gewinnen das Derby knapp", [
        "Vor ausverkauftem Haus haben die Handballer aus Kassel das Derby gegen Baunatal mit 27:26 "
        "gewonnen. Den entscheidenden Treffer erzielte Jonas Albrecht zwei Sekunden vor Schluss.",
        "Lange sah es nach einer Niederlage aus, denn zur Pause lagen die Gastgeber mit fünf Toren "
        "zurück. Erst eine Umstellung in der Abwehr brachte die Wende.",
        "Mit dem Sieg rückt die Mannschaft auf den dritten Tabellenplatz vor. Am Sonntag geht es zum "
        "Spitzenreiter nach Göttingen.",
    ]),
    ("Ausstellungshalle wird für zwölf Millionen Euro saniert", [
        "Die große Ausstellungshalle am Friedrichsplatz wird ab Januar für zwei Jahre geschlossen. "
        "Dach, Heizung und Brandschutz entsprechen nicht mehr den Vorschriften.",
        "Bund und Land übernehmen zusammen zwei Drittel der Kosten. Den Rest muss die Stadt aufbringen, "
        "die dafür andere Vorhaben verschieben will.",
        "Veranstalter, die die Halle bereits gebucht hatten, sollen Ersatzorte in der Innenstadt "
        "angeboten bekommen, versprach der Kulturdezernent.",
    ]),
    ("Bäckerei Hofmann feiert hundertjähriges Bestehen", [
        "Seit hundert Jahren backt die Familie Hofmann in der Unterneustadt Brot und Brötchen. Am "
        "Wochenende feiert der Betrieb mit einem Fest für die Nachbarschaft.",
        "Inzwischen führt die vierte Generation die Backstube. Die Rezepte für das Roggenbrot stammen "
        "noch vom Gründer und wurden nie verändert, sagt Inhaberin Carla Hofmann.",
        "Wie viele Handwerksbetriebe sucht auch die Bäckerei dringend Auszubildende. Im vergangenen "
        "Jahr blieben beide Lehrstellen unbesetzt.",
    ]),
]

EN_HOST = "riverside-courier.example"  # JSONL records with URLs: the site is the host
EN_HEAD = [
    "The Riverside Courier",
    "Serving the valley since 1921",
    "News",
    "Local",
    "Business",
    "Sports",
    "Opinion",
]
EN_FOOT = [
    "Got a news tip? Call our newsroom at 555-0142 or write to the tips desk any time of day.",
    "The Riverside Courier is published by Valley Press Inc.",
    "Delivery questions: 555-0100",
]
EN_STORIES = [
    ("City council approves next year's budget", [
        "The city council voted 6-1 on Tuesday to approve a budget of 48 million dollars for next year, "
        "ending weeks of debate over road repairs and library hours.",
        "The largest increase goes to street maintenance, which grows by a fifth after a winter that "
        "left hundreds of potholes across the east side.",
        "Councilwoman Maria Ortega cast the only vote against the plan, arguing that it relies too "
        "heavily on one-time money from the state.",
    ]),
    ("Old Mill Bridge to close for repairs in June", [
        "The Old Mill Bridge will close to traffic for about ten weeks starting in June while crews "
        "replace its deck and repaint the steel frame.",
        "Drivers will be sent along Route 9, which adds roughly fifteen minutes to the trip between "
        "downtown and the north shore during rush hour.",
        "Engineers found corrosion on several beams during an inspection last fall and recommended "
        "the work be done before the end of the year.",
    ]),
    ("High school robotics team heads to nationals", [
        "A team of eleven students from Riverside High qualified for the national robotics finals "
        "after winning the regional contest on Saturday.",
        "Their robot, built mostly from recycled parts, scored the highest marks for design and "
        "reliability among thirty teams from four states.",
        "The students now need to raise about nine thousand dollars for travel, and a local hardware "
        "store has already promised to match the first two thousand.",
    ]),
    ("Farmers market moves to a bigger square", [
        "The weekly farmers market will move from the library parking lot to Union Square next month, "
        "giving room for twice as many stands.",
        "Organizers said the waiting list of vendors had grown to more than forty, many of them young "
        "growers from the hills west of town.",
        "The market will also stay open an hour longer on Saturdays, closing at two in the afternoon "
        "instead of one.",
    ]),
    ("Museum receives collection of river photographs", [
        "The county museum has been given more than three thousand photographs of river life taken "
        "between 1890 and 1960 by the Hale family.",
        "The pictures show ferries, floods, fishing camps and the building of the dam, and many of them "
        "have never been shown in public.",
        "Curators plan a first exhibition for the spring and hope residents will help identify the "
        "people and places in the images.",
    ]),
]


def page(head: list[str], title: str, body: list[str], foot: list[str]) -> str:
    return "\n\n".join([*head, title, *body, *foot]) + "\n"


def de_pages() -> list[str]:
    return [page(DE_HEAD, t, b, DE_FOOT) for t, b in DE_STORIES]


def en_pages() -> list[str]:
    return [page(EN_HEAD, t, b, EN_FOOT) for t, b in EN_STORIES]


def en_url(i: int) -> str:
    return f"https://www.riverside-courier.example/news/story-{i}"


def write_sites(root: Path, de: range = range(5), en: range = range(5)) -> None:
    folder = root / DE_SITE
    folder.mkdir(parents=True, exist_ok=True)
    for i in de:
        (folder / f"seite-{i}.txt").write_text(de_pages()[i], encoding="utf-8")
    if en:
        lines = [json.dumps({"url": en_url(i), "text": en_pages()[i]}, ensure_ascii=False) for i in en]
        (root / f"courier-{en.start}-{en.stop}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def articles_by_uri(report: dict[str, Any], out: Path) -> dict[str, dict[str, Any]]:
    return {
        e["uri"]: load_json(out / "articles" / f"{e['article_id']}.json")
        for e in report["inputs"]
        if e.get("article_id")
    }


def template_removals(record: dict[str, Any]) -> dict[str, str]:
    return {r["text"]: r["detail"] for r in record["removed"] if r["rule"] == RULE}


def taken_with_template(rules: dict[str, str]) -> set[str]:
    """Of a page cleaned with the template detector (``rules``: removed text -> rule id), the lines
    the template detector took, or the finder, which runs after it and reads the page it thinned
    (with the menu gone, a site's tagline above the headline is head chrome to it)."""
    return {text for text, rule in rules.items() if rule == RULE or rule.startswith("content.")}


def survivors(pages: list[str], lines: list[str]) -> set[str]:
    """Chrome lines the built-in detectors leave on at least one page (what templates are for)."""
    kept: set[str] = set()
    for text in pages:
        article = clean_text(text)
        kept |= {line for line in lines if line in article.text.split("\n\n") or line == article.title}
    return kept


# --------------------------------------------------------------------------- pure parts


def test_line_hash_ignores_case_spacing_and_punctuation() -> None:
    assert line_hash("Startseite") == line_hash("  STARTSEITE! ") == line_hash("startseite")
    assert line_hash("Startseite") != line_hash("Start seite")
    assert line_hash("*** --- ***") is None
    h = line_hash("Nordhessen Bote")
    assert isinstance(h, int) and -(2**63) <= h < 2**63  # fits SQLite INTEGER
    assert page_line_hashes("A line\n\nA LINE.\n\nOther line\n") == {line_hash("a line"), line_hash("other line")}


def test_site_key_is_host_or_folder(tmp_path: Path) -> None:
    assert site_key("https://www.Example.COM:8443/a?b=1", "feed.jsonl") == "example.com"
    assert site_key("http://sport.example.com./x", "feed.jsonl") == "sport.example.com"
    assert site_key("HTTPS://www./x", "f.jsonl") == "www"  # never an empty host
    plain = tmp_path / "site-a" / "page.txt"
    assert site_key(str(plain), str(plain)) == f"folder:{tmp_path / 'site-a'}"
    # A JSONL record without a URL belongs to the folder of its file.
    assert site_key(f"{tmp_path}/x.jsonl#7", str(tmp_path / "x.jsonl")) == f"folder:{tmp_path}"
    assert page_key("ff" * 32) == -1 and page_key("00" * 32) == 0


def stats_of(pages: list[str], site: str) -> SiteStats:
    counts: dict[int, int] = {}
    for text in pages:
        for h in page_line_hashes(text):
            counts[h] = counts.get(h, 0) + 1
    return SiteStats(site, len(pages), counts)


def test_detector_removes_repeated_lines_and_keeps_the_body() -> None:
    pages = en_pages()
    stats = stats_of(pages, EN_HOST)
    assert survivors(pages, EN_HEAD + EN_FOOT), "the fixture should leave chrome for the template detector"
    for (title, body), text in zip(EN_STORIES, pages, strict=True):
        chrome = survivors([text], EN_HEAD + EN_FOOT)
        article = clean_text(text, extra_detectors=(template_detector(stats),))
        removed = {r.text: r for r in article.removed if r.rule == RULE}
        taken = taken_with_template({r.text: r.rule for r in article.removed})
        assert removed and chrome <= taken, chrome - taken
        assert all(r.category is Category.TEMPLATE for r in removed.values())
        assert {r.detail for r in removed.values()} <= {f"on 5 of 5 pages of {EN_HOST}"}
        for paragraph in body:
            assert paragraph in article.text
        assert article.title == title


def test_detector_counts_the_page_once() -> None:
    pages = en_pages()
    # The stats do not include the page being cleaned: 4 other pages, as many as with it included.
    others = stats_of(pages[1:], EN_HOST)
    article = clean_text(pages[0], extra_detectors=(template_detector(others, page_counted=False),))
    details = set(template_removals({"removed": [
        {"text": r.text, "rule": r.rule, "detail": r.detail} for r in article.removed]}).values())
    assert details == {f"on 5 of 5 pages of {EN_HOST}"}
    # Two pages in all are too few: a shared line could be two versions of one story.
    two = stats_of(pages[:2], EN_HOST)
    article = clean_text(pages[0], extra_detectors=(template_detector(two),))
    assert not [r for r in article.removed if r.rule == RULE]


WIRE = [
    "Washington (AP) — The Federal Reserve left its benchmark interest rate unchanged on Wednesday, "
    "saying inflation had eased but remained above the level it considers healthy for the economy.",
    "Officials signaled that they still expect to cut rates later this year if prices keep cooling, "
    "though several members warned that the job market remained unusually tight.",
]


def test_wire_story_republished_across_a_site_keeps_its_body() -> None:
    # The wire story runs on all five pages of the site: inside four local stories, and alone.
    pages = [page(EN_HEAD, t, [*b, *WIRE], EN_FOOT) for t, b in EN_STORIES[:4]]
    pages.append(page(EN_HEAD, "Fed holds rates steady", WIRE, EN_FOOT))
    stats = stats_of(pages, EN_HOST)
    article = clean_text(pages[4], extra_detectors=(template_detector(stats),))
    for paragraph in WIRE:
        assert paragraph in article.text
    assert not {r.text for r in article.removed if r.rule == RULE} & set(WIRE)
    # The repeated prose is all of this page's prose, so no repeated prose goes (the footer sentence
    # stays too: the guard errs on the side of text).
    assert "Got a news tip? Call our newsroom at 555-0142 or write to the tips desk any time of day." in article.text
    # On a page with a story of its own around it, the same repeated prose is a small part: it goes.
    # (The guard counts all repeated prose the finder kept, the footer's sentences too, so the
    # local story here is one paragraph longer than the site's other stories: its own prose must
    # clearly outweigh wire story + footer whatever the finder decides about the two footer lines.)
    title, body = EN_STORIES[0]
    extra = ("Residents can read the full budget at the public library, which will also host a "
             "question-and-answer evening with the finance committee next month.")
    local_page = page(EN_HEAD, title, [*body, extra, *WIRE], EN_FOOT)
    local = clean_text(local_page, extra_detectors=(template_detector(stats),))
    assert set(WIRE) <= {r.text for r in local.removed if r.rule == RULE}
    assert all(p in local.text for p in [*body, extra])


def test_prose_on_a_few_pages_stays_where_a_label_would_go() -> None:
    # Six pages; the wire story and a short label both run on three of them (2 of 5 others = 0.4).
    pages = [page(EN_HEAD, t, b, EN_FOOT) for t, b in EN_STORIES]
    pages.append(page(EN_HEAD, "Fed holds rates steady", ["Read the full report", *WIRE], EN_FOOT))
    for i in (0, 1):
        title, body = EN_STORIES[i]
        pages[i] = page(EN_HEAD, title, [*body, "Read the full report", *WIRE], EN_FOOT)
    stats = stats_of(pages, EN_HOST)
    article = clean_text(pages[0], extra_detectors=(template_detector(stats),))
    removed = {r.text for r in article.removed if r.rule == RULE}
    assert "Read the full report" in removed
    assert not removed & set(WIRE)
    assert all(p in article.text for p in WIRE)


def test_template_removals_never_empty_an_article() -> None:
    lines = ["Alpha Beta Gamma Delta story one", "Second line of the same thing here", "A third short line"]
    text = "\n\n".join(lines) + "\n"
    stats = SiteStats("x.example", 9, {h: 9 for h in page_line_hashes(text)})
    article = clean_text(text, extra_detectors=(template_detector(stats),))
    assert not [r for r in article.removed if r.rule == RULE]
    assert article.text and article.text == clean_text(text).text
    # With one line of its own, the page loses the repeated ones.
    own = text + "\nThis sentence is only on this one page of the site.\n"
    article = clean_text(own, extra_detectors=(template_detector(stats),))
    assert len([r for r in article.removed if r.rule == RULE]) == 3
    strict = TemplateSettings(min_share=1.0)
    assert template_detector(stats, strict)[0] == "template"


# --------------------------------------------------------------------------- runner and store


def test_two_sites_lose_their_template_lines_in_one_run(tmp_path: Path) -> None:
    write_sites(tmp_path / "in")
    out = tmp_path / "out"
    report = run_ingest([str(tmp_path / "in")], str(out))
    assert report["counts"]["ingested"] == 10
    records = articles_by_uri(report, out)
    de_site = f"folder:{tmp_path / 'in' / DE_SITE}"
    for pages, stories, lines, site in (
        (de_pages(), DE_STORIES, DE_HEAD + DE_FOOT, de_site),
        (en_pages(), EN_STORIES, EN_HEAD + EN_FOOT, EN_HOST),
    ):
        assert survivors(pages, lines)
        site_records = [r for uri, r in records.items() if (EN_HOST in uri) == (site == EN_HOST)]
        assert len(site_records) == 5
        for record in site_records:
            (i,) = [i for i, (title, _) in enumerate(stories) if title in (record["title"], record["text"])
                    or any(title == b["text"] for b in record["blocks"])]
            chrome = survivors([pages[i]], lines)
            removed = template_removals(record)
            taken = taken_with_template({r["text"]: r["rule"] for r in record["removed"]})
            assert removed and chrome <= taken, (site, chrome - taken)
            assert set(removed.values()) <= {f"on 5 of 5 pages of {site}"}
            assert not set(lines) & set(record["text"].split("\n\n"))
        bodies = {p for _, body in stories for p in body}
        texts = "\n\n".join(r["text"] for r in site_records)
        assert all(p in texts for p in bodies)
    summary = report["templates"]
    assert summary["enabled"] and summary["sites_with_stats"] == 2
    assert set(summary["lines_removed_by_site"]) == {de_site, EN_HOST}
    assert summary["lines_removed"] == report["removals_by_rule"][RULE] == sum(
        summary["lines_removed_by_site"].values())
    assert report["removals_by_category"]["template"] == summary["lines_removed"]
    assert TemplateStore(out).sites() == {de_site: 5, EN_HOST: 5}
    assert (out / STATE_DIR / DB_NAME).is_file()


def test_history_of_an_earlier_run_removes_the_lines(tmp_path: Path) -> None:
    write_sites(tmp_path / "in1", de=range(3), en=range(3))
    write_sites(tmp_path / "in2", de=range(0), en=range(3, 5))
    out = tmp_path / "out"
    run_ingest([str(tmp_path / "in1")], str(out))
    assert TemplateStore(out).sites()[EN_HOST] == 3

    # Alone, the two new pages are too few to tell their template from their article ...
    alone = run_ingest([str(tmp_path / "in2")], str(tmp_path / "fresh"))
    assert all(not template_removals(r) for r in articles_by_uri(alone, tmp_path / "fresh").values())
    # ... with the three pages of the first run in the history they are enough.
    second = run_ingest([str(tmp_path / "in2")], str(out))
    assert survivors(en_pages()[3:], EN_HEAD + EN_FOOT)
    for uri, record in articles_by_uri(second, out).items():
        chrome = survivors([en_pages()[int(uri.rsplit("-", 1)[1])]], EN_HEAD + EN_FOOT)
        removed = template_removals(record)
        assert removed and chrome <= taken_with_template({r["text"]: r["rule"] for r in record["removed"]})
        assert set(removed.values()) <= {f"on 5 of 5 pages of {EN_HOST}"}
        assert not set(EN_HEAD + EN_FOOT) & set(record["text"].split("\n\n"))
    assert second["templates"]["pages_added_to_history"] == 2
    assert TemplateStore(out).sites()[EN_HOST] == 5


def test_rerun_changes_nothing_and_counts_each_page_once(tmp_path: Path) -> None:
    write_sites(tmp_path / "in")
    out = tmp_path / "out"
    run_ingest([str(tmp_path / "in")], str(out))
    store = TemplateStore(out)
    sites = store.sites()
    before = snapshot(out)

    again = run_ingest([str(tmp_path / "in")], str(out))
    assert again["counts"]["unchanged"] == 10 and again["counts"]["articles_written"] == 0
    assert again["templates"]["pages_added_to_history"] == 0
    after = snapshot(out)
    del after[f"runs/{again['run_id']}.json"]
    assert after == before  # same article bytes, and the store file untouched (bytes and mtime)

    # The same bytes under another name in the same folder are the same page: not counted twice.
    shutil.copy(tmp_path / "in" / DE_SITE / "seite-0.txt", tmp_path / "in" / DE_SITE / "kopie.txt")
    third = run_ingest([str(tmp_path / "in")], str(out))
    assert store.sites() == sites
    assert third["counts"]["articles_written"] == 1  # the article gains a source, nothing else
    assert third["templates"]["pages_added_to_history"] == 0


def test_store_update_is_one_transaction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = TemplateStore(tmp_path)
    first = [PageLines("a.example", f"{i:016x}{0:048x}", frozenset({1, 2, 100 + i})) for i in range(3)]
    assert store.update(first) == {"a.example": 3}
    before = (store.sites(), store.line_counts({"a.example": [1, 2, 100, 101, 102, 103]}))

    calls = 0
    real = templates_mod._upsert_lines

    def failing(*args: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("crash in the middle of the update")
        real(*args)

    monkeypatch.setattr(templates_mod, "_upsert_lines", failing)
    more = [PageLines("a.example", f"{i:016x}{0:048x}", frozenset({1, 2, 100 + i})) for i in range(3, 5)]
    more.append(PageLines("b.example", f"{9:016x}{0:048x}", frozenset({1})))
    with pytest.raises(RuntimeError):
        store.update(more)
    assert calls == 2  # a.example was written, b.example failed: all of it rolled back
    assert (store.sites(), store.line_counts({"a.example": [1, 2, 100, 101, 102, 103]})) == before

    monkeypatch.setattr(templates_mod, "_upsert_lines", real)
    assert store.update(more) == {"a.example": 2, "b.example": 1}
    assert store.line_counts({"a.example": [1, 2, 103]}) == {"a.example": {1: 5, 2: 5, 103: 1}}
    assert store.update(more) == {}  # known pages: nothing to do


def test_store_keeps_the_frequent_lines_when_capped(tmp_path: Path) -> None:
    store = TemplateStore(tmp_path, max_lines_per_site=10)
    pages = [PageLines("a.example", f"{i:016x}{0:048x}", frozenset({1, 2, 3, *range(100 * i, 100 * i + 5)}))
             for i in range(1, 6)]
    store.update(pages[:3])
    store.update(pages[3:])
    assert store.line_rows("a.example") == 10
    counts = store.line_counts({"a.example": [1, 2, 3, *range(500, 505)]})["a.example"]
    assert counts[1] == counts[2] == counts[3] == 5
    assert set(range(500, 505)) <= set(counts)  # the newest page's lines are kept over older ones


def test_batches_carry_only_their_own_sites(tmp_path: Path) -> None:
    write_sites(tmp_path / "in")
    seen: list[TemplateBatch] = []

    def spy(batch: Batch) -> BatchResult:
        assert isinstance(batch, TemplateBatch)
        seen.append(batch)
        return process_batch(batch)

    small = run_ingest([str(tmp_path / "in")], str(tmp_path / "small"), batch_size=2, clean=spy)
    assert len(seen) == 5
    for batch in seen:
        result_sites = {EN_HOST if u.path.endswith(".jsonl") else f"folder:{tmp_path / 'in' / DE_SITE}"
                        for u in batch.units}
        assert {s.site for s in batch.stats} <= result_sites
        assert all(s.pages == 5 for s in batch.stats)
    big = run_ingest([str(tmp_path / "in")], str(tmp_path / "big"))
    files = {p.name: p.read_bytes() for p in (tmp_path / "small" / "articles").iterdir()}
    assert files == {p.name: p.read_bytes() for p in (tmp_path / "big" / "articles").iterdir()}
    assert small["templates"]["lines_removed"] == big["templates"]["lines_removed"] > 0


def test_no_templates_leaves_lines_and_history_alone(tmp_path: Path) -> None:
    write_sites(tmp_path / "in")
    out = tmp_path / "out"
    report = run_ingest([str(tmp_path / "in")], str(out), templates=False)
    assert report["templates"] == {"enabled": False}
    assert RULE not in report["removals_by_rule"]
    assert not (out / STATE_DIR / DB_NAME).exists()
    for uri, record in articles_by_uri(report, out).items():
        assert not template_removals(record), uri


def test_cli_no_templates_flag(tmp_path: Path) -> None:
    from flows.cli import main

    write_sites(tmp_path / "in", de=range(3), en=range(0))
    assert main([str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--no-progress", "--no-templates",
                 "--json", "--mode", "local"]) == 0
    assert not (tmp_path / "out" / STATE_DIR / DB_NAME).exists()
    assert main([str(tmp_path / "in"), "--out", str(tmp_path / "out2"), "--no-progress", "--json",
                 "--mode", "local"]) == 0
    assert TemplateStore(tmp_path / "out2").sites() == {f"folder:{tmp_path / 'in' / DE_SITE}": 3}
