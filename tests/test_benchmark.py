"""The dev-set benchmark harness (benchmarks/devset.py), end to end on tests/fixtures/devset_mini.

The fixture is five dev-set pages (two scrapinghub pages with gold text, three trafilatura pages
with snippets, two of them German, one of those cp1252-encoded) plus a copy of the dev set's
score.py, so these tests never need the shared dev set.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import devset

REPO_ROOT = Path(__file__).resolve().parents[1]
MINI = REPO_ROOT / "tests" / "fixtures" / "devset_mini"
MINI_IDS = sorted(p.stem for p in (MINI / "raw").glob("*.txt"))
GOLD_IDS = sorted(p.stem for p in (MINI / "gold").glob("*.txt"))
SNIPPET_IDS = sorted(p.stem for p in (MINI / "snippets").glob("*.json"))
# The scorer's table has a header, a rule, one row per system and a footnote.
TABLE_HEADER_START = "system"


def run_bench(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.devset", str(MINI), "--out", str(out), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def load_summary(out: Path) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return summary


def by_system(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["system"]: s for s in summary["systems"]}


def check_table(stdout: str, systems: list[str]) -> None:
    lines = stdout.splitlines()
    assert lines[0].startswith(TABLE_HEADER_START)
    for col in ("P", "R", "F1", "leak", "empty", "with", "w/o-ab", "de:with*", "docs/s/core", "RSS MiB"):
        assert col in lines[0]
    rows = {line.split()[0]: line for line in lines[2:] if line.split() and line.split()[0] in systems}
    assert sorted(rows) == sorted(systems)


def check_sane(result: dict[str, Any], *, gold: bool, snippets: bool) -> None:
    assert result["pages"] == len(MINI_IDS)
    assert result["docs_per_s"] is not None and result["docs_per_s"] > 0
    assert result["peak_rss_mib"] > 0
    assert result["timing"]["docs"] == len(MINI_IDS)
    assert result["timing"]["errors"] == 0
    if gold:
        g = result["gold"]
        assert g["pages"] == len(GOLD_IDS)
        for key in ("precision", "recall", "f1", "leak", "f1_page_mean"):
            assert 0.0 <= g[key] <= 1.0, (key, g[key])
    if snippets:
        assert result["snippets"]["pages"] == len(SNIPPET_IDS)
        for key in ("snippets", "snippets_inraw", "snippets_de", "snippets_inraw_de"):
            for metric in ("with_present", "without_absent", "traf_f1"):
                assert 0.0 <= result[key][metric] <= 1.0


@pytest.fixture(scope="module")
def raw_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("bench_raw")
    proc = run_bench(out, "--mode", "raw", "--systems", "cleanfeed,raw")
    return out, proc.stdout


def test_raw_mode_end_to_end(raw_run: tuple[Path, str]) -> None:
    out, stdout = raw_run
    check_table(stdout, ["cleanfeed", "raw"])
    summary = load_summary(out)
    assert summary["pages"] == len(MINI_IDS) and summary["mode"] == "raw"
    results = by_system(summary)
    assert set(results) == {"cleanfeed", "raw"}
    for result in results.values():
        check_sane(result, gold=True, snippets=True)
    for system in ("cleanfeed", "raw"):
        assert sorted(p.stem for p in (out / system).glob("*.txt")) == MINI_IDS
        timing = json.loads((out / system / "_timing.json").read_text())
        assert {"docs", "seconds", "peak_rss_mib"} <= set(timing)


def test_raw_floor_is_the_input(raw_run: tuple[Path, str]) -> None:
    """The `raw` system copies its input: it keeps every line (leak 1) and every snippet."""
    out, _ = raw_run
    for pid in MINI_IDS:
        assert (out / "raw" / f"{pid}.txt").read_text(encoding="utf-8") == (MINI / "raw" / f"{pid}.txt").read_text(
            encoding="utf-8"
        )
    raw = by_system(load_summary(out))["raw"]
    assert raw["gold"]["leak"] == 1.0
    assert raw["snippets"]["with_present"] == 1.0


def test_cleanfeed_beats_the_floor(raw_run: tuple[Path, str]) -> None:
    results = by_system(load_summary(raw_run[0]))
    assert results["cleanfeed"]["gold"]["leak"] < results["raw"]["gold"]["leak"]


def test_html_mode_end_to_end(tmp_path: Path) -> None:
    proc = run_bench(tmp_path, "--mode", "html", "--systems", "trafilatura-html")
    check_table(proc.stdout, ["trafilatura-html"])
    result = by_system(load_summary(tmp_path))["trafilatura-html"]
    check_sane(result, gold=True, snippets=True)
    assert result["gold"]["f1"] > 0.5  # trafilatura on html is ~.96 on the full dev set


def test_subset_scores_only_the_chosen_pages(tmp_path: Path) -> None:
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text(f"# one gold page, one snippet page\n{GOLD_IDS[0]}\n{SNIPPET_IDS[0]}\n")
    out = tmp_path / "out"
    run_bench(out, "--systems", "raw", "--ids-file", str(ids_file))
    summary = load_summary(out)
    assert summary["pages"] == 2
    raw = by_system(summary)["raw"]
    assert raw["pages"] == 2 and raw["gold"]["pages"] == 1 and raw["snippets"]["pages"] == 1
    assert sorted(p.stem for p in (out / "raw").glob("*.txt")) == sorted([GOLD_IDS[0], SNIPPET_IDS[0]])


# --------------------------------------------------------------------------- units, no subprocess


def test_limit_takes_pages_from_every_source() -> None:
    manifest = devset.load_manifest(MINI)
    chosen = devset.select_pages(manifest, limit=2)
    assert {r["source"] for r in chosen} == {r["source"] for r in manifest}
    assert len(devset.select_pages(manifest, limit=100)) == len(manifest)


def test_split_partitions_the_manifest() -> None:
    manifest = devset.load_manifest(MINI)
    dev = {r["id"] for r in devset.select_pages(manifest, split="dev")}
    hidden = {r["id"] for r in devset.select_pages(manifest, split="hidden")}
    assert not dev & hidden and dev | hidden == set(MINI_IDS)


def test_unknown_ids_are_refused() -> None:
    with pytest.raises(SystemExit):
        devset.select_pages(devset.load_manifest(MINI), ids=["sh_nope"])


@pytest.mark.parametrize(
    ("spec", "mode", "expected"),
    [
        ("cleanfeed,raw", "raw", ["cleanfeed", "raw"]),
        ("cleanfeed,trafilatura", "html", ["cleanfeed-html", "trafilatura-html"]),
        ("trafilatura-html", "html", ["trafilatura-html"]),
        ("cleanfeed", "both", ["cleanfeed", "cleanfeed-html"]),
    ],
)
def test_system_names(spec: str, mode: str, expected: list[str]) -> None:
    assert devset.resolve_systems(spec, mode)[0] == expected


@pytest.mark.parametrize(("spec", "mode"), [("nope", "raw"), ("trafilatura-html", "raw"), ("raw", "html")])
def test_bad_system_names(spec: str, mode: str) -> None:
    with pytest.raises(SystemExit):
        devset.resolve_systems(spec, mode)


def test_lines_as_html_escapes_and_drops_blank_lines() -> None:
    doc = devset.lines_as_html("a < b & c\n\n  second  \n")
    assert "<p>a &lt; b &amp; c</p>\n<p>second</p>" in doc


def test_html_fragment_to_text_blocks() -> None:
    text = devset.html_fragment_to_text(
        "<div><h2>Head</h2>lead<p>one <b>two</b>\nthree<br>four</p><!-- x -->after"
        "<ul><li>i1</li><li>i2</li></ul>ctrl\x01</div>"
    )
    assert text == "Head\n\nlead\n\none two\nthree\nfour\n\nafter\n\ni1\n\ni2\n\nctrl\x01"


def test_html_input_is_decoded_with_the_manifest_encoding() -> None:
    rows = {r["id"]: r for r in devset.load_manifest(MINI)}
    cp1252 = [r for r in rows.values() if r["encoding"] != "utf-8"]
    assert cp1252, "the fixture should keep its non-UTF-8 page"
    text = devset.read_input(MINI, devset.Page.from_manifest(cp1252[0]), "html")
    assert "\ufffd" not in text and any(ch in text for ch in "äöüßÄÖÜ")


def test_missing_metrics_print_as_dash() -> None:
    table = devset.format_table([{"system": "x", "pages": 1, "docs_per_s": None, "timing": {}}])
    row = table.splitlines()[2].split()
    assert row[0] == "x" and set(row[1:]) == {"-", "|"}


def test_interleaved_speed_command(tmp_path: Path) -> None:
    """benchmarks.interleaved times every system on the same pages in one process and reports
    docs/s per CPU-second for each (here cleanfeed against the raw floor, two rounds)."""
    from benchmarks.interleaved import main as interleaved

    out = tmp_path / "speed.json"
    assert interleaved([str(MINI), "--systems", "cleanfeed,raw", "--rounds", "2", "--json", str(out)]) == 0
    got = json.loads(out.read_text(encoding="utf-8"))
    pages = sum(1 for line in (MINI / "manifest.jsonl").read_text(encoding="utf-8").splitlines() if line.strip())
    assert got["docs"] == 2 * pages
    assert set(got["systems"]) == {"cleanfeed", "raw"}
    assert got["systems"]["cleanfeed"]["cpu_seconds"] > 0
    # the langdetect yardstick ran beside them (not as a system of the table) on every article
    assert "langdetect.detect" not in got["systems"]
    stick = got["yardstick"]
    assert stick["ms_per_call"] > 0 and stick["calls_per_page"] > 0
    assert stick["calls_allowed"] == pytest.approx(1000 / 150 / 5, abs=1e-3)


def test_yardstick_scaling() -> None:
    """A page costing half a yardstick call runs at 2 pages per 5 ms call: 400 docs/s there."""
    from benchmarks.interleaved import scaled

    got = scaled(yardstick_cpu=1.0, calls=100, system_cpu=2.0, docs=400)  # 10 ms a call, 5 ms a page
    assert got == {"ms_per_call": 10.0, "calls_per_page": 0.5, "calls_allowed": 1.333, "docs_per_s_at_yardstick": 400.0}
