"""Committing a run batch by batch, crash recovery, and the run report's accumulators.

**Commit order** (per batch, in the calling process, in batch order):

1. feed lines are appended to ``OUT/feed/<run_id>.jsonl`` in one write, then fsynced;
2. article files are written (atomically) or deleted, quarantine copies made, template history
   updated;
3. the state rows of the batch (documents, files completed by it, the feed length now covered)
   are written in one SQLite transaction.

The feed is the run's journal. A run killed anywhere leaves: whole article files (temp + rename),
feed lines of which at most the last is partial, and state rows only for work whose outputs were
written. :func:`recover`, at the start of the next run and under the lock, finishes a crashed run:
it cuts a partial last feed line, replays the complete feed lines past the length its state rows
cover (rewriting those articles, deleting removed ones: idempotent), removes temp files, and writes
a report for it (``"status": "crashed"``). The documents with no state row are then simply new work
for this run, and their articles are found already written: no feed line is lost or repeated.

**Changed inputs** (the *supersede* rule). An input uri read before with other bytes (a changed
file, a JSONL record with the same url and new text) no longer supports what it produced: its old
source entry is removed from the old article. An article left with no source is deleted and gets a
feed line ``{"change": "removed", "id", "article": null, "uris": [...], "replaced_by": [...]}``; one
that keeps other sources is rewritten (``"changed"``). The new article's line carries
``"replaces": [old ids]``. Within one batch, the documents are committed in segments so that a uri
read twice in a run is handled exactly as across batches: the later read wins.
"""

from __future__ import annotations

import contextlib
import dataclasses
import heapq
import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from cleaners.record import dumps_record
from flows.state import DocRow, FileRow, FileStamp, IngestState
from flows.store import ArticleInput, EntryLog, Store, _fsync_dir, atomic_write

if TYPE_CHECKING:
    from flows.runner import BatchResult, DocResult
    from flows.sources import Batch
    from flows.templates import PageLines, TemplatePlan, TemplateStore

__all__ = [
    "HOOK_ENV",
    "FeedJournal",
    "RunCommitter",
    "recover",
]

# Test hook: ``CLEANFEED_TEST_HOOK=<point>:<batch>:<action>`` (``action``: ``kill`` sends SIGKILL to
# the run's own process; ``sleep=<s>`` prints ``HOOK <point> <batch>`` to stderr and sleeps, for a
# test to kill it from outside). Points: ``before_feed``, ``after_feed``, ``before_state``,
# ``after_state``. Unset in production: one dict lookup per batch.
HOOK_ENV: Final = "CLEANFEED_TEST_HOOK"

# Inputs listed as the slowest and the most stripped in the report and the Prefect artifact.
TOP_INPUTS: Final = 10

# Statuses whose documents produced (or fed) an article.
ARTICLE_STATUSES: Final = frozenset({"ingested", "duplicate", "unchanged", "moved"})

# Quarantine reasons of inputs that could not be read at all (vanished, permission denied): no state
# row is written, so the next run tries them again.
TRANSIENT_REASONS: Final = frozenset({"unreadable", "not_found"})


def _hook(point: str, batch: int) -> None:
    spec = os.environ.get(HOOK_ENV)
    if not spec:
        return
    want_point, want_batch, action = ([*spec.split(":", 2), "", ""])[:3]
    if want_point != point or want_batch not in ("*", str(batch)):
        return
    print(f"HOOK {point} {batch}", file=sys.stderr, flush=True)
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action.startswith("sleep="):
        time.sleep(float(action.split("=", 1)[1]))


