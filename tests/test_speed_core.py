"""Shortcuts of the core stages (segmentation, data model, article building) pinned to the
straightforward computations they replace."""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
import re
import sys
import unicodedata
from dataclasses import dataclass
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaners import shape
from cleaners.model import (
    ArticleBlock,
    Block,
    BlockKind,
    Category,
    Document,
    Removal,
    RemovedText,
    View,
    article_blocks,
    make_blocks,
    removed_texts,
)
from cleaners.patterns import load
from cleaners.pipeline import ARTICLE_ID_HEX, _kinds, article_id, build_article
from cleaners.segment import segment_text
from cleaners.settings import DEFAULT, Settings

# Characters that stress folding and word splitting: "_" (a word character the key splits at),
# dotted capital I (folds to i + combining dot), fractions and ™ (NFKC adds or drops word
# characters), the ellipsis and ligatures (NFKC expands them in kind), combining marks (compose with
# the letter before), ß, final sigma, CJK (WORD splits it into pairs), Hangul jamo (starters that
# compose), unicode spaces, a lone surrogate.
_AWKWARD = (
    "aZß_ İ½¼™…ﬁﬂ²ª´¨\u0301\u0308\u0345ΣσςΐǰŉK東京語かナ한\u1100\u1161\u11a8"
    "\u00a0\u2009\u3000\t-•*.,:;!?„“”»«'\"()[]{}0123456789\ud800"
)
_awkward_text = st.one_of(
    st.text(alphabet=st.sampled_from(_AWKWARD), max_size=40),
    st.text(max_size=40),
    st.sampled_from(["", " ", "İstanbul", "Straße_Nr", "a\u0308b", "1½ Tage…", "東京都", "ＡＢＣ ｄｅｆ"]),
)


# ------------------------------------------------------------- Block / RemovedText / ArticleBlock builders


def _fields(block: Block) -> tuple[object, ...]:
    return (block.index, block.text, block.kind, block.line, block.group, block.bullet, block.key, block.n_words)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_awkward_text, st.booleans(), st.integers(0, 99), st.integers(0, 9)), max_size=12))
def test_make_blocks_builds_what_the_constructor_builds(rows: list[tuple[str, bool, int, int]]) -> None:
    texts = [t for t, _, _, _ in rows]
    bullets = [b for _, b, _, _ in rows]
    kinds = [BlockKind.LIST if b else BlockKind.PARAGRAPH for b in bullets]
    lines = [n for _, _, n, _ in rows]
    groups = [g for _, _, _, g in rows]
    keys = [shape.norm_key(t) for t in texts]
    n_words = [shape.word_count(t) for t in texts]
    fast = make_blocks(texts, kinds, lines, groups, bullets, keys, n_words)
    rows_ = zip(texts, kinds, lines, groups, bullets, strict=True)
    slow = tuple(Block(i, t, k, n, g, b) for i, (t, k, n, g, b) in enumerate(rows_))
    assert type(fast) is tuple and all(type(b) is Block for b in fast)
    assert fast == slow and list(map(_fields, fast)) == list(map(_fields, slow))
    assert list(map(hash, fast)) == list(map(hash, slow)) and list(map(repr, fast)) == list(map(repr, slow))


def test_built_objects_stay_frozen_and_twins_match_the_layout() -> None:
    from cleaners.model import _ArticleBlockTwin, _BlockTwin, _RemovedTextTwin

    assert _BlockTwin.__slots__ == Block.__slots__ and _RemovedTextTwin.__slots__ == RemovedText.__slots__
    assert _ArticleBlockTwin.__slots__ == ArticleBlock.__slots__
    block = make_blocks(["Text"], [BlockKind.PARAGRAPH], [1], [0], [False], ["text"], [1])[0]
    removed = removed_texts(["x"], [Removal(0, "a.b", Category.AD, "d")])[0]
    article_block = article_blocks([BlockKind.HEADING], ["Title"])[0]
    for obj, name in ((block, "text"), (removed, "rule"), (article_block, "text")):
        try:
            setattr(obj, name, "changed")
        except AttributeError:
            pass
        else:  # pragma: no cover
            raise AssertionError(f"{type(obj).__name__} is not frozen")
        assert not hasattr(obj, "__dict__")
    assert removed == RemovedText("x", "a.b", Category.AD, "d")
    assert article_block == ArticleBlock(BlockKind.HEADING, "Title") and type(article_block) is ArticleBlock


