"""``ingest serve``: the ingest flow as a Prefect deployment on a schedule, served by this process.

:func:`build_deployment` makes the deployment (its parameters are the inbox, the output folder and
the run options; its schedule a cron expression or an interval); :func:`serve` registers it with
the Prefect server and runs its scheduled flow runs until interrupted (``prefect.serve``). Each run
reads only what is new or changed in the inbox (``OUT/state/ingest.sqlite``) and holds
``OUT/.lock``: a run that would overlap a slow previous one waits ``wait_lock`` seconds, then ends
as ``Skipped``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final, cast

from flows.sources import DEFAULT_BATCH_SIZE, DEFAULT_MAX_BYTES

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

__all__ = ["DEFAULT_DEPLOYMENT", "build_deployment", "serve"]

DEFAULT_DEPLOYMENT: Final = "cleanfeed-inbox"


def build_deployment(
    paths: Sequence[str],
    out: str,
    *,
    name: str = DEFAULT_DEPLOYMENT,
    cron: str | None = None,
    interval: float | None = None,
    dask_address: str | None = None,
    workers: int = 1,
    wait_lock: float = 0.0,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_bytes: int = DEFAULT_MAX_BYTES,
    templates: bool = True,
) -> RunnerDeployment:
    """The deployment of :func:`flows.ingest.ingest_flow` for ``paths`` → ``out`` on one schedule
    (exactly one of ``cron`` and ``interval`` seconds). Paths are made absolute: flow runs start in
    their own processes."""
    if (cron is None) == (interval is None):
        raise ValueError("give exactly one of cron and interval")
    from flows.ingest import ingest_flow

    parameters: dict[str, Any] = {
        "paths": [os.path.abspath(p) for p in paths],
        "out": os.path.abspath(out),
        "batch_size": batch_size,
        "max_bytes": max_bytes,
        "templates": templates,
        "dask_address": dask_address,
        "workers": workers,
        "wait_lock": wait_lock,
        "incremental": True,
    }
    schedule: dict[str, Any] = {"cron": cron} if cron is not None else {"interval": timedelta(seconds=interval or 0)}
    deployment = ingest_flow.to_deployment(
        name=name,
        parameters=parameters,
        description=f"cleanfeed: ingest what is new in {', '.join(parameters['paths'])} into {parameters['out']}",
        tags=["cleanfeed"],
        **schedule,
    )
    return cast("RunnerDeployment", deployment)  # sync call: not the coroutine of the async variant


def serve(deployment: RunnerDeployment) -> None:  # pragma: no cover - blocks until interrupted
    """Register ``deployment`` and run its scheduled flow runs in this process until interrupted."""
    from prefect import serve as prefect_serve

    prefect_serve(deployment, print_starting_message=True)
