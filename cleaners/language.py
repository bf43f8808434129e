"""Language identification with langdetect, deterministic and fast.

langdetect samples n-grams at random; its module-level ``detect`` uses a shared global factory and
an unseeded RNG. Here a private factory is loaded once (its profiles are immutable after loading)
and every detector instance gets the seed from settings, so the same text always gets the same
answer and nothing global is mutated.

Backend: ``langdetect_rs`` when installed (a Rust port of langdetect whose results are bit for bit
the same: checked on all 351 dev pages and the seeds, and by ``tests/test_language.py``; about 40x
faster, 0.4 ms instead of 17 ms per page), otherwise langdetect itself. With langdetect_rs the
seeded detection is one call into its core (see ``_one_pass``).
"""

from __future__ import annotations

import importlib
import re
from functools import lru_cache
from typing import Any

from cleaners.settings import DEFAULT, Settings

BACKENDS = ("langdetect_rs", "langdetect")


@lru_cache(maxsize=4)
def _letters(n: int) -> re.Pattern[str]:
    """At least ``n`` letters anywhere (a regex, so the check stops at the n-th letter)."""
    return re.compile(rf"(?:[^\W\d_][\W\d_]*){{{n}}}")


@lru_cache(maxsize=len(BACKENDS))
def _factory(backend: str) -> Any:
    module = importlib.import_module(f"{backend}.detector_factory")
    factory = module.DetectorFactory()
    factory.load_profile(module.PROFILES_DIRECTORY)
    return factory


@lru_cache(maxsize=1)
def default_backend() -> str:
    for name in BACKENDS:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
        return name
    raise ImportError("cleanfeed needs langdetect (or langdetect-rs) for language detection")


def _probabilities(backend: str, sample: str, seed: int) -> list[tuple[str, float]]:
    """(language, probability) above langdetect's threshold, best first, from a seeded Detector
    (empty when the text has no features)."""
    detector = _factory(backend).create()
    detector.seed = seed
    detector.append(sample)
    try:
        best = detector.get_probabilities()
    except Exception as exc:  # LangDetectException of either backend: no usable features
        if type(exc).__name__ == "LangDetectException":
            return []
        raise
    return [(lang.lang, lang.prob) for lang in best]


@lru_cache(maxsize=8)
def _one_pass(backend: str, seed: int) -> Any:
    """``_probabilities`` in one call into langdetect_rs's core, or None when the backend has no
    such call (langdetect). A langdetect_rs Detector calls its core twice (a features check, then
    the trials), ~0.1 ms a page more; the core's ``detect_langs`` is the whole seeded detection
    (the package's own ``detect_langs`` calls it with its global factory, whose seed cannot be set
    without mutating global state). Returns None (no features) or (language, probability) pairs
    best first, exactly as ``_probabilities`` (``tests/test_speed_core.py``)."""
    if backend != "langdetect_rs":
        return None
    try:
        seed_state = importlib.import_module(f"{backend}._seed").seed_state
        core_detect = _factory(backend)._core.detect_langs
    except (ImportError, AttributeError):  # another version of langdetect_rs: use its Detector
        return None
    state = seed_state(seed)
    return lambda sample: core_detect(sample, state)


def detect_language(
    text: str, settings: Settings = DEFAULT, *, backend: str | None = None
) -> tuple[str | None, float]:
    """(ISO code, probability) of the best language, or (None, 0.0) when the text is too short."""
    name = backend or default_backend()
    sample = text[: settings.langdetect_max_chars]
    if _letters(settings.langdetect_min_letters).search(sample) is None:
        return None, 0.0
    one_pass = _one_pass(name, settings.langdetect_seed)
    best = one_pass(sample) if one_pass is not None else _probabilities(name, sample, settings.langdetect_seed)
    if not best:
        return None, 0.0
    lang, prob = best[0]
    return str(lang), round(float(prob), 4)
