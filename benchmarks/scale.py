"""Scale benchmark: docs/s with 1 and 2 worker processes, peak memory per worker, output growth.

    python -m benchmarks.scale [--raw DIR] [--pages 10000] [--work DIR] [--workers 1,2]
                               [--sizes 2500,5000,10000] [--no-templates]

Corpora: the dev pages (``DIR``, default ``../shared/devset/raw``) and a synthetic corpus of
``--pages`` pages built from them: page ``i`` is dev page ``i mod n`` with a sentence naming ``i``
appended to its longest paragraph, so every synthetic page is its own article (output grows with
input as it would with real pages, not as extra sources of 351 articles). Each run is
``ingest CORPUS --workers N`` into a fresh output folder, in a child process that reports its own
peak RSS; the workers' peak RSS comes from the run report. ``--sizes`` runs prefixes of the
synthetic corpus with one worker, to show that time and output grow linearly and memory stays flat.

Prints a markdown table and writes ``<work>/scale.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_RAW = REPO.parent / "shared" / "devset" / "raw"


def build_synthetic(raw: Path, target: Path, pages: int) -> Path:
    """``pages`` distinct pages from the dev pages, written once (re-used when already complete)."""
    sources = sorted(p for p in raw.iterdir() if p.is_file() and not p.name.startswith("."))
    done = target / ".complete"
    if done.exists() and done.read_text() == f"{pages}:{len(sources)}":
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    texts = [p.read_bytes().decode("utf-8", errors="replace") for p in sources]
    for i in range(pages):
        text = texts[i % len(texts)]
        blocks = text.split("\n\n")
        longest = max(range(len(blocks)), key=lambda b: len(blocks[b]))
        blocks[longest] = blocks[longest].rstrip() + f" This is variant {i} of the report, filed separately."
        sub = target / f"{i // 1000:02}"  # 1000 files per folder, like a scraper's dated dumps
        sub.mkdir(exist_ok=True)
        (sub / f"page-{i:05}.txt").write_text("\n\n".join(blocks), encoding="utf-8")
    done.write_text(f"{pages}:{len(sources)}")
    return target


def child(paths: list[str], out: str, workers: int, templates: bool) -> None:
    """One measured run, in this process: prints the report's numbers and this process's peak RSS."""
    from flows.parallel import process_pool
    from flows.runner import run_ingest

    t = time.perf_counter()
    report = run_ingest(paths, out, clean_many=process_pool(workers) if workers > 1 else None,
                        templates=templates)
    wall = time.perf_counter() - t
    print(json.dumps({
        "wall_s": round(wall, 2),
        "docs": report["incremental"]["docs_read"],
        "counts": report["counts"],
        "timings": report["timings"],
        "template_scan_s": report["templates"].get("scan_s"),
        "workers_peak_mib": report["workers"],
        "parent_peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }))


def output_bytes(out: Path) -> dict[str, int]:
    sizes = {}
    for part in ("articles", "feed", "state", "runs"):
        folder = out / part
        sizes[part] = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0
    return sizes


def measure(corpus: Path, work: Path, label: str, workers: int, templates: bool) -> dict[str, Any]:
    out = work / f"out-{label}-{workers}w"
    shutil.rmtree(out, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    cmd = [sys.executable, "-m", "benchmarks.scale", "--child", str(corpus), str(out), str(workers),
           "1" if templates else "0"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"run failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result.update(label=label, workers=workers, output_bytes=output_bytes(out))
    result["docs_per_s"] = round(result["docs"] / result["wall_s"], 1)
    shutil.rmtree(out, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        corpus, out, workers, templates = argv[1:5]
        child([corpus], out, int(workers), templates == "1")
        return 0
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--raw", type=Path, default=DEFAULT_RAW)
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks" / "runs" / "scale")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--sizes", default="2500,5000,10000", help="synthetic prefixes run with 1 worker ('' = none)")
    parser.add_argument("--no-templates", action="store_true")
    args = parser.parse_args(argv)
    workers = [int(w) for w in args.workers.split(",") if w]
    templates = not args.no_templates
    args.work.mkdir(parents=True, exist_ok=True)
    synthetic = build_synthetic(args.raw, args.work / f"synthetic-{args.pages}", args.pages)

    rows: list[dict[str, Any]] = []
    for label, corpus in (("dev", args.raw), (f"synthetic-{args.pages}", synthetic)):
        for n in workers:
            rows.append(measure(corpus, args.work, label, n, templates))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    growth: list[dict[str, Any]] = []
    for size in [int(s) for s in args.sizes.split(",") if s]:
        if size >= args.pages:
            continue
        prefix = build_synthetic(args.raw, args.work / f"synthetic-{size}", size)
        growth.append(measure(prefix, args.work, f"synthetic-{size}", 1, templates))
        print(json.dumps(growth[-1]), file=sys.stderr, flush=True)
    growth += [r for r in rows if r["label"] == f"synthetic-{args.pages}" and r["workers"] == 1]

    print("| corpus | workers | docs | wall s | docs/s | scaling | parent peak MiB | worker peak MiB |"
          " articles+feed MB | bytes/doc |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    base: dict[str, float] = {}
    for r in rows:
        base.setdefault(r["label"], r["docs_per_s"])
        out_b = r["output_bytes"]["articles"] + r["output_bytes"]["feed"]
        peaks = ", ".join(f"{v:.0f}" for v in r["workers_peak_mib"].values())
        print(f"| {r['label']} | {r['workers']} | {r['docs']} | {r['wall_s']:.1f} | {r['docs_per_s']:.1f} |"
              f" {r['docs_per_s'] / base[r['label']]:.2f}x | {r['parent_peak_mib']:.0f} | {peaks} |"
              f" {out_b / 1e6:.1f} | {out_b / max(1, r['docs']):.0f} |")
    if growth:
        print()
        print("| synthetic pages (1 worker) | wall s | docs/s | parent peak MiB | articles+feed MB | bytes/doc |")
        print("|---|---|---|---|---|---|")
        for r in growth:
            out_b = r["output_bytes"]["articles"] + r["output_bytes"]["feed"]
            print(f"| {r['docs']} | {r['wall_s']:.1f} | {r['docs_per_s']:.1f} | {r['parent_peak_mib']:.0f} |"
                  f" {out_b / 1e6:.1f} | {out_b / max(1, r['docs']):.0f} |")
    (args.work / "scale.json").write_text(json.dumps({"runs": rows, "growth": growth}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
