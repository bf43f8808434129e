"""Main-content finder for text dumps of pages no rule has seen.

Two passes, as jusText does, with features a text dump still carries:

1. *classify*: every block gets a probability of being article text from a small model (logistic
   regression; the code also scores nets and trees, see ``Scorer``) over its shape (length, sentence
   end, stop-word density in the page's language, title-case share, code punctuation, list
   marker, ...) and its context (position, prose density around it, neighbours' shape, whether a
   phrase rule fired next to it, how often the line repeats on the page);
2. *revise*: a second model (boosted oblivious trees; see ``Trees``) scores every block again
   from the first pass's probabilities around it and where it stands against the rest of its
   page (``page_relative``), then a two-state Viterbi pass over the block
   sequence (article / boilerplate), with a price for every switch and each block's log-odds
   weighted by its length (``length_weights``), makes short blocks follow their neighbours, so
   the article comes out as one or a few contiguous regions; what lies before the
   first and after the last article block is head and tail chrome. A long block just above the
   region that the model rates near its threshold (a dek, a lead set apart by a video box) is then
   taken back as the lead, and headline-shaped blocks between article blocks as subheadings.

The model is a small JSON file (``cleaners/data/finder_model.json``) built by
``python -m benchmarks.train_finder`` from the dev set only; every removal it makes still names
its reason (region and the features that weighed most).
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import operator
import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from cleaners import shape
from cleaners.model import Block, Category, Removal, View
from cleaners.patterns import PatternSet
from cleaners.settings import Settings

_SEPARATORS = frozenset("|»›•·/>«‹")
_URLISH = re.compile(r"https?://|www\.|\S@\S|\.(?:com|de|org|net)\b", re.IGNORECASE)

# Language codes with a stop-word list in cleaners/data/stopwords/.
STOPWORD_LANGS = ("de", "en", "es", "fr", "pl", "pt", "it", "nl", "sv", "da", "cs", "ru", "tr", "ar", "no",
                  "fi", "hu", "ro")
# Length buckets (chars) for a piecewise feature: jusText's length_low/length_high are 70 and 200.
LENGTH_EDGES = (20, 40, 70, 120, 200, 400)
# Context windows (blocks on each side) for the local prose density features.
WINDOWS = (2, 5, 12)


@lru_cache(maxsize=len(STOPWORD_LANGS))
def stopwords(lang: str) -> frozenset[str]:
    if lang not in STOPWORD_LANGS:
        return frozenset()
    text = (resources.files("cleaners.data") / "stopwords" / f"{lang}.txt").read_text(encoding="utf-8")
    return frozenset(w for w in text.split("\n") if w and not w.startswith("#"))


@dataclass(frozen=True, slots=True, eq=False)
class Linear:
    names: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float

    @property
    def vector(self) -> NDArray[np.float64]:
        return _as_vector(self.weights)

    def scores(self, rows: NDArray[np.float64]) -> NDArray[np.float64]:
        """Log-odds of every row at once."""
        if len(rows) == 0:
            return np.zeros(0)
        return np.asarray(rows @ self.vector + self.bias, dtype=np.float64)

    def contributions(self, rows: NDArray[np.float64]) -> NDArray[np.float64]:
        """Per row and feature, how much the feature added to the log-odds."""
        return rows * self.vector


@lru_cache(maxsize=8)
def _as_vector(weights: tuple[float, ...]) -> NDArray[np.float64]:
    v = np.array(weights, dtype=np.float64)
    v.setflags(write=False)
    return v


@dataclass(frozen=True, slots=True, eq=False)
class MLP:
    """One hidden layer of rectified units over the raw features: ``relu(x @ w1 + b1) @ w2 + b2``.

    The training standardisation is folded into ``w1``/``b1``; ``mean`` (the training mean of every
    feature) is kept to explain a score: a feature's contribution is its gradient times its
    distance from that mean, so an average value explains nothing. Its products go through BLAS:
    OpenBLAS threads on them cost ~3 ms/page of CPU on the 2-core dev VM, so a process running
    the engine with nets should limit BLAS to one thread (e.g. ``threadpoolctl``).
    """

    names: tuple[str, ...]
    mean: NDArray[np.float64]
    w1: NDArray[np.float64]  # features x hidden
    b1: NDArray[np.float64]
    w2: NDArray[np.float64]  # hidden
    b2: float

    def _hidden(self, rows: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(rows @ self.w1 + self.b1, dtype=np.float64)

    def scores(self, rows: NDArray[np.float64]) -> NDArray[np.float64]:
        """Log-odds of every row at once."""
        if len(rows) == 0:
            return np.zeros(0)
        return np.asarray(np.maximum(self._hidden(rows), 0.0) @ self.w2 + self.b2, dtype=np.float64)

    def contributions(self, rows: NDArray[np.float64]) -> NDArray[np.float64]:
        """Per row and feature, gradient x (value - training mean): the local linear explanation."""
        if len(rows) == 0:
            return np.zeros((0, len(self.names)))
        active = self._hidden(rows) > 0.0
        grad = (active * self.w2) @ self.w1.T
        return np.asarray(grad * (rows - self.mean), dtype=np.float64)


# Rows ``Trees`` scores at once, so its working arrays stay small whatever the page (the shipped
# stage 2 gathers 216 distinct questions x 256 rows x 8 bytes = 0.4 MB per chunk; a 6,000-block
# page in one piece would need 10 MB).
TREE_CHUNK = 256
# Deepest oblivious tree ``Trees`` scores (its leaf numbers are built in one byte).
MAX_TREE_DEPTH = 8


@dataclass(frozen=True, slots=True, eq=False)
class Trees:
    """Boosted *oblivious* trees (``benchmarks/gbdt.py`` fits them): every node on a level of a tree
    asks the same question, ``x[feature] > threshold``, so a tree of depth ``d`` is ``d`` such pairs
    and ``2**d`` leaf values, and the leaf a row lands in is the number whose bit ``k`` is the
    answer on level ``k``. The log-odds are ``base`` plus each tree's leaf value; all trees are
    scored at once (one column gather, one comparison, one lookup). Past the last threshold seen in
    training a feature changes nothing, so a tree never extrapolates.

    ``weights`` is the training (hessian) mass of every leaf, which gives every inner node its
    mean value: a feature's contribution to a row is, summed over the levels that test it, the
    change from a node's mean to the mean of the child the row goes to (Saabas' path
    attribution), so the contributions add up to the score minus the trees' mean."""

    names: tuple[str, ...]
    base: float
    features: NDArray[np.intp]  # trees x depth
    thresholds: NDArray[np.float64]  # trees x depth
    values: NDArray[np.float64]  # trees x 2**depth
    weights: NDArray[np.float64]  # trees x 2**depth

    # For scoring: the distinct (feature, threshold) questions (trees share most: the shipped
    # stage 2 asks 216 distinct ones in 600 places), and for every level and tree, which one it
    # asks, level-major so that a level's answers for all trees are one contiguous slice.
    _question_features: NDArray[np.intp] = field(init=False, repr=False)
    _question_thresholds: NDArray[np.float64] = field(init=False, repr=False)
    _asked: NDArray[np.intp] = field(init=False, repr=False)
    _offsets: NDArray[np.intp] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n_trees, depth = self.features.shape
        level_major = np.stack([self.features.T.ravel().astype(np.float64), self.thresholds.T.ravel()], axis=1)
        questions, asked = np.unique(level_major, axis=0, return_inverse=True)
        object.__setattr__(self, "_question_features", questions[:, 0].astype(np.intp))
        object.__setattr__(self, "_question_thresholds", questions[:, 1:2].copy())
        object.__setattr__(self, "_asked", np.asarray(asked, dtype=np.intp).ravel())
        object.__setattr__(self, "_offsets", (np.arange(n_trees, dtype=np.intp) * (1 << depth))[:, None])

    def _leaves(self, rows: NDArray[np.float64]) -> NDArray[np.intp]:
        """Flat index into ``values`` of every (tree, row) pair: trees x rows."""
        n_trees = len(self.features)
        # each distinct question once, on rows of the transposed matrix (a contiguous copy each),
        # then its answers (bytes) copied to every place that asks it
        answered = np.greater(rows.T[self._question_features], self._question_thresholds).view(np.uint8)
        answers = answered[self._asked]
        leaves = answers[:n_trees] + self._offsets
        for level in range(1, self.features.shape[1]):
            leaves += answers[level * n_trees : (level + 1) * n_trees] << level
        return leaves

    def scores(self, rows: NDArray[np.float64]) -> NDArray[np.float64]:
        """Log-odds of every row, TREE_CHUNK rows at a time."""
        out = np.empty(len(rows))
        for at in range(0, len(rows), TREE_CHUNK):
            chunk = rows[at : at + TREE_CHUNK]
            out[at : at + TREE_CHUNK] = self.base + np.take(self.values, self._leaves(chunk)).sum(axis=0)
        return out

    def contributions(self, rows: NDArray[np.float64]) -> NDArray[np.float64]:
        """Per row and feature, the change in node means along the row's paths (see the class)."""
        out = np.zeros((len(rows), len(self.names)))
        if len(rows) == 0:
            return out
        n_trees, depth = self.features.shape
        leaves = (self._leaves(rows) - self._offsets).T  # rows x trees, leaf number within its tree
        at = np.arange(n_trees)
        # a node on level k holds the leaves sharing their low k bits (the answers so far)
        means = [_node_means(self.values, self.weights, level) for level in range(depth + 1)]
        for level in range(depth):
            parent, child = means[level], means[level + 1]
            step = child[at, leaves & ((2 << level) - 1)] - parent[at, leaves & ((1 << level) - 1)]
            np.add.at(out, (np.arange(len(rows))[:, None], self.features[None, :, level]), step)
        return out


