"""The trained span reader as the answerer. Whether to answer is decided by the calibrated evidence
check over the best sentences (`read.read`); the reader then cuts the span the question asks for from the
best few retrieved chunks, verbatim, with the sentence(s) around it as the evidence."""
from __future__ import annotations

import functools
import re
from dataclasses import replace

import numpy as np

from . import calibrate
from .answer_types import misfit
from .read import abstain, figure_of, read_ranked, score_sentences
from .retrieve import Hit
from .settings import Settings
from .store import Index
from .types import Answer, Citation

READ_PASSAGES = 3  # chunks handed to the reader: recall@3 is within 2 points of recall@5 on XQuAD-en
# when the reader's calibrated confidence in its best span is below this (a margin of 1.7 with the shipped
# weights, 5 with the first ones), it also reads the rest of the top_k retrieved chunks (measured: 34 of the 92
# seed questions read more, 30 with the first weights; 3% of XQuAD-en's; p50 unchanged). A confidence, not a
# margin, so retrained weights keep the rule: their margins differ, and "margin < 5" sent many more questions
# to the extra read.
READ_MORE_BELOW = 0.477
# spans are ranked by their margin plus this times the evidence score of the best sentence holding them
# (measured: 3 more right on the seeds, none lost; XQuAD-en unchanged)
SENTENCE_PRIOR = 5.0


@functools.lru_cache(maxsize=2)
def span_reader(folder: str | None = None):
    """The shipped reader (checksums verified), loaded once per process and shared by all threads."""
    from .reader import SpanReader

    return SpanReader.load(folder)


def read_spans(question: str, query_vector: np.ndarray, hits: list[Hit], index: Index,
               settings: Settings) -> Answer:
    """Answer from the reader's best span over the top READ_PASSAGES chunks (all `hits` when unsure), when
    the calibrated evidence check passes or the reader alone is sure enough.

    Either check answering beats either alone, measured on held-out SQuAD articles, our seeds and XQuAD-en
    (README, "Abstention"): the evidence check carries over to news articles and other languages, the
    reader's margin catches what the sentence rules cannot cut; the answer's score is the confidence of
    the check that passed."""
    ranked = score_sentences(question, query_vector, hits, index, settings)
    gate = read_ranked(question, ranked, hits, index, settings)
    reader = span_reader(settings.reader_model or None)
    evidence = {c.sentence: c.score for c in ranked}
    floor = min(evidence.values(), default=0.0)

    clashes = []  # (margin, span text, why it cannot answer), one per span dropped

    def ranked_spans(spans, read):
        fitting = []
        for s in spans:
            text = read[s.passage].chunk.text[s.start:s.end]
            why = misfit(question, text)
            if why:
                clashes.append((s.margin, text, why))
            else:
                fitting.append(s)
        return sorted(fitting, key=lambda s: s.margin + SENTENCE_PRIOR * _evidence_of(s, read, index, evidence, floor),
                      reverse=True)

    read_hits = hits[:READ_PASSAGES]
    spans = ranked_spans(reader.read(question, [h.chunk.text for h in read_hits]), read_hits)
    if (not spans or calibrate.reader_confidence(spans[0].margin) < READ_MORE_BELOW) and len(hits) > len(read_hits):
        more = hits[len(read_hits):]
        spans += [replace(s, passage=s.passage + len(read_hits)) for s in reader.read(question, [h.chunk.text for h in more])]
        read_hits = read_hits + more
        spans = ranked_spans(spans, read_hits)
    sure = calibrate.reader_confidence(spans[0].margin) if spans else 0.0
    sig = {**gate.signals, "margin": spans[0].margin if spans else 0.0, "reader": sure, "misfits": len(clashes)}
    if not spans:  # no chunk holds a readable token, or every span read is of another type than asked
        refusal = replace(gate, signals=sig) if gate.abstained else abstain(question, gate.score, sig, ranked, index)
        if clashes:  # say what was found and why it does not answer
            _, text, why = max(clashes)
            refusal = replace(refusal, notice=f"The closest it found, “{text}”, does not answer this: {why}.")
        return refusal
    if gate.abstained and sure < settings.sure_threshold():
        return replace(gate, signals=sig)
    score = sure if gate.abstained else gate.score
    hits = read_hits
    best = spans[0]
    threshold = settings.span_threshold()
    primary = _citation(index, hits[best.passage], best.start, best.end, best.margin, evidence)
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
            support.append(_citation(index, hits[s.passage], s.start, s.end, s.margin, evidence))
        elif key and figure_of(text) not in figures and s.margin > threshold and len(conflicts) < 2:
            # another article states a different figure (an amount, a count, a date) with confidence
            seen.add(chunk.doc_id)
            figures.add(figure_of(text))
            conflicts.append(_citation(index, hits[s.passage], s.start, s.end, s.margin, evidence))
    return Answer(question, short, False, [primary] + support, score, signals=sig, conflicts=conflicts)


def _evidence_of(span, hits: list[Hit], index: Index, evidence: dict[int, float], floor: float) -> float:
    """The best evidence score among the sentences that hold the span (`floor` when none was scored)."""
    chunk = hits[span.passage].chunk
    return max([evidence.get(i, floor) for i in _holding(index, chunk, span.start, span.end)], default=floor)


def _holding(index: Index, chunk, start: int, end: int) -> list[int]:
    """The sentences of `chunk` that hold any of its characters [start, end), in document order."""
    a_start, a_end = chunk.start + start, chunk.start + end
    return [i for i in index.sentences_of(chunk)
            if index.sentences[i].start < a_end and index.sentences[i].end > a_start]


def _citation(index: Index, hit: Hit, start: int, end: int, score: float, evidence: dict[int, float]) -> Citation:
    """The answer at chunk offsets [start, end) as a citation whose quote is the sentence(s) holding it, and
    the sentence just before or after them when that one matches the question better (`evidence` scores):
    it is often where the question's words are, and the answer's sentence only names it ("... Nissan's new
    boss can fulfill his dream ... Ivan Espinosa has already promised ...")."""
    chunk = hit.chunk
    doc = index.documents[chunk.doc_id]
    a_start, a_end = chunk.start + start, chunk.start + end
    inside = _holding(index, chunk, start, end)
    if inside:
        held = max(evidence.get(i, float("-inf")) for i in inside)
        around = [n for n in (index.neighbours(inside[0])[0], index.neighbours(inside[-1])[1])
                  if n is not None and evidence.get(n, float("-inf")) > held]
        if around:
            inside = sorted(inside + [max(around, key=evidence.get)])
    ev_start = min([index.sentences[i].start for i in inside] + [a_start])
    ev_end = max([index.sentences[i].end for i in inside] + [a_end])
    return Citation(doc.doc_id, doc.title, doc.text[ev_start:ev_end], ev_start, ev_end, round(float(score), 4),
                    a_start, a_end)


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())
