"""Articles as people keep them: a saved web page, a PDF and a Word file are read (and three broken PDFs
refused with their reason), indexed and answered with verbatim quotes, the PDF's page and the date.
The documents are written by the tests themselves (tests/documents.py)."""
import json
from dataclasses import asdict

import pytest

import qa
from qa.cli import main as cli
from qa.collection import ArticleError
from qa.extract import ExtractError, _dehyphenate, _join_pages, extract_docx, extract_html, extract_pdf
from qa.ingest import MAX_ARTICLE_BYTES, MAX_BYTES, read_folder, too_big
from qa.store import Index

from .documents import HTML_BOILERPLATE, PDF_BOILERPLATE, docx_report, html_page, pdf_article, write_folder

READABLE = {"night-train", "solway-tidal", "fenwick-report"}

# question, document, words the quote must hold, page (PDF only)
QUESTIONS = [
    ("How much does a seat on the night train from Oslo to Hamburg cost?", "night-train", "89 euros", None),
    ("Who rebuilt the sleeper carriages?", "night-train", "Talvik Verksted", None),
    ("Which engineering firm will lead construction of the Solway Tidal Array?", "solway-tidal", "Brannock & Vale", 2),
    ("How many megawatts will the Solway Tidal Array generate?", "solway-tidal", "320 megawatts", 1),
    ("Where were the turbines developed and tested?", "solway-tidal", "developed at a research centre in Glasgow", 1),
    ("How much has Firthstream Energy promised for harbour improvements?", "solway-tidal", "4 million pounds", 2),
    ("How many households are members of the Fenwick Cooperative?", "fenwick-report", "4,812 households", None),
    ("Who did the board elect as treasurer?", "fenwick-report", "Tomasz Wierzbicki", None),
]
# What is tested here is what extraction gives the reader, not when the reader abstains (that is
# calibrated elsewhere): every question is asked with the abstention threshold at 0.
OPEN = {"abstain_threshold": 0.0}
DATES = {"night-train": "2024-03-14", "solway-tidal": "2023-11-07", "fenwick-report": "2024-10-02"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("formats") / "articles"
    write_folder(folder)
    return folder


@pytest.fixture(scope="module")
def built(folder, settings, tmp_path_factory):
    path = tmp_path_factory.mktemp("formats-index") / "index"
    return Index.build(folder, path, settings), path


def test_each_document_is_read_or_refused_with_its_reason(folder):
    corpus = read_folder(folder)
    docs = {d.doc_id: d for d in corpus.documents}
    assert set(docs) == READABLE
    reasons = {k.rsplit("/", 1)[-1]: v for k, v in corpus.skipped.items()}
    assert set(reasons) == {"scanned-letter.pdf", "locked.pdf", "truncated.pdf"}
    assert "no text layer: scanned pages are not read" in reasons["scanned-letter.pdf"]
    assert "encrypted" in reasons["locked.pdf"] and "password" in reasons["locked.pdf"]
    assert "damaged" in reasons["truncated.pdf"] and "truncated" in reasons["truncated.pdf"]
    assert all("\n" not in why and "Traceback" not in why for why in reasons.values())

    page, pdf, word = docs["night-train"], docs["solway-tidal"], docs["fenwick-report"]
    assert (page.kind, page.title, page.author, page.date) == (
        "html", "Night train links Oslo and Hamburg again", "Maya Okafor", "2024-03-14")
    assert (pdf.kind, pdf.title, pdf.author, pdf.date) == (
        "pdf", "Tidal power comes to the Solway Firth", "Iain Rennie", "2023-11-07")
    assert (word.kind, word.title, word.author, word.date) == (
        "docx", "Quarterly report of the Fenwick Cooperative", "Ruth Adeyemi", "2024-10-02")
    for doc in docs.values():
        for word_ in HTML_BOILERPLATE + PDF_BOILERPLATE:
            assert word_ not in doc.text, f"boilerplate {word_!r} in {doc.doc_id}"

    # the PDF: two pages, offsets into the stored text; the hyphenated word joined; lines made paragraphs
    assert pdf.pages == 2 and pdf.page_starts[0] == 0
    assert pdf.text[pdf.page_starts[1]:].startswith("Construction will be led")
    assert pdf.page_at(pdf.text.index("Glasgow")) == 1 and pdf.page_at(pdf.text.index("Brannock")) == 2
    assert "developed at a research centre" in pdf.text and "devel-" not in pdf.text and "\ufffe" not in pdf.text
    assert "once its ninety turbines are installed on the seabed" in pdf.text, "a line break inside a sentence"
    assert pdf.text.startswith("Tidal power comes to the Solway Firth\n\nThe Solway Tidal Array")
    # Word: headings are lines of their own, paragraphs and the table in order
    assert "\n\nMembership\n\nMembership rose to 4,812" in word.text
    assert word.text.index("Quarter | Households") < word.text.index("Tomasz Wierzbicki")
    # the web page: headings kept, the article in order
    assert "\n\nNew carriages from Bergen\n\n" in page.text and page.text.startswith("Night train links")


def test_index_answers_from_each_format_with_page_and_date(built, settings):
    index, path = built
    assert set(index.documents) == READABLE and len(index.manifest["skipped"]) == 3
    for chunk in index.chunks:
        for word in HTML_BOILERPLATE + PDF_BOILERPLATE:
            assert word not in chunk.text, f"boilerplate {word!r} in a chunk of {chunk.doc_id}"
    for question, doc_id, words, page in QUESTIONS:
        ans = qa.answer(question, index=index, settings=settings.with_overrides(**OPEN))
        assert not ans.abstained, question
        c = ans.citations[0]
        assert c.doc_id == doc_id and words in c.quote, (question, c)
        assert qa.document(c.doc_id, index)[c.start:c.end] == c.quote
        assert c.page == page and c.date == DATES[doc_id], (question, c.page, c.date)
        for other in ans.citations + ans.closest:
            doc = index.documents[other.doc_id]
            assert other.page == doc.page_at(other.start) and other.date == doc.date


def test_pages_and_dates_survive_saving_and_old_indexes_still_open(built, settings, tmp_path):
    index, path = built
    again = Index.open(path, settings)
    for doc_id, doc in index.documents.items():
        assert again.documents[doc_id] == doc
    assert again.documents["solway-tidal"].page_starts == index.documents["solway-tidal"].page_starts

    # an index written before documents had a kind, author, date or pages
    import hashlib
    import shutil

    old = tmp_path / "old"
    shutil.copytree(path, old)
    rows = json.loads((old / "documents.json").read_text(encoding="utf-8"))
    for row in rows:
        for key in ("kind", "author", "date", "page_starts"):
            row.pop(key)
    (old / "documents.json").write_text(json.dumps(rows), encoding="utf-8")
    manifest = json.loads((old / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"]["documents.json"] = hashlib.sha256((old / "documents.json").read_bytes()).hexdigest()
    (old / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    opened = Index.open(old, settings)
    assert opened.documents["solway-tidal"].kind == "pdf" and opened.documents["solway-tidal"].pages is None
    ans = qa.answer("Which engineering firm will lead construction of the Solway Tidal Array?", index=opened,
                    settings=settings.with_overrides(**OPEN))
    assert ans.citations[0].page is None and ans.citations[0].date == ""


def test_cli_builds_the_folder_and_prints_page_and_date(folder, settings, tmp_path, capsys):
    path = tmp_path / "cli-index"
    assert cli(["index", "build", str(folder), "--index", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "built: 3 documents" in out
    skipped = [line for line in err.splitlines() if line.startswith("skipped ")]
    assert len(skipped) == 3 and any("no text layer: scanned pages are not read" in line for line in skipped)
    assert "Traceback" not in err
    question = "Which engineering firm will lead construction of the Solway Tidal Array?"
    assert cli(["ask", question, "--index", str(path), "--threshold", "0"]) == 0
    out = capsys.readouterr().out
    assert "(solway-tidal, 2023-11-07, page 2, characters" in out
    assert cli(["ask", question, "--index", str(path), "--json", "--threshold", "0"]) == 0
    top = json.loads(capsys.readouterr().out)["citations"][0]
    assert (top["page"], top["date"], top["doc_id"]) == (2, "2023-11-07", "solway-tidal")


def test_collection_adds_the_new_types_and_refuses_broken_files(collection, tmp_path):
    coll, chosen = collection
    change = coll.add("solway-tidal.pdf", pdf_article())
    assert change.action == "added" and (chosen.seeds_dir / "solway-tidal.pdf").is_file()
    ans = qa.answer("How much has Firthstream Energy promised for harbour improvements?",
                    index=coll.index, settings=chosen.with_overrides(**OPEN))
    c = ans.citations[0]
    assert c.doc_id == "solway-tidal" and c.page == 2 and "4 million pounds" in c.quote and c.date == "2023-11-07"
    assert coll.add("night-train.htm", html_page()).action == "added"
    assert coll.add("fenwick.docx", docx_report()).action == "added"
    assert coll.index.documents["fenwick"].kind == "docx"
    # the same article as a web page replaces the PDF file of that name (set aside, not deleted)
    assert coll.add("solway-tidal.html", html_page().replace(b"Oslo", b"Bergen")).action == "replaced"
    assert not (chosen.seeds_dir / "solway-tidal.pdf").exists()
    assert list((chosen.seeds_dir / ".removed").glob("*solway-tidal.pdf"))
    assert coll.index.documents["solway-tidal"].kind == "html"

    before = sorted(p.name for p in chosen.seeds_dir.iterdir())
    with pytest.raises(ArticleError, match="encrypted"):
        coll.add("locked.pdf", pdf_article(encrypt="secret"))
    with pytest.raises(ArticleError, match="truncated"):
        coll.add("cut.pdf", pdf_article()[:1500])
    with pytest.raises(ArticleError, match="not a readable .docx"):
        coll.add("fake.docx", b"PK\x03\x04 not really a zip")
    with pytest.raises(ArticleError, match="PDFs over 50 MB"):
        coll.add("huge.pdf", b"%PDF-1.4\n" + bytes(MAX_BYTES["pdf"]))
    assert sorted(p.name for p in chosen.seeds_dir.iterdir()) == before


def test_limits_follow_the_type():
    assert too_big("a.txt", MAX_ARTICLE_BYTES + 1) and not too_big("a.pdf", MAX_ARTICLE_BYTES + 1)
    assert not too_big("a.html", 5_000_000) and too_big("a.html", MAX_BYTES["html"] + 1)
    assert "Word files over 20 MB" in too_big("a.docx", MAX_BYTES["docx"] + 1)


def test_extractors_refuse_what_they_cannot_read():
    with pytest.raises(ExtractError, match="no article text"):
        extract_html(b"<html><head><script>var a = 1;</script></head><body><nav>Home</nav></body></html>")
    with pytest.raises(ExtractError, match="binary"):
        extract_html(b"\x00\x01\x02<html>")
    with pytest.raises(ExtractError, match="not a PDF"):
        extract_pdf(b"<html>this is a web page saved as .pdf</html>")
    with pytest.raises(ExtractError, match="encrypted"):
        extract_pdf(pdf_article(encrypt="secret"))
    with pytest.raises(ExtractError, match="encrypted .password-protected. Word file"):
        extract_docx(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))


def test_hyphens_at_line_ends_and_page_joins():
    # joined unless the document writes the word with its hyphen elsewhere
    pages = _dehyphenate(["the devel\ufffeoped plan is long\ufffeterm", "a long-term view; well\x02known"])
    assert pages == ["the developed plan is long-term", "a long-term view; wellknown"]
    texts, joins = _join_pages(["It ran on to the", "next page. Then a new one.", "", "Last page."])
    assert texts[0] == "It ran on to the" and joins == [" ", "", "\n\n"]
    texts, joins = _join_pages(["a word hyphen-", "ated across pages."])
    assert texts[0] + joins[0] + texts[1] == "a word hyphenated across pages."


def test_page_at_maps_offsets_to_pages():
    doc = qa.Document("d", "t", "one\n\ntwo\n\nthree", "d.pdf", "x", kind="pdf", page_starts=(0, 5, 10))
    assert [doc.page_at(k) for k in (0, 4, 5, 9, 10, 14)] == [1, 1, 2, 2, 3, 3]
    assert qa.Document("d", "t", "text", "d.txt", "x").page_at(2) is None


def test_answer_json_carries_page_and_date(built, settings):
    index, _ = built
    ans = qa.answer("How many megawatts will the Solway Tidal Array generate?", index=index,
                    settings=settings.with_overrides(**OPEN))
    row = asdict(ans)["citations"][0]
    assert row["page"] == 1 and row["date"] == "2023-11-07" and "conflicts" in asdict(ans)


def test_a_saved_complete_page_is_one_article(tmp_path):
    """A browser's "save page, complete" writes NAME.html and NAME_files/ (frames, adverts): one article."""
    (tmp_path / "night-train.html").write_bytes(html_page())
    (tmp_path / "night-train_files").mkdir()
    (tmp_path / "night-train_files" / "ad-frame.html").write_text(
        "<html><body><p>" + "Cheap flights to Lisbon from 19 euros, book today! " * 20 + "</p></body></html>")
    (tmp_path / "night-train_files" / "app.js").write_text("var trackingId = 1;")
    (tmp_path / "other_files").mkdir()  # a folder that only looks like one: no other.html beside it
    (tmp_path / "other_files" / "note.txt").write_text("A note about the harbour plan.")
    corpus = read_folder(tmp_path)
    assert sorted(d.doc_id for d in corpus.documents) == ["night-train", "other_files/note"]
    assert not corpus.skipped
