"""Word tokens for lexical matching: lower-cased, Snowball-stemmed, any script that has word characters."""
from __future__ import annotations

import re

import Stemmer

_WORD = re.compile(r"\w+", re.UNICODE)
stem = Stemmer.Stemmer("english").stemWord


def terms(text: str) -> list[str]:
    """Lower-cased, stemmed word tokens (English stemming leaves most Indonesian words as they are)."""
    return [stem(w.lower()) for w in _WORD.findall(text)]
