"""The extractive answerer: pick the best supporting sentence(s) verbatim, cut a short answer of the
type the question asks for, or abstain when nothing supports an answer."""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from . import answer_types as types
from . import calibrate
from .lexical import terms
from .rerank import rerank
from .retrieve import Hit
from .settings import Settings
from .store import Index
from .types import Answer, Citation

ABSTAIN_MESSAGE = "The articles do not say."
CANDIDATE_SENTENCES = 4  # best sentences tried for a typed answer before giving up
# another article's different figure is shown when its sentence scores this close and holds this share of
# the question's words
CONFLICT_MARGIN = 0.15
CONFLICT_MIN_OVERLAP = 0.5


@dataclass
class Scored:
    sentence: int
    score: float
    dense: float
    lexical: float


def read(question: str, query_vector: np.ndarray, hits: list[Hit], index: Index, settings: Settings) -> Answer:
    """Answer `question` from the retrieved `hits`, quoting the index's stored text verbatim."""
    return read_ranked(question, score_sentences(question, query_vector, hits, index, settings), hits, index,
                       settings)


def read_ranked(question: str, ranked: list[Scored], hits: list[Hit], index: Index, settings: Settings) -> Answer:
    """`read` over sentences already scored by `score_sentences`."""
    if not ranked:
        return abstain(question, 0.0, {}, [], index)
    qtype = types.classify(question)
    qterms = terms(question)
    idf = _idf(index)
    best: tuple[float, Scored, types.Extraction] | None = None
    for cand in ranked[:CANDIDATE_SENTENCES]:
        found = types.extract(qtype, question, qterms, idf, _evidence_windows(index, cand.sentence))
        if found is not None:
            total = cand.score + settings.w_closeness * found.closeness
            if best is None or total > best[0]:
                best = (total, cand, found)
    if best is None:
        sig = signals(qterms, idf, qtype, ranked[0], None, hits, index)
        return abstain(question, calibrate.confidence(sig, settings.embedder), sig, ranked, index)
    total, cand, found = best
    sig = signals(qterms, idf, qtype, cand, found, hits, index)
    conf = calibrate.confidence(sig, settings.embedder)
    if conf < settings.threshold():
        return abstain(question, conf, sig, ranked, index)
    doc = index.documents[index.sentences[cand.sentence].doc_id]
    (ev_start, ev_end), (a_start, a_end) = found.evidence, found.answer
    primary = Citation(doc.doc_id, doc.title, doc.text[ev_start:ev_end], ev_start, ev_end,
                       round(cand.score, 4), a_start, a_end)
    short = doc.text[a_start:a_end]
    support = _support(short, cand, ranked, index)
    conflicts = _conflicts(question, qtype, qterms, idf, short, total, cand, [primary] + support, ranked, index,
                           settings)
    return Answer(question, short, False, [primary] + support, conf, signals=sig, conflicts=conflicts)


def abstain(question: str, score: float, sig: dict, ranked: list[Scored], index: Index,
            limit: int = 2) -> Answer:
    """"The articles do not say", with the nearest sentences it found (from different articles)."""
    closest, seen = [], set()
    for cand in ranked:
        span = index.sentences[cand.sentence]
        if span.doc_id in seen:
            continue
        seen.add(span.doc_id)
        doc = index.documents[span.doc_id]
        closest.append(Citation(doc.doc_id, doc.title, doc.text[span.start:span.end], span.start, span.end,
                                round(cand.score, 4)))
        if len(closest) == limit:
            break
    return Answer(question, "", True, [], float(score), ABSTAIN_MESSAGE, sig, closest=closest)


def signals(qterms: list[str], idf: dict[str, float], qtype, cand: Scored, found, hits: list[Hit],
            index: Index) -> dict[str, float]:
    """The evidence signals the abstention model reads (see qa.calibrate.FEATURES)."""
    content = [t for t in qterms if t not in types.STOPWORDS]
    if found is not None:
        doc = index.documents[index.sentences[cand.sentence].doc_id]
        window = terms(doc.text[found.evidence[0]:found.evidence[1]])
    else:
        window = terms(_text(index, cand.sentence))
    retrieved = {t for h in hits for t in terms(h.chunk.text)}
    return {
        "dense": cand.dense,
        "lexical": cand.lexical,
        "window_lexical": overlap(content, window, idf),
        "missing": 1.0 - overlap(content, list(retrieved), idf),
        "chunk": hits[0].score if hits else 0.0,
        "closeness": found.closeness if found is not None else 0.0,
        "typed": 1.0 if qtype.strict else 0.0,
        "extracted": 1.0 if found is not None else 0.0,  # 0: a typed question whose evidence holds no such span
    }


