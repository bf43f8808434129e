"""HTML pages to blocks for the text cleaners: DOM pre-cleaning, trafilatura, metadata, fallback.

    html ──parse once (lxml)──▶ tree ──metadata──▶ {published, author, site, url, description, title}
                                  │
                                  └──pre-clean (rules of patterns/html.toml)──▶ DomRemoval list
                                        │
                                        ├──trafilatura (main content, structure)──▶ blocks
                                        └──visible text of the cleaned tree──▶ text (fallback)

The page is parsed once with trafilatura's own loader (lxml, with its repairs for broken markup)
and that tree is handed to trafilatura, which copies it. BeautifulSoup builds a second, pure-Python
tree: 20 ms per dev-set page, as much as all of trafilatura, so it is not used on this path.

Pre-cleaning removes what the DOM marks plainly (scripts, consent layers, paywall overlays, ad
slots, newsletter boxes, share bars, link-list navigation) and returns every removal with its rule
and text, so the article can account for it. Pure: the tree is this module's own, made per call.
"""

from __future__ import annotations

import contextlib
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from typing import Any, Final

from cleaners.detectors import RULE_DETECTORS, Detector
from cleaners.model import Article, Block, BlockKind, Category, RemovedText, article_blocks
from cleaners.shape import is_prose

__all__ = [
    "HTML_DETECTORS",
    "DomRemoval",
    "DomRule",
    "HtmlExtraction",
    "extract",
    "extract_main_text",
    "finish_article",
    "load_dom_rules",
    "parse_dom_rules",
    "visible_text",
]

# Elements whose text is never visible page text (kept for callers of the old API).
INVISIBLE_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "head")

# --- guards: an element that holds the article is never removed by a DOM rule -----------------
# Share of the page's <p> text an element may hold and still be removed. Consent layers, share
# bars and link lists hold little paragraph text; an element holding more than half of it is (or
# wraps) the article, whatever its class says (a "paywall" div around the paid body text).
KEEP_MIN_PARAGRAPH_SHARE: Final = 0.5
# ... counted only when the page has at least this many characters of <p> text (on a page with
# almost no paragraphs a single consent <p> would otherwise be "most of the page").
KEEP_MIN_PAGE_PARAGRAPH_CHARS: Final = 400
# Markers of the article container.
_ARTICLE_MARKERS: Final = ".//article|.//main|.//*[@itemprop='articleBody']|.//h1"

# --- records --------------------------------------------------------------------------------
# Text of a removed element kept in Article.removed, in characters (a site footer or a consent
# layer is a few hundred; the cap keeps a record of a page with a 50 kB menu small).
REMOVED_TEXT_MAX_CHARS: Final = 1000
# Elements without text (empty ad slots) are filed as one entry per rule naming this many of them.
EMPTY_SHOWN: Final = 5

# --- fallback ---------------------------------------------------------------------------------
# trafilatura's extraction is used when it has at least this many words; less (a page whose main
# content trafilatura cannot find, or a bare fragment) goes to the visible-text fallback. Ten words
# is one short sentence: trafilatura's own minimum output size (min_extracted_size 250 chars) is
# larger, so anything shorter is a stray element, not a found article.
MIN_EXTRACTED_WORDS: Final = 10
# trafilatura runs in its fast mode (no comparison with its readability/jusText fallbacks: 30 % of
# its time). When that extraction holds less than this share of the page's <p> text (after
# pre-cleaning), it runs again in full mode and the longer result is kept. On the tuning half of the
# dev set fast and full differed on 8 of 182 pages; this rule re-runs on 8 % of pages and catches 4
# of the 5 where full mode found more of the article, none of the 2 where fast mode was better.
FULL_RETRY_SHARE: Final = 0.5

