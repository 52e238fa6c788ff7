"""The dataclasses that cross module boundaries: documents, chunks, citations and answers."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Document:
    """One article: its repaired text is the text every offset points into."""

    doc_id: str
    title: str
    text: str
    source: str
    sha256: str


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

    @property
    def evidence(self) -> str:
        """The quoted evidence of the best citation, or '' when abstaining."""
        return self.citations[0].quote if self.citations else ""
