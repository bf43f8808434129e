"""The output contract: an :class:`~cleaners.model.Article` plus its sources as a JSON record.

One function builds records (:func:`article_record`), one serialises them (:func:`dumps_record`), so
every writer (article files, feed lines, tests) produces the same bytes for the same article. The
record's JSON Schema ships as ``cleaners/schema/article.schema.json`` (:func:`load_schema`).

Pure: no I/O besides reading the packaged schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

from cleaners.model import Article

__all__ = [
    "RECORD_FIELDS",
    "SCHEMA_VERSION",
    "Source",
    "article_record",
    "dumps_record",
    "load_schema",
    "normalise_sources",
    "record_sources",
    "with_sources",
]

SCHEMA_VERSION: Final = 1

# Field order of a record; also the key order of the serialised JSON.
RECORD_FIELDS: Final = (
    "schema_version",
    "id",
    "title",
    "lead",
    "text",
    "blocks",
    "language",
    "language_confidence",
    "sources",
    "removed",
    "notes",
    "extraction",
    "metadata",
)


@dataclass(frozen=True, slots=True, order=True)
class Source:
    """One input an article was read from.

    ``uri``: the path as given by the user or the record's URL; ``sha256``: hex digest of the bytes
    read; ``encoding``: the codec they were decoded with; ``format``: ``html`` or ``text``.
    """

    uri: str
    sha256: str
    encoding: str
    format: str

    def to_json(self) -> dict[str, str]:
        return {"uri": self.uri, "sha256": self.sha256, "encoding": self.encoding, "format": self.format}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Source:
        return cls(str(obj["uri"]), str(obj["sha256"]), str(obj["encoding"]), str(obj["format"]))


def normalise_sources(sources: Iterable[Source]) -> list[Source]:
    """De-duplicated, sorted by (uri, sha256, ...): the order never depends on input order."""
    return sorted(set(sources))


def article_record(article: Article, sources: Sequence[Source]) -> dict[str, Any]:
    """The JSON record of a non-empty article read from ``sources`` (at least one).

    ``notes`` become an object; a key that occurs more than once keeps its values joined by a
    newline, in order. ``metadata`` keys are sorted so the bytes do not depend on dict order.
    """
    if article.is_empty:
        raise ValueError(f"article {article.id} is empty ({article.empty_reason}); empty articles have no record")
    if not sources:
        raise ValueError("an article record needs at least one source")
    notes: dict[str, str] = {}
    for note in article.notes:
        notes[note.key] = f"{notes[note.key]}\n{note.value}" if note.key in notes else note.value
    record: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "id": article.id,
        "title": article.title,
        "lead": article.lead,
        "text": article.text,
        "blocks": [{"kind": str(block.kind), "text": block.text} for block in article.blocks],
        "language": article.language,
        "language_confidence": float(article.language_confidence),
        "sources": [s.to_json() for s in normalise_sources(sources)],
        "removed": [
            {"text": r.text, "rule": r.rule, "category": str(r.category), "detail": r.detail}
            for r in article.removed
        ],
        "notes": notes,
        "extraction": article.extraction,
        "metadata": {str(k): str(v) for k, v in sorted(article.metadata.items())},
    }
    return record


def record_sources(record: Mapping[str, Any]) -> list[Source]:
    """The sources listed in a record."""
    return [Source.from_json(s) for s in record.get("sources", ())]


def with_sources(record: Mapping[str, Any], sources: Iterable[Source]) -> dict[str, Any]:
    """A copy of ``record`` listing exactly ``sources`` (de-duplicated and sorted)."""
    out = dict(record)
    out["sources"] = [s.to_json() for s in normalise_sources(sources)]
    return out


def dumps_record(record: Mapping[str, Any]) -> str:
    """The one serialisation of a record: UTF-8-friendly, indented, fields in contract order."""
    ordered = {key: record[key] for key in RECORD_FIELDS if key in record}
    ordered.update({k: v for k, v in record.items() if k not in ordered})
    parts: list[str] = []
    try:
        _indented(ordered, "\n", parts)
    except _NotPlainJson:
        return json.dumps(ordered, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
    parts.append("\n")
    return "".join(parts)


# json.dumps with ``indent`` runs the pure-Python encoder (the C one only writes compact JSON):
# ~0.75 ms for a record of a dev page. ``_indented`` writes the same text for the plain JSON values
# a record holds (dict with str keys, list, str, int, float, bool, None; strings through json's own
# C string encoder), ~4x faster; anything else goes back to json.dumps (``tests/test_speed_core.py``).
_encode_str = json.encoder.encode_basestring
_INDENT = "  "


class _NotPlainJson(Exception):
    pass


def _float_json(value: float) -> str:
    if value != value:
        return "NaN"
    if value == float("inf"):
        return "Infinity"
    if value == -float("inf"):
        return "-Infinity"
    return float.__repr__(value)


def _indented(value: Any, newline: str, parts: list[str]) -> None:
    """Append ``json.dumps(value, ensure_ascii=False, indent=2)`` to ``parts``; ``newline`` is a
    newline and the indentation of the current level."""
    kind = type(value)
    if kind is str:
        parts.append(_encode_str(value))
    elif kind is dict:
        if not value:
            parts.append("{}")
            return
        inner = newline + _INDENT
        if all(type(k) is str and type(v) is str for k, v in value.items()):  # removed texts, blocks
            pairs = [f"{_encode_str(k)}: {_encode_str(v)}" for k, v in value.items()]
            parts.append(f"{{{inner}{f',{inner}'.join(pairs)}{newline}}}")
            return
        sep = "{" + inner
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlainJson
            parts.append(f"{sep}{_encode_str(key)}: ")
            _indented(item, inner, parts)
            sep = "," + inner
        parts.append(newline + "}")
    elif kind is list:
        if not value:
            parts.append("[]")
            return
        inner = newline + _INDENT
        sep = "[" + inner
        for item in value:
            parts.append(sep)
            _indented(item, inner, parts)
            sep = "," + inner
        parts.append(newline + "]")
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif kind is int:
        parts.append(int.__repr__(value))
    elif kind is float:
        parts.append(_float_json(value))
    else:
        raise _NotPlainJson


def load_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of an article record."""
    text = resources.files("cleaners.schema").joinpath("article.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