@given(st.lists(st.tuples(st.sampled_from(list(BlockKind)), _awkward_text), max_size=10))
def test_article_blocks_builds_what_the_constructor_builds(rows: list[tuple[BlockKind, str]]) -> None:
    fast = article_blocks((k for k, _ in rows), (t for _, t in rows))
    slow = tuple(ArticleBlock(k, t) for k, t in rows)
    assert fast == slow and all(type(b) is ArticleBlock for b in fast)
    assert list(map(hash, fast)) == list(map(hash, slow)) and list(map(repr, fast)) == list(map(repr, slow))


@given(st.lists(st.tuples(_awkward_text, st.sampled_from(["a.b", "c.d_e"]), st.sampled_from(list(Category)),
                          st.text(max_size=10)), max_size=10))
def test_removed_texts_builds_what_the_constructor_builds(rows: list[tuple[str, str, Category, str]]) -> None:
    removals = [Removal(i, rule, cat, detail) for i, (_, rule, cat, detail) in enumerate(rows)]
    fast = removed_texts((t for t, _, _, _ in rows), removals)
    slow = tuple(RemovedText(t, r.rule, r.category, r.detail) for (t, _, _, _), r in zip(rows, removals, strict=True))
    assert fast == slow and all(type(r) is RemovedText for r in fast)
    assert list(map(repr, fast)) == list(map(repr, slow))


# --------------------------------------------------------------------------- word counts from keys


@settings(max_examples=400, deadline=None)
@given(st.lists(_awkward_text, max_size=15))
def test_keys_and_word_counts_equal_the_per_text_functions(texts: list[str]) -> None:
    keys, counts = shape.norm_keys_and_word_counts(texts)
    assert keys == [shape.norm_key(t) for t in texts]
    assert counts == [shape.word_count(t) for t in texts]


def test_keys_and_word_counts_on_known_traps() -> None:
    texts = ["İstanbul liegt", "Straße_Nr 5", "1½ Tage", "a\u0308b", "Sony ™ Kamera", "東京都 ist", "…", "", "ǰ x"]
    keys, counts = shape.norm_keys_and_word_counts(texts)
    assert counts == [shape.word_count(t) for t in texts] == [2, 2, 2, 2, 2, 3, 0, 0, 2]
    assert keys == [shape.norm_key(t) for t in texts]
    naive = [len(k.split()) for k in keys]  # the key's words, where folding changed the word runs
    assert [i for i, (a, b) in enumerate(zip(naive, counts, strict=True)) if a != b] == [0, 1, 2, 3, 4, 5]


def _composition_seconds() -> set[str]:
    """Starters (combining class 0) that compose with the starter before them: the second halves of
    two-character canonical compositions, and Hangul vowel and trailing-consonant jamo."""
    seconds = {chr(cp) for cp in [*range(0x1161, 0x1176), *range(0x11A8, 0x11C3)]}
    for cp in range(sys.maxunicode + 1):
        decomposition = unicodedata.decomposition(chr(cp))
        if not decomposition or decomposition.startswith("<"):
            continue
        parts = [chr(int(h, 16)) for h in decomposition.split()]
        two = len(parts) == 2 and not unicodedata.combining(parts[1])
        if two and unicodedata.normalize("NFC", "".join(parts)) == chr(cp):
            seconds.add(parts[1])
    return seconds


