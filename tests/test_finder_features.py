"""The finder computes its block features per document (one tokenisation, numpy counts). These
tests pin that fast path to a plain per-block reference written the obvious way, so a speed change
can never silently change what the trained model sees."""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleaners import finder, shape
from cleaners.model import Block, Category, Document, Removal, View
from cleaners.segment import segment_text
from cleaners.settings import DEFAULT

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def reference_base(block: Block, sw: frozenset[str], dup: int, rule_hit: bool) -> list[float]:
    text = block.text
    ws = shape.words(text)
    n_words = len(ws)
    nw = n_words or 1
    alpha = [w for w in ws if w[0].isalpha()]
    na = len(alpha) or 1
    n_stop = sum(1 for w in ws if w.lower() in sw)
    chars = len(text)
    terminal = shape.ends_sentence(text)
    prose = n_words >= DEFAULT.body_min_words and terminal
    len_log = math.log1p(chars)
    stop_density = n_stop / nw
    n_title = sum(1 for w in alpha if w[0].isupper())
    n_caps = sum(1 for w in alpha if w.isupper() and len(w) != 1)
    return [
        len_log,
        math.log1p(n_words),
        float(terminal),
        float(text[-1:] == ":"),
        stop_density,
        math.log1p(n_stop),
        n_title / na,
        shape.digit_count(text) / (chars or 1),
        shape.code_char_ratio(text),
        float(any(c in text for c in "|»›•·/>«‹")),
        float(block.bullet),
        math.log1p(shape.sentence_count(text)),
        min(sum(map(len, ws)) / nw, 20.0) / 10.0,
        n_caps / na,
        float(text[:1].islower()),
        float(text[:1] in "„“\"»«'‚"),
        float(finder._URLISH.search(text) is not None),
        float(prose),
        math.log1p(dup),
        float(rule_hit),
        len_log if prose else 0.0,
        stop_density * math.log1p(n_words),
        len_log if terminal else 0.0,
    ]


def reference_language(blocks: tuple[Block, ...]) -> str:
    counts: Counter[str] = Counter()
    for b in blocks[: finder.LANGUAGE_SAMPLE_BLOCKS]:
        for w in shape.words(b.text):
            for lang in finder.STOPWORD_LANGS:
                if w.lower() in finder.stopwords(lang):
                    counts[lang] += 1
    if not counts:
        return ""
    best = max(counts.values())
    return next(lang for lang in finder.STOPWORD_LANGS if counts[lang] == best)


def check(view: View) -> None:
    blocks = view.doc.blocks
    lang = finder.page_language(blocks)
    assert lang == reference_language(blocks)
    rows = finder.features(view, DEFAULT, lang)
    sw = finder.stopwords(lang)
    keys = Counter(b.key for b in blocks)
    want = np.array(
        [reference_base(b, sw, keys[b.key] - 1, view.is_removed(b.index)) for b in blocks], dtype=np.float64
    ).reshape(len(blocks), len(finder._BASE))
    got = rows[:, : len(finder._BASE)]
    for j, name in enumerate(finder._BASE):
        np.testing.assert_allclose(got[:, j], want[:, j], rtol=1e-12, atol=1e-12, err_msg=name)
    # the content words stage 2's cohesion reads
    content = [
        {w for w in map(str.lower, shape.words(b.text)) if len(w) >= finder.CONTENT_WORD_MIN and w not in sw}
        for b in blocks
    ]
    assert finder.DocTokens.of(blocks).content_words(lang) == content


def test_features_match_reference_on_seeds() -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        doc = segment_text(path.read_text(encoding="utf-8"))
        removals = [Removal(i, "test.rule", Category.BOILERPLATE) for i in range(0, len(doc.blocks), 5)]
        check(View(doc).with_removals(removals))


WORDS = ["Die", "der", "und", "DPA", "Regierung", "hat", "am", "Montag", "the", "and", "of", "NEWS", "x",
         "a", "I", "2024", "12,5", "www.example.de", "https://t.co/x", "mail@example.com", "東京", "日本語",
         "Straße", "ÄRGER", "İstanbul", "„Zitat“", "{\"a\":1}", "»", "|", "•", "…", "?", "!", "ǅ", "Ⅻ", "_x_",
         "𝐀𝐁c", "𠀋", "😉", "ǅX", "Dr.", "U.S.", "Ende.", "。。", "!!", "„Zitat.“", "\u2003", "(Text)."]
line = st.lists(st.sampled_from(WORDS), min_size=1, max_size=30).map(" ".join)
ending = st.sampled_from(["", ".", ":", " ...", "?", "!“", "。"])


@given(st.lists(st.tuples(line, ending, st.booleans()), min_size=1, max_size=40))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_features_match_reference_on_random_documents(lines: list[tuple[str, str, bool]]) -> None:
    blocks = tuple(
        Block(index=i, text=(text + end).strip(), bullet=bullet) for i, (text, end, bullet) in enumerate(lines)
    )
    blocks = tuple(b for b in blocks if b.text)
    blocks = tuple(Block(index=i, text=b.text, bullet=b.bullet) for i, b in enumerate(blocks))
    if not blocks:
        return
    check(View(Document(blocks)).with_removals([Removal(0, "test.rule", Category.BOILERPLATE)]))


