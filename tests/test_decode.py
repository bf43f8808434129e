"""cleaners.decode: strict decoding, normalisation, binary/empty refusal, format sniffing."""

from __future__ import annotations

import codecs
import pickle
import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from cleaners.decode import DecodeError, decode_bytes, sniff_format

GERMAN = "Herr Müller sagt: „Das kostet 5 €.“\nGrüße aus Köln – Straße"
LATIN1 = "Herr Müller grüßt Köln; Größe ½ × 3"


@pytest.mark.parametrize(
    ("data", "encoding", "had_bom"),
    [
        (GERMAN.encode("cp1252"), "cp1252", False),
        (GERMAN.encode("utf-8"), "utf-8", False),
        (GERMAN.encode("utf-8-sig"), "utf-8", True),
        (codecs.BOM_UTF16_LE + GERMAN.encode("utf-16-le"), "utf-16-le", True),
        (codecs.BOM_UTF16_BE + GERMAN.encode("utf-16-be"), "utf-16-be", True),
        (GERMAN.encode("utf-32"), "utf-32-le", True),
        (GERMAN.encode("utf-16-le"), "utf-16-le", False),  # no BOM: found by the NUL pattern
    ],
)
def test_german_text_in_common_encodings(data: bytes, encoding: str, had_bom: bool) -> None:
    decoded = decode_bytes(data)
    assert decoded.text == GERMAN
    assert decoded.encoding == encoding
    assert decoded.had_bom is had_bom
    assert decoded.replaced == 0


def test_latin1_page_decodes_as_cp1252_superset() -> None:
    decoded = decode_bytes(LATIN1.encode("latin-1"))
    assert decoded.text == LATIN1
    assert decoded.encoding == "cp1252"  # same characters; the name browsers use for latin-1


def test_cp1252_quotes_and_euro_are_not_c1_controls() -> None:
    decoded = decode_bytes("„Müller“ zahlt 10 € – sagt er…".encode("cp1252"))
    assert decoded.text == "„Müller“ zahlt 10 € – sagt er…"


def test_newlines_nfc_and_leading_bom_char() -> None:
    decoded = decode_bytes("\ufeffa\r\nb\rc\nMu\u0308ller".encode())
    assert decoded.text == "a\nb\nc\nMüller"
    assert decoded.had_bom


def test_existing_replacement_characters_are_counted_not_added() -> None:
    decoded = decode_bytes("kaputt: \ufffd und \ufffd".encode())
    assert decoded.replaced == 2


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n", codecs.BOM_UTF8, codecs.BOM_UTF8 + b"  \n"])
def test_empty(data: bytes) -> None:
    with pytest.raises(DecodeError) as info:
        decode_bytes(data)
    assert info.value.reason == "empty"


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
        b"text with a NUL\x00 byte",
        bytes(range(1, 9)) * 20 + b"some letters",
    ],
)
def test_binary(data: bytes) -> None:
    with pytest.raises(DecodeError) as info:
        decode_bytes(data)
    assert info.value.reason == "binary"


def test_undecodable_is_refused_not_replaced() -> None:
    # 0x81 is undefined in cp1252/cp1250, 0x98 in cp1251, and latin-1 would yield C1 controls.
    with pytest.raises(DecodeError) as info:
        decode_bytes(b"Preis \x81\x98\x8d Euro")
    assert info.value.reason == "undecodable"
    assert isinstance(info.value, ValueError)


def test_decode_error_pickles_with_reason() -> None:
    err = pickle.loads(pickle.dumps(DecodeError("binary", "binary content")))
    assert (err.reason, str(err)) == ("binary", "binary content")


def test_html_meta_charset_is_used_when_not_utf8() -> None:
    body = "<p>Zażółć gęślą jaźń – Łódź, Wrocław i Kraków.</p>"
    page = f'<html><head><meta charset="windows-1250"></head><body>{body}</body></html>'
    decoded = decode_bytes(page.encode("cp1250"), hint_html=True)
    assert decoded.encoding == "cp1250"
    assert body in decoded.text


def test_html_http_equiv_latin1_means_cp1252() -> None:
    page = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">'
        "</head><body><p>Grüße, 5 € für „alle“</p></body></html>"
    )
    decoded = decode_bytes(page.encode("cp1252"))  # hint None: sniffed as HTML
    assert decoded.encoding == "cp1252"
    assert "Grüße, 5 € für „alle“" in decoded.text


def test_utf8_wins_over_a_wrong_meta_declaration() -> None:
    page = '<html><head><meta charset="iso-8859-1"></head><body>Müller</body></html>'
    assert decode_bytes(page.encode("utf-8"), hint_html=True).encoding == "utf-8"


_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs", "Cc")),
        st.sampled_from("\t\n\r äöüß€„“"),
    ),
    max_size=200,
)


@given(text=_TEXT, encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_roundtrip_unicode_encodings(text: str, encoding: str) -> None:
    expected = text[1:] if text.startswith("\ufeff") else text
    expected = unicodedata.normalize("NFC", expected.replace("\r\n", "\n").replace("\r", "\n"))
    assume(expected.strip())
    decoded = decode_bytes(text.encode(encoding))
    assert decoded.text == expected
    assert unicodedata.is_normalized("NFC", decoded.text)


@pytest.mark.parametrize(
    "text",
    [
        "<!DOCTYPE html><title>x</title>",
        "  <html lang=de><p>x",
        "<?xml version='1.0'?>\n<!-- c -->\n<html xmlns='http://www.w3.org/1999/xhtml'>",
        "Vorspann\n<body><p>Text</p></body>",
        "<div><p>a</p><p>b</p><a href='x'>c</a><br/><span>d</span></div>",
    ],
)
def test_sniff_html(text: str) -> None:
    assert sniff_format(text) == "html"


@pytest.mark.parametrize(
    "text",
    [
        "Herr Müller sagt: Das <b>ist</b> kein HTML.",
        "a < b and c > d, 3 <4",
        "Startseite\nNachrichten\n\nEin Artikel über <p>-Tags und <div>s.",
        "",
    ],
)
def test_sniff_text(text: str) -> None:
    assert sniff_format(text) == "text"


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Café à la crème, très élégant. Müller zahlt 5 €.", "cp1252"),
        ("Příliš žluťoučký kůň úpěl ďábelské ódy. Česká republika leží ve střední Evropě.", "cp1250"),
        ("Привет, как дела? Это тест на русском языке, новости дня.", "cp1251"),
    ],
)
def test_single_byte_guesses(text: str, encoding: str) -> None:
    decoded = decode_bytes(text.encode(encoding))
    assert (decoded.text, decoded.encoding) == (text, encoding)