def _node_means(values: NDArray[np.float64], weights: NDArray[np.float64], level: int) -> NDArray[np.float64]:
    """Mass-weighted mean leaf value of every node on ``level`` (trees x 2**level): node ``j`` holds
    the leaves whose low ``level`` bits are ``j``."""
    n_trees = len(values)
    # leaf = high * 2**level + low: summing over ``high`` groups the leaves of node ``low``
    total = (values * weights).reshape(n_trees, -1, 1 << level).sum(axis=1)
    mass = weights.reshape(n_trees, -1, 1 << level).sum(axis=1)
    return np.asarray(np.divide(total, mass, out=np.zeros_like(total), where=mass > 0), dtype=np.float64)


Scorer = Linear | MLP | Trees


def _frozen(values: Any) -> NDArray[np.float64]:
    a = np.array(values, dtype=np.float64)
    a.setflags(write=False)
    return a


def _frozen_int(values: Any) -> NDArray[np.intp]:
    a = np.array(values, dtype=np.intp)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, slots=True)
class FinderModel:
    stage1: Scorer
    stage2: Scorer
    switch_penalty: float
    threshold_shift: float
    version: str
    # the exponent of the length weights in the Viterbi pass (``length_weights``); 0 weighs every
    # block alike (model files from before the weights)
    length_power: float = 0.0


@lru_cache(maxsize=1)
def load_model() -> FinderModel:
    raw = json.loads((resources.files("cleaners.data") / "finder_model.json").read_text(encoding="utf-8"))
    return model_from_dict(raw)


def scorer_from_dict(raw: dict[str, Any], names: tuple[str, ...]) -> Scorer:
    """A stage of the model: ``{"kind": "linear", "weights", "bias"}``, ``{"kind": "mlp", "mean",
    "w1", "b1", "w2", "b2"}`` or ``{"kind": "trees", "base", "split_features", "thresholds",
    "values", "leaf_weights"}``, each with the ``features`` it was built for."""
    got = tuple(str(n) for n in raw["features"])
    if got != names:
        raise ValueError("finder_model.json was built for other features; rebuild it with benchmarks.train_finder")
    kind = raw.get("kind", "linear")
    if kind == "linear":
        return Linear(names, tuple(float(w) for w in raw["weights"]), float(raw["bias"]))
    if kind == "mlp":
        mlp = MLP(names, _frozen(raw["mean"]), _frozen(raw["w1"]), _frozen(raw["b1"]), _frozen(raw["w2"]),
                  float(raw["b2"]))
        if mlp.w1.shape != (len(names), len(mlp.b1)) or mlp.w2.shape != mlp.b1.shape or mlp.mean.shape != (len(names),):
            raise ValueError("finder_model.json: MLP weight shapes do not fit its features")
        return mlp
    if kind == "trees":
        split, thresholds = _frozen_int(raw["split_features"]), _frozen(raw["thresholds"])
        values, weights = _frozen(raw["values"]), _frozen(raw["leaf_weights"])
        n_trees, depth = split.shape if split.ndim == 2 else (0, 0)
        # (a leaf number is built in one byte: at most MAX_TREE_DEPTH levels)
        if (not n_trees or not 1 <= depth <= MAX_TREE_DEPTH or thresholds.shape != split.shape
                or values.shape != (n_trees, 1 << depth) or weights.shape != values.shape
                or split.min() < 0 or split.max() >= len(names)):
            raise ValueError("finder_model.json: tree shapes do not fit its features")
        return Trees(names, float(raw["base"]), split, thresholds, values, weights)
    raise ValueError(f"finder_model.json: unknown stage kind {kind!r}")


def model_from_dict(raw: dict[str, Any]) -> FinderModel:
    return FinderModel(
        stage1=scorer_from_dict(raw["stage1"], FEATURE_NAMES),
        stage2=scorer_from_dict(raw["stage2"], REVISE_NAMES),
        switch_penalty=float(raw["switch_penalty"]),
        threshold_shift=float(raw["threshold_shift"]),
        version=str(raw.get("version", "")),
        length_power=float(raw.get("length_power", 0.0)),
    )


# --------------------------------------------------------------------------- features

_BASE = (
    "len_log", "words_log", "ends_sentence", "ends_colon", "stop_density", "stop_log", "titlecase",
    "digits", "code", "separators", "bullet", "sentences_log", "avg_word_len", "allcaps", "lower_start",
    "quote_start", "urlish", "prose", "dup_log", "rule_hit", "prose_x_len", "stop_x_len", "sentence_x_len",
)
_LEN_BUCKETS = (*(f"len_le_{e}" for e in LENGTH_EDGES), "len_gt_max")
_CONTEXT = (
    "rel_pos", "in_region", "edge_mass", "before_mass", "after_mass", "near_prose_log", "group_log",
    *(f"density_{w}" for w in WINDOWS),
    *(f"rule_density_{w}" for w in WINDOWS),
)
_NEIGHBOURS = tuple(
    f"{side}_{name}"
    for side in ("p1", "n1", "p2", "n2")
    for name in ("len_log", "ends_sentence", "stop_density", "bullet", "rule_hit", "prose", "titlecase")
)
FEATURE_NAMES: tuple[str, ...] = _BASE + _LEN_BUCKETS + _CONTEXT + _NEIGHBOURS

