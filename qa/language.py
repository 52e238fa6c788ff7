"""Which language an article is written in (langdetect: pure Python, bundled JSON profiles, no downloads)."""
from __future__ import annotations

from functools import lru_cache

from langdetect import DetectorFactory, LangDetectException, detect

DetectorFactory.seed = 0  # langdetect samples at random; fixed seed, same answer every time
SAMPLE_CHARS = 4000


@lru_cache(maxsize=4096)
def language(text: str) -> str:
    """ISO 639-1 code of the text's language ("en", "id", ...), or "?" when it cannot tell."""
    try:
        return detect(text[:SAMPLE_CHARS])
    except LangDetectException:
        return "?"
