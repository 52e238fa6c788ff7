"""The chat page: rendering, the source panel, and a real browser (Debian's Chromium) going through
what a user does: ask, open a source, follow up, hit an abstention, add an article and ask about it."""
from pathlib import Path

import pytest

import qa
from ui.app import SOURCE_COLUMNS, article_html, render, source_ref, sources_table
from ui.screenshots import CHROMIUM, ask, browser_page, open_source, serve, tour

from .documents import html_page, pdf_article

needs_browser = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (make test installs it)")


def test_render_marks_the_answer_and_numbers_the_sources(seed_index, settings):
    html = render(qa.answer("Who is the CEO of Renault Group?", index=seed_index, settings=settings))
    assert html.startswith("<p><b>Luca de Meo</b> <small>(confidence ")
    assert "<mark>Luca de Meo</mark>" in html and "<blockquote>" in html
    assert '<a class="cite" href="#src=' in html and "[1] " in html and "characters" in html


def test_render_escapes_html_and_markdown_from_articles():
    quote = "a <b>bold</b> claim\n\n[link](http://x) ![img](y)"
    c = qa.Citation("d", "<script>x</script>", quote, 0, len(quote), 1.0, 2, 5)
    html = render(qa.Answer("q", "<b>", False, [c]))
    assert "<script>" not in html and "<b>bold" not in html
    assert "<mark>&lt;b&gt;</mark>bold&lt;/b&gt; claim" in html and "&lt;script&gt;" in html
    assert "\n" not in html, "a blank line would end the HTML block and let Markdown through"


def test_abstention_shows_the_closest_passages_marked_as_such(seed_index, settings):
    ans = qa.answer("What is the top speed of the Dacia Spring in Antarctica?", index=seed_index, settings=settings)
    html = render(ans)
    assert ans.abstained and ans.closest
    assert html.startswith("<p><b>The articles do not say.</b></p>")
    assert "they do not answer the question" in html and 'class="closest"' in html
    # what the reader found and why it is no answer (a price for a top speed), after the refusal
    assert html.index("does not answer this: the question asks for the top speed") > html.index("do not say")


def test_follow_up_reading_is_shown():
    html = render(qa.Answer("How much?", "€1", False, [], read_as="How much? (Twingo)"))
    assert "Read as a follow-up: “How much? (Twingo)”" in html


def test_source_panel_highlights_the_quote_and_escapes_the_article(seed_index):
    doc = next(iter(seed_index.documents.values()))
    c = qa.Citation(doc.doc_id, doc.title, doc.text[10:40], 10, 40, 1.0)
    panel = article_html(seed_index, source_ref(c)[len("#src="):])
    assert f'<mark id="quote">{doc.text[10:40]}</mark>' in panel
    assert "no longer in the collection" in article_html(seed_index, "../../etc/passwd|0|10")
    assert "no longer in the collection" in article_html(seed_index, "garbage")


def test_sources_table_lists_type_pages_date_language_and_chunks(seed_index):
    assert SOURCE_COLUMNS == ["id", "title", "type", "pages", "date", "language", "chunks"]
    rows = {r[0]: dict(zip(SOURCE_COLUMNS, r)) for r in sources_table(seed_index)}
    assert rows["001_8c6e1202c8561c30"]["language"] == "id" and rows["000_b010cb9e285ec495"]["language"] == "en"
    assert rows["000_b010cb9e285ec495"]["type"] == "txt" and rows["000_b010cb9e285ec495"]["pages"] == ""
    assert sum(r["chunks"] for r in rows.values()) == len(seed_index.chunks)


def _conflicting_answer():
    """A hand-built answer whose sources disagree: the main one (2023) and two others (2024, no date)."""
    def cite(doc_id, title, quote, start, answer, **kw):
        at = start + quote.index(answer)
        return qa.Citation(doc_id, title, quote, start, start + len(quote), 1.0, at, at + len(answer), **kw)

    main = cite("a", "Old report", "The plant will employ 500 people.", 0, "500", date="2023-05-02")
    newer = cite("b", "New report", "Now the plant will employ 640 people.", 10, "640", page=2, page_end=2,
                 date="2024-01-15")
    undated = cite("c", "Blog <post>", "It said 550 jobs.", 0, "550")
    assert newer.answer_text == "640"
    return qa.Answer("How many people will the plant employ?", "500", False, [main], 0.7, conflicts=[undated, newer])


def test_render_shows_disagreeing_sources_newest_first():
    html = render(_conflicting_answer())
    assert "Sources disagree" in html
    block = html[html.index("Sources disagree"):]
    assert block.index("640") < block.index("500") < block.index("550"), "newest first, undated last"
    assert "2024-01-15 · page 2" in block and "2023-05-02" in block and "date unknown" in block
    assert "(the answer above)" in block and "Blog &lt;post&gt;" in block and "<post>" not in block
    assert block.count('class="cite"') == 3, "each disagreeing source opens in the side panel"
    assert "Sources disagree" not in render(qa.Answer("q", "500", False, _conflicting_answer().citations))