@given(st.lists(st.tuples(st.sampled_from(["", ":", "„", "»", "'", "a", "Ä", "ǅ", "ⓐ", "1", "\n", " "]),
                          st.lists(st.sampled_from(WORDS), max_size=6).map(" ".join),
                          st.sampled_from(["", ":", ".", "“", ".\n "]), st.booleans()),
                min_size=1, max_size=12))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_features_match_reference_at_block_edges(rows: list[tuple[str, str, str, bool]]) -> None:
    """First and last characters decide four features: empty texts (a quotation start by the
    reference's ``in``), lone colons, quotes, lower and title case, newlines inside blocks (not
    last: there ``shape.ends_sentence``'s ``$`` matches before the newline, where the finder,
    which reads a block's newlines as spaces, sees no sentence end)."""
    blocks = tuple(Block(index=i, text=a + text + z, bullet=b) for i, (a, text, z, b) in enumerate(rows))
    check(View(Document(blocks)).with_removals([Removal(0, "test.rule", Category.BOILERPLATE)]))


def test_block_texts_with_newlines_are_one_block_each() -> None:
    """HTML blocks may hold newlines; the joined tokenisation must still count them per block."""
    blocks = (Block(0, "Erste Zeile\nzweite Zeile der Meldung."), Block(1, "Noch ein Absatz hier."))
    check(View(Document(blocks)))


def test_batch_keys_and_counts_equal_per_block_ones() -> None:
    texts = ["Ärger_im   Büro!", "ＡＢＣ full-width", "東京 と 日本語", "", "x", "a_b__c", "Straße STRASSE"]
    assert shape.norm_keys(texts) == [shape.norm_key(t) for t in texts]


def test_word_bit_is_what_regex_w_matches() -> None:
    word = re.compile(r"\w")
    for code in range(0x30000):
        c = chr(code)
        assert bool(finder.char_bits(c) & finder.WORD_CHAR) == (word.match(c) is not None), hex(code)


def test_class_table_is_char_bits_of_every_bmp_character() -> None:
    table = finder._class_table()
    assert table.tolist() == [finder.char_bits(chr(code)) for code in range(len(table))]


def test_lower_casing_finds_what_ignorecase_matches_for_the_url_hint_letters() -> None:
    """blocks_matching finds its hints by str.find in the lower-cased text (when that keeps its
    length); the URL pattern is matched with IGNORECASE. Both agree on every character."""
    letters = set("".join(finder._URLISH_HINTS))
    any_letter = re.compile("[" + re.escape("".join(sorted(letters))) + "]", re.IGNORECASE)
    by_letter = {letter: re.compile(re.escape(letter), re.IGNORECASE) for letter in letters}
    for code in range(0x30000):
        c = chr(code)
        low = c.lower()
        if len(low) != 1 or (low not in letters and any_letter.fullmatch(c) is None):
            continue  # (a longer lower case sends the page to the IGNORECASE scan)
        for letter, pattern in by_letter.items():
            assert (low == letter) == (pattern.fullmatch(c) is not None), (hex(code), letter)


@given(st.lists(st.text(alphabet=st.sampled_from(list("wWhHtTpP.:/@cComMdDeE İK x-")), max_size=30),
                min_size=1, max_size=8))
@settings(max_examples=300, deadline=None)
def test_blocks_matching_is_a_search_per_block(texts: list[str]) -> None:
    toks = finder.DocTokens.of(tuple(Block(i, t) for i, t in enumerate(texts)))
    got = toks.blocks_matching(finder._URLISH, finder._URLISH_HINTS).tolist()
    assert got == [float(finder._URLISH.search(t) is not None) for t in toks.texts]


# Any characters at all, with the awkward ones (astral letters, title case, CJK, surrogates,
# sentence ends and closing quotes, Unicode spaces) over-represented.
awkward = st.text(
    alphabet=st.one_of(st.sampled_from(list("aZß_ǅǈİı東京かな𝐀𠀋😉.!?…。！？\"“”»«)]」 \u2003\u00a0-1")),
                       st.characters()),
    max_size=40,
)


@given(st.lists(awkward, min_size=1, max_size=12))
@settings(max_examples=300, deadline=None)
def test_word_shapes_and_sentence_counts_match_the_string_methods(texts: list[str]) -> None:
    blocks = tuple(Block(i, t) for i, t in enumerate(texts))
    toks = finder.DocTokens.of(blocks)
    alpha, first_upper, upper, lens = toks.word_shapes()
    assert alpha.tolist() == [w[0].isalpha() for w in toks.tokens]
    assert first_upper.tolist() == [w[0].isupper() for w in toks.tokens]
    assert upper.tolist() == [w.isupper() for w in toks.tokens]
    assert lens.tolist() == [len(w) for w in toks.tokens]
    assert toks.sentence_counts().tolist() == [shape.sentence_count(t) for t in toks.texts]
    assert toks.per_block().tolist() == [len(shape.words(t)) for t in toks.texts]
