"""The text of an article file, by format, with what its metadata says (title, author, date, pages).

One function per format, each returning an `Extracted`: the text as parts (one per page for a PDF, else
one), how consecutive parts join, and the metadata. Repair, sentences and chunks come after, in
`qa.ingest`, the same for every format. A file that cannot be read raises `ExtractError` with the reason
in words ("no text layer: scanned pages are not read"), never a library's traceback.

- web pages (.html/.htm): trafilatura, made for news pages: the article's main text without navigation,
  adverts, comments, cookie notices or scripts; title, author and date from the page's markup.
- PDF: PDFium (pypdfium2): text in reading order per page; lines rebuilt into paragraphs from their
  positions; words hyphenated at line ends joined; headers and footers that repeat on the pages dropped.
- Word (.docx): python-docx: paragraphs and tables in order, each heading its own line; title, author
  and date from the document's properties.
"""
from __future__ import annotations

import io
import math
import re
import statistics
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

KINDS = {".txt": "txt", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".pdf": "pdf",
         ".docx": "docx"}
MIN_PAGE_CHARS = 250  # below this, a web page's text is checked again without trafilatura's fallbacks
MAX_PDF_PAGES = 2_000  # ~20 s of extraction on 2 cores; longer PDFs are refused before any page is read

_HYPHEN = "\ue000"  # a hyphen at a line end, until we know whether the word keeps it
_PDFIUM_HYPHENS = re.compile("[\ufffe\x02]")  # PDFium's marks for a hyphen it found at a line end
_PAGE_NUMBER = re.compile(r"^\W*(?:(?:page|p\.|seite|halaman|pagina|página)?\s*\d{1,4}(?:\s*(?:of|/|von|dari|de)\s*\d{1,4})?"
                          r"|[ivxlc]{1,7})\W*$", re.IGNORECASE)
_SENTENCE_END = tuple(".!?:;\"'”’»)")


class ExtractError(ValueError):
    """A file whose text cannot be extracted; the message says why, in words."""


@dataclass
class Extracted:
    kind: str
    parts: list[str]  # the text; one part per page for a PDF
    joins: list[str] = field(default_factory=list)  # what goes between part i and i+1 ("\n\n", " " or "")
    title: str = ""
    author: str = ""
    date: str = ""  # ISO yyyy-mm-dd, '' when unknown
    paged: bool = False  # parts are pages: their start offsets become Document.page_starts


def kind_of(name: str) -> str:
    """'txt', 'md', 'html', 'pdf' or 'docx' from a file name ('' for anything else)."""
    dot = str(name).rfind(".")
    return KINDS.get(str(name)[dot:].lower(), "") if dot >= 0 else ""


def extract(raw: bytes, kind: str) -> Extracted:
    if kind == "html":
        return extract_html(raw)
    if kind == "pdf":
        return extract_pdf(raw)
    if kind == "docx":
        return extract_docx(raw)
    raise ValueError(f"no extractor for {kind!r}")


# ---- web pages ------------------------------------------------------------------------------
def extract_html(raw: bytes) -> Extracted:
    """The main text of a (saved) web page: paragraphs and headings, each its own paragraph."""
    import trafilatura
    from lxml.etree import LxmlError

    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ExtractError("looks like a binary file, not a web page")
    options = dict(with_metadata=True, include_comments=False, include_tables=True, include_formatting=False,
                   include_links=False, include_images=False,
                   # dates only from the page's markup (meta tags, <time>, bylines), never guessed from its text
                   date_extraction_params={"original_date": True, "extensive_search": False})
    try:
        page = trafilatura.bare_extraction(raw, **options)
        text = (getattr(page, "text", None) or "") if page is not None else ""
        if len(text.strip()) < MIN_PAGE_CHARS:
            # little text: trafilatura's fallbacks may have kept the menu of a page without an article;
            # keep only what its precise extraction (no fallbacks) recognises as main text
            page = trafilatura.bare_extraction(raw, fast=True, favor_precision=True, **options)
            text = (getattr(page, "text", None) or "") if page is not None else ""
    except (LxmlError, ValueError, TypeError) as exc:
        raise ExtractError(f"the page cannot be parsed ({exc})") from None
    if not text.strip():
        raise ExtractError("no article text found in the page (only navigation, scripts or an empty body)")
    paragraphs = [line.strip() for line in text.splitlines() if line.strip()]
    return Extracted("html", ["\n\n".join(paragraphs)], title=_clean(page.title), author=_clean(page.author),
                     date=_iso(page.date))