# --- lead recovery --------------------------------------------------------------------------
# trafilatura takes the body from the article's text container (articleBody, entry-content, ...);
# the lead (standfirst) often sits outside it, between the headline and the body, and trafilatura
# also prunes every element classed "teaser", which is what German CMSs call an article's own
# lead. On the dev set 19 of the 46 `with` snippets the HTML path lost were such leads (trafilatura
# lost 18 of them too). An element between the page's headline (<h1>) and the first extracted
# block is taken back as the lead when it is marked as one (a token of LEAD_TOKENS on it or on one
# of its LEAD_MARKER_DEPTH - 1 nearest ancestors), is prose (shape.is_prose), is not mostly link
# text and does not end in an ellipsis (a truncated excerpt is a card for the article, not its
# lead). The text rules then judge it like any other block.
# Editorial names for the lead in class/id vocabularies (en, de, fr, es, it). Left out: "summary"
# and "description", which as often name an author bio, a site tagline or the text of a
# read-next card.
LEAD_TOKENS: Final = frozenset({
    "lead", "lede", "teaser", "intro", "introduction", "excerpt", "standfirst", "deck", "dek", "subhead",
    "subheadline", "subtitle", "abstract", "vorspann", "chapo", "incipit", "bajada",
})
# The marked element itself, its parent and grandparent (<p> in div.teaser-text, <p> in
# div.excerpt in article-header).
LEAD_MARKER_DEPTH: Final = 3
# A lead is one element, at most two (a standfirst in two <p>); more marked prose between headline
# and body is a list of other stories, and nothing is taken.
LEAD_MAX_BLOCKS: Final = 2
# Elements looked at after a headline for the start of the body. The head of an article (kicker,
# dateline, byline, picture, share bar, lead) is tens of elements: on the dev set the body started
# a median 10 elements after the headline (97 % within 106), and every lead taken back lay within
# 77. Past this the <h1> is a logo or a section title (the scans that run this far are a quarter of
# the step's time), and the next <h1> (if any) is tried.
LEAD_SCAN_MAX_ELEMENTS: Final = 150
# Link text share above which a marked element is a teaser link, not a lead (trafilatura's own
# link-density cut for paragraphs is of this order).
LEAD_MAX_LINK_DENSITY: Final = 0.5

# The text cleaners that run on trafilatura's main content: the rule detectors without
# ``navigation.menu`` (in extracted main content a run of short list items is an ingredient list or
# a fact box: the page's menus were already removed by the DOM rules and by trafilatura) and without
# the content finder (trained on whole-page text dumps; on extracted text it cut recall: dev set
# with* .939 without it, .874 with it).
HTML_DETECTORS: Final[tuple[tuple[str, Detector], ...]] = tuple(
    (name, fn) for name, fn in RULE_DETECTORS if name != "menus"
)

RULE_FILE: Final = "html.toml"
_TOKEN_SPLIT: Final = re.compile(r"[^a-z0-9]+")
_WORD: Final = re.compile(r"\w+")
# Block-level elements of HTML: each starts a new line in the visible text.
_HTML_BLOCK_TAGS: Final = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog", "div", "dl",
    "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "html", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "ul",
})


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class DomRule:
    """One concept of html.toml: which elements it matches and what their removal is filed as."""

    id: str  # "html.consent_layer"
    category: Category
    rationale: str
    tags: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    tokens: frozenset[str] = frozenset()
    substrings: re.Pattern[str] | None = None
    attrs: tuple[str, ...] = ()
    min_link_density: float = 0.0
    max_chars: int | None = None
    invisible: bool = False
    spare_tags: frozenset[str] = frozenset()


class DomRuleError(ValueError):
    pass


_RULE_KEYS: Final = frozenset(
    {"rationale", "category", "tags", "roles", "tokens", "substrings", "attrs", "min_link_density", "max_chars",
     "invisible", "spare_tags"}
)


