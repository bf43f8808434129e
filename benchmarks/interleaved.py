"""Throughput of several systems measured page by page, interleaved, in one process.

The dev-set benchmark times each system in its own process, one after the other. On a shared or
virtualised machine the CPU's speed drifts between those runs: three back-to-back runs on the
2-core dev VM gave trafilatura 58, 91 and 96 docs/s for the same code. Here every system cleans
every page in turn, in one process, with the order rotated page by page and round by round, so
all of them see the same machine; their docs/s per CPU-second and the ratios between them are
comparable. The systems are the dev-set benchmark's own (same inputs, same calls).

    python -m benchmarks.interleaved ../shared/devset                      # raw: cleanfeed, justext, trafilatura
    python -m benchmarks.interleaved ../shared/devset --systems cleanfeed-html,trafilatura-html
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.devset import SYSTEMS, Page, load_manifest, make_extractor, read_input

DEFAULT_SYSTEMS = ("cleanfeed", "justext", "trafilatura")
# Resolution floor of the CPU clock (time.process_time on Linux is ~1 us): keeps rates finite.
CPU_CLOCK_TICK = 1e-6


def measure(devset: Path, systems: Sequence[str], rounds: int, limit: int | None = None) -> dict[str, float]:
    """CPU seconds each system spent on all pages, summed over ``rounds`` passes."""
    pages = [Page.from_manifest(r) for r in load_manifest(devset)][:limit]
    extractors = {name: make_extractor(name, pages) for name in systems}
    inputs = {name: [read_input(devset, p, SYSTEMS[name].input) for p in pages] for name in systems}
    for name in systems:  # warm-up: imports, pattern compilation, lazy state; not timed
        extractors[name](inputs[name][0], pages[0])
    spent = dict.fromkeys(systems, 0.0)
    order = list(systems)
    for rnd in range(rounds):
        for i, page in enumerate(pages):
            shift = (i + rnd) % len(order)
            for name in order[shift:] + order[:shift]:
                t = time.process_time()
                extractors[name](inputs[name][i], page)
                spent[name] += time.process_time() - t
    return spent


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("devset", type=Path)
    ap.add_argument("--systems", default=",".join(DEFAULT_SYSTEMS))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None, help="only the first N pages of the manifest")
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = ap.parse_args(argv)
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        ap.error(f"unknown systems: {', '.join(unknown)}")
    spent = measure(args.devset, systems, args.rounds, args.limit)
    docs = args.rounds * len(load_manifest(args.devset)[: args.limit])
    base = systems[0]
    print(f"{'system':18s} {'docs/s/core':>11s} {'ms/page':>8s} {'speed rel. ' + base:>20s}")
    result = {}
    for name in systems:
        cpu = max(spent[name], CPU_CLOCK_TICK)  # a system that does nothing (raw) reads as one tick
        rate = docs / cpu
        result[name] = {"docs_per_s": round(rate, 1), "cpu_seconds": round(spent[name], 3)}
        relative = max(spent[base], CPU_CLOCK_TICK) / cpu
        print(f"{name:18s} {rate:11.1f} {1000 * spent[name] / docs:8.2f} {relative:19.2f}x")
    if args.json is not None:
        args.json.write_text(json.dumps({"docs": docs, "systems": result}, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
