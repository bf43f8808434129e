"""The finder's model stages: the shipped file loads, the net computes what its JSON says, and its
explanations (gradient x distance from the training mean) are exact where the net is linear."""

from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cleaners import clean_text, finder
from cleaners.model import View
from cleaners.patterns import load as load_patterns
from cleaners.segment import segment_text
from cleaners.settings import DEFAULT

NAMES = ("a", "b", "c")


def _mlp_dict(
    w1: list[list[float]], b1: list[float], w2: list[float], b2: float, mean: list[float]
) -> dict[str, object]:
    return {"kind": "mlp", "features": list(NAMES), "mean": mean, "w1": w1, "b1": b1, "w2": w2, "b2": b2}


def test_mlp_scores_are_relu_net() -> None:
    raw = _mlp_dict([[1.0, -1.0], [0.5, 2.0], [0.0, 1.0]], [0.0, -1.0], [2.0, -3.0], 0.5, [0.0, 0.0, 0.0])
    net = finder.scorer_from_dict(raw, NAMES)
    rows = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [-2.0, 0.0, 0.0]])
    # by hand: hidden = relu(x @ w1 + b1); z = hidden @ w2 + b2
    expected = [
        max(1.0, 0) * 2.0 + max(-1.0 - 1.0, 0) * -3.0 + 0.5,  # h = (1, 0)
        max(0.5, 0) * 2.0 + max(2.0 + 1.0 - 1.0, 0) * -3.0 + 0.5,  # h = (0.5, 2)
        max(-2.0, 0) * 2.0 + max(2.0 - 1.0, 0) * -3.0 + 0.5,  # h = (0, 1)
    ]
    assert net.scores(rows).tolist() == pytest.approx(expected)
    assert net.scores(np.zeros((0, 3))).shape == (0,)


@settings(max_examples=60, deadline=None)
@given(
    w1=hnp.arrays(np.float64, (3, 4), elements=st.floats(-2, 2)),
    w2=hnp.arrays(np.float64, (4,), elements=st.floats(-2, 2)),
    x=hnp.arrays(np.float64, (3,), elements=st.floats(-1, 1)),
    mean=hnp.arrays(np.float64, (3,), elements=st.floats(-1, 1)),
)
def test_mlp_contributions_add_up_where_the_net_is_linear(w1, w2, x, mean) -> None:  # type: ignore[no-untyped-def]
    # biases large enough that every hidden unit is active at x and at the mean: the net is one
    # linear map between them, so the contributions sum to exactly the change in score
    b1 = [20.0] * 4
    net = finder.scorer_from_dict(_mlp_dict(w1.tolist(), b1, w2.tolist(), 0.0, mean.tolist()), NAMES)
    contrib = net.contributions(x[None, :])[0]
    delta = net.scores(x[None, :])[0] - net.scores(mean[None, :])[0]
    assert contrib.sum() == pytest.approx(delta, abs=1e-9)


def test_linear_contributions_are_weight_times_value() -> None:
    lin = finder.scorer_from_dict({"features": list(NAMES), "weights": [1.0, -2.0, 0.5], "bias": 0.1}, NAMES)
    assert isinstance(lin, finder.Linear)
    assert lin.contributions(np.array([[2.0, 1.0, 4.0]])).tolist() == [[2.0, -2.0, 2.0]]


@pytest.mark.parametrize(
    "broken",
    [
        {"features": ["a", "b"]},  # other features than the code computes
        {"w1": [[1.0], [1.0]]},  # first layer for two features, not three
        {"w2": [1.0, 1.0, 1.0]},  # output layer for three hidden units, the first has one
        {"mean": [0.0]},
        {"kind": "forest"},
    ],
)
def test_malformed_stage_is_refused(broken: dict[str, object]) -> None:
    raw = _mlp_dict([[1.0], [1.0], [1.0]], [0.0], [1.0], 0.0, [0.0, 0.0, 0.0]) | broken
    with pytest.raises(ValueError):
        finder.scorer_from_dict(raw, NAMES)


