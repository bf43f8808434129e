"""``ingest``: clean scraped pages from files and folders into an output folder.

    ingest PATH [PATH ...] [--out DIR] [--batch-size N] [--max-bytes N]
           [--mode auto|local|prefect] [--no-templates] [--no-progress] [--json]

Mode ``auto`` runs as a tracked Prefect flow run when ``PREFECT_API_URL`` is set in the environment
and in-process otherwise (Prefect is then never imported: no server, no start-up cost).

Exit status: 0 for a completed run (even with quarantined inputs), 2 for usage errors, 3 when no
input files were found, 1 when the run crashed.
"""

from __future__ import annotations

import argparse
import json
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

__all__ = ["EXIT_CRASH", "EXIT_NO_INPUTS", "EXIT_OK", "EXIT_USAGE", "main", "resolve_mode"]

EXIT_OK: Final = 0
EXIT_CRASH: Final = 1
EXIT_USAGE: Final = 2  # argparse's own code for usage errors
EXIT_NO_INPUTS: Final = 3

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
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

    try:
        with progress:
            report = _run(mode, args, on_progress)
    except NoInputsError as exc:
        err.print(f"ingest: {exc}", markup=False, highlight=False)
        return EXIT_NO_INPUTS
    except KeyboardInterrupt:
        err.print("ingest: interrupted", markup=False)
        return 130
    except Exception as exc:
        err.print(f"ingest: run failed: {type(exc).__name__}: {exc}", markup=False, highlight=False)
        traceback.print_exc(file=sys.stderr)
        return EXIT_CRASH

    if args.json:
        sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    else:
        _print_summary(out, report)
    return EXIT_OK


def _run(mode: str, args: argparse.Namespace, on_progress: Callable[[int, int], None]) -> dict[str, Any]:
    if mode == "prefect":
        for key, value in PREFECT_QUIET_ENV.items():
            os.environ.setdefault(key, value)
        from flows.ingest import run_prefect

        return run_prefect(args.paths, args.out, batch_size=args.batch_size, max_bytes=args.max_bytes,
                           progress=on_progress, templates=not args.no_templates)
    from flows.runner import run_ingest

    return run_ingest(args.paths, args.out, batch_size=args.batch_size, max_bytes=args.max_bytes,
                      progress=on_progress, mode="local", templates=not args.no_templates)


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
    quarantined = [i for i in report["inputs"] if i["status"] == "quarantined"]
    for item in quarantined[:MAX_LISTED_QUARANTINED]:
        console.print(f"  quarantined {item['uri']}: {item.get('reason')}", markup=False, highlight=False)
    if len(quarantined) > MAX_LISTED_QUARANTINED:
        console.print(f"  ... and {len(quarantined) - MAX_LISTED_QUARANTINED} more (see runs/{report['run_id']}.json)")


if __name__ == "__main__":
    sys.exit(main())