# Stage 2 ("revise"): each block again, from the stage-1 probabilities around it, and with the
# block's whole stage-1 row. Stage 1 is linear (its weights name the reasons of a finder removal)
# and can only add its features up; stage 2's trees combine them (a short line is chrome in a
# menu run and a subheading between two paragraphs). With a few of the block's own features
# (length, sentence end, prose, bullet, stop words) in place of the whole row, out of fold over
# three fold orders, with* at equal w/o* (.83) was .942 against .955 with the whole row and the
# leaf minimum of ``benchmarks.train_finder.TREES``, at F1 .929 against .922.
# A stage-1 probability this high marks a block the revision pass trusts as article text.
CONFIDENT_P = 0.8
REVISE_WINDOWS = (1, 2, 5, 12)
_REVISE_OWN: tuple[str, ...] = (
    "z1", "p1_prev", "p1_next", "p1_max3",
    *(f"p1_mean_{w}" for w in REVISE_WINDOWS),
    "model_region", "near_confident_log", "confident_before", "confident_after",
    "cohesion", "no_content_words", "in_core", "core_dist_log", "before_core", "after_core",
    "z1_rank", "z1_rel_core", "core_gap_log", "core_share",
)
REVISE_NAMES: tuple[str, ...] = _REVISE_OWN + FEATURE_NAMES
# Confident blocks closer than this (in blocks) belong to one cluster; the cluster with the most
# text is the article core (teaser lists and comment threads form smaller clusters).
CORE_GAP = 4
# Content words for cohesion: at least this many characters and not a stop word.
CONTENT_WORD_MIN = 4
# The neighbours whose stage-1 probability ``p1_max3`` takes the largest of (k blocks before, -k after).
_MAX3_STEPS = (1, 2, 3, -1, -2, -3)
# Stage-1 log-odds are clipped to this range before they feed stage 2 (keeps one extreme block
# from dominating its window).
Z_CLIP = 8.0


# Blocks sampled to guess the page's stop-word language (the article is rarely further down).
LANGUAGE_SAMPLE_BLOCKS = 400

# Words of the whole document in one regex pass over the blocks joined by newlines; the blocks'
# word counts (``Block.n_words``, the same WORD tokenisation per block) say which block every
# word belongs to. One pass over ~1,900 words with C-level map/bincount replaced ~15 Python-level
# calls per block (measured: 3.8 -> ~2 ms/page).
_NEWLINE = ord("\n")
_SPACE_CODE = ord(" ")
# Without kana or CJK ideographs shape.WORD is plain \w+, which Python's re scans ~35 % faster.
_PLAIN_WORD = re.compile(r"\w+")
# The one character whose lower case depends on its neighbours (final sigma).
_CAPITAL_SIGMA = "\u03a3"
# Characters a block starting with which counts as a quotation (the ``quote_start`` feature).
_QUOTE_START = "„“\"»«'‚"
# Character classes, as bits of one lookup table over the Basic Multilingual Plane (the few
# characters above it are classified one by one). The first five are counted per block; WORD_CHAR
# is what ``\w`` matches, the case bits are what ``str.isupper`` of a word reads (a word is upper
# case when it has an UPPER character and no LOWER_OR_TITLE one). LOWER (``str.islower``),
# OPENING (``_QUOTE_START``) and COLON are read at the first or last character of a block; CJK is
# what ``shape.ANY_CJK`` matches.
DIGIT, CODE, SEPARATOR, TERMINAL, CLOSING = 1, 2, 4, 8, 16
SPACE, WORD_CHAR, ALPHA, UPPER, LOWER_OR_TITLE = 32, 64, 128, 256, 512
LOWER, OPENING, COLON, CJK = 1024, 2048, 4096, 8192
_BMP = 0xFFFF
_FIXED_CLASSES = ((DIGIT, "0123456789"), (CODE, shape.CODE_CHARS), (SEPARATOR, _SEPARATORS),
                  (TERMINAL, shape.SENTENCE_END_CHARS), (CLOSING, shape.CLOSING_CHARS),
                  (OPENING, _QUOTE_START), (COLON, ":"))


def char_bits(c: str) -> int:
    """The class bits of one character."""
    bits = 0
    for bit, chars in _FIXED_CLASSES:
        if c in chars:
            bits |= bit
    if c.isspace():
        bits |= SPACE
    if c.isalnum() or c == "_":
        bits |= WORD_CHAR
    if c.isalpha():
        bits |= ALPHA
    if c.isupper():  # for one character: it is an upper-case letter
        bits |= UPPER
    if c.islower() or (c.istitle() and not c.isupper()):  # lower case, or title case (e.g. 'ǅ')
        bits |= LOWER_OR_TITLE
    if c.islower():
        bits |= LOWER
    if shape.ANY_CJK.match(c):
        bits |= CJK
    return bits


@lru_cache(maxsize=1)
def _class_table() -> NDArray[np.uint16]:
    """``char_bits`` of every BMP character (each predicate mapped over all of them at C level:
    ~30 ms once, against ~300 ms for 65,536 calls of ``char_bits``)."""
    chars = list(map(chr, range(_BMP + 1)))

    def where(test: Any) -> NDArray[np.bool_]:
        return np.fromiter(map(test, chars), dtype=bool, count=len(chars))

    table = np.zeros(_BMP + 1, dtype=np.uint16)
    for bit, members in _FIXED_CLASSES:
        table[[ord(c) for c in members]] |= bit
    upper = where(str.isupper)
    table[where(str.isspace)] |= SPACE
    table[where(str.isalnum)] |= WORD_CHAR
    table[ord("_")] |= WORD_CHAR
    table[where(str.isalpha)] |= ALPHA
    table[upper] |= UPPER
    lower = where(str.islower)
    table[lower | (where(str.istitle) & ~upper)] |= LOWER_OR_TITLE
    table[lower] |= LOWER
    table[where(shape.ANY_CJK.match)] |= CJK
    table.setflags(write=False)
    return table


def _char_classes(codes: NDArray[np.uint32]) -> NDArray[np.uint16]:
    out = _class_table()[np.minimum(codes, _BMP)]
    astral = np.flatnonzero(codes > _BMP)
    if len(astral):
        out[astral] = [char_bits(chr(c)) for c in codes[astral].tolist()]
    return out


# Literals (lower case) of which every _URLISH match holds one: blocks without any skip the regex.
_URLISH_HINTS = ("http", "www.", "@", ".com", ".de", ".org", ".net")
_first_char = operator.itemgetter(0)
_TEXT = operator.attrgetter("text")
_N_WORDS = operator.attrgetter("n_words")
_KEY = operator.attrgetter("key")
_GROUP = operator.attrgetter("group")
_BULLET = operator.attrgetter("bullet")


@lru_cache(maxsize=1)
def _stop_bits() -> dict[str, int]:
    """word -> bit mask of the languages whose stop-word list has it (bit k: STOPWORD_LANGS[k])."""
    bits: dict[str, int] = {}
    for k, lang in enumerate(STOPWORD_LANGS):
        for w in stopwords(lang):
            bits[w] = bits.get(w, 0) | (1 << k)
    return bits


_LANG_BIT = {lang: 1 << k for k, lang in enumerate(STOPWORD_LANGS)}


