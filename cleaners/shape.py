"""Surface features of a block of text: what a text dump still tells about a line."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache, partial
from itertools import compress, count, repeat
from operator import add
from typing import TYPE_CHECKING

from cleaners.settings import DEFAULT, Settings

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from cleaners.model import Block

# Scripts written without spaces between words (kana and CJK ideographs): a run of them is not one
# word. Two characters per word is the usual rule of thumb for Japanese and Chinese.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
WORD = re.compile(rf"[{_CJK}]{{1,2}}|[^\W{_CJK}]+", re.UNICODE)
_WORD = WORD
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
# Sentence end: . ! ? … optionally followed by closing quotes/brackets; a split between sentences
# (public: the finder reads them per document).
SENTENCE_END_CHARS = ".!?…。！？"
CLOSING_CHARS = "\"'“”»«)]」』）"
_TERMINAL = re.compile(f"[{re.escape(SENTENCE_END_CHARS)}][{re.escape(CLOSING_CHARS)}]*$")
# The sentence ends as one-character strings ("" is not among them: an empty rest is no end).
_SENTENCE_ENDS = frozenset(SENTENCE_END_CHARS)
SENTENCE_SPLIT = re.compile(
    r"[.!?…]+[\"'“”»«)\]]*\s+(?=[\"'„“»«(\[]?[A-ZÄÖÜÀ-Ý0-9])|[。！？]+[」』）]*"
)
_CODE_CHARS = frozenset('{}[]();=<>"$\\')
CODE_CHARS = _CODE_CHARS  # code punctuation (public: the finder counts it per document)
_OPEN_QUOTES = "„“\"»«‚‘'"
_CLOSE_QUOTES = "“”\"«»‘’'"


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def ends_sentence(text: str) -> bool:
    """``_TERMINAL.search(text) is not None``, read from the end: strip the closing characters and
    look at the last one left (``$`` also matches before a final newline, so that is tried too).
    A search would try every sentence end of a long paragraph on its way to the last."""
    if text.rstrip(CLOSING_CHARS)[-1:] in _SENTENCE_ENDS:
        return True
    return text[-1:] == "\n" and text[:-1].rstrip(CLOSING_CHARS)[-1:] in _SENTENCE_ENDS


def sentence_count(text: str) -> int:
    return sum(1 for part in SENTENCE_SPLIT.split(text) if part.strip())


def is_prose(text: str, settings: Settings = DEFAULT) -> bool:
    """A body paragraph: enough words and a sentence end."""
    return word_count(text) >= settings.body_min_words and ends_sentence(text)


def norm_key(text: str) -> str:
    """Whitespace/punctuation/case-insensitive key for duplicate detection."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _NON_WORD.sub(" ", folded).strip()


# _NON_WORD that stops at newlines, for many texts joined by newlines at once (underscores are
# turned into spaces first: a character class is ~30 % faster than the alternation with "_").
_NON_WORD_LINE = re.compile(r"[^\w\n]+", re.UNICODE)
# _NON_WORD_LINE.sub(" ", ...) in two steps (``key_gaps_to_spaces``), ~40 % faster: first each run
# from its first character that is not a space, then the runs of spaces that leaves. A lone space
# between two words (most runs) is left alone, and the first step starts with one character class,
# so re skips to the next candidate in C instead of starting a match attempt at every position.
# The ASCII word characters are listed before \w: re tests the members of a class in order, and
# the ASCII ones form a bitmap that answers most characters of a page without \w's Unicode lookup.
_WORDY = r"a-zA-Z0-9\w"  # the same set as \w
_GAP_FROM_NON_SPACE = re.compile(rf"[^{_WORDY}\n ][^{_WORDY}\n]*", re.UNICODE)
_SPACE_RUN = re.compile("  +")
_NFKC = partial(unicodedata.normalize, "NFKC")
# Text without kana or CJK ideographs: there WORD is plain \w+, which Python's re scans ~35 %
# faster (public: the finder tokenises whole pages).
ANY_CJK = re.compile(f"[{_CJK}]")