class FeedJournal:
    """The run's feed partition, appended batch by batch (one write + fsync per batch)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.bytes = 0
        self.lines = 0

    def append(self, lines: Sequence[Mapping[str, Any]]) -> None:
        if not lines:
            return
        data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode("utf-8")
        created = not self.path.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
            self.bytes = os.fstat(fd).st_size
        finally:
            os.close(fd)
        if created:
            _fsync_dir(self.path.parent)
        self.lines += len(lines)


@dataclass(slots=True)
class _TopK:
    """The ``k`` largest items by key, kept in a heap (flat memory however many inputs)."""

    k: int
    heap: list[tuple[float, int, dict[str, Any]]] = field(default_factory=list)
    n: int = 0

    def add(self, key: float, item: dict[str, Any]) -> None:
        self.n += 1
        entry = (key, -self.n, item)  # ties: the earlier input ranks first
        if len(self.heap) < self.k:
            heapq.heappush(self.heap, entry)
        elif entry > self.heap[0]:
            heapq.heapreplace(self.heap, entry)

    def ranked(self) -> list[dict[str, Any]]:
        return [item for _, _, item in sorted(self.heap, reverse=True)]


@dataclass(slots=True)
class RunTotals:
    """What the report needs from every committed input, without keeping the inputs: their report
    entries go to a spool file (:class:`~flows.store.EntryLog`), the rest are counters and top-k."""

    inputs: EntryLog = field(default_factory=EntryLog)
    counts: Counter[str] = field(default_factory=Counter)
    by_rule: Counter[str] = field(default_factory=Counter)
    by_category: Counter[str] = field(default_factory=Counter)
    quarantined_by_reason: Counter[str] = field(default_factory=Counter)
    articles_written: int = 0
    articles_removed: int = 0
    template_removed_by_site: Counter[str] = field(default_factory=Counter)
    template_pages_with_removals: int = 0
    template_pages_added: Counter[str] = field(default_factory=Counter)
    slowest: _TopK = field(default_factory=lambda: _TopK(TOP_INPUTS))
    stripped: _TopK = field(default_factory=lambda: _TopK(TOP_INPUTS))
    workers: dict[str, int] = field(default_factory=dict)  # worker → peak RSS (KiB)
    clean_s: float = 0.0

    def add_entry(self, entry: dict[str, Any]) -> None:
        self.inputs.append(entry)
        self.counts[entry["status"]] += 1
        if entry["status"] == "quarantined":
            self.quarantined_by_reason[str(entry.get("reason"))] += 1


class RunCommitter:
    """Commits a run's batch results in order and accumulates its report."""

    def __init__(
        self,
        store: Store,
        state: IngestState | None,
        run_id: str,
        batches: Sequence[Batch],
        *,
        stamps: Mapping[str, FileStamp] | None = None,
        totals: RunTotals | None = None,
        template_store: TemplateStore | None = None,
        template_plan: TemplatePlan | None = None,
        template_rule: str = "",
    ) -> None:
        self.store = store
        self.state = state
        self.run_id = run_id
        self.stamps = dict(stamps or {})  # dropped file by file as files are committed
        self.feed = FeedJournal(store.feed_path(run_id))
        self.totals = totals if totals is not None else RunTotals(inputs=store.entry_log())
        self.template_store = template_store
        self.template_plan = template_plan
        self.template_rule = template_rule
        self._batch_paths: dict[int, list[str]] = {}
        self._remaining: Counter[str] = Counter()
        for batch in batches:
            paths = [u.path for u in batch.units]
            self._batch_paths[batch.index] = paths
            self._remaining.update(paths)
        self._docs_read: Counter[str] = Counter()
        self._transient: set[str] = set()
        self._batches = 0

    # -- entry points ---------------------------------------------------------------------------

    def add_entries(self, entries: Iterable[dict[str, Any]]) -> None:
        """Report entries of inputs not processed in this run (unchanged, moved, missing)."""
        for entry in entries:
            self.totals.add_entry(entry)

    def commit_batch(self, result: BatchResult) -> None:
        """Commit one batch's results; files all of whose units are done get their state row."""
        t = self.totals
        t.clean_s += result.seconds
        worker = getattr(result, "worker", None)
        if worker:
            t.workers[worker] = max(t.workers.get(worker, 0), int(getattr(result, "peak_rss_kb", 0)))
        completed: list[str] = []
        for path in self._batch_paths.pop(result.index, ()):
            self._remaining[path] -= 1
            if self._remaining[path] == 0:
                completed.append(path)
        segments = _segments(result.results)
        for i, segment in enumerate(segments):
            last = i == len(segments) - 1
            self._commit_segment(result.index, segment, completed if last else [])
        if not segments:
            self._commit_segment(result.index, [], completed)
        self._batches += 1
        for path in completed:  # a committed file's bookkeeping is not needed any more
            del self._remaining[path]
            self.stamps.pop(path, None)
            self._docs_read.pop(path, None)
            self._transient.discard(path)

    # -- one segment ----------------------------------------------------------------------------

    def _commit_segment(self, batch: int, results: Sequence[DocResult], completed: Sequence[str]) -> None:
        run_id = self.run_id
        for r in results:
            if r.path is not None:
                self._docs_read[r.path] += 1
                if _transient(r):
                    self._transient.add(r.path)
        previous = self.state.docs(r.uri for r in results) if self.state is not None else {}

        # Supersede: an input read before with other bytes gives up what it produced.
        drop: dict[str, set[tuple[str, str | None]]] = {}
        replaced_by: dict[str, set[str]] = {}
        replaces: dict[str, set[str]] = {}
        dropped_uris: dict[str, set[str]] = {}
        for r in results:
            prev = previous.get(r.uri)
            if prev is None or _transient(r) or prev.article_id is None:
                continue
            sha = self._doc_sha(r)
            if sha is not None and sha == prev.sha256:
                continue
            keep = sha if r.status == "article" else None
            drop.setdefault(prev.article_id, set()).add((r.uri, keep))
            dropped_uris.setdefault(prev.article_id, set()).add(r.uri)
            if prev.origin and not os.path.exists(prev.origin):
                drop[prev.article_id].add((prev.origin, None))
            if r.article_id is not None and r.article_id != prev.article_id:
                replaced_by.setdefault(prev.article_id, set()).add(r.article_id)
                replaces.setdefault(r.article_id, set()).add(prev.article_id)

        article_inputs = [
            ArticleInput(i, r.source, r.record)
            for i, r in enumerate(results)
            if r.status == "article" and r.source is not None and r.record is not None
        ]
        plan = self.store.plan_articles(article_inputs, run_id, drop=drop)
        for line in plan.feed:
            aid = line["id"]
            if line["change"] == "removed":
                line["uris"] = sorted(dropped_uris.get(aid, ()))
                line["replaced_by"] = sorted(replaced_by.get(aid, ()))
            elif aid in replaces:
                line["replaces"] = sorted(replaces[aid])

        _hook("before_feed", batch)
        self.feed.append(plan.feed)
        _hook("after_feed", batch)
        self.store.write_articles(plan)
        quarantined: dict[int, str] = {}
        for i, r in enumerate(results):
            if r.quarantine is not None:
                quarantined[i] = self.store.quarantine(r.quarantine, run_id)
        self._update_templates(results)

        docs: list[DocRow] = []
        t = self.totals
        for i, r in enumerate(results):
            status = plan.statuses.get(i, "ingested") if r.status == "article" else r.status
            entry: dict[str, Any] = {"uri": r.uri, "status": status}
            optional = {
                "article_id": r.article_id,
                "reason": r.reason,
                "detail": r.detail,
                "format": r.format,
                "encoding": r.encoding,
                "quarantine": quarantined.get(i),
            }
            entry.update({k: v for k, v in optional.items() if v is not None})
            if r.seconds:
                entry["seconds"] = round(r.seconds, 6)
            t.add_entry(entry)
            t.by_rule.update(dict(r.removals_by_rule))
            t.by_category.update(dict(r.removals_by_category))
            if r.seconds:
                t.slowest.add(r.seconds, {"uri": r.uri, "status": status, "seconds": round(r.seconds, 4)})
            stripped = _stripped(r)
            if stripped is not None:
                t.stripped.add(stripped["removed_share"], {"uri": r.uri, "status": status, **stripped})
            if r.path is not None and not _transient(r):
                row = DocRow(r.uri, r.path, self._doc_sha(r), "article" if r.status == "article" else status,
                             r.article_id, None, _stored(entry), run_id)
                if not _same_doc(previous.get(r.uri), row):
                    docs.append(row)
        t.articles_written += len(plan.writes)
        t.articles_removed += len(plan.deletes)

        files: list[FileRow] = []
        for path in completed:
            stamp = self.stamps.get(path)
            if stamp is None or path in self._transient:
                continue
            file_row = FileRow(path, stamp.size, stamp.mtime_ns, stamp.sha256, self._docs_read[path], "ingested",
                               None, run_id)
            old = self.state.file(path) if self.state is not None else None
            if old is None or dataclasses.replace(old, run_id=run_id) != file_row:
                files.append(file_row)
        _hook("before_state", batch)
        if self.state is not None:
            self.state.commit(files, docs, (run_id, self.feed.bytes, self._batches + 1) if self.feed.bytes else None)
        _hook("after_state", batch)

    def _doc_sha(self, r: DocResult) -> str | None:
        if r.sha256 is not None:
            return r.sha256
        stamp = self.stamps.get(r.uri) if r.path == r.uri else None  # a plain file refused unread
        return stamp.sha256 if stamp is not None else None

    def _update_templates(self, results: Sequence[DocResult]) -> None:
        t = self.totals
        for r in results:
            n = dict(r.removals_by_rule).get(self.template_rule, 0) if self.template_rule else 0
            if n and r.site is not None:
                t.template_removed_by_site[r.site] += n
                t.template_pages_with_removals += 1
        if self.template_store is None or self.template_plan is None:
            return
        pages: list[PageLines] = self.template_plan.pages_for_store(
            (r.site, r.page, r.line_hashes) for r in results if r.site is not None and r.page is not None
        )
        if pages:
            t.template_pages_added.update(self.template_store.update(pages))


