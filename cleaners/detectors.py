"""Boilerplate detectors. Each observes a :class:`View` and answers with :class:`Removal`s.

Detectors never edit text and never see each other's internals: they read the document and the
verdicts reached so far (``View.removals``), which is how a caption finds its credit line or a
consent paragraph finds the embed notice above it. The pipeline runs them in ``DETECTORS`` order.

Rule ids produced here (besides the pattern group ids of ``cleaners/patterns/*.toml``):

- ``noise.no_words``: blocks without a letter or digit;
- ``caption.line``: the caption that belongs to a picture credit;
- ``consent.embed_notice`` / ``consent.cookie_notice``: consent paragraphs found by signal count;
- ``script.code_shape``: blocks dense in code punctuation (JSON, JS);
- ``script.state_run``: bare values inside a run of serialized page state;
- ``tags.list``: the items under a tag label;
- ``promo.tail``: a promo block at the end of the page and everything after it;
- ``comments.thread``: a reader-comment thread (header or author lines plus comment markers);
- ``navigation.menu``: runs of short list items outside the article region;
- ``dedupe.repeated_lead`` / ``dedupe.repeated_block``: later copies of a block;
- ``pull_quote.repeated_sentence`` / ``pull_quote.attribution``: a pull quote and its byline.
- ``teaser.excerpt_run``: a run of blocks cut short by an ellipsis (teasers of other stories);
- ``dedupe.excerpt``: a block cut short by an ellipsis whose sentences all stand in other kept blocks
  (the page's own text again as a teaser or summary box).
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from itertools import accumulate

from cleaners import shape
from cleaners.model import Block, Category, Removal, View
from cleaners.patterns import PatternSet, candidate_lines
from cleaners.settings import Settings

Detector = Callable[[View, PatternSet, Settings], list[Removal]]

# Groups that are evidence for a detector, not line rules of their own.
SIGNAL_GROUPS = frozenset(
    {"consent.anchor", "consent.signal", "promo.anchor", "comments.header", "comments.author", "comments.marker",
     "recipe.quantity"}
)


def _snippet(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _kept_neighbour(view: View, index: int, step: int) -> Block | None:
    """The nearest kept block before (step=-1) or after (step=+1) ``index``."""
    blocks = view.doc.blocks
    i = index + step
    while 0 <= i < len(blocks):
        if not view.is_removed(i):
            return blocks[i]
        i += step
    return None


def _region(view: View, settings: Settings) -> tuple[int, int] | None:
    """Index range (first, last) spanned by kept prose blocks: the article region."""
    prose = [b.index for b in view.kept() if not b.bullet and shape.block_is_prose(b, settings)]
    if not prose:
        return None
    return prose[0], prose[-1]


# --------------------------------------------------------------------------- no words


def detect_no_words(view: View, patterns: PatternSet, settings: Settings) -> list[Removal]:
    """Blocks without a single letter or digit (separators, icons, stray control characters)."""
    return [
        Removal(b.index, "noise.no_words", Category.BOILERPLATE, "no letters or digits")
        for b in view.kept()
        if b.n_words == 0
    ]


# --------------------------------------------------------------------------- phrase rules


def detect_phrases(view: View, patterns: PatternSet, settings: Settings) -> list[Removal]:
    """Line rules from the pattern files: the first group whose pattern covers the block wins."""
    matcher = patterns.line_matcher(SIGNAL_GROUPS)
    index = view.doc.text_index()
    # a rule's verdict on a block depends on that block alone: scan them all, skip the removed ones
    return [
        Removal(i, rule.id, rule.category, f"matched {_snippet(m.group(0))!r}")
        for i, rule, m in matcher.scan(index.texts, index)
        if i not in view.removals
    ]


def detect_code_shape(view: View, patterns: PatternSet, settings: Settings) -> list[Removal]:
    """Script residue by shape: a high share of code punctuation; and bare values (``false``,
    ``42``) sitting between other script lines, as serialized state dumps into text."""
    out: list[Removal] = []
    min_chars, min_ratio = settings.code_min_chars, settings.code_char_ratio
    # only blocks of at least code_min_chars can be code-shaped: count code characters in those
    sized = [b for b in view.kept() if len(b.text) >= min_chars]
    for block, n_code in zip(sized, shape.code_char_counts([b.text for b in sized]), strict=True):
        size = len(block.text)
        if n_code / size < min_ratio:
            continue
        if not shape.block_is_prose(block, settings):
            out.append(Removal(block.index, "script.code_shape", Category.SCRIPT, f"code chars {n_code / size:.2f}"))
    script = {i for i, r in view.removals.items() if r.rule.startswith("script.")} | {r.index for r in out}
    if not script:
        return out
    shaped = {r.index for r in out}
    # a kept block with script lines on both sides: only those right after a script line qualify
    blocks = view.doc.blocks
    for i in sorted(j + 1 for j in script if j + 2 in script and j + 1 not in shaped):
        if i in view.removals:
            continue
        block = blocks[i]
        if block.n_words <= 2 and not shape.ends_sentence(block.text):
            out.append(Removal(i, "script.state_run", Category.SCRIPT, "value between script lines"))
    return out


# --------------------------------------------------------------------------- captions


# Picture credits that have a caption above them (a site copyright notice, footer.copyright, does not).
CREDIT_RULES = frozenset({"caption.credit", "caption.agency", "caption.agency_credit", "caption.license"})


def detect_captions(view: View, patterns: PatternSet, settings: Settings) -> list[Removal]:
    """The caption that belongs to a credit: the block right before a credit line, when it is
    caption-sized (short, at most two sentences, not a list item)."""
    out: list[Removal] = []
    for index, removal in view.removals.items():
        if removal.rule not in CREDIT_RULES:
            continue
        prev = index - 1
        if prev < 0 or view.is_removed(prev):
            continue
        block = view.doc.blocks[prev]
        if block.bullet or len(block.text) > settings.caption_max_chars:
            continue
        if shape.sentence_count(block.text) > settings.caption_max_sentences:
            continue
        credit = _snippet(view.doc.blocks[index].text)
        out.append(Removal(prev, "caption.line", Category.CAPTION, f"precedes credit {credit!r}"))
    return out


# --------------------------------------------------------------------------- consent


# Distinct consent phrases (anchors + signals) a block needs, with at least one anchor. Measured on
# the seed notice (4-6 each) and on news prose about privacy (at most 1 anchor-free signal set).
CONSENT_MIN_SIGNALS = 2
# How far (in blocks) an embed notice reaches down to the consent paragraphs that follow it.
CONSENT_FOLLOW_BLOCKS = 3


def detect_consent(view: View, patterns: PatternSet, settings: Settings) -> list[Removal]:
    anchor = patterns.get("consent.anchor")
    signal = patterns.get("consent.signal")
    out: list[Removal] = []
    last_notice = -10 * CONSENT_FOLLOW_BLOCKS
    index = view.doc.text_index()
    lows = index.lows
    may_anchor = candidate_lines(anchor, index)  # blocks outside it have no anchor phrase
    # Only blocks that may hold an anchor, embed notices and the blocks right under a notice can
    # change anything: visit those, in order (a notice found on the way adds the blocks under it).
    notices = [i for i, r in view.removals.items() if r.rule == "consent.embed_notice"]
    todo = list(range(len(view.doc.blocks))) if may_anchor is None else [*may_anchor, *notices]
    todo.extend(j for i in notices for j in range(i + 1, i + 1 + CONSENT_FOLLOW_BLOCKS))
    heapq.heapify(todo)
    done = -1
    while todo:
        i = heapq.heappop(todo)
        if i <= done or i >= len(lows):
            continue
        done = i
        rule = view.rule_at(i)
        if rule is not None:
            if rule == "consent.embed_notice":
                last_notice = i
            continue
        near_notice = i - last_notice <= CONSENT_FOLLOW_BLOCKS
        if not near_notice and may_anchor is not None and i not in may_anchor:
            continue
        block = view.doc.blocks[i]
        low = lows[i]
        a = anchor.count_distinct(block.text, low)
        if a == 0 and not near_notice:
            continue  # without an anchor or a notice above, signals alone never decide
        s = signal.count_distinct(block.text, low)
        if (a >= 1 and a + s >= CONSENT_MIN_SIGNALS) or (near_notice and a + s >= 1):
            rid = "consent.embed_notice" if near_notice else "consent.cookie_notice"
            out.append(Removal(i, rid, Category.CONSENT, f"{a} consent phrases, {s} signals"))
            if near_notice:
                last_notice = i
                for j in range(i + 1, i + 1 + CONSENT_FOLLOW_BLOCKS):
                    heapq.heappush(todo, j)
    return out


# --------------------------------------------------------------------------- tags and menus


def detect_tag_lists(view: View, patterns: PatternSet, settings: Settings) -> list[Removal]:
    """Items under a tag label: short, unpunctuated, until the first block that is not."""
    out: list[Removal] = []
    for index, removal in list(view.removals.items()):
        if removal.rule != "tags.label":
            continue
        i = index + 1
        while i < len(view.doc.blocks):
            if view.is_removed(i):
                if (view.rule_at(i) or "").startswith("tags."):
                    i += 1
                    continue
                break
            b = view.doc.blocks[i]
            if b.n_words > settings.menu_item_max_words or shape.ends_sentence(b.text):
                break
            out.append(Removal(i, "tags.list", Category.TAGS, f"under {_snippet(view.doc.blocks[index].text)!r}"))
            i += 1
    return out


def _is_menu_item(block: Block, settings: Settings) -> bool:
    return (
        block.bullet
        and block.n_words <= settings.menu_item_max_words
        and not shape.ends_sentence(block.text)
    )


def detect_menus(view: View, patterns: PatternSet, settings: Settings) -> list[Removal]:
    """Runs of short list items before or after the article region are site navigation."""
    runs: list[list[Block]] = []
    run: list[Block] = []
    for block in view.kept():
        if _is_menu_item(block, settings):
            run.append(block)
        elif run:
            runs.append(run)
            run = []
    runs.append(run)
    runs = [r for r in runs if len(r) >= settings.menu_min_run]
    if not runs:
        return []  # most pages: no run long enough, no need for the article region
    region = _region(view, settings)
    return [
        Removal(b.index, "navigation.menu", Category.NAVIGATION, f"{len(run)} short list items")
        for run in runs
        if region is None or run[-1].index < region[0] or run[0].index > region[1]
        for b in run
    ]


# --------------------------------------------------------------------------- promo tail


def detect_promo_tail(view: View, patterns: PatternSet, settings: Settings) -> list[Removal]:
    """Promo spam glued to the end of a page: from the first non-prose promo block (promo
    vocabulary, or a shouting all-caps headline) after which no body paragraph follows, to the
    end."""
    anchor = patterns.get("promo.anchor")
    blocks = view.doc.blocks
    lows = view.doc.text_index().lows
    removals = view.removals
    search = anchor.regex.search
    # Scan from the end while no prose has been seen; remember the earliest promo start. The blocks
    # go in stretches, each up to the next prose block: the promo literals are searched once in a
    # stretch's joined text (a page ends in dozens of short blocks; testing each for every literal
    # was half the detector's time).
    start: Block | None = None
    tail = (b for b in reversed(blocks) if b.index not in removals)
    while True:
        stretch: list[Block] = []
        for block in tail:
            stretch.append(block)
            if shape.block_is_prose(block, settings):
                break
        if not stretch:
            break
        holding = _holding_any([lows[b.index] for b in stretch], anchor.requires)
        for block, may_promo in zip(stretch, holding, strict=True):
            promo = may_promo and search(block.text) is not None
            prose = shape.block_is_prose(block, settings)
            if prose and not promo:
                break
            if shape.is_shouting(block.text, settings) or (promo and not prose):
                start = block
        else:
            continue
        break
    if start is None:
        return []
    head = _snippet(start.text)
    return [
        Removal(b.index, "promo.tail", Category.PROMO, f"promo block from {head!r}")
        for b in blocks[start.index :]
        if b.index not in view.removals
    ]


def _holding_any(texts: list[str], literals: tuple[str, ...]) -> list[bool]:
    """Per text, whether it holds one of ``literals`` (all of them when there are none): one search
    per literal in the texts joined by newlines (a literal holds no newline, a text may)."""
    if not literals:
        return [True] * len(texts)
    joined = "\n".join(texts)
    ends = list(accumulate(map((1).__add__, map(len, texts))))  # one past each text's newline
    found = [False] * len(texts)
    for lit in literals:
        pos = joined.find(lit)
        while pos >= 0:
            j = bisect_right(ends, pos)
            found[j] = True
            if j + 1 >= len(texts):
                break
            pos = joined.find(lit, ends[j])
    return found


# --------------------------------------------------------------------------- comment threads

# Comment markers (author lines, comment timestamps, reply buttons) closer than this many blocks
# belong to one thread: a comment is an author line, a date, one to four paragraphs and a reply.
COMMENT_MAX_GAP = 6
# A thread has at least this many markers ...
COMMENT_MIN_MARKERS = 4
# ... and an anchor: a comments header at most this many blocks before its first marker, or at
# least this many author lines. Timestamps and reply buttons alone also fit a live ticker, whose
# entries are article text.
COMMENT_HEADER_REACH = 4
COMMENT_MIN_AUTHORS = 2
# Blocks after the last marker that still belong to the last comment (its body).
COMMENT_TAIL_BODY = 2


def detect_comment_threads(view: View, patterns: PatternSet, settings: Settings) -> list[Removal]:
    """Reader-comment threads: a cluster of comment markers anchored by a header or author lines,
    after some article prose. Everything from the header (or first marker) to the last comment's
    body goes."""
    header = patterns.get("comments.header")
    author = patterns.get("comments.author")
    marker = patterns.get("comments.marker")
    pingback = patterns.get("comments.pingback")  # a line rule of its own, and a mark of a thread
    blocks = view.doc.blocks
    index = view.doc.text_index()
    # one scan for the groups: a block any covers is a mark, an author line if author does
    found = patterns.first_matching((author.id, marker.id, pingback.id), index.texts, index)
    if len(found) < COMMENT_MIN_MARKERS:
        return []
    marks = [i for i, _, _ in found]
    authors_at = {i for i, rule, _ in found if rule.id == author.id}
    clusters: list[list[int]] = [[marks[0]]]
    for i in marks[1:]:
        if i - clusters[-1][-1] <= COMMENT_MAX_GAP:
            clusters[-1].append(i)
        else:
            clusters.append([i])
    first_prose = next((b.index for b in blocks if shape.block_is_prose(b, settings)), len(blocks))
    out: list[Removal] = []
    for cluster in clusters:
        if len(cluster) < COMMENT_MIN_MARKERS:
            continue
        lo = cluster[0]
        head = next(
            (j for j in range(lo - 1, max(-1, lo - 1 - COMMENT_HEADER_REACH), -1) if header.matches(blocks[j].text)),
            None,
        )
        authors = sum(1 for i in cluster if i in authors_at)
        if head is None and authors < COMMENT_MIN_AUTHORS:
            continue
        start = head if head is not None else lo
        if start <= first_prose:
            continue  # a thread follows an article; before any prose this is something else
        end = min(len(blocks) - 1, cluster[-1] + COMMENT_TAIL_BODY)
        what = _snippet(blocks[start].text, 40)
        out.extend(
            Removal(i, "comments.thread", Category.COMMENTS, f"{len(cluster)} comment markers from {what!r}")
            for i in range(start, end + 1)
            if not view.is_removed(i)
        )
    return out


# --------------------------------------------------------------------------- duplicates


def detect_repeats(view: View, patterns: PatternSet, settings: Settings) -> list[Removal]:
    """Later copies of a block (exact after whitespace/punctuation/case normalisation)."""
    seen: dict[str, Block] = {}
    first_prose: int | None = None
    out: list[Removal] = []
    for block in view.kept():
        key = block.key
        if first_prose is None and shape.block_is_prose(block, settings):
            first_prose = block.index
        if len(key) < settings.dedupe_min_chars:
            continue
        orig = seen.get(key)
        if orig is None:
            seen[key] = block
            continue
        rid = "dedupe.repeated_lead" if orig.index == first_prose else "dedupe.repeated_block"
        out.append(Removal(block.index, rid, Category.DUPLICATE, f"repeats line {orig.line}"))
    return out


# --------------------------------------------------------------------------- pull quotes

# A pull quote is a sentence: at least this many words (a two-word subheading that happens to
# occur in the body is not one).
PULL_QUOTE_MIN_WORDS = 5
# Capitalised words this long are names worth matching between an attribution and the body.
NAME_MIN_CHARS = 4


# Keys with fewer words are not looked up: a pull quote has PULL_QUOTE_MIN_WORDS words, so only
# text the key normaliser fuses (a CJK run is one key word) comes out shorter.
PULL_QUOTE_MIN_KEY_WORDS = 3


class _KeyText:
    """The kept blocks' keys, space-padded and joined by newlines: one C-level substring search
    finds every block that holds a key as whole words, in document order."""

    def __init__(self, blocks: list[Block]) -> None:
        self.blocks = blocks
        self.text = " " + " \n ".join([b.key for b in blocks]) + " "
        self._starts: list[int] | None = None

    @property
    def starts(self) -> list[int]:
        """Offset of each line in ``text`` (" k0 \n k1 \n ...": line j starts after the lines before
        it, each its key plus 3 characters). Only ``holders`` needs them, for the few keys that
        repeat, so they are counted on first use."""
        if self._starts is None:
            self._starts = list(accumulate(map((3).__add__, (len(b.key) for b in self.blocks[:-1])), initial=0))
        return self._starts

    def repeated(self, key: str) -> bool:
        """Whether ``key`` occurs (as whole words) in more than one line. A key occurs in its own
        line; occurrences in two lines cannot overlap (a needle holds no newline), so a single
        count that finds one means no other line holds it."""
        return self.text.count(f" {key} ") > 1

    def holders(self, key: str) -> Iterator[Block]:
        needle = f" {key} "
        starts = self.starts
        pos = self.text.find(needle)
        while pos >= 0:
            line = bisect_right(starts, pos) - 1
            yield self.blocks[line]
            nxt = line + 1
            if nxt >= len(starts):
                return
            pos = self.text.find(needle, starts[nxt])


def detect_pull_quotes(view: View, patterns: PatternSet, settings: Settings) -> list[Removal]:
    """A short sentence whose words all occur, in order, inside a longer kept block, plus the
    attribution line under it (a name and role sharing a name with that block)."""
    kept = list(view.kept())
    max_chars = settings.pull_quote_max_chars
    # the blocks that may be pull quotes: a sentence of enough words, short, not a list item
    quotes = [
        b for b in kept
        if b.n_words >= PULL_QUOTE_MIN_WORDS and not b.bullet and len(b.text) <= max_chars
        and (shape.ends_sentence(b.text) or shape.is_quoted(b.text))
        and b.key.count(" ") + 1 >= PULL_QUOTE_MIN_KEY_WORDS
    ]
    if not quotes:
        return []
    key_text = _KeyText(kept)
    out: list[Removal] = []
    for block in quotes:
        key = block.key
        if not key_text.repeated(key):
            continue  # only its own line holds it: no host
        size = len(key)
        # a host cut short by an ellipsis is an excerpt of the page (a teaser, a summary box): the
        # sentence it repeats is the original, not a pull quote (dev pages: the lead was dropped so)
        host = next(
            (b for b in key_text.holders(key)
             if b.index != block.index and len(b.key) > size and not shape.is_truncated(b.text)),
            None,
        )
        if host is None:
            continue
        out.append(
            Removal(block.index, "pull_quote.repeated_sentence", Category.PULL_QUOTE, f"repeats line {host.line}")
        )
        nxt = _kept_neighbour(view, block.index, +1)
        if nxt is None or nxt.index == host.index or nxt.bullet:
            continue
        if nxt.n_words > settings.attribution_max_words or shape.ends_sentence(nxt.text):
            continue
        names = {w for w in shape.words(nxt.text) if w[:1].isupper() and len(w) >= NAME_MIN_CHARS}
        dash = nxt.text[:1] in "-–—"
        if dash or names & set(shape.words(host.text)):
            out.append(Removal(nxt.index, "pull_quote.attribution", Category.PULL_QUOTE, "names the quoted speaker"))
    return out


# --------------------------------------------------------------------------- excerpts

# Sentences of an excerpt shorter than this are not looked up ('Good morning!', 'Mein Onkel.'):
# short phrases recur by chance; four words is where a repeated sentence stops being a phrase.
EXCERPT_MIN_SENTENCE_WORDS = 4


def detect_excerpts(view: View, patterns: PatternSet, settings: Settings) -> list[Removal]:
    """A block cut short by an ellipsis whose whole sentences all stand in other kept blocks is
    the page's own text once more, as a teaser or a summary box ('Good morning! This is the tech
    news ... Legere will hand ove…' over the list it sums up). Its last, cut-off sentence is not
    looked up."""
    kept = list(view.kept())
    excerpts = [b for b in kept if b.n_words >= settings.body_min_words and shape.is_truncated(b.text)]
    if not excerpts:
        return []
    key_text = _KeyText(kept)
    out: list[Removal] = []
    for block in excerpts:
        whole = shape.SENTENCE_SPLIT.split(block.text)[:-1]
        keys = [shape.norm_key(s) for s in whole if shape.word_count(s) >= EXCERPT_MIN_SENTENCE_WORDS]
        if keys and all(any(h.index != block.index for h in key_text.holders(k)) for k in keys):
            out.append(Removal(block.index, "dedupe.excerpt", Category.DUPLICATE,
                               f"its {len(keys)} sentences stand in other blocks"))
    return out


def detect_excerpt_runs(view: View, patterns: PatternSet, settings: Settings) -> list[Removal]:
    """A run of ``teaser_excerpt_min_run`` or more blocks cut short by an ellipsis, at most
    ``teaser_excerpt_max_gap`` other blocks apart, is a list of teasers: each an excerpt of another
    story ('… may soon...'), the blocks between them their headlines."""
    kept = list(view.kept())
    cut = [shape.is_truncated(b.text) for b in kept]
    if sum(cut) < settings.teaser_excerpt_min_run:
        return []
    gap = settings.teaser_excerpt_max_gap
    out: list[Removal] = []
    # an other block continues the run when an excerpt follows within ``gap`` blocks
    for start, end, n in shape.marked_runs(cut, lambda j: any(cut[j + 1 : j + 1 + gap])):
        if n >= settings.teaser_excerpt_min_run:
            out.extend(Removal(b.index, "teaser.excerpt_run", Category.TEASER, f"{n} excerpts cut short in a row")
                       for b in kept[start : end + 1])
    return out


RULE_DETECTORS: Sequence[tuple[str, Detector]] = (
    ("no_words", detect_no_words),
    ("phrases", detect_phrases),
    ("code_shape", detect_code_shape),
    ("captions", detect_captions),
    ("consent", detect_consent),
    ("tag_lists", detect_tag_lists),
    ("promo_tail", detect_promo_tail),
    ("comment_threads", detect_comment_threads),
    ("menus", detect_menus),
    ("repeats", detect_repeats),
    ("pull_quotes", detect_pull_quotes),
    ("excerpts", detect_excerpts),
    ("excerpt_runs", detect_excerpt_runs),
)


def _finder(view: View, patterns: PatternSet, settings: Settings) -> list[Removal]:
    from cleaners.finder import detect_non_article

    return detect_non_article(view, patterns, settings)


# The phrase and shape rules first (their verdicts are features of the content finder), then the
# content finder on what they left.
DETECTORS: Sequence[tuple[str, Detector]] = (*RULE_DETECTORS, ("content_finder", _finder))
