"""Shortcuts of the content finder (``cleaners/finder.py``) pinned to the straightforward
computations they replace: every test here compares the fast path with a plain reference written
out in this file, exactly (the finder's outputs must not move by one bit: its probabilities are
printed in every removal's detail)."""

from __future__ import annotations

import dataclasses
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cleaners import finder, shape
from cleaners.detectors import RULE_DETECTORS
from cleaners.model import Block, Category, Document, Removal, View
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
page_line = st.tuples(st.sampled_from(SEED_LINES + AWKWARD_LINES), st.sampled_from(["\n", "\n\n"]))
# short pages, and pages long enough for the finder to run (it leaves a page of fewer than
# finder_min_blocks kept blocks alone); about half of the long ones lose blocks to it
random_page = st.one_of(
    st.lists(page_line, min_size=1, max_size=10), st.lists(page_line, min_size=30, max_size=90)
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


# --------------------------------------------------------------------------- per-document token data

# Words whose shape a careless shortcut gets wrong: an upper- or lower-case character that is no
# word character right after a word (circled letters), an uncased first letter, a word that
# lower-casing makes longer (dotted capital I), one, two and three letters.
TRICKY = ["AB ⓐ", "ab Ⓐ", "אב Ⓐ", "1Ⓐ", "İst Kİm İİİ", "Ⅻ ǅx xǅ", "a", "_x_ x_", "ΟΔΟΣ'Α", ""]


# Any characters, with the awkward ones over-represented: newlines inside a block, empty texts,
# sentence ends and closing quotes, colons, opening quotes, title case, dotted capital I (longer
# in lower case), final sigma, CJK, astral letters, a lone surrogate.
awkward_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("aZß_ǅǈİıΣσ東京かな𝐀𠀋😉.!?…。！？\"'“”»«„‚)]」 \u2003\u00a0\n:-1Ⓐ\ud800")),
        st.characters(),
    ),
    max_size=30,
)


@given(st.lists(awkward_text, min_size=1, max_size=10))
@settings(max_examples=300, deadline=None)
def test_doc_tokens_edges_of_every_block(texts: list[str]) -> None:
    blocks = tuple(Block(i, t) for i, t in enumerate(texts))
    toks = finder.DocTokens.of(blocks)
    assert toks.texts == tuple(t.replace("\n", " ") for t in texts)
    assert toks.joined == "\n".join(toks.texts)
    assert toks.cjk == (shape.ANY_CJK.search(toks.joined) is not None)
    assert toks.lengths().tolist() == [len(t) for t in texts]
    assert toks.ends_sentence().tolist() == [shape.ends_sentence(t) for t in toks.texts]
    first, last = toks.edge_classes()
    assert [bool(c & finder.LOWER) for c in first] == [t[:1].islower() for t in texts]
    assert [bool(c & finder.OPENING) or not t for c, t in zip(first, texts, strict=True)] == [
        t[:1] in "„“\"»«'‚" for t in texts
    ]
    assert [bool(c & finder.COLON) for c in last] == [t[-1:] == ":" for t in texts]
    digits, code, separators = toks.class_counts(finder.DIGIT, finder.CODE, finder.SEPARATOR)
    assert digits.tolist() == [shape.digit_count(t) for t in texts]
    assert code.tolist() == [sum(map(t.count, shape.CODE_CHARS)) for t in texts]
    assert separators.tolist() == [sum(map(t.count, "|»›•·/>«‹")) for t in texts]


@given(st.lists(st.one_of(awkward_text, st.sampled_from(TRICKY)), min_size=1, max_size=10))
@settings(max_examples=300, deadline=None)
def test_doc_tokens_words_are_the_words_of_every_block(texts: list[str]) -> None:
    """``lower`` comes from the lower-cased page where that is safe, else word by word."""
    toks = finder.DocTokens.of(tuple(Block(i, t) for i, t in enumerate(texts)))
    words = [w for t in texts for w in shape.WORD.findall(t.replace("\n", " "))]
    assert toks.tokens == words
    assert toks.lower == [w.lower() for w in words]
    assert toks.lowered == toks.joined.lower()
    assert toks.line.tolist() == [i for i, t in enumerate(texts) for _ in shape.WORD.findall(t)]


def test_lower_casing_keeps_word_characters_apart() -> None:
    """What makes the lower-cased page's words the lower-cased words: a character that lower-cases
    to one character is a word character exactly when that one is."""
    word = re.compile(r"\w")
    for code in range(sys.maxunicode + 1):
        c = chr(code)
        low = c.lower()
        if len(low) == 1:
            assert (word.match(c) is None) == (word.match(low) is None), hex(code)