def test_characters_that_fold_in_kind_fold_independently_of_their_neighbours() -> None:
    """What makes the per-character check enough for whole texts: every such character decomposes
    (NFKD) into starters first, so nothing reorders across it, and none starts with a character that
    composes with the starter before it, so NFKC of a text is the NFKC of its characters in turn."""
    seconds = _composition_seconds()
    checked = [chr(cp) for lo, hi in shape._FOLD_CHECKED for cp in range(lo, hi + 1)]
    folding = [c for c in checked if shape.folds_in_kind(c)]
    assert len(folding) > 2000  # Latin, Greek, Cyrillic and the punctuation of news pages
    for c in folding:
        nfkd = unicodedata.normalize("NFKD", c)
        assert not unicodedata.combining(nfkd[0]) and nfkd[0] not in seconds, hex(ord(c))
    pattern = shape._unfolding()
    assert all(pattern.search(c) is None for c in folding)
    folds = set(folding)
    assert all(pattern.search(c) is not None for c in checked if c not in folds)
    assert all(pattern.search(c) is not None for c in "東한\ud800\U0001f600ＡＢ")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("aZß İÄöÉ…„“–-ΣςЖж²ªº.,'’0"), max_size=30), max_size=10))
def test_keys_give_word_counts_for_folding_texts(texts: list[str]) -> None:
    _, counts = shape.norm_keys_and_word_counts(texts)
    assert counts == [shape.word_count(t) for t in texts]


# --------------------------------------------------------------------------- segmentation


_seg_text = st.lists(
    st.one_of(
        _awkward_text,
        st.sampled_from(["Ein langer Satz, der am Zeilenende einfach weitergeht und", "weiter unten endet.",
                         "- Punkt", "• zwei", "\u2013 Strich", "", "  ", "kurz", "ⅰ klein"]),
    ),
    max_size=25,
).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(_seg_text)
def test_segmented_blocks_are_what_the_block_constructor_makes(text: str) -> None:
    blocks = segment_text(text).blocks
    slow = [Block(b.index, b.text, b.kind, b.line, b.group, b.bullet) for b in blocks]
    assert list(map(_fields, blocks)) == list(map(_fields, slow))
    assert [b.index for b in blocks] == list(range(len(blocks)))
    assert all(b.kind is (BlockKind.LIST if b.bullet else BlockKind.PARAGRAPH) for b in blocks)


def test_continuation_needs_a_lowercase_letter_not_just_a_lowercase_character() -> None:
    long_line = "Ein langer Satz, der am Zeilenende einfach weitergeht und"
    assert [b.text for b in segment_text(f"{long_line}\nⅰ klein").blocks] == [long_line, "ⅰ klein"]
    assert [b.text for b in segment_text(f"{long_line}\nklein").blocks] == [f"{long_line} klein"]


# --------------------------------------------------------------------------- View helpers


def _doc(n: int, shuffled_indices: bool = False) -> Document:
    order = list(range(n))[::-1] if shuffled_indices else list(range(n))
    return Document(tuple(Block(i, f"Block {i}") for i in order))


@given(st.integers(0, 30), st.sets(st.integers(0, 35)), st.booleans())
def test_kept_and_kept_indices_equal_the_plain_loops(n: int, removed: set[int], shuffled: bool) -> None:
    doc = _doc(n, shuffled)
    view = View(doc, MappingProxyType({i: Removal(i, "a.b", Category.AD) for i in removed}))
    assert list(view.kept()) == [b for b in doc.blocks if b.index not in view.removals]
    assert view.kept_indices() == [b.index for b in doc.blocks if b.index not in view.removals]
    plain = View(doc, {i: Removal(i, "a.b", Category.AD) for i in removed})  # any Mapping
    assert list(plain.kept()) == list(view.kept())


# --------------------------------------------------------------------------- article building


def _kind(block: Block, nxt: Block | None, settings: Settings) -> BlockKind:
    if block.bullet:
        return BlockKind.LIST
    if shape.is_quoted(block.text):
        return BlockKind.QUOTE
    if nxt is not None and shape.block_is_heading_shaped(block, settings) and not shape.block_is_prose(
        block, settings
    ):
        return BlockKind.HEADING
    return BlockKind.PARAGRAPH


