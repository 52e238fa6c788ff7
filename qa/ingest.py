"""Read a folder of articles into repaired `Document`s; unreadable files are reported, never silently dropped.

One path for every format: read the bytes -> decode (.txt/.md) or extract (.html/.pdf/.docx, `qa.extract`)
-> repair -> Document. A PDF is repaired page by page, so its page start offsets point into the stored text."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from charset_normalizer import from_bytes

from .extract import ExtractError, extract, kind_of
from .repair import repair
from .types import Document

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
SUFFIXES = TEXT_SUFFIXES + (".html", ".htm", ".pdf", ".docx")
MAX_TITLE_CHARS = 90
MAX_ARTICLE_BYTES = 2_000_000  # text files: ~300k words; embedding one such file on this CPU takes ~10 minutes
# Files are larger than their text: a saved page carries markup and scripts, a PDF fonts and images.
MAX_BYTES = {"txt": MAX_ARTICLE_BYTES, "md": MAX_ARTICLE_BYTES, "html": 10_000_000, "docx": 20_000_000,
             "pdf": 50_000_000}
MAX_FILE_BYTES = max(MAX_BYTES.values())
MAX_TEXT_CHARS = 2_000_000  # extracted text, whatever the format (the same embedding budget as a text file)
PAGE_SEPARATOR = "\n\n"


class IngestError(ValueError):
    """A folder or file that cannot become documents."""


@dataclass
class Corpus:
    documents: list[Document]
    skipped: dict[str, str] = field(default_factory=dict)  # path -> reason


def read_folder(folder: str | Path) -> Corpus:
    """Every article file under `folder` (.txt, .md, .html, .pdf, .docx; sorted), repaired; raises
    IngestError when none is readable."""
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
        if saved_page_asset(folder, relative):
            continue  # the frames and adverts a browser saves beside a page ("Page_files/"), not articles
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


def saved_page_asset(folder: Path, relative: Path) -> bool:
    """True for a file inside the `NAME_files/` folder a browser writes beside a saved `NAME.html`."""
    for k, part in enumerate(relative.parts[:-1]):
        if part.endswith("_files"):
            parent = folder.joinpath(*relative.parts[:k])
            if any((parent / (part[:-6] + ext)).is_file() for ext in (".html", ".htm")):
                return True
    return False


def max_bytes(name: str | Path) -> int:
    """The largest file of this type that is read (by its extension)."""
    return MAX_BYTES.get(kind_of(str(name)), MAX_ARTICLE_BYTES)


def too_big(path: str | Path, size: int) -> str:
    """'' when a file of `size` bytes may be read, else the reason in words."""
    limit, kind = max_bytes(path), kind_of(str(path))
    if size <= limit:
        return ""
    what = {"html": "web pages", "pdf": "PDFs", "docx": "Word files"}.get(kind, "articles")
    return (f"{path} is {size / 1e6:.1f} MB; {what} over {limit / 1e6:.0f} MB are not indexed "
            "(split it into smaller files)")


def read_file(path: str | Path, doc_id: str | None = None) -> Document:
    """One article: decoded (UTF-8, else the detected encoding) or extracted (web page, PDF, Word),
    repaired, titled. Its id is the file stem, or for files in subfolders the relative path without
    the extension."""
    path = Path(path)
    try:
        why = too_big(path, path.stat().st_size)
        if why:
            raise IngestError(why)
        raw = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return document_from_bytes(raw, path, doc_id or path.stem)


def document_from_bytes(raw: bytes, path: Path, doc_id: str) -> Document:
    """An article from the bytes of the file at `path` (read from disk or uploaded): decoded or
    extracted by its extension, repaired, titled, hashed; IngestError when it is binary, damaged,
    without text or empty. A PDF is repaired page by page and its pages joined with fixed separators,
    so `page_starts` are offsets into the stored text."""
    kind = kind_of(path.name) or "txt"
    title = author = date = ""
    page_starts: tuple[int, ...] = ()
    if kind in ("txt", "md"):
        text = repair(decode(raw, path))
    else:
        try:
            found = extract(raw, kind)
        except ExtractError as exc:
            raise IngestError(f"{path.name}: {exc}") from None
        parts = [repair(part) for part in found.parts]
        text, starts = parts[0] if parts else "", [0]
        for join, part in zip(found.joins or [PAGE_SEPARATOR] * (len(parts) - 1), parts[1:]):
            text += join
            starts.append(len(text))
            text += part
        if found.paged:
            page_starts = tuple(starts)
        title, author, date = found.title, found.author, found.date
    if not text.strip():
        raise IngestError(f"{path} is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise IngestError(f"{path} holds {len(text):,} characters of text; articles over {MAX_TEXT_CHARS:,} are not "
                          "indexed (split it into smaller files)")
    return Document(doc_id=doc_id, title=title or make_title(text, path), text=text, source=str(path),
                    sha256=hashlib.sha256(raw).hexdigest(), kind=kind, author=author, date=date,
                    page_starts=page_starts)


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