def _stored(entry: Mapping[str, Any]) -> dict[str, Any]:
    """What a state row keeps of a report entry: not the uri and status (columns) nor timings."""
    return {k: v for k, v in entry.items() if k not in ("uri", "status", "seconds")}


def _same_doc(old: DocRow | None, new: DocRow) -> bool:
    return old is not None and (old.path, old.sha256, old.status, old.article_id, old.origin, dict(old.entry)) == (
        new.path, new.sha256, new.status, new.article_id, new.origin, dict(new.entry))


def _transient(r: DocResult) -> bool:
    return r.status == "quarantined" and r.reason in TRANSIENT_REASONS and (
        r.quarantine is None or not r.quarantine.copy)


def _stripped(r: DocResult) -> dict[str, Any] | None:
    """Kept and removed characters of a cleaned article (``None`` for other outcomes)."""
    if r.record is None:
        return None
    kept = len(r.record.get("text") or "") + len(r.record.get("title") or "")
    removed = sum(len(x.get("text") or "") for x in r.record.get("removed") or ())
    total = kept + removed
    if total == 0:
        return None
    return {"removed_share": round(removed / total, 4), "removed_chars": removed, "kept_chars": kept,
            "removed_blocks": len(r.record.get("removed") or ())}


def _segments(results: Sequence[DocResult]) -> list[list[DocResult]]:
    """Split at every uri read a second time, so each segment has each uri once."""
    segments: list[list[DocResult]] = []
    current: list[DocResult] = []
    seen: set[str] = set()
    for r in results:
        if r.uri in seen:
            segments.append(current)
            current, seen = [], set()
        current.append(r)
        seen.add(r.uri)
    if current:
        segments.append(current)
    return segments


