"""``ingest``: clean scraped pages from files and folders into an output folder.

    ingest PATH [PATH ...] [--out DIR] [--batch-size N] [--max-bytes N]
           [--mode auto|local|prefect] [--no-templates] [--no-progress] [--json]
           [--workers N | --dask tcp://HOST:PORT] [--wait-lock SECONDS] [--full]
    ingest serve INBOX [INBOX ...] --out DIR (--cron EXPR | --interval SECONDS) [--name NAME] ...

Mode ``auto`` runs as a tracked Prefect flow run when ``PREFECT_API_URL`` is set in the environment
and in-process otherwise (Prefect is then never imported: no server, no start-up cost).

``serve`` is recognised only as the very first argument: a folder named ``serve`` is ingested with
``ingest ./serve`` or ``ingest -- serve``.

Exit status: 0 for a completed run (even with quarantined inputs), 2 for usage errors (including
``--dask``/``serve`` without a reachable Prefect API), 3 when no input files were found, 4 when
another run holds the output folder's lock, 1 when the run crashed.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, Final

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from flows.sources import DEFAULT_BATCH_SIZE, DEFAULT_MAX_BYTES, any_inputs

__all__ = ["EXIT_CRASH", "EXIT_LOCKED", "EXIT_NO_INPUTS", "EXIT_OK", "EXIT_USAGE", "main", "resolve_mode"]

EXIT_OK: Final = 0
EXIT_CRASH: Final = 1
EXIT_USAGE: Final = 2  # argparse's own code for usage errors
EXIT_NO_INPUTS: Final = 3
EXIT_LOCKED: Final = 4  # another run holds OUT/.lock (after --wait-lock seconds): this run skipped

# Quarantined inputs listed under the summary table; the run report has all of them.
MAX_LISTED_QUARANTINED: Final = 20

# Defaults applied before Prefect is imported, only where the user has not set them: no console
# chatter below WARNING (logs still go to the API at their level), no anonymous analytics from a
# temporary local server.
PREFECT_QUIET_ENV: Final = {
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
}


def resolve_mode(requested: str, environ: dict[str, str] | os._Environ[str] | None = None) -> str:
    """``local`` or ``prefect``: ``auto`` means Prefect iff ``PREFECT_API_URL`` is set."""
    env = os.environ if environ is None else environ
    if requested == "auto":
        return "prefect" if env.get("PREFECT_API_URL", "").strip() else "local"
    return requested


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1: {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ingest",
        description="Turn raw scraped news pages (text dumps, HTML, JSONL) into clean canonical articles.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="input files or folders (searched recursively)")
    parser.add_argument("--out", default="output", metavar="DIR", help="output folder (default: output/)")
    parser.add_argument("--batch-size", type=_positive_int, default=DEFAULT_BATCH_SIZE, metavar="N",
                        help=f"documents per batch/task (default: {DEFAULT_BATCH_SIZE})")
    parser.add_argument("--max-bytes", type=_positive_int, default=DEFAULT_MAX_BYTES, metavar="N",
                        help=f"larger documents are quarantined unread (default: {DEFAULT_MAX_BYTES})")
    parser.add_argument("--mode", choices=("auto", "local", "prefect"), default="auto",
                        help="auto: a Prefect flow run if PREFECT_API_URL is set, else in-process")
    parser.add_argument("--no-templates", action="store_true",
                        help="no template detection across pages of a site; the history in OUT/state is "
                             "neither used nor updated")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print the run report as JSON instead of a table")
    parser.add_argument("--full", action="store_true",
                        help="re-read every input, not only those new or changed since the last run "
                             "(e.g. after upgrading cleanfeed); the state is updated")
    _add_run_options(parser)
    return parser


# -- scheduled runs and scale-out (flows.state, flows.parallel, flows.schedule) --------------------


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {value:g}")
    return value


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    scale = parser.add_mutually_exclusive_group()
    scale.add_argument("--workers", type=_positive_int, default=1, metavar="N",
                       help="clean batches in N local processes (local mode: a process pool, no server; "
                            "Prefect mode: a local Dask cluster)")
    scale.add_argument("--dask", metavar="tcp://HOST:PORT", default=None,
                       help="run the clean tasks on this Dask cluster (Prefect mode; needs PREFECT_API_URL)")
    parser.add_argument("--wait-lock", type=_seconds, default=0.0, metavar="SECONDS",
                        help="if another run is writing to the output folder, wait up to SECONDS for it, "
                             f"then skip with exit status {EXIT_LOCKED} (default: 0, skip at once)")


def _serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ingest serve",
        description="Serve the ingest flow as a Prefect deployment on a schedule: each run ingests what is new "
                    "or changed in INBOX since the last run. Needs a Prefect server (PREFECT_API_URL).",
    )
    parser.add_argument("paths", nargs="+", metavar="INBOX", help="input folders or files")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    when = parser.add_mutually_exclusive_group(required=True)
    when.add_argument("--cron", metavar="EXPR", help='cron schedule, e.g. "*/15 * * * *"')
    when.add_argument("--interval", type=_seconds, metavar="SECONDS", help="run every SECONDS")
    parser.add_argument("--name", default=None, metavar="NAME", help="deployment name (default: cleanfeed-inbox)")
    parser.add_argument("--batch-size", type=_positive_int, default=DEFAULT_BATCH_SIZE, metavar="N")
    parser.add_argument("--max-bytes", type=_positive_int, default=DEFAULT_MAX_BYTES, metavar="N")
    parser.add_argument("--no-templates", action="store_true", help="no template detection across pages")
    _add_run_options(parser)
    return parser


def _serve_main(argv: Sequence[str]) -> int:
    args = _serve_parser().parse_args(argv)
    err = Console(stderr=True)
    for key, value in PREFECT_QUIET_ENV.items():
        os.environ.setdefault(key, value)
    from flows.server import ApiUnavailableError, api_url, check_api

    try:
        url = check_api(api_url(), purpose="ingest serve")
    except ApiUnavailableError as exc:
        err.print(f"ingest serve: error: {exc}", markup=False, highlight=False)
        return EXIT_USAGE
    from flows.schedule import DEFAULT_DEPLOYMENT, build_deployment, serve

    deployment = build_deployment(
        args.paths, args.out, name=args.name or DEFAULT_DEPLOYMENT, cron=args.cron, interval=args.interval,
        dask_address=args.dask, workers=args.workers, wait_lock=args.wait_lock, batch_size=args.batch_size,
        max_bytes=args.max_bytes, templates=not args.no_templates,
    )
    err.print(f"ingest serve: {deployment.name} → {args.out} on {args.cron or f'every {args.interval:g} s'} "
              f"(Prefect API {url}); Ctrl-C stops", markup=False, highlight=False)
    try:
        serve(deployment)
    except KeyboardInterrupt:
        return 130
    return EXIT_OK


def _check_cluster(mode: str, args: argparse.Namespace, err: Console) -> str | None:
    """An error message if ``--dask`` cannot run: it needs Prefect mode and a reachable API."""
    if not args.dask:
        return None
    if args.mode == "local":
        return "--dask runs Prefect tasks and cannot be used with --mode local"
    from flows.server import ApiUnavailableError, api_url, check_api

    try:
        check_api(api_url(), purpose="--dask")
    except ApiUnavailableError as exc:
        return str(exc)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        return _serve_main(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    err = Console(stderr=True)
    out = Console()

    missing = [p for p in args.paths if not os.path.exists(p)]
    if missing:
        parser.print_usage(sys.stderr)
        err.print(f"ingest: error: no such file or folder: {', '.join(missing)}", markup=False, highlight=False)
        return EXIT_USAGE
    if not any_inputs(args.paths, out=args.out):
        err.print(f"ingest: no input files found under: {', '.join(args.paths)}", markup=False, highlight=False)
        return EXIT_NO_INPUTS
    mode = resolve_mode(args.mode)
    if args.dask:
        problem = _check_cluster(mode, args, err)
        if problem:
            err.print(f"ingest: error: {problem}", markup=False, highlight=False)
            return EXIT_USAGE
        mode = "prefect"

    show_progress = not args.no_progress and err.is_terminal
    progress = Progress(
        TextColumn("[bold]cleaning"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("docs"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not show_progress,
        transient=True,
    )
    task: TaskID = progress.add_task("cleaning", total=None)

    def on_progress(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    from flows.runner import NoInputsError
    from flows.state import LockBusyError

    try:
        with progress:
            report = _run(mode, args, on_progress)
    except NoInputsError as exc:
        err.print(f"ingest: {exc}", markup=False, highlight=False)
        return EXIT_NO_INPUTS
    except LockBusyError as exc:
        err.print(f"ingest: skipped: {exc}", markup=False, highlight=False)
        return EXIT_LOCKED
    except KeyboardInterrupt:
        err.print("ingest: interrupted", markup=False)
        return 130
    except Exception as exc:
        err.print(f"ingest: run failed: {type(exc).__name__}: {exc}", markup=False, highlight=False)
        traceback.print_exc(file=sys.stderr)
        return EXIT_CRASH

    if args.json:
        from flows.store import report_chunks

        for chunk in report_chunks(report):  # the run report's "inputs" are streamed from disk
            sys.stdout.write(chunk)
    else:
        _print_summary(out, report)
    return EXIT_OK


def _run(mode: str, args: argparse.Namespace, on_progress: Callable[[int, int], None]) -> dict[str, Any]:
    if mode == "prefect":
        for key, value in PREFECT_QUIET_ENV.items():
            os.environ.setdefault(key, value)
        from flows.ingest import run_prefect

        return run_prefect(args.paths, args.out, batch_size=args.batch_size, max_bytes=args.max_bytes,
                           progress=on_progress, templates=not args.no_templates, dask_address=args.dask,
                           workers=args.workers, wait_lock=args.wait_lock, incremental=not args.full)
    from flows.parallel import process_pool
    from flows.runner import run_ingest

    return run_ingest(args.paths, args.out, batch_size=args.batch_size, max_bytes=args.max_bytes,
                      progress=on_progress, mode="local", templates=not args.no_templates,
                      clean_many=process_pool(args.workers) if args.workers > 1 else None,
                      wait_lock=args.wait_lock, incremental=not args.full)


def _print_summary(console: Console, report: dict[str, Any]) -> None:
    from flows.runner import summary_rows

    console.print(f"ingest run {report['run_id']} ({report['mode']} mode) → {report['out']}",
                  markup=False, highlight=False)
    table = Table()
    table.add_column("metric")
    table.add_column("value", justify="right")
    for row in summary_rows(report):
        table.add_row(row["metric"], row["value"])
    console.print(table)
    listed = 0
    for item in report["inputs"]:  # streamed (flows.store.EntryLog): only the listed ones are kept
        if listed == MAX_LISTED_QUARANTINED:
            break
        if item["status"] == "quarantined":
            console.print(f"  quarantined {item['uri']}: {item.get('reason')}", markup=False, highlight=False)
            listed += 1
    more = report["counts"]["quarantined"] - listed
    if more > 0:
        console.print(f"  ... and {more} more (see runs/{report['run_id']}.json)")


if __name__ == "__main__":
    sys.exit(main())
