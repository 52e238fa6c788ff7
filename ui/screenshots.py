"""Drive the chat page in headless Chromium through the states a user sees, saving a screenshot of
each: `python -m ui.screenshots` regenerates ui/screenshots/ (the browser tests use the same steps)."""
from __future__ import annotations

import shutil
import socket
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]
OUT = Path(__file__).resolve().parent / "screenshots"
WAIT_MS = 90_000

NEW_ARTICLE = ("Kestrel Motors opens a battery plant in Tampere\n\n"
               "Kestrel Motors said on Monday that its new battery plant in Tampere will employ 640 people. "
               "The plant cost 410 million euros and will supply the Kestrel Vireo hatchback from 2027.\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(collection, settings, auth=None):
    """The chat page over `collection` on a free loopback port; yields its URL."""
    from ui.app import LAUNCH, QUEUE, build

    demo = build(settings, collection=collection)
    port = free_port()
    demo.queue(**QUEUE).launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                               auth=auth, **LAUNCH)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@contextmanager
def browser_page(url: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.get_by_placeholder("Type a question and press Enter").wait_for(timeout=WAIT_MS)
        try:
            yield page
        finally:
            browser.close()


def ask(page, question: str):
    """Ask in the chat box and return the locator of the new reply."""
    bots = page.locator("#chat [data-testid='bot']")
    before = bots.count()
    box = page.get_by_placeholder("Type a question and press Enter")
    box.fill(question)
    box.press("Enter")
    reply = bots.nth(before)
    reply.wait_for(timeout=WAIT_MS)
    return reply


def open_source(page, reply, n: int = 1):
    """Click the reply's [n] source and return the side panel's highlighted quote."""
    reply.locator("a.cite").nth(n - 1).click()
    page.get_by_role("tab", name="Source").click()
    mark = page.locator("#source-view mark")
    mark.wait_for(timeout=WAIT_MS)
    return mark


def add_article(page, path: Path) -> str:
    """Upload a file in the Articles tab; returns the status message."""
    page.get_by_role("tab", name="Articles").click()
    page.locator("#upload input[type='file']").set_input_files(str(path))
    page.get_by_role("button", name="Add files").click()
    status = page.locator("#articles-status")
    status.get_by_text(path.stem).wait_for(timeout=WAIT_MS)
    return status.inner_text()


def tour(url: str, out: Path, workdir: Path) -> dict[str, str]:
    """Every state the browser tests check, with a screenshot of each; returns what was seen."""
    out.mkdir(parents=True, exist_ok=True)
    seen = {}
    with browser_page(url) as page:
        reply = ask(page, "Which car will Nissan launch its own version of?")
        reply.locator("mark").first.wait_for(timeout=WAIT_MS)
        seen["answer"] = reply.inner_text()
        page.screenshot(path=str(out / "1-answer.png"))
        seen["source"] = open_source(page, reply).inner_text()
        page.screenshot(path=str(out / "2-source-panel.png"))
        reply = ask(page, "How much will it cost?")
        reply.locator("mark").first.wait_for(timeout=WAIT_MS)
        seen["followup"] = reply.inner_text()
        page.screenshot(path=str(out / "3-follow-up.png"))
        reply = ask(page, "What is the top speed of the Dacia Spring in Antarctica?")
        seen["abstain"] = reply.inner_text()
        page.screenshot(path=str(out / "4-abstention.png"))
        article = workdir / "kestrel-battery-plant.txt"
        article.write_text(NEW_ARTICLE, encoding="utf-8")
        seen["upload"] = add_article(page, article)
        page.screenshot(path=str(out / "5-articles-panel.png"))
        reply = ask(page, "How many people will the Tampere battery plant employ?")
        reply.locator("mark").first.wait_for(timeout=WAIT_MS)
        seen["uploaded_answer"] = reply.inner_text()
        page.screenshot(path=str(out / "6-answer-from-upload.png"))
    return seen


def private_collection(base, tmp: Path):
    """(a Collection over copies of `base`'s articles and index made in `tmp`, its settings): a page
    that uploads and removals may change without touching the originals. The index is built if missing."""
    from qa.api import open_or_build
    from qa.collection import Collection

    shutil.copytree(base.seeds_dir, tmp / "articles")
    if (Path(base.index_dir) / "manifest.json").is_file():
        shutil.copytree(base.index_dir, tmp / "index")
    settings = base.with_overrides(seeds_dir=tmp / "articles", index_dir=tmp / "index")
    index = open_or_build(settings.seeds_dir, settings.index_dir, settings)
    return Collection(settings.seeds_dir, index, settings.index_dir), settings


def main() -> int:
    """Serve a private copy of the seed articles and index, and screenshot every state."""
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from qa.settings import from_env

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        collection, settings = private_collection(from_env(), tmp)
        with serve(collection, settings) as url:
            seen = tour(url, OUT, tmp)
    for state, text in seen.items():
        print(f"--- {state}\n{text[:300]}")
    print(f"screenshots in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
