"""HTML to text for the cleaners: trafilatura for the main content, BeautifulSoup as fallback.

Issue 4 grows this into a DOM pre-cleaning pass; here it only has to turn any HTML (including
malformed or truncated markup) into text without raising.
"""

from __future__ import annotations

# Elements whose text is never visible page text.
INVISIBLE_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "head")


def extract_main_text(html: str, *, url: str | None = None) -> str:
    """trafilatura's main-content text, one block per line; '' when it finds nothing."""
    import trafilatura

    try:
        result = trafilatura.extract(
            html,
            url=url,
            output_format="txt",
            include_comments=False,
            include_tables=True,
            include_formatting=False,
            deduplicate=False,
        )
    except Exception:  # trafilatura raises assorted lxml errors on broken input
        return ""
    return result or ""


def visible_text(html: str) -> str:
    """Every visible text element of the page, one per line (what a naive scraper keeps)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    for tag in soup(list(INVISIBLE_TAGS)):
        tag.decompose()
    lines = (line.strip() for line in soup.get_text("\n").split("\n"))
    return "\n\n".join(line for line in lines if line)