# ---- PDF ----------------------------------------------------------------------------------
@dataclass
class _Line:
    text: str
    bottom: float  # of its first character (loose box: the font's, not the glyph's)
    end_bottom: float  # of its last character: PDFium may already have joined a hyphenated pair of lines
    left: float
    right: float
    size: float  # font size


def extract_pdf(raw: bytes) -> Extracted:
    """Per page: lines in PDFium's reading order, rebuilt into paragraphs; repeating headers and footers
    dropped; hyphenated line ends joined. Scanned (image-only), encrypted and damaged PDFs are refused."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(raw)
    except pdfium.PdfiumError as exc:
        raise ExtractError(_pdf_open_error(exc, raw)) from None
    try:
        n = len(pdf)
        if n == 0:
            raise ExtractError("the PDF has no pages")
        if n > MAX_PDF_PAGES:
            raise ExtractError(f"the PDF has {n:,} pages; PDFs over {MAX_PDF_PAGES:,} pages are not indexed "
                               "(split it)")
        pages = []
        for i in range(n):
            try:
                pages.append(_pdf_lines(pdf, i))
            except pdfium.PdfiumError as exc:
                raise ExtractError(f"the PDF is damaged: page {i + 1} cannot be read ({_reason(exc)})") from None
        meta = pdf.get_metadata_dict(skip_empty=True)
    finally:
        pdf.close()
    if not any(pages):
        raise ExtractError("no text layer: scanned pages are not read (the PDF holds only images; "
                           "run OCR on it first, e.g. ocrmypdf)")
    _drop_running_lines(pages)
    texts = [_paragraphs(lines, _line_spacing(pages)) for lines in pages]
    texts, joins = _join_pages(_dehyphenate(texts))
    title = _clean(meta.get("Title", ""))
    if re.search(r"\.(?:docx?|pdf|rtf|odt|indd|qxd)$|^untitled$|^microsoft word", title, re.IGNORECASE):
        title = ""  # a file name left in the metadata, not a title
    return Extracted("pdf", texts, joins, title=title, author=_clean(meta.get("Author", "")),
                     date=_pdf_date(meta.get("CreationDate", "")), paged=True)


def _pdf_open_error(exc, raw: bytes) -> str:
    import pypdfium2.raw as pdfium_c

    code = getattr(exc, "err_code", None)
    if code == pdfium_c.FPDF_ERR_PASSWORD:
        return "the PDF is encrypted: it needs a password (save an unprotected copy to index it)"
    if code == pdfium_c.FPDF_ERR_SECURITY:
        return "the PDF is encrypted with an unsupported security handler"
    if not raw.lstrip()[:1024].count(b"%PDF"):
        return "not a PDF file (no %PDF header): the file is damaged or has the wrong extension"
    if b"%%EOF" not in raw[-2048:]:
        return "the PDF is damaged: it is truncated (it ends before its end-of-file marker; an incomplete download?)"
    return f"the PDF is damaged and cannot be opened ({_reason(exc)})"


def _reason(exc) -> str:
    text = str(exc)
    m = re.search(r"PDFium: ([^)]*)", text)
    return m.group(1) if m else text


def _pdf_lines(pdf, i: int) -> list[_Line]:
    import pypdfium2.raw as pdfium_c

    page = pdf[i]
    try:
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
            lines = []
            for m in re.finditer(r"[^\r\n]+", text):
                raw_line = m.group()
                if not raw_line.strip():
                    continue
                first = m.start() + (len(raw_line) - len(raw_line.lstrip()))
                last = m.start() + len(raw_line.rstrip()) - 1
                a = pdfium_c.FPDFText_GetCharIndexFromTextIndex(textpage.raw, first)
                b = pdfium_c.FPDFText_GetCharIndexFromTextIndex(textpage.raw, last)
                if a < 0 or b < 0:
                    left = bottom = end_bottom = right = size = 0.0
                else:
                    left, bottom, _, _ = textpage.get_charbox(a, loose=True)
                    _, end_bottom, right, _ = textpage.get_charbox(b, loose=True)
                    size = pdfium_c.FPDFText_GetFontSize(textpage.raw, a)
                lines.append(_Line(" ".join(raw_line.split()), bottom, end_bottom, left, right, round(size, 1)))
            return lines
        finally:
            textpage.close()
    finally:
        page.close()


def _running_key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.lower().split()))


def _drop_running_lines(pages: list[list[_Line]]) -> None:
    """Drop page numbers at the top or bottom of a page, and lines at the top or bottom (the two
    outermost each way) that repeat on at least two pages and 40% of those with text."""
    with_text = [p for p in pages if p]
    edges = []
    for lines in pages:
        by_height = sorted(range(len(lines)), key=lambda k: -lines[k].bottom)
        edges.append(set(by_height[:2]) | set(by_height[-2:]))
    counts: dict[str, int] = {}
    for lines, edge in zip(pages, edges):
        for key in {_running_key(lines[k].text) for k in edge}:
            counts[key] = counts.get(key, 0) + 1
    needed = max(2, math.ceil(0.4 * len(with_text)))
    for p, (lines, edge) in enumerate(zip(pages, edges)):
        drop = {k for k in edge if counts[_running_key(lines[k].text)] >= needed
                or (_PAGE_NUMBER.match(lines[k].text) and len(lines) > 1)}
        pages[p] = [ln for k, ln in enumerate(lines) if k not in drop]


def _line_spacing(pages: list[list[_Line]]) -> dict[float, float]:
    """The usual distance between consecutive lines of the same font size, per size."""
    gaps: dict[float, list[float]] = {}
    for lines in pages:
        for prev, line in zip(lines, lines[1:]):
            gap = prev.end_bottom - line.bottom
            if prev.size == line.size and gap > 0.3 * line.size:
                gaps.setdefault(line.size, []).append(gap)
    return {size: statistics.median(v) for size, v in gaps.items()}


def _paragraphs(lines: list[_Line], spacing: dict[float, float]) -> str:
    """A page's lines joined into paragraphs: a new one after a wider gap than usual, a change of
    font size (headings), a move up the page (a new column) or a short line ending a sentence."""
    if not lines:
        return ""
    right_edge = max(ln.right for ln in lines)
    left_edge = min(ln.left for ln in lines)
    paragraphs = [lines[0].text]
    for prev, line in zip(lines, lines[1:]):
        gap = prev.end_bottom - line.bottom
        usual = spacing.get(line.size) or 1.2 * max(line.size, 1.0)
        resized = abs(prev.size - line.size) > max(1.0, 0.15 * max(prev.size, line.size))  # not inline code
        new = (gap > 1.45 * usual or gap < -0.5 * max(line.size, 1.0) or resized
               or (prev.text.endswith(_SENTENCE_END)
                   and (prev.right < right_edge - 4 * max(line.size, 1.0) or line.left > left_edge + 1.5 * line.size)))
        if -0.3 * max(line.size, 1.0) <= gap <= 0.3 * max(line.size, 1.0) and not new:
            paragraphs[-1] += " " + line.text  # the same line, cut into two pieces
        elif new:
            paragraphs.append(line.text)
        elif re.search(r"\w-$", paragraphs[-1]) and line.text[:1].islower():
            paragraphs[-1] = paragraphs[-1][:-1] + _HYPHEN + line.text
        else:
            paragraphs[-1] += " " + line.text
    return "\n\n".join(paragraphs)


def _dehyphenate(pages: list[str]) -> list[str]:
    """Join words hyphenated at a line end ("devel-" + "oped" -> "developed"), keeping the hyphen
    when the document writes that word with one elsewhere ("long-term")."""
    pages = [_PDFIUM_HYPHENS.sub(_HYPHEN, p) for p in pages]
    whole = "\n".join(pages).lower()
    pattern = re.compile(rf"(\w+){_HYPHEN}(\w+)")

    def join(m: re.Match) -> str:
        a, b = m.group(1), m.group(2)
        return f"{a}-{b}" if f"{a}-{b}".lower() in whole else a + b

    return [pattern.sub(join, p).replace(_HYPHEN, "-") for p in pages]


def _join_pages(pages: list[str]) -> tuple[list[str], list[str]]:
    """What goes between consecutive pages: a paragraph break, or a space (or nothing, for a word
    hyphenated across the break) when a sentence runs on to the next page."""
    pages = [p.strip() for p in pages]
    joins = []
    last = None  # the last page with text so far
    for k in range(len(pages) - 1):
        if pages[k]:
            last = k
        nxt = pages[k + 1]
        if not nxt or last is None:
            joins.append("")
            continue
        prev = pages[last]
        if re.search(r"[^\W\d_]-$", prev) and nxt[:1].islower():
            pages[last] = prev[:-1]
            joins.append("")
        elif not prev.endswith(_SENTENCE_END) and nxt[:1].islower():
            joins.append(" ")
        else:
            joins.append("\n\n")
    return pages, joins


def _pdf_date(value: str) -> str:
    m = re.match(r"^(?:D:)?(\d{4})(\d{2})?(\d{2})?", (value or "").strip())
    if not m:
        return ""
    return _iso(f"{m.group(1)}-{m.group(2) or '01'}-{m.group(3) or '01'}")


# ---- Word ---------------------------------------------------------------------------------
def extract_docx(raw: bytes) -> Extracted:
    """Paragraphs and tables in document order; headings are paragraphs of their own; a table row is
    one line, its cells separated by " | ". Headers, footers and comments are left out."""
    import docx
    from docx.opc.exceptions import OpcError
    from lxml.etree import LxmlError

    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise ExtractError("not a .docx file: an encrypted (password-protected) Word file or an old .doc; "
                           "save it as .docx without a password")
    try:
        document = docx.Document(io.BytesIO(raw))
        blocks = []
        items = document.iter_inner_content() if hasattr(document, "iter_inner_content") else document.paragraphs
        for item in items:
            if hasattr(item, "rows"):
                for row in item.rows:
                    cells = []
                    for cell in row.cells:
                        value = " ".join(cell.text.split())
                        if value and (not cells or cells[-1] != value):  # merged cells repeat
                            cells.append(value)
                    if cells:
                        blocks.append(" | ".join(cells))
            else:
                value = item.text.strip()
                if value:
                    blocks.append(value)
        props = document.core_properties
        title, author, created = props.title, props.author, props.created
    except (OpcError, zipfile.BadZipFile, KeyError, LxmlError, ValueError, AttributeError) as exc:
        raise ExtractError(f"not a readable .docx file ({type(exc).__name__}: {exc})") from None
    if not blocks:
        raise ExtractError("the Word file has no text")
    if author == "python-docx":  # the library's template, not the writer's properties
        author, created = "", None
    return Extracted("docx", ["\n\n".join(blocks)], title=_clean(title), author=_clean(author),
                     date=created.date().isoformat() if isinstance(created, datetime) else "")


# ---- helpers ------------------------------------------------------------------------------
def _clean(value) -> str:
    return " ".join(str(value or "").split())


def _iso(value) -> str:
    """yyyy-mm-dd, or '' for anything that is not a real date."""
    if not value:
        return ""
    try:
        return date.fromisoformat(str(value).strip()[:10]).isoformat()
    except ValueError:
        return ""
