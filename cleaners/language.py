"""Language identification with langdetect, deterministic.

langdetect samples n-grams at random; its module-level ``detect`` uses a shared global factory
and an unseeded RNG. Here a private factory is loaded once (its profiles are immutable after
loading) and every detector instance gets the seed from settings, so the same text always gets
the same answer and nothing global is mutated.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cleaners.settings import DEFAULT, Settings


@lru_cache(maxsize=1)
def _factory() -> Any:
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    return factory


def detect_language(text: str, settings: Settings = DEFAULT) -> tuple[str | None, float]:
    """(ISO code, probability) of the best language, or (None, 0.0) when the text is too short."""
    from langdetect.lang_detect_exception import LangDetectException

    sample = text[: settings.langdetect_max_chars]
    if sum(1 for c in sample if c.isalpha()) < settings.langdetect_min_letters:
        return None, 0.0
    detector = _factory().create()
    detector.seed = settings.langdetect_seed
    detector.append(sample)
    try:
        best = detector.get_probabilities()
    except LangDetectException:
        return None, 0.0
    if not best:
        return None, 0.0
    return str(best[0].lang), round(float(best[0].prob), 4)
