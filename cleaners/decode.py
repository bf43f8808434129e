"""Bytes to text, without guessing silently and without losing characters.

:func:`decode_bytes` turns the raw bytes of a scraped page into normalised text (NFC, ``\\n`` line
ends, no leading BOM) and says which encoding it used. Every decoder is strict: when nothing decodes
the bytes cleanly the page is refused with a :class:`DecodeError` instead of being decoded with
``errors="replace"``/``"ignore"``. :func:`sniff_format` decides ``html`` vs ``text`` by content.

Pure functions: no I/O, no global mutable state.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["DecodeError", "Decoded", "decode_bytes", "sniff_format"]

# How many leading bytes are inspected for binary content. 8 KiB covers the head of any real page
# while keeping the check O(1) for large inputs; random binary data contains a NUL byte within
# 8 KiB with probability 1 - (255/256)**8192 ≈ 1 - 1e-14.
BINARY_SAMPLE_BYTES: Final = 8192

# Above this share of C0 control bytes (other than tab/newline/CR/FF/VT/ESC) in the sample the
# input is treated as binary. Real text has ~0 %; uniformly random bytes have ~10 %. 5 % leaves a
# wide margin for text with a few stray control characters.
MAX_CONTROL_SHARE: Final = 0.05

# In UTF-16 without BOM, ASCII-range text puts a NUL in every other byte. If at least this share
# of the sampled byte pairs has a NUL on the same side, try UTF-16 before calling it binary.
UTF16_NUL_PAIR_SHARE: Final = 0.6

# HTML charset declarations must appear early; the HTML standard's prescan looks at the first
# 1024 bytes, real-world pages sometimes put <meta> after long comments/scripts, so 4 KiB.
META_SCAN_BYTES: Final = 4096

# How much of the text :func:`sniff_format` looks at.
SNIFF_CHARS: Final = 8192

# Minimum number of common HTML tags in the sniffed window for a page without <html>/<head>/<body>
# to count as HTML. A plain-text article quoting markup rarely has more than one or two tags;
# even a small HTML fragment (a few paragraphs with links) has more than six.
MIN_HTML_TAGS: Final = 6

# Candidate encodings for charset_normalizer, in order of preference when it rates several equally:
# Western and Central European single-byte code pages plus Cyrillic cp1251 (news about Eastern
# Europe). utf-16/32 are only accepted with a BOM (or the BOM-less UTF-16 check above) because they
# decode almost any even-length byte string; koi8-r and mac-roman are left out because they decode
# every byte, which would make "undecodable" impossible.
PLAUSIBLE_ENCODINGS: Final = (
    "utf_8",
    "cp1252",
    "iso8859_15",
    "latin_1",
    "cp1250",
    "iso8859_2",
    "cp1251",
)

# charset_normalizer scores (mess ratio, language coherence) closer than this count as a tie, broken
# by the order of PLAUSIBLE_ENCODINGS: for short German text cp1250 and cp1252 both score 0.0.
GUESS_TIE: Final = 0.01

# Byte order marks, longest first: the UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Labels that the HTML standard maps to windows-1252: browsers decode "iso-8859-1" pages as cp1252,
# and so do authors who declare latin-1 but type € or „“ in Word.
_WHATWG_CP1252_LABELS: Final = frozenset({"latin_1", "iso8859_1", "ascii", "cp1252"})

_ALLOWED_C0: Final = frozenset(b"\t\n\r\x0b\x0c\x1b")
_C0_CONTROL_BYTES: Final = frozenset(b for b in range(0x20) if b not in _ALLOWED_C0) | {0x7F}
_TEXT_CONTROL_RE: Final = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
_C1_RE: Final = re.compile("[\x80-\x9f]")
_WHITESPACE_BYTES: Final = b" \t\n\r\x0b\x0c"

_META_CHARSET_RE: Final = re.compile(
    rb"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([A-Za-z0-9_:.+\-]+)""", re.IGNORECASE
)
_XML_DECL_RE: Final = re.compile(rb"""^\s*<\?xml\b[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9_.\-]+)""")

