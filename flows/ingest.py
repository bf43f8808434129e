"""The Prefect 3 flow: the same run as :func:`flows.runner.run_ingest`, tracked by a Prefect server.

Each batch (hundreds of documents) is one ``clean_batch`` task run; the flow itself discovers,
batches and writes (writes happen only in the flow process), then publishes the run summary as a
table artifact. Importing this module imports Prefect (~1.5 s); local runs never import it.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any, Final

from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from flows.runner import BatchResult, ProgressFn, process_batch, run_ingest, summary_rows
from flows.sources import DEFAULT_BATCH_SIZE, DEFAULT_MAX_BYTES, Batch

__all__ = ["ARTIFACT_KEY", "clean_batch", "ingest_flow", "run_ingest", "run_prefect"]

# Key of the summary artifact: Prefect keys allow lowercase letters, digits and dashes; a fixed key
# makes every run's summary a new version of one artifact in the UI.
ARTIFACT_KEY: Final = "cleanfeed-ingest-summary"

# The progress callback cannot be a flow parameter (parameters are sent to the API as JSON), so
# :func:`run_prefect` hands it to the flow body through a context variable.
_PROGRESS: ContextVar[ProgressFn | None] = ContextVar("cleanfeed_progress", default=None)


@task(name="clean_batch", cache_policy=NO_CACHE, persist_result=False, task_run_name="clean-batch-{batch.index}")
def clean_batch(batch: Batch) -> BatchResult:
    """Read, decode and clean one batch; returns records, statuses and quarantine items."""
    return process_batch(batch)


@flow(name="cleanfeed-ingest", persist_result=False, log_prints=False)
def ingest_flow(
    paths: list[str],
    out: str = "output",
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_bytes: int = DEFAULT_MAX_BYTES,
    templates: bool = True,
) -> dict[str, Any]:
    """Ingest ``paths`` into ``out``; returns the run report and publishes its summary artifact.

    The template first pass (:func:`flows.runner.scan_batch`) runs in the flow process; each
    ``clean_batch`` task gets the template statistics of its own sites with its batch."""
    report = run_ingest(
        paths,
        out,
        batch_size=batch_size,
        max_bytes=max_bytes,
        clean=clean_batch,
        progress=_PROGRESS.get(),
        mode="prefect",
        extra={"prefect_flow_run_id": str(flow_run.get_id() or "")},
        templates=templates,
    )
    create_table_artifact(
        table=summary_rows(report),
        key=ARTIFACT_KEY,
        description=f"cleanfeed ingest run {report['run_id']} → {out}",
    )
    return report


def run_prefect(
    paths: Sequence[str],
    out: str,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: ProgressFn | None = None,
    templates: bool = True,
) -> dict[str, Any]:
    """Run :func:`ingest_flow` as a tracked flow run, reporting progress to ``progress``."""
    token = _PROGRESS.set(progress)
    try:
        return ingest_flow(list(paths), str(out), batch_size, max_bytes, templates)
    finally:
        _PROGRESS.reset(token)
