"""Template detection across documents: which site a page belongs to, and per-site line statistics
kept in the output folder so they grow across runs.

**Site key** (:func:`site_key`). A page with a URL (a JSONL record's ``url``; later a WARC target
URI) belongs to its host: lowercased, without port, trailing dot or a leading ``www.``
(``https://www.Example.com:443/a`` → ``example.com``). Sub-domains stay apart
(``sport.example.com`` has its own template). A page without a URL (a plain ``.txt``/``.html``
file, a JSONL record without ``url``) belongs to the folder its file is in (``folder:`` + the
absolute path): scrapers commonly dump each site into a folder of its own. Pages of unrelated sites
lying in one folder form one "site"; only lines on a large share of them count as template, which
sites rarely share.

**Store** (:class:`TemplateStore`): ``OUT/state/templates.sqlite`` (SQLite, WAL mode)::

    sites(id, site, pages)              pages counted per site
    pages(site_id, page)                the pages counted: first 64 bits of the input's sha256
    lines(site_id, hash, pages, seen)   on how many counted pages each line hash occurred;
                                        ``seen``: the site's page count when last seen

A page is counted once per site however often it is ingested (same bytes, same sha256). Updates
happen at the end of a run in one transaction: a crash leaves the previous state. Size bound: at
most :data:`MAX_LINES_PER_SITE` line hashes per site; beyond it the lines seen on the fewest pages,
least recently first, are dropped. A page has ~100-200 distinct lines, so the lines of the latest
few dozen pages are kept while template lines (on a large share of pages) are never dropped. A
dropped line seen again starts counting anew, which can only undercount (keep text). The pages
table grows by 16 bytes of key per page.

**Planning a run** (:func:`plan_templates`): a first pass reads every document for its site and page
key (no decoding); sites with at least :data:`cleaners.template.MIN_SITE_PAGES` pages in the store
and the run together get a second pass that hashes the lines of their pages in this run. Each batch
then carries, as a :class:`TemplateBatch`, the statistics of its own sites restricted to the lines
of its own pages (compact for Prefect/Dask tasks). Other pages are not hashed before cleaning: their
line hashes come back with the cleaning results and go into the store at the end of the run.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from cleaners.template import TEMPLATE_DEFAULT, SiteStats, TemplateSettings
from flows.sources import Batch

__all__ = [
    "DB_NAME",
    "MAX_LINES_PER_SITE",
    "STATE_DIR",
    "PageLines",
    "ScannedPage",
    "TemplateBatch",
    "TemplatePlan",
    "TemplateStore",
    "page_key",
    "plan_templates",
    "site_key",
]

STATE_DIR: Final = "state"
DB_NAME: Final = "templates.sqlite"

# Line hashes kept per site (see the module doc): ~40 pages' worth of distinct lines, so a template
# line has dozens of pages to be seen again before it could be dropped; ~150 KB per site on disk.
MAX_LINES_PER_SITE: Final = 5000

# Hex digits of the input's sha256 kept as a page key: 64 bits (SQLite INTEGER); two different
# pages of one site colliding is a 1-in-10^10 event even at a million pages.
PAGE_KEY_HEX: Final = 16

# Seconds a run waits for another run's write transaction on the same store.
SQLITE_TIMEOUT_S: Final = 60.0

# Values bound per SQL statement (SQLite's limit is 32766 since 3.32, 999 before).
SQL_CHUNK: Final = 900

SCHEMA_VERSION: Final = "1"

_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS sites (id INTEGER PRIMARY KEY, site TEXT NOT NULL UNIQUE, pages INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS pages (site_id INTEGER NOT NULL, page INTEGER NOT NULL,"
    " PRIMARY KEY (site_id, page)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS lines (site_id INTEGER NOT NULL, hash INTEGER NOT NULL, pages INTEGER NOT NULL,"
    " seen INTEGER NOT NULL, PRIMARY KEY (site_id, hash)) WITHOUT ROWID",
)


def site_key(uri: str, path: str) -> str:
    """The site a page belongs to: the URL's host, or ``folder:<absolute folder of the file>``."""
    if uri[:8].lower().startswith(("http://", "https://")):
        try:
            host = urlsplit(uri).hostname
        except ValueError:
            host = None
        if host:
            host = host.rstrip(".")
            return host.removeprefix("www.") or host
    return "folder:" + os.path.dirname(os.path.abspath(path))