@dataclass(frozen=True, slots=True, eq=False)
class DocTokens:
    """The words of a document's blocks, tokenised once and shared by every finder feature.

    ``lower`` holds the lower-cased words of block 0, then those of block 1, ... (``shape.WORD``
    tokens); ``line`` gives the block of every word; ``tokens`` the words as they stand.
    """

    texts: tuple[str, ...]
    joined: str
    lowered: str  # ``joined.lower()``
    lower: list[str]
    line: NDArray[np.int64]
    # per character of ``joined``: its class bits and its block
    char_class: NDArray[np.uint16]
    char_line: NDArray[np.int64]
    starts: NDArray[np.int64]  # per block, the offset in ``joined`` of its first character
    ends: NDArray[np.int64]  # per block, the offset in ``joined`` just past its text
    cjk: bool  # the text holds kana or CJK ideographs (tokens are shape.WORD's, not runs of \w)
    # per-document results several features read (the stop-word bits of every word: the page
    # language, the block features and stage 2 all need them), computed on first use
    _memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, blocks: Sequence[Block]) -> DocTokens:
        texts = tuple(map(_TEXT, blocks))
        joined = "\n".join(texts)
        if joined.count("\n") != len(texts) - 1:  # a text holds a newline: make every block one line
            texts = tuple(t.replace("\n", " ") for t in texts)
            joined = "\n".join(texts)
        codes = np.frombuffer(joined.encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32)
        char_class = _char_classes(codes)
        cjk = bool(np.any(char_class & CJK))
        lowered = joined.lower()
        memo: dict[str, Any] = {}
        if not cjk and len(lowered) == len(joined) and _CAPITAL_SIGMA not in joined:
            # every character lower-cases to one, on its own (only a capital sigma looks at its
            # neighbours), and never into or out of \w (tested), so the words are the runs of \w
            # of the lower-cased page: with every other character made a space (no \w character
            # is one), ``str.split`` cuts them out (~2x faster than a findall of \w+)
            low_codes = np.frombuffer(lowered.encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32)
            spaced = np.where((char_class & WORD_CHAR) != 0, low_codes, np.uint32(_SPACE_CODE))
            lower = spaced.tobytes().decode("utf-32-le", errors="surrogatepass").split()
        else:
            tokens = memo["tokens"] = (shape.WORD if cjk else _PLAIN_WORD).findall(joined)
            lower = list(map(str.lower, tokens))
        counts = list(map(_N_WORDS, blocks))
        if sum(counts) != len(lower):  # blocks built with a word count of their own: count here
            counts = [len(shape.WORD.findall(t)) for t in texts]
        newline = codes == _NEWLINE
        breaks = np.flatnonzero(newline)
        return cls(texts, joined, lowered, lower,
                   np.repeat(np.arange(len(texts)), counts), char_class, np.cumsum(newline),
                   np.concatenate(([0], breaks + 1)), np.append(breaks, len(codes)), cjk, memo)

    @property
    def tokens(self) -> list[str]:
        """The words as they stand in the text (found again on first use where ``of`` did not
        need them: only the fallbacks for CJK text read them)."""
        tokens: list[str] | None = self._memo.get("tokens")
        if tokens is None:
            tokens = self._memo["tokens"] = _PLAIN_WORD.findall(self.joined)
        return tokens

    def per_block(self, flags: NDArray[np.bool_] | NDArray[np.float64] | None = None) -> NDArray[np.float64]:
        """Per block, the number of words (or the sum of ``flags`` over its words)."""
        n = len(self.texts)
        if flags is None:
            return np.bincount(self.line, minlength=n).astype(np.float64)
        weights = np.asarray(flags, dtype=np.float64)
        return np.asarray(np.bincount(self.line, weights=weights, minlength=n), dtype=np.float64)

    def flags(self, test: Any, source: list[str] | None = None) -> NDArray[np.bool_]:
        src = self.tokens if source is None else source
        return np.array(list(map(test, src)), dtype=bool)

    def stop_bits(self) -> NDArray[np.int32]:
        """Per word, the bit mask (bit k: STOPWORD_LANGS[k]) of the stop-word lists holding it."""
        bits: NDArray[np.int32] | None = self._memo.get("stop_bits")
        if bits is None:
            get = _stop_bits().get
            bits = self._memo["stop_bits"] = np.fromiter(
                map(get, self.lower, itertools.repeat(0)), dtype=np.int32, count=len(self.lower)
            )
        return bits

    def is_stop(self, lang: str) -> NDArray[np.bool_]:
        """Per word, whether its lower-cased form is a stop word of ``lang`` (none for a language
        without a list)."""
        bit = _LANG_BIT.get(lang, 0)
        return np.asarray((self.stop_bits() & bit) != 0, dtype=bool)

    def content_words(self, lang: str, skip: NDArray[np.bool_] | None = None) -> list[set[str]]:
        """Per block, the set of its lower-cased words that are content words: at least
        CONTENT_WORD_MIN characters and not a stop word of ``lang`` (an empty set for the blocks
        ``skip`` marks)."""
        low = self.lower
        lens = self.word_shapes()[3]
        # where lower-casing keeps the text's length, it maps every character to one (it never
        # drops one), so every word keeps its length
        if len(self.lowered) != len(self.joined):
            lens = np.fromiter(map(len, low), dtype=np.float64, count=len(low))
        keep = (lens >= CONTENT_WORD_MIN) & ~self.is_stop(lang)
        if skip is not None:
            keep &= ~skip[self.line]
        words = list(itertools.compress(low, keep.tolist()))
        # the kept words are in block order: block k's are those from its first index to the next's
        bounds = np.searchsorted(self.line[keep], np.arange(len(self.texts) + 1)).tolist()
        return list(map(set, map(words.__getitem__, map(slice, bounds[:-1], bounds[1:]))))

    def lengths(self) -> NDArray[np.float64]:
        """Per block, ``len`` of its text (the utf-32 encoding has one code unit per character)."""
        return np.asarray(self.ends[: len(self.texts)] - self.starts[: len(self.texts)], dtype=np.float64)

    def edge_classes(self) -> tuple[NDArray[np.uint16], NDArray[np.uint16]]:
        """Per block, the class bits of its first and of its last character (0 for an empty text)."""
        n = len(self.texts)
        cls = self.char_class
        if len(cls) == 0:
            none = np.zeros(n, dtype=np.uint16)
            return none, none
        starts, ends = self.starts[:n], self.ends[:n]
        empty = starts == ends
        # (an empty block's offsets may lie past the text: they are clipped, and the class zeroed)
        first = np.where(empty, 0, cls[np.minimum(starts, len(cls) - 1)])
        last = np.where(empty, 0, cls[ends - 1])
        return first.astype(np.uint16), last.astype(np.uint16)

    def ends_sentence(self) -> NDArray[np.bool_]:
        """Per block, ``shape.ends_sentence`` of its text: its last character that is no closing
        quote or bracket is a sentence end. Most blocks end in neither, so their last character
        says it; the few that end in a closing one are walked back."""
        _, last = self.edge_classes()
        out: NDArray[np.bool_] = np.asarray((last & TERMINAL) != 0, dtype=bool)
        cls = self.char_class
        for k in np.flatnonzero(last & CLOSING).tolist():
            start, at = int(self.starts[k]), int(self.ends[k]) - 1
            while at >= start and cls[at] & CLOSING:
                at -= 1
            out[k] = at >= start and bool(cls[at] & TERMINAL)
        return out

    def word_shapes(self) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_], NDArray[np.float64]]:
        """Per word: its first character is a letter, its first character is upper case, the whole
        word ``str.isupper()``, and its length. Words are the runs of ``\\w`` characters, so all
        four come from the character classes at once; text with kana or CJK ideographs (split
        into shorter words by ``shape.WORD``) is read word by word."""
        shapes: tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_], NDArray[np.float64]] | None
        shapes = self._memo.get("word_shapes")
        if shapes is None:
            shapes = self._memo["word_shapes"] = self._word_shapes()
            for a in shapes:  # shared by every caller
                a.setflags(write=False)
        return shapes

    def _word_shapes(self) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_], NDArray[np.float64]]:
        cls = self.char_class
        word = (cls & WORD_CHAR) != 0
        # a run of word characters starts where the flag (False before and after the text) goes up
        # and stops where it goes down
        flag = np.zeros(len(cls) + 2, dtype=bool)
        flag[1:-1] = word
        edges = np.flatnonzero(flag[1:] != flag[:-1])
        start_idx, stop_idx = edges[::2], edges[1::2]
        if self.cjk or len(start_idx) != len(self.lower):
            firsts = list(map(_first_char, self.tokens))
            return (self.flags(str.isalpha, firsts), self.flags(str.isupper, firsts), self.flags(str.isupper),
                    np.fromiter(map(len, self.tokens), dtype=np.float64, count=len(self.tokens)))
        first = cls[start_idx]
        # the case bits of a word: OR over its characters (a segment runs on to the next word; the
        # characters between are zeroed)
        case = np.bitwise_or.reduceat(cls * word, start_idx) if len(start_idx) else first
        return ((first & ALPHA) != 0, (first & UPPER) != 0, ((case & UPPER) != 0) & ((case & LOWER_OR_TITLE) == 0),
                (stop_idx - start_idx).astype(np.float64))

    def sentence_counts(self) -> NDArray[np.float64]:
        """Per block, ``shape.sentence_count`` of its text: the pieces between sentence splits that
        hold a non-space character. Splits are found in one pass over the joined text; one that
        runs over a newline spans two blocks, and no block alone has a split there (it would need
        an upper-case letter after the space inside the block), so it is left out."""
        cls = self.char_class
        n = len(self.texts)
        # every split starts with a sentence-end character: try the pattern only there (finditer's
        # leftmost, non-overlapping matches), which skips the ~98 % of characters it cannot start at
        split_at = shape.SENTENCE_SPLIT.match
        joined = self.joined
        spans: list[tuple[int, int]] = []
        done = 0
        for at in np.flatnonzero(cls & TERMINAL).tolist():
            if at >= done:
                m = split_at(joined, at)
                if m is not None:
                    spans.append(m.span())
                    done = m.end()
        bounds = np.array(spans, dtype=np.int64).reshape(-1, 2)
        # (a newline counts to the block after it, so a split over one ends in another block)
        bounds = bounds[self.char_line[bounds[:, 0]] == self.char_line[bounds[:, 1] - 1]]
        # the pieces run from a block start or a split end to the next split start or block end;
        # splits do not overlap and lie inside their block, so the i-th smallest start and the
        # i-th smallest end are one piece
        piece_start = np.sort(np.concatenate((self.starts[:n], bounds[:, 1])))
        piece_end = np.sort(np.concatenate((bounds[:, 0], self.ends[:n])))
        solid_before = np.concatenate(([0], np.cumsum((cls & SPACE) == 0)))  # at each offset
        solid = solid_before[piece_end] > solid_before[piece_start]
        return np.bincount(self.char_line[piece_start[solid]], minlength=n).astype(np.float64)

    def class_counts(self, *bits: int) -> list[NDArray[np.float64]]:
        """Per class bit, per block, how many of its characters are in the class (the classes
        counted are rare: their characters are picked out once)."""
        at = np.flatnonzero(self.char_class & functools.reduce(operator.or_, bits, 0))
        lines, classes = self.char_line[at], self.char_class[at]
        n = len(self.texts)
        return [np.bincount(lines[(classes & bit) != 0], minlength=n).astype(np.float64) for bit in bits]

    def blocks_matching(self, pattern: re.Pattern[str], hints: Sequence[str]) -> NDArray[np.float64]:
        """Per block, 1.0 where ``pattern`` (case-insensitive) occurs in it. Only blocks holding one
        of ``hints`` (lower-case literals every match holds, no newline) are searched; they are
        found with ``str.find`` in the lower-cased document (a regex scan with IGNORECASE tries
        every position and was ~10x slower). For ASCII letters other than i, k and s, lower-casing
        and IGNORECASE agree (tested); text that lower-casing makes longer (e.g. 'İ') gets the
        regex scan."""
        out = np.zeros(len(self.texts))
        joined = self.joined
        low = self.lowered
        lines: set[int] = set()
        if len(low) == len(joined):
            char_line, ends = self.char_line, self.ends
            for lit in hints:
                at = low.find(lit)
                while at >= 0:
                    line = int(char_line[at])
                    lines.add(line)
                    at = low.find(lit, int(ends[line]) + 1)  # on from the next block
        else:
            scan = re.compile("|".join(map(re.escape, hints)), re.IGNORECASE)
            lines = {int(self.char_line[m.start()]) for m in scan.finditer(joined)}
        for i in sorted(lines):
            if pattern.search(self.texts[i]):
                out[i] = 1.0
        return out


