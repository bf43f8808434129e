"""Ways to clean a run's batches: one by one, on a local process pool, or as Prefect tasks on Dask.

Every way is a :data:`MapFn`: it takes the run's batches and yields their results **in batch
order**, so the calling process commits them in the same order whatever ran them, and the output
does not depend on the number of workers. At most ``window`` batches are in flight, so memory stays
bounded by the window, not by the corpus: a batch carries paths and byte ranges (work units), never
the documents, and only the results of in-flight batches are held.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar

if TYPE_CHECKING:
    from flows.runner import BatchResult
    from flows.sources import Batch

__all__ = ["MapFn", "in_order", "process_pool", "sequential"]

MapFn = Callable[["Sequence[Batch]"], Iterator["BatchResult"]]

# Batches in flight per worker: one running, one queued, so a worker never waits for the parent to
# hand it work while the parent is committing the previous result.
WINDOW_PER_WORKER: Final = 2

T = TypeVar("T")
R = TypeVar("R", covariant=True)


class _HasResult(Protocol[R]):
    def result(self) -> R: ...


def in_order(items: Iterable[T], submit: Callable[[T], _HasResult[R]], window: int) -> Iterator[R]:
    """Submit ``items`` with at most ``window`` pending and yield their results in order."""
    pending: collections.deque[_HasResult[R]] = collections.deque()
    for item in items:
        pending.append(submit(item))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def sequential(clean: Callable[[Batch], BatchResult]) -> MapFn:
    """Each batch in turn, in this process (or as one Prefect task run each, if ``clean`` is a task)."""

    def run(batches: Sequence[Batch]) -> Iterator[BatchResult]:
        for batch in batches:
            yield clean(batch)

    return run


def _clean_in_worker(batch: Batch) -> BatchResult:
    from flows.runner import process_batch

    return process_batch(batch)


def process_pool(workers: int, *, window: int | None = None,
                 clean: Callable[[Batch], BatchResult] = _clean_in_worker) -> MapFn:
    """``workers`` local processes (no Prefect, no server): for one machine.

    Workers are started with ``forkserver`` (no threads or open state inherited from the parent)
    and import the engine once each; ``clean`` must be a picklable module-level function."""
    if workers < 1:
        raise ValueError("workers must be >= 1")
    depth = window or WINDOW_PER_WORKER * workers

    def run(batches: Sequence[Batch]) -> Iterator[BatchResult]:
        if not batches:
            return
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        with ProcessPoolExecutor(max_workers=min(workers, len(batches)), mp_context=ctx,
                                 initializer=_warm) as pool:
            def submit(batch: Batch) -> Future[BatchResult]:
                return pool.submit(clean, batch)

            try:
                yield from in_order(batches, submit, depth)
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise

    return run


def _warm() -> None:
    """Import the engine and load its data once per worker, before the first batch is timed."""
    os.environ.setdefault("CLEANFEED_WORKER", "1")
    import cleaners

    cleaners.clean_text("Warm-up.\n\nA short paragraph to load the engine's data files once.")


def prefect_submit(task: Any, runner: Any, *, window: int) -> MapFn:
    """Prefect task runs of ``task`` submitted to ``runner`` (e.g. a ``DaskTaskRunner``), in order."""

    def run(batches: Sequence[Batch]) -> Iterator[BatchResult]:
        def submit(batch: Batch) -> Any:
            return runner.submit(task, {"batch": batch})

        yield from in_order(batches, submit, window)

    return run