def page_key(sha256: str) -> int:
    """The stored key of a page: the first 64 bits of its sha256, as a signed integer."""
    return int.from_bytes(bytes.fromhex(sha256[:PAGE_KEY_HEX]), "big", signed=True)


@dataclass(frozen=True, slots=True)
class ScannedPage:
    """A document seen by the first pass: its site, its sha256, and (second pass, for sites with
    enough pages) its line hashes; ``hashes`` is ``None`` when not hashed or not decodable."""

    site: str
    page: str
    hashes: frozenset[int] | None = None


@dataclass(frozen=True, slots=True)
class PageLines:
    """A cleaned page for the store: site, sha256, distinct line hashes."""

    site: str
    page: str
    hashes: frozenset[int]


@dataclass(frozen=True, slots=True)
class TemplateBatch(Batch):
    """A batch with the template statistics of its sites (only sites with enough pages, only the
    lines of this batch's pages that could be template). Being one tells the batch to return each
    page's site and line hashes for the store."""

    stats: tuple[SiteStats, ...] = ()

    def stats_by_site(self) -> dict[str, SiteStats]:
        return {s.site: s for s in self.stats}


def with_stats(batch: Batch, stats: Sequence[SiteStats] = ()) -> TemplateBatch:
    return TemplateBatch(batch.index, batch.units, batch.max_bytes, tuple(stats))


