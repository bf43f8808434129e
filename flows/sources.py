"""Discover inputs and read them as documents.

Discovery turns the user's paths into small, picklable :class:`WorkUnit`s (a file, a byte range
of up to ``batch_size`` lines of a JSONL file, found by scanning for newlines without parsing, or a
byte range of up to ``batch_size`` page records of a WARC archive, see :mod:`flows.warc`), so
batches sent to workers carry paths and offsets, never the text itself. :func:`read_unit` turns a
unit into :class:`InputDoc`s (bytes to clean) and :class:`QuarantineItem`s (inputs refused before
cleaning: oversized, unreadable, malformed JSONL, JSONL record without text).
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MAX_BYTES",
    "Batch",
    "Discovery",
    "InputDoc",
    "QuarantineItem",
    "WorkUnit",
    "any_inputs",
    "discover",
    "make_batches",
    "read_unit",
]

# Documents per batch (one Prefect task per batch). Cleaning takes ~10-20 ms per page, so 200 pages
# are 2-4 s of work: Prefect's per-task bookkeeping (~50-100 ms of state/API calls) stays under 5 %,
# while a batch's results (200 records of ~10-30 KB) stay at a few MB in memory.
DEFAULT_BATCH_SIZE: Final = 200

# Largest document read (a file, or one JSONL line). The biggest real news pages are ~2-3 MB of
# HTML; 20 MiB leaves ample room yet keeps a stray dump or video file from being loaded into memory.
DEFAULT_MAX_BYTES: Final = 20 * 1024 * 1024

# Block size for scanning JSONL files for newlines and for streaming hashes/copies.
SCAN_CHUNK_BYTES: Final = 1024 * 1024

JSONL_SUFFIXES: Final = frozenset({".jsonl", ".ndjson"})
TEXT_SUFFIXES: Final = frozenset({".txt", ".text"})
HTML_SUFFIXES: Final = frozenset({".html", ".htm", ".xhtml"})

Format = Literal["html", "text"]


@dataclass(frozen=True, slots=True)
class WorkUnit:
    """A file (``kind="file"``), lines ``first_line..`` at bytes ``[start, end)`` of a JSONL file, or
    the records at bytes ``[start, end)`` of a WARC archive (``kind="warc"``, ``first_line`` the
    ordinal of its first document; see :mod:`flows.warc`).

    ``docs`` is how many documents the unit holds (lines, for JSONL; blank lines included).
    """

    path: str
    kind: Literal["file", "jsonl", "warc"] = "file"
    start: int = 0
    end: int = 0
    first_line: int = 1
    docs: int = 1


@dataclass(frozen=True, slots=True)
class Batch:
    """Units cleaned together by one task, with the read limit that applies to them."""

    index: int
    units: tuple[WorkUnit, ...]
    max_bytes: int = DEFAULT_MAX_BYTES

    @property
    def docs(self) -> int:
        return sum(u.docs for u in self.units)


@dataclass(frozen=True, slots=True)
class Discovery:
    """What :func:`discover` found: units in a deterministic order, and paths that do not exist."""

    units: tuple[WorkUnit, ...]
    missing: tuple[str, ...] = ()

    @property
    def docs(self) -> int:
        return sum(u.docs for u in self.units)


@dataclass(frozen=True, slots=True)
class InputDoc:
    """One document's bytes, where they came from and what the container said they are.

    ``declared`` is the format implied by the extension or the JSONL field (``None``: unknown).
    ``path``/``start``/``end`` locate the bytes in the file, for quarantining; ``end`` ``None``
    means the whole file. ``name``/``ext`` give the quarantine file name. ``metadata``: facts the
    container states about the document (a WARC record's ``fetched_at``), for the article record.
    """

    uri: str
    sha256: str
    data: bytes
    declared: Format | None
    path: str
    start: int = 0
    end: int | None = None
    name: str = ""
    ext: str = "bin"
    metadata: tuple[tuple[str, str], ...] = ()

    def quarantine(self, reason: str, detail: str) -> QuarantineItem:
        return QuarantineItem(
            uri=self.uri,
            reason=reason,
            detail=detail,
            path=self.path,
            start=self.start,
            end=self.end,
            size=len(self.data) if self.end is None else self.end - self.start,
            name=self.name,
            ext=self.ext,
        )


@dataclass(frozen=True, slots=True)
class QuarantineItem:
    """An input refused with a reason code (``empty``, ``binary``, ``oversized``, ...).

    The store copies bytes ``[start, end)`` of ``path`` (``end`` ``None``: to the end of the file)
    into the quarantine folder, streaming, unless ``copy`` is false (nothing could be read).
    ``size`` is the size of those bytes; ``name``/``ext`` give the quarantine file name.
    """

    uri: str
    reason: str
    detail: str
    path: str
    start: int
    end: int | None
    size: int
    name: str
    ext: str
    copy: bool = True


def discover(paths: Sequence[str], *, out: str | os.PathLike[str] | None = None,
             batch_size: int = DEFAULT_BATCH_SIZE) -> Discovery:
    """Units for every input under ``paths``, in a deterministic order.

    Folders are walked recursively in sorted order, skipping hidden files and folders and the output
    folder ``out``; files named explicitly are always taken. A file reached twice is taken once.
    JSONL files are split into units of at most ``batch_size`` lines.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    out_real = os.path.realpath(out) if out is not None else None
    seen: set[str] = set()
    missing: list[str] = []
    units: list[WorkUnit] = []

    def take(path: str) -> None:
        real = os.path.realpath(path)
        if real in seen:
            return
        seen.add(real)
        units.extend(_units_for_file(path, batch_size))

    for given in map(os.path.normpath, paths):
        if os.path.isdir(given):
            for path in _walk(given, out_real):
                take(path)
        elif os.path.exists(given):
            take(given)
        else:
            missing.append(given)
    return Discovery(tuple(units), tuple(missing))


def any_inputs(paths: Sequence[str], *, out: str | os.PathLike[str] | None = None) -> bool:
    """Whether :func:`discover` would find at least one file; stops at the first one (cheap)."""
    out_real = os.path.realpath(out) if out is not None else None
    for given in paths:
        if os.path.isdir(given):
            if next(_walk(given, out_real), None) is not None:
                return True
        elif os.path.exists(given):
            return True
    return False


def make_batches(units: Sequence[WorkUnit], batch_size: int = DEFAULT_BATCH_SIZE,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> list[Batch]:
    """Group units, in order, into batches of about ``batch_size`` documents (never more, unless
    a single unit is bigger)."""
    batches: list[Batch] = []
    current: list[WorkUnit] = []
    docs = 0
    for unit in units:
        if current and docs + unit.docs > batch_size:
            batches.append(Batch(len(batches), tuple(current), max_bytes))
            current, docs = [], 0
        current.append(unit)
        docs += unit.docs
    if current:
        batches.append(Batch(len(batches), tuple(current), max_bytes))
    return batches


def read_unit(unit: WorkUnit, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[InputDoc | QuarantineItem]:
    """The documents of ``unit``, or quarantine items for those that cannot be read."""
    if unit.kind == "jsonl":
        yield from _read_jsonl(unit, max_bytes)
    elif unit.kind == "warc":
        from flows.warc import read_warc_unit

        yield from read_warc_unit(unit, max_bytes)
    else:
        yield _read_file(unit.path, max_bytes)


def _walk(root: str, out_real: str | None) -> Iterator[str]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d for d in dirnames
            if not d.startswith(".") and not _is_within(os.path.join(dirpath, d), out_real)
        )
        for name in sorted(filenames):
            if not name.startswith("."):
                yield os.path.join(dirpath, name)


def _is_within(path: str, out_real: str | None) -> bool:
    if out_real is None:
        return False
    real = os.path.realpath(path)
    return real == out_real or real.startswith(out_real + os.sep)


def _units_for_file(path: str, batch_size: int) -> list[WorkUnit]:
    from flows.warc import is_warc, scan_warc

    if is_warc(path):
        return scan_warc(path, batch_size)
    if Path(path).suffix.lower() not in JSONL_SUFFIXES:
        return [WorkUnit(path)]
    try:
        return _scan_jsonl(path, batch_size)
    except OSError:
        return [WorkUnit(path)]  # the reader reports it as unreadable


def _scan_jsonl(path: str, batch_size: int) -> list[WorkUnit]:
    """Split a JSONL file into byte ranges of at most ``batch_size`` lines, finding newlines only."""
    units: list[WorkUnit] = []
    start = 0  # byte offset where the current unit starts
    first_line = 1
    lines = 0  # complete lines in the current unit
    pos = 0  # bytes scanned so far
    last = b"\n"
    with open(path, "rb") as f:
        while chunk := f.read(SCAN_CHUNK_BYTES):
            i = 0
            while (j := chunk.find(b"\n", i)) >= 0:
                lines += 1
                i = j + 1
                if lines == batch_size:
                    end = pos + i
                    units.append(WorkUnit(path, "jsonl", start, end, first_line, lines))
                    start, first_line, lines = end, first_line + lines, 0
            pos += len(chunk)
            last = chunk[-1:]
    if pos == 0:
        return [WorkUnit(path)]  # an empty file: quarantined as ``empty`` by the reader
    if pos > start:
        lines += 0 if last == b"\n" else 1
        units.append(WorkUnit(path, "jsonl", start, pos, first_line, lines))
    return units


def _file_name_and_ext(path: str) -> tuple[str, str]:
    p = Path(path)
    ext = p.suffix[1:].lower() if p.suffix else ""
    name = str(p.with_suffix("")) if p.suffix else str(p)
    return name, ext or "bin"


def _declared_for(path: str) -> Format | None:
    suffix = Path(path).suffix.lower()
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in TEXT_SUFFIXES:
        return "text"
    return None


def _read_file(path: str, max_bytes: int) -> InputDoc | QuarantineItem:
    name, ext = _file_name_and_ext(path)

    def refused(reason: str, detail: str, size: int, *, copy: bool = True) -> QuarantineItem:
        return QuarantineItem(path, reason, detail, path, 0, None, size, name, ext, copy)

    try:
        st = os.stat(path)
        if not os.path.isfile(path):
            return refused("unreadable", "not a regular file", 0, copy=False)
        if st.st_size > max_bytes:  # never read into memory; the store streams the copy
            return refused("oversized", f"{st.st_size} bytes > max_bytes {max_bytes}", st.st_size)
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as exc:
        return refused("unreadable", f"{type(exc).__name__}: {exc.strerror or exc}", 0, copy=False)
    if len(data) > max_bytes:  # grew since stat
        return refused("oversized", f"more than max_bytes {max_bytes} bytes", len(data))
    return InputDoc(
        uri=path,
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        declared=_declared_for(path),
        path=path,
        name=name,
        ext=ext,
    )


def _read_jsonl(unit: WorkUnit, max_bytes: int) -> Iterator[InputDoc | QuarantineItem]:
    base, _ = _file_name_and_ext(unit.path)
    try:
        f = open(unit.path, "rb")  # noqa: SIM115 - closed below; errors become quarantine items
    except OSError as exc:
        yield QuarantineItem(unit.path, "unreadable", f"{type(exc).__name__}: {exc.strerror or exc}",
                             unit.path, unit.start, unit.end, 0, base, "jsonl", copy=False)
        return
    with f:
        f.seek(unit.start)
        pos = unit.start
        lineno = unit.first_line
        while pos < unit.end:
            line_start = pos
            line = f.readline(max_bytes + 2)  # content + "\r\n"
            if not line:
                break
            pos += len(line)
            content = line.rstrip(b"\r\n")
            if line_start == 0:
                content = content.removeprefix(codecs.BOM_UTF8)
            loc = f"{unit.path}:{lineno}"
            name = f"{base}-L{lineno}"
            if len(content) > max_bytes:
                while not line.endswith(b"\n"):  # skip the rest of the line, streaming
                    line = f.readline(SCAN_CHUNK_BYTES)
                    if not line:
                        break
                    pos += len(line)
                yield QuarantineItem(loc, "oversized", f"{pos - line_start} bytes > max_bytes {max_bytes}",
                                     unit.path, line_start, pos, pos - line_start, name, "jsonl")
            elif content.strip():
                yield _jsonl_doc(unit.path, content, line_start, pos, loc, name)
            lineno += 1


def _jsonl_doc(path: str, content: bytes, start: int, end: int, loc: str, name: str) -> InputDoc | QuarantineItem:
    def refused(uri: str, reason: str, detail: str) -> QuarantineItem:
        return QuarantineItem(uri, reason, detail, path, start, end, end - start, name, "jsonl")

    try:
        obj = json.loads(content)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        return refused(loc, "malformed_jsonl", f"{type(exc).__name__}: {exc}")
    if not isinstance(obj, dict):
        return refused(loc, "malformed_jsonl", f"a JSON {type(obj).__name__}, not an object")
    url = obj.get("url")
    rec_id = obj.get("id")
    if isinstance(url, str) and url.strip():
        uri = url.strip()
    elif isinstance(rec_id, str | int) and not isinstance(rec_id, bool) and str(rec_id).strip():
        uri = f"{path}#{str(rec_id).strip()}"
    else:
        uri = loc
    declared: Format
    value: object
    # Both present: HTML, whose structure the engine uses (dev set: F1 .96 from HTML vs .73 from text).
    if isinstance(obj.get("html"), str) and obj["html"].strip():
        declared, value = "html", obj["html"]
    elif isinstance(obj.get("text"), str) and obj["text"].strip():
        declared, value = "text", obj["text"]
    elif isinstance(obj.get("html"), str) or isinstance(obj.get("text"), str):
        return refused(uri, "empty", "text/html field is empty or whitespace only")
    else:
        return refused(uri, "missing_text", "record has no string 'text' or 'html' field")
    assert isinstance(value, str)
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates from "\\udXXX" escapes
        return refused(uri, "undecodable", f"invalid unicode in JSON string: {exc.reason}")
    return InputDoc(
        uri=uri,
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        declared=declared,
        path=path,
        start=start,
        end=end,
        name=name,
        ext="jsonl",
    )
