"""Find the passages most likely to answer a question: dense (FAISS), BM25 (bm25s), or both fused."""
from __future__ import annotations

from dataclasses import dataclass

import bm25s
import numpy as np

from .lexical import terms
from .store import Index
from .types import Chunk

RRF_K = 60  # reciprocal rank fusion constant (Cormack et al. 2009)
DEPTH = 4  # each retriever proposes DEPTH x k candidates before fusion


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float  # cosine similarity of question and chunk, whichever retriever found it
    rank: int


def retrieve(index: Index, question: str, query_vector: np.ndarray, k: int, mode: str = "dense") -> list[Hit]:
    """The top `k` chunks, best first: `dense`, `bm25`, or `hybrid` (both, fused by reciprocal rank)."""
    if mode == "dense":
        order = dense(index, query_vector, k)
    elif mode == "bm25":
        order = bm25(index, question, k)
    elif mode == "hybrid":
        order = fuse([dense(index, query_vector, DEPTH * k), bm25(index, question, DEPTH * k)])[:k]
    else:
        raise ValueError(f"unknown retrieval mode {mode!r}; choose dense, bm25 or hybrid")
    sims = _cosines(index, query_vector, order)
    return [Hit(index.chunks[i], s, r) for r, (i, s) in enumerate(zip(order, sims))]


def dense(index: Index, query_vector: np.ndarray, k: int) -> list[int]:
    """Chunk ids by inner product on normalised vectors (cosine), from the vector store."""
    return index.chunk_vectors.search(query_vector, k)


def bm25(index: Index, question: str, k: int) -> list[int]:
    """Chunk ids by BM25 over stemmed words; the BM25 table is built in memory when first needed."""
    model, vocab = _bm25_model(index)
    if model is None:
        return []
    tokens = [t for t in terms(question) if t in vocab]
    if not tokens or k <= 0:
        return []
    ids, scores = model.retrieve([tokens], k=min(k, len(index.chunks)), show_progress=False, n_threads=1)
    return [int(i) for i, s in zip(ids[0], scores[0]) if s > 0]


def fuse(rankings: list[list[int]]) -> list[int]:
    """Reciprocal rank fusion of several rankings of the same ids."""
    score: dict[int, float] = {}
    for ranking in rankings:
        for rank, i in enumerate(ranking):
            score[i] = score.get(i, 0.0) + 1.0 / (RRF_K + rank + 1)
    return sorted(score, key=lambda i: -score[i])


def _bm25_model(index: Index):
    cached = getattr(index, "_bm25", None)
    if cached is None:
        corpus = [terms(c.text) for c in index.chunks]
        vocab = {t for doc in corpus for t in doc}
        model = None
        if vocab:  # a corpus without a single word has nothing for BM25 to match
            model = bm25s.BM25()
            model.index(corpus, show_progress=False)
        cached = (model, vocab)
        index._bm25 = cached
    return cached


def _cosines(index: Index, query_vector: np.ndarray, ids: list[int]) -> list[float]:
    if not ids:
        return []
    vectors = index.chunk_vectors.get(ids)
    return [float(s) for s in vectors @ query_vector.astype(np.float32)]