def _chunks(items: Sequence[int], size: int = SQL_CHUNK) -> Iterator[Sequence[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class TemplateStore:
    """The per-site line statistics of an output folder (``OUT/state/templates.sqlite``).

    Reads never create the file; :meth:`update` creates it when there is something to store.
    """

    def __init__(self, out: str | os.PathLike[str], *, max_lines_per_site: int = MAX_LINES_PER_SITE) -> None:
        self.path = Path(out) / STATE_DIR / DB_NAME
        self.max_lines_per_site = max_lines_per_site

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=SQLITE_TIMEOUT_S, isolation_level=None)

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection | None]:
        if not self.path.is_file():
            yield None
            return
        with contextlib.closing(self._connect()) as con:
            if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'lines'").fetchone() is None:
                yield None
            else:
                yield con

    # -- reads ----------------------------------------------------------------------------------

    def known(self, site_pages: Mapping[str, Collection[str]]) -> dict[str, tuple[int, frozenset[str]]]:
        """Per site: the stored page count and which of the given pages (sha256) are counted."""
        result = {site: (0, frozenset[str]()) for site in site_pages}
        with self._reading() as con:
            if con is None:
                return result
            for site, pages in site_pages.items():
                row = con.execute("SELECT id, pages FROM sites WHERE site = ?", (site,)).fetchone()
                if row is None:
                    continue
                site_id, count = int(row[0]), int(row[1])
                by_key = {page_key(p): p for p in pages}
                seen: set[str] = set()
                for chunk in _chunks(sorted(by_key)):
                    marks = ",".join("?" * len(chunk))
                    rows = con.execute(f"SELECT page FROM pages WHERE site_id = ? AND page IN ({marks})",
                                       (site_id, *chunk))
                    seen.update(by_key[int(r[0])] for r in rows)
                result[site] = (count, frozenset(seen))
        return result

    def line_counts(self, site_lines: Mapping[str, Collection[int]]) -> dict[str, dict[int, int]]:
        """Per site: stored page counts of the given line hashes (absent: never seen, or dropped)."""
        result: dict[str, dict[int, int]] = {site: {} for site in site_lines}
        with self._reading() as con:
            if con is None:
                return result
            for site, lines in site_lines.items():
                row = con.execute("SELECT id FROM sites WHERE site = ?", (site,)).fetchone()
                if row is None:
                    continue
                counts = result[site]
                for chunk in _chunks(sorted(set(lines))):
                    marks = ",".join("?" * len(chunk))
                    rows = con.execute(f"SELECT hash, pages FROM lines WHERE site_id = ? AND hash IN ({marks})",
                                       (int(row[0]), *chunk))
                    counts.update((int(h), int(n)) for h, n in rows)
        return result

    def sites(self) -> dict[str, int]:
        """Every stored site with its page count."""
        with self._reading() as con:
            if con is None:
                return {}
            return {str(s): int(n) for s, n in con.execute("SELECT site, pages FROM sites ORDER BY site")}

    def line_rows(self, site: str) -> int:
        """How many line hashes are stored for ``site``."""
        with self._reading() as con:
            if con is None:
                return 0
            row = con.execute("SELECT COUNT(*) FROM lines JOIN sites ON sites.id = lines.site_id WHERE site = ?",
                              (site,)).fetchone()
            return int(row[0])

    # -- update ---------------------------------------------------------------------------------

    def update(self, pages: Iterable[PageLines]) -> dict[str, int]:
        """Count the pages not counted yet, in one transaction; returns new pages per site.

        Nothing is written (the file is not even opened for writing) when every page is known.
        """
        by_site: dict[str, dict[str, frozenset[int]]] = {}
        for p in pages:
            by_site.setdefault(p.site, {}).setdefault(p.page, p.hashes)
        if not by_site:
            return {}
        known = self.known({site: list(ps) for site, ps in by_site.items()})
        fresh = {
            site: {k: h for k, h in ps.items() if k not in known[site][1]}
            for site, ps in by_site.items()
        }
        fresh = {site: ps for site, ps in fresh.items() if ps}
        if not fresh:
            return {}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        added: dict[str, int] = {}
        with contextlib.closing(self._connect()) as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("BEGIN IMMEDIATE")
            try:
                for statement in _SCHEMA:
                    con.execute(statement)
                con.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
                for site in sorted(fresh):
                    n = _add_pages(con, site, fresh[site], self.max_lines_per_site)
                    if n:
                        added[site] = n
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return added


def _add_pages(con: sqlite3.Connection, site: str, pages: Mapping[str, frozenset[int]], cap: int) -> int:
    """Count ``pages`` for ``site`` (those not counted yet); returns how many were new."""
    con.execute("INSERT OR IGNORE INTO sites (site, pages) VALUES (?, 0)", (site,))
    site_id, stored = con.execute("SELECT id, pages FROM sites WHERE site = ?", (site,)).fetchone()
    new: list[frozenset[int]] = []
    for key in sorted(pages):
        cur = con.execute("INSERT OR IGNORE INTO pages (site_id, page) VALUES (?, ?)", (site_id, page_key(key)))
        if cur.rowcount == 1:  # a concurrent run may have counted it since known() was asked
            new.append(pages[key])
    if not new:
        return 0
    total = int(stored) + len(new)
    counts = Counter(h for hashes in new for h in hashes)
    _upsert_lines(con, site_id, counts, total)
    con.execute("UPDATE sites SET pages = ? WHERE id = ?", (total, site_id))
    (rows,) = con.execute("SELECT COUNT(*) FROM lines WHERE site_id = ?", (site_id,)).fetchone()
    if rows > cap:
        con.execute(
            "DELETE FROM lines WHERE site_id = ? AND hash IN (SELECT hash FROM lines WHERE site_id = ?"
            " ORDER BY pages, seen, hash LIMIT ?)",
            (site_id, site_id, rows - cap),
        )
    return len(new)


