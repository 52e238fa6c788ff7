"""Offline extractive question answering over a folder of articles: verbatim quotes, exact citations.

    import qa
    ans = qa.answer("Who is Nissan's new boss?")
    ans.text, ans.abstained, ans.citations[0].quote
"""
__version__ = "0.1.0"

from .api import QuestionError, answer, default_index, document  # noqa: E402
from .settings import Settings, from_env  # noqa: E402
from .store import BadIndexError, Index, IndexMismatchError  # noqa: E402
from .types import Answer, Chunk, Citation, Document  # noqa: E402

__all__ = ["answer", "document", "default_index", "Index", "Settings", "from_env", "Answer", "Citation",
           "Chunk", "Document", "QuestionError", "BadIndexError", "IndexMismatchError"]
