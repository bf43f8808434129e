"""``ingest serve``: the deployment's schedule (read back from a real Prefect server), a served run,
the lock seen from a flow run, and the command line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SEEDS

from flows.state import RunLock

REPO = SEEDS.parent


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), base.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], cwd=cwd, env={**base, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


# -- the command line (no server) -----------------------------------------------------------------


def test_serve_needs_a_schedule_and_a_prefect_api(tmp_path: Path) -> None:
    done = cli("serve", "inbox", "--out", "out", cwd=tmp_path)
    assert done.returncode == 2 and "one of the arguments --cron --interval is required" in done.stderr
    done = cli("serve", "inbox", "--out", "out", "--cron", "*/15 * * * *", cwd=tmp_path,
               env={"PREFECT_HOME": str(tmp_path / "home")})
    assert done.returncode == 2, done.stderr
    message = " ".join(done.stderr.split())
    assert "needs a Prefect server and PREFECT_API_URL is not set" in message and "prefect server start" in message
    done = cli("serve", "inbox", "--out", "out", "--interval", "60", cwd=tmp_path,
               env={"PREFECT_API_URL": "http://127.0.0.1:9/api"})
    assert done.returncode == 2 and "no Prefect API answers at http://127.0.0.1:9/api" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr


def test_a_folder_named_serve_is_still_ingested(tmp_path: Path) -> None:
    (tmp_path / "serve").mkdir()
    (tmp_path / "serve" / "page.txt").write_bytes((SEEDS / "001_edd8e59a6896bee3.txt").read_bytes())
    done = cli("./serve", "--out", "out", "--no-progress", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    done = cli("--out", "out2", "--no-progress", "--json", "--", "serve", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "out2" / "articles").iterdir())) == 1


def test_build_deployment_needs_exactly_one_schedule() -> None:
    from flows.schedule import build_deployment

    with pytest.raises(ValueError, match="exactly one"):
        build_deployment(["in"], "out")
    with pytest.raises(ValueError, match="exactly one"):
        build_deployment(["in"], "out", cron="* * * * *", interval=60)


# -- against a real Prefect server ----------------------------------------------------------------


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``prefect server start`` on 127.0.0.1 (SQLite in a temp folder), for this module."""
    from flows.server import running_server

    with running_server(tmp_path_factory.mktemp("prefect-home")) as url:
        yield url


@pytest.fixture
def api_settings(prefect_api: str, tmp_path: Path) -> Iterator[str]:
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

    with temporary_settings({PREFECT_API_URL: prefect_api, PREFECT_HOME: tmp_path / "client-home"}):
        yield prefect_api


@pytest.mark.slow
def test_deployment_schedule_is_on_the_server(api_settings: str, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client

    from flows.schedule import build_deployment

    cron = build_deployment([str(SEEDS)], str(tmp_path / "out"), name="cron-test", cron="*/15 * * * *",
                            wait_lock=30)
    every = build_deployment([str(SEEDS)], str(tmp_path / "out"), name="interval-test", interval=900)
    ids = [cron.apply(), every.apply()]
    with get_client(sync_client=True) as client:
        first, second = (client.read_deployment(i) for i in ids)
    (schedule,) = first.schedules
    assert getattr(schedule.schedule, "cron", None) == "*/15 * * * *" and schedule.active
    (schedule,) = second.schedules
    interval = getattr(schedule.schedule, "interval", None)
    assert interval is not None and interval.total_seconds() == 900
    assert first.parameters["paths"] == [str(SEEDS)] and first.parameters["out"] == str(tmp_path / "out")
    assert first.parameters["wait_lock"] == 30 and first.parameters["incremental"] is True
    assert first.entrypoint and first.entrypoint.endswith("ingest_flow")


@pytest.mark.slow
def test_served_deployment_runs_and_a_locked_run_is_skipped(api_settings: str, tmp_path: Path) -> None:
    """``ingest serve`` registers the deployment and executes its runs; a run that finds the output
    folder locked ends as a Completed state named Skipped."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.deployments import run_deployment

    from flows.ingest import ARTIFACT_KEY, DETAILS_KEY

    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update({"PREFECT_API_URL": api_settings, "PREFECT_HOME": str(tmp_path / "serve-home"),
                "PREFECT_RUNNER_POLL_FREQUENCY": "1", "PYTHONPATH": str(REPO)})
    serve = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "serve", str(SEEDS), "--out", str(out), "--interval", "86400",
         "--name", "served-test"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        with get_client(sync_client=True) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    deployment = client.read_deployment_by_name("cleanfeed-ingest/served-test")
                    break
                except Exception:
                    assert serve.poll() is None, serve.communicate()[1]
                    assert time.monotonic() < deadline, "the deployment never appeared"
                    time.sleep(0.5)
        assert deployment.schedules and deployment.parameters["out"] == str(out)

        run = run_deployment("cleanfeed-ingest/served-test", timeout=120)
        assert run.state is not None and run.state.is_completed(), run.state
        assert len(list((out / "articles").iterdir())) == 5
        with get_client(sync_client=True) as client:
            keys = [ARTIFACT_KEY, DETAILS_KEY]
            artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=keys)))
        expected = sorted([(ARTIFACT_KEY, "table"), (DETAILS_KEY, "markdown")])
        assert sorted((a.key, a.type) for a in artifacts) == expected
        assert all(a.flow_run_id == run.id for a in artifacts)

        with RunLock(out):
            skipped = run_deployment("cleanfeed-ingest/served-test", timeout=120)
        assert skipped.state is not None and skipped.state.is_completed()
        assert skipped.state.name == "Skipped" and "another ingest run" in (skipped.state.message or "")
    finally:
        os.killpg(serve.pid, signal.SIGINT)
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait(timeout=10)


@pytest.mark.slow
def test_flow_called_directly_raises_when_locked(api_settings: str, tmp_path: Path) -> None:
    from flows.ingest import run_prefect
    from flows.state import LockBusyError

    out = tmp_path / "out"
    with RunLock(out), pytest.raises(LockBusyError, match="another ingest run"):
        run_prefect([str(SEEDS)], str(out))
    report = run_prefect([str(SEEDS)], str(out), workers=1)
    assert report["counts"]["ingested"] == 5 and report["mode"] == "prefect"