def _str_list(name: str, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise DomRuleError(f"[{name}] {key} must be a list of non-empty strings")
    return tuple(value)


def parse_dom_rules(text: str) -> tuple[DomRule, ...]:
    """Rules of an html.toml text, in file order (pure; tests use it on their own texts)."""
    data = tomllib.loads(text)
    rules: list[DomRule] = []
    for name, group in data.items():
        if not isinstance(group, dict):
            raise DomRuleError(f"{name!r} is not a table")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise DomRuleError(f"rule name {name!r} is not snake_case")
        unknown = set(group) - _RULE_KEYS
        if unknown:
            raise DomRuleError(f"[{name}] unknown keys {sorted(unknown)}")
        if not group.get("rationale"):
            raise DomRuleError(f"[{name}] needs a one-line rationale")
        try:
            category = Category(group.get("category", ""))
        except ValueError as exc:
            raise DomRuleError(f"[{name}] unknown category {group.get('category')!r}") from exc
        subs = _str_list(name, "substrings", group.get("substrings", []))
        density = group.get("min_link_density", 0.0)
        if not isinstance(density, int | float) or not 0.0 <= density <= 1.0:
            raise DomRuleError(f"[{name}] min_link_density must be a number in [0, 1]")
        max_chars = group.get("max_chars")
        if max_chars is not None and (not isinstance(max_chars, int) or isinstance(max_chars, bool) or max_chars < 1):
            raise DomRuleError(f"[{name}] max_chars must be a positive integer")
        rule = DomRule(
            id=f"html.{name}",
            category=category,
            rationale=str(group["rationale"]),
            tags=frozenset(t.lower() for t in _str_list(name, "tags", group.get("tags", []))),
            roles=frozenset(r.lower() for r in _str_list(name, "roles", group.get("roles", []))),
            tokens=frozenset(t.lower() for t in _str_list(name, "tokens", group.get("tokens", []))),
            substrings=re.compile("|".join(re.escape(s.lower()) for s in subs)) if subs else None,
            attrs=tuple(a.lower() for a in _str_list(name, "attrs", group.get("attrs", []))),
            min_link_density=float(density),
            max_chars=max_chars,
            invisible=bool(group.get("invisible", False)),
            spare_tags=frozenset(t.lower() for t in _str_list(name, "spare_tags", group.get("spare_tags", []))),
        )
        if not (rule.tags or rule.roles or rule.tokens or rule.substrings or rule.attrs):
            raise DomRuleError(f"[{name}] matches nothing: give tags, roles, tokens, substrings or attrs")
        rules.append(rule)
    return tuple(rules)


@lru_cache(maxsize=1)
def load_dom_rules() -> tuple[DomRule, ...]:
    """The packaged DOM rules (cleaners/patterns/html.toml), read and compiled once."""
    text = resources.files("cleaners.patterns").joinpath(RULE_FILE).read_text(encoding="utf-8")
    return parse_dom_rules(text)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class DomRemoval:
    """An element the pre-cleaning removed: the rule, the element's text (whitespace collapsed,
    capped at REMOVED_TEXT_MAX_CHARS; empty for invisible elements) and a short description."""

    rule: str
    category: Category
    text: str
    detail: str


@dataclass(frozen=True, slots=True)
class HtmlExtraction:
    """What the HTML stage hands to the text cleaners.

    ``blocks``: trafilatura's main content as blocks with their DOM kind (empty when it found
    nothing usable); ``removed``: the pre-cleaning's removals in document order; ``metadata``:
    page metadata (keys ``title``, ``published``, ``author``, ``site``, ``url``, ``description``;
    absent when the page does not say). :meth:`visible_text` is the fallback input.
    """

    blocks: tuple[Block, ...]
    removed: tuple[DomRemoval, ...]
    metadata: Mapping[str, str]
    tree: Any = field(default=None, repr=False, compare=False)  # the pre-cleaned page

    def visible_text(self) -> str:
        """The visible text of the pre-cleaned page, one element a line (computed on demand)."""
        return "" if self.tree is None else _visible_of_tree(self.tree)


# --------------------------------------------------------------------------- parse


def _parse(html: str) -> Any | None:
    """The page's lxml tree (trafilatura's loader: encoding and broken-markup repairs), or None."""
    from trafilatura.utils import load_html

    try:
        tree = load_html(html)
    except Exception:  # lxml raises assorted errors on hostile input
        tree = None
    if tree is not None and tree.find(".//body") is not None:
        return tree
    # Fragments ("<p>nur ein Satz") fail trafilatura's is-this-a-document test: wrap them.
    import lxml.html  # type: ignore[import-untyped]

    try:
        return lxml.html.document_fromstring(f"<html><body><div>{html}</div></body></html>")
    except Exception:
        return None


# --------------------------------------------------------------------------- metadata


def _clean_meta(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value or None


def page_metadata(tree: Any, url: str | None = None) -> dict[str, str]:
    """Title, published date, author, site name, canonical URL and description of the page.

    trafilatura's metadata helpers without its DOM author search (7 ms a page, a third of a whole
    extraction): author comes from <meta> and JSON-LD only; the date from htmldate's quick search.
    """
    from trafilatura.metadata import (  # type: ignore[attr-defined]
        examine_meta,
        extract_meta_json,
        extract_sitename,
        extract_title,
        extract_url,
        find_date,
        set_date_params,
    )

    out: dict[str, str] = {}
    try:
        meta = examine_meta(tree)
        if meta.author and " " not in meta.author:  # trafilatura's own check: a name has a space
            meta.author = None
        with contextlib.suppress(Exception):  # malformed JSON-LD
            meta = extract_meta_json(tree, meta)
        title = meta.title or extract_title(tree)
        page_url = meta.url or extract_url(tree, url)
        params = set_date_params(False)
        params["url"] = page_url
        date = find_date(tree, **params)
        site = meta.sitename or extract_sitename(tree)
        if isinstance(site, str):
            site = site.lstrip("@")
        fields = {
            "title": title,
            "published": date,
            "author": meta.author,
            "site": site,
            "url": page_url,
            "description": meta.description,
        }
    except Exception:  # metadata is a bonus: never lose a page over it
        return out
    for key, value in fields.items():
        cleaned = _clean_meta(value)
        if cleaned is not None:
            out[key] = cleaned
    return out


# --------------------------------------------------------------------------- pre-cleaning


def _text(el: Any) -> str:
    """The element's visible text: one line per block element inside it."""
    return "\n".join(_visible_lines(el))


def _describe(el: Any) -> str:
    desc = str(el.tag)
    ident = (el.get("id") or "").strip()
    classes = " ".join((el.get("class") or "").split()[:3])
    role = (el.get("role") or "").strip()
    if ident:
        desc += f"#{ident[:40]}"
    if classes:
        desc += "." + ".".join(classes.split())[:60]
    if role:
        desc += f"[role={role[:20]}]"
    return desc


def _capped(text: str) -> str:
    return text if len(text) <= REMOVED_TEXT_MAX_CHARS else text[: REMOVED_TEXT_MAX_CHARS - 1] + "…"


def _link_density(el: Any, text_len: int) -> float:
    if text_len == 0:
        return 1.0  # an empty menu is all menu
    linked = _solid_chars(el.iter("a"))
    return min(1.0, linked / text_len)


class _Guard:
    """Decides whether an element holds the article (and so must stay)."""

    def __init__(self, root: Any) -> None:
        self.page_chars = sum(len(p.text_content()) for p in root.iter("p"))

    def holds_article(self, el: Any) -> bool:
        if el.tag in ("article", "main", "h1") or el.xpath(_ARTICLE_MARKERS):
            return True
        if self.page_chars < KEEP_MIN_PAGE_PARAGRAPH_CHARS:
            return False
        own = sum(len(p.text_content()) for p in el.iter("p"))
        return own > KEEP_MIN_PARAGRAPH_SHARE * self.page_chars


@dataclass(frozen=True, slots=True)
class _RuleIndex:
    """The visible rules, indexed so that one element costs a few dict lookups: for each tag, role
    and class/id token the position of the first rule naming it (rules are tried in file order)."""

    rules: tuple[DomRule, ...]
    by_tag: Mapping[str, int]
    by_role: Mapping[str, int]
    by_token: Mapping[str, int]
    substrings: tuple[tuple[int, re.Pattern[str]], ...]
    any_substring: re.Pattern[str] | None  # all substrings in one pattern: a cheap first test
    attrs: tuple[tuple[int, str], ...]

    @classmethod
    def build(cls, rules: tuple[DomRule, ...]) -> _RuleIndex:
        by_tag: dict[str, int] = {}
        by_role: dict[str, int] = {}
        by_token: dict[str, int] = {}
        for i, rule in enumerate(rules):
            for tag in rule.tags:
                by_tag.setdefault(tag, i)
            for role in rule.roles:
                by_role.setdefault(role, i)
            for token in rule.tokens:
                by_token.setdefault(token, i)
        subs = tuple((i, r.substrings) for i, r in enumerate(rules) if r.substrings is not None)
        attrs = tuple((i, a) for i, r in enumerate(rules) for a in r.attrs)
        union = re.compile("|".join(f"(?:{r.pattern})" for _, r in subs)) if subs else None
        return cls(rules, by_tag, by_role, by_token, subs, union, attrs)

    def first_match(self, tag: str, attrib: Any) -> DomRule | None:
        best = self.by_tag.get(tag, len(self.rules))
        role = attrib.get("role")
        if role:
            best = min(best, self.by_role.get(role.strip().lower(), best))
        cls_ = attrib.get("class")
        ident = attrib.get("id")
        if cls_ or ident:
            names = f"{cls_ or ''} {ident or ''}".lower()
            for token in _TOKEN_SPLIT.split(names):
                i = self.by_token.get(token)
                if i is not None and i < best:
                    best = i
            if self.any_substring is not None and self.any_substring.search(names):
                for i, regex in self.substrings:
                    if i >= best:
                        break
                    if regex.search(names):
                        best = i
                        break
        for i, attr in self.attrs:
            if i >= best:
                break
            if attr in attrib:
                best = i
                break
        return self.rules[best] if best < len(self.rules) else None


@lru_cache(maxsize=8)
def _index(rules: tuple[DomRule, ...]) -> _RuleIndex:
    return _RuleIndex.build(tuple(r for r in rules if not r.invisible))


def preclean(root: Any, rules: tuple[DomRule, ...] | None = None) -> list[DomRemoval]:
    """Remove the elements the rules match from ``root`` (in place) and say what went and why.

    Invisible elements go first (so no script text ends up in the record of a consent layer), then
    one top-down walk: an element that matches is removed whole and its subtree is not visited.
    Elements without text are filed together, one entry per rule.
    """
    rules = rules if rules is not None else load_dom_rules()
    index = _index(rules)
    body = root.find(".//body")
    start = body if body is not None else root
    removed: list[DomRemoval] = []

    inv_tags = {t: r for r in rules if r.invisible for t in r.tags}
    counts: dict[str, dict[str, int]] = {}
    for el in list(start.iter(*inv_tags)) if inv_tags else []:
        if el is start or el.getparent() is None:
            continue
        rule = inv_tags[el.tag]
        per_tag = counts.setdefault(rule.id, {})
        per_tag[el.tag] = per_tag.get(el.tag, 0) + 1
        el.drop_tree()
    for rule in rules:
        if rule.id in counts:
            detail = ", ".join(f"{n} <{tag}>" for tag, n in sorted(counts[rule.id].items()))
            removed.append(DomRemoval(rule.id, rule.category, "", detail))

    guard: _Guard | None = None
    empty: dict[str, list[str]] = {}
    empty_rules: dict[str, DomRule] = {}
    stack = list(reversed(start))
    while stack:
        el = stack.pop()
        tag = el.tag
        if not isinstance(tag, str):  # comments, processing instructions
            continue
        hit = index.first_match(tag, el.attrib)
        if hit is not None and tag in hit.spare_tags:
            hit = None
        if hit is not None:
            text = _text(el)
            solid = _solid_len((text,))
            if (hit.max_chars is not None and solid > hit.max_chars) or (
                hit.min_link_density and _link_density(el, solid) < hit.min_link_density
            ):
                hit = None
            else:
                guard = guard or _Guard(root)
                if guard.holds_article(el):
                    hit = None
        if hit is None:
            stack.extend(reversed(el))
            continue
        if text:
            removed.append(DomRemoval(hit.id, hit.category, _capped(text), f"<{_describe(el)}> {len(text)} chars"))
        else:
            empty.setdefault(hit.id, []).append(_describe(el))
            empty_rules[hit.id] = hit
        el.drop_tree()
    for rid, descs in empty.items():
        shown = ", ".join(f"<{d}>" for d in descs[:EMPTY_SHOWN])
        more = f" and {len(descs) - EMPTY_SHOWN} more" if len(descs) > EMPTY_SHOWN else ""
        rule = empty_rules[rid]
        removed.append(DomRemoval(rid, rule.category, "", f"{len(descs)} elements without text: {shown}{more}"))
    return removed


# --------------------------------------------------------------------------- trafilatura


def _trafilatura_body(tree: Any, url: str | None, *, fast: bool) -> Any | None:
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(
            tree,
            url=url,
            include_comments=False,
            include_tables=True,
            include_formatting=False,
            include_images=False,
            deduplicate=False,
            with_metadata=False,
            fast=fast,
        )
    except Exception:  # trafilatura raises assorted lxml errors on broken input
        return None
    return None if doc is None else getattr(doc, "body", None)


_BLOCK_KIND: Final = {
    "head": BlockKind.HEADING,
    "p": BlockKind.PARAGRAPH,
    "quote": BlockKind.QUOTE,
    "item": BlockKind.LIST,
    "code": BlockKind.PARAGRAPH,
    "row": BlockKind.PARAGRAPH,
}
# Containers in trafilatura's output: their children are blocks, loose text is a paragraph.
_CONTAINERS: Final = frozenset({"body", "list", "table", "div", "doc", "main", "comments"})


class _BlockWriter:
    """Accumulates inline text and cuts it into blocks (one per line of a DOM block)."""

    def __init__(self) -> None:
        self.blocks: list[tuple[str, BlockKind, bool, int]] = []  # text, kind, bullet, group
        self.buf: list[str] = []
        self.group = 0

    def flush(self, kind: BlockKind) -> None:
        if not self.buf:
            return
        text = "".join(self.buf)
        self.buf = []
        emitted = False
        for line in text.split("\n"):
            line = " ".join(line.split())
            if line:
                self.blocks.append((line, kind, kind is BlockKind.LIST, self.group))
                emitted = True
        if emitted:
            self.group += 1

    def walk(self, el: Any, kind: BlockKind) -> None:
        """Text of ``el`` (a block or a container) into blocks; ``kind`` of the enclosing block."""
        tag = el.tag if isinstance(el.tag, str) else ""
        own = _BLOCK_KIND.get(tag)
        if tag in _CONTAINERS or own is not None:
            self.flush(kind)
            inner = kind if own is None else own
            if kind is BlockKind.QUOTE and own is BlockKind.PARAGRAPH:
                inner = BlockKind.QUOTE  # paragraphs of a block quote
            if el.text:
                self.buf.append(el.text)
            first_cell = True
            for child in el:
                if isinstance(child.tag, str) and child.tag == "cell":
                    if not first_cell:
                        self.buf.append(" | ")
                    first_cell = False
                    self.buf.append(" ".join(" ".join(child.itertext()).split()))
                    if child.tail:
                        self.buf.append(child.tail)
                    continue
                self.walk(child, inner)
            self.flush(inner)
            if el.tail and el.tail.strip():
                self.buf.append(el.tail)
            return
        if tag == "lb":
            self.buf.append("\n")
        elif tag != "graphic":
            if el.text:
                self.buf.append(el.text)
            for child in el:
                self.walk(child, kind)
        if el.tail:
            self.buf.append(el.tail)


def body_blocks(body: Any) -> tuple[Block, ...]:
    """trafilatura's output tree as blocks: one per line of each head/p/quote/item/table row."""
    writer = _BlockWriter()
    writer.walk(body, BlockKind.PARAGRAPH)
    writer.flush(BlockKind.PARAGRAPH)
    return tuple(
        Block(index=i, text=text, kind=kind, line=i + 1, group=group, bullet=bullet)
        for i, (text, kind, bullet, group) in enumerate(writer.blocks)
    )


# --------------------------------------------------------------------------- visible text


def _visible_lines(root: Any) -> Iterator[str]:
    """Every visible text element of ``root``, one per line (what a naive scraper keeps)."""
    parts: list[str] = []
    stack: list[tuple[Any, bool]] = [(root, False)]  # explicit stack: no recursion limit on deep pages
    while stack:
        node, closing = stack.pop()
        is_element = isinstance(node.tag, str)
        tag = node.tag if is_element else ""
        is_block = tag in _HTML_BLOCK_TAGS or tag in ("li", "br")
        if closing:
            if is_block:
                parts.append("\n")
            if node.tail and node is not root:
                parts.append(node.tail)
            continue
        if tag in INVISIBLE_TAGS:  # still in the tree when the caller skipped pre-cleaning
            if node.tail and node is not root:
                parts.append(node.tail)
            continue
        if is_block:
            parts.append("\n")
        if is_element and node.text:
            parts.append(node.text)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node))
    for line in "".join(parts).split("\n"):
        line = " ".join(line.split())
        if line:
            yield line