def test_cli_shows_disagreeing_sources(monkeypatch, capsys):
    import qa.api
    import qa.cli

    monkeypatch.setattr(qa.api, "answer", lambda *a, **k: _conflicting_answer())
    monkeypatch.setattr(qa.cli, "_open", lambda *a: None)
    assert qa.cli.main(["ask", "How many people will the plant employ?"]) == 0
    out = capsys.readouterr().out
    lines = out[out.index("Sources disagree"):].splitlines()[1:4]
    assert [line.split()[0] for line in lines] == ["2024-01-15", "2023-05-02", "date"]
    assert "640" in lines[0] and "page 2" in lines[0] and "(the answer above)" in lines[1] and "550" in lines[2]


def test_source_panel_shows_pages_date_and_the_quote_across_a_page_break():
    doc = qa.Document("r", "Report", "Page one text.\n\nPage two text.", "r.pdf", "x", kind="pdf",
                      date="2023-11-07", author="I. Rennie", page_starts=(0, 16))
    index = type("Idx", (), {"documents": {"r": doc}})()
    panel = article_html(index, "r|5|25")
    assert "PDF, 2 pages" in panel and "2023-11-07" in panel and "I. Rennie" in panel
    assert "quote on page 1, characters 5–25" in panel
    assert '<span class="page-no">page 1</span>' in panel and '<span class="page-no">page 2</span>' in panel
    assert '<mark id="quote">one text.<br><br></mark><span class="page-no">page 2</span><mark>Page two </mark>' in panel


def test_chat_page_serves_on_loopback_by_default():
    import inspect

    from qa.cli import parser
    from ui.app import launch

    assert inspect.signature(launch).parameters["host"].default == "127.0.0.1"
    assert parser().parse_args(["chat"]).host == "127.0.0.1"


@pytest.fixture()
def served(collection, tmp_path):
    """The page over a private copy of the seed articles and their index (uploads land there)."""
    coll, chosen = collection
    with serve(coll, chosen) as url:
        yield url, coll, tmp_path


@needs_browser
def test_browser_tour(served):
    url, collection, tmp = served
    seen = tour(url, tmp / "screenshots", tmp)
    assert seen["answer"].startswith("Twingo") and "[1] " in seen["answer"]
    assert "Twingo" in seen["source"], "the side panel shows the cited article with the quote highlighted"
    assert "Read as a follow-up" in seen["followup"] and "20,000" in seen["followup"]
    assert seen["abstain"].startswith("The articles do not say.") and "do not answer the question" in seen["abstain"]
    assert "Added: Kestrel Motors" in seen["upload"]
    assert "640 people" in seen["uploaded_answer"]
    assert "kestrel-battery-plant" in collection.index.documents
    assert (tmp / "articles" / "kestrel-battery-plant.txt").is_file()
    assert len(list((tmp / "screenshots").glob("*.png"))) == 6


def test_gradio_client_reaches_the_same_answer_function(served):
    from gradio_client import Client

    url, _, _ = served
    client = Client(url, verbose=False)
    result = client.predict(question="Who is the CEO of Renault Group?", api_name="/answer")
    assert result["text"] == "Luca de Meo" and not result["abstained"]
    c = result["citations"][0]
    assert qa.document(c["doc_id"], index=served[1].index)[c["start"]:c["end"]] == c["quote"]
    follow = client.predict(question="How much will it cost?",
                            history=["Which car will Nissan launch its own version of?"], api_name="/answer")
    assert "Nissan launch version" in follow["read_as"] and "20,000" in follow["text"]
    assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == {"/answer"}


@needs_browser
def test_browser_uploads_a_pdf_and_a_web_page_and_answers_from_each(served):
    url, collection, tmp = served
    pdf, page = tmp / "solway-tidal.pdf", tmp / "night-train.html"
    pdf.write_bytes(pdf_article())
    page.write_bytes(html_page())
    with browser_page(url) as browser:
        browser.get_by_role("tab", name="Articles").click()
        browser.locator("#upload input[type='file']").set_input_files([str(pdf), str(page)])
        browser.get_by_role("button", name="Add files").click()
        status = browser.locator("#articles-status")
        status.get_by_text("night-train").wait_for(timeout=90_000)
        assert "Tidal power comes to the Solway Firth" in status.inner_text()
        assert "Night train links Oslo and Hamburg again" in status.inner_text()
        table = browser.locator("#sources").inner_text()
        assert "pdf" in table and "2023-11-07" in table and "html" in table and "2024-03-14" in table

        reply = ask(browser, "How much has Firthstream Energy promised for harbour improvements?")
        reply.locator("mark").first.wait_for(timeout=90_000)
        text = reply.inner_text()
        assert "4 million pounds" in text and "2023-11-07 · page 2" in text
        panel = open_source(browser, reply)
        assert "4 million pounds" in panel.inner_text()
        header = browser.locator("#source-view").inner_text()
        assert "quote on page 2" in header and "PDF, 2 pages" in header

        reply = ask(browser, "Who rebuilt the sleeper carriages?")
        reply.locator("mark").first.wait_for(timeout=90_000)
        text = reply.inner_text()
        assert "Talvik Verksted" in text and "2024-03-14" in text
    assert {"solway-tidal", "night-train"} <= set(collection.index.documents)
    assert (tmp / "articles" / "solway-tidal.pdf").is_file() and (tmp / "articles" / "night-train.html").is_file()