def test_shipped_model_loads_and_explains_its_removals() -> None:
    model = finder.load_model()
    assert model.stage1.names == finder.FEATURE_NAMES and model.stage2.names == finder.REVISE_NAMES
    # a page of prose between menu lines: every finder removal names the features behind it
    menu = "\n".join(["Startseite", "Politik", "Wirtschaft", "Sport", "Kultur", "Kontakt", "Impressum"])
    prose = " ".join(
        ["Der Gemeinderat hat am Dienstagabend nach langer Debatte beschlossen, die alte Schule am Markt zu"
         " sanieren und dort ab dem kommenden Herbst eine Bibliothek einzurichten."] * 3
    )
    text = f"{menu}\n\nSchule wird Bibliothek\n\n{prose}\n\n{prose.replace('Dienstagabend', 'Mittwoch')}\n\n{menu}"
    art = clean_text(text)
    finder_removals = [r for r in art.removed if r.rule.startswith("content.")]
    assert finder_removals, [r.rule for r in art.removed]
    for r in finder_removals:
        p, _, features = r.detail.partition("; ")
        assert p.startswith("p=")
        assert all(name in finder.FEATURE_NAMES for name in features.split(", ") if name)
    assert "Bibliothek einzurichten" in art.text
    assert "Impressum" not in art.text


def test_shipped_model_file_is_what_the_trainer_writes() -> None:
    from importlib import resources

    raw = json.loads((resources.files("cleaners.data") / "finder_model.json").read_text(encoding="utf-8"))
    assert {"version", "stage1", "stage2", "switch_penalty", "threshold_shift", "length_power"} <= raw.keys()
    assert raw["stage1"].get("kind", "linear") in ("linear", "mlp")


def test_stage_two_reads_the_whole_stage_one_row() -> None:
    # stage 2's rows end with the block's stage-1 row, bit for bit, under the stage-1 names
    view = View(segment_text("\n\n".join(DEK_PAGE)))
    lang = finder.page_language(view.doc.blocks)
    rows = finder.features(view, DEFAULT, lang)
    z1 = finder.load_model().stage1.scores(rows)
    texts = [b.text for b in view.doc.blocks]
    rows2 = finder.revise_features(rows, z1, [False] * len(texts), texts, lang)
    own = len(finder.REVISE_NAMES) - len(finder.FEATURE_NAMES)
    assert finder.REVISE_NAMES[own:] == finder.FEATURE_NAMES
    assert rows2.shape == (len(texts), len(finder.REVISE_NAMES))
    assert np.array_equal(rows2[:, own:], rows)
    # and the stage-1 probabilities come first: the block's own log-odds, clipped
    assert np.array_equal(rows2[:, 0], np.clip(z1, -finder.Z_CLIP, finder.Z_CLIP))


def test_page_relative_columns_by_hand() -> None:
    # six blocks: block 1 removed by a rule, blocks 3-4 the article core
    zc = np.array([-2.0, 5.0, 0.5, 3.0, 1.0, -1.0])
    removed = np.array([False, True, False, False, False, False])
    lengths = np.array([10.0, 99.0, 30.0, 400.0, 200.0, 50.0])
    rank, rel, gap, share = finder.page_relative(zc, removed, lengths, (3, 4))
    # ranks among the five leftovers (the removed block's 5.0 is not one of them)
    assert rank.tolist() == pytest.approx([0.2, 1.0, 0.6, 1.0, 0.8, 0.4])
    assert rel.tolist() == pytest.approx((zc - 2.0).tolist())  # the core's median: (3 + 1) / 2
    # characters of leftovers between the block and the core: block 0 has block 2 (30; block 1 is
    # removed), block 2 none, the core none, block 5 none
    assert gap.tolist() == pytest.approx(np.log1p([30.0, 30.0, 0.0, 0.0, 0.0, 0.0]).tolist())
    assert share.tolist() == [2 / 5] * 6


