"""Real-world documents written by the tests themselves: a saved news page with navigation, a cookie
notice, comments and scripts around the article; a two-page PDF with a running header, page-number
footers and a word hyphenated at a line end; a Word file with headings; and three PDFs that must be
refused (image-only "scanned" pages, a password, a truncated file). Used by tests/test_formats.py, the
browser test and bench/extract.py."""
from __future__ import annotations

import io
import os
from datetime import datetime, timezone
from pathlib import Path
from unittest import mock

# Words that only the page's boilerplate holds: none of them may reach a chunk.
HTML_BOILERPLATE = ["We use cookies", "Accept all cookies", "Subscribe for 1 euro", "All rights reserved",
                    "Cheap flights to Lisbon", "trackingId", "Great article, thanks", "Most read"]
PDF_BOILERPLATE = ["HARBOUR GAZETTE", "Energy Supplement", "Page 1 of 2", "Page 2 of 2"]

HTML_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Night train links Oslo and Hamburg again | The Northern Ledger</title>
<meta name="author" content="Maya Okafor">
<meta property="og:title" content="Night train links Oslo and Hamburg again">
<meta property="og:type" content="article">
<meta property="article:published_time" content="2024-03-14T08:00:00+01:00">
<meta name="description" content="Lindqvist Rail restarts the sleeper service.">
<script>var trackingId = 'UA-000000-1'; window.dataLayer = [];</script>
<style>body { font-family: serif; } .cookie { position: fixed; }</style>
</head>
<body>
<div class="cookie-banner" id="cookie-notice">
  <p>We use cookies to improve your experience and to show you personalised adverts.</p>
  <button>Accept all cookies</button> <button>Manage settings</button>
</div>
<header class="site-header">
  <a href="/">The Northern Ledger</a>
  <nav><ul><li><a href="/world">World</a></li><li><a href="/business">Business</a></li>
  <li><a href="/travel">Travel</a></li><li><a href="/subscribe">Subscribe for 1 euro</a></li></ul></nav>
</header>
<main>
<article>
  <h1>Night train links Oslo and Hamburg again</h1>
  <p class="byline">By Maya Okafor, 14 March 2024</p>
  <p>Lindqvist Rail will restart the night train between Oslo and Hamburg this summer, the operator
  said on Thursday. The first train leaves Oslo Central Station on 2 June and reaches Hamburg the
  next morning after a journey of about fourteen hours.</p>
  <p>Tickets for a seat start at 89 euros, while a bed in a shared sleeping compartment costs from
  149 euros. The operator expects to carry around 60,000 passengers in the first year.</p>
  <h2>New carriages from Bergen</h2>
  <p>The twelve sleeper carriages were rebuilt by the workshop Talvik Verksted in Bergen, which
  replaced the interiors and fitted every compartment with its own washbasin. Lindqvist Rail said
  the refurbishment cost 31 million euros, shared with the Norwegian transport ministry.</p>
  <p>The service was suspended in 2020 when the previous operator withdrew from the route. Climate
  groups had campaigned for its return as an alternative to short flights between the two cities.</p>
</article>
<aside class="advert"><p>Advertisement: Cheap flights to Lisbon from 19 euros, book today!</p></aside>
<section id="comments" class="comments">
  <h3>Comments (2)</h3>
  <div class="comment"><p>Great article, thanks! I took this train in 2019 and loved it.</p></div>
  <div class="comment"><p>Finally. Now do Stockholm to Berlin please.</p></div>
