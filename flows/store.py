"""The output folder contract.

::

    OUT/articles/<id>.json              one canonical article (record.dumps_record bytes)
    OUT/feed/<run_id>.jsonl             articles new or changed in that run, one JSON line each
    OUT/runs/<run_id>.json              the run report
    OUT/quarantine/<name>-<sha8>.<ext>  a copy of a refused input
    OUT/quarantine/<name>-<sha8>.<ext>.reason.json   why: {uri, reason, detail, run_id, size}

Every file is written atomically (temp file in the same folder, fsync, ``os.replace``), and only
when its bytes change: re-running on the same inputs rewrites nothing and keeps mtimes. The feed
partition is the exception: a run appends to it batch by batch, as its journal (see
:mod:`flows.commit`, which also owns ``OUT/state/ingest.sqlite`` and ``OUT/.lock``).

An article's sources are the union of every input it was read from, across runs. Its content
(everything but ``sources``) comes from the source that sorts first by (uri, sha256) among those
whose content is at hand, so the result does not depend on the order or grouping of runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import tempfile
import weakref
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final, Literal, overload

from cleaners.record import Source, dumps_record, record_sources, with_sources
from flows.sources import QuarantineItem

__all__ = [
    "ArticleInput",
    "ArticlePlan",
    "EntryLog",
    "Store",
    "atomic_write",
    "atomic_write_chunks",
    "new_run_id",
    "report_chunks",
]

ARTICLES_DIR: Final = "articles"
FEED_DIR: Final = "feed"
RUNS_DIR: Final = "runs"
QUARANTINE_DIR: Final = "quarantine"

# Longest sanitised input name kept in a quarantine file name (the tail of the path is kept): with
# the hash and extension that stays well under the 255-byte file-name limit of common filesystems.
QUARANTINE_NAME_MAX: Final = 80

# Hex characters of the content hash in a quarantine file name: 32 bits tell apart different bytes
# read from the same input name, which is all the name has to do.
QUARANTINE_SHA_HEX: Final = 8

# Block size for streaming copies and hashes of quarantined inputs (they may be larger than
# max_bytes, so they are never loaded whole).
COPY_CHUNK_BYTES: Final = 1024 * 1024

# Bytes read at a time when an :class:`EntryLog` is read back (entries are ~200-500 bytes each).
ENTRY_LOG_READ_BYTES: Final = 256 * 1024

_UNSAFE_RE: Final = re.compile(r"[^A-Za-z0-9._-]+")

InputStatus = Literal["ingested", "duplicate", "unchanged"]


def new_run_id(now: datetime | None = None) -> str:
    """``YYYYMMDDTHHMMSSZ-<6 hex>``: sortable by start time, unique across concurrent runs."""
    now = now or datetime.now(UTC)
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part.

    A temp file in the same folder is written, fsynced and renamed over ``path``; on any error the
    temp file is removed and the error propagates.
    """
    atomic_write_chunks(path, (data,))


def atomic_write_chunks(path: Path, chunks: Iterable[bytes]) -> None:
    """:func:`atomic_write` for content streamed in chunks (a large file copied without reading
    it into memory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    """Make a rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@dataclass(frozen=True, slots=True)
class ArticleInput:
    """An input that produced an article: its position in the run, its source, its record."""

    index: int
    source: Source
    record: Mapping[str, Any]


@dataclass(slots=True)
class ArticlePlan:
    """What committing a run's articles will do; computed from the folder before writing."""

    statuses: dict[int, InputStatus] = field(default_factory=dict)
    writes: list[tuple[Path, bytes]] = field(default_factory=list)
    feed: list[dict[str, Any]] = field(default_factory=list)
    deletes: list[Path] = field(default_factory=list)

    @property
    def articles_written(self) -> int:
        return len(self.writes)