def test_page_relative_columns_without_a_core() -> None:
    zc = np.array([-1.0, 0.0, -3.0])
    rank, rel, gap, share = finder.page_relative(zc, np.zeros(3, dtype=bool), np.array([5.0, 7.0, 9.0]), (3, -1))
    assert rank.tolist() == pytest.approx([2 / 3, 1.0, 1 / 3])
    assert rel.tolist() == [-1.0, 0.0, -3.0]  # against the page's best block
    assert gap.tolist() == pytest.approx([np.log1p(21.0)] * 3)  # the whole page lies between
    assert share.tolist() == [0.0] * 3
    # a page the rules emptied: nothing to rank against, no error
    rank, rel, gap, share = finder.page_relative(zc, np.ones(3, dtype=bool), np.ones(3), (3, -1))
    assert np.isfinite(np.concatenate([rank, rel, gap, share])).all()


@settings(max_examples=60, deadline=None)
@given(
    # log-odds on a grid of tenths (ties included) and shifts in quarters: no two distinct values
    # come so close that the shift's rounding could swap or merge them
    z=st.lists(st.integers(-80, 80).map(lambda k: k / 10), min_size=1, max_size=30),
    shift=st.integers(-12, 12).map(lambda k: k / 4),
    data=st.data(),
)
def test_page_relative_columns_do_not_move_with_a_page_wide_shift(z: list[float], shift: float,
                                                                   data: st.DataObject) -> None:
    """They describe the page's own order: a constant added to every block's log-odds (a page that
    stage 1 is surer of throughout) leaves the rank, the distance from the core and the share where
    they were, and moves ``z1_rel_core`` not at all either, since the core's median moves alike."""
    n = len(z)
    removed = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    removed[data.draw(st.integers(0, n - 1))] = False  # the finder runs only where the rules left a block
    lengths = np.array(data.draw(st.lists(st.integers(0, 500), min_size=n, max_size=n)), dtype=float)
    first = data.draw(st.integers(0, n))
    core = (first, data.draw(st.integers(first - 1, n - 1)))
    zc = np.array(z)
    before = finder.page_relative(zc, removed, lengths, core)
    after = finder.page_relative(zc + shift, removed, lengths, core)
    for x, y in zip(before, after, strict=True):
        assert np.allclose(x, y, atol=1e-9)
    rank, _, gap, share = before
    live = ~removed  # (the removed blocks' columns are computed too, but never scored)
    assert ((rank[live] > 0) & (rank[live] <= 1)).all()
    assert (gap >= 0).all() and ((share >= 0) & (share <= 1)).all()


def test_operating_points_are_chosen_over_several_fold_orders() -> None:
    from benchmarks.train_finder import SELECT_ORDERS, fold_order, mean_metrics

    pages = list(range(40))
    orders = [fold_order(pages, seed) for seed in SELECT_ORDERS]  # type: ignore[arg-type]
    assert orders[0] == pages  # the first is the order given
    assert all(sorted(o) == pages for o in orders)  # the others are permutations ...
    assert len({tuple(o) for o in orders}) == len(SELECT_ORDERS)  # ... each its own ...
    assert orders == [fold_order(pages, seed) for seed in SELECT_ORDERS]  # ... and reproducible
    assert mean_metrics([{"F1": 0.9, "with*": 0.8}, {"F1": 0.8, "with*": 1.0}]) == pytest.approx(
        {"F1": 0.85, "with*": 0.9})


MINI = Path(__file__).resolve().parent / "fixtures" / "devset_mini"


