"""Dev-set benchmark: run cleanfeed and reference extractors on the same pages and score them.

    python -m benchmarks.devset DEVSET_DIR [--mode raw|html|both] [--systems a,b,...]
                                [--limit N] [--ids-file F] [--split all|dev|hidden] [--out DIR]

Every system runs in its own child process (``python -m benchmarks.devset --worker JOB``), so
its peak RSS is its own, and imports and model loading stay out of the timing: only the per-page
loop is timed, one page after the other in a single process (= one core). Outputs go to
``<out>/<system>/<id>.txt`` with ``<out>/<system>/_timing.json``; the dev set's own ``score.py``
then scores all run folders against a holdout folder that lists only the chosen pages, and one
table (the scorer's columns plus docs/s per core and peak RSS) is printed and written, together
with ``<out>/summary.json``. See benchmarks/README.md for what each column means.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import html
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from itertools import zip_longest
from pathlib import Path
from typing import Any, Literal

# --------------------------------------------------------------------------- constants

REPO_ROOT = Path(__file__).resolve().parents[1]
# Default output root; git-ignored through the repo's .gitignore entry `benchmarks/runs/`.
DEFAULT_RUNS_DIR = REPO_ROOT / "benchmarks" / "runs"
# getrusage(2) on Linux reports ru_maxrss in KiB.
KIB_PER_MIB = 1024
# The dev/hidden split of the dev set's score.py (its main(): a page is "dev" when
# sha256("split-v1:" + id).digest()[0] < 77). Copied so that only scored pages are run.
SPLIT_SALT = "split-v1:"
SPLIT_DEV_BELOW = 77
# Files and folders of a dev set (layout described in the dev set's README.md).
MANIFEST_NAME = "manifest.jsonl"
SCORER_NAME = "score.py"
HOLDOUT_SUBDIRS = ("raw", "html", "gold", "snippets")
TIMING_NAME = "_timing.json"  # read by score.py: {"docs": N, "seconds": S} -> docs/s
# Manifest `lang` (ISO 639-1) -> jusText stoplist name (names from justext.get_stoplists()).
# Languages jusText has no stoplist for (in the dev set: ja, pcm) fall back to English, as the
# benchmark brief prescribes.
JUSTEXT_STOPLISTS = {
    "ar": "Arabic",
    "bg": "Bulgarian",
    "ca": "Catalan",
    "cs": "Czech",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "et": "Estonian",
    "fi": "Finnish",
    "fr": "French",
    "hr": "Croatian",
    "hu": "Hungarian",
    "id": "Indonesian",
    "it": "Italian",
    "ko": "Korean",
    "lt": "Lithuanian",
    "lv": "Latvian",
    "nl": "Dutch",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sk": "Slovak",
    "sl": "Slovenian",
    "sv": "Swedish",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "vi": "Vietnamese",
}
JUSTEXT_FALLBACK_STOPLIST = "English"
# Block-level HTML elements: a block boundary when turning readability's summary HTML into text
# (the flow/sectioning elements of the HTML living standard that carry article text).
HTML_BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
# Shown in the table for a metric the chosen pages cannot give (e.g. no gold page selected).
NAN = float("nan")

InputKind = Literal["raw", "html"]
Extractor = Callable[[str, "Page"], str]


# --------------------------------------------------------------------------- pages


@dataclass(frozen=True, slots=True)
class Page:
    """One dev-set page as the worker needs it (from a manifest row)."""

    id: str
    lang: str
    url: str
    encoding: str

    @classmethod
    def from_manifest(cls, row: dict[str, Any]) -> Page:
        return cls(
            id=row["id"], lang=row.get("lang") or "", url=row.get("url") or "", encoding=row.get("encoding") or "utf-8"
        )


def load_manifest(devset: Path) -> list[dict[str, Any]]:
    with open(devset / MANIFEST_NAME, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def is_dev_page(page_id: str) -> bool:
    return hashlib.sha256((SPLIT_SALT + page_id).encode()).digest()[0] < SPLIT_DEV_BELOW


def read_ids_file(path: Path) -> list[str]:
    """One page id per line; blank lines and ``#`` comments are ignored."""
    ids = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            ids.append(line)
    return ids


