"""The dataclasses that cross module boundaries: documents, chunks, citations and answers."""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Document:
    """One article: its repaired text is the text every offset points into. What the file's metadata
    says comes with it: `kind` (txt, md, html, pdf, docx), `author`, `date` (yyyy-mm-dd, '' when
    unknown) and, for a PDF, `page_starts`: the offset in `text` where each page begins."""

    doc_id: str
    title: str
    text: str
    source: str
    sha256: str
    kind: str = "txt"
    author: str = ""
    date: str = ""
    page_starts: tuple[int, ...] = ()

    @property
    def pages(self) -> int | None:
        """How many pages the document has (PDFs), else None."""
        return len(self.page_starts) or None

    def page_at(self, offset: int) -> int | None:
        """The page (from 1) holding the character at `offset`, or None for a document without pages."""
        if not self.page_starts:
            return None
        return max(1, bisect_right(self.page_starts, max(0, offset)))


@dataclass(frozen=True)
class Span:
    """A sentence of a document, as character offsets into its stored text."""

    doc_id: str
    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    """A token-bounded run of whole sentences; `text == document.text[start:end]`."""

    chunk_id: int
    doc_id: str
    start: int
    end: int
    text: str
    n_tokens: int


@dataclass(frozen=True)
class Citation:
    """Where an answer comes from: `qa.document(doc_id)[start:end] == quote`, always."""

    doc_id: str
    title: str
    quote: str
    start: int
    end: int
    score: float
    answer_start: int = -1  # offsets of the short answer in the document, inside [start, end)
    answer_end: int = -1
    page: int | None = None  # the page the quote starts on (PDFs), else None
    page_end: int | None = None  # the page it ends on (the same as `page` unless the quote runs on)
    date: str = ""  # the article's date (yyyy-mm-dd) when its file or page says, else ''

    @property
    def answer_text(self) -> str:
        """The short answer this citation holds (document text[answer_start:answer_end]), or ''."""
        if self.start <= self.answer_start <= self.answer_end <= self.end:
            return self.quote[self.answer_start - self.start:self.answer_end - self.start]
        return ""


@dataclass(frozen=True)
class Answer:
    """A verbatim short answer with its citations, or an abstention ("The articles do not say.")."""

    question: str
    text: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    score: float = 0.0  # calibrated confidence (0..1) that the evidence supports the answer
    message: str = ""
    signals: dict = field(default_factory=dict)  # the evidence signals behind `score`
    read_as: str = ""  # the question as retrieval read it, when a follow-up borrowed the previous turn's words
    closest: list[Citation] = field(default_factory=list)  # on abstention: the nearest passages, not support
    notice: str = ""  # something the asker should know, e.g. that an over-long question was cut
    conflicts: list[Citation] = field(default_factory=list)  # other sources whose short answer differs

    @property
    def evidence(self) -> str:
        """The quoted evidence of the best citation, or '' when abstaining."""
        return self.citations[0].quote if self.citations else ""
