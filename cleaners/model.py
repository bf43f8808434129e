"""Core data model: frozen, typed dataclasses shared by every cleaner.

A page becomes a ``Document``: an ordered tuple of ``Block``s. Detectors look at a ``View`` (the
document plus what earlier detectors already removed) and answer with ``Removal``s; they never
edit text. The pipeline applies the removals and builds an ``Article``, so every stripped line
carries the rule that stripped it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import accumulate
from types import MappingProxyType
from typing import cast

from ahocorasick_rs import AhoCorasick

from cleaners import shape  # shape needs the model only for type hints


class BlockKind(StrEnum):
    """What a block is, as far as a text dump can tell."""

    HEADING = "heading"
    PARAGRAPH = "paragraph"
    QUOTE = "quote"
    LIST = "list"


class Category(StrEnum):
    """Why something was removed, coarse enough to count and report."""

    NAVIGATION = "navigation"
    CAPTION = "caption"
    TEASER = "teaser"
    CONSENT = "consent"
    SCRIPT = "script"
    AD = "ad"
    PROMO = "promo"
    NEWSLETTER = "newsletter"
    DISCLAIMER = "disclaimer"
    METADATA = "metadata"
    TAGS = "tags"
    SOCIAL = "social"
    COMMENTS = "comments"
    DUPLICATE = "duplicate"
    PULL_QUOTE = "pull_quote"
    BOILERPLATE = "boilerplate"
    TEMPLATE = "template"


@dataclass(frozen=True, slots=True)
class Block:
    """One unit of text of the input, in document order.

    ``index`` is the position in the document, ``line`` the 1-based line of the input where the
    block starts, ``group`` the blank-line separated paragraph group it belongs to (consecutive
    lines with no blank line between them share a group), ``bullet`` whether the source marked it
    as a list item (``- `` / ``• `` / ``* ``; the marker is stripped from ``text``).
    """

    index: int
    text: str
    kind: BlockKind = BlockKind.PARAGRAPH
    line: int = 0
    group: int = 0
    bullet: bool = False
    # Derived once, when the block is made (every detector needs them; recomputing them per
    # detector was a fifth of the engine's time): the duplicate-detection key and the word count.
    key: str = field(default="", compare=False)
    n_words: int = field(default=-1, compare=False)

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", shape.norm_key(self.text))
        if self.n_words < 0:
            object.__setattr__(self, "n_words", shape.word_count(self.text))


@dataclass(frozen=True, slots=True)
class Removal:
    """A detector's verdict on one block: remove it, and why.

    ``rule`` is a stable snake_case id such as ``consent.embed_notice``; ``detail`` says what
    matched (a pattern, the block it duplicates, ...), for humans reading the record.
    """

    index: int
    rule: str
    category: Category
    detail: str = ""


# A page gets ~170 Removals (the content finder's most of them). The frozen dataclass's generated
# ``__init__`` sets each field through ``object.__setattr__``; calling the slots' own setters is
# ~40 % faster (0.3 us instead of 0.5 us), and makes the same object (``tests/test_speed_core.py``).
_SET_INDEX, _SET_RULE, _SET_CATEGORY, _SET_DETAIL = (
    getattr(Removal, name).__set__ for name in ("index", "rule", "category", "detail")
)


def _removal_init(self: Removal, index: int, rule: str, category: Category, detail: str = "") -> None:
    _SET_INDEX(self, index)
    _SET_RULE(self, rule)
    _SET_CATEGORY(self, category)
    _SET_DETAIL(self, detail)


Removal.__init__ = _removal_init  # type: ignore[method-assign]


@dataclass(frozen=True, slots=True)
class Note:
    """A fact about the article that is not body text (e.g. a machine-assistance disclaimer)."""

    key: str
    value: str


# n -> n + 1: a block's offset step in ``TextIndex.joined`` (its text and the newline after it)
_PLUS_ONE = (1).__add__


@dataclass(frozen=True, slots=True, eq=False)
class LiteralQueries:
    """Several (literals, max_chars) queries, answered together by ``TextIndex.lines_containing_each``
    with one Aho-Corasick pass over the document for all their literals. The phrase rules ask for
    94 literals a page; one ``str.find`` pass per literal cost 0.44 ms a page on the 351 dev pages,
    the automaton's pass with the blocks of its ~150 hits 0.11 ms.

    Literals are non-empty and hold no newline, so every occurrence lies inside one block."""

    queries: tuple[tuple[tuple[str, ...], int | None], ...]
    ids: tuple[tuple[int, ...], ...]  # per query, the numbers of its literals in ``automaton``
    automaton: AhoCorasick | None  # None: no query has a literal

    @classmethod
    def build(cls, queries: Iterable[tuple[Iterable[str], int | None]]) -> LiteralQueries:
        asked = tuple((tuple(literals), max_chars) for literals, max_chars in queries)
        literals = sorted({lit for lits, _ in asked for lit in lits})
        bad = [lit for lit in literals if not lit or "\n" in lit]
        if bad:
            raise ValueError(f"literals must be non-empty and hold no newline: {bad!r}")
        number = {lit: k for k, lit in enumerate(literals)}
        ids = tuple(tuple(number[lit] for lit in lits) for lits, _ in asked)
        return cls(asked, ids, AhoCorasick(literals) if literals else None)


@dataclass(frozen=True, slots=True, eq=False)
class TextIndex:
    """The texts of a document's blocks, lower-cased once for every detector that needs them.

    Phrase rules match lower-cased text, and their literal prefilters search all blocks at once.
    Most rules only cover short blocks (``max_chars``), so the blocks are kept in order of length:
    ``joined`` holds the lower-cased texts by increasing length (ties in document order) joined
    by newlines, and the blocks a length limit admits are a prefix of it.
    """

    texts: tuple[str, ...]
    lows: tuple[str, ...]
    order: tuple[int, ...]  # block positions by increasing text length
    lengths: tuple[int, ...]  # their text lengths
    joined: str
    starts: tuple[int, ...]  # offset in ``joined`` of each block of ``order``

    @classmethod
    def of(cls, texts: Iterable[str]) -> TextIndex:
        texts = tuple(texts)
        lows = tuple(map(str.lower, texts))
        sizes = list(map(len, texts))
        order = tuple(sorted(range(len(texts)), key=sizes.__getitem__))
        by_length = list(map(lows.__getitem__, order))
        return cls(
            texts, lows, order, tuple(map(sizes.__getitem__, order)), "\n".join(by_length),
            tuple(accumulate(map(_PLUS_ONE, map(len, by_length[:-1])), initial=0)),
        )

    def within(self, max_chars: int | None) -> tuple[int, ...]:
        """Positions of the blocks whose text is at most ``max_chars`` long (None: all), shortest first."""
        return self.order if max_chars is None else self.order[: bisect_right(self.lengths, max_chars)]

    def lines_containing_each(self, queries: LiteralQueries) -> list[list[int]]:
        """Per query of ``queries`` (literals, max_chars): the positions, in order, of the blocks at
        most ``max_chars`` long (None: any) whose lower-cased text holds one of its literals. One
        pass of the queries' automaton over the blocks the longest query admits: the line rules
        share literals ("foto", "lizenz"), and a pass per literal would cover the text again for
        each."""
        counts = [self._count_within(max_chars) for _, max_chars in queries.queries]
        reach = max(counts, default=0)
        if queries.automaton is None or reach == 0:
            return [[] for _ in counts]
        starts = self.starts
        joined = self.joined if reach == len(starts) else self.joined[: starts[reach] - 1]
        # per literal, the ranks (positions in ``order``) of the blocks holding it, ascending: the
        # hits of one literal come in text order (they all have its length and are reported by end)
        held: dict[int, list[int]] = {}
        get = held.get
        for lit, at, _ in queries.automaton.find_matches_as_indexes(joined, overlapping=True):
            rank = bisect_right(starts, at) - 1
            ranks = get(lit)
            if ranks is None:
                held[lit] = [rank]
            elif ranks[-1] != rank:
                ranks.append(rank)
        rank_of = self.order.__getitem__
        out: list[list[int]] = []
        for ids, n in zip(queries.ids, counts, strict=True):
            found: set[int] = set()
            for lit in ids:
                ranks = get(lit)
                if ranks:  # the blocks of the first n ranks are a prefix
                    found.update(ranks[: bisect_left(ranks, n)])
            out.append(sorted(map(rank_of, found)))
        return out

    def _count_within(self, max_chars: int | None) -> int:
        """How many blocks are at most ``max_chars`` long (None: all): a prefix of ``order``."""
        return len(self.order) if max_chars is None else bisect_right(self.lengths, max_chars)


@dataclass(frozen=True, slots=True)
class Document:
    """A segmented page."""

    blocks: tuple[Block, ...]
    source_format: str = "text"  # "text" | "html"
    url: str | None = None
    # TextIndex of the blocks, built by the first detector that asks (see ``text_index``).
    _text_index: TextIndex | None = field(default=None, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.blocks)

    def text_index(self) -> TextIndex:
        """The blocks' texts, lower-cased, as a TextIndex: built on first use and kept with the
        document (it is derived from the immutable blocks, so every caller sees the same one)."""
        index = self._text_index
        if index is None:
            index = TextIndex.of(b.text for b in self.blocks)
            object.__setattr__(self, "_text_index", index)
        return index


@dataclass(frozen=True, slots=True)
class View:
    """What a detector sees: the document and the verdicts reached so far (index -> Removal)."""

    doc: Document
    removals: Mapping[int, Removal] = field(default_factory=lambda: MappingProxyType({}))

    def is_removed(self, index: int) -> bool:
        return index in self.removals

    def rule_at(self, index: int) -> str | None:
        r = self.removals.get(index)
        return r.rule if r is not None else None

    def kept(self) -> Iterator[Block]:
        return (b for b in self.doc.blocks if b.index not in self.removals)

    def kept_indices(self) -> list[int]:
        return [b.index for b in self.doc.blocks if b.index not in self.removals]

    def with_removals(self, new: Iterable[Removal]) -> View:
        """A new view with ``new`` added; the first verdict on a block stands. (With nothing new,
        this view itself: most detectors find nothing on most pages, and a view is immutable.)"""
        items = iter(new)
        first = next(items, None)
        if first is None:
            return self
        merged = dict(self.removals)
        merged.setdefault(first.index, first)
        for r in items:
            merged.setdefault(r.index, r)
        return View(self.doc, MappingProxyType(merged))


@dataclass(frozen=True, slots=True)
class ArticleBlock:
    kind: BlockKind
    text: str


@dataclass(frozen=True, slots=True)
class RemovedText:
    text: str
    rule: str
    category: Category
    detail: str = ""


# ---------------------------------------------------------------------------------- fast builders
# A frozen dataclass's generated ``__init__`` sets every field through ``object.__setattr__`` (and
# Block's runs ``__post_init__``): ~1.5 us per Block, a fifth of segmentation. A page makes hundreds
# of blocks, removed texts and article blocks, so the engine builds them through a mutable twin class with the same
# slots: its ``__init__`` stores the slots directly, then switches the object to the frozen class
# (CPython allows that between classes of identical layout, and refuses loudly otherwise). The
# objects are exactly what the frozen class's constructor makes (``tests/test_speed_core.py``).


class _BlockTwin:
    __slots__ = Block.__slots__

    def __init__(
        self, index: int, text: str, kind: BlockKind, line: int, group: int, bullet: bool, key: str, n_words: int
    ) -> None:
        self.index = index
        self.text = text
        self.kind = kind
        self.line = line
        self.group = group
        self.bullet = bullet
        self.key = key
        self.n_words = n_words
        self.__class__ = Block  # type: ignore[assignment]


class _RemovedTextTwin:
    __slots__ = RemovedText.__slots__

    def __init__(self, text: str, removal: Removal) -> None:
        self.text = text
        self.rule = removal.rule
        self.category = removal.category
        self.detail = removal.detail
        self.__class__ = RemovedText  # type: ignore[assignment]


class _ArticleBlockTwin:
    __slots__ = ArticleBlock.__slots__

    def __init__(self, kind: BlockKind, text: str) -> None:
        self.kind = kind
        self.text = text
        self.__class__ = ArticleBlock  # type: ignore[assignment]


def make_blocks(
    texts: Sequence[str],
    kinds: Iterable[BlockKind],
    lines: Iterable[int],
    groups: Iterable[int],
    bullets: Iterable[bool],
    keys: Iterable[str],
    n_words: Iterable[int],
) -> tuple[Block, ...]:
    """``Block(i, texts[i], kinds[i], ...)`` for every i, without the per-block ``__post_init__``:
    ``keys`` and ``n_words`` must be ``shape.norm_key`` and ``shape.word_count`` of the texts."""
    blocks = map(_BlockTwin, range(len(texts)), texts, kinds, lines, groups, bullets, keys, n_words)
    return cast("tuple[Block, ...]", tuple(blocks))


def article_blocks(kinds: Iterable[BlockKind], texts: Iterable[str]) -> tuple[ArticleBlock, ...]:
    """``ArticleBlock(kind, text)`` for every pair of ``kinds`` and ``texts``."""
    return cast("tuple[ArticleBlock, ...]", tuple(map(_ArticleBlockTwin, kinds, texts)))


def removed_texts(texts: Iterable[str], removals: Iterable[Removal]) -> tuple[RemovedText, ...]:
    """``RemovedText(text, r.rule, r.category, r.detail)`` for every pair of ``texts`` and ``removals``."""
    return cast("tuple[RemovedText, ...]", tuple(map(_RemovedTextTwin, texts, removals)))


@dataclass(frozen=True, slots=True)
class Article:
    """The clean result of one page.

    ``text`` is the lead and body (title excluded), blocks separated by one blank line.
    ``id`` is a stable hash of the normalised text, so the same article reached through two inputs
    is one article. ``empty_reason`` is set (and ``text`` empty) when no article survived.
    """

    id: str
    title: str | None
    lead: str | None
    text: str
    blocks: tuple[ArticleBlock, ...]
    language: str | None
    language_confidence: float
    removed: tuple[RemovedText, ...]
    notes: tuple[Note, ...] = ()
    metadata: Mapping[str, str] = field(default_factory=dict)
    extraction: str = "text"
    empty_reason: str | None = None

    @property
    def is_empty(self) -> bool:
        return not self.text

    def removals_by_rule(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.removed:
            counts[r.rule] = counts.get(r.rule, 0) + 1
        return counts

    def removals_by_category(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.removed:
            counts[r.category.value] = counts.get(r.category.value, 0) + 1
        return counts
