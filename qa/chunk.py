"""Sentence splitting (sentencex) and token-aware chunking (tiktoken) with exact character offsets."""
from __future__ import annotations

import re
from typing import Callable

import sentencex

from .types import Chunk, Document, Span

_LINE = re.compile(r"[^\n]+")
_WORD_END = re.compile(r"\S+")


def sentences(doc: Document, language: str = "en") -> list[Span]:
    """Sentence spans with surrounding whitespace trimmed; a line break always ends a sentence."""
    spans = []
    for line in _LINE.finditer(doc.text):
        for b in sentencex.get_sentence_boundaries(language, line.group(0)):
            start = line.start() + b["start_index"]
            end = line.start() + b["end_index"]
            piece = doc.text[start:end]
            lead = len(piece) - len(piece.lstrip())
            trail = len(piece) - len(piece.rstrip())
            if end - trail > start + lead:
                spans.append(Span(doc.doc_id, start + lead, end - trail))
    return spans


def fit_sentences(doc: Document, spans: list[Span], fits: Callable[[str], bool]) -> list[Span]:
    """The sentences, with any that is too long on its own split at words into pieces that fit."""
    return [u for s in spans for u in _fit(doc.text, s, fits)]


def chunk_document(doc: Document, units: list[Span], count: Callable[[str], int],
                   fits: Callable[[str], bool], overlap_tokens: int, first_id: int = 0) -> list[Chunk]:
    """Pack whole sentences (`fit_sentences`) into chunks for which `fits(text)` holds (the tiktoken
    budget and the embedder's own limit), each overlapping the previous one by up to `overlap_tokens`
    (per `count`) of trailing sentences."""
    sizes = [count(doc.text[u.start:u.end]) for u in units]
    chunks: list[Chunk] = []
    i = 0
    while i < len(units):
        j = i + 1
        while j < len(units) and fits(doc.text[units[i].start:units[j].end]):
            j += 1
        start, end = units[i].start, units[j - 1].end
        text = doc.text[start:end]
        chunks.append(Chunk(first_id + len(chunks), doc.doc_id, start, end, text, count(text)))
        if j >= len(units):
            break
        # step back over trailing sentences worth at most `overlap_tokens`, always moving forward
        k, back = j, 0
        while k - 1 > i and back + sizes[k - 1] <= overlap_tokens:
            k -= 1
            back += sizes[k]
        i = k
    return chunks


def _fit(text: str, span: Span, fits: Callable[[str], bool]) -> list[Span]:
    """The span itself, or word-aligned pieces of it that each fit."""
    if fits(text[span.start:span.end]):
        return [span]
    pieces, start, last_end = [], span.start, span.start
    for word in _WORD_END.finditer(text, span.start, span.end):
        if last_end > start and not fits(text[start:word.end()]):
            pieces.append(Span(span.doc_id, start, last_end))
            start = word.start()
        while not fits(text[start:word.end()]):  # one word longer than the budget: cut it by characters
            cut = _longest_fit(text, start, word.end(), fits)
            pieces.append(Span(span.doc_id, start, cut))
            start = cut
        last_end = word.end()
    pieces.append(Span(span.doc_id, start, span.end))
    return pieces


def _longest_fit(text: str, start: int, end: int, fits: Callable[[str], bool]) -> int:
    """The largest cut in (start, end) such that text[start:cut] fits (at least one character)."""
    lo, hi = start + 1, end
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(text[start:mid]):
            lo = mid
        else:
            hi = mid - 1
    return lo
