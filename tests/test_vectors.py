"""The vector-store seam: FAISS (exact or HNSW) and Milvus (Milvus Lite, a file in the index folder)
answer the same questions the same way, save and reopen, and take incremental changes."""
import copy

import numpy as np
import pytest

import qa
from qa import vectors
from qa.store import Index

QUESTIONS = ["Who is Nissan's new boss?", "How much will the Dacia version cost?", "Siapa bos baru Nissan?",
             "When could Ampère be floated on the stock market?", "Who is the CEO of Renault Group?"]


def _with_backend(seed_index, backend: str) -> Index:
    """The seed index with its chunk vectors moved into another store (no re-embedding)."""
    manifest = copy.deepcopy(seed_index.manifest)
    manifest["settings"]["vector_store"] = backend
    store = vectors.create(seed_index.chunk_vectors.all(), backend)
    manifest["vectors"] = store.describe()
    return Index(dict(seed_index.documents), list(seed_index.chunks), list(seed_index.sentences), store,
                 seed_index.sentence_vectors.copy(), manifest)


@pytest.fixture(params=["faiss", "milvus"])
def saved(request, seed_index, settings, tmp_path):
    backend = request.param
    chosen = settings.with_overrides(vector_store=backend)
    index = _with_backend(seed_index, backend)
    index.save(tmp_path / "index")
    return Index.open(tmp_path / "index", chosen), chosen


def test_both_stores_answer_alike(saved, seed_index, settings):
    index, chosen = saved
    assert index.manifest["vectors"]["backend"] == chosen.vector_store
    for q in QUESTIONS:
        a = qa.answer(q, index=index, settings=chosen)
        b = qa.answer(q, index=seed_index, settings=settings)
        assert (a.text, a.abstained) == (b.text, b.abstained), q
        assert [(c.doc_id, c.start, c.end) for c in a.citations] == [(c.doc_id, c.start, c.end) for c in b.citations]


def test_both_stores_take_incremental_changes_and_reopen(saved, tmp_path):
    index, chosen = saved
    doc = qa.Document("kestrel", "Kestrel", "Kestrel Motors will employ 640 people in Tampere.\n", "", "k")
    grown = index.update([doc])
    grown.save(tmp_path / "index")
    reopened = Index.open(tmp_path / "index", chosen)
    assert reopened.chunk_vectors.ntotal == len(reopened.chunks) == len(index.chunks) + 1
    a = qa.answer("How many people will Kestrel employ in Tampere?", index=reopened, settings=chosen)
    assert "640" in a.text and a.citations[0].doc_id == "kestrel"
    shrunk = reopened.update([], ["kestrel"])
    shrunk.save(tmp_path / "index")
    assert Index.open(tmp_path / "index", chosen).chunk_vectors.ntotal == len(index.chunks)


def test_an_index_built_for_one_store_is_refused_by_the_other(saved, tmp_path):
    index, chosen = saved
    other = chosen.with_overrides(vector_store="milvus" if chosen.vector_store == "faiss" else "faiss")
    with pytest.raises(qa.IndexMismatchError, match="vector_store"):
        Index.open(tmp_path / "index", other)


def test_faiss_kind_follows_size_and_hnsw_keeps_recall():
    rng = np.random.default_rng(0)
    data = rng.standard_normal((5000, 64)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    assert vectors.create(data[:10]).describe()["kind"] == "flat"
    exact, approx = vectors.create(data, kind="flat"), vectors.create(data, kind="hnsw")
    queries = data[:200] + 0.3 * rng.standard_normal((200, 64)).astype(np.float32)
    hits = sum(len(set(exact.search(q, 10)) & set(approx.search(q, 10))) for q in queries)
    assert hits / (200 * 10) >= 0.97
    assert np.allclose(approx.get([3, 7]), data[[3, 7]])