def _visible_of_tree(tree: Any) -> str:
    body = tree.find(".//body")
    return "\n\n".join(_visible_lines(body if body is not None else tree))


# --------------------------------------------------------------------------- entry points


def _solid_len(texts: Iterable[str]) -> int:
    """Characters other than whitespace."""
    return sum(len(t) - sum(t.count(c) for c in " \n\t\r\xa0") for t in texts)


def _solid_chars(elements: Iterable[Any]) -> int:
    return _solid_len(el.text_content() for el in elements)



# --------------------------------------------------------------------------- lead recovery

# Elements that start a block of their own in an article's head; a lead candidate has none inside.
_LEAD_BLOCK_TAGS: Final = ("p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "section", "header", "article",
                           "ul", "ol", "li", "dl", "blockquote", "table", "figure", "aside", "footer", "form")
# a whole class/id token (as _TOKEN_SPLIT cuts them) that is one of LEAD_TOKENS
_LEAD_TOKEN_RE: Final = re.compile(
    r"(?<![a-z0-9])(?:" + "|".join(sorted(LEAD_TOKENS, key=len, reverse=True)) + r")(?![a-z0-9])"
)
_ELLIPSIS_END: Final = re.compile(r"(?:\.\.\.|…)[\"'“”»«)\]]*$")