def _mini_pages() -> list[object]:
    from types import SimpleNamespace

    rows = [json.loads(x) for x in (MINI / "manifest.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    return [SimpleNamespace(pid=r["id"], manifest=r) for r in rows]


def test_page_counts_score_outputs_as_the_scorer_does() -> None:
    """On real pages: the raw dump keeps every snippet and leaks every raw-only line, an empty output
    keeps nothing, and no resample of either meets the floors."""
    from benchmarks.train_finder import floor_odds, load_scorer, metrics_of, page_counts

    score = load_scorer(MINI)
    pages = _mini_pages()
    raw = {p.pid: (MINI / "raw" / f"{p.pid}.txt").read_text(encoding="utf-8") for p in pages}  # type: ignore[attr-defined]
    as_is = page_counts(score, MINI, pages, raw)  # type: ignore[arg-type]
    assert [c.shingles is not None for c in as_is] == [p.manifest["has_gold"] for p in pages]  # type: ignore[attr-defined]
    m = metrics_of(score, as_is)
    assert m["with*"] == 1.0 and m["w/o*"] == 0.0 and m["leak"] == 1.0 and m["R"] > 0.9
    odds = floor_odds(score, as_is, draws=50)
    assert (odds["all"], odds["w/o*"], odds["leak"]) == (0.0, 0.0, 0.0)
    assert odds["with*"] > 0.9  # every resample holding a snippet page (3 of the 5 pages have them)
    empty = metrics_of(score, page_counts(score, MINI, pages, dict.fromkeys(raw, "")))  # type: ignore[arg-type]
    assert empty["with*"] == 0.0 and empty["w/o*"] == 1.0 and empty["R"] == 0.0


@pytest.mark.parametrize(("with_present", "leaked", "holds"), [(97, 3, True), (94, 3, False), (97, 7, False)])
def test_floor_odds_are_certain_when_every_page_is_alike(with_present: int, leaked: int, holds: bool) -> None:
    """Resamples of identical pages all score what each page scores, so a floor holds on all of
    them or on none; the four together hold only where each does."""
    from benchmarks.train_finder import PageCounts, floor_odds, load_scorer, metrics_of

    score = load_scorer(MINI)
    page = PageCounts((95, 5, 5), (100, leaked), (with_present, 10, 100 - with_present, 90))
    point = metrics_of(score, [page] * 20)
    odds = floor_odds(score, [page] * 20, draws=30)
    assert point["F1"] == pytest.approx(0.95) and odds["F1"] == 1.0 and odds["w/o*"] == 1.0
    assert odds["with*"] == float(point["with*"] >= 0.95) and odds["leak"] == float(point["leak"] <= 0.06)
    assert odds["all"] == float(holds)


def test_operating_point_is_chosen_by_the_odds_of_all_four_floors() -> None:
    """The trainer prefers the point that holds all four floors on more resamples, even where
    another sits further above the floors it passes; at equal odds the margin objective decides."""
    from benchmarks.train_finder import PointScore

    narrow = {"F1": 0.925, "leak": 0.045, "with*": 0.958, "w/o*": 0.832}  # all just above
    lopsided = {"F1": 0.921, "leak": 0.051, "with*": 0.970, "w/o*": 0.850}  # with* far above, F1 at its floor
    assert PointScore(narrow, 0.57).key() > PointScore(lopsided, 0.48).key()
    assert PointScore(lopsided, 0.60).key() > PointScore(narrow, 0.57).key()
    better = dict(narrow, F1=0.93)
    assert PointScore(better, 0.5).key() > PointScore(narrow, 0.5).key()


def test_operating_point_prefers_a_plateau_to_a_peak_at_a_cliff() -> None:
    """The odds are averaged with the neighbouring shifts': a slightly lower point among good
    neighbours beats the best single point next to a cliff; a point at the grid's edge is only a
    neighbour (nothing was measured beyond it) unless the line is too short to have an inside;
    equal smoothed odds fall back to the point's own odds."""
    from benchmarks.train_finder import PointScore, choose_point

    m = {"F1": 0.93, "leak": 0.05, "with*": 0.96, "w/o*": 0.82}

    def grid(*odds: float, switch: float = 1.0) -> dict[tuple[float, float, float], PointScore]:
        return {(0.5, switch, 1.0 + 0.125 * k): PointScore(m, o) for k, o in enumerate(odds)}

    assert choose_point(grid(0.55, 0.60, 0.58, 0.62, 0.10)) == (0.5, 1.0, 1.25)  # not the peak at 1.375
    # the edges have the best odds, the inside point is chosen: (.70 + .65 + .20) / 3
    assert choose_point(grid(0.70, 0.65, 0.20)) == (0.5, 1.0, 1.125)
    assert choose_point(grid(0.20, 0.50, 0.55, 0.60, 0.70)) == (0.5, 1.0, 1.375)  # not 1.5, (.60 + .70) / 2
    assert choose_point(grid(0.60, 0.70)) == (0.5, 1.0, 1.125)  # two shifts, no inside: both may be chosen
    assert choose_point(grid(0.2, 0.5, 0.6, 0.5, 0.2)) == (0.5, 1.0, 1.25)
    # the switch prices are separate lines: the plateau of one beats the peak of another
    both = grid(0.1, 0.75, 0.1) | grid(0.6, 0.6, 0.6, switch=2.0)
    assert choose_point(both)[1] == 2.0
    # equal smoothed odds (.533 at both middles): the point's own odds decide
    tied = grid(0.1, 0.4, 0.8, 0.4, 0.1) | grid(0.1, 0.6, 0.4, 0.6, 0.1, switch=2.0)
    assert choose_point(tied) == (0.5, 1.0, 1.25)


def test_resampled_figures_spread_around_the_point() -> None:
    """Pages that differ give resamples that differ, centred near the scorer's figure."""
    from benchmarks.train_finder import PageCounts, load_scorer, metrics_of, resampled_metrics

    score = load_scorer(MINI)
    pages = [PageCounts((90 + k % 10, 10 - k % 10, 5), (50, k % 6), (k % 5 + 5, k % 3, 4 - k % 5, 10))
             for k in range(60)]
    point = metrics_of(score, pages)
    drawn = resampled_metrics(score, pages, draws=400)
    for key in ("P", "R", "F1", "leak", "with*", "w/o*"):
        assert drawn[key].std() > 0
        assert drawn[key].mean() == pytest.approx(point[key], abs=3 * drawn[key].std() / 20 + 1e-3)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 3))
