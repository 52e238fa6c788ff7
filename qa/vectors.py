"""The vector-store seam: chunk vectors in, nearest chunk ids out. FAISS is the embedded default (exact
search for small corpora, HNSW above HNSW_FROM vectors); Milvus (Milvus Lite in a file inside the index
folder, or a Milvus server/cluster at a URI) is the engine that scales past one machine."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Protocol

import faiss
import numpy as np

# Exact search up to this many vectors, HNSW above: chosen from bench/scale.py (see README "Speed and
# scale"): exact search over 50k 384-d vectors takes ~4 ms a query on this CPU, over 1M ~80 ms.
HNSW_FROM = 50_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80


def hnsw_ef_search(n: int) -> int:
    """Search breadth by index size, from bench/scale.py's efSearch sweep: recall@10 against exact search
    0.99 at 100k chunks with 512 (1.8 ms), 0.98 at 1M with 1024 (2.8 ms); 96 gave 0.96 and 0.79."""
    return 512 if n <= 200_000 else 1024
FAISS_FILE = "chunks.faiss"
MILVUS_FILE = "chunks.milvus.db"


class VectorStore(Protocol):
    """Inner-product search over L2-normalised float32 rows whose ids are 0..ntotal-1."""

    ntotal: int

    def search(self, query: np.ndarray, k: int) -> list[int]: ...
    def get(self, ids: list[int]) -> np.ndarray: ...
    def all(self) -> np.ndarray: ...
    def describe(self) -> dict: ...
    def write(self, folder: Path) -> list[str]: ...


def create(vectors: np.ndarray, backend: str = "faiss", kind: str | None = None, uri: str = "") -> VectorStore:
    """A new store holding `vectors` (row i has id i)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if backend == "faiss":
        return FaissStore.build(vectors, kind)
    if backend == "milvus":
        return MilvusStore.build(vectors, uri)
    raise ValueError(f"unknown vector store {backend!r}; choose faiss or milvus")


def load(folder: Path, description: dict, dim: int) -> VectorStore:
    """The store an index folder's manifest describes."""
    backend = description.get("backend", "faiss")
    if backend == "faiss":
        return FaissStore.read(folder / FAISS_FILE, description)
    if backend == "milvus":
        return MilvusStore.open(folder, description, dim)
    raise ValueError(f"unknown vector store {backend!r} in the manifest")


class FaissStore:
    def __init__(self, index: faiss.Index, kind: str):
        self.index, self.kind = index, kind

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str | None = None) -> "FaissStore":
        kind = kind or ("hnsw" if len(vectors) >= HNSW_FROM else "flat")
        dim = vectors.shape[1]
        if kind == "flat":
            index = faiss.IndexFlatIP(dim)
        elif kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.hnsw.efSearch = hnsw_ef_search(len(vectors))
        else:
            raise ValueError(f"unknown FAISS index kind {kind!r}; choose flat or hnsw")
        if len(vectors):
            index.add(vectors)
        return cls(index, kind)

    @classmethod
    def read(cls, path: Path, description: dict) -> "FaissStore":
        index = faiss.read_index(str(path))
        kind = description.get("kind", "flat")
        if kind == "hnsw":
            index.hnsw.efSearch = description.get("ef_search", hnsw_ef_search(index.ntotal))
        return cls(index, kind)

    @property
    def ntotal(self) -> int:
        return self.index.ntotal

    def search(self, query: np.ndarray, k: int) -> list[int]:
        k = min(k, self.ntotal)
        if k <= 0:
            return []
        _, ids = self.index.search(query.reshape(1, -1).astype(np.float32), k)
        return [int(i) for i in ids[0] if i >= 0]

    def get(self, ids: list[int]) -> np.ndarray:
        return np.vstack([self.index.reconstruct(int(i)) for i in ids])

    def all(self) -> np.ndarray:
        return self.index.reconstruct_n(0, self.ntotal) if self.ntotal else np.zeros((0, self.index.d), np.float32)

    def describe(self) -> dict:
        out = {"backend": "faiss", "kind": self.kind}
        if self.kind == "hnsw":
            out.update(m=HNSW_M, ef_construction=HNSW_EF_CONSTRUCTION, ef_search=self.index.hnsw.efSearch)
        return out

    def write(self, folder: Path) -> list[str]:
        faiss.write_index(self.index, str(folder / FAISS_FILE))
        return [FAISS_FILE]


