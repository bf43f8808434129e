"""Shortcuts of the content finder (``cleaners/finder.py``) pinned to the straightforward
computations they replace: every test here compares the fast path with a plain reference written
out in this file, exactly (the finder's outputs must not move by one bit: its probabilities are
printed in every removal's detail)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cleaners import finder
from cleaners.detectors import RULE_DETECTORS
from cleaners.model import Category, Document, Removal, View
from cleaners.patterns import load as load_patterns
from cleaners.pipeline import detect
from cleaners.segment import segment_text
from cleaners.settings import DEFAULT, Settings

REPO = Path(__file__).resolve().parent.parent
PAGES = sorted(REPO.glob("seeds/*.txt")) + sorted(REPO.glob("tests/fixtures/devset_mini/raw/*.txt"))


def page_views() -> list[View]:
    """The seed and mini dev-set pages as the finder sees them: after the phrase and shape rules."""
    return [rules_view(p.read_text(encoding="utf-8")) for p in PAGES]


def rules_view(text: str) -> View:
    doc = segment_text(text)
    return detect(Document(doc.blocks, "text"), detectors=RULE_DETECTORS)


# Lines of the seed pages, and awkward ones: random pages are drawn from them (the rules and the
# finder then have real chrome and prose to work on).
SEED_LINES = sorted({line for p in PAGES for line in p.read_text(encoding="utf-8").splitlines() if line.strip()})
AWKWARD_LINES = [
    "İSTANBUL (dpa) – Die Regierung hat am Montag beschlossen.", "ΟΔΟΣ'Α και ΣΟΦΙΑ.", "東京 と 日本語。",
    "„Zitat.“", "Dr. U.S. Ende. Nächster Satz!", "» Mehr", "ǅungla ǈ Ⅻ 𝐀𝐁c 😉", "{\"a\": 1};", "www.example.de",
    "", "   ", "- Punkt eins", "• Punkt zwei", "Kontakt | Impressum | Datenschutz", "ENDE:", "a_b_c x",
]
random_page = st.lists(
    st.tuples(st.sampled_from(SEED_LINES + AWKWARD_LINES), st.sampled_from(["\n", "\n\n"])), min_size=1, max_size=60
).map(lambda rows: "".join(line + sep for line, sep in rows))


# --------------------------------------------------------------------------- explanations


def reference_explain(model: finder.Scorer, rows: np.ndarray) -> list[str]:
    """Per row: the EXPLAIN_TOP features of smallest contribution (a stable sort: ties to the lower
    index), those that pushed towards boilerplate named, worst first."""
    out = []
    for row in model.contributions(rows).tolist():
        worst = sorted(range(len(row)), key=row.__getitem__)[: finder.EXPLAIN_TOP]
        out.append(", ".join(model.names[j] for j in worst if row[j] < 0))
    return out


@settings(max_examples=300, deadline=None)
@given(
    weights=hnp.arrays(np.float64, 5, elements=st.sampled_from([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0])),
    rows=hnp.arrays(np.float64, st.tuples(st.integers(0, 12), st.just(5)),
                    elements=st.sampled_from([-1.0, 0.0, 0.0, 1.0, 2.0, 0.25])),
)
def test_explain_names_the_worst_features(weights: np.ndarray, rows: np.ndarray) -> None:
    """Small value sets make ties and zero contributions common."""
    names = ("a", "b", "c", "d", "e")
    model = finder.Linear(names, tuple(weights.tolist()), 0.0)
    assert finder._explain(model, rows) == reference_explain(model, rows)


def test_explain_on_the_shipped_model_and_real_rows() -> None:
    model = finder.load_model()
    for view in page_views():
        rows, _ = finder.block_scores(view, DEFAULT, model)
        assert finder._explain(model.stage1, rows) == reference_explain(model.stage1, rows)


# --------------------------------------------------------------------------- removals


@given(st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(["content.a", "b"]), st.text(max_size=20)),
                max_size=8))
def test_removals_are_what_the_constructor_builds(rows: list[tuple[int, str, str]]) -> None:
    fast = finder._removals([i for i, _, _ in rows], [r for _, r, _ in rows], [d for _, _, d in rows])
    slow = [Removal(i, r, Category.BOILERPLATE, d) for i, r, d in rows]
    assert all(type(r) is Removal for r in fast)
    assert fast == slow and list(map(repr, fast)) == list(map(repr, slow))
    assert list(map(hash, fast)) == list(map(hash, slow))
    for r in fast:
        with pytest.raises(dataclasses.FrozenInstanceError):
            r.rule = "changed"  # type: ignore[misc]


# --------------------------------------------------------------------------- the whole detector


def reference_detect_non_article(view: View, settings_: Settings) -> list[Removal]:
    """``finder.detect_non_article`` written out block by block."""
    kept = view.kept_indices()
    if len(kept) < settings_.finder_min_blocks:
        return []
    model = finder.load_model()
    rows, z_all = finder.block_scores(view, settings_, model)
    z = [z_all[i] + model.threshold_shift for i in kept]
    keep = finder.viterbi(z, model.switch_penalty)
    if not any(keep):
        return []
    keep = finder.revise_subheadings(view, kept, keep, settings_)
    first = next(i for i, k in zip(kept, keep, strict=True) if k)
    last = next(i for i, k in zip(reversed(kept), reversed(keep), strict=True) if k)
    dropped = [(i, zi) for i, k, zi in zip(kept, keep, z, strict=True) if not k]
    reasons = reference_explain(model.stage1, rows[[i for i, _ in dropped]])
    out = []
    for (i, zi), reason in zip(dropped, reasons, strict=True):
        p = 1 / (1 + math.exp(-zi))
        where = "head_chrome" if i < first else "tail_chrome" if i > last else "inline_boilerplate"
        out.append(Removal(i, f"content.{where}", Category.BOILERPLATE, f"p={p:.2f}; {reason}"))
    return out


def same_removals(got: list[Removal], want: list[Removal]) -> None:
    assert all(type(r) is Removal for r in got)
    assert got == want and list(map(repr, got)) == list(map(repr, want))


def test_detect_non_article_on_real_pages() -> None:
    found = 0
    for view in page_views():
        got = finder.detect_non_article(view, load_patterns(), DEFAULT)
        same_removals(got, reference_detect_non_article(view, DEFAULT))
        found += len(got)
    assert found  # the pages have chrome the finder removes


@given(random_page)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_detect_non_article_on_random_pages(text: str) -> None:
    view = rules_view(text)
    got = finder.detect_non_article(view, load_patterns(), DEFAULT)
    same_removals(got, reference_detect_non_article(view, DEFAULT))