def test_merged_net_is_the_mean_of_its_members(seed: int, k: int) -> None:
    """The trainer ships the mean of several nets as one wider net (benchmarks.train_finder)."""
    from benchmarks.train_finder import merged_net

    rng = np.random.default_rng(seed)
    d, h = 3, 4
    mu, sd = rng.normal(size=d), rng.uniform(0.5, 2.0, size=d)
    members = [(rng.normal(size=(d, h)), rng.normal(size=h), rng.normal(size=h), float(rng.normal())) for _ in range(k)]
    x = rng.normal(size=(5, d))
    xs = (x - mu) / sd
    by_hand = np.mean([np.maximum(xs @ w1 + b1, 0.0) @ w2 + b2 for w1, b1, w2, b2 in members], axis=0)
    net = merged_net(NAMES, mu, sd, members)
    assert net.scores(x) == pytest.approx(by_hand, abs=1e-9)
    singles = [merged_net(NAMES, mu, sd, [m]) for m in members]
    assert net.contributions(x) == pytest.approx(np.mean([s.contributions(x) for s in singles], axis=0), abs=1e-9)


def reference_viterbi(scores: list[float], price: float) -> list[bool]:
    """Two-state Viterbi written out: best totals of both states, back-pointers, backtrack."""
    s0, s1 = -scores[0] / 2, scores[0] / 2
    back = []
    for z in scores[1:]:
        b0, n0 = (0, s0) if s0 >= s1 - price else (1, s1 - price)
        b1, n1 = (0, s0 - price) if s0 - price >= s1 else (1, s1)
        s0, s1 = n0 - z / 2, n1 + z / 2
        back.append((b0, b1))
    state = 1 if s1 >= s0 else 0
    path = [state]
    for b0, b1 in reversed(back):
        state = b1 if state else b0
        path.append(state)
    return [s == 1 for s in reversed(path)]