def interleave_sources(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Round-robin over the manifest's sources, so that a ``--limit`` prefix has gold pages and
    snippet pages alike (the manifest is sorted by id, i.e. all ``sh_`` pages come first)."""
    by_source: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_source.setdefault(row.get("source", ""), []).append(row)
    mixed = [row for group in zip_longest(*by_source.values()) for row in group if row is not None]
    return mixed


def select_pages(
    manifest: Sequence[dict[str, Any]], split: str = "all", ids: Sequence[str] | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """The manifest rows to run and score, in manifest order."""
    rows = list(manifest)
    if ids is not None:
        known = {r["id"] for r in rows}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise SystemExit(
                f"error: ids not in the manifest: {', '.join(unknown[:10])}" + (" ..." if len(unknown) > 10 else "")
            )
        wanted = set(ids)
        rows = [r for r in rows if r["id"] in wanted]
    if split != "all":
        rows = [r for r in rows if is_dev_page(r["id"]) == (split == "dev")]
    if limit is not None:
        chosen = {r["id"] for r in interleave_sources(rows)[:limit]}
        rows = [r for r in rows if r["id"] in chosen]
    return rows


def read_input(devset: Path, page: Page, kind: InputKind) -> str:
    """The text a system gets for ``page``: raw/<id>.txt (UTF-8) or html/<id>.html decoded with
    the manifest's encoding, so that every system of one mode sees the very same string."""
    if kind == "raw":
        return (devset / "raw" / f"{page.id}.txt").read_text(encoding="utf-8")
    data = (devset / "html" / f"{page.id}.html").read_bytes()
    try:
        return data.decode(page.encoding, errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")


# --------------------------------------------------------------------------- systems


def lines_as_html(text: str) -> str:
    """A minimal HTML document with every non-empty line of a raw dump as one ``<p>``."""
    paras = "\n".join(f"<p>{html.escape(line.strip())}</p>" for line in text.splitlines() if line.strip())
    return f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n{paras}\n</body></html>\n'


def html_fragment_to_text(fragment: str) -> str:
    """Text of an HTML fragment (lxml text_content), one block per block-level element, blocks joined
    by a blank line. Walks the tree instead of editing it: lxml refuses to re-set text that holds
    control characters, which parsed pages do contain."""
    import lxml.html  # type: ignore[import-untyped]

    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    parts: list[str] = []
    stack: list[tuple[Any, bool]] = [(root, False)]  # (node, closing); explicit stack: no recursion limit
    while stack:
        node, closing = stack.pop()
        is_element = isinstance(node.tag, str)  # comments and processing instructions: tail only
        is_block = is_element and node.tag in HTML_BLOCK_TAGS
        if closing:
            if is_block:
                parts.append("\n\n")
            if node.tail and node is not root:
                parts.append(node.tail)
            continue
        if is_block:
            parts.append("\n\n")
        elif is_element and node.tag == "br":
            parts.append("\n")
        if is_element and node.text:
            parts.append(node.text)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node))
    blocks = []
    for chunk in "".join(parts).split("\n\n"):
        lines = [" ".join(line.split()) for line in chunk.split("\n")]
        block = "\n".join(line for line in lines if line)
        if block:
            blocks.append(block)
    return "\n\n".join(blocks)


def _make_raw() -> Extractor:
    def run(text: str, page: Page) -> str:
        return text

    return run


def _make_cleanfeed() -> Extractor:
    from cleaners import clean_text

    def run(text: str, page: Page) -> str:
        return clean_text(text).text

    return run


def _make_cleanfeed_html() -> Extractor:
    from cleaners import clean_html

    def run(text: str, page: Page) -> str:
        return clean_html(text).text

    return run


def _justext_paragraphs(html_text: str, page: Page, stoplists: dict[str, frozenset[str]]) -> str:
    import justext

    name = JUSTEXT_STOPLISTS.get(page.lang.lower(), JUSTEXT_FALLBACK_STOPLIST)
    if name not in stoplists:  # stoplist files are read once per language, outside the timing
        stoplists[name] = justext.get_stoplist(name)
    paragraphs = justext.justext(html_text, stoplists[name])
    return "\n\n".join(p.text for p in paragraphs if not p.is_boilerplate)


