"""The chat page: rendering, and a real browser asking a question on a served page."""
import shutil
import socket
from pathlib import Path

import pytest

import qa
from ui.app import THEME, build, render

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def test_render_marks_the_answer_inside_the_quote(seed_index, settings):
    md = render(qa.answer("Who is the CEO of Renault Group?", index=seed_index, settings=settings))
    assert md.startswith("<p><b>Luca de Meo</b> <small>(confidence ")
    assert "<mark>Luca de Meo</mark>" in md and "<blockquote>" in md
    assert "Source: <b>" in md and "characters" in md


def test_render_escapes_html_and_markdown_from_articles():
    quote = "a <b>bold</b> claim\n\n[link](http://x) ![img](y)"
    c = qa.Citation("d", "<script>x</script>", quote, 0, len(quote), 1.0, 2, 5)
    md = render(qa.Answer("q", "<b>", False, [c]))
    assert "<script>" not in md and "<b>bold" not in md
    assert "<mark>&lt;b&gt;</mark>bold&lt;/b&gt; claim" in md and "&lt;script&gt;" in md
    assert "\n" not in md, "a blank line would end the HTML block and let Markdown through"


def test_chat_page_serves_on_loopback_by_default():
    import inspect

    from ui.app import launch

    assert inspect.signature(launch).parameters["host"].default == "127.0.0.1"
    from qa.cli import parser

    assert parser().parse_args(["chat"]).host == "127.0.0.1"


def test_render_abstention():
    assert "The articles do not say." in render(qa.Answer("q", "", True, [], 0.0, "The articles do not say."))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(seed_index, settings):
    demo = build(settings, seed_index)
    port = _free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                        theme=THEME)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (make test installs it)")
def test_browser_asks_and_sees_a_highlighted_quote(served, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page()
        page.goto(served)
        box = page.get_by_role("textbox").first
        box.fill("How much will the Dacia version cost?")
        box.press("Enter")
        mark = page.locator("mark", has_text="€18,000")
        mark.wait_for(timeout=60_000)
        bot = page.locator(".bot, [data-testid='bot']").last
        assert "Source:" in bot.inner_text()
        page.screenshot(path=str(tmp_path / "chat.png"), full_page=True)
        box.fill("What is the top speed of the Dacia Spring in Antarctica?")
        box.press("Enter")
        page.get_by_text("The articles do not say.").first.wait_for(timeout=60_000)
        browser.close()