@settings(max_examples=300, deadline=None)
@given(
    scores=st.lists(st.floats(-8, 8, allow_nan=False), min_size=1, max_size=60),
    price=st.sampled_from([0.0, 0.25, 0.5, 1.0, 2.0, 3.0]),
)
def test_viterbi_matches_the_two_state_reference(scores: list[float], price: float) -> None:
    got = finder.viterbi(scores, price)
    want = reference_viterbi(scores, price)
    if got != want:
        # the two may break an exact tie of totals differently (floating point); both are optimal
        def total(path: list[bool]) -> float:
            gain = sum(z / 2 if a else -z / 2 for z, a in zip(scores, path, strict=True))
            return gain - price * sum(a != b for a, b in itertools.pairwise(path))

        assert total(got) == pytest.approx(total(want), abs=1e-9)
    assert finder.viterbi([], price) == []


# --------------------------------------------------------------------------- length weights

def _words(n: int, word: str) -> str:
    return " ".join([word] * n) + "."


@settings(max_examples=100, deadline=None)
@given(counts=st.lists(st.integers(0, 400), min_size=1, max_size=40), power=st.sampled_from([0.25, 0.5, 1.0]))
def test_length_weights_are_relative_to_the_page(counts: list[int], power: float) -> None:
    view = View(segment_text("\n\n".join(_words(n, "wort") if n else "-" for n in counts)))
    kept = view.kept_indices()
    w = finder.length_weights(view.doc.blocks, kept, power)
    words = [max(view.doc.blocks[i].n_words, 1) for i in kept]
    # the page's typical (geometric mean) block weighs 1, so the weights' logs sum to 0 ...
    assert float(np.log(w).sum()) == pytest.approx(0.0, abs=1e-9)
    # ... a longer block weighs more, by the power of the word-count ratio
    for (a, wa), (b, wb) in itertools.combinations(zip(words, w, strict=True), 2):
        assert wa / wb == pytest.approx((a / b) ** power, rel=1e-9)
    assert finder.length_weights(view.doc.blocks, kept, 0.0).tolist() == [1.0] * len(kept)


def _decode(lines: list[str], z: list[float], power: float) -> list[bool]:
    view = View(segment_text("\n\n".join(lines)))
    kept = view.kept_indices()
    assert len(kept) == len(lines)
    return finder.decode(view, kept, z, 1.0, load_patterns(), DEFAULT, power)


LEAD_PAGE = [
    "Start", "Politik", "Sport",  # menu labels, sure boilerplate
    _words(60, "Lead"),  # the lead: long, leaning article
    "Foto: Agentur",  # a caption between lead and body
    *[_words(60, "Text")] * 3,  # the body
    "Impressum", "Kontakt", "Datenschutz",
]
LEAD_Z = [-2.0, -2.0, -2.0, 0.8, -1.2, 2.0, 2.0, 2.0, -2.0, -2.0, -2.0]


def test_length_weights_let_a_long_lead_bridge_a_short_caption() -> None:
    # unweighted, the caption (-1.2) outweighs the lead (0.8): the region search leaves the lead out
    assert finder.viterbi(LEAD_Z, 1.0) == [False] * 5 + [True] * 3 + [False] * 3
    # (decoding then takes the lead back as the lead, and the heading-shaped caption between two
    # kept blocks as a subheading)
    assert _decode(LEAD_PAGE, LEAD_Z, 0.0) == [False] * 3 + [True] * 5 + [False] * 3
    # weighted, the 60-word lead counts more than the two-word caption: the region search itself
    # keeps lead and caption with the body (on a real page the credit-line rules take such a
    # caption before the finder)
    view = View(segment_text("\n\n".join(LEAD_PAGE)))
    weights = finder.length_weights(view.doc.blocks, view.kept_indices(), 0.5)
    assert finder.viterbi((np.asarray(LEAD_Z) * weights).tolist(), 1.0) == [False] * 3 + [True] * 5 + [False] * 3
    assert _decode(LEAD_PAGE, LEAD_Z, 0.5) == [False] * 3 + [True] * 5 + [False] * 3


