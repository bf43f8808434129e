"""The cleaning pipeline: segment, run detectors, apply their verdicts, shape the article.

    text ──segment──▶ Document ──detectors──▶ View (index → Removal) ──build──▶ Article

Detectors observe; only ``build_article`` decides what the article is, so every block that is
not in the article is in ``Article.removed`` with the rule that removed it.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence
from operator import attrgetter, itemgetter
from types import MappingProxyType

from cleaners import shape
from cleaners.detectors import DETECTORS, Detector
from cleaners.language import detect_language
from cleaners.model import (
    Article,
    Block,
    BlockKind,
    Category,
    Document,
    Note,
    Removal,
    View,
    article_blocks,
    removed_texts,
)
from cleaners.patterns import PatternSet
from cleaners.patterns import load as load_patterns
from cleaners.segment import segment_text
from cleaners.settings import DEFAULT, Settings

_N_WORDS = attrgetter("n_words")
_TEXT = attrgetter("text")
_RULE = attrgetter("rule")
_BLOCK, _KIND = itemgetter(0), itemgetter(1)  # of a (block, kind) pair of the article's body

# Hex characters of the sha256 kept in an article id: 80 bits, collision-free at any corpus size
# this pipeline will see, short enough for file names.
ARTICLE_ID_HEX = 20


def article_id(text: str) -> str:
    """Stable id of an article: hash of its NFC text with whitespace collapsed."""
    return hashlib.sha256(_collapsed(unicodedata.normalize("NFC", text)).encode("utf-8")).hexdigest()[:ARTICLE_ID_HEX]


def _collapsed(text: str) -> str:
    """``" ".join(text.split())``. An article's text is blocks joined by blank lines, each block
    words between single spaces: then joining the blocks with spaces is the answer, and checking
    that (no whitespace but single inner spaces: ``isprintable`` is False for every whitespace
    character other than the space) is ~3x faster than splitting the text into its words."""
    spaced = text.replace("\n\n", " ")
    if spaced.isprintable() and "  " not in spaced and spaced[:1] != " " and spaced[-1:] != " ":
        return spaced
    return " ".join(text.split())


def detect(
    doc: Document,
    *,
    patterns: PatternSet | None = None,
    settings: Settings = DEFAULT,
    detectors: Sequence[tuple[str, Detector]] = DETECTORS,
) -> View:
    """Run every detector in order; each sees the verdicts of the ones before it."""
    ps = patterns if patterns is not None else load_patterns()
    view = View(doc)
    for _name, fn in detectors:
        view = view.with_removals(fn(view, ps, settings))
    return view


def _kinds(kept: list[Block], settings: Settings) -> list[BlockKind]:
    """The kind of every kept block: a list item, a quotation, a heading (heading-shaped, not prose,
    and not the last block), or a paragraph. A heading has 1 to ``heading_max_words`` words, so
    longer blocks skip the heading checks."""
    kinds: list[BlockKind] = []
    append = kinds.append
    is_quoted, heading_shaped, prose = shape.is_quoted, shape.block_is_heading_shaped, shape.block_is_prose
    max_words, last = settings.heading_max_words, len(kept) - 1
    for i, block in enumerate(kept):
        if block.bullet:
            append(BlockKind.LIST)
        elif is_quoted(block.text):
            append(BlockKind.QUOTE)
        elif (
            i < last and 0 < block.n_words <= max_words and heading_shaped(block, settings)
            and not prose(block, settings)
        ):
            append(BlockKind.HEADING)
        else:
            append(BlockKind.PARAGRAPH)
    return kinds


def _title_from_head_chrome(view: View, first_kept: int | None, settings: Settings) -> int | None:
    """Index of a headline the content finder removed right before the article, if any."""
    if first_kept is None:
        return None
    for i in range(first_kept - 1, max(-1, first_kept - 1 - settings.title_lookback), -1):
        r = view.removals.get(i)
        if r is None:
            return None
        if r.rule != "content.head_chrome":
            continue
        if (
            shape.block_is_heading_shaped(view.doc.blocks[i], settings)
            and view.doc.blocks[i].n_words >= settings.recovered_title_min_words
            and not view.doc.blocks[i].bullet
            and not _repeats_on_page(view, i)
        ):
            return i
    return None


def _repeats_on_page(view: View, index: int) -> bool:
    """Menu labels recur on a page (desktop and mobile menus); a headline appears once."""
    key = view.doc.blocks[index].key
    return any(b.key == key for b in view.doc.blocks if b.index != index)


def build_article(
    view: View,
    *,
    settings: Settings = DEFAULT,
    patterns: PatternSet | None = None,
    extraction: str = "text",
    metadata: dict[str, str] | None = None,
) -> Article:
    ps = patterns if patterns is not None else load_patterns()
    kept = list(view.kept())
    leftover_words = sum(map(_N_WORDS, kept))
    too_short = 0 < leftover_words < settings.article_min_words
    if too_short:
        # What survived is not an article; record it as removed so no block goes unaccounted.
        view = view.with_removals(
            Removal(b.index, "article.too_short", Category.BOILERPLATE, f"{leftover_words} words left")
            for b in kept
        )
        kept = []
    kinds = _kinds(kept, settings)

    title: str | None = None
    body = list(zip(kept, kinds, strict=True))
    recovered = _title_from_head_chrome(view, kept[0].index if kept else None, settings)
    if recovered is not None:
        # The content finder is trained on body text (headlines are not body), so it drops the
        # headline with the head chrome; take it back as the title.
        title = view.doc.blocks[recovered].text
        view = View(view.doc, MappingProxyType({i: r for i, r in view.removals.items() if i != recovered}))
    elif body:
        first, kind = body[0]
        if kind is BlockKind.HEADING and first.n_words >= settings.title_min_words:
            title = first.text
            body = body[1:]

    lead = next((b.text for b, k in body if k is BlockKind.PARAGRAPH), None)
    body_texts = list(map(_TEXT, map(_BLOCK, body)))
    blocks = article_blocks(map(_KIND, body), body_texts)
    text = "\n\n".join(body_texts)

    doc_blocks = view.doc.blocks
    verdicts = sorted(view.removals.items())
    removed_at = [i for i, _ in verdicts]
    removals = [r for _, r in verdicts]
    removed = removed_texts(map(_TEXT, map(doc_blocks.__getitem__, removed_at)), removals)
    note_keys = ps.note_keys()
    notes: dict[str, Note] = {}  # the first block removed by a group with a note sets it
    if not note_keys.keys().isdisjoint(map(_RULE, removals)):
        for i, r in verdicts:
            note_key = note_keys.get(r.rule)
            if note_key is not None and note_key not in notes:
                notes[note_key] = Note(note_key, doc_blocks[i].text)

    empty_reason: str | None = None
    if too_short:
        empty_reason = f"too little text survived cleaning ({leftover_words} words)"
    elif not text:
        if not view.doc.blocks:
            empty_reason = "no text in input"
        elif title is not None:
            empty_reason = "only a headline survived cleaning"
        else:
            empty_reason = f"all {len(view.doc.blocks)} blocks removed as boilerplate"
        lead = None

    language, confidence = detect_language(f"{title}\n{text}" if title else text, settings) if text else (None, 0.0)
    return Article(
        id=article_id(text) if text else "",
        title=title,
        lead=lead,
        text=text,
        blocks=blocks,
        language=language,
        language_confidence=confidence,
        removed=removed,
        notes=tuple(notes.values()),
        metadata=dict(metadata or {}),
        extraction=extraction,
        empty_reason=empty_reason,
    )


def clean_document(
    doc: Document,
    *,
    settings: Settings = DEFAULT,
    extraction: str = "text",
    detectors: Sequence[tuple[str, Detector]] = DETECTORS,
    extra_detectors: Sequence[tuple[str, Detector]] = (),
    metadata: dict[str, str] | None = None,
) -> Article:
    """Detect and build. ``extra_detectors`` run after ``detectors`` (e.g. a template detector built
    from the line statistics of the page's site)."""
    patterns = load_patterns()
    view = detect(doc, patterns=patterns, settings=settings, detectors=(*detectors, *extra_detectors))
    return build_article(view, settings=settings, patterns=patterns, extraction=extraction, metadata=metadata)


def clean_text(
    text: str,
    *,
    url: str | None = None,
    settings: Settings = DEFAULT,
    extra_detectors: Sequence[tuple[str, Detector]] = (),
) -> Article:
    """Clean a plain-text dump (decoded, newline-normalised)."""
    doc = segment_text(text, settings=settings)
    return clean_document(Document(doc.blocks, "text", url), settings=settings, extra_detectors=extra_detectors)


def clean_html(
    html: str,
    *,
    url: str | None = None,
    settings: Settings = DEFAULT,
    extra_detectors: Sequence[tuple[str, Detector]] = (),
) -> Article:
    """Clean an HTML page: DOM pre-cleaning, trafilatura's main content as blocks, then the text
    cleaners on those blocks (``extraction="html:trafilatura"``). When trafilatura finds nothing
    (or the cleaners leave nothing of it), the visible text of the pre-cleaned page goes through the
    text path (``"html:visible_text"``). DOM removals lead ``Article.removed``; page metadata
    (published, author, site, url, description) lands in ``Article.metadata``. See
    :mod:`cleaners.htmlpath`."""
    from cleaners.htmlpath import HTML_DETECTORS, extract, finish_article

    page = extract(html, url=url)
    metadata = {k: v for k, v in page.metadata.items() if k != "title"}
    if page.blocks:
        article = clean_document(
            Document(page.blocks, "html", url), settings=settings, extraction="html:trafilatura",
            detectors=HTML_DETECTORS, extra_detectors=extra_detectors, metadata=metadata,
        )
        if not article.is_empty:
            return finish_article(article, page)
    doc = segment_text(page.visible_text(), settings=settings)
    article = clean_document(
        Document(doc.blocks, "html", url), settings=settings, extraction="html:visible_text",
        extra_detectors=extra_detectors, metadata=metadata,
    )
    return finish_article(article, page, from_blocks=False)