def _upsert_lines(con: sqlite3.Connection, site_id: int, counts: Mapping[int, int], seen: int) -> None:
    con.executemany(
        "INSERT INTO lines (site_id, hash, pages, seen) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (site_id, hash) DO UPDATE SET pages = pages + excluded.pages, seen = excluded.seen",
        ((site_id, h, n, seen) for h, n in sorted(counts.items())),
    )


# --------------------------------------------------------------------------- planning a run

ScanFn = Callable[[Batch, frozenset[str]], Sequence[ScannedPage]]
"""Reads a batch: every readable document's site and sha256, and line hashes for the given sites."""


@dataclass(slots=True)
class TemplatePlan:
    """The batches of a run with their template statistics, and what the first passes found."""

    batches: list[TemplateBatch]
    scanned: dict[tuple[str, str], frozenset[int]] = field(default_factory=dict)
    site_pages: dict[str, int] = field(default_factory=dict)  # sites with statistics → pages
    sites_in_run: int = 0

    def pages_for_store(self, pages: Iterable[tuple[str, str, Sequence[int]]]) -> list[PageLines]:
        """``(site, sha256, hashes from cleaning)`` of the cleaned pages → what the store counts.
        Pages hashed before cleaning keep those hashes, so a re-run sees exactly the same counts."""
        return [
            PageLines(site, page, self.scanned.get((site, page), frozenset(hashes)))
            for site, page, hashes in pages
        ]


def plan_templates(
    batches: Sequence[Batch],
    scan: ScanFn,
    store: TemplateStore,
    settings: TemplateSettings = TEMPLATE_DEFAULT,
) -> TemplatePlan:
    """Attach to each batch the statistics of its sites: stored history plus this run's pages."""
    first = [scan(b, frozenset()) for b in batches]
    run_pages: dict[str, set[str]] = {}
    for pages in first:
        for p in pages:
            run_pages.setdefault(p.site, set()).add(p.page)
    known = store.known(run_pages)
    qualifying = frozenset(
        site for site, pages in run_pages.items()
        if known[site][0] + len(pages - known[site][1]) >= settings.min_site_pages
    )
    plan = TemplatePlan([with_stats(b) for b in batches], sites_in_run=len(run_pages))
    if not qualifying:
        return plan

    # Second pass: line hashes of every page of those sites in this run.
    batch_lines: dict[int, dict[str, set[int]]] = {}
    for b, pages in zip(batches, first, strict=True):
        if not any(p.site in qualifying for p in pages):
            continue
        lines = batch_lines.setdefault(b.index, {})
        for p in scan(b, qualifying):
            if p.site not in qualifying or p.hashes is None:
                continue
            lines.setdefault(p.site, set()).update(p.hashes)
            if p.page not in known[p.site][1]:
                plan.scanned.setdefault((p.site, p.page), p.hashes)

    wanted: dict[str, set[int]] = {}
    for lines in batch_lines.values():
        for site, site_hashes in lines.items():
            wanted.setdefault(site, set()).update(site_hashes)
    stored = store.line_counts(wanted)
    new_pages = Counter(site for site, _ in plan.scanned)
    new_lines: dict[str, Counter[int]] = {}
    for (site, _), page_hashes in plan.scanned.items():
        new_lines.setdefault(site, Counter()).update(page_hashes)
    min_count = settings.min_other_pages + 1  # the page itself and enough others
    for site in wanted:
        plan.site_pages[site] = known[site][0] + new_pages[site]

    out: list[TemplateBatch] = []
    for b in plan.batches:
        stats: list[SiteStats] = []
        for site, hashes in sorted(batch_lines.get(b.index, {}).items()):
            total = plan.site_pages[site]
            if total < settings.min_site_pages:
                continue
            add = new_lines.get(site, Counter())
            counts = {h: n for h in hashes if (n := stored[site].get(h, 0) + add[h]) >= min_count}
            if counts:
                stats.append(SiteStats(site, total, counts))
        out.append(with_stats(b, stats))
    plan.batches = out
    return plan
