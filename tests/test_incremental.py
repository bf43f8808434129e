"""Incremental runs (OUT/state/ingest.sqlite), the run lock, and crash safety (SIGKILL mid-run)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from conftest import SEEDS, load_json, snapshot

from flows.commit import HOOK_ENV, details_markdown
from flows.parallel import process_pool
from flows.runner import BatchResult, process_batch, run_ingest
from flows.sources import Batch
from flows.state import DB_NAME, LOCK_NAME, STATE_DIR, DocRow, FileRow, IngestState, LockBusyError, RunLock

REPO = SEEDS.parent
SEED_FILES = sorted(SEEDS.glob("*.txt"))


def make_pages(folder: Path, n: int, *, start: int = 0) -> list[Path]:
    """``n`` distinct article pages (seed pages with a numbered paragraph added)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(start, start + n):
        seed = SEED_FILES[i % len(SEED_FILES)].read_text(encoding="utf-8")
        text = seed.rstrip("\n") + f"\n\nDie Redaktion ergänzte am Abend den Absatz Nummer {i} zu diesem Bericht.\n"
        path = folder / f"page-{i:03}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {e["uri"]: e["status"] for e in report["inputs"]}


def feed_lines(out: Path) -> list[dict[str, Any]]:
    lines = []
    for path in sorted((out / "feed").glob("*.jsonl")):
        lines += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return lines


def articles(out: Path) -> dict[str, bytes]:
    folder = out / "articles"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.is_dir() else {}