# -- recovery -------------------------------------------------------------------------------------


def recover(store: Store, state: IngestState, current_run_id: str) -> list[dict[str, Any]]:
    """Finish runs that crashed (a feed partition but no run report): see the module doc.

    Returns one summary per recovered run (also written as its run report)."""
    root = store.root
    for folder in ("articles", "feed", "runs", "quarantine"):
        for tmp in (root / folder).glob(".*.tmp") if (root / folder).is_dir() else ():
            with contextlib.suppress(OSError):
                tmp.unlink()
    recovered: list[dict[str, Any]] = []
    feed_dir = root / "feed"
    if not feed_dir.is_dir():
        return recovered
    for feed in sorted(feed_dir.glob("*.jsonl")):
        run_id = feed.stem
        if run_id == current_run_id or store.run_path(run_id).exists():
            continue
        committed = state.run_feed_bytes(run_id)
        data = feed.read_bytes()
        end = data.rfind(b"\n") + 1
        cut = len(data) - end
        if cut:
            with open(feed, "r+b") as f:
                f.truncate(end)
                f.flush()
                os.fsync(f.fileno())
        replayed = written = 0
        for raw in data[min(committed, end):end].splitlines():
            if raw.strip():
                written += _replay(store, json.loads(raw))
                replayed += 1
        summary = {
            "run_id": run_id,
            "status": "crashed",
            "recovered_by": current_run_id,
            "feed_lines": data[:end].count(b"\n"),
            "feed_lines_replayed": replayed,
            "articles_written": written,
            "feed_bytes_cut": cut,
            "note": "this run stopped before its end; its feed lines stand, its unfinished inputs were "
                    "ingested by the recovering run",
        }
        store.write_run_report(run_id, summary)
        recovered.append(summary)
    return recovered


