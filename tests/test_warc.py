"""WARC input: records as documents, byte-range work units, WET text, broken archives.

The archives are written here with warcio (no binary fixtures): two HTML responses (the German and
English fixture pages), an image response, a request record, a redirect, and a WET conversion
record.
"""

from __future__ import annotations

import io
import itertools
import json
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders  # type: ignore[import-untyped]
from warcio.warcwriter import WARCWriter  # type: ignore[import-untyped]

from flows.runner import run_ingest
from flows.sources import InputDoc, QuarantineItem, discover, make_batches, read_unit
from flows.warc import is_warc, scan_warc

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "html"
DE_URL = "https://www.rheinkurier.example/lokales/radbruecke-beschluss-123.html"
EN_URL = "https://harborgazette.example/news/library-branch"
WET_URL = "https://example.org/blog/wet-page"
DATE = "2024-03-15T08:00:00Z"
WET_TEXT = (
    "Ein Wochenmarkt zieht an den Hafen\n\n"
    "Der Wochenmarkt der Altstadt zieht im Sommer an den Hafen. Die Händler hatten sich seit Jahren mehr "
    "Platz gewünscht, sagte die Marktmeisterin am Dienstag.\n\n"
    "Künftig sollen dort an drei Tagen in der Woche rund sechzig Stände stehen, doppelt so viele wie bisher."
)


def _response(w: WARCWriter, url: str, body: bytes, ctype: str, status: str = "200 OK") -> None:
    headers = StatusAndHeaders(status, [("Content-Type", ctype), ("Content-Length", str(len(body)))],
                               protocol="HTTP/1.1")
    w.write_record(w.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers,
                                        warc_headers_dict={"WARC-Date": DATE}))