def test_no_word_character_is_white_space() -> None:
    """What lets ``str.split`` cut the words out of a page whose other characters became spaces."""
    word = re.compile(r"\w")
    assert not [hex(code) for code in range(sys.maxunicode + 1)
                if chr(code).isspace() and word.match(chr(code)) is not None]
    assert chr(finder._SPACE_CODE).isspace()


def test_cjk_bit_is_what_any_cjk_matches() -> None:
    for code in range(0x30000):
        c = chr(code)
        assert bool(finder.char_bits(c) & finder.CJK) == (shape.ANY_CJK.match(c) is not None), hex(code)


@given(st.text(alphabet=st.one_of(st.sampled_from(list("ΣσςΑα'. İ")), st.characters()), max_size=30))
@settings(max_examples=500, deadline=None)
def test_lower_casing_is_per_character_but_for_capital_sigma(text: str) -> None:
    if "\u03a3" not in text:
        assert text.lower() == "".join(c.lower() for c in text)


@given(st.lists(st.text(alphabet=st.sampled_from(list("Ab.!?…。」“» \u00a0\nZ1(„x")), max_size=40),
                min_size=1, max_size=8))
@settings(max_examples=400, deadline=None)
def test_sentence_counts_where_splits_are_dense(texts: list[str]) -> None:
    """Splits at block starts and ends, next to each other, and over a newline inside a block."""
    toks = finder.DocTokens.of(tuple(Block(i, t) for i, t in enumerate(texts)))
    assert toks.sentence_counts().tolist() == [shape.sentence_count(t) for t in toks.texts]


@pytest.mark.parametrize("text", TRICKY)
def test_word_shapes_and_content_words_of_tricky_words(text: str) -> None:
    blocks = (Block(0, text), Block(1, "and " + text + " done."))
    toks = finder.DocTokens.of(blocks)
    alpha, first_upper, upper, lens = toks.word_shapes()
    assert alpha.tolist() == [w[0].isalpha() for w in toks.tokens]
    assert first_upper.tolist() == [w[0].isupper() for w in toks.tokens]
    assert upper.tolist() == [w.isupper() for w in toks.tokens]
    assert lens.tolist() == [len(w) for w in toks.tokens]
    sw = finder.stopwords("en")
    assert toks.content_words("en") == [
        {w for w in map(str.lower, shape.words(t)) if len(w) >= finder.CONTENT_WORD_MIN and w not in sw}
        for t in toks.texts
    ]


def test_lower_bit_is_what_str_islower_says() -> None:
    for code in range(0x30000):
        c = chr(code)
        assert bool(finder.char_bits(c) & finder.LOWER) == c.islower(), hex(code)


@given(st.lists(st.tuples(awkward_text, st.booleans()), min_size=1, max_size=10),
       st.sampled_from(["de", "en", "tr", ""]))
@settings(max_examples=200, deadline=None)
def test_content_words_leave_the_skipped_blocks_empty(rows: list[tuple[str, bool]], lang: str) -> None:
    texts = [t for t, _ in rows]
    toks = finder.DocTokens.of(tuple(Block(i, t) for i, t in enumerate(texts)))
    sw = finder.stopwords(lang)
    want = [
        set() if skip else
        {w for w in map(str.lower, shape.words(t)) if len(w) >= finder.CONTENT_WORD_MIN and w not in sw}
        for t, skip in rows
    ]
    assert toks.content_words(lang, skip=np.array([skip for _, skip in rows])) == want


@given(st.lists(st.integers(0, 2 ** len(finder.STOPWORD_LANGS) - 1), max_size=50))
def test_language_counts_count_every_bit(masks: list[int]) -> None:
    got = finder.language_counts(np.array(masks, dtype=np.int32)).tolist()
    assert got == [sum(1 for m in masks if m >> k & 1) for k in range(len(finder.STOPWORD_LANGS))]


# --------------------------------------------------------------------------- stage-1 and stage-2 rows


def shifted(a: np.ndarray, k: int) -> np.ndarray:
    """``a`` moved by k rows (row i gets row i - k), zeros where there is none."""
    out = np.zeros_like(a)
    for i in range(len(a)):
        if 0 <= i - k < len(a):
            out[i] = a[i - k]
    return out


def window_mean(values: np.ndarray, w: int) -> np.ndarray:
    """Mean of ``values`` over the w blocks on each side, the block itself left out (from prefix
    sums, as the finder's model was trained)."""
    n = len(values)
    pref = np.concatenate(([0.0], np.cumsum(values)))
    out = np.zeros(n)
    for i in range(n):
        lo, hi = max(0, i - w), min(n, i + w + 1)
        out[i] = (pref[hi] - pref[lo] - values[i]) / max(hi - lo - 1, 1)
    return out