def _justext_stoplists(pages: Iterable[Page]) -> dict[str, frozenset[str]]:
    import justext

    names = {JUSTEXT_STOPLISTS.get(p.lang.lower(), JUSTEXT_FALLBACK_STOPLIST) for p in pages}
    return {name: justext.get_stoplist(name) for name in names}


def _make_justext(pages: Sequence[Page]) -> Extractor:
    stoplists = _justext_stoplists(pages)

    def run(text: str, page: Page) -> str:
        return _justext_paragraphs(lines_as_html(text), page, stoplists)

    return run


def _make_justext_html(pages: Sequence[Page]) -> Extractor:
    stoplists = _justext_stoplists(pages)

    def run(text: str, page: Page) -> str:
        return _justext_paragraphs(text, page, stoplists)

    return run


def _make_trafilatura() -> Extractor:
    import trafilatura

    def run(text: str, page: Page) -> str:
        return trafilatura.extract(lines_as_html(text), include_comments=False) or ""

    return run


def _make_trafilatura_html() -> Extractor:
    import trafilatura

    def run(text: str, page: Page) -> str:
        return trafilatura.extract(text, include_comments=False) or ""

    return run


def _make_readability_html() -> Extractor:
    from readability import Document  # type: ignore[import-untyped]

    def run(text: str, page: Page) -> str:
        return html_fragment_to_text(Document(text).summary(html_partial=True))

    return run


@dataclass(frozen=True, slots=True)
class SystemSpec:
    name: str
    input: InputKind
    requires: str  # top-level module the system needs (checked before its child is started)
    description: str


SYSTEMS: dict[str, SystemSpec] = {
    s.name: s
    for s in (
        SystemSpec("cleanfeed", "raw", "cleaners", "cleaners.clean_text(raw).text"),
        SystemSpec(
            "justext", "raw", "justext", "jusText on the raw lines wrapped as <p>s, stoplist of the page's lang"
        ),
        SystemSpec(
            "trafilatura", "raw", "trafilatura", "trafilatura.extract on the raw lines wrapped as <p>s, comments off"
        ),
        SystemSpec("raw", "raw", "json", "the raw dump as it is (the floor)"),
        SystemSpec("cleanfeed-html", "html", "cleaners", "cleaners.clean_html(html).text"),
        SystemSpec("trafilatura-html", "html", "trafilatura", "trafilatura.extract(html, include_comments=False)"),
        SystemSpec("justext-html", "html", "justext", "jusText on the page HTML, stoplist of the page's lang"),
        SystemSpec(
            "readability-html", "html", "readability", "readability-lxml summary, one text block per block element"
        ),
    )
}
DEFAULT_SYSTEMS: dict[str, tuple[str, ...]] = {
    "raw": ("cleanfeed", "justext", "trafilatura", "raw"),
    "html": ("cleanfeed-html", "trafilatura-html", "justext-html", "readability-html"),
}
# Systems that are only run when installed unless named explicitly (bench extra, optional).
OPTIONAL_SYSTEMS = frozenset({"justext", "justext-html", "readability-html"})


def make_extractor(system: str, pages: Sequence[Page]) -> Extractor:
    factories: dict[str, Callable[[], Extractor]] = {
        "raw": _make_raw,
        "cleanfeed": _make_cleanfeed,
        "cleanfeed-html": _make_cleanfeed_html,
        "justext": lambda: _make_justext(pages),
        "justext-html": lambda: _make_justext_html(pages),
        "trafilatura": _make_trafilatura,
        "trafilatura-html": _make_trafilatura_html,
        "readability-html": _make_readability_html,
    }
    return factories[system]()


