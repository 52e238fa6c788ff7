"""The trained span reader as an answerer (`reader="span"`). Whether to answer is decided as for the
sentence answerer (its calibrated evidence check), and the reader's own no-answer score can still veto;
the reader then cuts the span the question asks for from the best few retrieved chunks, verbatim, with
the sentence(s) around it as the evidence."""
from __future__ import annotations

import functools
import re

import numpy as np

from .read import abstain, figure_of, read, score_sentences
from .retrieve import Hit
from .settings import Settings
from .store import Index
from .types import Answer, Citation

READ_PASSAGES = 3  # chunks handed to the reader: recall@3 is within 2 points of recall@5 on XQuAD-en


@functools.lru_cache(maxsize=2)
def span_reader(folder: str | None = None):
    """The shipped reader (checksums verified), loaded once per process and shared by all threads."""
    from .reader import SpanReader

    return SpanReader.load(folder)


def read_spans(question: str, query_vector: np.ndarray, hits: list[Hit], index: Index,
               settings: Settings) -> Answer:
    """Answer from the reader's best span over the top READ_PASSAGES chunks, if the evidence check passes.

    The reader's margin (best span over the no-answer score) separates answerable from unanswerable
    questions poorly on held-out data (see qa/reader/model/MODEL_CARD.md), so abstention stays with the
    calibrated evidence confidence, which also becomes the answer's score; a margin below the
    calibrated one still abstains."""
    gate = read(question, query_vector, hits, index, settings)
    if gate.abstained:
        return gate
    hits = hits[:READ_PASSAGES]
    reader = span_reader(settings.reader_model or None)
    spans = reader.read(question, [h.chunk.text for h in hits])
    best = spans[0] if spans else None
    sig = {**gate.signals, "margin": best.margin if best else -99.0}
    threshold = settings.span_threshold()
    if best is None or best.margin <= threshold:
        return abstain(question, gate.score, sig, score_sentences(question, query_vector, hits, index, settings),
                       index)
    primary = _citation(index, hits[best.passage], best.start, best.end, best.margin)
    short = index.documents[primary.doc_id].text[primary.answer_start:primary.answer_end]
    support, conflicts, seen = [], [], {primary.doc_id}
    key = figure_of(short)
    figures = {key, ""}
    for s in spans[1:]:
        chunk = hits[s.passage].chunk
        if chunk.doc_id in seen:
            continue
        text = chunk.text[s.start:s.end]
        if _norm(text) == _norm(short) and len(support) < 2:
            seen.add(chunk.doc_id)
            support.append(_citation(index, hits[s.passage], s.start, s.end, s.margin))
        elif key and figure_of(text) not in figures and s.margin > threshold and len(conflicts) < 2:
            # another article states a different figure (an amount, a count, a date) with confidence
            seen.add(chunk.doc_id)
            figures.add(figure_of(text))
            conflicts.append(_citation(index, hits[s.passage], s.start, s.end, s.margin))
    return Answer(question, short, False, [primary] + support, gate.score, signals=sig, conflicts=conflicts)


def _citation(index: Index, hit: Hit, start: int, end: int, score: float) -> Citation:
    """The answer at chunk offsets [start, end) as a citation whose quote is the sentence(s) holding it."""
    chunk = hit.chunk
    doc = index.documents[chunk.doc_id]
    a_start, a_end = chunk.start + start, chunk.start + end
    inside = [index.sentences[i] for i in index.sentences_of(chunk)
              if index.sentences[i].start < a_end and index.sentences[i].end > a_start]
    ev_start = min([s.start for s in inside] + [a_start])
    ev_end = max([s.end for s in inside] + [a_end])
    return Citation(doc.doc_id, doc.title, doc.text[ev_start:ev_end], ev_start, ev_end, round(float(score), 4),
                    a_start, a_end)


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())