def nearest(i: int, marked: list[int], n: int) -> float:
    """Blocks from i to the nearest marked block; with none marked, n + the steps to the nearer end
    and one beyond it."""
    return float(min([abs(i - j) for j in marked], default=n + min(i + 1, n - i)))


def reference_features(view: View, lang: str) -> np.ndarray:
    """Stage-1 rows, one column at a time: the block-shape features (pinned to per-block string
    methods in tests/test_finder_features.py), then buckets, context and neighbours."""
    blocks = view.doc.blocks
    n = len(blocks)
    toks = finder.DocTokens.of(blocks)
    keys = [b.key for b in blocks]
    dup = np.array([keys.count(k) - 1 for k in keys], dtype=np.float64)
    rule_hit = np.array([float(view.is_removed(i)) for i in range(n)])
    base = np.array(finder._base_rows(blocks, toks, lang, dup, rule_hit, DEFAULT))
    prose = base[:, finder._BASE.index("prose")]
    rule = base[:, finder._BASE.index("rule_hit")]
    chars = np.array([len(b.text) for b in blocks], dtype=np.float64)
    buckets = np.zeros((n, len(finder.LENGTH_EDGES) + 1))
    for i, c in enumerate(chars):
        buckets[i, sum(1 for e in finder.LENGTH_EDGES if c > e)] = 1.0
    mass = np.where(prose > 0, chars, 0.0)
    total = mass.sum() or 1.0
    before = (np.cumsum(mass) - mass) / total
    after = 1.0 - before - mass / total
    prose_at = [i for i in range(n) if prose[i] > 0]
    first, last = (prose_at[0], prose_at[-1]) if prose_at else (n, -1)
    dist = [nearest(i, prose_at, n) for i in range(n)]
    groups = [b.group for b in blocks]
    idx = np.arange(n)
    context = np.column_stack([
        idx / max(n - 1, 1),
        [float(first <= i <= last) for i in range(n)],
        np.minimum(before, after),
        before,
        after,
        np.log1p(np.array(dist, dtype=np.float64)),
        np.log1p(np.array([groups.count(g) for g in groups], dtype=np.float64)),
    ])
    nb = base[:, [finder._BASE.index(name) for name in
                  ("len_log", "ends_sentence", "stop_density", "bullet", "rule_hit", "prose", "titlecase")]]
    return np.hstack([
        base, buckets, context,
        np.column_stack([window_mean(prose, w) for w in finder.WINDOWS]),
        np.column_stack([window_mean(rule, w) for w in finder.WINDOWS]),
        shifted(nb, 1), shifted(nb, -1), shifted(nb, 2), shifted(nb, -2),
    ])


def reference_revise(rows: np.ndarray, z1: np.ndarray, removed: list[bool], texts: list[str], lang: str) -> np.ndarray:
    """Stage-2 rows, one column at a time, cohesion from per-block word sets, then the stage-1 rows."""
    n = len(z1)
    zc = np.clip(z1, -finder.Z_CLIP, finder.Z_CLIP)
    p1 = np.where(np.array(removed, dtype=bool), 0.0, 1 / (1 + np.exp(-zc)))
    conf = [bool(p >= finder.CONFIDENT_P) for p in p1]
    conf_at = [i for i in range(n) if conf[i]]
    first, last = (conf_at[0], conf_at[-1]) if conf_at else (n, -1)
    n_conf = len(conf_at) or 1
    # clusters of confident blocks less than CORE_GAP + 1 apart; the core holds the most text
    clusters: list[list[int]] = []
    for i in conf_at:
        if clusters and i - clusters[-1][-1] <= finder.CORE_GAP:
            clusters[-1].append(i)
        else:
            clusters.append([i])
    core = (n, -1)
    best = -1
    for cluster in clusters:
        mass = sum(len(texts[i]) for i in cluster)
        if mass > best:
            best, core = mass, (cluster[0], cluster[-1])
    sw = finder.stopwords(lang)
    words = [
        {w for w in map(str.lower, shape.words(t)) if len(w) >= finder.CONTENT_WORD_MIN and w not in sw}
        if conf[i] or not removed[i] else set()
        for i, t in enumerate(texts)
    ]
    cohesion, no_words = [], []
    for i, ws in enumerate(words):
        others = set().union(*(words[j] for j in conf_at if j != i))
        cohesion.append(len(ws & others) / len(ws) if ws else 0.0)
        no_words.append(float(not ws))
    p1c = p1[:, None]
    dist = [nearest(i, conf_at, n) for i in range(n)]
    core_dist = [0 if core[0] <= i <= core[1] else core[0] - i if i < core[0] else i - core[1] for i in range(n)]
    return np.column_stack([
        zc,
        shifted(p1c, 1)[:, 0],
        shifted(p1c, -1)[:, 0],
        np.maximum.reduce([shifted(p1c, k)[:, 0] for k in (1, 2, 3, -1, -2, -3)]),
        *(window_mean(p1, w) for w in finder.REVISE_WINDOWS),
        [float(first <= i <= last) for i in range(n)],
        np.log1p(np.array(dist, dtype=np.float64)),
        [sum(conf[:i]) / n_conf for i in range(n)],
        [sum(conf[i + 1 :]) / n_conf for i in range(n)],
        cohesion,
        no_words,
        [float(core[0] <= i <= core[1]) for i in range(n)],
        np.log1p(np.array(core_dist, dtype=np.float64)),
        [float(i < core[0]) for i in range(n)],
        [float(i > core[1]) for i in range(n)],
        *reference_page_relative(zc, removed, texts, core),
        rows,  # and the block's whole stage-1 row
    ])