def _following(el: Any) -> Iterator[Any]:
    """The elements after ``el`` in document order, not its descendants nor its ancestors."""
    node = el
    while node is not None:
        for sib in node.itersiblings():
            if isinstance(sib.tag, str):
                yield sib
                yield from (d for d in sib.iterdescendants() if isinstance(d.tag, str))
        node = node.getparent()


def _text_prefix(el: Any, chars: int) -> str:
    """The first ``chars`` characters of the element's text, whitespace collapsed (reads no more
    of a large container than it needs)."""
    parts: list[str] = []
    size = 0
    for piece in el.itertext():
        parts.append(piece)
        size += len(piece)
        if size > 2 * chars:
            break
    return " ".join("".join(parts).split())[:chars]


def _starts_with(el: Any, start: str) -> bool:
    """Whether the element's text (whitespace collapsed) starts with ``start``; stops at the first
    text that differs, so most elements cost one text node."""
    own = el.text
    if own and not own.isspace():  # the element's own first text decides without a walk
        text = " ".join(own.split())
        if len(text) >= len(start):
            return text.startswith(start)
        if not start.startswith(text):
            return False
    seen = ""
    for piece in el.itertext():
        seen += piece
        text = " ".join(seen.split())
        if len(text) >= len(start):
            return text.startswith(start)
        if not start.startswith(text):
            return False
    return False


