"""Template lines: lines a site repeats on many of its pages (menus, teasers, cookie text, footers).

One page cannot tell its own menu from its article; a site's other pages can. The flows keep, per
site, on how many distinct pages each normalised line occurred (CCNet hashes paragraphs the same
way to drop those that recur across a shard). :func:`template_detector` turns those counts into a
detector that removes a page's kept blocks that recur on many of the site's pages, with rule
``template.repeated_line`` and category :attr:`~cleaners.model.Category.TEMPLATE`.

Pure: statistics in, removals out. Collecting the statistics and storing them across runs is the
job of :mod:`flows.templates`.

The main failure mode is a site republishing real text on many pages: a wire story run in several
updates, a correction notice, a standard background paragraph. Three guards keep such text:

- prose blocks (sentences, not labels) must recur on a large share of the site's pages, as a
  footer disclaimer does, not just on a few as a republished story does;
- the template removals of a page may take at most half of its kept prose: more is the page's body;
- template removals never empty an article: if they would, none is made.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from cleaners import shape
from cleaners.detectors import Detector
from cleaners.model import Article, Category, Removal, View
from cleaners.patterns import PatternSet
from cleaners.segment import segment_text
from cleaners.settings import DEFAULT, Settings

__all__ = [
    "LINE_HASH_BYTES",
    "RULE",
    "TEMPLATE_DEFAULT",
    "SiteStats",
    "TemplateSettings",
    "article_line_hashes",
    "line_hash",
    "page_line_hashes",
    "template_detector",
]

RULE: Final = "template.repeated_line"
DETECTOR_NAME: Final = "template"

# Bytes of blake2b kept per line: 64 bits fit SQLite's INTEGER column and, at a few thousand lines
# per site, make a collision (two different lines counted as one) a 1-in-10^12 event.
LINE_HASH_BYTES: Final = 8

# --- thresholds (see TemplateSettings for what each one guards) ---------------------------------

# A site needs this many pages (this one included) before any line counts as its template: with two
# pages, a shared line is as often two versions of one story as it is a menu.
MIN_SITE_PAGES: Final = 3
# A line must occur on at least this many *other* pages of the site (three pages in all): the same
# reason; two pages sharing a line is common in news (update and original).
MIN_OTHER_PAGES: Final = 2
# ... and on at least this share of the site's other pages. Menus and footers sit on every page
# (share ~1.0); a "most read" box rotates and sits on a third or more of the pages crawled while
# it is up. 0.3 keeps a line that a series of stories repeats on a few pages of a big site.
MIN_SHARE: Final = 0.3
# Prose (a sentence of >= body_min_words words, see cleaners.shape.is_prose) needs more: footer
# disclaimers and newsletter blurbs are on (nearly) every page; a wire story, a correction notice
# or a standard background sentence ("Russland hatte die Ukraine im Februar 2022 angegriffen.")
# recurs on a few pages of a site, rarely on more than half of them.
PROSE_MIN_OTHER_PAGES: Final = 4
PROSE_MIN_SHARE: Final = 0.6
# Template removals may take at most this share of the words in a page's kept prose blocks; beyond
# that the repeated prose is the page's body (a story the site republished), so prose stays.
MAX_BODY_SHARE: Final = 0.5


@dataclass(frozen=True, slots=True)
class TemplateSettings:
    """The thresholds of :func:`template_detector` (defaults: the module constants above)."""

    min_site_pages: int = MIN_SITE_PAGES
    min_other_pages: int = MIN_OTHER_PAGES
    min_share: float = MIN_SHARE
    prose_min_other_pages: int = PROSE_MIN_OTHER_PAGES
    prose_min_share: float = PROSE_MIN_SHARE
    max_body_share: float = MAX_BODY_SHARE


TEMPLATE_DEFAULT: Final = TemplateSettings()


@dataclass(frozen=True, slots=True)
class SiteStats:
    """What is known of a site's pages: how many there are, and on how many of them each line is.

    ``lines`` maps :func:`line_hash` → number of distinct pages with that line; it may hold only
    the lines that matter to the pages at hand (the flows send a batch only the lines of its own
    pages). A private copy is kept; treat it as read-only.
    """

    site: str
    pages: int
    lines: Mapping[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lines", dict(self.lines))

    def count(self, line: int) -> int:
        return self.lines.get(line, 0)


def line_hash(text: str) -> int | None:
    """Stable 64-bit signed hash of a line's :func:`cleaners.shape.norm_key` (case, spacing and
    punctuation do not matter); ``None`` for a line without letters or digits."""
    key = shape.norm_key(text)
    if not key:
        return None
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=LINE_HASH_BYTES).digest()
    return int.from_bytes(digest, "big", signed=True)


def _hashes(texts: Iterable[str]) -> frozenset[int]:
    return frozenset(h for h in map(line_hash, texts) if h is not None)


def page_line_hashes(text: str, *, settings: Settings = DEFAULT) -> frozenset[int]:
    """The distinct line hashes of a text dump, segmented exactly as the text path segments it."""
    return _hashes(b.text for b in segment_text(text, settings=settings).blocks)


def article_line_hashes(article: Article) -> frozenset[int]:
    """The distinct line hashes of the document an article was cleaned from: its title, its blocks
    and every removed block together are all the blocks of that document. For an HTML page this
    is the only exact way to get them: which text the HTML path segments is its own business."""
    texts = [b.text for b in article.blocks] + [r.text for r in article.removed]
    if article.title is not None:
        texts.append(article.title)
    return _hashes(texts)


def template_detector(
    stats: SiteStats,
    settings: TemplateSettings = TEMPLATE_DEFAULT,
    *,
    page_counted: bool = True,
) -> tuple[str, Detector]:
    """A ``(name, detector)`` pair for ``extra_detectors`` that removes the page's kept blocks whose
    line recurs on enough of the site's other pages.

    ``page_counted``: ``stats`` include the page being cleaned (the flows' case), so the page's
    own occurrence is subtracted from every count and from the page total.
    """
    own = 1 if page_counted else 0
    other_pages = stats.pages - own

    def detect_template_lines(view: View, patterns: PatternSet, engine: Settings) -> list[Removal]:
        if other_pages < settings.min_other_pages or other_pages + 1 < settings.min_site_pages:
            return []
        kept = list(view.kept())
        found: list[tuple[int, bool, int]] = []  # index, is prose, other pages with the line
        for block in kept:
            h = line_hash(block.text)
            if h is None:
                continue
            others = max(0, stats.count(h) - own)
            prose = shape.is_prose(block.text, engine)
            need, share = (
                (settings.prose_min_other_pages, settings.prose_min_share)
                if prose
                else (settings.min_other_pages, settings.min_share)
            )
            if others >= need and others >= share * other_pages:
                found.append((block.index, prose, others))
        if not found:
            return []

        # Guard: repeated prose that is most of the page's prose is its body, not a template.
        words = {b.index: shape.word_count(b.text) for b in kept}
        kept_prose = sum(words[b.index] for b in kept if shape.is_prose(b.text, engine))
        found_prose = sum(words[i] for i, prose, _ in found if prose)
        if found_prose and found_prose > settings.max_body_share * kept_prose:
            found = [f for f in found if not f[1]]

        # Guard: never empty the article (a headline left alone is no article either).
        removed = {i for i, _, _ in found}
        rest = [b for b in kept if b.index not in removed]
        if rest and shape.is_heading_shaped(rest[0].text, engine) and not shape.is_prose(rest[0].text, engine):
            rest = rest[1:]
        if sum(words[b.index] for b in rest) < max(1, engine.article_min_words):
            return []

        return [
            Removal(i, RULE, Category.TEMPLATE, f"on {others + 1} of {other_pages + 1} pages of {stats.site}")
            for i, _, others in found
        ]

    return DETECTOR_NAME, detect_template_lines