def test_length_weights_ask_more_of_a_short_line_alone() -> None:
    # a short line leaning article between menu labels (a teaser title): a region of its own costs
    # two switches (2.0); unweighted its 2.2 pays for them, weighted (3 words on a page whose typical
    # block has about 4) it does not
    lines = ["Start", "Politik", "Neu: Der Podcast", "Sport", "Kultur", "Wetter", *[_words(60, "Text")] * 3,
             "Impressum"]
    z = [-2.0, -2.0, 2.2, -2.5, -2.5, -2.5, 2.0, 2.0, 2.0, -2.0]
    assert _decode(lines, z, 0.0) == [False, False, True, False, False, False, True, True, True, False]
    assert _decode(lines, z, 0.5) == [False, False, False, False, False, False, True, True, True, False]


def test_the_shipped_model_weighs_blocks_by_length() -> None:
    assert finder.load_model().length_power > 0


# --------------------------------------------------------------------------- the lead above the region

DEK_PAGE = [
    "Start", "Politik", "Sport",  # menu labels
    "Stadtrat beschließt neue Radwege",  # the headline
    "Der Stadtrat hat am Dienstag nach langer Debatte beschlossen, bis 2026 zwanzig Kilometer neue "
    "Radwege zu bauen.",  # the dek: 18 words, the model unsure of it
    "Video",  # a video box's label ...
    "Bild: Stadtverwaltung",  # ... and its credit
    *[_words(60, "Text")] * 3,  # the body
    "Impressum", "Kontakt",
]
DEK_Z = [-2.0, -2.0, -2.0, -0.5, -0.6, -1.5, -1.5, 2.0, 2.0, 2.0, -2.0, -2.0]


def test_a_dek_set_apart_by_a_video_box_joins_the_article() -> None:
    keep = _decode(DEK_PAGE, DEK_Z, 0.5)
    # the dek is kept; the video label and its credit between it and the body stay out, and so does
    # the short headline (its place is the article's title) and the menu
    assert keep == [False] * 4 + [True, False, False] + [True] * 3 + [False] * 2


def test_the_lead_walk_stops_at_a_doubted_long_block() -> None:
    # the same page with a teaser the model is sure of (z -2.5) between the dek and the body: the
    # walk stops at the teaser, so the dek above it stays out too
    lines = [*DEK_PAGE[:5], _words(20, "Teaser"), *DEK_PAGE[5:]]
    z = [*DEK_Z[:5], -2.5, *DEK_Z[5:]]
    assert _decode(lines, z, 0.5) == [False] * 8 + [True] * 3 + [False] * 2
    # and a long block only joins when the model's doubt is below the bound
    assert DEFAULT.lead_min_z > -2.5


def test_the_lead_walk_steps_over_at_most_lead_max_skip_short_lines() -> None:
    shorts = ["Video", "Bild: Stadtverwaltung", "Teilen", "Drucken", "Merken", "Kommentare"]
    assert len(shorts) > DEFAULT.lead_max_skip
    for n in range(len(shorts) + 1):
        lines = [*DEK_PAGE[:5], *shorts[:n], *DEK_PAGE[7:]]
        z = [*DEK_Z[:5], *[-1.5] * n, *DEK_Z[7:]]
        keep = _decode(lines, z, 0.5)
        assert keep[4] is (n <= DEFAULT.lead_max_skip), n
        if n >= 2:  # (one short line the region search itself bridges, as the length weights allow)
            assert not any(keep[5 : 5 + n]), n


def test_a_short_line_never_joins_as_lead() -> None:
    view = View(segment_text("\n\n".join(DEK_PAGE)))
    kept = view.kept_indices()
    # a lead revision of the Viterbi labelling alone: only blocks of lead_min_words words or more
    keep = [False] * 7 + [True] * 3 + [False] * 2
    out = finder.revise_lead(view, kept, keep, [5.0] * len(kept), DEFAULT)
    assert [view.doc.blocks[kept[j]].n_words >= DEFAULT.lead_min_words for j in range(7) if out[j]] == [True]
    assert out == [False] * 4 + [True, False, False] + [True] * 3 + [False] * 2
    # no kept block, nothing to lead into
    assert finder.revise_lead(view, kept, [False] * len(kept), [5.0] * len(kept), DEFAULT) == [False] * len(kept)