def _lead_marked(el: Any) -> bool:
    for _ in range(LEAD_MARKER_DEPTH):
        if el is None:
            return False
        cls_, ident = el.get("class"), el.get("id")
        if (cls_ or ident) and _LEAD_TOKEN_RE.search(f"{cls_ or ''} {ident or ''}".lower()):
            return True
        el = el.getparent()
    return False


def _lead_text(el: Any) -> str | None:
    """The text of ``el`` if it is a marked lead (see LEAD_TOKENS), else None."""
    if not _lead_marked(el):
        return None
    text = " ".join(_visible_lines(el))
    if not is_prose(text) or _ELLIPSIS_END.search(text):
        return None
    if _link_density(el, _solid_len((text,))) > LEAD_MAX_LINK_DENSITY:
        return None
    return text


def _lead_after_headline(h1: Any, start: str) -> list[str] | None:
    """The marked lead between ``h1`` and the element whose text starts with ``start`` (the body);
    empty when there is none or more than LEAD_MAX_BLOCKS; None when the scan met another <h1> or
    went LEAD_SCAN_MAX_ELEMENTS elements without reaching the body (``h1`` heads something else)."""
    leads: list[str] = []
    for n, el in enumerate(_following(h1)):
        if n >= LEAD_SCAN_MAX_ELEMENTS or el.tag == "h1":
            return None
        if _starts_with(el, start):
            return leads if len(leads) <= LEAD_MAX_BLOCKS else []
        if el.tag in _LEAD_BLOCK_TAGS and next(el.iterdescendants(*_LEAD_BLOCK_TAGS), None) is None:
            text = _lead_text(el)
            if text is not None:
                leads.append(text)
    return None


