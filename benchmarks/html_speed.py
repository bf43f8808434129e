"""Throughput of cleanfeed-html relative to trafilatura-html, measured page by page, interleaved.

The dev-set benchmark times each system in its own process, one after the other; on a shared
machine the load changes between those runs and the ratio of two docs/s figures moves by ±15 %.
Here both systems clean every page in one process, alternating which goes first, twice over, so
they see the same load; the ratio of their CPU times is what the 0.8x throughput target is about.

    python -m benchmarks.html_speed ../shared/devset
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("devset", type=Path)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args(argv)

    import trafilatura

    import cleaners

    rows = [json.loads(line) for line in (args.devset / "manifest.jsonl").read_text("utf-8").splitlines() if line]
    pages = [
        (args.devset / "html" / f"{r['id']}.html").read_bytes().decode(r.get("encoding") or "utf-8", errors="replace")
        for r in rows
    ]
    cleaners.clean_html(pages[0])  # warm-up: imports, rule and pattern compilation
    trafilatura.extract(pages[0], include_comments=False)
    spent = [0.0, 0.0]  # cleanfeed-html, trafilatura-html
    for rnd in range(args.rounds):
        for i, page in enumerate(pages):
            for system in (0, 1) if (i + rnd) % 2 else (1, 0):
                start = time.process_time()
                if system == 0:
                    cleaners.clean_html(page)
                else:
                    trafilatura.extract(page, include_comments=False)
                spent[system] += time.process_time() - start
    n = args.rounds * len(pages)
    print(f"cleanfeed-html    {n / spent[0]:6.1f} docs/s/core ({1000 * spent[0] / n:.1f} ms/page)")
    print(f"trafilatura-html  {n / spent[1]:6.1f} docs/s/core ({1000 * spent[1] / n:.1f} ms/page)")
    print(f"ratio             {spent[1] / spent[0]:6.2f}x trafilatura's throughput")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
