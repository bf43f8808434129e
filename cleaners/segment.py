"""Split a text dump into blocks.

Scrapers write one visible text element per line. Some separate elements with blank lines
(seeds 000, 002), others with single newlines (seeds 001, 003), and a few hard-wrap long
paragraphs. So: every non-empty line is a block, except that a hard-wrapped continuation line is
joined to the line before it. The blank-line group a block sits in is kept as ``Block.group``.
"""

from __future__ import annotations

import re
from itertools import accumulate, compress, count, repeat
from operator import and_, eq, gt, itemgetter, sub

from cleaners.model import BlockKind, Document, make_blocks
from cleaners.settings import DEFAULT, Settings
from cleaners.shape import norm_keys_and_word_counts

# List markers scrapers emit for <li> items (lines arrive stripped, so the marker comes first).
_BULLET_CHARS = frozenset("-*•·▪◦‣\u2013")
_BULLET = re.compile(r"^\s*(?:[-*•·▪◦‣]|\u2013)\s+(?=\S)")
_SPACE_CHARS = " \t\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
_SPACES = re.compile(f"[{_SPACE_CHARS}]+")
# What _SPACES would change: a run of two spaces, or any space character other than " ". Most
# dumps hold none; looking for them with ``in`` is ~7x faster than letting the regex replace every
# single space with itself.
_SPACE_FIXES = ("  ", *_SPACE_CHARS[1:])
_KIND_OF_BULLET = (BlockKind.PARAGRAPH, BlockKind.LIST)  # indexed by Block.bullet
# Characters after which a line is complete (sentence end, label, quote close).
_LINE_END = re.compile(r"[.!?:;…\"“”»«')\]]$")


def _is_continuation(prev: str, nxt: str, settings: Settings) -> bool:
    """True when ``nxt`` continues the hard-wrapped paragraph ``prev``."""
    if len(prev) < settings.wrap_min_line_chars or _LINE_END.search(prev):
        return False
    first = nxt[:1]
    return first.isalpha() and first.islower()


def _collapse_spaces(text: str) -> str:
    """Runs of horizontal space characters as one space (never touches a newline)."""
    return _SPACES.sub(" ", text) if any(s in text for s in _SPACE_FIXES) else text


def segment_text(text: str, *, settings: Settings = DEFAULT) -> Document:
    """Segment a decoded, newline-normalised text dump into a Document."""
    stripped = list(map(str.strip, _collapse_spaces(text).split("\n")))
    texts = list(filter(None, stripped))  # the non-empty lines ...
    linenos = list(compress(count(1), stripped))  # ... and their 1-based line numbers
    n = len(texts)
    gaps = list(map(sub, linenos[1:], linenos))  # gaps[i - 1]: lines from line i - 1 to line i
    # A blank line between two lines starts a new group.
    groups = list(accumulate(map(gt, gaps, repeat(1)), initial=0)) if n else []
    bullets = [False] * n
    for i in compress(count(), map(_BULLET_CHARS.__contains__, map(itemgetter(0), texts))):
        m = _BULLET.match(texts[i])
        if m is not None:
            bullets[i] = True
            texts[i] = texts[i][m.end() :]
    # Hard-wrapped paragraphs: a line right under another (no blank line between) may continue the
    # block that line belongs to; ``joined_to`` maps such a line to that block's first line. Only a
    # line that starts in lower case can continue one, so only those are looked at.
    joined_to: dict[int, int] = {}
    lower_after_one = map(and_, map(eq, gaps, repeat(1)), map(str.islower, map(itemgetter(0), texts[1:])))
    for i in compress(range(1, n), lower_after_one):
        if bullets[i]:
            continue
        head = joined_to.get(i - 1, i - 1)
        if not bullets[head] and _is_continuation(texts[head], texts[i], settings):
            texts[head] = f"{texts[head]} {texts[i]}"
            joined_to[i] = head
    if joined_to:
        firsts = [i for i in range(n) if i not in joined_to]
        texts = [texts[i] for i in firsts]
        linenos = [linenos[i] for i in firsts]
        groups = [groups[i] for i in firsts]
        bullets = [bullets[i] for i in firsts]
    keys, n_words = norm_keys_and_word_counts(texts)
    kinds = map(_KIND_OF_BULLET.__getitem__, bullets)
    return Document(blocks=make_blocks(texts, kinds, linenos, groups, bullets, keys, n_words))