def recover_lead(tree: Any, blocks: tuple[Block, ...]) -> tuple[Block, ...]:
    """``blocks`` with the article's lead put back before the body when trafilatura left it out
    (see LEAD_TOKENS); ``blocks`` unchanged when no headline precedes the body or it has no
    marked lead. The headline is the last <h1> before the body (a logo or a section name may be
    an <h1> too)."""
    body = tree.find(".//body")
    if body is None or not blocks:
        return blocks
    first = " ".join(blocks[0].text.split())
    for h1 in list(body.iter("h1")):
        # trafilatura sometimes keeps the headline as the first block: the body starts after it
        at = 1 if len(blocks) > 1 and first == _text_prefix(h1, len(first) + 1) else 0
        leads = _lead_after_headline(h1, " ".join(blocks[at].text.split())[:40])
        if leads is None:
            continue
        if leads:
            extracted = "\n".join(" ".join(b.text.split()) for b in blocks)
            leads = [t for t in leads if t not in extracted]
        if not leads:
            return blocks
        group = blocks[at].group
        new = [Block(index=0, text=t, kind=BlockKind.PARAGRAPH, group=group + j) for j, t in enumerate(leads)]
        after = [replace(b, group=b.group + len(new)) for b in blocks[at:]]
        merged = [*blocks[:at], *new, *after]
        return tuple(replace(b, index=i, line=i + 1) for i, b in enumerate(merged))
    return blocks