class Store:
    """The output folder ``root``; folders are created when first written to."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def article_path(self, article_id: str) -> Path:
        if not re.fullmatch(r"[0-9A-Za-z_-]+", article_id):
            raise ValueError(f"unsafe article id {article_id!r}")
        return self.root / ARTICLES_DIR / f"{article_id}.json"

    def feed_path(self, run_id: str) -> Path:
        return self.root / FEED_DIR / f"{run_id}.jsonl"

    def run_path(self, run_id: str) -> Path:
        return self.root / RUNS_DIR / f"{run_id}.json"

    # -- articles -------------------------------------------------------------------------------

    def plan_articles(self, inputs: Sequence[ArticleInput], run_id: str,
                      drop: Mapping[str, Collection[tuple[str, str | None]]] | None = None) -> ArticlePlan:
        """Merge this run's articles with the folder: new bytes, input statuses, feed lines.

        Per input: ``unchanged`` if its source was already listed and the article content is the
        same; ``duplicate`` if the article already existed or an earlier input of this run had it
        and this source is new; ``ingested`` otherwise (first sight, or content updated).

        ``drop``: article id → ``(uri, keep_sha256)``: sources of that uri are removed from the
        article first, except the one with ``keep_sha256`` (an input that changed supersedes what
        it produced before). An article left without sources is deleted (feed ``"removed"``).
        """
        drop = drop or {}
        groups: dict[str, list[ArticleInput]] = {}
        for item in inputs:
            groups.setdefault(str(item.record["id"]), []).append(item)
        plan = ArticlePlan()
        for article_id in [*groups, *(a for a in drop if a not in groups)]:
            members = groups.get(article_id, [])
            path = self.article_path(article_id)
            old_bytes = _read_bytes(path)
            old_record = _parse_record(old_bytes)
            existing = set(record_sources(old_record)) if old_record is not None else set()
            dropped = drop.get(article_id, ())
            if dropped:
                existing = {s for s in existing if not any(s.uri == uri and s.sha256 != keep for uri, keep in dropped)}
            if not members:  # only sources dropped
                if old_record is None:
                    continue
                if not existing:
                    plan.deletes.append(path)
                    plan.feed.append({"run_id": run_id, "change": "removed", "id": article_id, "article": None})
                    continue
                new_record = with_sources(old_record, existing)
                new_bytes = dumps_record(new_record).encode("utf-8")
                if new_bytes != old_bytes:
                    plan.writes.append((path, new_bytes))
                    plan.feed.append({"run_id": run_id, "change": "changed", "id": article_id, "article": new_record})
                continue
            best = min(members, key=lambda m: m.source)
            if old_record is not None and existing and min(existing) < best.source:
                body: Mapping[str, Any] = old_record
            else:
                body = best.record
            new_record = with_sources(body, existing | {m.source for m in members})
            same_content = old_record is not None and _content(old_record) == _content(new_record)
            seen = False
            for member in members:
                if member.source in existing:
                    plan.statuses[member.index] = "unchanged" if same_content else "ingested"
                elif existing or seen:
                    plan.statuses[member.index] = "duplicate"
                else:
                    plan.statuses[member.index] = "ingested"
                seen = True
            new_bytes = dumps_record(new_record).encode("utf-8")
            if new_bytes != old_bytes:
                plan.writes.append((path, new_bytes))
                change = "new" if old_bytes is None else "changed"
                plan.feed.append({"run_id": run_id, "change": change, "id": article_id, "article": new_record})
        return plan

    def write_feed(self, run_id: str, lines: Sequence[Mapping[str, Any]]) -> Path | None:
        """Write the run's feed partition at once; nothing is created for an empty feed."""
        if not lines:
            return None
        data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
        path = self.feed_path(run_id)
        atomic_write(path, data.encode("utf-8"))
        return path

    def write_articles(self, plan: ArticlePlan) -> None:
        for path, data in plan.writes:
            atomic_write(path, data)
        for path in plan.deletes:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        if plan.deletes:
            _fsync_dir(plan.deletes[0].parent)

    def commit_articles(self, plan: ArticlePlan, run_id: str) -> None:
        """Feed first, then article files: a crash in between re-emits the lines on the next run
        (at-least-once) instead of losing them."""
        self.write_feed(run_id, plan.feed)
        self.write_articles(plan)

    # -- quarantine -----------------------------------------------------------------------------

    def quarantine(self, item: QuarantineItem, run_id: str) -> str:
        """Copy what was read for ``item`` and write its reason file (each only if changed).

        Returns the copy's path relative to the output folder (or the reason file's, when nothing
        could be copied).
        """
        qdir = self.root / QUARANTINE_DIR
        qdir.mkdir(parents=True, exist_ok=True)
        safe = _safe_name(item.name or item.uri)
        ext = _UNSAFE_RE.sub("_", item.ext).strip("._") or "bin"
        detail = item.detail
        size = item.size
        copy_name: str | None = None
        if item.copy:
            try:
                sha, size = _hash_range(item.path, item.start, item.end)
                copy_name = f"{safe}-{sha[:QUARANTINE_SHA_HEX]}.{ext}"
                target = qdir / copy_name
                if not (target.is_file() and target.stat().st_size == size):
                    _copy_range(item.path, item.start, item.end, target)
            except OSError as exc:
                copy_name = None
                detail = f"{detail} (copy failed: {type(exc).__name__}: {exc.strerror or exc})"
        name = copy_name or f"{safe}-unread.{ext}"
        reason = {"uri": item.uri, "reason": item.reason, "detail": detail, "run_id": run_id, "size": size}
        reason_path = qdir / f"{name}.reason.json"
        old = _parse_json(_read_bytes(reason_path))
        if not (isinstance(old, dict) and {k: v for k, v in old.items() if k != "run_id"}
                == {k: v for k, v in reason.items() if k != "run_id"}):
            atomic_write(reason_path, (json.dumps(reason, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
        rel = qdir / name if copy_name else reason_path
        return rel.relative_to(self.root).as_posix()

    # -- run reports ----------------------------------------------------------------------------

    def write_run_report(self, run_id: str, report: Mapping[str, Any]) -> Path:
        """``json.dumps(report, ensure_ascii=False, indent=2)`` plus a newline, written streaming
        (an :class:`EntryLog` value is read back from its spool file entry by entry)."""
        path = self.run_path(run_id)
        atomic_write_chunks(path, (chunk.encode("utf-8") for chunk in report_chunks(report)))
        return path

    def entry_log(self) -> EntryLog:
        """A spool for a run report's per-input entries: an unnamed file in ``OUT`` (the output's
        disk, not a possibly memory-backed temp folder; no folder is created for it)."""
        return EntryLog(self.root)


class EntryLog(Sequence[dict[str, Any]]):
    """The per-input entries of a run report (``"inputs"``), spooled to an unnamed temporary file
    so that a run holds none of them in memory however many inputs it has (issue 5: memory stays
    flat). Read back in order, one at a time: iterating streams the file; ``log[i]`` scans to
    entry ``i``. Entries must be JSON values (they round-trip exactly: str, int, float, dicts).

    The file is created on the first append (in ``folder``, or the system temp folder) without a
    name (``O_TMPFILE``, or unlinked at once: nothing is left behind, even by a killed run) and
    closed with the log. ``json.dumps``
    does not know this type: write reports with :func:`report_chunks`. A copy or pickle of the log
    is a plain list."""

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.folder = folder
        self._file: IO[bytes] | None = None
        self._closer: weakref.finalize[[], EntryLog] | None = None
        self._n = 0

    def append(self, entry: Mapping[str, Any]) -> None:
        if self._file is None:
            if self.folder is not None:
                os.makedirs(self.folder, exist_ok=True)
            self._file = tempfile.TemporaryFile(dir=self.folder, prefix=".entries-")  # noqa: SIM115 (kept open)
            self._closer = weakref.finalize(self, self._file.close)  # closed with the log, no warning
        self._file.write(json.dumps(entry, ensure_ascii=False).encode("utf-8") + b"\n")
        self._n += 1

    def close(self) -> None:
        if self._closer is not None:
            self._closer()
            self._file = self._closer = None
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self._file is None:
            return
        self._file.flush()
        fd, offset, n, rest = self._file.fileno(), 0, self._n, b""
        while n:  # pread: appends may go on between two entries read
            block = os.pread(fd, ENTRY_LOG_READ_BYTES, offset)
            if not block:
                return
            offset += len(block)
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            for line in lines:
                if not n:
                    return
                n -= 1
                yield json.loads(line)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return list(self)[index]
        i = index + self._n if index < 0 else index
        if not 0 <= i < self._n:
            raise IndexError("entry index out of range")
        for j, entry in enumerate(self):
            if j == i:
                return entry
        raise IndexError("entry index out of range")  # pragma: no cover - the file was truncated

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (list, (list(self),))

    def __repr__(self) -> str:
        return f"EntryLog({self._n} entries)"


def report_chunks(report: Mapping[str, Any]) -> Iterator[str]:
    """The text of ``json.dumps(report, ensure_ascii=False, indent=2) + "\n"``, in pieces: a
    top-level :class:`EntryLog` value is written entry by entry instead of being loaded whole."""
    if not report:
        yield "{}\n"
        return

    def nested(value: Any, indent: str) -> str:  # a value as json.dumps renders it at that depth
        return json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n" + indent)

    yield "{"
    for i, (key, value) in enumerate(report.items()):
        yield ("," if i else "") + "\n  " + json.dumps(key, ensure_ascii=False) + ": "
        if isinstance(value, EntryLog):
            if not value:
                yield "[]"
                continue
            for j, entry in enumerate(value):
                yield ("," if j else "[") + "\n    " + nested(entry, "    ")
            yield "\n  ]"
        else:
            yield nested(value, "  ")
    yield "\n}\n"


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _parse_json(data: bytes | None) -> Any:
    if data is None:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


def _parse_record(data: bytes | None) -> dict[str, Any] | None:
    """An existing article record, or ``None`` if absent or unreadable (it is then rewritten)."""
    obj = _parse_json(data)
    if not isinstance(obj, dict) or not isinstance(obj.get("sources"), list):
        return None
    try:
        record_sources(obj)
    except (KeyError, TypeError):
        return None
    return obj


def _content(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "sources"}


def _safe_name(name: str) -> str:
    safe = _UNSAFE_RE.sub("_", name).strip("._-")
    return safe[-QUARANTINE_NAME_MAX:].lstrip("._-") or "input"


def _iter_range(path: str, start: int, end: int | None) -> Any:
    with open(path, "rb") as f:
        f.seek(start)
        done = 0
        while end is None or start + done < end:
            want = COPY_CHUNK_BYTES if end is None else min(COPY_CHUNK_BYTES, end - start - done)
            chunk = f.read(want)
            if not chunk:
                return
            done += len(chunk)
            yield chunk


def _hash_range(path: str, start: int, end: int | None) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    for chunk in _iter_range(path, start, end):
        h.update(chunk)
        size += len(chunk)
    return h.hexdigest(), size


def _copy_range(path: str, start: int, end: int | None, target: Path) -> None:
    atomic_write_chunks(target, _iter_range(path, start, end))
