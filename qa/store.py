"""The on-disk index: FAISS vectors, JSON tables and a manifest of what built it. No pickles, atomic writes."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import __version__
from .chunk import chunk_document, fit_sentences, sentences
from .embed import BUILTIN_EMBEDDERS, Embedder, get_embedder
from .extract import kind_of
from .ingest import Corpus, read_folder
from .settings import Settings
from .tokens import get_encoding
from .types import Chunk, Document, Span
from . import vectors

FORMAT = 1
MANIFEST = "manifest.json"
TABLES = ("documents.json", "chunks.json", "sentences.json", "sentences.npy")
FILES = TABLES + (vectors.FAISS_FILE,)  # what a FAISS-backed index folder holds besides its manifest
EMBED_BATCH = 64


class BadIndexError(RuntimeError):
    """An index folder that cannot be used: missing, half-written or damaged."""


class IndexMismatchError(BadIndexError):
    """An index built with other settings or another model than the caller asked for."""


@dataclass
class Index:
    """Documents, their sentences and chunks, and the vectors of both, with the manifest that built them."""

    documents: dict[str, Document]
    chunks: list[Chunk]
    sentences: list[Span]
    chunk_vectors: vectors.VectorStore
    sentence_vectors: np.ndarray
    manifest: dict
    path: Path | None = None

    # ---- building -------------------------------------------------------
    @classmethod
    def build(cls, folder: str | Path, path: str | Path | None = None, settings: Settings | None = None,
              progress: bool = False) -> "Index":
        """Index every article in `folder`; saved atomically to `path` when one is given."""
        settings = settings or Settings()
        corpus = read_folder(folder)
        index = cls.from_documents(corpus.documents, settings, source=str(Path(folder).resolve()),
                                   skipped=corpus.skipped, progress=progress)
        if path is not None:
            index.save(path)
        return index

    @classmethod
    def from_documents(cls, documents: list[Document], settings: Settings, source: str = "",
                       skipped: dict | None = None, progress: bool = False) -> "Index":
        """Chunk, embed and index documents in memory."""
        started = time.perf_counter()
        embedder = get_embedder(settings.embedder)
        encoding = get_encoding(settings.encoding)

        def count(text: str) -> int:
            return len(encoding.encode(text, disallowed_special=()))

        def fits(text: str) -> bool:
            if count(text) > settings.chunk_tokens:
                return False
            return embedder.max_tokens is None or embedder.count_tokens(text) <= embedder.max_tokens

        all_units: list[Span] = []
        chunks: list[Chunk] = []
        for doc in tqdm(documents, desc="chunking", unit="doc", disable=not progress):
            units = fit_sentences(doc, sentences(doc), fits)
            all_units.extend(units)
            chunks.extend(chunk_document(doc, units, count, fits, settings.overlap_tokens, len(chunks)))
        docs = {d.doc_id: d for d in documents}
        chunk_vecs = _embed(embedder, [c.text for c in chunks], "embedding chunks", progress)
        sent_vecs = _embed(embedder, [docs[s.doc_id].text[s.start:s.end] for s in all_units],
                           "embedding sentences", progress)
        store = vectors.create(chunk_vecs, settings.vector_store, uri=settings.milvus_uri)
        manifest = {
            "format": FORMAT,
            "qa_version": __version__,
            "settings": settings.build_key(),
            "embedder": {"name": embedder.name, "dim": embedder.dim, "max_tokens": embedder.max_tokens},
            "source": source,
            "documents": {d.doc_id: d.sha256 for d in documents},
            "skipped": skipped or {},
            "counts": {"documents": len(documents), "chunks": len(chunks), "sentences": len(all_units)},
            "build_seconds": round(time.perf_counter() - started, 2),
        }
        manifest["vectors"] = store.describe()
        return cls(docs, chunks, all_units, store, sent_vecs, manifest)

    # ---- incremental changes -------------------------------------------------
    def update(self, added: list[Document], removed=(), progress: bool = False) -> "Index":
        """A new index with `removed` ids dropped and `added` documents (new or changed) chunked and
        embedded; every other document keeps its stored chunks and vectors, so nothing is re-embedded."""
        drop = set(removed) | {d.doc_id for d in added}
        settings = self.build_settings()
        fresh = Index.from_documents(added, settings, progress=progress) if added else None
        keep_c = [i for i, c in enumerate(self.chunks) if c.doc_id not in drop]
        keep_s = [i for i, s in enumerate(self.sentences) if s.doc_id not in drop]
        old_vecs = self.chunk_vectors.all() if keep_c else None
        documents = {k: d for k, d in self.documents.items() if k not in drop}
        chunks = [self.chunks[i] for i in keep_c]
        spans = [self.sentences[i] for i in keep_s]
        chunk_vecs = [old_vecs[keep_c]] if keep_c else []
        sent_vecs = [self.sentence_vectors[keep_s]]
        if fresh is not None:
            documents.update(fresh.documents)
            chunks += fresh.chunks
            spans += fresh.sentences
            chunk_vecs.append(fresh.chunk_vectors.all())
            sent_vecs.append(fresh.sentence_vectors)
        chunks = [replace(c, chunk_id=i) for i, c in enumerate(chunks)]
        dim = self.manifest["embedder"]["dim"]
        store = vectors.create(np.concatenate(chunk_vecs) if chunk_vecs else np.zeros((0, dim), np.float32),
                               settings.vector_store, uri=settings.milvus_uri)
        manifest = dict(self.manifest, documents={k: d.sha256 for k, d in documents.items()},
                        counts={"documents": len(documents), "chunks": len(chunks), "sentences": len(spans)},
                        updated=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        manifest.pop("files", None)
        manifest["vectors"] = store.describe()
        return Index(documents, chunks, spans, store,
                     np.concatenate(sent_vecs).astype(np.float32).reshape(-1, dim), manifest, self.path)

    def sync(self, corpus: Corpus, progress: bool = False) -> tuple["Index", dict[str, list[str]]]:
        """Bring the index in line with `corpus`, embedding only new and changed documents (by content
        hash); returns the new index and what changed."""
        have = self.manifest.get("documents", {})
        now = {d.doc_id for d in corpus.documents}
        added = [d for d in corpus.documents if have.get(d.doc_id) != d.sha256]
        removed = [k for k in have if k not in now]
        changes = {"added": [d.doc_id for d in added if d.doc_id not in have],
                   "changed": [d.doc_id for d in added if d.doc_id in have], "removed": removed}
        if not added and not removed:
            return self, changes
        index = self.update(added, removed, progress)
        index.manifest["skipped"] = corpus.skipped
        return index, changes

    def build_settings(self) -> Settings:
        """The settings this index was built with (the manifest's build part)."""
        return Settings(**self.manifest["settings"], milvus_uri=self.manifest.get("vectors", {}).get("uri", ""))

    # ---- saving and loading -----------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write to a temporary sibling folder, then swap it in, so readers never see half an index."""
        path = Path(path)
        if path.exists() and not _replaceable(path):
            raise BadIndexError(f"{path} exists and is not an index folder; refusing to replace it")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
        try:
            _write_json(tmp / "documents.json", [asdict(d) for d in self.documents.values()])
            _write_json(tmp / "chunks.json", [[c.doc_id, c.start, c.end, c.n_tokens] for c in self.chunks])
            _write_json(tmp / "sentences.json", [[s.doc_id, s.start, s.end] for s in self.sentences])
            np.save(tmp / "sentences.npy", self.sentence_vectors, allow_pickle=False)
            written = self.chunk_vectors.write(tmp)
            manifest = dict(self.manifest, vectors=self.chunk_vectors.describe(),
                            files={n: _sha256(tmp / n) for n in TABLES + tuple(written)})
            _write_json(tmp / MANIFEST, manifest)  # written last: its presence marks a complete index
            old, replaced = None, {}
            if (path / MANIFEST).is_file():
                try:
                    replaced = _read_json(path / MANIFEST).get("vectors", {})
                except ValueError:
                    pass
            vectors.release(path)  # an embedded Milvus engine on the old folder lets go of it first
            if path.exists():
                old = path.with_name(f".{path.name}.old-{os.getpid()}-{time.time_ns()}")
                os.replace(path, old)
            os.replace(tmp, path)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.manifest, self.path = manifest, path
        try:
            vectors.drop_replaced(replaced, manifest["vectors"])
        except Exception as exc:  # the new index is in place; a leftover collection is only untidy
            warnings.warn(f"could not drop the replaced Milvus collection {replaced.get('collection')}: {exc}")
        if manifest["vectors"]["backend"] != "faiss":  # served from where it now lives
            self.chunk_vectors = vectors.load(path, manifest["vectors"], manifest["embedder"]["dim"])

    @classmethod
    def open(cls, path: str | Path, settings: Settings | None = None, rebuild: bool = False) -> "Index":
        """Load an index; one built with other settings is refused, or rebuilt from its source if `rebuild`."""
        path = Path(path)
        manifest = read_manifest(path)
        if settings is not None:
            problem = mismatch(manifest, settings)
            if problem:
                if not rebuild:
                    raise IndexMismatchError(
                        f"index at {path} was built with {problem}; rebuild it with "
                        f"`qa index build {manifest.get('source') or 'DIR'} --index {path}` "
                        f"or open it with the settings it was built with")
                source = manifest.get("source") or ""
                if not source or not Path(source).is_dir():
                    raise BadIndexError(f"cannot rebuild {path}: the folder it was built from ({source or 'unknown'}) "
                                        f"is not there; build it with `qa index build DIR --index {path}`")
                return cls.build(source, path, settings)
        name = manifest.get("settings", {}).get("embedder", "")
        if name not in BUILTIN_EMBEDDERS and (settings is None or settings.embedder != name):
            raise IndexMismatchError(f"index at {path} names the model {name!r}; open it with that embedder "
                                     f"setting to load it (an index folder never chooses a model by itself)")
        listed = manifest.get("files", {})
        for name in sorted(set(TABLES) | set(listed)):
            expected = listed.get(name)
            if not (path / name).is_file() or _sha256(path / name) != expected:
                raise BadIndexError(f"index at {path} is damaged: {name} is missing or does not match its manifest; "
                                  f"rebuild it with `qa index build`")
        try:
            docs = [_document(d) for d in _read_json(path / "documents.json")]
            documents = {d.doc_id: d for d in docs}
            chunks = [Chunk(i, doc_id, s, e, documents[doc_id].text[s:e], n)
                      for i, (doc_id, s, e, n) in enumerate(_read_json(path / "chunks.json"))]
            spans = [Span(doc_id, s, e) for doc_id, s, e in _read_json(path / "sentences.json")]
            store = vectors.load(path, manifest.get("vectors", {"backend": "faiss", "kind": "flat"}),
                                 manifest["embedder"]["dim"])
            sent_vecs = np.load(path / "sentences.npy", allow_pickle=False)
        except (ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise BadIndexError(f"index at {path} is damaged ({exc}); rebuild it with `qa index build`") from exc
        if store.ntotal != len(chunks) or len(sent_vecs) != len(spans):
            raise BadIndexError(f"index at {path} is inconsistent (vector and table counts differ); rebuild it")
        return cls(documents, chunks, spans, store, sent_vecs, manifest, path)

    # ---- helpers used at question time -------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        return get_embedder(self.manifest["settings"]["embedder"])

    def sentences_of(self, chunk: Chunk) -> list[int]:
        """Indices of the sentences inside `chunk`, in document order."""
        if not hasattr(self, "_by_doc"):
            by_doc: dict[str, list[int]] = {}
            for i, s in enumerate(self.sentences):
                by_doc.setdefault(s.doc_id, []).append(i)
            self._by_doc = by_doc
        return [i for i in self._by_doc.get(chunk.doc_id, ())
                if self.sentences[i].start >= chunk.start and self.sentences[i].end <= chunk.end]

    def neighbours(self, sentence: int) -> tuple[int | None, int | None]:
        """The sentence before and after `sentence` in the same document (None at either end)."""
        doc = self.sentences[sentence].doc_id
        prev = sentence - 1 if sentence > 0 and self.sentences[sentence - 1].doc_id == doc else None
        nxt = sentence + 1 if sentence + 1 < len(self.sentences) and self.sentences[sentence + 1].doc_id == doc else None
        return prev, nxt


def _replaceable(path: Path) -> bool:
    """Only an empty folder or one holding an index (complete or half-written) may be replaced."""
    if not path.is_dir():
        return False
    names = {p.name for p in path.iterdir()}
    return not names or MANIFEST in names or names <= set(FILES) | {vectors.MILVUS_FILE}


def read_manifest(path: Path) -> dict:
    """The manifest of the index at `path`, with a clear error for a missing or half-written index."""
    if not path.is_dir():
        raise BadIndexError(f"no index at {path}; build one with `qa index build DIR --index {path}`")
    try:
        manifest = _read_json(path / MANIFEST)
    except FileNotFoundError:
        raise BadIndexError(f"{path} holds no complete index (no {MANIFEST}; a build may have been "
                          f"interrupted); rebuild it with `qa index build`") from None
    except ValueError as exc:
        raise BadIndexError(f"the manifest of {path} is damaged ({exc}); rebuild the index") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BadIndexError(f"index at {path} has format {manifest.get('format') if isinstance(manifest, dict) else '?'}, "
                          f"this version reads format {FORMAT}; rebuild it")
    return manifest


def mismatch(manifest: dict, settings: Settings) -> str:
    """'' when the manifest was built with `settings`, else what differs, in words."""
    built = manifest.get("settings", {})
    diffs = [f"{k}={built.get(k)!r} (asked for {v!r})" for k, v in settings.build_key().items() if built.get(k) != v]
    return ", ".join(diffs)


def stale(manifest: dict, corpus: Corpus) -> bool:
    """True when the articles on disk differ from the ones the index was built from."""
    return manifest.get("documents") != {d.doc_id: d.sha256 for d in corpus.documents}


def _document(row: dict) -> Document:
    """A document from its table row; rows written before documents had a kind, date or pages still open."""
    row = dict(row)
    row["page_starts"] = tuple(row.get("page_starts") or ())
    if not row.get("kind"):
        row["kind"] = kind_of(row.get("source", "")) or "txt"
    return Document(**row)


def _embed(embedder: Embedder, texts: list[str], desc: str, progress: bool) -> np.ndarray:
    """Vectors of `texts`, embedded shortest first so each batch pads little (a third faster here)."""
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for i in tqdm(range(0, len(texts), EMBED_BATCH), desc=desc, unit="batch", disable=not progress):
        rows = order[i:i + EMBED_BATCH]
        out[rows] = embedder.embed_passages([texts[r] for r in rows], total=len(texts))
    return out


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _write_json(path: Path, value) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False)


def _read_json(path: Path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)
