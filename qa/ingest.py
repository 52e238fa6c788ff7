"""Read a folder of articles into repaired `Document`s; unreadable files are reported, never silently dropped."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from charset_normalizer import from_bytes

from .repair import repair
from .types import Document

SUFFIXES = (".txt", ".md", ".markdown")
MAX_TITLE_CHARS = 90
MAX_ARTICLE_BYTES = 2_000_000  # ~300k words; embedding one such file on this CPU takes ~10 minutes


class IngestError(ValueError):
    """A folder or file that cannot become documents."""


@dataclass
class Corpus:
    documents: list[Document]
    skipped: dict[str, str] = field(default_factory=dict)  # path -> reason


def read_folder(folder: str | Path) -> Corpus:
    """Every .txt/.md file under `folder` (sorted), repaired; raises IngestError when none is readable."""
    folder = Path(folder)
    if not folder.is_dir():
        raise IngestError(f"{folder} is not a folder of articles")
    documents, skipped = [], {}
    seen: dict[str, Path] = {}
    contents: dict[str, Path] = {}
    root = folder.resolve()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            continue  # hidden files and folders (.git, .venv, editor backups)
        if not path.resolve().is_relative_to(root):
            skipped[str(path)] = "links outside the folder"
            continue
        try:
            doc = read_file(path, doc_id=relative.with_suffix("").as_posix())
        except IngestError as exc:
            skipped[str(path)] = str(exc)
            continue
        if doc.doc_id in seen:
            skipped[str(path)] = f"duplicate document id {doc.doc_id!r} (also {seen[doc.doc_id]})"
            continue
        if doc.sha256 in contents:
            skipped[str(path)] = f"same content as {contents[doc.sha256]}"
            continue
        seen[doc.doc_id] = contents[doc.sha256] = path
        documents.append(doc)
    if not documents:
        why = "; ".join(f"{p}: {r}" for p, r in skipped.items()) or f"no {'/'.join(SUFFIXES)} files"
        raise IngestError(f"no readable articles in {folder} ({why})")
    return Corpus(documents, skipped)


def read_file(path: str | Path, doc_id: str | None = None) -> Document:
    """One article: decoded (UTF-8, else the detected encoding), repaired, titled. Its id is the file
    stem, or for files in subfolders the relative path without the extension."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_ARTICLE_BYTES:
            raise IngestError(f"{path} is {size / 1e6:.1f} MB; articles over {MAX_ARTICLE_BYTES / 1e6:.0f} MB are "
                              "not indexed (split it into smaller files)")
        raw = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return document_from_bytes(raw, path, doc_id or path.stem)


def document_from_bytes(raw: bytes, path: Path, doc_id: str) -> Document:
    """An article from the bytes of the file at `path` (read from disk or uploaded): decoded,
    repaired, titled, hashed; IngestError when it is binary, undecodable or empty."""
    text = repair(decode(raw, path))
    if not text.strip():
        raise IngestError(f"{path} is empty")
    return Document(doc_id=doc_id, title=make_title(text, path), text=text,
                    source=str(path), sha256=hashlib.sha256(raw).hexdigest())


def decode(raw: bytes, path: Path | str = "<bytes>") -> str:
    """UTF-8 first (with or without BOM); otherwise charset-normalizer's best guess; binary is refused."""
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise IngestError(f"{path} looks like a binary file, not text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    best = from_bytes(raw).best()
    if best is None:
        raise IngestError(f"{path} is not decodable text in any known encoding")
    return str(best)


def make_title(text: str, path: Path) -> str:
    """A Markdown heading or a short first line; else the opening words of the first sentence."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    first = re.sub(r"^#+\s*", "", first)
    if len(first) <= MAX_TITLE_CHARS and not first.endswith((".", ",")):
        return first or path.stem
    sentence = re.split(r"(?<=[.!?])\s", first, maxsplit=1)[0]
    if len(sentence) <= MAX_TITLE_CHARS:
        return sentence
    return sentence[:MAX_TITLE_CHARS].rsplit(" ", 1)[0] + "…"
