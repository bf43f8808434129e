"""WARC (and WET) archives as inputs: one document per HTML response or text conversion record.

Discovery (:func:`scan_warc`) streams through an archive once, reading record headers and skipping
payloads, and cuts it into :class:`~flows.sources.WorkUnit`\\ s of byte ranges holding at most
``batch_size`` documents: batches carry (path, offset range), never record bodies. Reading
(:func:`read_warc_unit`) seeks to a unit's first record and streams its records. Gzipped archives
are read the same way: each record is its own gzip member, so a record offset is a place to start.

Which records are documents:

- ``response`` records with an HTML content type (``text/html``, ``application/xhtml+xml``) and a
  2xx status: cleaned as HTML, the record's ``WARC-Target-URI`` as source uri;
- ``conversion`` records (WET text extracts): cleaned as text.

Everything else (requests, metadata, warcinfo, revisits, images, scripts, redirects) is not a
page and is skipped. A record's ``WARC-Date`` is kept as ``fetched_at`` metadata.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from flows.sources import Format, InputDoc, QuarantineItem, WorkUnit

__all__ = ["WARC_SUFFIXES", "is_warc", "read_warc_unit", "scan_warc"]

# File name endings read as WARC: plain and gzipped WARC, and Common Crawl's WET files
# (``*.warc.wet.gz``).
WARC_SUFFIXES: Final = (".warc", ".warc.gz", ".wet", ".wet.gz")
HTML_TYPES: Final = frozenset({"text/html", "application/xhtml+xml"})


def is_warc(path: str) -> bool:
    return path.lower().endswith(WARC_SUFFIXES)


def _archive_iterator(f: Any) -> Any:
    from warcio.archiveiterator import ArchiveIterator  # type: ignore[import-untyped]

    return ArchiveIterator(f)


class NotWarcError(ValueError):
    """warcio reads anything as (ARC-style) records; a record without a WARC header is not one."""


def _doc_format(record: Any) -> Format | None:
    """``html``/``text`` for a record that is a document, None for any other record."""
    if record.format != "warc":
        raise NotWarcError(f"not a WARC record (read as {record.format!r})")
    if record.rec_type == "conversion":
        return "text"
    if record.rec_type != "response" or record.http_headers is None:
        return None
    status = record.http_headers.get_statuscode() or ""
    if not status.startswith("2"):
        return None
    ctype = (record.http_headers.get_header("Content-Type") or "").split(";", 1)[0].strip().lower()
    return "html" if ctype in HTML_TYPES else None


def scan_warc(path: str, batch_size: int) -> list[WorkUnit]:
    """Units of consecutive records with at most ``batch_size`` documents each (streaming)."""
    from warcio.exceptions import ArchiveLoadFailed  # type: ignore[import-untyped]

    units: list[WorkUnit] = []
    start = 0  # byte offset where the current unit starts
    first = 1  # ordinal of the current unit's first document (for quarantine names)
    docs = 0
    end = 0
    try:
        with open(path, "rb") as f:
            it = _archive_iterator(f)
            for record in it:
                is_doc = _doc_format(record) is not None
                it.read_to_end(record)
                if is_doc and docs == batch_size:
                    units.append(WorkUnit(path, "warc", start, end, first, docs))
                    start, first, docs = end, first + docs, 0
                docs += is_doc
                end = it.get_record_offset() + it.get_record_length()
    except (ArchiveLoadFailed, OSError, ValueError, EOFError):
        # Not a WARC, or a broken tail: the last unit runs to the end of the file, where the reader
        # meets the same error and quarantines those bytes.
        end = max(end, _size(path))
    if end == 0 and not units:
        return [WorkUnit(path)]  # empty or unreadable: the plain file reader reports it
    if end > start or not units:
        units.append(WorkUnit(path, "warc", start, end, first, docs))
    return units


def _size(path: str) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0


def _base_and_ext(path: str) -> tuple[str, str]:
    low = path.lower()
    for suffix in sorted(WARC_SUFFIXES, key=len, reverse=True):
        if low.endswith(suffix):
            return path[: -len(suffix)], suffix[1:]
    return path, "warc"


def read_warc_unit(unit: WorkUnit, max_bytes: int) -> Iterator[InputDoc | QuarantineItem]:
    """The documents of the records in ``unit``, or quarantine items for records that cannot be read."""
    from warcio.exceptions import ArchiveLoadFailed

    base, ext = _base_and_ext(unit.path)
    ordinal = unit.first_line

    def refused(uri: str, reason: str, detail: str, start: int, end: int, *, copy: bool = True) -> QuarantineItem:
        name = f"{base}-R{ordinal}"
        return QuarantineItem(uri, reason, detail, unit.path, start, end, max(0, end - start), name, ext, copy)

    try:
        f = open(unit.path, "rb")  # noqa: SIM115 - closed below; errors become quarantine items
    except OSError as exc:
        yield refused(unit.path, "unreadable", f"{type(exc).__name__}: {exc.strerror or exc}", unit.start, unit.end,
                      copy=False)
        return
    with f:
        f.seek(unit.start)
        it = _archive_iterator(f)
        offset = unit.start  # where the record being read starts (as far as known)
        try:
            for record in it:
                if offset >= unit.end:  # the previous record ended the unit
                    break
                fmt = _doc_format(record)
                # warcio knows a record's offset and length only once it is read to its end.
                data = record.content_stream().read(max_bytes + 1) if fmt is not None else b""
                it.read_to_end(record)
                start = it.get_record_offset()
                offset = start + it.get_record_length()
                if fmt is None:
                    continue
                uri = (record.rec_headers.get_header("WARC-Target-URI") or "").strip() or f"{unit.path}@{start}"
                if len(data) > max_bytes:
                    yield refused(uri, "oversized", f"record payload > max_bytes {max_bytes}", start, offset)
                else:
                    date = (record.rec_headers.get_header("WARC-Date") or "").strip()
                    yield InputDoc(
                        uri=uri,
                        sha256=hashlib.sha256(data).hexdigest(),
                        data=data,
                        declared=fmt,
                        path=unit.path,
                        start=start,
                        end=offset,
                        name=f"{base}-R{ordinal}",
                        ext=ext,
                        metadata=(("fetched_at", date),) if date else (),
                    )
                ordinal += 1
        except (ArchiveLoadFailed, OSError, ValueError, EOFError) as exc:
            yield refused(f"{unit.path}@{offset}", "malformed_warc", f"{type(exc).__name__}: {exc}"[:300],
                          offset, unit.end)