_block_text = st.one_of(
    _awkward_text,
    st.sampled_from(["„Es gibt nicht mehr viel.“", "Ein Titel", "Ein ganz normaler Satz mit genug Wörtern für einen "
                     "Absatz.", "Wahl 2025", "Warum?", "kurz.", " Eingerückt", "1. Liga", "...", "Der Satz endet..."]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_block_text, st.booleans()), max_size=12), st.integers(1, 30))
def test_kinds_equal_the_per_block_rule(rows: list[tuple[str, bool]], max_words: int) -> None:
    kept = [Block(i, t, bullet=b) for i, (t, b) in enumerate(rows)]
    s = Settings(heading_max_words=max_words)
    want = [_kind(b, kept[i + 1] if i + 1 < len(kept) else None, s) for i, b in enumerate(kept)]
    assert _kinds(kept, s) == want


def test_notes_come_from_the_first_block_a_note_rule_removed() -> None:
    doc = Document(tuple(Block(i, t) for i, t in enumerate(
        ["Dieser Text wurde maschinell übersetzt.", "Ein ganz normaler Satz mit genug Wörtern für einen Absatz.",
         "Zweite Notiz."]
    )))
    removals = {0: Removal(0, "disclaimer.machine_assisted", Category.DISCLAIMER),
                2: Removal(2, "disclaimer.machine_assisted", Category.DISCLAIMER)}
    article = build_article(View(doc, MappingProxyType(removals)), patterns=load())
    first = "Dieser Text wurde maschinell übersetzt."
    assert [(n.key, n.value) for n in article.notes] == [("machine_assisted", first)]
    assert [r.text for r in article.removed] == ["Dieser Text wurde maschinell übersetzt.", "Zweite Notiz."]
    plain = build_article(View(doc, MappingProxyType({0: Removal(0, "ads.marker", Category.AD)})), patterns=load())
    assert plain.notes == ()
    assert DEFAULT.heading_max_words > 0


@settings(max_examples=500, deadline=None)
@given(st.one_of(
    st.text(alphabet=st.sampled_from(" \t\n_.,-aZ0ß…„“\u00a0\u3000東\u0301²ⅰé\U0001f600\ud800"), max_size=60),
    st.text(alphabet=st.sampled_from("  a,"), max_size=30),  # lone spaces, space runs, runs after a space
    st.text(max_size=40),
))
def test_key_gaps_change_what_the_non_word_runs_change(text: str) -> None:
    assert shape.key_gaps_to_spaces(text) == shape._NON_WORD_LINE.sub(" ", text)


def test_the_class_with_the_ascii_shortcut_is_the_word_class() -> None:
    wordy, word = re.compile(f"[{shape._WORDY}]"), re.compile(r"\w")
    assert [c for c in map(chr, range(sys.maxunicode + 1)) if (wordy.match(c) is None) != (word.match(c) is None)] == []


@settings(max_examples=200, deadline=None)
@given(st.lists(_awkward_text, max_size=15))
def test_nfkc_text_by_text_is_nfkc_of_the_joined_texts(texts: list[str]) -> None:
    texts = [t.replace("\n", " ") for t in texts]
    assert "\n".join(map(shape._NFKC, texts)) == unicodedata.normalize("NFKC", "\n".join(texts))


# --------------------------------------------------------------------------- language


_lang_text = st.one_of(
    st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzäöüßéèàçñł ,.\nАБВгдежзи東京都はのにをかナ한글ệạ"
                                     "\u0301\ud800"), max_size=300),
    st.lists(st.sampled_from(["Der Rat hat am Dienstag beschlossen,", "the council said on Tuesday",
                              "le conseil a présenté mardi", "http://example.com/a?b=c", "mail@example.org",
                              "rada miasta przedstawiła", "12:30 | 4:1", "東京都の首都", "Việt Nam"]),
             max_size=40).map(" ".join),
    st.text(max_size=200),
)


