"""``ingest --dask``: a real Dask scheduler and two workers on 127.0.0.1, a real Prefect server, and
output byte-identical to the single-process run."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import SEEDS

REPO = SEEDS.parent
SEED_FILES = sorted(SEEDS.glob("*.txt"))
DASK = Path(sys.executable).parent / "dask"


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), base.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "flows.cli", *args, "--no-progress", "--json"], cwd=cwd,
                          env={**base, **(env or {})}, capture_output=True, text=True, timeout=300)


def test_dask_needs_a_prefect_api(tmp_path: Path) -> None:
    """Without an API every Dask worker would start its own temporary server: refused at once."""
    env = {"PREFECT_HOME": str(tmp_path / "home")}
    done = cli(str(SEEDS), "--out", "out", "--dask", "tcp://127.0.0.1:9", cwd=tmp_path, env=env)
    assert done.returncode == 2
    message = " ".join(done.stderr.split())
    assert "--dask needs a Prefect server and PREFECT_API_URL is not set" in message
    done = cli(str(SEEDS), "--out", "out", "--dask", "tcp://127.0.0.1:9", cwd=tmp_path,
               env={"PREFECT_API_URL": "http://127.0.0.1:9/api"})
    assert done.returncode == 2 and "no Prefect API answers" in " ".join(done.stderr.split())
    done = cli(str(SEEDS), "--out", "out", "--dask", "tcp://127.0.0.1:9", "--mode", "local", cwd=tmp_path)
    assert done.returncode == 2 and "cannot be used with --mode local" in " ".join(done.stderr.split())
    assert not (tmp_path / "out").exists()


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in reversed(procs):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in reversed(procs):
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(Prefect API URL, Dask scheduler address): a ``prefect server start``, a ``dask scheduler``
    and two single-threaded ``dask worker`` processes, all on 127.0.0.1, stopped at the end."""
    pytest.importorskip("distributed", reason="dask is not installed: pip install -e '.[dask]'")
    pytest.importorskip("prefect_dask", reason="prefect-dask is not installed: pip install -e '.[dask]'")
    from distributed import Client

    from flows.server import running_server

    home = tmp_path_factory.mktemp("dask-cluster")
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    procs: list[subprocess.Popen[bytes]] = []
    with running_server(home / "prefect") as api:
        try:
            scheduler_file = home / "scheduler.json"
            procs.append(subprocess.Popen(
                [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                 "--scheduler-file", str(scheduler_file)],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
            deadline = time.monotonic() + 60
            while not scheduler_file.exists() or not scheduler_file.read_text().strip():
                assert procs[0].poll() is None and time.monotonic() < deadline, "dask scheduler did not start"
                time.sleep(0.2)
            address = json.loads(scheduler_file.read_text())["address"]
            # The workers get no PREFECT_API_URL: the flow's settings travel with each task.
            for i in range(2):
                procs.append(subprocess.Popen(
                    [str(DASK), "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                     "--name", f"worker-{i}", "--local-directory", str(home / f"worker-{i}")],
                    env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
            with Client(address, timeout=30) as client:
                client.wait_for_workers(2, timeout=60)
            yield api, address
        finally:
            _stop(procs)


def make_inbox(folder: Path, n: int) -> None:
    folder.mkdir(parents=True)
    for i in range(n):
        text = SEED_FILES[i % len(SEED_FILES)].read_text(encoding="utf-8")
        (folder / f"page-{i:02}.txt").write_text(f"{text.rstrip()}\n\nAbsatz {i} der Ergänzung.\n", encoding="utf-8")
    (folder / "broken.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))


def output_of(out: Path) -> dict[str, Any]:
    """Everything the run wrote, with run ids taken out: articles, feed lines, quarantine, state rows."""
    def strip(line: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in line.items() if k != "run_id"}

    (feed,) = (out / "feed").glob("*.jsonl")
    with sqlite3.connect(out / "state" / "ingest.sqlite") as conn:
        docs = conn.execute("SELECT uri, path, sha256, status, article_id, entry FROM docs ORDER BY uri").fetchall()
    return {
        "articles": {p.name: p.read_bytes() for p in sorted((out / "articles").iterdir())},
        "feed": [strip(json.loads(x)) for x in feed.read_text(encoding="utf-8").splitlines()],
        "quarantine": {p.name: p.read_bytes() for p in sorted((out / "quarantine").iterdir())
                       if not p.name.endswith(".reason.json")},
        "docs": docs,
    }


@pytest.mark.slow
def test_dask_cluster_output_is_identical_to_one_process(cluster: tuple[str, str], tmp_path: Path) -> None:
    api, address = cluster
    inbox = tmp_path / "inbox"
    make_inbox(inbox, 12)
    single = cli(str(inbox), "--out", str(tmp_path / "single"), "--batch-size", "2", "--mode", "local", cwd=tmp_path)
    assert single.returncode == 0, single.stderr
    env = {"PREFECT_API_URL": api, "PREFECT_HOME": str(tmp_path / "client-home")}
    done = cli(str(inbox), "--out", str(tmp_path / "dask"), "--batch-size", "2", "--dask", address, cwd=tmp_path,
               env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["mode"] == "prefect" and report["dask_address"] == address and report["prefect_flow_run_id"]
    assert report["counts"] == json.loads(single.stdout)["counts"]
    assert len(report["workers"]) == 2  # both Dask workers cleaned batches
    assert output_of(tmp_path / "dask") == output_of(tmp_path / "single")

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[
            report["prefect_flow_run_id"]])))
    assert sorted(t.name for t in runs) == [f"clean-batch-{i}" for i in range(7)]
    assert all(t.state is not None and t.state.is_completed() for t in runs)

    # the next scheduled run on the cluster reads nothing
    again = cli(str(inbox), "--out", str(tmp_path / "dask"), "--dask", address, cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["incremental"]["files_read"] == 0