def write_archive(path: Path, *, gzip: bool = True, pages: int = 1) -> Path:
    """A small crawl: per round an HTML page pair, a picture, a request, a redirect and a WET record."""
    with open(path, "wb") as f:
        w = WARCWriter(f, gzip=gzip)
        w.write_record(w.create_warcinfo_record(path.name, {"software": "cleanfeed tests"}))
        for i in range(pages):
            suffix = f"?p={i}" if i else ""
            de = (FIXTURES / "de_news.html").read_text(encoding="utf-8")
            en = (FIXTURES / "en_news.html").read_text(encoding="utf-8")
            if i:  # distinct articles per round
                de = de.replace("Mittwochabend", f"Mittwochabend ({i})")
                en = en.replace("Tuesday night", f"Tuesday night ({i})")
            req = StatusAndHeaders("GET / HTTP/1.1", [("Host", "www.rheinkurier.example")], is_http_request=True)
            w.write_record(w.create_warc_record(DE_URL + suffix, "request", payload=io.BytesIO(b""),
                                                http_headers=req))
            _response(w, DE_URL + suffix, de.encode("utf-8"), "text/html; charset=utf-8")
            _response(w, "https://www.rheinkurier.example/bilder/bruecke.png" + suffix,
                      b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png")
            _response(w, "https://harborgazette.example/old" + suffix, b"", "text/html", status="301 Moved Permanently")
            _response(w, EN_URL + suffix, en.encode("utf-8"), "text/html")
            text = WET_TEXT.replace("Dienstag", f"Dienstag ({i})") if i else WET_TEXT
            w.write_record(w.create_warc_record(WET_URL + suffix, "conversion",
                                                payload=io.BytesIO(text.encode("utf-8")),
                                                warc_content_type="text/plain",
                                                warc_headers_dict={"WARC-Date": DATE}))
    return path


def docs_of(units: list, max_bytes: int = 20 * 1024 * 1024) -> list[InputDoc | QuarantineItem]:  # type: ignore[type-arg]
    return [item for unit in units for item in read_unit(unit, max_bytes=max_bytes)]


@pytest.mark.parametrize("gzip", [True, False])
def test_records_become_documents(tmp_path: Path, gzip: bool) -> None:
    path = write_archive(tmp_path / ("crawl.warc.gz" if gzip else "crawl.warc"), gzip=gzip)
    found = discover([str(tmp_path)])
    assert [u.kind for u in found.units] == ["warc"] and found.docs == 3
    items = docs_of(list(found.units))
    assert all(isinstance(i, InputDoc) for i in items)
    docs = [i for i in items if isinstance(i, InputDoc)]
    assert [(d.uri, d.declared) for d in docs] == [(DE_URL, "html"), (EN_URL, "html"), (WET_URL, "text")]
    assert all(dict(d.metadata) == {"fetched_at": DATE} for d in docs)
    assert docs[0].data.startswith(b"<!DOCTYPE html>") and docs[2].data.decode("utf-8") == WET_TEXT
    # each document knows its record's byte range (for quarantine copies)
    assert all(d.path == str(path) and d.end is not None and d.start < d.end for d in docs)


def test_units_are_byte_ranges_of_at_most_batch_size_documents(tmp_path: Path) -> None:
    path = write_archive(tmp_path / "crawl.warc.gz", pages=4)  # 12 documents among 28 records
    units = scan_warc(str(path), batch_size=5)
    assert [u.docs for u in units] == [5, 5, 2]
    assert units[0].start == 0 and units[-1].end == path.stat().st_size
    assert all(a.end == b.start for a, b in itertools.pairwise(units))
    assert [u.first_line for u in units] == [1, 6, 11]
    docs = docs_of(units)
    assert len(docs) == 12 and len({d.uri for d in docs}) == 12
    # batches carry units (path and offsets), not bodies
    batches = make_batches(units, batch_size=5)
    assert [b.docs for b in batches] == [5, 5, 2]
    assert len(json.dumps([u.__repr__() for u in units])) < 2000


def test_warc_ingest_end_to_end(tmp_path: Path) -> None:
    inp = tmp_path / "in"
    inp.mkdir()
    write_archive(inp / "crawl.warc.gz")
    report = run_ingest([str(inp)], str(tmp_path / "out"))
    by_uri = {e["uri"]: e for e in report["inputs"]}
    assert set(by_uri) == {DE_URL, EN_URL, WET_URL}
    assert all(e["status"] == "ingested" for e in by_uri.values())
    assert [by_uri[u]["format"] for u in (DE_URL, EN_URL, WET_URL)] == ["html", "html", "text"]
    record = json.loads((tmp_path / "out" / "articles" / f"{by_uri[DE_URL]['article_id']}.json").read_text("utf-8"))
    assert record["sources"][0]["uri"] == DE_URL
    assert record["extraction"] == "html:trafilatura"
    assert record["metadata"]["site"] == "Rheinkurier"
    assert record["metadata"]["fetched_at"] == DATE  # the WARC-Date reaches the article record
    assert "Nach jahrelanger Debatte" in record["text"]
    wet = json.loads((tmp_path / "out" / "articles" / f"{by_uri[WET_URL]['article_id']}.json").read_text("utf-8"))
    assert wet["extraction"] == "text" and "Wochenmarkt der Altstadt" in wet["text"]
    assert wet["metadata"]["fetched_at"] == DATE


def test_truncated_archive_keeps_whole_records_and_quarantines_the_rest(tmp_path: Path) -> None:
    full = write_archive(tmp_path / "full.warc.gz", pages=2)
    data = full.read_bytes()
    cut = tmp_path / "in" / "cut.warc.gz"
    cut.parent.mkdir()
    cut.write_bytes(data[: len(data) - 200])  # the last (WET) record loses its end
    full.unlink()
    report = run_ingest([str(cut.parent)], str(tmp_path / "out"))
    by_uri = {e["uri"]: e for e in report["inputs"]}
    assert [e["status"] for u, e in by_uri.items() if u != WET_URL + "?p=1"] == ["ingested"] * 5
    # what is left of the cut record is refused (warcio reads a cut gzip member as a short one)
    assert by_uri[WET_URL + "?p=1"]["status"] == "quarantined"

    garbage = tmp_path / "in2" / "tail.warc"
    garbage.parent.mkdir()
    plain = write_archive(tmp_path / "plain.warc", gzip=False).read_bytes()
    garbage.write_bytes(plain + b"this is no record\n")
    report = run_ingest([str(garbage.parent)], str(tmp_path / "out2"))
    assert [e["status"] for e in report["inputs"]].count("ingested") == 3
    bad = [e for e in report["inputs"] if e["status"] == "quarantined"]
    assert [e["reason"] for e in bad] == ["malformed_warc"]
    assert (tmp_path / "out2" / bad[0]["quarantine"]).read_bytes().strip() == b"this is no record"


def test_not_a_warc_is_quarantined(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "fake.warc").write_bytes(b"this is not an archive\n" * 10)
    (tmp_path / "in" / "empty.warc.gz").write_bytes(b"")
    report = run_ingest([str(tmp_path / "in")], str(tmp_path / "out"))
    reasons = sorted(e["reason"] for e in report["inputs"])
    assert reasons == ["empty", "malformed_warc"]


def test_oversized_record_is_quarantined_alone(tmp_path: Path) -> None:
    path = write_archive(tmp_path / "crawl.warc", gzip=False)
    units = scan_warc(str(path), batch_size=10)
    items = docs_of(units, max_bytes=1000)  # the fixture pages are larger, the WET text is not
    assert [type(i).__name__ for i in items] == ["QuarantineItem", "QuarantineItem", "InputDoc"]
    q = items[0]
    assert isinstance(q, QuarantineItem) and q.reason == "oversized" and q.uri == DE_URL
    assert q.end is not None and q.size == q.end - q.start
    assert path.read_bytes()[q.start:q.start + 8] == b"WARC/1.0"


def test_warc_suffixes() -> None:
    assert all(is_warc(p) for p in ("a.warc", "a.WARC.GZ", "CC-MAIN-1.warc.wet.gz", "x.wet"))
    assert not any(is_warc(p) for p in ("a.gz", "a.html", "warc.txt"))
