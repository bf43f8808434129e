"""The Prefect 3 flow: the same run as :func:`flows.runner.run_ingest`, tracked by a Prefect server.

Each batch (hundreds of documents) is one ``clean_batch`` task run; the flow itself discovers,
batches and writes (writes happen only in the flow process), then publishes the run summary as a
table artifact and the slowest / most stripped inputs as a markdown artifact. Importing this
module imports Prefect (~1.5 s); local runs never import it.

Scale-out: with ``dask_address`` the ``clean_batch`` task runs are submitted to that Dask cluster
through prefect-dask's ``DaskTaskRunner`` (``workers`` > 1 without an address: a local Dask cluster
of that many processes); results come back in batch order and are committed by the flow process.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from typing import Any, Final

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State
from prefect.runtime import flow_run
from prefect.states import Completed

from flows.commit import details_markdown
from flows.parallel import MapFn, prefect_submit
from flows.runner import BatchResult, ProgressFn, process_batch, run_ingest, summary_rows
from flows.sources import DEFAULT_BATCH_SIZE, DEFAULT_MAX_BYTES, Batch
from flows.state import LockBusyError

__all__ = ["ARTIFACT_KEY", "DETAILS_KEY", "clean_batch", "ingest_flow", "run_ingest", "run_prefect"]

# Key of the summary artifact: Prefect keys allow lowercase letters, digits and dashes; a fixed key
# makes every run's summary a new version of one artifact in the UI.
ARTIFACT_KEY: Final = "cleanfeed-ingest-summary"
DETAILS_KEY: Final = "cleanfeed-ingest-details"

# Name of the (Completed) state of a run that found the output folder locked by another run.
SKIPPED_STATE: Final = "Skipped"

# Task retries: a batch task fails only when its process or worker dies (cleaning errors are
# quarantined inside the task); retrying it on another worker helps.
TASK_RETRIES: Final = 2

# Batches in flight per Dask worker thread (see flows.parallel.WINDOW_PER_WORKER).
DASK_WINDOW_PER_THREAD: Final = 2

# The progress callback cannot be a flow parameter (parameters are sent to the API as JSON), so
# :func:`run_prefect` hands it to the flow body through a context variable.
_PROGRESS: ContextVar[ProgressFn | None] = ContextVar("cleanfeed_progress", default=None)


def _progress() -> ProgressFn | None:
    """The caller's progress callback. The flow body calls this function instead of reading
    ``_PROGRESS``: a Dask task runner pickles the flow (in the task's context) with the globals its
    body names, and a ContextVar cannot be pickled; a module-level function is pickled by name."""
    return _PROGRESS.get()


@task(name="clean_batch", cache_policy=NO_CACHE, persist_result=False, task_run_name="clean-batch-{batch.index}",
      retries=TASK_RETRIES, retry_delay_seconds=1)
def clean_batch(batch: Batch) -> BatchResult:
    """Read, decode and clean one batch; returns records, statuses and quarantine items."""
    return process_batch(batch)


@contextlib.contextmanager
def _dask_mapper(dask_address: str | None, workers: int) -> Iterator[MapFn | None]:
    """``clean_batch`` task runs on Dask (an existing cluster, or a local one of ``workers``
    processes), or ``None``: one task run after the other in the flow process."""
    if not dask_address and workers <= 1:
        yield None
        return
    try:
        from prefect_dask.task_runners import DaskTaskRunner
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError("Dask needs the 'dask' extra: pip install 'cleanfeed[dask]'") from exc
    if dask_address:
        runner = DaskTaskRunner(address=dask_address)
    else:
        runner = DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True})
    with runner:
        threads = sum(runner.client.nthreads().values()) or 1  # type: ignore[no-untyped-call]
        yield prefect_submit(clean_batch, runner, window=DASK_WINDOW_PER_THREAD * threads)


@flow(name="cleanfeed-ingest", persist_result=False, log_prints=False)
def ingest_flow(
    paths: list[str],
    out: str = "output",
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_bytes: int = DEFAULT_MAX_BYTES,
    templates: bool = True,
    dask_address: str | None = None,
    workers: int = 1,
    wait_lock: float = 0.0,
    incremental: bool = True,
) -> dict[str, Any] | State[Any]:
    """Ingest ``paths`` into ``out``; returns the run report and publishes its artifacts.

    The template first pass (:func:`flows.runner.scan_batch`) runs in the flow process; each
    ``clean_batch`` task gets the template statistics of its own sites with its batch.

    When another run holds ``out``'s lock (after ``wait_lock`` seconds) the run ends at once in a
    Completed state named ``Skipped``, with the reason as its message."""
    try:
        with _dask_mapper(dask_address, workers) as clean_many:
            report = run_ingest(
                paths,
                out,
                batch_size=batch_size,
                max_bytes=max_bytes,
                clean=clean_batch,
                clean_many=clean_many,
                progress=_progress(),
                mode="prefect",
                extra={"prefect_flow_run_id": str(flow_run.get_id() or ""),
                       **({"dask_address": dask_address} if dask_address else {})},
                templates=templates,
                wait_lock=wait_lock,
                incremental=incremental,
            )
    except LockBusyError as exc:
        get_run_logger().warning("skipped: %s", exc)
        return Completed(name=SKIPPED_STATE, message=f"skipped: {exc}",
                         data={"skipped": True, "reason": str(exc), "holder": exc.holder})
    create_table_artifact(
        table=summary_rows(report),
        key=ARTIFACT_KEY,
        description=f"cleanfeed ingest run {report['run_id']} → {out}",
    )
    create_markdown_artifact(
        markdown=details_markdown(report),
        key=DETAILS_KEY,
        description=f"cleanfeed ingest run {report['run_id']}: slowest and most stripped inputs",
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
    dask_address: str | None = None,
    workers: int = 1,
    wait_lock: float = 0.0,
    incremental: bool = True,
) -> dict[str, Any]:
    """Run :func:`ingest_flow` as a tracked flow run, reporting progress to ``progress``.

    Raises :class:`~flows.state.LockBusyError` when the run was skipped for the lock."""
    token = _PROGRESS.set(progress)
    try:
        result = ingest_flow(list(paths), str(out), batch_size, max_bytes, templates, dask_address, workers,
                             wait_lock, incremental)
    finally:
        _PROGRESS.reset(token)
    if isinstance(result, dict) and result.get("skipped"):
        raise LockBusyError.from_message(str(result.get("reason")), result.get("holder"))
    assert isinstance(result, dict)
    return result
