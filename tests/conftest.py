"""Shared fixtures for the ingestion tests (decode, store, flows, CLI)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Test Prefect servers are started and stopped by the tests; a log handler that ships logs to an
# API that has just gone away prints "Error logging to API" at exit. No test reads server logs.
os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: starts a Prefect test server (~10-20 s)")


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    """The seed pages copied into a fresh folder (so tests may add files next to them)."""
    target = tmp_path / "in"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture
def chdir_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder``: relative path → (bytes, mtime in ns)."""
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
