"""The chat page: rendering, the source panel, and a real browser (Debian's Chromium) going through
what a user does: ask, open a source, follow up, hit an abstention, add an article and ask about it."""
from pathlib import Path

import pytest

import qa
from ui.app import article_html, render, source_ref, sources_table
from ui.screenshots import CHROMIUM, serve, tour

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


def test_sources_table_lists_language_and_chunks(seed_index):
    rows = {r[0]: r for r in sources_table(seed_index)}
    assert rows["001_8c6e1202c8561c30"][2] == "id" and rows["000_b010cb9e285ec495"][2] == "en"
    assert sum(r[3] for r in rows.values()) == len(seed_index.chunks)


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
    assert "Twingo" in seen["answer"] and "[1] " in seen["answer"]
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
    follow = client.predict(question="How much will it cost?", history=["Which car is Nissan basing on the Twingo?"],
                            api_name="/answer")
    assert "Twingo" in follow["read_as"] and "20,000" in follow["text"]
    assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == {"/answer"}