class MilvusStore:
    """Chunk vectors in a Milvus collection: Milvus Lite in the index folder when `uri` is empty (a
    pure-Python engine: Parquet segments, no pickles), else a Milvus server or cluster at `uri`."""

    def __init__(self, client, collection: str, dim: int, n: int, uri: str, pending: np.ndarray | None = None):
        self.client, self.collection, self.dim, self.n, self.uri = client, collection, dim, n, uri
        self._pending = pending  # vectors not yet written (a store is written when its index is saved)

    @classmethod
    def build(cls, vectors: np.ndarray, uri: str = "") -> "MilvusStore":
        return cls(None, "", vectors.shape[1], len(vectors), uri, vectors)

    @classmethod
    def open(cls, folder: Path, description: dict, dim: int) -> "MilvusStore":
        uri = description.get("uri") or str(folder / MILVUS_FILE)
        client = _milvus(uri)
        collection = description["collection"]
        if not client.has_collection(collection):
            raise RuntimeError(f"Milvus collection {collection!r} is missing at {uri}")
        client.load_collection(collection)
        n = int(client.get_collection_stats(collection)["row_count"])
        return cls(client, collection, dim, n, description.get("uri", ""))

    @property
    def ntotal(self) -> int:
        return self.n

    def search(self, query: np.ndarray, k: int) -> list[int]:
        k = min(k, self.n)
        if k <= 0:
            return []
        if self._pending is not None:
            return [int(i) for i in np.argsort(-(self._pending @ query.astype(np.float32)))[:k]]
        hits = self.client.search(self.collection, data=[query.astype(np.float32).tolist()], limit=k,
                                  search_params={"metric_type": "IP"})
        return [int(h["id"]) for h in hits[0]]

    def get(self, ids: list[int]) -> np.ndarray:
        if self._pending is not None:
            return self._pending[list(ids)]
        rows = {r["id"]: r["vector"] for r in self.client.get(self.collection, ids=[int(i) for i in ids],
                                                              output_fields=["vector"])}
        return np.asarray([rows[int(i)] for i in ids], dtype=np.float32)

    def all(self) -> np.ndarray:
        if self._pending is not None:
            return self._pending
        return self.get(list(range(self.n))) if self.n else np.zeros((0, self.dim), np.float32)

    def describe(self) -> dict:
        return {"backend": "milvus", "uri": self.uri, "collection": self.collection}

    def write(self, folder: Path) -> list[str]:
        """Write every vector into a new collection; the index folder's manifest names it. In a file
        (Milvus Lite) inside `folder`, or on the server at `uri`."""
        vectors = self.all()
        target = self.uri or str(folder / MILVUS_FILE)
        client = _milvus(target)
        collection = f"qa_chunks_{time.time_ns()}"
        client.create_collection(collection_name=collection, dimension=self.dim, metric_type="IP",
                                 auto_id=False, id_type="int")
        for start in range(0, len(vectors), 1000):
            client.insert(collection, [{"id": start + i, "vector": v.tolist()}
                                       for i, v in enumerate(vectors[start:start + 1000])])
        client.flush(collection)
        client.close()
        if not self.uri:
            release(folder)  # the folder is about to be renamed: stop the embedded engine that holds it
        self.collection = collection
        return []  # Milvus Lite rewrites its own files; the manifest records the collection instead


def drop_replaced(old: dict, new: dict) -> None:
    """After an index on a Milvus server is replaced, drop the collection the old manifest named."""
    if (old.get("backend") == "milvus" and old.get("uri") and old.get("collection")
            and (old.get("uri"), old.get("collection")) != (new.get("uri"), new.get("collection"))):
        client = _milvus(old["uri"])
        if client.has_collection(old["collection"]):
            client.drop_collection(old["collection"])


def release(folder: Path) -> None:
    """Stop the embedded Milvus Lite engine serving `folder`'s vectors, if one runs in this process
    (it holds a lock on its files; an index folder is only swapped or removed after this)."""
    import sys

    manager = sys.modules.get("milvus_lite.server_manager")
    if manager is not None:
        manager.server_manager_instance.release_server(str(folder / MILVUS_FILE))


def _milvus(uri: str):
    try:
        from pymilvus import MilvusClient
    except ImportError as exc:
        raise RuntimeError("the milvus vector store needs `pip install 'pymilvus[milvus-lite]'`") from exc
    return MilvusClient(uri)
