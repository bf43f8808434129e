"""One ingestion run, in-process: discover → batches → clean → write. No Prefect here.

:func:`run_ingest` is the body shared by both modes. It takes the batch cleaner as a parameter:
locally that is :func:`process_batch` itself, under Prefect it is the ``clean_batch`` task wrapping
it (see :mod:`flows.ingest`). Batches carry paths and offsets; their results carry records and
statuses; every write happens here, in the calling process, through :class:`flows.store.Store`.

Template detection (:mod:`flows.templates`): before cleaning, a first pass over the batches finds
each page's site; sites with enough pages (in this run and in the output folder's history) get their
pages' lines hashed, and every batch carries the statistics of its own sites. After the writes, the
cleaned pages' line hashes are added to the history (``OUT/state/templates.sqlite``).
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import os
import re
import resource
import socket
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Literal, cast

from cleaners.decode import SNIFF_CHARS, DecodeError, decode_bytes, sniff_format
from cleaners.record import Source, article_record
from cleaners.template import RULE as TEMPLATE_RULE
from cleaners.template import SiteStats, article_line_hashes, page_line_hashes, template_detector
from flows.commit import RunCommitter, RunTotals, recover
from flows.parallel import MapFn, sequential
from flows.sources import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_BYTES,
    Batch,
    InputDoc,
    QuarantineItem,
    discover,
    make_batches,
    read_unit,
)
from flows.state import IngestState, RunLock
from flows.store import Store, new_run_id
from flows.templates import (
    ScanFn,
    ScannedPage,
    TemplateBatch,
    TemplatePlan,
    TemplateStore,
    plan_templates,
    site_key,
)

if TYPE_CHECKING:
    from cleaners.model import Article

__all__ = [
    "BatchResult",
    "DocResult",
    "Engine",
    "NoInputsError",
    "ProgressFn",
    "default_engine",
    "process_batch",
    "run_ingest",
    "scan_batch",
    "summary_rows",
]

ProgressFn = Callable[[int, int], None]
"""Called with (documents done, documents in total) after discovery and after each batch."""

DocStatus = Literal["article", "empty", "quarantined"]

# Any tag: a file declared HTML (by extension or JSONL field) is cleaned as HTML if it has one,
# even when it is too small a fragment for :func:`sniff_format`'s content test.
_ANY_TAG_RE: Final = re.compile(r"<[A-Za-z!/][^<>]*>")
_URL_RE: Final = re.compile(r"^https?://", re.IGNORECASE)

# Documents per template-planning window. The plan holds the line hashes of every page it hashed
# (~30 KB per page: 280 MB of peak memory at 10,000 pages in one plan, benchmarks/RESULTS.md), so a
# large run is planned and cleaned window by window; the history is updated batch by batch, so the
# pages of a later window are cleaned with the statistics of the earlier ones too.
TEMPLATE_WINDOW_DOCS: Final = 2000

# Sites listed in the run report with their count of template lines removed (the rest are summed).
TEMPLATE_TOP_SITES: Final = 20

# Caches of the engine's libraries keyed by text (module, function): ``lru_cache(maxsize=1024)``,
# bounded by entries, not bytes. Their keys are whole element texts (~5-25 KB), and with every page
# distinct they grew by ~3.4 MiB per 2000 pages for the ~30,000 pages it takes to fill them
# (tracemalloc of a 5,000-page run, benchmarks/RESULTS.md 2026-11-22: a steady climb of the
# parent's peak memory). Cleared after each batch cleaned or scanned, in the process that did it:
# their hits are repeated lines within a page; the functions are pure, the output is unchanged.
TEXT_KEYED_CACHES: Final = (("trafilatura.utils", "trim"), ("trafilatura.utils", "line_processing"))

# After each batch, the C heap's free pages are handed back to the OS (glibc's ``malloc_trim``; a
# no-op where there is none). The parent's live memory is flat window after window, but glibc keeps
# freed heap chunks resident and the transient peaks (a batch's records, feed and article bytes, a
# window's template plan) land at different places each time: without it, peak RSS crept up
# ~5 MiB per 2000-document window at a flat ~29 MiB in use (mallinfo2 probe of a 10,000-page run,
# benchmarks/RESULTS.md 2026-11-22). One trim of a ~150 MiB heap takes a few ms; a batch, seconds.
TRIM_HEAP: Final = True


class NoInputsError(ValueError):
    """The given paths contain no input files."""


@dataclass(frozen=True, slots=True)
class Engine:
    """The cleaning functions a batch calls (the real engine by default; a fake in tests)."""

    clean_text: Callable[..., Article]
    clean_html: Callable[..., Article]


def default_engine() -> Engine:
    import cleaners

    return Engine(cleaners.clean_text, cleaners.clean_html)


@dataclass(frozen=True, slots=True)
class DocResult:
    """The outcome of one input document, compact enough to send back from a worker.

    ``record`` (status ``article``) lists this input as its only source; the store merges sources.
    ``reason``: the article's ``empty_reason`` or the quarantine reason code.
    ``site``, ``page`` (sha256 of the input) and ``line_hashes`` are set for a cleaned page of a
    :class:`~flows.templates.TemplateBatch`, for the template store.
    """

    uri: str
    status: DocStatus
    source: Source | None = None
    record: Mapping[str, Any] | None = None
    article_id: str | None = None
    reason: str | None = None
    detail: str | None = None
    format: str | None = None
    encoding: str | None = None
    quarantine: QuarantineItem | None = None
    removals_by_rule: tuple[tuple[str, int], ...] = ()
    removals_by_category: tuple[tuple[str, int], ...] = ()
    site: str | None = None
    page: str | None = None
    line_hashes: tuple[int, ...] = ()
    # -- scheduled runs and scale-out (flows.commit): where the document was read from, the sha256
    # of its bytes (None: not read), seconds spent reading and cleaning it
    path: str | None = None
    sha256: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class BatchResult:
    index: int
    results: tuple[DocResult, ...]
    docs: int
    seconds: float
    worker: str = ""  # host:pid of the process that cleaned the batch
    peak_rss_kb: int = 0  # that process's peak resident memory so far


def process_batch(batch: Batch, *, engine: Engine | None = None) -> BatchResult:
    """Read, decode, sniff and clean every document of ``batch``. Pure apart from reading inputs.

    A :class:`~flows.templates.TemplateBatch` also removes its sites' template lines and returns
    each cleaned page's line hashes."""
    start = time.perf_counter()
    engine = engine or default_engine()
    collect = isinstance(batch, TemplateBatch)
    stats = batch.stats_by_site() if isinstance(batch, TemplateBatch) else {}
    results: list[DocResult] = []
    for unit in batch.units:
        t = time.perf_counter()
        for item in read_unit(unit, max_bytes=batch.max_bytes):
            if isinstance(item, QuarantineItem):
                results.append(_quarantined(item))
            else:
                result = clean_doc(item, engine, templates=stats, collect=collect)
                results.append(dataclasses.replace(result, path=item.path, sha256=item.sha256,
                                                   seconds=time.perf_counter() - t))
            t = time.perf_counter()
    clear_text_caches()
    return BatchResult(batch.index, tuple(results), batch.docs, time.perf_counter() - start,
                       worker=f"{socket.gethostname()}:{os.getpid()}", peak_rss_kb=_peak_rss_kb())


