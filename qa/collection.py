"""The article collection behind an index: add and remove articles as files in its folder and update
the index incrementally, so the change survives a restart. Safe under concurrent readers."""
from __future__ import annotations

import os
import re
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

from .ingest import SUFFIXES, IngestError, document_from_bytes, too_big
from .settings import Settings
from .store import Index
from .types import Document

MAX_ARTICLES = 2_000  # articles per collection added through the page
MAX_NAME_CHARS = 80
REMOVED = ".removed"  # removed articles are moved here (hidden, so never indexed), not deleted


class ArticleError(ValueError):
    """An article that cannot be added or removed, with the reason in words."""


@dataclass(frozen=True)
class Change:
    doc_id: str
    title: str
    action: str  # added | replaced | removed


class Collection:
    """Articles in `folder` and their index at `index_path`. Readers take `.index` (an immutable
    snapshot); writers build a new index beside it and swap it in, one writer at a time."""

    def __init__(self, folder: str | Path, index: Index, index_path: str | Path | None = None):
        self.folder = Path(folder)
        self.index_path = Path(index_path) if index_path is not None else index.path
        self._index = index
        self._write = threading.Lock()

    @property
    def index(self) -> Index:
        return self._index

    @classmethod
    def open(cls, settings: Settings) -> "Collection":
        from .api import default_index

        return cls(settings.seeds_dir, default_index(settings), settings.index_dir)

    def add(self, name: str, data: bytes | str) -> Change:
        """Add an article from a file name and its bytes (or text); a known name is replaced."""
        stem, suffix = safe_name(name)
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        why = too_big(stem + suffix, len(raw))
        if why:
            raise ArticleError(why)
        try:
            doc = document_from_bytes(raw, self.folder / (stem + suffix), stem)
        except IngestError as exc:
            raise ArticleError(str(exc)) from None
        with self._write:
            index = self._index
            for other in index.documents.values():
                if other.sha256 == doc.sha256 or other.text == doc.text:
                    raise ArticleError(f"this article is already in the collection as {other.title!r} ({other.doc_id})")
            action = "replaced" if stem in index.documents else "added"
            if action == "added" and len(index.documents) >= MAX_ARTICLES:
                raise ArticleError(f"the collection holds {MAX_ARTICLES} articles, the most this page manages")
            path = self.folder / (stem + suffix)
            # the same name with another extension is the same article: the new file replaces it
            older = [other for other in self.folder.glob(glob_escape(stem) + ".*")
                     if other != path and other.suffix.lower() in SUFFIXES and other.is_file()]
            doc = replace(doc, source=str(path))
            new = index.update([doc])  # embed first: a failure leaves files and index untouched
            _atomic_write(path, raw)
            for other in older:
                self._set_aside(other)
            self._commit(new)
        return Change(stem, doc.title, action)

    def remove(self, doc_id: str) -> Change:
        """Remove an article: its file moves to `.removed/` in the folder and its chunks leave the index."""
        with self._write:
            index = self._index
            doc = index.documents.get(doc_id)
            if doc is None:
                raise ArticleError(f"no article {doc_id!r} in the collection")
            if len(index.documents) == 1:
                raise ArticleError("this is the last article; add another before removing it")
            new = index.update([], [doc_id])
            path = self._own_file(doc)
            if path is not None:
                self._set_aside(path)
            self._commit(new)
        return Change(doc_id, doc.title, "removed")

    def _set_aside(self, path: Path) -> None:
        """Move a file of the folder into `.removed/` (kept, never deleted, and no longer indexed)."""
        trash = self.folder / REMOVED
        trash.mkdir(exist_ok=True)
        os.replace(path, trash / f"{time.strftime('%Y%m%d-%H%M%S')}-{path.name}")

    def _own_file(self, doc: Document) -> Path | None:
        """The document's file, only if it lies inside the collection folder (never follow it outside)."""
        path = Path(doc.source)
        try:
            if path.is_file() and path.resolve().is_relative_to(self.folder.resolve()):
                return path
        except OSError:
            pass
        return None

    def _commit(self, new: Index) -> None:
        if self.index_path is not None:
            new.save(self.index_path)
        self._index = new


def safe_name(name: str) -> tuple[str, str]:
    """(stem, suffix) of an uploaded file name, reduced to a plain file name inside the folder: no
    folders, no `..`, no hidden names, no control characters; only the article types (`SUFFIXES`)."""
    base = unicodedata.normalize("NFC", str(name)).replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    suffix = Path(base).suffix.lower()
    if suffix not in SUFFIXES:
        raise ArticleError(f"{base or name!r}: only {', '.join(SUFFIXES)} files can be added")
    stem = re.sub(r"\s+", " ", base[: -len(suffix)]).strip(" .")
    if not stem:
        raise ArticleError(f"{name!r} is not a usable file name")
    return stem[:MAX_NAME_CHARS].rstrip(" ."), suffix


def name_for_title(title: str) -> str:
    """A file name for pasted text, from its title."""
    stem = re.sub(r"[^\w\- ]+", " ", unicodedata.normalize("NFC", title)).strip()
    return (re.sub(r"\s+", "-", stem)[:MAX_NAME_CHARS].strip("-") or "article") + ".md"


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def _atomic_write(path: Path, raw: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