def _replay(store: Store, line: Mapping[str, Any]) -> int:
    """Apply one feed line to the article files; 1 if a file was written or deleted."""
    path = store.article_path(str(line["id"]))
    if line.get("change") == "removed":
        try:
            path.unlink()
        except FileNotFoundError:
            return 0
        return 1
    record = line.get("article")
    if not isinstance(record, Mapping):
        return 0
    data = dumps_record(record).encode("utf-8")
    try:
        if path.read_bytes() == data:
            return 0
    except FileNotFoundError:
        pass
    atomic_write(path, data)
    return 1



# -- the run report as markdown (the Prefect artifact's detail page) -------------------------------


def details_markdown(report: Mapping[str, Any]) -> str:
    """The slowest and the most stripped inputs, quarantine reasons and workers, as markdown."""
    counts = report.get("counts", {})
    lines = [f"# cleanfeed run {report.get('run_id')}", "",
             f"{counts.get('inputs', 0)} inputs, {report.get('incremental', {}).get('docs_read', 0)} read, "
             f"{counts.get('articles_written', 0)} articles written, "
             f"{counts.get('articles_removed', 0)} removed, {report.get('duration_s', 0)} s.", ""]

    def table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        lines.extend([f"## {title}", ""])
        if not rows:
            lines.extend(["(none)", ""])
            return
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        for row in rows:
            lines.append("| " + " | ".join(_md(c) for c in row) + " |")
        lines.append("")

    table("Slowest inputs", ("input", "status", "seconds"),
          [(i["uri"], i["status"], f"{i['seconds']:.3f}") for i in report.get("slowest", ())])
    table("Most stripped inputs", ("input", "status", "removed", "removed chars", "kept chars", "removed blocks"),
          [(i["uri"], i["status"], f"{100 * i['removed_share']:.0f} %", i["removed_chars"], i["kept_chars"],
            i["removed_blocks"]) for i in report.get("most_stripped", ())])
    table("Quarantined by reason", ("reason", "inputs"), list(report.get("quarantined_by_reason", {}).items()))
    table("Workers (peak memory)", ("worker", "peak RSS MiB"), list(report.get("workers", {}).items()))
    return "\n".join(lines)


def _md(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")