def key_gaps_to_spaces(text: str) -> str:
    """``_NON_WORD_LINE.sub(" ", text)``: every run of non-word characters other than a newline as
    one space. After the first step a run is its leading spaces plus one space, and runs stay apart
    (word characters or newlines lie between them), so collapsing spaces finishes each run alone."""
    return _SPACE_RUN.sub(" ", _GAP_FROM_NON_SPACE.sub(" ", text))


def norm_keys(texts: list[str]) -> list[str]:
    """``norm_key`` of every text, in one pass over the texts joined by newlines (a newline is a
    starter that composes with nothing, and NFKC/casefold never produce one, so the pieces match)."""
    joined = "\n".join(texts)
    if not texts or joined.count("\n") != len(texts) - 1:  # empty, or a text holds a newline
        return [norm_key(t) for t in texts]
    # NFKC and casefold text by text: most texts pass NFKC's quick check, where one text that does
    # not (an ellipsis) would send the whole joined page through the slow path; and casefold has a
    # fast path for ASCII texts that a joined page with one non-ASCII character loses.
    folded = "\n".join(map(str.casefold, map(_NFKC, texts)))
    keys = list(map(str.strip, key_gaps_to_spaces(folded.replace("_", " ")).split("\n")))
    return keys if len(keys) == len(texts) else [norm_key(t) for t in texts]


# Word counts from duplicate keys. A key is the text's words after NFKC and casefolding, joined by
# single spaces, so it holds the text's word count when folding keeps every run of word characters
# a run (no "_", which the key splits at, no "İ", which folds to "i" and a combining mark, no "½",
# whose NFKC holds a fraction slash, no CJK, which WORD splits into pairs). That holds for a text
# made only of characters that fold, one by one, into characters of their own kind: each such
# character is a starter whose decomposition starts with a starter (so NFKC of a text is the NFKC
# of its characters, one after the other) and folds into word characters if it is one, else into
# non-word characters, none of them "_", a newline or a combining mark. The check runs over the
# scripts news pages are written in; any other character sends its text to ``word_count``.
_FOLD_CHECKED = ((0x0000, 0x052F), (0x1E00, 0x22FF))  # Latin, Greek, Cyrillic; punctuation .. math
_WORD_CHAR = re.compile(r"\w")


def _is_plain(chars: str) -> bool:
    """No "_", newline or combining mark among ``chars``."""
    return not any(
        c in "_\n" or unicodedata.combining(c) or unicodedata.category(c).startswith("M") for c in chars
    )


def folds_in_kind(c: str) -> bool:
    """True when NFKC and casefolding turn the character ``c`` into characters of its own kind
    (word or non-word), in a way that does not depend on its neighbours (see above)."""
    if not _is_plain(c) or not _is_plain(unicodedata.normalize("NFKD", c)[0]):
        return False
    folded = unicodedata.normalize("NFKC", c).casefold()
    word = _WORD_CHAR.match(c) is not None
    return _is_plain(folded) and all((_WORD_CHAR.match(x) is not None) is word for x in folded)


@lru_cache(maxsize=1)
def _unfolding() -> re.Pattern[str]:
    """A character that may not fold in kind: outside the checked ranges, or failing the check
    (built on first use, ~6 ms)."""
    ranges: list[str] = []
    for lo, hi in _FOLD_CHECKED:
        run: list[int] = []
        for cp in range(lo, hi + 1):
            if folds_in_kind(chr(cp)):
                run.append(cp)
                continue
            if run:
                ranges.append(f"{re.escape(chr(run[0]))}-{re.escape(chr(run[-1]))}")
            run = []
        if run:
            ranges.append(f"{re.escape(chr(run[0]))}-{re.escape(chr(run[-1]))}")
    return re.compile(f"[^{''.join(ranges)}]")