_HTML_START_RE: Final = re.compile(
    r"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html\b)", re.I | re.S
)
_HTML_SKELETON_RE: Final = re.compile(r"<(?:html|head|body)(?:\s[^>]*)?>", re.I)
_HTML_TAG_RE: Final = re.compile(
    r"</?(?:p|div|span|a|br|hr|li|ul|ol|h[1-6]|article|section|main|nav|header|footer|aside|"
    r"script|style|meta|link|title|table|tr|td|th|img|figure|figcaption|blockquote|strong|em|b|i|"
    r"form|input|button|iframe|noscript|time)(?:\s[^<>]*)?/?>",
    re.I,
)


class DecodeError(ValueError):
    """The bytes are not a text document. ``reason`` is a short snake_case code.

    Codes: ``empty`` (no bytes or only whitespace), ``binary`` (NUL/control bytes),
    ``undecodable`` (no plausible encoding decodes the bytes strictly).
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __reduce__(self) -> tuple[type[DecodeError], tuple[str, str]]:
        return (type(self), (self.reason, self.message))


@dataclass(frozen=True, slots=True)
class Decoded:
    """Decoded, normalised text.

    ``encoding`` is Python's canonical codec name (``utf-8``, ``cp1252``, ``utf-16-le``, ...);
    ``had_bom`` whether the bytes started with a byte order mark; ``replaced`` how many U+FFFD
    replacement characters the text contains. Decoding never substitutes characters itself, so
    these were already in the input (damage done upstream) and are counted, not introduced.
    """

    text: str
    encoding: str
    had_bom: bool
    replaced: int = 0


def decode_bytes(data: bytes, *, hint_html: bool | None = None) -> Decoded:
    """Decode ``data`` strictly and normalise it.

    Order: empty → BOM → binary check → strict UTF-8 → (HTML) declared ``<meta charset>`` →
    charset_normalizer's best plausible guess → strict cp1252. ``hint_html``: ``True`` if the
    input is known to be HTML, ``False`` if known not to be, ``None`` to decide by content
    whether to look for a ``<meta charset>`` declaration.

    Raises :class:`DecodeError` with reason ``empty``, ``binary`` or ``undecodable``.
    """
    if not data.strip(_WHITESPACE_BYTES):
        raise DecodeError("empty", "no content (empty or whitespace only)")

    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = _strict(data[len(bom) :], encoding)
            if text is not None:
                return _finish(text, encoding, had_bom=True)
            # A BOM followed by bytes invalid in its encoding: not what it claims; keep looking.
            break

    if _looks_binary(data[:BINARY_SAMPLE_BYTES]):
        utf16 = _bomless_utf16(data)
        if utf16 is not None:
            return _finish(utf16[0], utf16[1], had_bom=False)
        raise DecodeError("binary", "binary content (NUL or control bytes)")

    text = _strict(data, "utf-8")
    if text is not None:
        return _finish(text, "utf-8", had_bom=False)

    if hint_html is None:
        hint_html = sniff_format(data[:SNIFF_CHARS].decode("latin-1")) == "html"
    if hint_html:
        declared = _declared_encoding(data[:META_SCAN_BYTES])
        if declared is not None:
            for candidate in _declared_candidates(declared):
                text = _strict(data, candidate)
                if text is not None and _plausible(text):
                    return _finish(text, candidate, had_bom=False)

    guessed = _guess(data)
    if guessed is not None:
        return _finish(guessed[0], guessed[1], had_bom=False)

    text = _strict(data, "cp1252")
    if text is not None and _plausible(text):
        return _finish(text, "cp1252", had_bom=False)

    raise DecodeError("undecodable", "no plausible encoding decodes the bytes without errors")


def sniff_format(text: str) -> Literal["html", "text"]:
    """``"html"`` if the start of ``text`` is markup, else ``"text"``. Decides by content only.

    HTML: a doctype or ``<html>`` at the start, an ``<html>``/``<head>``/``<body>`` tag anywhere
    in the first :data:`SNIFF_CHARS` characters, or at least :data:`MIN_HTML_TAGS` common tags.
    """
    head = text[:SNIFF_CHARS]
    if _HTML_START_RE.match(head) or _HTML_SKELETON_RE.search(head):
        return "html"
    for count, _ in enumerate(_HTML_TAG_RE.finditer(head), start=1):
        if count >= MIN_HTML_TAGS:
            return "html"
    return "text"


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding, errors="strict")
    except (UnicodeDecodeError, LookupError):
        return None


def _finish(text: str, encoding: str, *, had_bom: bool) -> Decoded:
    if text.startswith("\ufeff"):
        text = text[1:]
        had_bom = True
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        raise DecodeError("empty", f"no content after decoding as {encoding}")
    return Decoded(text=text, encoding=_canonical(encoding), had_bom=had_bom, replaced=text.count("\ufffd"))


def _canonical(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return encoding


def _looks_binary(sample: bytes) -> bool:
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b in _C0_CONTROL_BYTES)
    return controls > MAX_CONTROL_SHARE * len(sample)


def _bomless_utf16(data: bytes) -> tuple[str, str] | None:
    """UTF-16 without a BOM: NULs sit on one side of most byte pairs (for Latin-script text)."""
    sample = data[: BINARY_SAMPLE_BYTES - BINARY_SAMPLE_BYTES % 2]
    pairs = len(sample) // 2
    if pairs == 0 or len(data) % 2:
        return None
    even_nuls = sum(1 for i in range(0, 2 * pairs, 2) if sample[i] == 0)
    odd_nuls = sum(1 for i in range(1, 2 * pairs, 2) if sample[i] == 0)
    if odd_nuls >= UTF16_NUL_PAIR_SHARE * pairs and even_nuls == 0:
        encoding = "utf-16-le"
    elif even_nuls >= UTF16_NUL_PAIR_SHARE * pairs and odd_nuls == 0:
        encoding = "utf-16-be"
    else:
        return None
    text = _strict(data, encoding)
    if text is None or not _plausible(text):
        return None
    return text, encoding


def _plausible(text: str) -> bool:
    """A decoding is implausible if it yields C1 controls or many C0 controls (a wrong code page)."""
    if _C1_RE.search(text):
        return False
    controls = len(_TEXT_CONTROL_RE.findall(text[:BINARY_SAMPLE_BYTES]))
    return controls <= MAX_CONTROL_SHARE * min(len(text), BINARY_SAMPLE_BYTES)


def _declared_encoding(head: bytes) -> str | None:
    match = _XML_DECL_RE.match(head) or _META_CHARSET_RE.search(head)
    if match is None:
        return None
    label = match.group(1).decode("ascii", errors="strict").strip().lower()
    try:
        return codecs.lookup(label).name.replace("-", "_")
    except LookupError:
        return None


def _declared_candidates(declared: str) -> tuple[str, ...]:
    if declared in {"utf_8", "utf_16", "utf_16_le", "utf_16_be", "utf_32", "utf_32_le", "utf_32_be"}:
        # Already tried (UTF-8) or only trusted with a BOM: a page that declares UTF-8 but is not
        # valid UTF-8 is usually cp1252 mislabelled; let the guesser handle it.
        return ()
    if declared.replace("-", "_") in _WHATWG_CP1252_LABELS:
        return ("cp1252", "latin_1")
    return (declared,)


def _guess(data: bytes) -> tuple[str, str] | None:
    """charset_normalizer's best plausible candidate; among candidates it rates equally (same mess
    and coherence), the one earliest in :data:`PLAUSIBLE_ENCODINGS` (cp1252 before cp1250)."""
    from charset_normalizer import from_bytes

    scored: list[tuple[float, float, int, str, str]] = []
    for match in from_bytes(data, cp_isolation=list(PLAUSIBLE_ENCODINGS)):
        names = [str(match.encoding), *(str(n) for n in match.could_be_from_charset)]
        encoding = min(names, key=_preference)
        text = _strict(data, encoding)
        if text is None or not _plausible(text):
            continue
        scored.append((float(match.chaos), -float(match.coherence), _preference(encoding), encoding, text))
    if not scored:
        return None
    best_chaos, best_coherence = min((c, h) for c, h, *_ in scored)
    ties = [s for s in scored if s[0] - best_chaos <= GUESS_TIE and s[1] - best_coherence <= GUESS_TIE]
    _, _, _, encoding, text = min(ties, key=lambda s: s[2])
    return text, encoding


def _preference(encoding: str) -> int:
    name = codecs.lookup(encoding).name.replace("-", "_")
    normalised = [codecs.lookup(e).name.replace("-", "_") for e in PLAUSIBLE_ENCODINGS]
    return normalised.index(name) if name in normalised else len(normalised)