def extract(html: str, *, url: str | None = None) -> HtmlExtraction:
    """Parse, read metadata, pre-clean and extract; never raises on malformed input."""
    tree = _parse(html)
    if tree is None:
        return HtmlExtraction((), (), {})
    metadata = page_metadata(tree, url)
    removed = preclean(tree)
    body = _trafilatura_body(tree, url, fast=True)
    blocks = body_blocks(body) if body is not None else ()
    page_chars = _solid_chars(tree.iter("p"))
    if _solid_len(b.text for b in blocks) < FULL_RETRY_SHARE * page_chars:
        # The quick pass holds little of the page's paragraph text: let trafilatura compare its
        # extraction with its readability and jusText fallbacks.
        full = _trafilatura_body(tree, url, fast=False)
        full_blocks = body_blocks(full) if full is not None else ()
        if _solid_len(b.text for b in full_blocks) > _solid_len(b.text for b in blocks):
            blocks = full_blocks
    if sum(len(_WORD.findall(b.text)) for b in blocks) < MIN_EXTRACTED_WORDS:
        blocks = ()
    blocks = recover_lead(tree, blocks)
    return HtmlExtraction(blocks, tuple(removed), metadata, tree)


def extract_main_text(html: str, *, url: str | None = None) -> str:
    """trafilatura's main-content text of the pre-cleaned page, one block per line; '' when none."""
    return "\n".join(b.text for b in extract(html, url=url).blocks)


def visible_text(html: str) -> str:
    """Every visible text element of the page, one per line, blank line between (no pre-cleaning)."""
    tree = _parse(html)
    return "" if tree is None else _visible_of_tree(tree)


def finish_article(article: Article, page: HtmlExtraction, *, from_blocks: bool = True) -> Article:
    """The article of ``page`` as the HTML path returns it: DOM removals first in ``removed``;
    block kinds from the DOM (when it was cleaned from ``page.blocks``); the page's title when the
    text gave none."""
    out_blocks = article.blocks
    if from_blocks and page.blocks:
        # Kept blocks keep document order: pair each article block with its source block.
        kinds: list[BlockKind] = []
        j = 0
        src = page.blocks
        for ab in article.blocks:
            while j < len(src) and src[j].text != ab.text:
                j += 1
            kinds.append(src[j].kind if j < len(src) else ab.kind)
            j += 1
        # one kind per article block (the loop above appends one for each)
        out_blocks = article_blocks(kinds, (ab.text for ab in article.blocks))
    dom = tuple(RemovedText(r.text, r.rule, r.category, r.detail) for r in page.removed)
    title = article.title
    if title is None and not article.is_empty:
        title = page.metadata.get("title")
    return replace(article, blocks=out_blocks, removed=dom + article.removed, title=title)
