"""cleanfeed's pure cleaning engine: text or HTML in, an :class:`Article` out.

No Prefect, no file-system writes, no network, no global mutable state. See README for the
architecture; every removal carries a stable rule id and a category.
"""

from cleaners.model import (
    Article,
    ArticleBlock,
    Block,
    BlockKind,
    Category,
    Document,
    Note,
    Removal,
    RemovedText,
    View,
)
from cleaners.pipeline import clean_html, clean_text

__all__ = [
    "Article",
    "ArticleBlock",
    "Block",
    "BlockKind",
    "Category",
    "Document",
    "Note",
    "Removal",
    "RemovedText",
    "View",
    "clean_html",
    "clean_text",
]