def page_language(blocks: Sequence[Block], tokens: DocTokens | None = None) -> str:
    """The stop-word language that covers most words of the page (cheap, no n-gram model)."""
    toks = tokens if tokens is not None else DocTokens.of(blocks)
    bits = toks.stop_bits()
    if len(toks.texts) > LANGUAGE_SAMPLE_BLOCKS:
        bits = bits[: int(np.searchsorted(toks.line, LANGUAGE_SAMPLE_BLOCKS))]
    counts = language_counts(bits)
    if not counts.any():
        return ""
    # ties go to the earlier language in STOPWORD_LANGS, so the answer is deterministic
    return STOPWORD_LANGS[int(np.argmax(counts))]


# Stop-word bit masks are counted in pieces of this many bits: a bincount of 2**9 = 512 bins per
# piece, then a product with the bits of every bin (two bincounts for the 18 languages: ~3x
# faster than shifting every mask by every language).
_PIECE_BITS = 9
_PIECE_BINS = 1 << _PIECE_BITS
_BIN_BITS = (np.arange(_PIECE_BINS)[:, None] >> np.arange(_PIECE_BITS)) & 1  # bin x bit
_BIN_BITS.setflags(write=False)


def language_counts(bits: NDArray[np.int32]) -> NDArray[np.int64]:
    """Per language of STOPWORD_LANGS, how many of the masks ``bits`` have its bit."""
    pieces = range(0, len(STOPWORD_LANGS), _PIECE_BITS)
    counts = [np.bincount((bits >> low) & (_PIECE_BINS - 1), minlength=_PIECE_BINS) @ _BIN_BITS for low in pieces]
    return np.concatenate(counts)[: len(STOPWORD_LANGS)]


