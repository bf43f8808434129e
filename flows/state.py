"""Incremental state of an output folder, and the run lock.

**State** (:class:`IngestState`): ``OUT/state/ingest.sqlite`` (SQLite, rollback journal)::

    files(path, size, mtime_ns, sha256, docs, status, origin, run_id)
        one row per input file whose documents are all committed. ``size``/``mtime_ns`` are the
        cheap pre-check, ``sha256`` (of the whole file) the truth. ``status``: ``ingested``, or
        ``moved`` (the same bytes were ingested under ``origin``, which no longer exists).
    docs(uri, path, sha256, status, article_id, origin, entry, run_id)
        one row per input document (a file, or a JSONL record), keyed by its uri: where it was read
        from, the sha256 of its bytes, its outcome (``article``, ``empty``, ``quarantined``, or
        ``moved``: with ``origin``), the article it produced, and its run-report entry (reason,
        format, encoding, quarantine copy...). A row is rewritten only when one of these changes.
    runs(run_id, feed_bytes, batches)
        for a run that committed feed lines: the length of its feed partition covered by committed
        state rows (crash recovery replays what lies beyond).

A run selects its work with :meth:`IngestState.select` (size+mtime, then sha256) and commits each
batch's rows with :meth:`IngestState.commit` in one transaction, after the batch's feed lines and
article files are written (see :mod:`flows.commit`). Nothing is written when nothing changed: the
database is opened read-only until the first write, and uses the rollback journal (no ``-wal``
files), so a run with no new input leaves the folder byte for byte as it was.

Inputs that could not be read (vanished, permission denied: quarantined without a copy) get no
rows, so the next run tries them again. Rows are never deleted: an input that left the inbox keeps
its rows (a file moved back is then recognised). About 300 bytes per document.

**Lock** (:class:`RunLock`): ``fcntl.flock`` on ``OUT/.lock``, held for the whole run. The file is
created once and never written, so it does not change between runs.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from flows.sources import Discovery, WorkUnit

__all__ = [
    "DB_NAME",
    "LOCK_NAME",
    "STATE_DIR",
    "DocRow",
    "FileRow",
    "IngestState",
    "LockBusyError",
    "RunLock",
    "Selection",
    "hash_file",
]

STATE_DIR: Final = "state"
DB_NAME: Final = "ingest.sqlite"
LOCK_NAME: Final = ".lock"
SCHEMA_VERSION: Final = 1

# Seconds SQLite waits for another connection's write lock; runs are serialised by the run lock,
# so this only covers readers (a user's sqlite3 shell) holding a short lock.
SQLITE_TIMEOUT_S: Final = 30.0

# Values bound per SQL statement (SQLite's limit is 32766 since 3.32, 999 before).
SQL_CHUNK: Final = 900

# Block size for streaming file hashes.
HASH_CHUNK_BYTES: Final = 1024 * 1024

# Row statuses of documents that produced an article (``article``), or whose bytes were ingested
# under another path (``moved``). Run-report statuses (``ingested``/``duplicate``/``unchanged``) are
# about one run and are not stored, so re-reading an input rewrites no row.
ARTICLE_ROW_STATUSES: Final = frozenset({"article", "moved"})

# How often a run waiting for the lock tries again.
LOCK_POLL_S: Final = 0.2

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files(
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    docs INTEGER NOT NULL,
    status TEXT NOT NULL,
    origin TEXT,
    run_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS files_sha256 ON files(sha256);
CREATE TABLE IF NOT EXISTS docs(
    uri TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    sha256 TEXT,
    status TEXT NOT NULL,
    article_id TEXT,
    origin TEXT,
    entry TEXT NOT NULL,
    run_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_path ON docs(path);
CREATE TABLE IF NOT EXISTS runs(
    run_id TEXT PRIMARY KEY,
    feed_bytes INTEGER NOT NULL,
    batches INTEGER NOT NULL
);
"""


