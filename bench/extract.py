"""Extraction speed: pages/s for PDF, documents/s for web pages and Word files.

    python bench/extract.py [--quick]

Times `qa.extract.extract` (the format's text and metadata) and `qa.ingest.document_from_bytes`
(extraction + repair + title: everything before sentences and chunks) on:
- PDFs written by reportlab (multi-page reports with a running header and page numbers, as in the tests),
- the real PDFs that Debian installs under /usr/share/doc (when present),
- saved news pages (navigation, cookie notice, adverts, comments around an article of 5 to 25 paragraphs),
- the real HTML pages under /usr/share/doc (documentation pages: not news, but real-world markup),
- Word files written by python-docx.
Each corpus is extracted three times (once when a pass takes over 10 s); the best run counts (the
cores are shared on this machine).
Needs the test extras (reportlab writes the PDFs). Prints the figures and writes
bench/reports/extract.{md,json}.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from qa.extract import ExtractError, extract  # noqa: E402
from qa.ingest import IngestError, document_from_bytes  # noqa: E402
from tests.documents import HTML_PAGE, docx_report, long_pdf, pdf_article  # noqa: E402

OUT = REPO / "bench" / "reports"
WORDS = ("the council said that its new harbour plan would cost about twelve million pounds and take three "
         "years to build while local firms expect more work in the coming seasons as ferries and trains "
         "return to the old port where fishermen once landed herring and cod").split()


def news_page(rng: random.Random, paragraphs: int) -> bytes:
    """A saved news page: the fixture page's chrome around an article of `paragraphs` paragraphs."""
    body = "".join(f"<p>{' '.join(rng.choice(WORDS) for _ in range(rng.randint(30, 70))).capitalize()}.</p>\n"
                   for _ in range(paragraphs))
    start, end = HTML_PAGE.index("<article>"), HTML_PAGE.index("</article>")
    article = f"<article>\n<h1>Harbour plan {rng.randint(1, 999)}</h1>\n{body}"
    return (HTML_PAGE[:start] + article + HTML_PAGE[end:]).encode("utf-8")


def pdf_pages(raw: bytes) -> int:
    import pypdfium2 as pdfium

    with pdfium.PdfDocument(raw) as pdf:
        return len(pdf)


def corpora(quick: bool) -> list[dict]:
    rng = random.Random(7)
    n = 4 if quick else 1
    sets = [
        {"name": "PDF reports (reportlab, 20 pages each, header + footer)", "kind": "pdf",
         "files": [long_pdf(20, seed) for seed in range(10 // n)]},
        {"name": "PDF articles (2 pages, hyphenation, running header)", "kind": "pdf",
         "files": [pdf_article() for _ in range(40 // n)]},
    ]
    real_pdf = sorted(p for p in Path("/usr/share/doc").rglob("*.pdf") if p.is_file())[:10]
    if real_pdf:
        sets.append({"name": "real PDFs from /usr/share/doc", "kind": "pdf",
                     "files": [p.read_bytes() for p in real_pdf]})
    sets.append({"name": "saved news pages (nav, cookie notice, ads, comments; 5-25 paragraphs)", "kind": "html",
                 "files": [news_page(rng, rng.randint(5, 25)) for _ in range(200 // n)]})
    real_html = sorted(p for p in Path("/usr/share/doc").rglob("*.html") if p.is_file())[: 200 // n]
    if real_html:
        sets.append({"name": "real HTML pages from /usr/share/doc (documentation)", "kind": "html",
                     "files": [p.read_bytes() for p in real_html]})
    sets.append({"name": "Word files (python-docx, headings, a table)", "kind": "docx",
                 "files": [docx_report() for _ in range(100 // n)]})
    return sets


def measure(corpus: dict, runs: int = 3) -> dict:
    """Best of `runs` passes (one pass when a pass takes over 10 s) of extraction alone, and of
    extraction + repair + title (`document_from_bytes`)."""
    kind, files = corpus["kind"], corpus["files"]
    pages = sum(pdf_pages(f) for f in files) if kind == "pdf" else len(files)
    best_extract = best_ingest = float("inf")
    refused = chars = 0
    for run in range(runs):
        started = time.perf_counter()
        refused = chars = 0
        for k, raw in enumerate(files):
            try:
                chars += len(document_from_bytes(raw, Path(f"f{k}.{kind}"), f"f{k}").text)
            except IngestError:
                refused += 1
        best_ingest = min(best_ingest, time.perf_counter() - started)
        started = time.perf_counter()
        for raw in files:
            try:
                extract(raw, kind)
            except ExtractError:
                pass
        best_extract = min(best_extract, time.perf_counter() - started)
        if best_ingest > 10:
            break
    mb = sum(map(len, files)) / 1e6
    row = {"corpus": corpus["name"], "kind": kind, "documents": len(files), "refused": refused,
           "megabytes": round(mb, 2), "characters": chars, "runs": run + 1,
           "extract_s": round(best_extract, 3), "ingest_s": round(best_ingest, 3),
           "documents_per_s": round(len(files) / best_ingest, 1), "mb_per_s": round(mb / best_ingest, 2)}
    if kind == "pdf":
        row["pages"] = pages
        row["pages_per_s"] = round(pages / best_ingest, 1)
        row["pages_per_s_extract_only"] = round(pages / best_extract, 1)
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a quarter of the documents")
    args = ap.parse_args()
    rows = []
    for corpus in corpora(args.quick):
        row = measure(corpus)
        rows.append(row)
        rate = f"{row['pages_per_s']} pages/s" if row["kind"] == "pdf" else f"{row['documents_per_s']} documents/s"
        print(f"{row['corpus']}: {row['documents']} files, {rate} "
              f"(extraction + repair, {row['ingest_s']} s; {row['refused']} refused)", flush=True)
    from importlib.metadata import version

    import pypdfium2

    meta = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": platform.machine(),
            "cores": os.cpu_count(), "python": platform.python_version(),
            "libraries": {"pypdfium2": version("pypdfium2"), "pdfium": str(pypdfium2.version.PDFIUM_INFO).split("@")[0],
                          "trafilatura": version("trafilatura"), "python-docx": version("python-docx")},
            "quick": args.quick}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "extract.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2), encoding="utf-8")
    lines = [f"# Extraction speed ({meta['date']})", "",
             f"{meta['machine']}, {meta['cores']} cores, Python {meta['python']}; pypdfium2 "
             f"{meta['libraries']['pypdfium2']} (PDFium {meta['libraries']['pdfium']}), trafilatura "
             f"{meta['libraries']['trafilatura']}, python-docx {meta['libraries']['python-docx']}. "
             "Best of three runs (one when a run takes over 10 s); the cores may be shared with other jobs.", "",
             "| corpus | files | MB | pages | extraction + repair (s) | pages/s | documents/s | MB/s | extraction only (s) | refused |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['corpus']} | {r['documents']} | {r['megabytes']} | {r.get('pages', '—')} | {r['ingest_s']} | "
                     f"{r.get('pages_per_s', '—')} | {r['documents_per_s']} | {r['mb_per_s']} | {r['extract_s']} | "
                     f"{r['refused']} |")
    lines += ["", "`refused`: files skipped with their reason (real HTML: pages with no main text, or with more than "
              "2,000,000 characters of text).", ""]
    (OUT / "extract.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"report: {OUT / 'extract.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
