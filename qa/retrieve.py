"""Find the passages most likely to answer a question. Dense today; hybrid BM25 and reranking plug in here."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .store import Index
from .types import Chunk


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float
    rank: int


def retrieve(index: Index, query_vector: np.ndarray, k: int) -> list[Hit]:
    """The top `k` chunks for the question's vector, best first."""
    return dense(index, query_vector, k)


def dense(index: Index, query_vector: np.ndarray, k: int) -> list[Hit]:
    """Inner product on normalised vectors (cosine) over the FAISS index."""
    k = min(k, index.chunk_vectors.ntotal)
    if k <= 0:
        return []
    scores, ids = index.chunk_vectors.search(query_vector.reshape(1, -1).astype(np.float32), k)
    return [Hit(index.chunks[i], float(s), r) for r, (s, i) in enumerate(zip(scores[0], ids[0])) if i >= 0]
