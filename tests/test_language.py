"""Language detection: deterministic, and the fast backend answers exactly as langdetect."""

from __future__ import annotations

from pathlib import Path

import pytest

from cleaners.language import BACKENDS, detect_language

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

SAMPLES = [
    *(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))),
    "The council unveiled plans on Tuesday to extend the network of protected bike lanes.",
    "Le conseil municipal a présenté mardi des projets pour étendre le réseau de pistes cyclables.",
    "El ayuntamiento presentó el martes planes para ampliar la red de carriles bici protegidos.",
    "Rada miasta przedstawiła we wtorek plany rozbudowy sieci chronionych ścieżek rowerowych.",
    "Kurz, aber deutsch genug für eine Antwort.",
]


def test_seeds_are_german_with_high_confidence() -> None:
    for text in SAMPLES[:5]:
        lang, conf = detect_language(text)
        assert lang == "de" and conf > 0.99


@pytest.mark.parametrize("text", SAMPLES)
def test_backends_agree_bit_for_bit(text: str) -> None:
    answers = {b: detect_language(text, backend=b) for b in BACKENDS}
    assert len(set(answers.values())) == 1, answers


def test_short_or_letterless_text_has_no_language() -> None:
    assert detect_language("") == (None, 0.0)
    assert detect_language("12:30 | 4:1 | 100 %") == (None, 0.0)


def test_repeated_calls_are_deterministic() -> None:
    text = "Ein kurzer Satz, der zwischen Sprachen schwanken könnte: Hotel Restaurant Taxi Bar."
    assert len({detect_language(text) for _ in range(5)}) == 1