@settings(max_examples=200, deadline=None)
@given(_lang_text, st.integers(0, 3))
def test_one_pass_language_detection_answers_as_the_detector(text: str, seed: int) -> None:
    import pytest

    from cleaners.language import _one_pass, _probabilities

    pytest.importorskip("langdetect_rs")
    one_pass = _one_pass("langdetect_rs", seed)
    assert one_pass is not None
    assert list(one_pass(text) or []) == _probabilities("langdetect_rs", text, seed)


def test_one_pass_language_detection_on_long_pages() -> None:
    import pytest

    from cleaners.language import _one_pass, _probabilities

    pytest.importorskip("langdetect_rs")
    page = " ".join(["Der Rat hat am Dienstag beschlossen, das Netz der Radwege zu erweitern."] * 300)
    for text in (page, "x" * 20000 + page, page + " http://example.com/" + "a" * 3000):
        assert list(_one_pass("langdetect_rs", 0)(text) or []) == _probabilities("langdetect_rs", text, 0)
    assert _one_pass("langdetect", 0) is None


# --------------------------------------------------------------------------- record serialisation

_json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20), st.sampled_from(["", "\u2028", "\ud800", '"\\\n\t', "Grüße „x“", "東京"]),
)
_json_value = st.recursive(
    _json_leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=25,
)


def _reference_dumps(record: dict[str, object]) -> str:
    import json

    from cleaners.record import RECORD_FIELDS

    ordered = {key: record[key] for key in RECORD_FIELDS if key in record}
    ordered.update({k: v for k, v in record.items() if k not in ordered})
    return json.dumps(ordered, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(["id", "text", "removed", "zz", "metadata", "language_confidence"]) | st.text(),
                       _json_value, max_size=6))
def test_dumps_record_writes_what_json_dumps_writes(record: dict[str, object]) -> None:
    from cleaners.record import dumps_record

    assert dumps_record(record) == _reference_dumps(record)


def test_dumps_record_hands_other_values_to_json() -> None:
    from enum import IntEnum

    from cleaners.record import dumps_record

    class Level(IntEnum):
        ONE = 1

    class Text(str):
        pass

    for record in ({"id": ("a", 1)}, {"metadata": {1: "x", None: "y"}}, {"n": Level.ONE}, {"t": Text("x")},
                   {"c": Category.AD}, {"f": [float("nan"), float("-inf"), 1e300, -0.0]}):
        assert dumps_record(record) == _reference_dumps(record)


def test_dumps_record_on_seed_articles() -> None:
    from pathlib import Path

    from cleaners import clean_text
    from cleaners.record import Source, article_record, dumps_record

    seeds = Path(__file__).resolve().parent.parent / "seeds"
    for path in sorted(seeds.glob("*.txt")):
        article = clean_text(path.read_text(encoding="utf-8"))
        if not article.is_empty:
            record = article_record(article, [Source(str(path), "0" * 64, "utf-8", "text")])
            assert dumps_record(record) == _reference_dumps(record)


# --------------------------------------------------------------------------- sentence ends

_END_ALPHABET = shape.SENTENCE_END_CHARS + shape.CLOSING_CHARS + "a .\n\r\t"


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(alphabet=st.sampled_from(_END_ALPHABET), max_size=12), _awkward_text))
def test_ends_sentence_equals_the_terminal_search(text: str) -> None:
    """Read from the end, as the regex ``[ends][closing]*$`` would find it (``$`` also before a
    final newline)."""
    assert shape.ends_sentence(text) == (shape._TERMINAL.search(text) is not None)


def test_ends_sentence_on_known_cases() -> None:
    cases = {"Satz.": True, "Satz.“": True, "Satz.\n": True, "Satz.)\n": True, "Satz.\n\n": False, "": False,
             "Satz": False, "“": False, "\n": False, "。」": True, "a.b": False}
    assert {t: shape.ends_sentence(t) for t in cases} == cases
    assert {t: shape._TERMINAL.search(t) is not None for t in cases} == cases