def resolve_systems(spec: str | None, mode: str) -> tuple[list[str], list[str]]:
    """(systems to run, optional default systems skipped because not installed).

    ``spec`` is a comma list; in html mode a name without ``-html`` means its html variant, in
    ``both`` mode a short name means both variants."""
    import importlib.util

    modes = ("raw", "html") if mode == "both" else (mode,)
    if spec is None:
        wanted = [s for m in modes for s in DEFAULT_SYSTEMS[m]]
        explicit = False
    else:
        wanted = []
        explicit = True
        for name in (n.strip() for n in spec.split(",")):
            if not name:
                continue
            if name not in SYSTEMS:
                raise SystemExit(f"error: unknown system {name!r}; known: {', '.join(SYSTEMS)}")
            variant = f"{name}-html" if f"{name}-html" in SYSTEMS else None
            candidates = [name] if SYSTEMS[name].input in modes else []
            if variant and (mode == "both" or (mode == "html" and not candidates)):
                candidates.append(variant)
            if not candidates:
                kind = SYSTEMS[name].input
                raise SystemExit(f"error: {name} reads {kind} input; use --mode {kind} or both")
            wanted.extend(c for c in candidates if c not in wanted)
    run, skipped = [], []
    for name in wanted:
        if importlib.util.find_spec(SYSTEMS[name].requires) is None:
            if explicit or name not in OPTIONAL_SYSTEMS:
                raise SystemExit(f"error: {name} needs the module {SYSTEMS[name].requires!r}, not installed")
            skipped.append(name)
        else:
            run.append(name)
    return run, skipped


# --------------------------------------------------------------------------- worker (child process)


def run_worker(job_path: Path) -> int:
    """Run one system over the job's pages; write outputs and _timing.json. Child-process entry."""
    job = json.loads(job_path.read_text(encoding="utf-8"))
    system: str = job["system"]
    devset = Path(job["devset"])
    out_dir = Path(job["out_dir"])
    pages = [Page(**p) for p in job["pages"]]
    kind: InputKind = SYSTEMS[system].input
    extract = make_extractor(system, pages)  # imports and model loading: not timed
    if pages:  # warm-up on the first page (lazy initialisation on first call): not timed
        with contextlib.suppress(Exception):  # a failing page is reported below, when run for real
            extract(read_input(devset, pages[0], kind), pages[0])
    cpu_seconds = wall_seconds = 0.0
    errors: list[dict[str, str]] = []
    for page in pages:
        text = read_input(devset, page, kind)
        c0, w0 = time.process_time(), time.perf_counter()
        try:
            result: str | None = extract(text, page)
        except Exception as exc:
            result = None
            errors.append({"id": page.id, "error": f"{type(exc).__name__}: {exc}"[:300]})
        cpu_seconds += time.process_time() - c0
        wall_seconds += time.perf_counter() - w0
        if result is not None:  # a failed page has no output file: the scorer counts it as empty
            # lone surrogates (from a broken page) cannot be UTF-8 encoded: write them as U+FFFD
            (out_dir / f"{page.id}.txt").write_text(result, encoding="utf-8", errors="replace")
    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / KIB_PER_MIB
    timing = {
        "docs": len(pages),
        "seconds": cpu_seconds,
        "wall_seconds": wall_seconds,
        "peak_rss_mib": round(peak_rss_mib, 1),
        "errors": len(errors),
        "error_pages": errors,
    }
    (out_dir / TIMING_NAME).write_text(json.dumps(timing, indent=1) + "\n", encoding="utf-8")
    return 0


# --------------------------------------------------------------------------- parent


def run_system(
    system: str, devset: Path, pages: Sequence[Page], out_dir: Path, timeout: float | None
) -> dict[str, Any]:
    """Run one system in a child process; return its _timing.json (raises on failure)."""
    if out_dir.exists():
        shutil.rmtree(out_dir)  # stale outputs of an earlier run would be scored
    out_dir.mkdir(parents=True)
    job = {"system": system, "devset": str(devset), "out_dir": str(out_dir), "pages": [asdict(p) for p in pages]}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as f:
        json.dump(job, f)
        job_path = Path(f.name)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.devset", "--worker", str(job_path)],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    finally:
        job_path.unlink(missing_ok=True)
    timing_path = out_dir / TIMING_NAME
    if proc.returncode != 0 or not timing_path.exists():
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"{system} failed (exit {proc.returncode}):\n{tail}")
    timing: dict[str, Any] = json.loads(timing_path.read_text(encoding="utf-8"))
    return timing