def release_free_memory() -> None:
    """Hand the C heap's free pages back to the OS (see :data:`TRIM_HEAP`)."""
    trim = _malloc_trim() if TRIM_HEAP else None
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        fn = ctypes.CDLL(None).malloc_trim  # glibc; musl and macOS have none
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_size_t]
    fn.restype = ctypes.c_int
    return cast("Callable[[int], int]", fn)


def clear_text_caches() -> None:
    """Empty :data:`TEXT_KEYED_CACHES` (those of modules already imported; nothing is imported)."""
    for module, name in TEXT_KEYED_CACHES:
        clear = getattr(getattr(sys.modules.get(module), name, None), "cache_clear", None)
        if callable(clear):
            clear()


def _peak_rss_kb() -> int:
    """This process's peak resident set size in KiB (Linux reports ru_maxrss in KiB)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


@dataclass(frozen=True, slots=True)
class _Decoded:
    text: str
    format: Literal["html", "text"]
    encoding: str
    url: str | None


def _decode(doc: InputDoc) -> _Decoded:
    """Decode and sniff; raises :class:`DecodeError`."""
    decoded = decode_bytes(doc.data, hint_html=True if doc.declared == "html" else None)
    text = decoded.text
    declared_html = doc.declared == "html" and _ANY_TAG_RE.search(text[:SNIFF_CHARS]) is not None
    fmt: Literal["html", "text"] = "html" if declared_html else sniff_format(text)
    return _Decoded(text, fmt, decoded.encoding, doc.uri if _URL_RE.match(doc.uri) else None)


def clean_doc(
    doc: InputDoc,
    engine: Engine,
    *,
    templates: Mapping[str, SiteStats] | None = None,
    collect: bool = False,
) -> DocResult:
    """Decode and clean one document; refusals become quarantine results, never exceptions.

    ``templates``: statistics of sites by :func:`~flows.templates.site_key`; a page of one of them
    is cleaned with its template detector. ``collect``: return the site, sha256 and line hashes.
    """
    try:
        decoded = _decode(doc)
    except DecodeError as exc:
        return _quarantined(doc.quarantine(exc.reason, exc.message))
    text, fmt, url = decoded.text, decoded.format, decoded.url
    site = site_key(doc.uri, doc.path) if collect or templates else None
    stats = templates.get(site) if templates and site is not None else None
    # Passed only when there is one: engines (and test fakes) need not know the keyword otherwise.
    extra: dict[str, Any] = {"extra_detectors": (template_detector(stats),)} if stats is not None else {}
    try:
        article = (engine.clean_html(text, url=url, **extra) if fmt == "html"
                   else engine.clean_text(text, url=url, **extra))
    except Exception as exc:  # a bug on one page must not sink a run of thousands
        result = _quarantined(doc.quarantine("clean_error", f"{type(exc).__name__}: {exc}"))
        return dataclasses.replace(result, format=fmt, encoding=decoded.encoding)
    if doc.metadata:  # what the container knew about the page (a WARC record's fetched_at)
        article = dataclasses.replace(article, metadata={**article.metadata, **dict(doc.metadata)})
    by_rule = tuple(sorted(article.removals_by_rule().items()))
    by_category = tuple(sorted(article.removals_by_category().items()))
    page_info: dict[str, Any] = (
        {"site": site, "page": doc.sha256, "line_hashes": tuple(sorted(article_line_hashes(article)))}
        if collect else {}
    )
    if article.is_empty:
        return DocResult(
            uri=doc.uri,
            status="empty",
            reason=article.empty_reason or "empty",
            format=fmt,
            encoding=decoded.encoding,
            removals_by_rule=by_rule,
            removals_by_category=by_category,
            **page_info,
        )
    source = Source(doc.uri, doc.sha256, decoded.encoding, fmt)
    return DocResult(
        uri=doc.uri,
        status="article",
        source=source,
        record=article_record(article, [source]),
        article_id=article.id,
        format=fmt,
        encoding=decoded.encoding,
        removals_by_rule=by_rule,
        removals_by_category=by_category,
        **page_info,
    )


def scan_batch(batch: Batch, sites: frozenset[str], *, engine: Engine | None = None) -> list[ScannedPage]:
    """First pass over a batch for template detection: every readable document's site and sha256,
    and, for pages of ``sites``, the distinct line hashes of the document the engine cleans.

    Text pages are segmented as the text path segments them (cheap); an HTML page is cleaned once
    without template statistics, since only the engine knows which text its HTML path segments.
    """
    results: list[ScannedPage] = []
    for unit in batch.units:
        for item in read_unit(unit, max_bytes=batch.max_bytes):
            if isinstance(item, QuarantineItem):
                continue
            site = site_key(item.uri, item.path)
            hashes: frozenset[int] | None = None
            if site in sites:
                hashes = _page_hashes(item, engine)
            results.append(ScannedPage(site, item.sha256, hashes))
    clear_text_caches()
    return results


def _page_hashes(doc: InputDoc, engine: Engine | None) -> frozenset[int] | None:
    try:
        decoded = _decode(doc)
        if decoded.format == "text":
            return page_line_hashes(decoded.text)
        return article_line_hashes((engine or default_engine()).clean_html(decoded.text, url=decoded.url))
    except Exception:  # undecodable, or an engine bug: cleaning quarantines it; not counted here
        return None


def _quarantined(item: QuarantineItem) -> DocResult:
    return DocResult(uri=item.uri, status="quarantined", reason=item.reason, detail=item.detail, quarantine=item,
                     path=item.path)


@dataclass(slots=True)
class _Timer:
    marks: dict[str, float] = field(default_factory=dict)

    def add(self, key: str, seconds: float) -> None:
        self.marks[key] = round(self.marks.get(key, 0.0) + seconds, 6)


def run_ingest(
    paths: Sequence[str],
    out: str,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_bytes: int = DEFAULT_MAX_BYTES,
    clean: Callable[[Batch], BatchResult] = process_batch,
    progress: ProgressFn | None = None,
    mode: str = "local",
    run_id: str | None = None,
    extra: Mapping[str, Any] | None = None,
    templates: bool = True,
    scan: ScanFn = scan_batch,
    clean_many: MapFn | None = None,
    wait_lock: float | None = 0.0,
    incremental: bool = True,
) -> dict[str, Any]:
    """Ingest ``paths`` into the output folder ``out`` and return the run report (also written to
    ``out/runs/<run_id>.json``).

    ``clean`` cleans one batch (:func:`process_batch`, or a Prefect task around it). Paths that do
    not exist are reported as quarantined (``not_found``); :class:`NoInputsError` if nothing at
    all was found. ``extra`` entries are added to the report (e.g. the Prefect flow run id).

    ``templates``: detect template lines across the pages of a site (see :mod:`flows.templates`)
    and add this run's pages to the output folder's history; ``scan`` is the first pass over a batch.

    Scheduled runs and scale-out (:mod:`flows.state`, :mod:`flows.commit`, :mod:`flows.parallel`):
    the run holds ``OUT/.lock`` (waiting ``wait_lock`` seconds, ``None``: forever, else
    :class:`~flows.state.LockBusyError`), first finishes a crashed earlier run, reads only files
    new or changed since the state in ``OUT/state/ingest.sqlite`` (all of them if not
    ``incremental``), cleans the batches through ``clean_many`` (default: ``clean`` on each, in
    turn) and commits each batch's results in batch order as they arrive.
    """
    if batch_size < 1 or max_bytes < 1:
        raise ValueError("batch_size and max_bytes must be >= 1")
    started = datetime.now(UTC)
    t_start = time.perf_counter()
    run_id = run_id or new_run_id(started)
    store = Store(out)
    timings = _Timer()

    with RunLock(out, wait_lock), IngestState(out) as state:
        t = time.perf_counter()
        recovered = recover(store, state, run_id)
        found = discover(paths, out=out, batch_size=batch_size)
        if not found.units and not found.missing:
            raise NoInputsError(f"no input files found under: {', '.join(paths)}")
        # The report's entries, in order: missing paths, unchanged/moved inputs, then the batches'.
        totals = RunTotals(inputs=store.entry_log())
        for missing in found.missing:
            totals.add_entry({"uri": missing, "status": "quarantined", "reason": "not_found",
                              "detail": "no such file or folder"})
        selection = state.select(found, run_id, full=not incremental, on_skipped=totals.add_entry)
        state.commit(selection.files, selection.docs)
        batches: Sequence[Batch] = make_batches(selection.units, batch_size, max_bytes)
        timings.add("discover_s", time.perf_counter() - t)

        template_store = TemplateStore(out) if templates else None
        committer = RunCommitter(store, state, run_id, batches, stamps=selection.stamps, totals=totals,
                                 template_store=template_store, template_rule=TEMPLATE_RULE)
        files_unchanged, files_moved = selection.unchanged_files, selection.moved_files
        files_read = len({u.path for u in selection.units})
        del selection  # the committer drops each file's stamp once the file is committed
        committer.totals.articles_written += sum(r["articles_written"] for r in recovered)
        total = sum(b.docs for b in batches)
        done = 0
        if progress is not None:
            progress(done, total)
        t = time.perf_counter()
        write_s = scan_s = 0.0
        plans: list[tuple[int, frozenset[str], int]] | None = [] if template_store is not None else None
        plan: TemplatePlan | None = None
        for window in _windows(batches, TEMPLATE_WINDOW_DOCS):
            if template_store is not None and plans is not None:
                ts = time.perf_counter()
                plan = plan_templates(window, scan, template_store)
                window = plan.batches
                committer.template_plan = plan
                plans.append((plan.sites_in_run, frozenset(plan.site_pages), len(plan.scanned)))
                release_free_memory()  # the passes' temporaries
                scan_s += time.perf_counter() - ts
            for batch_result in (clean_many or sequential(clean))(window):
                tw = time.perf_counter()
                committer.commit_batch(batch_result)
                write_s += time.perf_counter() - tw
                done += batch_result.docs
                del batch_result  # its records are written: not held while the next batch is cleaned
                release_free_memory()
                if progress is not None:
                    progress(done, total)
            # One window's plan in memory at a time (see TEMPLATE_WINDOW_DOCS): this one is dropped
            # before the next window is planned (holding both was a ~30 MiB step at the 2nd window).
            committer.template_plan = plan = None
        timings.add("clean_s", time.perf_counter() - t - write_s - scan_s)
        timings.add("write_s", write_s)

        totals = committer.totals
        counts = totals.counts
        finished = datetime.now(UTC)
        duration = time.perf_counter() - t_start
        inputs = len(totals.inputs)
        report: dict[str, Any] = {
            "run_id": run_id,
            "started_at": started.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "finished_at": finished.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "duration_s": round(duration, 3),
            "mode": mode,
            "out": str(out),
            "feed": store.feed_path(run_id).relative_to(store.root).as_posix() if committer.feed.lines else None,
            "counts": {
                "inputs": inputs,
                "ingested": counts["ingested"],
                "duplicate": counts["duplicate"],
                "unchanged": counts["unchanged"],
                "moved": counts["moved"],
                "empty": counts["empty"],
                "quarantined": counts["quarantined"],
                "articles_written": totals.articles_written,
                "articles_removed": totals.articles_removed,
            },
            "inputs": totals.inputs,
            "removals_by_rule": _ranked(totals.by_rule),
            "removals_by_category": _ranked(totals.by_category),
            "quarantined_by_reason": _ranked(totals.quarantined_by_reason),
            "templates": _template_report(totals, plans, scan_s),
            "incremental": {
                "enabled": incremental,
                "files_unchanged": files_unchanged,
                "files_moved": files_moved,
                "files_read": files_read,
                "docs_read": total,
                "recovered_runs": [r["run_id"] for r in recovered],
            },
            "slowest": totals.slowest.ranked(),
            "most_stripped": totals.stripped.ranked(),
            "workers": {w: round(kb / 1024, 1) for w, kb in sorted(totals.workers.items())},
            "timings": timings.marks,
            "docs_per_s": round(total / duration, 1) if duration > 0 else None,
        }
        report.update(extra or {})
        store.write_run_report(run_id, report)
    return report


def _windows(batches: Sequence[Batch], docs: int) -> list[Sequence[Batch]]:
    """Consecutive groups of batches of about ``docs`` documents (at least one batch each)."""
    windows: list[Sequence[Batch]] = []
    start = count = 0
    for i, batch in enumerate(batches):
        if count and count + batch.docs > docs:
            windows.append(batches[start:i])
            start, count = i, 0
        count += batch.docs
    if start < len(batches):
        windows.append(batches[start:])
    return windows


def _template_report(totals: RunTotals, plans: Sequence[tuple[int, frozenset[str], int]] | None,
                     scan_s: float) -> dict[str, Any]:
    """Template lines removed per site (top sites), and what the history knew and learned.

    ``plans``: (sites in the window, sites with statistics, pages hashed) per planning window; a
    run of several windows reports the largest window's count of sites in the run."""
    if plans is None:
        return {"enabled": False}
    removed = totals.template_removed_by_site
    ranked = _ranked(removed)
    top = dict(list(ranked.items())[:TEMPLATE_TOP_SITES])
    return {
        "enabled": True,
        "sites_in_run": max((p[0] for p in plans), default=0),
        "sites_with_stats": len(frozenset().union(*(p[1] for p in plans))),
        "pages_hashed_before_cleaning": sum(p[2] for p in plans),
        "pages_added_to_history": sum(totals.template_pages_added.values()),
        "lines_removed": sum(removed.values()),
        "pages_with_removals": totals.template_pages_with_removals,
        "lines_removed_by_site": top,
        "other_sites_lines_removed": sum(removed.values()) - sum(top.values()),
        "scan_s": round(scan_s, 6),  # the passes before cleaning (not in "timings": its keys are fixed)
    }


def _ranked(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def summary_rows(report: Mapping[str, Any]) -> list[dict[str, str]]:
    """The run summary as (metric, value) rows: for the CLI table and the Prefect artifact."""
    counts = report["counts"]
    rows = [
        ("inputs seen", counts["inputs"]),
        ("articles written", counts["articles_written"]),
        ("ingested", counts["ingested"]),
        ("duplicates", counts["duplicate"]),
        ("unchanged", counts["unchanged"]),
        ("empty", counts["empty"]),
        ("quarantined", counts["quarantined"]),
    ]
    if counts.get("moved"):
        rows.append(("moved (not re-read)", counts["moved"]))
    if counts.get("articles_removed"):
        rows.append(("articles removed (replaced)", counts["articles_removed"]))
    rows += [(f"quarantined: {reason}", n) for reason, n in report.get("quarantined_by_reason", {}).items()]
    rows += [(f"removed: {cat}", n) for cat, n in report["removals_by_category"].items()]
    rows += [("time (s)", f"{report['duration_s']:.2f}"), ("docs/s", report["docs_per_s"])]
    return [{"metric": name, "value": str(value)} for name, value in rows]