def _base_rows(
    blocks: Sequence[Block], toks: DocTokens, lang: str, dup: NDArray[np.float64],
    rule_hit: NDArray[np.float64], settings: Settings, out: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """The block-shape features (``_BASE``) of every block, one column at a time (written into
    ``out``, one row per block and a column per ``_BASE`` name, when given)."""
    n = len(toks.texts)
    n_words = toks.per_block()
    nw = np.maximum(n_words, 1.0)
    alpha, first_upper, upper, lens = toks.word_shapes()
    n_alpha = toks.per_block(alpha)
    na = np.maximum(n_alpha, 1.0)
    n_stop = toks.per_block(toks.is_stop(lang))
    n_title = toks.per_block(alpha & first_upper)
    n_caps = toks.per_block(alpha & upper & (lens != 1))
    word_chars = toks.per_block(lens)
    chars = toks.lengths()
    terminal = toks.ends_sentence()
    prose = (n_words >= settings.body_min_words) & terminal
    len_log = np.log1p(chars)
    stop_density = n_stop / nw
    sentences = toks.sentence_counts()
    first, last = toks.edge_classes()
    n_digits, n_code, n_separators = toks.class_counts(DIGIT, CODE, SEPARATOR)
    columns = [
        len_log,
        np.log1p(n_words),
        terminal,
        (last & COLON) != 0,
        stop_density,
        np.log1p(n_stop),
        n_title / na,
        n_digits / np.maximum(chars, 1.0),
        n_code / np.where(chars > 0, chars, 1.0),
        n_separators > 0,
        np.fromiter(map(_BULLET, blocks), dtype=np.float64, count=n),
        np.log1p(sentences),
        np.minimum(word_chars / nw, 20.0) / 10.0,
        n_caps / na,
        (first & LOWER) != 0,
        # an empty text counts as a quotation, as ``"" in _QUOTE_START`` holds (the model was
        # trained so)
        ((first & OPENING) != 0) | (chars == 0),
        toks.blocks_matching(_URLISH, _URLISH_HINTS),
        prose,
        np.log1p(dup),
        rule_hit,
        # interactions a linear model cannot form itself: long prose is article text almost
        # whatever surrounds it; stop words only mean prose when there are enough words
        np.where(prose, len_log, 0.0),
        stop_density * np.log1p(n_words),
        np.where(terminal, len_log, 0.0),
    ]
    rows = np.empty((n, len(_BASE))) if out is None else out
    for j, column in enumerate(columns):
        rows[:, j] = column
    return rows


# Indices into the base vector reused for neighbour features.
_NB_IDX = tuple(_BASE.index(n) for n in ("len_log", "ends_sentence", "stop_density", "bullet", "rule_hit",
                                         "prose", "titlecase"))
_PROSE = _BASE.index("prose")
_RULE = _BASE.index("rule_hit")
# Where the feature groups start in a stage-1 row.
_AT_BUCKETS = len(_BASE)
_AT_CONTEXT = _AT_BUCKETS + len(_LEN_BUCKETS)
_AT_NEIGHBOURS = len(_BASE) + len(_LEN_BUCKETS) + len(_CONTEXT)
_LENGTH_EDGES = np.array(LENGTH_EDGES, dtype=np.float64)
_LENGTH_EDGES.setflags(write=False)


def _dist_to(mask: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Blocks to the nearest True of ``mask`` (two sweeps; where a side has none, n + steps)."""
    n = len(mask)
    idx = np.arange(n)
    last = np.maximum.accumulate(np.where(mask, idx, -1))
    fwd = np.where(last >= 0, idx - last, n + idx + 1)
    nxt = np.minimum.accumulate(np.where(mask, idx, 2 * n + 1)[::-1])[::-1]
    bwd = np.where(nxt <= 2 * n, nxt - idx, 2 * n - idx)
    return np.minimum(fwd, bwd).astype(np.float64)


def _window_means(values: NDArray[np.float64], windows: Sequence[int]) -> NDArray[np.float64]:
    """Per block and window w, the mean of ``values`` over the w blocks on each side, the block
    itself left out (one column per window)."""
    n = len(values)
    pref = np.concatenate(([0.0], np.cumsum(values)))
    idx = np.arange(n)[:, None]
    w = np.array(windows)
    lo = np.maximum(0, idx - w)
    hi = np.minimum(n, idx + w + 1)
    denom = hi - lo - 1
    denom[denom == 0] = 1
    return np.asarray((pref[hi] - pref[lo] - values[:, None]) / denom, dtype=np.float64)


def _put_neighbours(out: NDArray[np.float64], values: NDArray[np.float64], steps: Sequence[int]) -> None:
    """Into consecutive column groups of ``out``, one per step k: every row gets the row of
    ``values`` k before it (k > 0) or -k after it (k < 0); ``out`` is zero where there is none."""
    width = values.shape[1]
    for g, k in enumerate(steps):
        cols = slice(g * width, (g + 1) * width)
        if k > 0:
            out[k:, cols] = values[:-k]
        else:
            out[:k, cols] = values[-k:]


def features(
    view: View, settings: Settings, lang: str | None = None, tokens: DocTokens | None = None
) -> NDArray[np.float64]:
    """One feature row per block of the document (all blocks, rule-removed ones included)."""
    blocks = view.doc.blocks
    n = len(blocks)
    if n == 0:
        return np.zeros((0, len(FEATURE_NAMES)))
    toks = tokens if tokens is not None else DocTokens.of(blocks)
    if lang is None:
        lang = page_language(blocks, toks)
    keys = list(map(_KEY, blocks))
    key_counts = Counter(keys)
    dup = np.array(list(map(key_counts.__getitem__, keys)), dtype=np.float64) - 1.0
    rule_hit = np.zeros(n)
    rule_hit[np.array([i for i in view.removals if 0 <= i < n], dtype=np.intp)] = 1.0
    # the features are written column by column into one zeroed array (the length buckets and
    # the neighbours of the first and last blocks stay zero)
    out = np.zeros((n, len(FEATURE_NAMES)))
    base = _base_rows(blocks, toks, lang, dup, rule_hit, settings, out[:, : len(_BASE)])
    prose = base[:, _PROSE]
    rule = base[:, _RULE]
    chars = toks.lengths()
    idx = np.arange(n)
    out[idx, _AT_BUCKETS + np.searchsorted(_LENGTH_EDGES, chars, side="left")] = 1.0
    mass = np.where(prose > 0, chars, 0.0)
    total = mass.sum() or 1.0
    before = (np.cumsum(mass) - mass) / total
    after = 1.0 - before - mass / total
    prose_idx = np.flatnonzero(prose > 0)
    first, last = (prose_idx[0], prose_idx[-1]) if len(prose_idx) else (n, -1)
    groups = list(map(_GROUP, blocks))
    group_counts = Counter(groups)
    group_sizes = np.array(list(map(group_counts.__getitem__, groups)), dtype=np.float64)
    context = [
        idx / max(n - 1, 1),
        (idx >= first) & (idx <= last),
        np.minimum(before, after),
        before,
        after,
        np.log1p(_dist_to(prose > 0)),
        np.log1p(group_sizes),
    ]
    for j, column in enumerate(context, _AT_CONTEXT):
        out[:, j] = column
    at = _AT_CONTEXT + len(context)
    out[:, at : at + len(WINDOWS)] = _window_means(prose, WINDOWS)
    out[:, at + len(WINDOWS) : _AT_NEIGHBOURS] = _window_means(rule, WINDOWS)
    _put_neighbours(out[:, _AT_NEIGHBOURS:], base[:, list(_NB_IDX)], (1, -1, 2, -2))
    return out


def revise_features(
    rows: NDArray[np.float64],
    z1: NDArray[np.float64],
    removed: Sequence[bool] | NDArray[np.bool_],
    texts: Sequence[str],
    lang: str,
    tokens: DocTokens | None = None,
    at: Sequence[int] | None = None,
) -> NDArray[np.float64]:
    """Stage-2 rows from stage-1 log-odds ``z1`` (one per block; rule-removed blocks count as 0):
    the columns of ``_REVISE_OWN``, then the block's stage-1 row ``rows``. Only the rows of the
    blocks ``at`` (in that order; default every block): the columns are computed over the whole
    page, but the finder scores only the blocks the rules left, and a full-width matrix for every
    block would be copied once more to pick them."""
    n = len(z1)
    if n == 0:
        return np.zeros((0, len(REVISE_NAMES)))
    rem = np.array(removed, dtype=bool)
    zc = np.clip(z1, -Z_CLIP, Z_CLIP)
    p1 = np.where(rem, 0.0, 1 / (1 + np.exp(-zc)))
    conf = p1 >= CONFIDENT_P
    conf_idx = np.flatnonzero(conf)
    first, last = (conf_idx[0], conf_idx[-1]) if len(conf_idx) else (n, -1)
    n_conf = len(conf_idx) or 1
    idx = np.arange(n)
    # article core: the cluster of confident blocks with the most text
    core = (n, -1)
    best_mass = -1
    start = prev = -1
    mass = 0
    for i in [*conf_idx.tolist(), n + CORE_GAP + 1]:
        if start >= 0 and i - prev > CORE_GAP:
            if mass > best_mass:
                best_mass, core = mass, (start, prev)
            start, mass = -1, 0
        if i >= n:
            break
        if start < 0:
            start = i
        mass += len(texts[i])
        prev = i
    # cohesion: vocabulary of the confident blocks, counted per word so a block can be left out
    conf_list = conf.tolist()
    toks = tokens if tokens is not None else DocTokens.of([Block(i, t) for i, t in enumerate(texts)])
    # (a block the rules removed has no words here unless it is confident)
    words = toks.content_words(lang, skip=rem & ~conf)
    vocab: Counter[str] = Counter()
    for i in conf_idx.tolist():
        vocab.update(words[i])
    # a word is shared when another confident block has it: for a confident block (counted in
    # vocab itself) that means two, else one
    in_vocab = vocab.keys()
    in_two = {w for w, c in vocab.items() if c > 1}
    cohesion = [len(ws & (in_two if c else in_vocab)) / len(ws) if ws else 0.0
                for ws, c in zip(words, conf_list, strict=True)]
    seen: NDArray[np.int64] = np.cumsum(conf) - conf
    # p1 with zeros on both sides, so that a neighbour's p1 (zero past either end) is a slice
    reach = max(_MAX3_STEPS)
    padded = np.zeros(n + 2 * reach)
    padded[reach : reach + n] = p1
    in_core = (idx >= core[0]) & (idx <= core[1])
    core_dist = np.where(in_core, 0, np.where(idx < core[0], core[0] - idx, idx - core[1]))
    columns = [
        zc,
        padded[reach - 1 : reach - 1 + n],
        padded[reach + 1 : reach + 1 + n],
        np.maximum.reduce([padded[reach - k : reach - k + n] for k in _MAX3_STEPS]),
        *_window_means(p1, REVISE_WINDOWS).T,
        (idx >= first) & (idx <= last),
        np.log1p(_dist_to(conf)),
        seen / n_conf,
        (len(conf_idx) - seen - conf) / n_conf,
        cohesion,
        [not ws for ws in words],
        in_core,
        np.log1p(np.maximum(core_dist, 0)),
        idx < core[0],
        idx > core[1],
        *page_relative(zc, rem, toks.lengths(), core),
    ]
    # column-major, as ``np.column_stack`` of these columns made it when the model was trained:
    # BLAS sums a matrix product in another order for the other layout (last bits of z differ)
    pick: slice | NDArray[np.intp] = slice(None) if at is None else np.asarray(at, dtype=np.intp)
    out = np.empty((n if at is None else len(at), len(REVISE_NAMES)), order="F")
    for j, column in enumerate(columns):
        out[:, j] = np.asarray(column)[pick]
    out[:, len(_REVISE_OWN) :] = rows[pick]
    return out


def page_relative(
    zc: NDArray[np.float64], removed: NDArray[np.bool_], lengths: NDArray[np.float64], core: tuple[int, int]
) -> list[NDArray[np.float64]]:
    """Stage 2's page-relative columns: where a block stands against the rest of its own page,
    which the other columns (absolute log-odds, local windows) do not say. Pages differ in how
    sure stage 1 is of all their blocks (a page of short prose paragraphs scores lower throughout
    than a long feature), so one global threshold keeps a doubtful block on one page and drops a
    better one on another.

    - ``z1_rank``: the share of the rules' leftovers whose (clipped) stage-1 log-odds is at most
      the block's;
    - ``z1_rel_core``: its log-odds minus the median of the article core's blocks (the page's
      best when it has no core);
    - ``core_gap_log``: ``log1p`` of the characters of the rules' leftovers between the block and
      the core (0 inside it; the whole page's when there is no core): a headline two short lines
      above the core is near it, a sidebar 3,000 characters away is not, at the same distance in
      blocks;
    - ``core_share``: the share of the leftovers inside the core, the same for every block of the
      page (how much of the page the article is).

    ``removed``: the blocks the rules removed (not counted); ``lengths``: characters per block;
    ``core``: (first, last) block of the core, first > last when there is none."""
    n = len(zc)
    live = ~removed
    ranked = np.sort(zc[live]) if live.any() else np.zeros(1)
    rank = np.searchsorted(ranked, zc, side="right") / len(ranked)
    idx = np.arange(n)
    in_core = (idx >= core[0]) & (idx <= core[1]) & live
    rel = zc - (float(np.median(zc[in_core])) if in_core.any() else float(ranked[-1]))
    # characters of the leftovers before each block boundary: ``before[i]`` counts blocks 0..i-1
    before = np.concatenate(([0.0], np.cumsum(np.where(live, lengths, 0.0))))
    if core[0] <= core[1]:
        gap = np.where(idx < core[0], before[core[0]] - before[idx + 1],
                       np.where(idx > core[1], before[idx] - before[core[1] + 1], 0.0))
    else:
        gap = np.full(n, before[-1])
    share = np.full(n, float(in_core.sum()) / max(1, int(live.sum())))
    return [rank, rel, np.log1p(gap), share]


def block_scores(
    view: View, settings: Settings, model: FinderModel, at: Sequence[int] | None = None
) -> tuple[NDArray[np.float64], list[float]]:
    """Stage-1 rows of every block, and the final (stage-2) log-odds of the blocks ``at`` (in that
    order; default every block). Stage 2 reads every block's stage-1 score, but only the blocks
    the finder judges need its own (trees cost per row)."""
    toks = DocTokens.of(view.doc.blocks)
    lang = page_language(view.doc.blocks, toks)
    rows = features(view, settings, lang, toks)
    z1 = model.stage1.scores(rows)
    # the rule_hit column is 1.0 exactly at the blocks the rules removed (``features``)
    removed = rows[:, _RULE] != 0.0
    z2 = model.stage2.scores(revise_features(rows, z1, removed, toks.texts, lang, toks, at))
    return rows, z2.tolist()


# --------------------------------------------------------------------------- decoding


def viterbi(scores: Sequence[float], switch_penalty: float) -> list[bool]:
    """Best article/boilerplate labelling of a sequence of log-odds with a price per switch.

    State 1 = article gains z/2 per block, state 0 = boilerplate gains -z/2. Only the difference
    ``d`` of the two states' best totals matters: the best way into boilerplate comes from article
    only when d > p (the price), the best way into article comes from boilerplate only when d < -p,
    so d is a running sum of the scores clipped to [-p, p] before each step."""
    if not scores:
        return []
    p = switch_penalty
    lo = -p
    d = scores[0]
    before: list[float] = []  # d before each step
    keep_d = before.append
    for z in itertools.islice(scores, 1, None):
        keep_d(d)
        # the clip as comparisons (min/max calls cost ~3x as much per block)
        d = (p if d > p else lo if d < lo else d) + z
    state = d >= 0
    path = [state]
    for prev in reversed(before):
        state = prev > -p if state else prev > p
        path.append(state)
    path.reverse()
    return path


def length_weights(blocks: Sequence[Block], kept: Sequence[int], power: float) -> NDArray[np.float64]:
    """Per block of ``kept``, its weight in the Viterbi pass: its word count relative to the
    geometric mean of the page's (so a page's typical block weighs 1 and the switch price keeps its
    meaning on pages of short and of long blocks), to the power ``power``. A long paragraph then
    outweighs a short line of the same log-odds, and short lines (headlines, captions, labels)
    follow the prose around them: jusText's revision of short blocks by their neighbours, in the
    region search itself. Out of fold on the dev set (``train_finder --cv``), power 0.5 at the
    operating point of its time (switch 1.0, shift 0.75) moved the with*/w/o* frontier out (with*
    .920 -> .929, w/o* .824 -> .828, F1 .948 -> .945); the trainer chooses the power with the
    switch price and the shift."""
    words = np.fromiter((blocks[i].n_words for i in kept), dtype=np.float64, count=len(kept))
    logs = np.log(np.maximum(words, 1.0))
    return cast("NDArray[np.float64]", np.exp(power * (logs - logs.mean())))


def revise_subheadings(view: View, kept: Sequence[int], keep: Sequence[bool], settings: Settings) -> list[bool]:
    """jusText's revision for headings: a headline-shaped block between two kept blocks that
    introduces kept prose is a subheading of the article, whatever its own score."""
    out = list(keep)
    blocks = view.doc.blocks
    for j in range(1, len(kept) - 1):
        if out[j] or not (out[j - 1] and out[j + 1]):
            continue
        if (
            not blocks[kept[j]].bullet
            and shape.block_is_heading_shaped(blocks[kept[j]], settings)
            and shape.block_is_prose(blocks[kept[j + 1]], settings)
        ):
            out[j] = True
    return out


def revise_lead(view: View, kept: Sequence[int], keep: Sequence[bool], z: Sequence[float],
                settings: Settings) -> list[bool]:
    """The lead set apart above the article: walking up from the first kept block, a block of at
    least ``lead_min_words`` words whose (shifted, unweighted) log-odds ``z`` is above
    ``lead_min_z`` is article text, and the walk goes on above it; up to ``lead_max_skip`` shorter
    blocks in a row are stepped over and stay out (a video label, an image credit between a dek
    and the body). The walk stops at the first long block the model doubts more than that, or at
    a longer run of short ones. A standfirst is prose the model rates near its threshold, and the
    region search leaves it out when short chrome separates it from the body."""
    out = list(keep)
    if not any(out):
        return out
    blocks = view.doc.blocks
    skipped = 0
    for j in range(out.index(True) - 1, -1, -1):
        if blocks[kept[j]].n_words >= settings.lead_min_words:
            if z[j] <= settings.lead_min_z:
                break
            out[j] = True
            skipped = 0
        elif skipped < settings.lead_max_skip:
            skipped += 1
        else:
            break
    return out


# A quantity line of this many words is the number and its unit alone ('200 g', '1 Pck.').
BARE_QUANTITY_WORDS = 2


def revise_ingredient_runs(
    view: View, kept: Sequence[int], keep: Sequence[bool], patterns: PatternSet, settings: Settings
) -> list[bool]:
    """An ingredient list of the article is article text: a run of at least
    ``ingredient_min_run`` quantity lines (``recipe.quantity``; a short line between two of them
    belongs to the run) is kept whole when it sits inside the kept text, or when kept text (the
    preparation steps) follows within ``ingredient_reach`` blocks. Its lines are short and end no
    sentence, so the finder alone takes them for page furniture."""
    out = list(keep)
    if not any(out):
        return out
    blocks = view.doc.blocks
    index = view.doc.text_index()
    # the group's own matcher, on the page's shared index (its first-character dispatch tries
    # the pattern only on blocks starting with a digit, a fraction sign or 'ca.')
    quantity = patterns.blocks_matching("recipe.quantity", index.texts, index)
    qty = [i in quantity for i in kept]
    if sum(qty) < settings.ingredient_min_run:
        return out
    first, last = out.index(True), len(out) - 1 - out[::-1].index(True)
    short = [blocks[i].n_words <= settings.ingredient_gap_max_words for i in kept]
    reach = settings.ingredient_gap_max_lines

    def bridged(j: int) -> bool:
        # up to ``reach`` short lines, then a quantity line: still the list ('1 Pck.', 'Dr. Oetker
        # Vanillin-Zucker', 'Belag:', '25 g')
        for k in range(j, min(j + reach, len(kept))):
            if not short[k]:
                return False
            if k + 1 < len(kept) and qty[k + 1]:
                return True
        return False

    for start, end, n in shape.marked_runs(qty, bridged):
        # a bare quantity ('200 g') ending the list has its ingredient on the next line
        if end + 1 < len(kept) and blocks[kept[end]].n_words <= BARE_QUANTITY_WORDS and short[end + 1]:
            end += 1
        inside = first < start and end < last
        leads_in = any(out[end + 1 : end + 1 + settings.ingredient_reach])
        if n >= settings.ingredient_min_run and (inside or leads_in):
            out[start : end + 1] = [True] * (end + 1 - start)
    return out


# Features named in a finder removal's detail: the ones that pushed the block hardest.
EXPLAIN_TOP = 3


def _explain(model: Scorer, rows: NDArray[np.float64]) -> list[str]:
    """Per row, the features that pushed the block hardest towards boilerplate (one matrix pass)."""
    if len(rows) == 0:
        return []
    contrib = model.contributions(rows)
    # the EXPLAIN_TOP smallest per row, ties to the lower index (a stable argsort's first columns):
    # argmin returns the first minimum; each pick is then masked out
    picked = contrib.copy()
    at = np.arange(len(rows))
    worst = np.empty((len(rows), min(EXPLAIN_TOP, contrib.shape[1])), dtype=np.intp)
    negative = np.empty(worst.shape, dtype=bool)
    for k in range(worst.shape[1]):
        worst[:, k] = pick = np.argmin(picked, axis=1)
        negative[:, k] = picked[at, pick] < 0
        picked[at, pick] = np.inf
    # one integer per row for its (features, signs) pattern, a base-``width`` number whose digit k
    # is the k-th worst feature, or ``len(names)`` where that one pushed towards article text: the
    # text is a function of the number, and most rows share a few, so each distinct one is
    # decoded and joined once
    names = model.names
    width = len(names) + 1
    codes = (np.where(negative, worst, len(names)) @ (width ** np.arange(worst.shape[1]))).tolist()
    text = {code: _reason(names, code, worst.shape[1]) for code in set(codes)}
    return list(map(text.__getitem__, codes))


# Explanation patterns whose text is kept: they recur from page to page (all 351 dev pages have
# 89 distinct ones), so this bounds the cache without ever filling it in practice.
REASON_CACHE = 4096


@lru_cache(maxsize=REASON_CACHE)
def _reason(names: tuple[str, ...], code: int, digits: int) -> str:
    """The feature names a pattern number of ``_explain`` stands for, worst first."""
    width = len(names) + 1
    picked = (code // width**k % width for k in range(digits))
    return ", ".join(names[j] for j in picked if j < len(names))


class _RemovalTwin:
    """Removal's slots in a mutable class (the trick of ``cleaners.model``'s fast builders): its
    ``__init__`` stores the slots, then turns the object into a Removal, which skips the frozen
    constructor's ``object.__setattr__`` per field (a page's finder makes ~130 removals)."""

    __slots__ = Removal.__slots__

    def __init__(self, index: int, rule: str, category: Category, detail: str) -> None:
        self.index = index
        self.rule = rule
        self.category = category
        self.detail = detail
        self.__class__ = Removal  # type: ignore[assignment]


def _removals(indices: list[int], rules: list[str], details: list[str]) -> list[Removal]:
    """``Removal(i, rule, Category.BOILERPLATE, detail)`` for the three lists side by side."""
    made = map(_RemovalTwin, indices, rules, itertools.repeat(Category.BOILERPLATE), details)
    return cast("list[Removal]", list(made))


_HEAD, _INLINE, _TAIL = "content.head_chrome", "content.inline_boilerplate", "content.tail_chrome"


def decode(
    view: View, kept: Sequence[int], z: Sequence[float], switch_penalty: float, patterns: PatternSet,
    settings: Settings, length_power: float = 0.0,
) -> list[bool]:
    """The finder's verdict on each of ``kept`` (the blocks the rules left) from their shifted
    log-odds ``z``: the Viterbi labelling of the length-weighted log-odds (``length_weights``),
    then the revisions (the lead above the region, subheadings, ingredient lists). All False
    when no block is article text. The trainer (``benchmarks.train_finder``) scores its operating
    points through this same function."""
    weighted = z
    if length_power and z:
        weighted = (np.asarray(z) * length_weights(view.doc.blocks, kept, length_power)).tolist()
    keep = viterbi(weighted, switch_penalty)
    if not any(keep):
        return keep
    keep = revise_lead(view, kept, keep, z, settings)
    keep = revise_subheadings(view, kept, keep, settings)
    return revise_ingredient_runs(view, kept, keep, patterns, settings)


def detect_non_article(view: View, patterns: PatternSet, settings: Settings) -> list[Removal]:
    """Blocks the content finder judges not to be article text (after the phrase rules)."""
    kept = view.kept_indices()
    if len(kept) < settings.finder_min_blocks:
        return []
    model = load_model()
    rows, z_kept = block_scores(view, settings, model, kept)
    shift = model.threshold_shift
    z = [zi + shift for zi in z_kept]
    keep = decode(view, kept, z, model.switch_penalty, patterns, settings, model.length_power)
    if not any(keep):
        # The finder never empties a page on its own: with no block it trusts, the rules' verdict
        # stands and the page is kept as the rules left it.
        return []
    first = kept[keep.index(True)]
    last = kept[len(keep) - 1 - keep[::-1].index(True)]
    drop = list(map(operator.not_, keep))
    dropped = list(itertools.compress(kept, drop))
    reasons = _explain(model.stage1, rows[dropped])
    details = [f"p={1 / (1 + math.exp(-zi)):.2f}; {reason}"
               for zi, reason in zip(itertools.compress(z, drop), reasons, strict=True)]
    # the dropped blocks are in document order: those before the first kept one, then those
    # between, then those after the last
    head = bisect_left(dropped, first)
    tail = len(dropped) - bisect_right(dropped, last)
    rules = [_HEAD] * head + [_INLINE] * (len(dropped) - head - tail) + [_TAIL] * tail
    return _removals(dropped, rules, details)
