"""The public entry points: `answer`, `document`, `default_index`. A question runs retrieve -> read -> cite."""
from __future__ import annotations

import threading
import unicodedata
from dataclasses import replace
from pathlib import Path

from .followup import read_question
from .ingest import read_folder
from .read import read
from .read_span import read_spans
from .retrieve import retrieve
from .settings import Settings, from_env
from .store import BadIndexError, Index, mismatch, read_manifest, stale
from .types import Answer, Citation

MAX_QUESTION_CHARS = 1000  # about 250 tokens: longer questions are cut here, with a notice

_lock = threading.Lock()
_default: dict[tuple, Index] = {}


class QuestionError(ValueError):
    """A question that cannot be asked: not text, empty, or without a single word."""


def answer(question: str, index: Index | None = None, settings: Settings | None = None,
           history: list[str] | None = None) -> Answer:
    """Answer `question` with a verbatim quote and its citation from `index` (default: the seed index).
    `history`: the earlier questions of a conversation (their `read_as` or text), most recent last, so
    that a follow-up such as "How much will it cost?" is read against the previous question."""
    question, notice = check_question(question)
    settings = settings or from_env()
    if settings.reader not in ("sentence", "span"):
        raise ValueError(f"unknown reader {settings.reader!r}; choose sentence or span")
    index = index or default_index(settings)
    # the index decides the model; calibration and threshold follow it
    settings = settings.with_overrides(embedder=index.manifest["settings"]["embedder"])
    reading = read_question(question, history)
    query_vector = index.embedder.embed_queries([reading.text])[0]
    hits = retrieve(index, reading.text, query_vector, settings.top_k, settings.retrieval)
    answerer = read_spans if settings.reader == "span" else read
    found = with_sources(answerer(reading.text, query_vector, hits, index, settings), index)
    return replace(found, question=question, read_as=reading.text if reading.is_followup else "",
                   notice=" ".join(n for n in (notice, found.notice) if n))


def with_sources(ans: Answer, index: Index) -> Answer:
    """The answer with what each source's document says about itself on every citation: the page the
    quote is on (PDFs) and the article's date. The one place citations get them, whichever reader cut them."""
    def cite(c: Citation) -> Citation:
        doc = index.documents.get(c.doc_id)
        if doc is None:
            return c
        page = doc.page_at(c.start)
        page_end = doc.page_at(max(c.start, c.end - 1)) if page is not None else None
        return replace(c, page=page, page_end=page_end, date=doc.date)

    return replace(ans, citations=[cite(c) for c in ans.citations], closest=[cite(c) for c in ans.closest],
                   conflicts=[cite(c) for c in ans.conflicts])


def answers_by_date(ans: Answer) -> list[tuple[str, Citation, bool]]:
    """When sources disagree: (short answer, its citation, whether it is the main answer) for the main
    answer and each conflicting source, newest article first (those without a date last)."""
    rows = []
    if ans.citations and not ans.abstained:
        rows.append((ans.text, ans.citations[0], True))
    rows += [(c.answer_text or c.quote, c, False) for c in ans.conflicts]
    dated = sorted((r for r in rows if r[1].date), key=lambda r: r[1].date, reverse=True)
    return dated + [r for r in rows if not r[1].date]


def check_question(question) -> tuple[str, str]:
    """(the question as it will be read, a notice or ''), or a QuestionError saying what is wrong.
    Control characters are dropped; an over-long question is cut to MAX_QUESTION_CHARS, with a notice."""
    if not isinstance(question, str):
        raise QuestionError(f"a question must be text, not {type(question).__name__}")
    cleaned = "".join(" " if ch in "\t\n\r\x0b\x0c" else ch for ch in question
                      if unicodedata.category(ch) not in ("Cc", "Cs") or ch in "\t\n\r\x0b\x0c")
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise QuestionError("the question is empty; ask something about the articles")
    if not any(ch.isalnum() for ch in cleaned):
        raise QuestionError("the question has no words in it; ask something about the articles")
    notice = ""
    if len(cleaned) > MAX_QUESTION_CHARS:
        notice = (f"The question is {len(cleaned):,} characters long; only its first {MAX_QUESTION_CHARS:,} "
                  "were read.")
        cleaned = cleaned[:MAX_QUESTION_CHARS].rsplit(" ", 1)[0] or cleaned[:MAX_QUESTION_CHARS]
    return cleaned, notice


def document(doc_id: str, index: Index | None = None) -> str:
    """The stored (repaired) text of a document: the text every citation's offsets point into."""
    index = index or default_index()
    try:
        return index.documents[doc_id].text
    except KeyError:
        raise KeyError(f"no document {doc_id!r} in the index at {index.path}") from None


def default_index(settings: Settings | None = None) -> Index:
    """The index over the seeds folder: built on first use, rebuilt when the seeds or settings change."""
    settings = settings or from_env()
    key = (str(settings.seeds_dir), str(settings.index_dir), tuple(settings.build_key().items()))
    with _lock:
        if key not in _default:
            _default[key] = open_or_build(settings.seeds_dir, settings.index_dir, settings)
        return _default[key]


def open_or_build(folder: Path, path: Path, settings: Settings) -> Index:
    """Open the index at `path` (brought up to date with `folder` incrementally) if it is complete and built
    with `settings`; else build it from scratch."""
    corpus = read_folder(folder)
    try:
        manifest = read_manifest(Path(path))
        if not mismatch(manifest, settings):
            index = Index.open(path, settings)
            if stale(manifest, corpus):  # only new and changed articles are embedded
                index, _ = index.sync(corpus)
                index.save(path)
            return index
    except BadIndexError:
        pass
    return Index.build(folder, path, settings)
