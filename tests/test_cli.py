"""The ``ingest`` console script end to end, in a temp folder, as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import SEEDS, load_json

from cleaners.record import load_schema
from flows.cli import resolve_mode

REPO = SEEDS.parent


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m flows.cli ARGS`` with no Prefect server configured (local mode)."""
    base = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), base.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def validator() -> jsonschema.protocols.Validator:
    schema = load_schema()
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def test_ingest_seeds_end_to_end_then_rerun(tmp_path: Path) -> None:
    started = time.perf_counter()
    done = run_cli(str(SEEDS), "--out", "out", "--no-progress", cwd=tmp_path)
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    for label in ("inputs seen", "articles written", "duplicates", "unchanged", "empty", "quarantined", "docs/s"):
        assert label in done.stdout
    assert elapsed < 15, f"local run took {elapsed:.1f}s"  # ~1-2 s here; generous for slow CI

    out = tmp_path / "out"
    check = validator()
    articles = sorted((out / "articles").glob("*.json"))
    assert len(articles) == 5
    for path in articles:
        record = load_json(path)
        check.validate(record)
        assert path.stem == record["id"]
    (feed,) = (out / "feed").iterdir()
    lines = [json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 5
    for line in lines:
        assert set(line) == {"run_id", "change", "id", "article"}
        assert line["change"] == "new" and line["run_id"] == feed.stem
        check.validate(line["article"])
    (report_path,) = (out / "runs").iterdir()
    report = load_json(report_path)
    assert report["mode"] == "local" and report["run_id"] == feed.stem
    for key in ("started_at", "finished_at", "duration_s", "counts", "inputs", "removals_by_rule",
                "removals_by_category", "timings", "docs_per_s"):
        assert key in report
    assert set(report["timings"]) == {"discover_s", "clean_s", "write_s"}
    assert {e["status"] for e in report["inputs"]} == {"ingested"}
    mtimes = {p: p.stat().st_mtime_ns for p in articles}

    again = run_cli(str(SEEDS), "--out", "out", "--no-progress", "--json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    rerun: dict[str, Any] = json.loads(again.stdout)
    assert rerun["counts"]["unchanged"] == 5 and rerun["counts"]["articles_written"] == 0
    assert len(list((out / "feed").iterdir())) == 1
    assert {p: p.stat().st_mtime_ns for p in articles} == mtimes


def test_local_mode_never_imports_prefect(tmp_path: Path) -> None:
    code = (
        "import sys, flows.cli\n"
        f"rc = flows.cli.main([{str(SEEDS)!r}, '--out', 'o', '--no-progress', '--json'])\n"
        "assert rc == 0, rc\n"
        "assert not [m for m in sys.modules if m == 'prefect' or m.startswith('prefect.')], 'prefect imported'\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr


def test_bad_inputs_still_exit_zero(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "empty.txt").write_bytes(b"")
    (tmp_path / "in" / "blob.bin").write_bytes(b"\x00\x01\x02" * 100)
    done = run_cli("in", "--out", "out", "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "quarantined in/empty.txt: empty" in done.stdout
    assert "quarantined in/blob.bin: binary" in done.stdout
    assert len(list((tmp_path / "out" / "quarantine").glob("*.reason.json"))) == 2


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["missing-folder"], 2, "no such file or folder"),
        (["in", "--batch-size", "0"], 2, "must be >= 1"),
        (["in", "--mode", "cloud"], 2, "invalid choice"),
        ([], 2, "usage"),
        (["in"], 3, "no input files"),
    ],
)
def test_exit_codes(tmp_path: Path, args: list[str], code: int, message: str) -> None:
    (tmp_path / "in").mkdir()
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == code
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_installed_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "ingest"
    if not script.exists():
        pytest.skip("package not installed with its console script (pip install -e .)")
    done = subprocess.run([str(script), str(SEEDS / "001_edd8e59a6896bee3.txt"), "--out", "o", "--json"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["counts"]["articles_written"] == 1


def test_resolve_mode() -> None:
    assert resolve_mode("auto", {}) == "local"
    assert resolve_mode("auto", {"PREFECT_API_URL": "http://127.0.0.1:4200/api"}) == "prefect"
    assert resolve_mode("auto", {"PREFECT_API_URL": " "}) == "local"
    assert resolve_mode("local", {"PREFECT_API_URL": "http://127.0.0.1:4200/api"}) == "local"
    assert resolve_mode("prefect", {}) == "prefect"