# --------------------------------------------------------------------------- ingredient lists

INGREDIENTS = ["Zutaten", "250 g Mehl", "1 Pck. Backpulver", "Salz", "2 EL Zucker", "500 ml Milch", "3 EL Öl"]
STEPS = ["Mehl und Backpulver in einer Schüssel mischen, dann Salz und Zucker unterrühren.",
         "Milch und Öl dazugeben und alles zu einem glatten Teig rühren, der zehn Minuten ruht."]


def _revise(lines: list[str], keep: list[bool]) -> list[bool]:
    view = View(segment_text("\n\n".join(lines)))
    kept = view.kept_indices()
    return finder.revise_ingredient_runs(view, kept, keep, load_patterns(), DEFAULT)


def test_an_ingredient_list_inside_the_article_is_kept_whole() -> None:
    lines = ["Pfannkuchen wie bei Oma", *INGREDIENTS, *STEPS]
    keep = [True, False, False, True, False, False, True, False, True, True]
    got = _revise(lines, keep)
    # from the first quantity line to the last, the short line between them ('Salz') included; the
    # label above the list is left to the finder
    assert got == [True, False, True, True, True, True, True, True, True, True]


@pytest.mark.parametrize(
    "keep",
    [
        # the list ends the kept text: nothing after it says it belongs to the article
        [True, False, False, False, False, False, False, False, False, False],
        # nothing kept before it, and the kept text starts too far below it
        [False, False, False, False, False, False, False, False, False, True],
    ],
)
def test_a_quantity_run_at_the_edge_of_the_article_is_left_to_the_finder(keep: list[bool]) -> None:
    lines = ["Pfannkuchen wie bei Oma", *INGREDIENTS, *STEPS]
    settings_ = dataclasses.replace(DEFAULT, ingredient_reach=1)
    view = View(segment_text("\n\n".join(lines)))
    assert finder.revise_ingredient_runs(view, view.kept_indices(), keep, load_patterns(), settings_) == keep


def test_a_list_that_leads_into_the_kept_steps_is_kept() -> None:
    lines = ["Pfannkuchen wie bei Oma", *INGREDIENTS, *STEPS]
    keep = [False, False, False, False, False, False, False, False, True, True]
    assert _revise(lines, keep) == [False, False, True, True, True, True, True, True, True, True]


def test_two_quantity_lines_are_not_a_list() -> None:
    lines = ["Pfannkuchen wie bei Oma", "250 g Mehl", "Salz", "500 ml Milch", *STEPS]
    keep = [True, False, False, False, True, True]
    assert _revise(lines, keep) == keep


@pytest.mark.parametrize(
    ("line", "is_quantity"),
    [
        ("200 g Schlagsahne", True),
        ("1 Pck. Vanillepuddingpulver", True),
        ("1½ teaspoons ground black pepper", True),
        ("2-3 Zehen Knoblauch", True),
        ("390 kcal", True),
        ("250 g", True),
        # numbers that head other lines: a year, a list title, a rating, a count
        ("2020 Election", False),
        ("30 Under 30 2019", False),
        ("4 Sterne von 5", False),
        ("5 Innovations Changing The Future Of Food", False),
    ],
)
def test_quantity_lines(line: str, is_quantity: bool) -> None:
    assert (load_patterns().get("recipe.quantity").matches(line) is not None) is is_quantity


def test_a_split_list_with_part_labels_is_one_list() -> None:
    # quantity and ingredient on lines of their own, a part's label between the parts
    lines = ["Muffins", "Für den Teig:", "250 g", "Mehl", "1 Pck.", "Trockenbackhefe", "Belag:", "25 g", "Butter",
             "50 g", "Schlagsahne", *STEPS]
    keep = [True] + [False] * 10 + [True, True]
    got = _revise(lines, keep)
    # from the first quantity line to the ingredient under the last one
    assert got == [True, False] + [True] * 9 + [True, True]