</section>
<aside class="most-read"><h3>Most read</h3><ul><li><a href="/a">Ferry strike ends</a></li>
<li><a href="/b">Bridge toll rises</a></li></ul></aside>
</main>
<footer><p>&copy; 2024 The Northern Ledger. All rights reserved.</p>
<p><a href="/privacy">Privacy policy</a> | <a href="/contact">Contact us</a></p></footer>
<script src="app.js"></script>
<script>document.querySelector('.cookie-banner').hidden = false;</script>
</body>
</html>
"""

# The PDF's article, line by line as typeset; the line ending in "devel-" is hyphenated at its end.
PDF_PAGE_1 = [
    ("h", "Tidal power comes to the Solway Firth"),
    ("p", "The Solway Tidal Array will generate 320 megawatts once its ninety turbines are"),
    ("p", "installed on the seabed between Scotland and England, the developer Firthstream"),
    ("p", "Energy said on Tuesday. The array is expected to supply electricity to around"),
    ("p", "250,000 homes."),
    ("", ""),
    ("p", "The turbines were devel-"),
    ("p", "oped at a research centre in Glasgow and tested for two winters in the Pentland"),
    ("p", "Firth before the design was approved."),
]
PDF_PAGE_2 = [
    ("p", "Construction will be led by the engineering firm Brannock & Vale, which won the"),
    ("p", "contract against three rivals. Work at sea starts next spring, and the array should"),
    ("p", "be completed in 2029."),
    ("", ""),
    ("p", "Local fishermen have asked for a compensation fund, and Firthstream Energy has"),
    ("p", "promised 4 million pounds for harbour improvements in Annan and Maryport."),
]
PDF_DATE = datetime(2023, 11, 7, 9, 30, tzinfo=timezone.utc)


def html_page() -> bytes:
    return HTML_PAGE.encode("utf-8")


def _canvas(buffer, title: str, author: str, when: datetime, **kw):
    from reportlab.pdfgen import canvas

    # reportlab stamps CreationDate from SOURCE_DATE_EPOCH when set: the article's date, reproducibly
    with mock.patch.dict(os.environ, {"SOURCE_DATE_EPOCH": str(int(when.timestamp()))}):
        c = canvas.Canvas(buffer, pagesize=(595, 842), **kw)
    c.setTitle(title)
    c.setAuthor(author)
    return c


def _typeset(c, page: list[tuple[str, str]], number: int, total: int) -> None:
    c.setFont("Helvetica-Bold", 9)
    c.drawString(56, 800, "THE HARBOUR GAZETTE \u00b7 Energy Supplement")  # running header
    y = 760
    for kind, line in page:
        if not kind:
            y -= 10  # paragraph gap
            continue
        c.setFont("Helvetica-Bold" if kind == "h" else "Times-Roman", 16 if kind == "h" else 11)
        c.drawString(56, y, line)
        y -= 26 if kind == "h" else 14
    c.setFont("Helvetica", 8)
    c.drawCentredString(297, 40, f"Page {number} of {total}")  # footer
    c.showPage()


def pdf_article(encrypt: str | None = None) -> bytes:
    """The two-page article; with `encrypt`, it opens only with that password."""
    buffer = io.BytesIO()
    c = _canvas(buffer, "Tidal power comes to the Solway Firth", "Iain Rennie", PDF_DATE, encrypt=encrypt)
    _typeset(c, PDF_PAGE_1, 1, 2)
    _typeset(c, PDF_PAGE_2, 2, 2)
    c.save()
    return buffer.getvalue()


def long_pdf(pages: int, seed: int = 0) -> bytes:
    """A report of `pages` pages of running text with header and footer (for the benchmark)."""
    import random

    rng = random.Random(seed)
    words = ("the council said that its new harbour plan would cost about twelve million pounds and "
             "take three years to build while local firms expect more work in the coming seasons").split()
    buffer = io.BytesIO()
    c = _canvas(buffer, f"Report {seed}", "Bench", PDF_DATE)
    for n in range(1, pages + 1):
        c.setFont("Helvetica-Bold", 9)
        c.drawString(56, 800, "COUNCIL REPORT \u00b7 Harbour plan")
        c.setFont("Times-Roman", 11)
        y = 760
        while y > 80:
            c.drawString(56, y, " ".join(rng.choice(words) for _ in range(14)).capitalize() + ".")
            y -= 14
        c.setFont("Helvetica", 8)
        c.drawCentredString(297, 40, f"Page {n} of {pages}")
        c.showPage()
    c.save()
    return buffer.getvalue()


def scanned_pdf() -> bytes:
    """A page that is only a picture of a page (as a scanner makes it): no text layer at all."""
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader

    picture = Image.new("L", (600, 800), 245)
    draw = ImageDraw.Draw(picture)
    for y in range(80, 740, 22):  # grey bars where the lines of print would be
        draw.rectangle([60, y, 540 - (y * 7) % 90, y + 9], fill=40)
    buffer = io.BytesIO()
    c = _canvas(buffer, "Scanned letter", "Scanner", PDF_DATE)
    c.drawImage(ImageReader(picture), 0, 0, width=595, height=842)
    c.showPage()
    c.save()
    return buffer.getvalue()


def docx_report() -> bytes:
    from docx import Document

    doc = Document()
    doc.core_properties.title = "Quarterly report of the Fenwick Cooperative"
    doc.core_properties.author = "Ruth Adeyemi"
    doc.core_properties.created = datetime(2024, 10, 2, 12, 0, tzinfo=timezone.utc)
    doc.add_heading("Quarterly report of the Fenwick Cooperative", level=1)
    doc.add_heading("Membership", level=2)
    doc.add_paragraph("Membership rose to 4,812 households in the third quarter, up from 4,530 in June. "
                      "Most new members joined through the tenants' association in Ashby.")
    doc.add_heading("Energy", level=2)
    doc.add_paragraph("The cooperative's solar roof on the Ashby depot produced 1.2 gigawatt hours, "
                      "enough to cover the depot and the bakery next door.")
    table = doc.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Quarter", "Households"
    table.cell(1, 0).text, table.cell(1, 1).text = "Q3", "4,812"
    doc.add_paragraph("The board elected Tomasz Wierzbicki as its new treasurer.")
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def write_folder(folder: Path) -> dict[str, Path]:
    """The test folder: three readable documents and three PDFs that must be refused."""
    folder.mkdir(parents=True, exist_ok=True)
    article = pdf_article()
    files = {
        "night-train.html": html_page(),
        "solway-tidal.pdf": article,
        "fenwick-report.docx": docx_report(),
        "scanned-letter.pdf": scanned_pdf(),
        "locked.pdf": pdf_article(encrypt="secret"),
        "truncated.pdf": article[: len(article) * 6 // 10],
    }
    paths = {}
    for name, data in files.items():
        paths[name] = folder / name
        paths[name].write_bytes(data)
    return paths