def hash_file(path: str) -> tuple[str, int]:
    """sha256 hex digest and size of a file, streaming."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(HASH_CHUNK_BYTES):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


@dataclass(frozen=True, slots=True)
class FileRow:
    path: str
    size: int
    mtime_ns: int
    sha256: str
    docs: int
    status: str
    origin: str | None
    run_id: str


@dataclass(frozen=True, slots=True)
class DocRow:
    uri: str
    path: str
    sha256: str | None
    status: str
    article_id: str | None
    origin: str | None
    entry: Mapping[str, Any]
    run_id: str


@dataclass(frozen=True, slots=True)
class FileStamp:
    """What selection saw of a file before it was read: recorded once the file is committed."""

    size: int
    mtime_ns: int
    sha256: str


@dataclass(slots=True)
class Selection:
    """What :meth:`IngestState.select` decided.

    ``units``: the work (files new or changed, in discovery order); ``stamps``: path → what was
    seen of each selected file; ``skipped``: run-report entries of the documents of unchanged and
    moved files (their rows' entries; empty when ``select`` was given ``on_skipped``); ``rows``:
    file/doc rows to write now (moved files, and unchanged files whose mtime changed)."""

    units: list[WorkUnit] = field(default_factory=list)
    stamps: dict[str, FileStamp] = field(default_factory=dict)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    files: list[FileRow] = field(default_factory=list)
    docs: list[DocRow] = field(default_factory=list)
    unchanged_files: int = 0
    moved_files: int = 0


class IngestState:
    """The state database of one output folder; opened lazily, created on the first write."""

    def __init__(self, out: str | os.PathLike[str]) -> None:
        self.path = Path(out) / STATE_DIR / DB_NAME
        self._conn: sqlite3.Connection | None = None
        self._writable = False

    # -- connections ----------------------------------------------------------------------------

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
            self._writable = False

    def __enter__(self) -> IngestState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _reader(self) -> sqlite3.Connection | None:
        """A connection for reading, or ``None`` when there is no database yet (nothing known)."""
        if self._conn is None:
            if not self.path.is_file():
                return None
            uri = f"file:{self.path}?mode=ro"
            self._conn = sqlite3.connect(uri, uri=True, timeout=SQLITE_TIMEOUT_S, isolation_level=None)
        return self._conn

    def _writer(self) -> sqlite3.Connection:
        if not self._writable:
            self.close()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=SQLITE_TIMEOUT_S, isolation_level=None)
            conn.execute("PRAGMA journal_mode=DELETE")
            conn.execute("PRAGMA synchronous=FULL")
            with _transaction(conn):
                for statement in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
                    conn.execute(statement)
                conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
                             (str(SCHEMA_VERSION),))
            self._conn = conn
            self._writable = True
        assert self._conn is not None
        return self._conn

    # -- reads ----------------------------------------------------------------------------------

    def file(self, path: str) -> FileRow | None:
        conn = self._reader()
        if conn is None:
            return None
        row = conn.execute("SELECT * FROM files WHERE path = ?", (path,)).fetchone()
        return FileRow(*row) if row else None

    def files_with_sha(self, sha256: str) -> list[FileRow]:
        conn = self._reader()
        if conn is None:
            return []
        rows = conn.execute("SELECT * FROM files WHERE sha256 = ? ORDER BY path", (sha256,)).fetchall()
        return [FileRow(*r) for r in rows]

    def docs_of(self, path: str) -> list[DocRow]:
        """The documents last read from ``path``, in the order they were read."""
        conn = self._reader()
        if conn is None:
            return []
        rows = conn.execute("SELECT * FROM docs WHERE path = ? ORDER BY rowid", (path,)).fetchall()
        return [_doc_row(r) for r in rows]

    def docs(self, uris: Iterable[str]) -> dict[str, DocRow]:
        conn = self._reader()
        if conn is None:
            return {}
        found: dict[str, DocRow] = {}
        wanted = sorted(set(uris))
        for i in range(0, len(wanted), SQL_CHUNK):
            chunk = wanted[i:i + SQL_CHUNK]
            marks = ",".join("?" * len(chunk))
            for r in conn.execute(f"SELECT * FROM docs WHERE uri IN ({marks})", chunk):
                row = _doc_row(r)
                found[row.uri] = row
        return found

    def run_feed_bytes(self, run_id: str) -> int:
        conn = self._reader()
        if conn is None:
            return 0
        row = conn.execute("SELECT feed_bytes FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return int(row[0]) if row else 0

    def counts(self) -> dict[str, int]:
        """Rows per table (for reports and tests)."""
        conn = self._reader()
        if conn is None:
            return {"files": 0, "docs": 0, "runs": 0}
        return {t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in ("files", "docs", "runs")}

    # -- selection ------------------------------------------------------------------------------

    def select(self, found: Discovery, run_id: str, *, full: bool = False,
               on_skipped: Callable[[dict[str, Any]], None] | None = None) -> Selection:
        """Split discovered units into work (new or changed files) and skips (unchanged, moved).

        Per file: size and mtime equal to its row → unchanged, unread. Otherwise its sha256 decides:
        equal to its row → unchanged (the row's mtime is refreshed); a path never seen whose bytes
        were ingested under another path that no longer exists → moved (rows point at the origin;
        nothing is cleaned); anything else (new bytes, a copy whose origin still exists, a changed
        file) → work. A file that cannot be stat'ed or hashed is work: the reader reports it.

        ``full``: every file is work (re-read and re-cleaned, e.g. after an engine upgrade).
        ``on_skipped``: called with each skipped entry, in order, instead of collecting them in
        ``skipped`` (a re-run of an unchanged corpus then holds none of them).
        """
        sel = Selection()
        skip = on_skipped if on_skipped is not None else sel.skipped.append
        for path, units in _by_path(found.units):
            try:
                st = os.stat(path)
            except OSError:
                sel.units.extend(units)
                continue
            row = None if full else self.file(path)
            if row is not None and row.size == st.st_size and row.mtime_ns == st.st_mtime_ns:
                self._skip(sel, path, row, skip)
                sel.unchanged_files += 1
                continue
            try:
                sha, size = hash_file(path)
            except OSError:
                sel.units.extend(units)
                continue
            if row is not None and row.sha256 == sha:
                sel.files.append(FileRow(path, size, st.st_mtime_ns, sha, row.docs, row.status, row.origin, run_id))
                self._skip(sel, path, row, skip)
                sel.unchanged_files += 1
                continue
            if row is None and not full:
                origin = next((o for o in self.files_with_sha(sha)
                               if o.path != path and not os.path.exists(o.path)), None)
                if origin is not None:
                    self._moved(sel, path, size, st.st_mtime_ns, sha, origin, run_id, skip)
                    continue
            sel.units.extend(units)
            sel.stamps[path] = FileStamp(size, st.st_mtime_ns, sha)
        return sel

    def _skip(self, sel: Selection, path: str, row: FileRow, skip: Callable[[dict[str, Any]], None]) -> None:
        docs = self.docs_of(path)
        if not docs and row.status == "moved" and row.origin:
            docs = self.docs_of(row.origin)
        for doc in docs:
            status = "unchanged" if doc.status in ARTICLE_ROW_STATUSES else doc.status
            skip({"uri": doc.uri, "status": status, **_rest(doc.entry)})

    def _moved(self, sel: Selection, path: str, size: int, mtime_ns: int, sha: str,
               origin: FileRow, run_id: str, skip: Callable[[dict[str, Any]], None]) -> None:
        sel.moved_files += 1
        sel.files.append(FileRow(path, size, mtime_ns, sha, origin.docs, "moved", origin.path, run_id))
        for doc in self.docs_of(origin.path):
            status = "moved" if doc.status in ARTICLE_ROW_STATUSES else doc.status
            uri = path if doc.uri == origin.path else doc.uri  # a plain file's uri is its path
            entry = {"uri": uri, "status": status, **_rest(doc.entry), "moved_from": doc.uri}
            if uri != doc.uri:
                sel.docs.append(DocRow(uri, path, doc.sha256, status, doc.article_id, origin.path,
                                       _rest(entry), run_id))
            skip(entry)

    # -- writes ---------------------------------------------------------------------------------

    def commit(self, files: Sequence[FileRow] = (), docs: Sequence[DocRow] = (),
               run: tuple[str, int, int] | None = None) -> None:
        """Write rows in one transaction (nothing is opened for writing when there are none).

        ``run``: (run_id, feed_bytes, batches) for the run's feed progress."""
        if not files and not docs and run is None:
            return
        conn = self._writer()
        with _transaction(conn):
            conn.executemany(
                "INSERT OR REPLACE INTO files(path, size, mtime_ns, sha256, docs, status, origin, run_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(f.path, f.size, f.mtime_ns, f.sha256, f.docs, f.status, f.origin, f.run_id) for f in files],
            )
            # A uri read again keeps its place in insertion order only if it came from the same file.
            conn.executemany("DELETE FROM docs WHERE uri = ? AND path != ?", [(d.uri, d.path) for d in docs])
            conn.executemany(
                "INSERT INTO docs(uri, path, sha256, status, article_id, origin, entry, run_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(uri) DO UPDATE SET"
                " sha256=excluded.sha256, status=excluded.status, article_id=excluded.article_id,"
                " origin=excluded.origin, entry=excluded.entry, run_id=excluded.run_id",
                [(d.uri, d.path, d.sha256, d.status, d.article_id, d.origin,
                  json.dumps(d.entry, ensure_ascii=False, sort_keys=True), d.run_id) for d in docs],
            )
            if run is not None:
                conn.execute("INSERT OR REPLACE INTO runs(run_id, feed_bytes, batches) VALUES (?, ?, ?)", run)


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _rest(entry: Mapping[str, Any]) -> dict[str, Any]:
    """An entry without what a row stores apart or what changes from run to run."""
    return {k: v for k, v in entry.items() if k not in ("uri", "status", "seconds")}


def _doc_row(r: Sequence[Any]) -> DocRow:
    return DocRow(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), r[7])


def _by_path(units: Sequence[WorkUnit]) -> Iterator[tuple[str, list[WorkUnit]]]:
    """Units grouped by file, in discovery order (a file's units are adjacent)."""
    current: list[WorkUnit] = []
    for unit in units:
        if current and unit.path != current[0].path:
            yield current[0].path, current
            current = []
        current.append(unit)
    if current:
        yield current[0].path, current


# -- the run lock ---------------------------------------------------------------------------------


class LockBusyError(RuntimeError):
    """Another run holds the output folder's lock."""

    def __init__(self, path: Path, waited: float, holder: int | None) -> None:
        who = f"process {holder}" if holder else "another process"
        how = f"after waiting {waited:g} s" if waited > 0 else "(not waiting: --wait-lock 0)"
        super().__init__(f"another ingest run ({who}) is writing to {path.parent}; lock {path} still held {how}")
        self.path = path
        self.holder = holder

    @classmethod
    def from_message(cls, message: str, holder: int | None = None) -> LockBusyError:
        """The error as reported by a run in another process (e.g. a Prefect flow run)."""
        exc = cls.__new__(cls)
        RuntimeError.__init__(exc, message)
        exc.path = Path(LOCK_NAME)
        exc.holder = holder
        return exc


class RunLock:
    """An exclusive ``flock`` on ``OUT/.lock``; waits up to ``wait`` seconds (``None``: forever).

    The lock goes with the process: a run killed with SIGKILL releases it at once."""

    def __init__(self, out: str | os.PathLike[str], wait: float | None = 0.0) -> None:
        self.path = Path(out) / LOCK_NAME
        self.wait = wait
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = None if self.wait is None else time.monotonic() + self.wait
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                        raise
                if deadline is not None and time.monotonic() >= deadline:
                    raise LockBusyError(self.path, self.wait or 0.0, _lock_holder(fd))
                time.sleep(LOCK_POLL_S if deadline is None else min(LOCK_POLL_S, max(0.0, deadline - time.monotonic())))
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def _lock_holder(fd: int) -> int | None:
    """The pid holding a flock on ``fd``'s file, from ``/proc/locks`` (Linux); ``None`` if unknown."""
    try:
        st = os.fstat(fd)
        with open("/proc/locks", encoding="ascii", errors="replace") as f:
            lines = f.readlines()
    except OSError:
        return None
    suffix = f":{st.st_ino}"
    for line in lines:
        parts = line.split()
        # "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"; blocked waiters are marked "->"
        if len(parts) >= 6 and parts[1] == "FLOCK" and parts[5].endswith(suffix):
            with contextlib.suppress(ValueError):
                return int(parts[4])
    return None
