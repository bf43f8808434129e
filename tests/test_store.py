"""cleaners.record (the output contract) and flows.store (the output folder)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from cleaners.model import Article, ArticleBlock, BlockKind, Category, Note, RemovedText
from cleaners.record import (
    RECORD_FIELDS,
    SCHEMA_VERSION,
    Source,
    article_record,
    dumps_record,
    load_schema,
    normalise_sources,
    record_sources,
)
from flows.sources import QuarantineItem
from flows.store import ArticleInput, Store, atomic_write, new_run_id

RUN = "20260101T000000Z-abcdef"


def make_article(text: str = "Erster Absatz.\n\nZweiter Absatz.", *, title: str | None = "Titel",
                 article_id: str = "0123456789abcdef0123") -> Article:
    return Article(
        id=article_id,
        title=title,
        lead="Erster Absatz.",
        text=text,
        blocks=(ArticleBlock(BlockKind.PARAGRAPH, "Erster Absatz."), ArticleBlock(BlockKind.QUOTE, "„Zitat“")),
        language="de",
        language_confidence=0.9999,
        removed=(RemovedText("Startseite", "nav.breadcrumb", Category.NAVIGATION, "matched 'Startseite'"),),
        notes=(Note("machine_assisted", "KI"), Note("machine_assisted", "geprüft")),
        metadata={"z": "1", "a": "2"},
        extraction="text",
    )


def src(uri: str, sha: str = "a") -> Source:
    return Source(uri, sha * 64 if len(sha) == 1 else sha, "utf-8", "text")


# -- record ---------------------------------------------------------------------------------------


def test_record_matches_contract_and_schema() -> None:
    record = article_record(make_article(), [src("b.txt"), src("a.txt"), src("b.txt")])
    assert tuple(record) == RECORD_FIELDS
    assert record["schema_version"] == SCHEMA_VERSION
    assert [s["uri"] for s in record["sources"]] == ["a.txt", "b.txt"]  # de-duplicated, sorted
    assert record["notes"] == {"machine_assisted": "KI\ngeprüft"}
    assert list(record["metadata"]) == ["a", "z"]
    assert record["blocks"][1] == {"kind": "quote", "text": "„Zitat“"}
    assert record["removed"][0]["category"] == "navigation"
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(record, schema, cls=jsonschema.Draft202012Validator)
    assert set(schema["required"]) == set(RECORD_FIELDS)


def test_schema_enums_follow_the_model() -> None:
    props = load_schema()["properties"]
    assert set(props["blocks"]["items"]["properties"]["kind"]["enum"]) == {k.value for k in BlockKind}
    assert set(props["removed"]["items"]["properties"]["category"]["enum"]) == {c.value for c in Category}


def test_dumps_record_is_deterministic_and_readable() -> None:
    a = dumps_record(article_record(make_article(), [src("x"), src("y")]))
    b = dumps_record(article_record(make_article(), [src("y"), src("x")]))
    assert a == b
    assert a.endswith("}\n") and "„Zitat“" in a  # ensure_ascii=False
    assert json.loads(a)["id"] == "0123456789abcdef0123"


def test_empty_article_or_no_source_has_no_record() -> None:
    empty = make_article(text="")
    with pytest.raises(ValueError):
        article_record(empty, [src("a")])
    with pytest.raises(ValueError):
        article_record(make_article(), [])


def test_sources_roundtrip() -> None:
    record = article_record(make_article(), [src("b"), src("a", "b")])
    assert record_sources(record) == normalise_sources([src("a", "b"), src("b")])


# -- atomic writes --------------------------------------------------------------------------------


def test_new_run_id_format() -> None:
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{6}", new_run_id())


def test_atomic_write_replaces_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "d" / "x.json"
    atomic_write(target, b"one")
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["x.json"]


def test_failed_atomic_write_keeps_old_file_and_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "x.json"
    atomic_write(target, b"old")

    def boom(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


# -- articles -------------------------------------------------------------------------------------


def record_for(uri: str, sha: str = "a", title: str = "Titel") -> dict[str, Any]:
    return article_record(make_article(title=title), [src(uri, sha)])


def inputs(*records: dict[str, Any]) -> list[ArticleInput]:
    return [ArticleInput(i, record_sources(r)[0], r) for i, r in enumerate(records)]


def test_new_then_unchanged_then_new_source(tmp_path: Path) -> None:
    store = Store(tmp_path)
    plan = store.plan_articles(inputs(record_for("a.txt")), RUN)
    assert plan.statuses == {0: "ingested"}
    assert [line["change"] for line in plan.feed] == ["new"]
    store.commit_articles(plan, RUN)
    path = store.article_path("0123456789abcdef0123")
    first = path.read_bytes()
    assert (tmp_path / "feed" / f"{RUN}.jsonl").is_file()

    again = store.plan_articles(inputs(record_for("a.txt")), "run2")
    assert again.statuses == {0: "unchanged"} and not again.writes and not again.feed
    store.commit_articles(again, "run2")
    assert not (tmp_path / "feed" / "run2.jsonl").exists()

    more = store.plan_articles(inputs(record_for("b.txt", "b")), "run3")
    assert more.statuses == {0: "duplicate"}
    assert [line["change"] for line in more.feed] == ["changed"]
    store.commit_articles(more, "run3")
    merged = json.loads(path.read_bytes())
    assert [s["uri"] for s in merged["sources"]] == ["a.txt", "b.txt"]
    assert path.read_bytes() != first


def test_two_sources_in_one_run_make_one_article(tmp_path: Path) -> None:
    store = Store(tmp_path)
    plan = store.plan_articles(inputs(record_for("z.txt", "z"), record_for("a.txt")), RUN)
    assert plan.statuses == {0: "ingested", 1: "duplicate"}
    assert len(plan.writes) == 1 and len(plan.feed) == 1
    record = json.loads(plan.writes[0][1])
    assert [s["uri"] for s in record["sources"]] == ["a.txt", "z.txt"]


def test_content_comes_from_the_first_source_whatever_the_order(tmp_path: Path) -> None:
    a = record_for("a.txt", title="from a")
    z = record_for("z.txt", "z", title="from z")
    one = Store(tmp_path / "one")
    one.commit_articles(one.plan_articles(inputs(z, a), RUN), RUN)
    two = Store(tmp_path / "two")
    two.commit_articles(two.plan_articles(inputs(z), RUN), RUN)
    two.commit_articles(two.plan_articles(inputs(a), "r2"), "r2")
    three = Store(tmp_path / "three")
    three.commit_articles(three.plan_articles(inputs(a), RUN), RUN)
    plan = three.plan_articles(inputs(z), "r2")
    assert plan.statuses == {0: "duplicate"}
    three.commit_articles(plan, "r2")
    aid = "0123456789abcdef0123"
    results = {s.article_path(aid).read_bytes() for s in (one, two, three)}
    assert len(results) == 1
    assert json.loads(results.pop())["title"] == "from a"


def test_changed_content_of_a_known_source_is_rewritten(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.commit_articles(store.plan_articles(inputs(record_for("a.txt", title="old")), RUN), RUN)
    plan = store.plan_articles(inputs(record_for("a.txt", title="new")), "r2")
    assert plan.statuses == {0: "ingested"}
    assert [line["change"] for line in plan.feed] == ["changed"]


def test_corrupt_article_file_is_rewritten(tmp_path: Path) -> None:
    store = Store(tmp_path)
    path = store.article_path("0123456789abcdef0123")
    path.parent.mkdir(parents=True)
    path.write_bytes(b'{"truncated": ')
    plan = store.plan_articles(inputs(record_for("a.txt")), RUN)
    assert plan.statuses == {0: "ingested"} and len(plan.writes) == 1


def test_unsafe_article_id_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        Store(tmp_path).article_path("../etc/passwd")


# -- quarantine -----------------------------------------------------------------------------------


def q_item(path: Path, reason: str = "binary", start: int = 0, end: int | None = None,
           copy: bool = True) -> QuarantineItem:
    size = (end if end is not None else path.stat().st_size) - start if copy else 0
    return QuarantineItem(str(path), reason, "detail", str(path), start, end, size,
                          str(path.with_suffix("")), path.suffix[1:] or "bin", copy)


def test_quarantine_copies_bytes_and_reason_once(tmp_path: Path) -> None:
    bad = tmp_path / "in" / "bad file!.bin"
    bad.parent.mkdir()
    bad.write_bytes(b"\x00\x01binary")
    store = Store(tmp_path / "out")
    rel = store.quarantine(q_item(bad), RUN)
    copy = tmp_path / "out" / rel
    assert copy.read_bytes() == bad.read_bytes()
    assert re.fullmatch(r"quarantine/[A-Za-z0-9._-]+-[0-9a-f]{8}\.bin", rel)
    reason_path = Path(f"{copy}.reason.json")
    reason = json.loads(reason_path.read_text())
    assert reason == {"uri": str(bad), "reason": "binary", "detail": "detail", "run_id": RUN, "size": 8}
    mtimes = (copy.stat().st_mtime_ns, reason_path.stat().st_mtime_ns)
    assert store.quarantine(q_item(bad), "another-run") == rel
    assert (copy.stat().st_mtime_ns, reason_path.stat().st_mtime_ns) == mtimes
    assert json.loads(reason_path.read_text())["run_id"] == RUN


def test_quarantine_byte_range_and_unreadable(tmp_path: Path) -> None:
    lines = tmp_path / "x.jsonl"
    lines.write_bytes(b'{"text": "ok"}\n{broken\n')
    store = Store(tmp_path / "out")
    rel = store.quarantine(q_item(lines, "malformed_jsonl", 15, 23), RUN)
    assert (tmp_path / "out" / rel).read_bytes() == b"{broken\n"
    gone = store.quarantine(q_item(tmp_path / "gone.txt", "unreadable", copy=False), RUN)
    assert gone.endswith("-unread.txt.reason.json")
    assert json.loads((tmp_path / "out" / gone).read_text())["reason"] == "unreadable"


# -- run reports: per-input entries spooled to disk (issue 5: memory stays flat) ---------------------


def test_entry_log_roundtrips_and_reads_back_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pickle

    import flows.store as store_mod
    from flows.store import EntryLog

    monkeypatch.setattr(store_mod, "ENTRY_LOG_READ_BYTES", 7)  # entries split across reads
    entries = [{"uri": f"/in/é{i}.txt", "status": "ingested", "seconds": i / 3, "more": {"a": [1, None]}}
               for i in range(30)]
    log = EntryLog(tmp_path)
    assert len(log) == 0 and list(log) == [] and log == []
    for e in entries:
        log.append(e)
    assert len(log) == 30 and list(log) == entries and log == entries
    assert log[0] == entries[0] and log[-1] == entries[-1] and log[3:5] == entries[3:5]
    with pytest.raises(IndexError):
        log[30]
    assert pickle.loads(pickle.dumps(log)) == entries  # a copy is a plain list
    assert list(tmp_path.iterdir()) == []  # the spool has no name: nothing to clean up, even after a crash
    log.close()
    assert len(log) == 0


@pytest.mark.parametrize("n", [0, 1, 3])
def test_report_chunks_are_json_dumps_with_the_entries_streamed(tmp_path: Path, n: int) -> None:
    from flows.store import EntryLog, report_chunks

    log = EntryLog(tmp_path)
    for i in range(n):
        log.append({"uri": f"ü{i}", "status": "empty", "nested": {"x": [], "y": {}}})
    report = {"run_id": RUN, "counts": {"inputs": n}, "inputs": log, "slowest": [], "extra": {"k": [1, "ü"]}}
    plain = {**report, "inputs": list(log)}
    assert "".join(report_chunks(report)) == json.dumps(plain, ensure_ascii=False, indent=2) + "\n"
    path = Store(tmp_path / "out").write_run_report(RUN, report)
    assert path.read_bytes() == (json.dumps(plain, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    assert "".join(report_chunks({})) == "{}\n"