def score_sentences(question: str, query_vector: np.ndarray, hits: list[Hit], index: Index,
                    settings: Settings) -> list[Scored]:
    """Every sentence of the retrieved chunks, scored by embedding similarity, IDF-weighted word
    overlap with the question and the retrieval score of its best chunk; best first."""
    chunk_score: dict[int, float] = {}
    for hit in hits:
        for s in index.sentences_of(hit.chunk):
            chunk_score[s] = max(chunk_score.get(s, -1.0), hit.score)
    if not chunk_score:
        return []
    ids = list(chunk_score)
    dense = index.sentence_vectors[ids] @ query_vector.astype(np.float32)
    idf = _idf(index)
    qterms = terms(question)
    ranked = []
    for sid, d in zip(ids, dense):
        lex = overlap(qterms, terms(_text(index, sid)), idf)
        score = settings.w_dense * float(d) + settings.w_lexical * lex + settings.w_chunk * chunk_score[sid]
        ranked.append(Scored(sid, score, float(d), lex))
    ranked.sort(key=lambda c: -c.score)
    if settings.rerank:
        ranked = rerank(settings.rerank, settings.w_rerank, question, ranked, [_text(index, c.sentence) for c in ranked])
    return ranked


def overlap(qterms: list[str], sterms: list[str], idf: dict[str, float]) -> float:
    """Share of the question's IDF mass found in the sentence (0..1)."""
    if not qterms:
        return 0.0
    present = set(sterms)
    default = max(idf.values(), default=1.0)
    total = sum(idf.get(t, default) for t in set(qterms))
    return sum(idf.get(t, default) for t in set(qterms) if t in present) / total if total else 0.0


IDF_SAMPLE = 20_000  # sentences: above this, document frequencies are estimated from an even sample


def _idf(index: Index) -> dict[str, float]:
    """Inverse sentence frequency over the index (estimated from an even sample of IDF_SAMPLE sentences
    in large indexes, so a million-chunk index is ready in seconds), computed once per index object."""
    cached = getattr(index, "_idf_cache", None)
    if cached is None:
        n = len(index.sentences)
        step = max(1, n // IDF_SAMPLE)
        sample = range(0, n, step)
        df = Counter(t for i in sample for t in set(terms(_text(index, i))))
        m = len(sample)
        cached = {t: math.log(1 + (m - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        index._idf_cache = cached
    return cached


def _text(index: Index, sentence: int) -> str:
    s = index.sentences[sentence]
    return index.documents[s.doc_id].text[s.start:s.end]


def _evidence_windows(index: Index, sentence: int) -> list[tuple[str, int, int, int, int]]:
    """The sentence alone, then with its next and previous neighbour: (doc text, evidence start/end,
    focus start/end) where the focus is the sentence that matched the question."""
    s = index.sentences[sentence]
    text = index.documents[s.doc_id].text
    prev, nxt = index.neighbours(sentence)
    windows = [(text, s.start, s.end, s.start, s.end)]
    if nxt is not None:
        windows.append((text, s.start, index.sentences[nxt].end, s.start, s.end))
    if prev is not None:
        windows.append((text, index.sentences[prev].start, s.end, s.start, s.end))
    return windows


def _support(short: str, best: Scored, ranked: list[Scored], index: Index, limit: int = 2) -> list[Citation]:
    """Other sentences, from other documents, among the top candidates that state the same answer."""
    out, seen = [], {index.sentences[best.sentence].doc_id}
    needle = re.compile(re.escape(short), re.IGNORECASE)
    for cand in ranked[1:]:
        span = index.sentences[cand.sentence]
        if span.doc_id in seen:
            continue
        doc = index.documents[span.doc_id]
        quote = doc.text[span.start:span.end]
        found = needle.search(quote)
        if found is None:
            continue
        seen.add(span.doc_id)
        out.append(Citation(doc.doc_id, doc.title, quote, span.start, span.end, round(cand.score, 4),
                            span.start + found.start(), span.start + found.end()))
        if len(out) == limit:
            break
    return out


def _conflicts(question: str, qtype, qterms: list[str], idf: dict[str, float], short: str, best_total: float,
               best: Scored, cited: list[Citation], ranked: list[Scored], index: Index, settings: Settings,
               limit: int = 2) -> list[Citation]:
    """Other articles that give a different figure (an amount, a count, a date) for the question, in a
    sentence about the same thing (as many of its words, scored nearly as high): shown beside the answer
    instead of silently dropped."""
    key = figure_of(short)
    if not qtype.strict or not key:
        return []
    out, seen, figures = [], {c.doc_id for c in cited}, {key}
    for cand in ranked[1:2 * CANDIDATE_SENTENCES]:
        span = index.sentences[cand.sentence]
        if span.doc_id in seen or cand.lexical < max(CONFLICT_MIN_OVERLAP, best.lexical - 0.1):
            continue
        found = types.extract(qtype, question, qterms, idf, _evidence_windows(index, cand.sentence))
        if found is None or cand.score + settings.w_closeness * found.closeness < best_total - CONFLICT_MARGIN:
            continue
        doc = index.documents[span.doc_id]
        (ev_start, ev_end), (a_start, a_end) = found.evidence, found.answer
        figure = figure_of(doc.text[a_start:a_end])
        if not figure or figure in figures:
            continue
        seen.add(span.doc_id)
        figures.add(figure)
        out.append(Citation(doc.doc_id, doc.title, doc.text[ev_start:ev_end], ev_start, ev_end,
                            round(cand.score, 4), a_start, a_end))
        if len(out) == limit:
            break
    return out


def figure_of(answer: str) -> str:
    """The digits of an answer ('€18,000' and '18,000 euros' -> '18000'); '' when it has none."""
    return "".join(ch for ch in answer if ch.isdigit())
