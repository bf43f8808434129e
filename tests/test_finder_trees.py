"""The finder's tree stage: ``finder.Trees`` scores what its JSON says (checked against a plain
walk of every tree), its explanations add up, malformed files are refused, and the booster that
fits it (``benchmarks/gbdt.py``) learns an interaction a linear stage cannot."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from benchmarks import gbdt, train_finder
from cleaners import finder

NAMES = ("a", "b", "c")


def _trees_dict(features: list[list[int]], thresholds: list[list[float]], values: list[list[float]],
                base: float = 0.0, weights: list[list[float]] | None = None) -> dict[str, object]:
    return {"kind": "trees", "features": list(NAMES), "base": base, "split_features": features,
            "thresholds": thresholds, "values": values,
            "leaf_weights": weights if weights is not None else [[1.0] * len(v) for v in values]}


def _walk(trees: finder.Trees, row: np.ndarray) -> float:
    """The plain definition: per tree, bit k of the leaf is the answer on level k."""
    total = trees.base
    for t in range(len(trees.features)):
        leaf = sum(int(row[trees.features[t, k]] > trees.thresholds[t, k]) << k for k in range(trees.features.shape[1]))
        total += trees.values[t, leaf]
    return total


def test_trees_score_by_hand() -> None:
    # tree 1 asks a > 0 (bit 0) then b > 1 (bit 1); tree 2 asks c > 0.5 twice over
    raw = _trees_dict([[0, 1], [2, 2]], [[0.0, 1.0], [0.5, 0.5]], [[1.0, 2.0, 3.0, 4.0], [0.0, 10.0, 20.0, 30.0]], 0.5)
    trees = finder.scorer_from_dict(raw, NAMES)
    assert isinstance(trees, finder.Trees)
    rows = np.array([[1.0, 2.0, 0.0], [-1.0, 2.0, 1.0], [0.0, 0.0, 0.6]])
    # row 1: leaf 0b11 = 4.0, leaf 0 = 0.0; row 2: leaf 0b10 = 3.0, leaf 0b11 = 30.0; row 3: 1.0 + 30.0
    assert trees.scores(rows).tolist() == [4.5, 33.5, 31.5]
    assert trees.scores(np.zeros((0, 3))).shape == (0,)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_trees=st.integers(1, 7),
    depth=st.integers(1, finder.MAX_TREE_DEPTH),
    n_rows=st.integers(1, 2 * finder.TREE_CHUNK + 3),
)
def test_trees_score_as_walked(seed: int, n_trees: int, depth: int, n_rows: int) -> None:
    rng = np.random.default_rng(seed)
    # thresholds from a small grid, so trees share questions (the scorer asks each once)
    raw = _trees_dict(rng.integers(0, 3, (n_trees, depth)).tolist(),
                      rng.choice([-0.5, 0.0, 0.5], (n_trees, depth)).tolist(),
                      rng.normal(size=(n_trees, 1 << depth)).tolist(), float(rng.normal()))
    trees = finder.scorer_from_dict(raw, NAMES)
    assert isinstance(trees, finder.Trees)
    rows = rng.choice([-1.0, -0.5, 0.0, 0.25, 0.5, 1.0], (n_rows, 3))  # ties with thresholds go left
    assert trees.scores(rows) == pytest.approx([_walk(trees, r) for r in rows])


@settings(max_examples=40, deadline=None)
@given(
    values=hnp.arrays(np.float64, (3, 8), elements=st.floats(-3, 3)),
    weights=hnp.arrays(np.float64, (3, 8), elements=st.floats(0.1, 5)),
    row=hnp.arrays(np.float64, (3,), elements=st.floats(-1, 1)),
)
def test_tree_contributions_add_up(values: np.ndarray, weights: np.ndarray, row: np.ndarray) -> None:
    raw = _trees_dict([[0, 1, 2], [2, 2, 0], [1, 0, 1]], [[0.0, 0.0, 0.0], [0.3, -0.3, 0.5], [0.1, 0.2, 0.3]],
                      values.tolist(), 0.25, weights.tolist())
    trees = finder.scorer_from_dict(raw, NAMES)
    # Saabas: the contributions sum to the score minus the trees' mass-weighted mean value
    mean = sum((values[t] * weights[t]).sum() / weights[t].sum() for t in range(3))
    contrib = trees.contributions(row[None, :])[0]
    assert contrib.sum() == pytest.approx(trees.scores(row[None, :])[0] - 0.25 - mean, abs=1e-9)


def test_a_feature_no_tree_asks_explains_nothing() -> None:
    raw = _trees_dict([[0, 1]], [[0.0, 0.0]], [[-1.0, 1.0, -2.0, 2.0]])
    trees = finder.scorer_from_dict(raw, NAMES)
    contrib = trees.contributions(np.array([[1.0, 1.0, 100.0], [-1.0, 1.0, -100.0]]))
    assert contrib[:, 2].tolist() == [0.0, 0.0]
    assert contrib[0, 0] > 0 > contrib[1, 0]


@pytest.mark.parametrize(
    "broken",
    [
        {"features": ["a", "b"]},  # other features than the code computes
        {"split_features": [[0, 3]]},  # asks a fourth feature
        {"split_features": [[0, -1]]},
        {"thresholds": [[0.0]]},  # one threshold for two levels
        {"values": [[1.0, 2.0, 3.0]]},  # three leaves for depth 2
        {"leaf_weights": [[1.0, 1.0]]},
        {"split_features": [[0] * 9], "thresholds": [[0.0] * 9], "values": [[0.0] * 512],
         "leaf_weights": [[1.0] * 512]},  # deeper than a leaf number's byte
    ],
)
def test_malformed_trees_are_refused(broken: dict[str, object]) -> None:
    raw = _trees_dict([[0, 1]], [[0.0, 0.0]], [[1.0, 2.0, 3.0, 4.0]]) | broken
    with pytest.raises(ValueError):
        finder.scorer_from_dict(raw, NAMES)


def _xor_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(float)  # an interaction: no linear score separates it
    return x, y


def test_booster_learns_an_interaction_and_round_trips_through_json() -> None:
    x, y = _xor_data(4000, 0)
    params = gbdt.TreeParams(trees=30, depth=2, learning_rate=0.3, l2=1.0, bins=16, min_leaf_hessian=1.0)
    trees = gbdt.fit(x, y, np.ones(len(x)), params, NAMES)
    test_x, test_y = _xor_data(2000, 1)
    accuracy = ((trees.scores(test_x) > 0) == (test_y > 0)).mean()
    assert accuracy > 0.9  # a linear score gets about half right
    w, b = train_finder.fit_rows(x, y)
    assert ((test_x @ np.array(w) + b > 0) == (test_y > 0)).mean() < 0.7
    # the trainer's JSON form loads back to the same scores (leaf values rounded to 6 places)
    again = finder.scorer_from_dict(train_finder.stage_to_dict(trees), NAMES)
    assert again.scores(test_x) == pytest.approx(trees.scores(test_x), abs=1e-4)


def test_booster_weights_rows() -> None:
    # the same rows labelled both ways: the weights decide which way the trees lean
    x = np.repeat(np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]), 50, axis=0)
    y = np.tile([0.0, 1.0], 50)
    params = gbdt.TreeParams(trees=10, depth=1, learning_rate=0.5, l2=1.0, bins=4, min_leaf_hessian=0.0)
    heavy_ones = np.where(y > 0, 4.0, 1.0)
    assert (gbdt.fit(x, y, heavy_ones, params, NAMES).scores(x) > 0).all()
    assert (gbdt.fit(x, y, 1 / heavy_ones, params, NAMES).scores(x) < 0).all()
