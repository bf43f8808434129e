"""Split a text dump into blocks.

Scrapers write one visible text element per line. Some separate elements with blank lines
(seeds 000, 002), others with single newlines (seeds 001, 003), and a few hard-wrap long
paragraphs. So: every non-empty line is a block, except that a hard-wrapped continuation line is
joined to the line before it. The blank-line group a block sits in is kept as ``Block.group``.
"""

from __future__ import annotations

import re

from cleaners.model import Block, BlockKind, Document
from cleaners.settings import DEFAULT, Settings
from cleaners.shape import norm_keys, word_counts

# List markers scrapers emit for <li> items (lines arrive stripped, so the marker comes first).
_BULLET_CHARS = frozenset("-*•·▪◦‣\u2013")
_BULLET = re.compile(r"^\s*(?:[-*•·▪◦‣]|\u2013)\s+(?=\S)")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
# Characters after which a line is complete (sentence end, label, quote close).
_LINE_END = re.compile(r"[.!?:;…\"“”»«')\]]$")


def _is_continuation(prev: str, nxt: str, settings: Settings) -> bool:
    """True when ``nxt`` continues the hard-wrapped paragraph ``prev``."""
    if len(prev) < settings.wrap_min_line_chars or _LINE_END.search(prev):
        return False
    first = nxt[:1]
    return first.isalpha() and first.islower()


def segment_text(text: str, *, settings: Settings = DEFAULT) -> Document:
    """Segment a decoded, newline-normalised text dump into a Document."""
    pieces: list[tuple[str, int, bool, int]] = []  # text, line, bullet, group
    group = 0
    pending: tuple[str, int, bool] | None = None  # text, line, bullet
    prev_blank = True

    # _SPACES never matches a newline: one pass over the whole text equals one per line
    for lineno, raw in enumerate(_SPACES.sub(" ", text).split("\n"), start=1):
        line = raw.strip()
        if not line:
            if pending is not None:
                pieces.append((*pending, group))
                pending = None
            if not prev_blank:
                group += 1
            prev_blank = True
            continue
        prev_blank = False
        bullet = False
        if line[0] in _BULLET_CHARS:
            m = _BULLET.match(line)
            if m is not None:
                bullet = True
                line = line[m.end() :]
        if (
            pending is not None
            and not bullet
            and not pending[2]
            and _is_continuation(pending[0], line, settings)
        ):
            pending = (f"{pending[0]} {line}", pending[1], False)
            continue
        if pending is not None:
            pieces.append((*pending, group))
        pending = (line, lineno, bullet)
    if pending is not None:
        pieces.append((*pending, group))
    texts = [p[0] for p in pieces]
    keys = norm_keys(texts)
    counts = word_counts(texts)
    return Document(
        blocks=tuple(
            Block(
                index=i,
                text=t,
                kind=BlockKind.LIST if bullet else BlockKind.PARAGRAPH,
                line=line,
                group=grp,
                bullet=bullet,
                key=key,
                n_words=n,
            )
            for i, ((t, line, bullet, grp), key, n) in enumerate(zip(pieces, keys, counts, strict=True))
        )
    )