def make_holdout(devset: Path, rows: Sequence[dict[str, Any]], dest: Path) -> Path:
    """A holdout folder for score.py that lists only ``rows``: a filtered manifest, the scorer,
    and symlinks to the dev set's data folders."""
    dest.mkdir(parents=True, exist_ok=True)
    with open(dest / MANIFEST_NAME, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    shutil.copy2(devset / SCORER_NAME, dest / SCORER_NAME)
    for sub in HOLDOUT_SUBDIRS:
        if (devset / sub).is_dir():
            (dest / sub).symlink_to(devset / sub, target_is_directory=True)
    return dest


def score(holdout: Path, run_dirs: Sequence[Path], out: Path) -> tuple[list[dict[str, Any]], str]:
    """Run the dev set's score.py on ``run_dirs``; (its JSON summary rows, its own table)."""
    json_path = out / "score" / "scores.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(holdout / SCORER_NAME),
            *map(str, run_dirs),
            "--holdout",
            str(holdout),
            "--json",
            str(json_path),
            "--per-page-dir",
            str(out / "score" / "per_page"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"score.py failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    rows: list[dict[str, Any]] = json.loads(json_path.read_text(encoding="utf-8"))
    return rows, proc.stdout


def _f(value: Any, width: int, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"{'-':>{width}}"
    return f"{value:{width}.{digits}f}"


def format_table(results: Sequence[dict[str, Any]]) -> str:
    """The scorer's columns plus docs/s per core and peak RSS, one row per system."""
    width = max([28, *(len(r["system"]) for r in results)])
    hdr = (
        f"{'system':<{width}} {'P':>6} {'R':>6} {'F1':>6} {'F1pg':>6} {'leak':>6} {'empty':>5} | "
        f"{'with':>6} {'w/o-ab':>6} {'trF1':>6} {'with*':>6} {'w/o-ab*':>7} | "
        f"{'de:with*':>8} {'de:w/o*':>7} | {'docs/s/core':>11} {'RSS MiB':>7}"
    )
    lines = [hdr, "-" * len(hdr)]
    for r in results:
        g = r.get("gold", {})
        s = r.get("snippets", {})
        si = r.get("snippets_inraw", {})
        sd = r.get("snippets_inraw_de", {})
        timing = r.get("timing", {})
        de_pages = sd.get("pages", 0)
        empty = f"{g['empty_outputs']:5d}" if g else f"{'-':>5}"
        lines.append(
            f"{r['system']:<{width}} {_f(g.get('precision'), 6)} {_f(g.get('recall'), 6)} "
            f"{_f(g.get('f1'), 6)} {_f(g.get('f1_page_mean'), 6)} {_f(g.get('leak'), 6)} {empty} | "
            f"{_f(s.get('with_present'), 6)} {_f(s.get('without_absent'), 6)} {_f(s.get('traf_f1'), 6)} "
            f"{_f(si.get('with_present'), 6)} {_f(si.get('without_absent'), 7)} | "
            f"{_f(sd.get('with_present') if de_pages else None, 8)} "
            f"{_f(sd.get('without_absent') if de_pages else None, 7)} | "
            f"{_f(r.get('docs_per_s'), 11, 1)} {_f(timing.get('peak_rss_mib'), 7, 0)}"
        )
    lines.append(
        "P/R/F1: scrapinghub evaluate.py (4-gram shingles, per-page normalised, P over non-empty "
        "outputs); F1pg: mean per-page F1; leak: share of raw-only lines kept; * = only snippets "
        "that occur in raw/ text; docs/s/core: pages per CPU-second of the timed loop; RSS: "
        "peak resident memory of the system's own process"
    )
    for r in results:
        errors = r.get("timing", {}).get("error_pages") or []
        if errors:
            lines.append(
                f"{r['system']}: {len(errors)} page(s) raised, scored as empty: "
                + "; ".join(f"{e['id']} ({e['error'][:80]})" for e in errors[:3])
                + (" ..." if len(errors) > 3 else "")
            )
    return "\n".join(lines)


def git_revision() -> tuple[str | None, bool | None]:
    """(short HEAD, whether the work tree differs from it), or (None, None) outside git."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None, None
    return rev, bool(dirty)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.devset", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "devset", type=Path, help="dev set folder (manifest.jsonl, raw/, html/, gold/, snippets/, score.py)"
    )
    ap.add_argument(
        "--mode",
        choices=("raw", "html", "both"),
        default="raw",
        help="input: raw/ text dumps, html/ pages, or both (default raw)",
    )
    ap.add_argument(
        "--systems",
        help="comma list (default: all of the mode). Known: "
        + ", ".join(SYSTEMS)
        + ". In html mode 'cleanfeed' means cleanfeed-html, in both mode both variants.",
    )
    ap.add_argument("--limit", type=int, help="only N pages, taken alternately from each source")
    ap.add_argument("--ids-file", type=Path, help="only the page ids listed in this file, one a line")
    ap.add_argument(
        "--split",
        choices=("all", "dev", "hidden"),
        default="all",
        help="score.py's split: dev = pages shared with developers, hidden = the rest",
    )
    ap.add_argument("--out", type=Path, help="output folder (default benchmarks/runs/<timestamp>/)")
    ap.add_argument("--timeout", type=float, help="seconds allowed per system (default: no limit)")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--worker"] and len(argv) == 2:
        return run_worker(Path(argv[1]))
    args = parse_args(argv)
    started = time.perf_counter()
    devset: Path = args.devset.resolve()
    if not (devset / MANIFEST_NAME).is_file() or not (devset / SCORER_NAME).is_file():
        raise SystemExit(f"error: {devset} has no {MANIFEST_NAME} or {SCORER_NAME}")
    if args.limit is not None and args.limit < 1:
        raise SystemExit("error: --limit must be at least 1")
    ids = read_ids_file(args.ids_file) if args.ids_file else None
    rows = select_pages(load_manifest(devset), args.split, ids, args.limit)
    if not rows:
        raise SystemExit("error: no page selected")
    systems, skipped = resolve_systems(args.systems, args.mode)
    if not systems:
        raise SystemExit("error: no system to run")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out: Path = (args.out or DEFAULT_RUNS_DIR / stamp).resolve()
    out.mkdir(parents=True, exist_ok=True)
    pages = [Page.from_manifest(r) for r in rows]
    for name in skipped:
        print(f"note: {name} skipped: module {SYSTEMS[name].requires!r} not installed", file=sys.stderr)

    timings: dict[str, dict[str, Any]] = {}
    failures: dict[str, str] = {}
    for i, name in enumerate(systems, 1):
        try:
            t = run_system(name, devset, pages, out / name, args.timeout)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            failures[name] = str(exc)
            print(f"[{i}/{len(systems)}] {name}: FAILED\n{exc}", file=sys.stderr)
            continue
        timings[name] = t
        rate = t["docs"] / t["seconds"] if t["seconds"] else math.inf
        errs = f", {t['errors']} page errors" if t["errors"] else ""
        print(
            f"[{i}/{len(systems)}] {name}: {t['docs']} pages, {t['seconds']:.1f} s CPU, {rate:.1f} docs/s, "
            f"{t['peak_rss_mib']:.0f} MiB{errs}",
            file=sys.stderr,
        )

    results: list[dict[str, Any]] = []
    if timings:
        with tempfile.TemporaryDirectory(prefix="devset-holdout-") as tmp:
            holdout = make_holdout(devset, rows, Path(tmp))
            results, scorer_table = score(holdout, [out / n for n in timings], out)
        (out / "score" / "scorer_table.txt").write_text(scorer_table, encoding="utf-8")
    (out / MANIFEST_NAME).write_text(
        "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows), encoding="utf-8"
    )
    table = format_table(results)
    (out / "table.txt").write_text(table + "\n", encoding="utf-8")
    rev, dirty = git_revision()
    summary = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "git_rev": rev,
        "git_dirty": dirty,
        "devset": str(devset),
        "mode": args.mode,
        "split": args.split,
        "limit": args.limit,
        "ids_file": str(args.ids_file) if args.ids_file else None,
        "pages": len(rows),
        "gold_pages": sum(1 for r in rows if r.get("has_gold")),
        "snippet_pages": sum(1 for r in rows if r.get("has_snippets")),
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
        "wall_seconds_total": round(time.perf_counter() - started, 1),
        "skipped": skipped,
        "failed": failures,
        "systems": [
            {
                **r,
                "input": SYSTEMS[r["system"]].input,
                "description": SYSTEMS[r["system"]].description,
                "peak_rss_mib": r.get("timing", {}).get("peak_rss_mib"),
            }
            for r in results
        ],
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(table)
    print(
        f"{len(rows)} pages, {len(timings)} systems, {summary['wall_seconds_total']:.0f} s; outputs, "
        f"summary.json and per-page scores in {out}",
        file=sys.stderr,
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
