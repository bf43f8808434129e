"""Throughput of several systems measured page by page, interleaved, in one process.

The dev-set benchmark times each system in its own process, one after the other. On a shared or
virtualised machine the CPU's speed drifts between those runs: three back-to-back runs on the
2-core dev VM gave trafilatura 58, 91 and 96 docs/s for the same code. Here every system cleans
every page in turn, in one process, with the order rotated page by page and round by round, so
all of them see the same machine; their docs/s per CPU-second and the ratios between them are
comparable. The systems are the dev-set benchmark's own (same inputs, same calls).

    python -m benchmarks.interleaved ../shared/devset                      # raw: cleanfeed, justext, trafilatura
    python -m benchmarks.interleaved ../shared/devset --systems cleanfeed-html,trafilatura-html

The machine's speed is also read against a yardstick named in issue 3: "langdetect costs about
5 ms per call as usually called". The run times ``langdetect.detect`` (seeded, the pure-Python
package as a pipeline calls it on an article's text: cleanfeed's output for the page) interleaved
with the systems, and prints what it costs here, how many such calls one page of the first system
costs (150 docs/s at 5 ms a call allows 1.33), and the first system's docs/s on a machine where the
yardstick takes 5 ms. ``--no-yardstick`` leaves it out.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.devset import SYSTEMS, Extractor, Page, load_manifest, make_extractor, read_input

DEFAULT_SYSTEMS = ("cleanfeed", "justext", "trafilatura")
# Issue 3: "langdetect costs about 5 ms per call as usually called" (the machine the targets were set on).
YARDSTICK_MS = 5.0
# Issue 3: "throughput >= 150 docs/s on one core for the whole text path".
TARGET_DOCS_PER_S = 150.0
YARDSTICK = "langdetect.detect"
# Resolution floor of the CPU clock (time.process_time on Linux is ~1 us): keeps rates finite.
CPU_CLOCK_TICK = 1e-6


def _yardstick(devset: Path, pages: Sequence[Page]) -> tuple[Extractor, list[str]]:
    """``langdetect.detect`` as usually called (seeded, once per article) and its inputs: the text
    cleanfeed keeps of each page (built here, before any timing). An empty article is not a call."""
    from langdetect import DetectorFactory, detect

    from cleaners import clean_text

    DetectorFactory.seed = 0

    def run(text: str, page: Page) -> str:
        return detect(text) if text else ""

    return run, [clean_text(read_input(devset, p, "raw")).text for p in pages]


def measure(
    devset: Path, systems: Sequence[str], rounds: int, limit: int | None = None, yardstick: bool = False
) -> tuple[dict[str, float], int]:
    """CPU seconds each system spent on all pages, summed over ``rounds`` passes, and how many
    calls the yardstick made (0 without it; it is timed under ``YARDSTICK``)."""
    pages = [Page.from_manifest(r) for r in load_manifest(devset)][:limit]
    extractors = {name: make_extractor(name, pages) for name in systems}
    inputs = {name: [read_input(devset, p, SYSTEMS[name].input) for p in pages] for name in systems}
    calls = 0
    if yardstick:
        extractors[YARDSTICK], inputs[YARDSTICK] = _yardstick(devset, pages)
        calls = rounds * sum(1 for text in inputs[YARDSTICK] if text)
    order = list(extractors)
    for name in order:  # warm-up: imports, pattern compilation, lazy state; not timed
        extractors[name](inputs[name][0], pages[0])
    spent = dict.fromkeys(order, 0.0)
    for rnd in range(rounds):
        for i, page in enumerate(pages):
            shift = (i + rnd) % len(order)
            for name in order[shift:] + order[:shift]:
                t = time.process_time()
                extractors[name](inputs[name][i], page)
                spent[name] += time.process_time() - t
    return spent, calls


def scaled(yardstick_cpu: float, calls: int, system_cpu: float, docs: int) -> dict[str, float]:
    """A system's speed in units of the yardstick: its ms a page divided by the yardstick's ms a
    call (machine-independent, as long as both are pure-Python work), and the docs/s that ratio
    means on a machine where the yardstick takes ``YARDSTICK_MS``."""
    ms_call = 1000 * yardstick_cpu / calls
    per_page = (1000 * system_cpu / docs) / ms_call
    return {
        "ms_per_call": round(ms_call, 3),
        "calls_per_page": round(per_page, 3),
        "calls_allowed": round(1000 / TARGET_DOCS_PER_S / YARDSTICK_MS, 3),
        "docs_per_s_at_yardstick": round(1000 / (per_page * YARDSTICK_MS), 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("devset", type=Path)
    ap.add_argument("--systems", default=",".join(DEFAULT_SYSTEMS))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None, help="only the first N pages of the manifest")
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    ap.add_argument("--no-yardstick", dest="yardstick", action="store_false",
                    help=f"do not time {YARDSTICK} (the machine's speed against issue 3's 5 ms a call)")
    args = ap.parse_args(argv)
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        ap.error(f"unknown systems: {', '.join(unknown)}")
    spent, calls = measure(args.devset, systems, args.rounds, args.limit, args.yardstick)
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
    report: dict[str, object] = {"docs": docs, "systems": result}
    if calls:
        report["yardstick"] = yardstick = scaled(spent[YARDSTICK], calls, spent[base], docs)
        print(
            f"\n{YARDSTICK} (seeded, on each article's text): {yardstick['ms_per_call']:.2f} ms a call here "
            f"(issue 3: about {YARDSTICK_MS:g} ms). One {base} page costs {yardstick['calls_per_page']:.2f} calls "
            f"({TARGET_DOCS_PER_S:g} docs/s at {YARDSTICK_MS:g} ms allows {yardstick['calls_allowed']:.2f}); "
            f"at {YARDSTICK_MS:g} ms a call, {base} would run at "
            f"{yardstick['docs_per_s_at_yardstick']:.1f} docs/s/core."
        )
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
