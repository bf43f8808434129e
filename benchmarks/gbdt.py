"""Gradient-boosted oblivious trees for the finder's second stage (numpy only).

An *oblivious* tree asks the same question (feature > threshold) of every node on a level, as
CatBoost's trees do, so a tree of depth ``d`` is ``d`` (feature, threshold) pairs and ``2**d``
leaf values, and scoring is one column gather, one comparison and one table lookup for all trees
at once (``cleaners.finder.Trees``, which this module's ``fit`` returns). Trees cannot
extrapolate: past the last threshold seen in training a feature changes nothing, so odd pages
(a one-word block, a 6,000-line page) get the value of the nearest training region, not a
line extended beyond it.

Fitting is Newton boosting on the logistic loss over features binned at quantiles: per level, a
gradient/hessian histogram per (current leaf, feature, bin) from one ``bincount``, the split that
gains most summed over the level's leaves, then leaf values ``-G / (H + l2)`` scaled by the
learning rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cleaners import finder


@dataclass(frozen=True)
class TreeParams:
    trees: int
    depth: int
    learning_rate: float
    l2: float  # on leaf values (per unit of hessian)
    bins: int  # quantile bins per feature (thresholds between them)
    min_leaf_hessian: float  # a split leaving less hessian weight on a side of any leaf gains nothing there


def _edges(column: NDArray[np.float64], bins: int) -> NDArray[np.float64]:
    """Thresholds between quantile bins (midpoints of distinct neighbouring values)."""
    values = np.unique(column)
    if len(values) <= bins:
        return (values[:-1] + values[1:]) / 2
    qs = np.unique(np.quantile(column, np.linspace(0, 1, bins + 1)[1:-1], method="lower"))
    # a threshold between a quantile value and the next distinct value
    nxt = values[np.minimum(np.searchsorted(values, qs, side="right"), len(values) - 1)]
    return np.unique((qs + nxt) / 2)


def fit(x: Any, y: Any, weights: Any, params: TreeParams, names: tuple[str, ...]) -> finder.Trees:
    """Boosted oblivious trees on rows ``x`` (one column per name in ``names``), labels ``y`` in
    [0, 1] (a soft label is a share: the log-loss takes it as it is) and per-row sample ``weights``."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    n, nf = x.shape
    edges = [_edges(x[:, f], params.bins) for f in range(nf)]
    nb = max(len(e) for e in edges) + 1
    binned = np.empty((n, nf), dtype=np.int64)
    for f in range(nf):
        binned[:, f] = np.searchsorted(edges[f], x[:, f], side="left")  # bin k: edges[k-1] < x <= edges[k]
    # a threshold index past a feature's own edges is never a valid split
    valid = np.zeros((nf, nb - 1), dtype=bool)
    for f in range(nf):
        valid[f, : len(edges[f])] = True
    mean = float(np.clip((w * y).sum() / w.sum(), 1e-6, 1 - 1e-6))
    base = float(np.log(mean / (1 - mean)))
    z = np.full(n, base)
    feat_offsets = (np.arange(nf) * nb)[None, :]
    t_feats = np.zeros((params.trees, params.depth), dtype=np.int64)
    t_thr = np.zeros((params.trees, params.depth))
    t_vals = np.zeros((params.trees, 2**params.depth))
    t_mass = np.zeros((params.trees, 2**params.depth))
    for t in range(params.trees):
        p = 1 / (1 + np.exp(-z))
        g = w * (p - y)
        h = w * p * (1 - p)
        leaf = np.zeros(n, dtype=np.int64)
        for d in range(params.depth):
            n_leaves = 1 << d
            codes = (leaf[:, None] * (nf * nb) + feat_offsets + binned).ravel()
            size = n_leaves * nf * nb
            hg = np.bincount(codes, weights=np.repeat(g, nf), minlength=size).reshape(n_leaves, nf, nb)
            hh = np.bincount(codes, weights=np.repeat(h, nf), minlength=size).reshape(n_leaves, nf, nb)
            gl = np.cumsum(hg, axis=2)[:, :, :-1]  # left = bins 0..k (x <= edges[k])
            hl = np.cumsum(hh, axis=2)[:, :, :-1]
            gt = hg.sum(axis=2, keepdims=True)
            ht = hh.sum(axis=2, keepdims=True)
            gr, hr = gt - gl, ht - hl
            lam = params.l2
            gain = gl**2 / (hl + lam) + gr**2 / (hr + lam) - gt**2 / (ht + lam)
            # a side with too little weight contributes no gain at that leaf (it splits nothing)
            gain = np.where((hl >= params.min_leaf_hessian) & (hr >= params.min_leaf_hessian), gain, 0.0)
            total = gain.sum(axis=0)
            total[~valid] = -np.inf
            f, k = np.unravel_index(int(np.argmax(total)), total.shape)
            t_feats[t, d] = f
            t_thr[t, d] = edges[f][k]
            leaf = leaf | ((binned[:, f] > k).astype(np.int64) << d)
        n_leaves = 1 << params.depth
        gsum = np.bincount(leaf, weights=g, minlength=n_leaves)
        hsum = np.bincount(leaf, weights=h, minlength=n_leaves)
        vals = -params.learning_rate * gsum / (hsum + params.l2)
        t_vals[t] = vals
        t_mass[t] = hsum
        z += vals[leaf]
    return finder.Trees(names, base, t_feats, t_thr, t_vals, t_mass)