def state_rows(out: Path, table: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(out / STATE_DIR / DB_NAME) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()


# -- incremental runs -----------------------------------------------------------------------------


def test_second_run_reads_only_the_new_file(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    make_pages(inbox, 4)
    out = tmp_path / "out"
    first = run_ingest([str(inbox)], str(out))
    assert first["counts"]["ingested"] == 4 and first["incremental"]["files_read"] == 4
    assert len(state_rows(out, "files")) == len(state_rows(out, "docs")) == 4

    (new,) = make_pages(inbox, 1, start=4)
    second = run_ingest([str(inbox)], str(out))
    assert second["incremental"] == {"enabled": True, "files_unchanged": 4, "files_moved": 0, "files_read": 1,
                                     "docs_read": 1, "recovered_runs": []}
    assert statuses(second) == {**{str(p): "unchanged" for p in sorted(inbox.glob("page-00[0-3].txt"))},
                                str(new): "ingested"}
    assert [x["change"] for x in feed_lines(out) if x["run_id"] == second["run_id"]] == ["new"]
    assert len(articles(out)) == 5

    third = run_ingest([str(inbox)], str(out))
    assert third["incremental"]["files_read"] == 0 and third["counts"]["unchanged"] == 5
    assert third["feed"] is None


def test_nothing_new_rewrites_nothing_not_even_the_state(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    make_pages(inbox, 3)
    out = tmp_path / "out"
    run_ingest([str(inbox)], str(out))
    before = snapshot(out)
    again = run_ingest([str(inbox)], str(out))
    after = snapshot(out)
    del after[f"runs/{again['run_id']}.json"]
    assert after == before
    assert (out / LOCK_NAME).is_file() and not list((out / STATE_DIR).glob("ingest.sqlite-*"))

    # --full re-reads everything; same outcomes, so the state is not rewritten either
    full = run_ingest([str(inbox)], str(out), incremental=False)
    assert full["incremental"]["files_read"] == 3 and full["counts"]["unchanged"] == 3
    after = snapshot(out)
    del after[f"runs/{again['run_id']}.json"], after[f"runs/{full['run_id']}.json"]
    assert after == before


def test_touched_file_with_same_bytes_is_hashed_not_read(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (page,) = make_pages(inbox, 1)
    out = tmp_path / "out"
    run_ingest([str(inbox)], str(out))
    os.utime(page, ns=(1_000_000_000, 1_000_000_000))
    report = run_ingest([str(inbox)], str(out))
    assert report["incremental"]["files_read"] == 0 and statuses(report) == {str(page): "unchanged"}
    assert state_rows(out, "files")[0][2] == 1_000_000_000  # the pre-check is refreshed


def test_moved_and_renamed_files_are_not_reingested(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    pages = make_pages(inbox, 3)
    out = tmp_path / "out"
    run_ingest([str(inbox)], str(out))
    before = articles(out)
    (inbox / "archive").mkdir()
    moved = inbox / "archive" / "renamed.txt"
    pages[0].rename(moved)
    report = run_ingest([str(inbox)], str(out))
    assert report["incremental"]["files_moved"] == 1 and report["incremental"]["files_read"] == 0
    entry = next(e for e in report["inputs"] if e["uri"] == str(moved))
    assert entry["status"] == "moved" and entry["moved_from"] == str(pages[0])
    assert report["counts"]["moved"] == 1 and report["feed"] is None
    assert articles(out) == before  # no new article, no new source

    # moved files stay known: the next run does not even hash them
    again = run_ingest([str(inbox)], str(out))
    assert again["incremental"]["files_unchanged"] == 3 and statuses(again)[str(moved)] == "unchanged"

    # and a moved file that then changes supersedes the article of its bytes
    moved.write_text(SEED_FILES[4].read_text(encoding="utf-8"), encoding="utf-8")
    changed = run_ingest([str(inbox)], str(out))
    old_id = entry["article_id"]
    assert f"{old_id}.json" not in articles(out)
    assert [x["change"] for x in feed_lines(out) if x["run_id"] == changed["run_id"]] == ["new", "removed"]


def test_changed_file_replaces_its_article(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    pages = make_pages(inbox, 2)
    out = tmp_path / "out"
    first = run_ingest([str(inbox)], str(out))
    old_id = next(e["article_id"] for e in first["inputs"] if e["uri"] == str(pages[0]))

    pages[0].write_text(SEED_FILES[3].read_text(encoding="utf-8") + "\n\nNachtrag: Die Polizei ermittelt weiter.\n",
                        encoding="utf-8")
    second = run_ingest([str(inbox)], str(out))
    new_id = next(e["article_id"] for e in second["inputs"] if e["uri"] == str(pages[0]))
    assert new_id != old_id and statuses(second)[str(pages[0])] == "ingested"
    assert second["counts"]["articles_removed"] == 1
    assert not (out / "articles" / f"{old_id}.json").exists()
    record = load_json(out / "articles" / f"{new_id}.json")
    assert [s["uri"] for s in record["sources"]] == [str(pages[0])]
    lines = [x for x in feed_lines(out) if x["run_id"] == second["run_id"]]
    assert [(x["change"], x["id"]) for x in lines] == [("new", new_id), ("removed", old_id)]
    assert lines[0]["replaces"] == [old_id]
    assert lines[1] == {"run_id": second["run_id"], "change": "removed", "id": old_id, "article": None,
                        "uris": [str(pages[0])], "replaced_by": [new_id]}
    docs = {row[0]: row for row in state_rows(out, "docs")}
    assert docs[str(pages[0])][4] == new_id

    # a change into a page with no article removes the article too (replaced_by is empty)
    pages[0].write_text("Startseite\nImpressum\n", encoding="utf-8")
    third = run_ingest([str(inbox)], str(out))
    assert statuses(third)[str(pages[0])] == "empty"
    removed = [x for x in feed_lines(out) if x["run_id"] == third["run_id"]]
    assert removed == [{"run_id": third["run_id"], "change": "removed", "id": new_id, "article": None,
                        "uris": [str(pages[0])], "replaced_by": []}]
    assert len(articles(out)) == 1


def test_changed_copy_keeps_the_article_of_the_other_copy(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (page,) = make_pages(inbox, 1)
    shutil.copy(page, inbox / "copy.txt")
    out = tmp_path / "out"
    first = run_ingest([str(inbox)], str(out))
    (article_id,) = {e["article_id"] for e in first["inputs"]}
    (inbox / "copy.txt").write_text(SEED_FILES[2].read_text(encoding="utf-8"), encoding="utf-8")
    second = run_ingest([str(inbox)], str(out))
    record = load_json(out / "articles" / f"{article_id}.json")
    assert [s["uri"] for s in record["sources"]] == [str(page)]
    changes = sorted(x["change"] for x in feed_lines(out) if x["run_id"] == second["run_id"])
    assert changes == ["changed", "new"]


def test_jsonl_records_by_url_are_tracked_one_by_one(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    dump = inbox / "dump.jsonl"
    texts = [SEED_FILES[i].read_text(encoding="utf-8") for i in range(4)]
    dump.write_text("".join(json.dumps({"url": f"https://example.org/{i}", "text": t}) + "\n"
                            for i, t in enumerate(texts[:2])), encoding="utf-8")
    out = tmp_path / "out"
    first = run_ingest([str(inbox)], str(out))
    old_id = next(e["article_id"] for e in first["inputs"] if e["uri"] == "https://example.org/1")
    # the scraper rewrites record 1 and appends record 2
    dump.write_text("".join(json.dumps({"url": f"https://example.org/{i}", "text": t}) + "\n"
                            for i, t in enumerate([texts[0], texts[2], texts[3]])),
                    encoding="utf-8")
    second = run_ingest([str(inbox)], str(out))
    assert statuses(second) == {"https://example.org/0": "unchanged", "https://example.org/1": "ingested",
                                "https://example.org/2": "ingested"}
    assert not (out / "articles" / f"{old_id}.json").exists()
    assert len(state_rows(out, "docs")) == 3 and state_rows(out, "files")[0][4] == 3
    third = run_ingest([str(inbox)], str(out))
    assert third["incremental"]["files_read"] == 0 and third["counts"]["unchanged"] == 3


def test_a_uri_read_twice_in_one_run_is_handled_as_across_runs(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name, seed in (("a.jsonl", 0), ("b.jsonl", 1)):
        (inbox / name).write_text(json.dumps({"url": "https://example.org/x", "text": SEED_FILES[seed].read_text()})
                                  + "\n", encoding="utf-8")
    one = run_ingest([str(inbox)], str(tmp_path / "one"))
    two = run_ingest([str(inbox)], str(tmp_path / "two"), batch_size=1)
    assert articles(tmp_path / "one") == articles(tmp_path / "two")
    assert len(articles(tmp_path / "one")) == 1  # the later read wins
    strip = [{k: v for k, v in x.items() if k != "run_id"} for x in feed_lines(tmp_path / "one")]
    assert strip == [{k: v for k, v in x.items() if k != "run_id"} for x in feed_lines(tmp_path / "two")]
    assert [x["change"] for x in strip] == ["new", "new", "removed"]
    assert one["counts"]["articles_removed"] == two["counts"]["articles_removed"] == 1


def test_vanished_input_is_quarantined_and_retried_next_run(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    pages = make_pages(inbox, 3)
    hidden = tmp_path / "hidden.txt"

    def vanish_first(batches: Sequence[Batch]) -> Any:
        pages[1].rename(hidden)  # gone after discovery, before reading
        for batch in batches:
            yield process_batch(batch)

    out = tmp_path / "out"
    report = run_ingest([str(inbox)], str(out), clean_many=vanish_first)
    entry = next(e for e in report["inputs"] if e["uri"] == str(pages[1]))
    assert (entry["status"], entry["reason"]) == ("quarantined", "unreadable")
    assert "FileNotFoundError" in entry["detail"]
    assert str(pages[1]) not in {row[0] for row in state_rows(out, "files")}
    hidden.rename(pages[1])
    again = run_ingest([str(inbox)], str(out))
    assert statuses(again)[str(pages[1])] == "ingested" and again["incremental"]["files_read"] == 1


def test_workers_output_is_identical_to_one_process(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    make_pages(inbox, 9)
    one = run_ingest([str(inbox)], str(tmp_path / "one"), batch_size=2, run_id="r1")
    two = run_ingest([str(inbox)], str(tmp_path / "two"), batch_size=2, run_id="r1", clean_many=process_pool(2))
    assert articles(tmp_path / "one") == articles(tmp_path / "two")
    feed = Path("feed") / "r1.jsonl"
    assert (tmp_path / "one" / feed).read_bytes() == (tmp_path / "two" / feed).read_bytes()
    assert state_rows(tmp_path / "one", "docs") == state_rows(tmp_path / "two", "docs")
    assert one["counts"] == two["counts"] and 1 <= len(two["workers"]) <= 2  # processes start on demand


def test_report_lists_slowest_and_most_stripped(tmp_path: Path) -> None:
    report = run_ingest([str(SEEDS)], str(tmp_path / "out"))
    assert len(report["slowest"]) == 5 and all(e["seconds"] > 0 for e in report["slowest"])
    assert [e["seconds"] for e in report["slowest"]] == sorted((e["seconds"] for e in report["slowest"]), reverse=True)
    shares = [e["removed_share"] for e in report["most_stripped"]]
    assert shares == sorted(shares, reverse=True) and 0 < shares[0] < 1
    assert all(e["seconds"] > 0 for e in report["inputs"])
    md = details_markdown(report)
    assert "## Slowest inputs" in md and "## Most stripped inputs" in md and report["slowest"][0]["uri"] in md


# -- the lock -------------------------------------------------------------------------------------


def test_locked_output_folder_skips_or_waits(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with RunLock(out):
        t = time.monotonic()
        with pytest.raises(LockBusyError, match=f"process {os.getpid()}"):
            run_ingest([str(SEEDS)], str(out))
        with pytest.raises(LockBusyError, match=r"after waiting 0\.5 s"):
            run_ingest([str(SEEDS)], str(out), wait_lock=0.5)
        assert 0.5 <= time.monotonic() - t < 5
        assert not (out / "articles").exists()

    holder = RunLock(out)
    holder.acquire()
    threading.Timer(0.5, holder.release).start()
    report = run_ingest([str(SEEDS)], str(out), wait_lock=30)
    assert report["counts"]["ingested"] == 5


def run_cli(*args: str, env: dict[str, str] | None = None, **kwargs: Any) -> subprocess.Popen[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", HOOK_ENV)}
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), base.get("PYTHONPATH")]))
    return subprocess.Popen([sys.executable, "-m", "flows.cli", *args, "--no-progress", "--json"],
                            env={**base, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kwargs)


def wait_for_hook(proc: subprocess.Popen[str], timeout: float = 60) -> str:
    """Read the child's stderr until its test hook reports it is parked."""
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if line.startswith("HOOK "):
            return line.strip()
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"the run never reached its hook (exit {proc.poll()})")


def test_overlapping_runs_second_skips_with_exit_4_or_waits(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    make_pages(inbox, 4)
    out = tmp_path / "out"
    slow = run_cli(str(inbox), "--out", str(out), "--batch-size", "2", env={HOOK_ENV: "after_state:0:sleep=3"})
    try:
        assert wait_for_hook(slow) == "HOOK after_state 0"
        skipped = run_cli(str(inbox), "--out", str(out))
        _, err = skipped.communicate(timeout=60)
        assert skipped.returncode == 4
        message = "".join(err.split("\n"))  # the console wraps long lines
        assert f"skipped: another ingest run (process {slow.pid}) is writing to {out}" in message
        waiting = run_cli(str(inbox), "--out", str(out), "--wait-lock", "60")
        stdout, err = waiting.communicate(timeout=90)
        assert waiting.returncode == 0, err
        assert json.loads(stdout)["counts"]["unchanged"] == 4  # ran after the slow run finished
    finally:
        # The slow run releases its lock when its work is done, then prints and exits; the waiting
        # run can finish inside that window, so give it time to exit before killing a stuck one.
        try:
            slow.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            slow.kill()
            slow.communicate(timeout=30)
    assert slow.returncode == 0


# -- crash safety ---------------------------------------------------------------------------------


def reference_run(inbox: Path, out: Path) -> None:
    done = run_cli(str(inbox), "--out", str(out), "--batch-size", "2")
    done.communicate(timeout=120)
    assert done.returncode == 0


def assert_same_outcome(out: Path, ref: Path) -> None:
    """Same articles, the same feed lines (across partitions), one state row per document, no temp files."""
    assert articles(out) == articles(ref)
    strip = sorted(json.dumps({k: v for k, v in x.items() if k != "run_id"}, sort_keys=True) for x in feed_lines(out))
    ref_strip = sorted(json.dumps({k: v for k, v in x.items() if k != "run_id"}, sort_keys=True)
                       for x in feed_lines(ref))
    assert strip == ref_strip  # nothing lost, nothing repeated
    assert [r[:5] for r in state_rows(out, "docs")] == [r[:5] for r in state_rows(ref, "docs")]
    assert [r[:6] for r in state_rows(out, "files")] == [r[:6] for r in state_rows(ref, "files")]
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


@pytest.mark.parametrize("point", ["before_feed", "after_feed", "before_state", "after_state"])
def test_run_killed_mid_way_is_finished_by_the_next_run(tmp_path: Path, point: str) -> None:
    inbox = tmp_path / "inbox"
    make_pages(inbox, 7)
    reference_run(inbox, tmp_path / "ref")

    out = tmp_path / "out"
    killed = run_cli(str(inbox), "--out", str(out), "--batch-size", "2", env={HOOK_ENV: f"{point}:1:kill"})
    killed.communicate(timeout=120)
    assert killed.returncode == -signal.SIGKILL
    (crashed,) = [p.stem for p in (out / "feed").glob("*.jsonl")]
    assert not (out / "runs").exists()  # no report: the run did not finish

    again = run_cli(str(inbox), "--out", str(out), "--batch-size", "2")
    stdout, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    report = json.loads(stdout)
    assert report["incremental"]["recovered_runs"] == [crashed]
    assert load_json(out / "runs" / f"{crashed}.json")["status"] == "crashed"
    assert_same_outcome(out, tmp_path / "ref")


def test_killed_from_outside_with_a_torn_feed_line(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    make_pages(inbox, 7)
    reference_run(inbox, tmp_path / "ref")
    out = tmp_path / "out"
    run = run_cli(str(inbox), "--out", str(out), "--batch-size", "2", env={HOOK_ENV: "after_feed:2:sleep=60"})
    try:
        assert wait_for_hook(run) == "HOOK after_feed 2"
    finally:
        os.kill(run.pid, signal.SIGKILL)
        run.communicate(timeout=30)
    (feed,) = (out / "feed").glob("*.jsonl")
    with open(feed, "ab") as f:  # as if the kill had cut the next append in half
        f.write(b'{"run_id": "x", "change": "new", "id": "abc", "art')
    again = run_cli(str(inbox), "--out", str(out), "--batch-size", "2")
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    summary = load_json(out / "runs" / f"{feed.stem}.json")
    assert summary["feed_bytes_cut"] > 0 and summary["feed_lines_replayed"] >= 1
    assert_same_outcome(out, tmp_path / "ref")


def test_state_commit_is_one_transaction(tmp_path: Path) -> None:
    """Rows of a batch go in together or not at all."""
    state = IngestState(tmp_path)
    good = DocRow("a.txt", "a.txt", "00", "article", "id1", None, {}, "r1")
    bad = DocRow("b.txt", "b.txt", "11", "article", "id2", None, {"x": object()}, "r1")  # not JSON
    with pytest.raises(TypeError):
        state.commit([FileRow("a.txt", 1, 1, "00", 1, "ingested", None, "r1")], [good, bad], ("r1", 10, 1))
    state.close()
    assert IngestState(tmp_path).counts() == {"files": 0, "docs": 0, "runs": 0}


def test_clean_batch_results_are_compact(tmp_path: Path) -> None:
    """Workers get paths and byte ranges; results carry per-document timing and the worker's memory."""
    import pickle

    from flows.sources import discover, make_batches

    make_pages(tmp_path / "in", 3)
    (batch,) = make_batches(discover([str(tmp_path / "in")]).units)
    assert len(pickle.dumps(batch)) < 1000
    result: BatchResult = process_batch(batch)
    assert result.worker.endswith(f":{os.getpid()}") and result.peak_rss_kb > 0
    assert all(r.seconds > 0 and r.sha256 and r.path for r in result.results)


def test_large_runs_are_planned_in_windows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Template planning holds the line hashes of a window's pages only (flat memory)."""
    import flows.runner as runner

    planned: list[int] = []
    real = runner.plan_templates

    def spy(batches: Sequence[Batch], *args: Any, **kwargs: Any) -> Any:
        planned.append(sum(b.docs for b in batches))
        return real(batches, *args, **kwargs)

    monkeypatch.setattr(runner, "TEMPLATE_WINDOW_DOCS", 4)
    monkeypatch.setattr(runner, "plan_templates", spy)
    make_pages(tmp_path / "in", 9)
    report = run_ingest([str(tmp_path / "in")], str(tmp_path / "out"), batch_size=2)
    assert planned == [4, 4, 1]
    assert report["counts"]["articles_written"] == 9 and report["templates"]["pages_hashed_before_cleaning"] > 0
    assert report["templates"]["pages_added_to_history"] == 9


def test_unchanged_entries_stream_into_the_report_in_order(tmp_path: Path) -> None:
    """A re-run's unchanged entries go straight to the report's spool (``on_skipped``), after the
    missing paths and in discovery order, as when they were collected in ``Selection.skipped``."""
    from flows.sources import discover

    inbox = tmp_path / "in"
    inbox.mkdir()
    pages = [inbox / f"{i}.txt" for i in range(3)]
    for i, page in enumerate(pages):
        page.write_text(f"Page {i} tells its own short story in one paragraph of plain text.\n")
    out = tmp_path / "out"
    run_ingest([str(inbox)], str(out), templates=False)
    again = run_ingest([str(tmp_path / "gone"), str(inbox)], str(out), templates=False)
    assert [(e["uri"], e["status"]) for e in again["inputs"]] == [
        (str(tmp_path / "gone"), "quarantined"), *((str(p), "unchanged") for p in pages)]
    assert again["counts"]["unchanged"] == 3 and again["counts"]["quarantined"] == 1
    seen: list[dict[str, Any]] = []
    with IngestState(out) as state:
        selection = state.select(discover([str(inbox)]), "r", on_skipped=seen.append)
    assert selection.skipped == [] and [e["uri"] for e in seen] == [str(p) for p in pages]