# --------------------------------------------------------------------------- article ids

_id_text = st.one_of(
    st.lists(_awkward_text, max_size=6).map("\n\n".join),
    st.text(alphabet=st.sampled_from(" \n\t\r\u00a0\u2028\u3000\x1c\x85a."), max_size=20),
    st.text(max_size=30),
)


@settings(max_examples=500, deadline=None)
@given(_id_text)
def test_collapsed_whitespace_equals_split_and_join(text: str) -> None:
    from cleaners.pipeline import _collapsed

    assert _collapsed(text) == " ".join(text.split())
    plain = " ".join(unicodedata.normalize("NFC", text).split())
    if any("\ud800" <= c <= "\udfff" for c in text):  # not UTF-8: no id either way
        return
    assert article_id(text) == hashlib.sha256(plain.encode("utf-8")).hexdigest()[:ARTICLE_ID_HEX]


def test_every_whitespace_character_but_the_space_is_unprintable() -> None:
    """What lets ``_collapsed`` trust ``isprintable``: ``str.split`` splits at exactly these."""
    spaces = [c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()]
    assert " " in spaces and all(not c.isprintable() for c in spaces if c != " ")


# --------------------------------------------------------------------------- Removal's constructor


@dataclass(frozen=True, slots=True)
class _PlainRemoval:  # Removal as the dataclass decorator writes it
    index: int
    rule: str
    category: Category
    detail: str = ""


@given(st.integers(-5, 10**6), st.text(max_size=10), st.sampled_from(list(Category)),
       st.one_of(st.none(), _awkward_text))
def test_removal_is_what_the_generated_constructor_makes(
    index: int, rule: str, category: Category, detail: str | None
) -> None:
    args: tuple[object, ...] = (index, rule, category) if detail is None else (index, rule, category, detail)
    fast, plain = Removal(*args), _PlainRemoval(*args)  # type: ignore[arg-type]
    assert dataclasses.astuple(fast) == dataclasses.astuple(plain)
    assert repr(fast) == repr(plain).replace("_PlainRemoval", "Removal") and hash(fast) == hash(plain)
    keywords = Removal(index=index, category=category, rule=rule, **({} if detail is None else {"detail": detail}))
    assert keywords == fast and dataclasses.replace(fast, rule="x.y") == Removal(index, "x.y", category, fast.detail)
    assert pickle.loads(pickle.dumps(fast)) == fast


def test_removal_keeps_the_constructor_errors_and_stays_frozen() -> None:
    for bad in ((), (1, "a"), (1, "a", Category.AD, "d", "extra")):
        with pytest.raises(TypeError):
            Removal(*bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Removal(1, "a", Category.AD, colour="red")  # type: ignore[call-arg]
    removal = Removal(1, "a.b", Category.AD)
    with pytest.raises(dataclasses.FrozenInstanceError):
        removal.rule = "c.d"  # type: ignore[misc]
    assert removal.detail == "" and not hasattr(removal, "__dict__")


@given(st.integers(0, 12), st.lists(st.tuples(st.integers(0, 15), st.sampled_from(["a.b", "c.d"])), max_size=8),
       st.lists(st.tuples(st.integers(0, 15), st.sampled_from(["e.f", "g.h"])), max_size=8))
def test_with_removals_equals_the_plain_merge(n: int, old: list[tuple[int, str]], new: list[tuple[int, str]]) -> None:
    view = View(_doc(n)).with_removals(Removal(i, rule, Category.AD) for i, rule in old)
    merged = dict(view.removals)
    for i, rule in new:
        merged.setdefault(i, Removal(i, rule, Category.AD))
    got = view.with_removals(Removal(i, rule, Category.AD) for i, rule in new)
    assert list(got.removals.items()) == list(merged.items()) and got.doc is view.doc
    assert isinstance(got.removals, MappingProxyType) and (got is view) == (not new)
