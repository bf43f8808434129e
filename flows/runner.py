"""One ingestion run, in-process: discover → batches → clean → write. No Prefect here.

:func:`run_ingest` is the body shared by both modes. It takes the batch cleaner as a parameter:
locally that is :func:`process_batch` itself, under Prefect it is the ``clean_batch`` task wrapping
it (see :mod:`flows.ingest`). Batches carry paths and offsets; their results carry records and
statuses; every write happens here, in the calling process, through :class:`flows.store.Store`.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Literal

from cleaners.decode import SNIFF_CHARS, DecodeError, decode_bytes, sniff_format
from cleaners.record import Source, article_record
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
from flows.store import ArticleInput, Store, new_run_id

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
    "summary_rows",
]

ProgressFn = Callable[[int, int], None]
"""Called with (documents done, documents in total) after discovery and after each batch."""

DocStatus = Literal["article", "empty", "quarantined"]

# Any tag: a file declared HTML (by extension or JSONL field) is cleaned as HTML if it has one,
# even when it is too small a fragment for :func:`sniff_format`'s content test.
_ANY_TAG_RE: Final = re.compile(r"<[A-Za-z!/][^<>]*>")
_URL_RE: Final = re.compile(r"^https?://", re.IGNORECASE)


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


@dataclass(frozen=True, slots=True)
class BatchResult:
    index: int
    results: tuple[DocResult, ...]
    docs: int
    seconds: float


def process_batch(batch: Batch, *, engine: Engine | None = None) -> BatchResult:
    """Read, decode, sniff and clean every document of ``batch``. Pure apart from reading inputs."""
    start = time.perf_counter()
    engine = engine or default_engine()
    results: list[DocResult] = []
    for unit in batch.units:
        for item in read_unit(unit, max_bytes=batch.max_bytes):
            if isinstance(item, QuarantineItem):
                results.append(_quarantined(item))
            else:
                results.append(clean_doc(item, engine))
    return BatchResult(batch.index, tuple(results), batch.docs, time.perf_counter() - start)


def clean_doc(doc: InputDoc, engine: Engine) -> DocResult:
    """Decode and clean one document; refusals become quarantine results, never exceptions."""
    try:
        decoded = decode_bytes(doc.data, hint_html=True if doc.declared == "html" else None)
    except DecodeError as exc:
        return _quarantined(doc.quarantine(exc.reason, exc.message))
    text = decoded.text
    declared_html = doc.declared == "html" and _ANY_TAG_RE.search(text[:SNIFF_CHARS]) is not None
    fmt: Literal["html", "text"] = "html" if declared_html else sniff_format(text)
    url = doc.uri if _URL_RE.match(doc.uri) else None
    try:
        article = engine.clean_html(text, url=url) if fmt == "html" else engine.clean_text(text, url=url)
    except Exception as exc:  # a bug on one page must not sink a run of thousands
        result = _quarantined(doc.quarantine("clean_error", f"{type(exc).__name__}: {exc}"))
        return dataclasses.replace(result, format=fmt, encoding=decoded.encoding)
    by_rule = tuple(sorted(article.removals_by_rule().items()))
    by_category = tuple(sorted(article.removals_by_category().items()))
    if article.is_empty:
        return DocResult(
            uri=doc.uri,
            status="empty",
            reason=article.empty_reason or "empty",
            format=fmt,
            encoding=decoded.encoding,
            removals_by_rule=by_rule,
            removals_by_category=by_category,
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
    )


def _quarantined(item: QuarantineItem) -> DocResult:
    return DocResult(uri=item.uri, status="quarantined", reason=item.reason, detail=item.detail, quarantine=item)


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
) -> dict[str, Any]:
    """Ingest ``paths`` into the output folder ``out`` and return the run report (also written to
    ``out/runs/<run_id>.json``).

    ``clean`` cleans one batch (:func:`process_batch`, or a Prefect task around it). Paths that do
    not exist are reported as quarantined (``not_found``); :class:`NoInputsError` if nothing at
    all was found. ``extra`` entries are added to the report (e.g. the Prefect flow run id).
    """
    if batch_size < 1 or max_bytes < 1:
        raise ValueError("batch_size and max_bytes must be >= 1")
    started = datetime.now(UTC)
    t_start = time.perf_counter()
    run_id = run_id or new_run_id(started)
    store = Store(out)
    timings = _Timer()

    t = time.perf_counter()
    found = discover(paths, out=out, batch_size=batch_size)
    if not found.units and not found.missing:
        raise NoInputsError(f"no input files found under: {', '.join(paths)}")
    batches = make_batches(found.units, batch_size, max_bytes)
    timings.add("discover_s", time.perf_counter() - t)

    results: list[DocResult] = [
        DocResult(uri=p, status="quarantined", reason="not_found", detail="no such file or folder")
        for p in found.missing
    ]
    total = found.docs
    done = 0
    if progress is not None:
        progress(done, total)
    t = time.perf_counter()
    for batch in batches:
        batch_result = clean(batch)
        results.extend(batch_result.results)
        done += batch_result.docs
        if progress is not None:
            progress(done, total)
    timings.add("clean_s", time.perf_counter() - t)

    t = time.perf_counter()
    article_inputs = [
        ArticleInput(i, r.source, r.record)
        for i, r in enumerate(results)
        if r.status == "article" and r.source is not None and r.record is not None
    ]
    plan = store.plan_articles(article_inputs, run_id)
    store.commit_articles(plan, run_id)
    quarantined_files: dict[int, str] = {}
    for i, r in enumerate(results):
        if r.quarantine is not None:
            quarantined_files[i] = store.quarantine(r.quarantine, run_id)
    timings.add("write_s", time.perf_counter() - t)

    inputs: list[dict[str, Any]] = []
    counts = Counter[str]()
    by_rule = Counter[str]()
    by_category = Counter[str]()
    for i, r in enumerate(results):
        status = plan.statuses.get(i, "ingested") if r.status == "article" else r.status
        counts[status] += 1
        by_rule.update(dict(r.removals_by_rule))
        by_category.update(dict(r.removals_by_category))
        entry: dict[str, Any] = {"uri": r.uri, "status": status}
        optional = {
            "article_id": r.article_id,
            "reason": r.reason,
            "detail": r.detail,
            "format": r.format,
            "encoding": r.encoding,
            "quarantine": quarantined_files.get(i),
        }
        entry.update({k: v for k, v in optional.items() if v is not None})
        inputs.append(entry)

    finished = datetime.now(UTC)
    duration = time.perf_counter() - t_start
    report: dict[str, Any] = {
        "run_id": run_id,
        "started_at": started.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "finished_at": finished.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "duration_s": round(duration, 3),
        "mode": mode,
        "out": str(out),
        "feed": store.feed_path(run_id).relative_to(store.root).as_posix() if plan.feed else None,
        "counts": {
            "inputs": len(results),
            "ingested": counts["ingested"],
            "duplicate": counts["duplicate"],
            "unchanged": counts["unchanged"],
            "empty": counts["empty"],
            "quarantined": counts["quarantined"],
            "articles_written": plan.articles_written,
        },
        "inputs": inputs,
        "removals_by_rule": _ranked(by_rule),
        "removals_by_category": _ranked(by_category),
        "timings": timings.marks,
        "docs_per_s": round(len(results) / duration, 1) if duration > 0 else None,
    }
    report.update(extra or {})
    store.write_run_report(run_id, report)
    return report


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
    rows += [(f"removed: {cat}", n) for cat, n in report["removals_by_category"].items()]
    rows += [("time (s)", f"{report['duration_s']:.2f}"), ("docs/s", report["docs_per_s"])]
    return [{"metric": name, "value": str(value)} for name, value in rows]