def norm_keys_and_word_counts(texts: list[str]) -> tuple[list[str], list[int]]:
    """``norm_keys(texts)`` and ``[word_count(t) for t in texts]``: a text whose characters all fold
    in kind has as many words as its key (spaces + 1, 0 when empty); others are counted."""
    keys = norm_keys(texts)
    counts = list(map(add, map(str.count, keys, repeat(" ")), map(bool, keys)))
    for i in compress(count(), map(_unfolding().search, texts)):
        counts[i] = word_count(texts[i])
    return keys, counts


def code_char_ratio(text: str) -> float:
    if not text:
        return 0.0
    return sum(map(text.count, _CODE_CHARS)) / len(text)


_CODE_CHAR = re.compile("[" + re.escape("".join(sorted(_CODE_CHARS))) + "]")


def code_char_counts(texts: list[str]) -> list[int]:
    """How many code punctuation characters every text holds (the numerator of
    ``code_char_ratio``), one findall per text mapped at C level."""
    return list(map(len, map(_CODE_CHAR.findall, texts)))


_DIGITS = "0123456789"


def digit_count(text: str) -> int:
    return sum(map(text.count, _DIGITS))


def is_shouting(text: str, settings: Settings = DEFAULT) -> bool:
    """An all-capitals line of several words (promo headlines: 'DER DIGITALE EURO KOMMT!')."""
    for c in text:  # most lines fail at their second letter: no need to split them into words
        if c.isalpha() and not c.isupper():
            return False
    ws = [w for w in words(text) if any(c.isalpha() for c in w)]
    if len(ws) < settings.shout_min_words:
        return False
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters)


def is_quoted(text: str) -> bool:
    """The whole block is one quotation ('„Es gibt nicht mehr viel ...“')."""
    t = text.strip()
    return len(t) > 2 and t[0] in _OPEN_QUOTES and t[-1] in _CLOSE_QUOTES


# Marks a teaser or excerpt leaves where it cut the text short ('... erfuhr ich...', 'Legere will hand ove…').
TRUNCATION_MARKS = ("...", "…", "[…]", "[...]", "(…)", "(...)")


def is_truncated(text: str) -> bool:
    """The block ends where an excerpt cut it short (an ellipsis as its last characters)."""
    return text.rstrip().endswith(TRUNCATION_MARKS)


def is_heading_shaped(text: str, settings: Settings = DEFAULT, n_words: int | None = None) -> bool:
    """Short, no sentence end except ? or !, starts like a headline. ``n_words`` is the text's
    word count when the caller has it (a block's ``n_words``)."""
    t = text.strip()
    if not t or len(t) > settings.heading_max_chars:
        return False
    words = word_count(t) if n_words is None else n_words
    if words > settings.heading_max_words or words == 0:
        return False
    if t[-1] in ".,;:" and not t.endswith("..."):
        return False
    first = t[0]
    return first.isupper() or first.isdigit() or first in _OPEN_QUOTES


def block_is_heading_shaped(block: Block, settings: Settings = DEFAULT) -> bool:
    """:func:`is_heading_shaped` on a block, using its precomputed word count."""
    return is_heading_shaped(block.text, settings, block.n_words)


def block_is_prose(block: Block, settings: Settings = DEFAULT) -> bool:
    """:func:`is_prose` on a block, using its precomputed word count."""
    return block.n_words >= settings.body_min_words and ends_sentence(block.text)


def marked_runs(marked: Sequence[bool], bridges: Callable[[int], bool]) -> Iterator[tuple[int, int, int]]:
    """Runs of marked positions (teaser excerpts, quantity lines): each run starts and ends at a
    marked position, and an unmarked position inside it is one ``bridges`` accepts. Yields
    ``(start, end, marked count)``, ``end`` inclusive, in order; a run resumes the scan after its end."""
    j, n = 0, len(marked)
    while j < n:
        if not marked[j]:
            j += 1
            continue
        start = end = j
        count = 0
        while j < n and (marked[j] or bridges(j)):
            if marked[j]:
                count += 1
                end = j
            j += 1
        yield start, end, count
        j = max(j, end + 1)
