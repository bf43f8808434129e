"""A Prefect server for scheduled and cluster runs: find it, check it, start one locally.

Scheduled runs (``ingest serve``) and Dask runs (``ingest --dask``) need a Prefect API that every
process can reach: without one, Prefect starts a temporary server per process (on Dask: one per
worker, all on the same SQLite file, 20+ s per run). So those modes check the API first, and fail
early with :class:`ApiUnavailableError` when none is configured or it does not answer.

Start a local server (SQLite in ``PREFECT_HOME``, by default ``~/.prefect``)::

    python -m flows.server                 # = prefect server start --host 127.0.0.1 --port 4200
    export PREFECT_API_URL=http://127.0.0.1:4200/api

For production, point the server at Postgres before starting it::

    export PREFECT_API_DATABASE_CONNECTION_URL=postgresql+asyncpg://user:pass@db:5432/prefect

:func:`running_server` starts one as a subprocess (used by the tests) and stops it on exit.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Final

__all__ = ["ApiUnavailableError", "api_url", "check_api", "free_port", "running_server"]

DEFAULT_PORT: Final = 4200

# Seconds to wait for the API's health endpoint (a live server answers in milliseconds).
CHECK_TIMEOUT_S: Final = 5.0

# Seconds a new server may take to answer (migrating a fresh SQLite database takes ~5-15 s here).
START_TIMEOUT_S: Final = 90.0

# Settings for a server started by :func:`running_server`: quiet, no analytics, no background
# services a test or a single-user setup does not need.
SERVER_ENV: Final = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING",
    "PREFECT_UI_ENABLED": "false",
}

HOW_TO_START: Final = (
    "start one with `prefect server start` (or `python -m flows.server`) and set "
    "PREFECT_API_URL=http://127.0.0.1:4200/api"
)


class ApiUnavailableError(RuntimeError):
    """No Prefect API is configured, or it does not answer."""


def api_url(environ: Mapping[str, str] | None = None) -> str | None:
    """The configured Prefect API URL: ``PREFECT_API_URL`` in the environment, else the active
    Prefect profile's setting (importing Prefect only in that case)."""
    env = os.environ if environ is None else environ
    url = env.get("PREFECT_API_URL", "").strip()
    if url:
        return url
    if environ is not None:
        return None
    from prefect.settings import PREFECT_API_URL

    value = PREFECT_API_URL.value()
    return str(value).strip() or None if value else None


def check_api(url: str | None, *, purpose: str, timeout: float = CHECK_TIMEOUT_S) -> str:
    """``url`` if a Prefect API answers there; else :class:`ApiUnavailableError` saying why and how
    to fix it. ``purpose`` names what needs the API (for the message)."""
    if not url:
        raise ApiUnavailableError(f"{purpose} needs a Prefect server and PREFECT_API_URL is not set: {HOW_TO_START}")
    health = url.rstrip("/") + "/health"
    try:
        with urllib.request.urlopen(health, timeout=timeout) as response:
            body = response.read(64)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ApiUnavailableError(f"{purpose}: no Prefect API answers at {url} ({reason}); {HOW_TO_START}") from None
    if body.strip() != b"true":
        raise ApiUnavailableError(f"{purpose}: {health} did not answer like a Prefect API ({body!r})")
    return url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_server(home: str | os.PathLike[str], *, port: int | None = None,
                   timeout: float = START_TIMEOUT_S) -> Iterator[str]:
    """A ``prefect server start`` on 127.0.0.1 with its SQLite database in ``home``; yields the API
    URL once it answers, and stops the server (and its children) on exit."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, **SERVER_ENV, "PREFECT_HOME": str(home)}
    env.pop("PREFECT_API_URL", None)
    Path(home).mkdir(parents=True, exist_ok=True)
    log = open(Path(home) / "server.log", "wb")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise ApiUnavailableError(f"prefect server exited with {proc.returncode}; see {log.name}")
            try:
                check_api(url, purpose="server start", timeout=1.0)
                break
            except ApiUnavailableError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)
            proc.wait(timeout=5)
        log.close()


def main(argv: list[str] | None = None) -> int:
    """Run ``prefect server start`` on 127.0.0.1 in the foreground (Ctrl-C stops it)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m flows.server", description=main.__doc__)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    url = f"http://{args.host}:{args.port}/api"
    db = os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL") or "SQLite in PREFECT_HOME (~/.prefect)"
    print(json.dumps({"api": url, "database": db}), file=sys.stderr)
    print(f"then, in the shell that runs ingest:  export PREFECT_API_URL={url}", file=sys.stderr)
    env = {**os.environ, **{k: v for k, v in SERVER_ENV.items() if k != "PREFECT_UI_ENABLED"}}
    try:
        return subprocess.call([sys.executable, "-m", "prefect", "server", "start", "--host", args.host,
                                "--port", str(args.port)], env=env)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
