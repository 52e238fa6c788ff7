"""Follow-up questions without a generative model: when a question leans on the previous one ("How
much will it cost?"), the previous question's key words are carried into retrieval, visibly."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .answer_types import STOPWORDS, TYPE_WORDS
from .lexical import stem

# Words that point back to something said before (English and Indonesian).
REFERENCES = set("""it its it's they them their theirs this that these those he him his she her there then
such former latter same ia dia beliau mereka ini itu tersebut sana situ""".split())
OPENERS = re.compile(r"^\s*(and|also|what about|how about|and what about|bagaimana dengan|lalu|terus|kalau)\b",
                     re.IGNORECASE)
QUESTION_WORDS = set("""what which who whom whose when where why how much many apa siapa kapan mana berapa
mengapa kenapa bagaimana""".split())
_WORD = re.compile(r"[\w’'-]+", re.UNICODE)
MAX_CARRIED = 6


@dataclass(frozen=True)
class Reading:
    """How a question was read: `text` goes to retrieval; `carried` came from the previous turn."""

    question: str
    text: str
    carried: list[str] = field(default_factory=list)

    @property
    def is_followup(self) -> bool:
        return bool(self.carried)


def key_words(question: str) -> list[str]:
    """The words of a question that name what it is about (not question words, pronouns or fillers)."""
    out, seen = [], set()
    for w in _WORD.findall(question):
        low = w.lower().strip("’'-")
        if (not low or low in STOPWORDS or low in REFERENCES or low in QUESTION_WORDS
                or stem(low) in TYPE_WORDS or len(low) < 2):
            continue
        if low not in seen:
            seen.add(low)
            out.append(w.strip("’'-"))
    return out


def is_referential(question: str) -> bool:
    """True when the question points back ("it", "they", "-nya", "what about ...") or names too little
    on its own to be searched."""
    words = [w.lower() for w in _WORD.findall(question)]
    if OPENERS.search(question) or any(w in REFERENCES for w in words):
        return True
    if any(len(w) > 5 and w.endswith("nya") for w in words):  # Indonesian possessive: harganya = its price
        return True
    return len(key_words(question)) < 2


def read_question(question: str, previous: list[str] | None = None) -> Reading:
    """The question as retrieval should see it, given the earlier readings of this conversation
    (most recent last): a referential question gets the previous question's key words."""
    if not previous or not is_referential(question):
        return Reading(question, question)
    own = {w.lower() for w in key_words(question)}
    carried = [w for w in key_words(previous[-1]) if w.lower() not in own][:MAX_CARRIED]
    if not carried:
        return Reading(question, question)
    return Reading(question, f"{question} ({' '.join(carried)})", carried)