def reference_page_relative(zc: np.ndarray, removed: list[bool], texts: list[str],
                            core: tuple[int, int]) -> list[list[float]]:
    """``finder.page_relative`` block by block: rank among the leftovers, log-odds against the
    core's median, characters of leftovers between block and core, the core's share."""
    n = len(texts)
    live = [float(zc[i]) for i in range(n) if not removed[i]] or [0.0]
    core_z = sorted(float(zc[i]) for i in range(n) if core[0] <= i <= core[1] and not removed[i])
    mid = len(core_z) // 2
    centre = (core_z[mid] if len(core_z) % 2 else (core_z[mid - 1] + core_z[mid]) / 2) if core_z else max(live)

    def between(i: int) -> float:
        if core[0] > core[1]:
            span = range(n)
        else:
            span = range(i + 1, core[0]) if i < core[0] else range(core[1] + 1, i) if i > core[1] else range(0)
        return float(sum(len(texts[j]) for j in span if not removed[j]))

    share = len(core_z) / max(1, sum(not r for r in removed))
    return [
        [sum(v <= zc[i] for v in live) / len(live) for i in range(n)],
        [float(zc[i]) - centre for i in range(n)],
        [math.log1p(between(i)) for i in range(n)],
        [share] * n,
    ]


def reference_block_scores(view: View) -> tuple[np.ndarray, list[float]]:
    model = finder.load_model()
    blocks = view.doc.blocks
    lang = finder.page_language(blocks)
    rows = reference_features(view, lang)
    z1 = model.stage1.scores(rows)
    removed = [view.is_removed(i) for i in range(len(blocks))]
    z2 = model.stage2.scores(reference_revise(rows, z1, removed, [b.text for b in blocks], lang))
    return rows, [float(z) for z in z2]


def same_scores(view: View) -> None:
    rows, z = finder.block_scores(view, DEFAULT, finder.load_model())
    want_rows, want_z = reference_block_scores(view)
    assert rows.flags.c_contiguous and rows.dtype == np.float64
    assert rows.tobytes() == want_rows.tobytes()  # bit for bit (0.0 and -0.0 apart)
    assert all(type(x) is float for x in z) and z == want_z


def test_block_scores_on_real_pages() -> None:
    for view in page_views():
        same_scores(view)


@given(random_page)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_block_scores_on_random_pages(text: str) -> None:
    view = rules_view(text)
    if view.doc.blocks:
        same_scores(view)


# --------------------------------------------------------------------------- the whole detector


def reference_detect_non_article(view: View, settings_: Settings) -> list[Removal]:
    """``finder.detect_non_article`` written out block by block."""
    kept = view.kept_indices()
    if len(kept) < settings_.finder_min_blocks:
        return []
    model = finder.load_model()
    rows, z_all = finder.block_scores(view, settings_, model)
    z = [z_all[i] + model.threshold_shift for i in kept]
    # length weights: each block's word count over the page's geometric mean, to the model's power
    logs = [math.log(max(view.doc.blocks[i].n_words, 1)) for i in kept]
    mean_log = sum(logs) / len(logs)
    weighted = [zi * math.exp(model.length_power * (lg - mean_log)) for zi, lg in zip(z, logs, strict=True)]
    keep = finder.viterbi(weighted, model.switch_penalty)
    if not any(keep):
        return []
    # the lead: above the first kept block, each long block the model doubts less than the
    # settings' bound joins, and at most lead_max_skip short ones in a row are passed over
    j, skipped = keep.index(True) - 1, 0
    while j >= 0:
        if view.doc.blocks[kept[j]].n_words >= settings_.lead_min_words:
            if z[j] <= settings_.lead_min_z:
                break
            keep[j], skipped = True, 0
        elif skipped < settings_.lead_max_skip:
            skipped += 1
        else:
            break
        j -= 1
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
