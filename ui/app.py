"""The chat page: ask about the articles, get the short answer, the highlighted quote and its numbered
sources; click a source to read the article at that place; add and remove articles."""
from __future__ import annotations

import html
import os
from dataclasses import asdict
from pathlib import Path
from urllib.parse import quote as url_quote
from urllib.parse import unquote

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # else launch() looks up remote hosts

import gradio as gr  # noqa: E402

import qa  # noqa: E402
from qa.collection import ArticleError, Collection, name_for_title
from qa.api import answers_by_date  # noqa: E402
from qa.ingest import MAX_BYTES, MAX_FILE_BYTES, SUFFIXES, too_big  # noqa: E402
from qa.language import language  # noqa: E402
from qa.settings import Settings, from_env  # noqa: E402
from qa.store import Index  # noqa: E402
from qa.types import Answer, Citation  # noqa: E402

# System fonts only: the default theme would fetch web fonts from the internet.
THEME = gr.themes.Default(font=["system-ui", "Segoe UI", "Roboto", "sans-serif"],
                          font_mono=["ui-monospace", "Menlo", "Consolas", "monospace"])
MAX_FILES_PER_UPLOAD = 20
MAX_UPLOAD_BYTES = 100_000_000  # all the files of one upload together
KIND_NAMES = {"txt": "text", "md": "Markdown", "html": "web page", "pdf": "PDF", "docx": "Word"}
SOURCE_REF = "#src="  # citation links: #src=<doc id>|<start>|<end>, opened in the side panel

EXAMPLES = [
    "Who is the CEO of Renault Group?",
    "Which car will Nissan launch its own version of?",
    "How much will it cost?",
    "Siapa bos baru Nissan?",
    "When could Ampère be floated on the stock market?",
]

CSS = """
#source-view .article { white-space: pre-wrap; max-height: 68vh; overflow-y: auto; line-height: 1.5;
  padding: 0.5em 0.75em; border: 1px solid var(--border-color-primary); border-radius: 6px; }
#source-view mark, #chat mark { background: #ffe27a; color: inherit; padding: 0 1px; }
#chat blockquote { margin: 0.4em 0; padding-left: 0.75em; border-left: 3px solid #c9a400; }
#chat blockquote.closest { border-left-color: #9aa3ad; color: var(--body-text-color-subdued); }
#chat .reading { color: var(--body-text-color-subdued); }
#chat .disagree li { margin: 0.15em 0; }
#source-view .page-no { display: block; margin: 0.6em 0 0.3em; border-top: 1px dashed var(--border-color-primary);
  color: var(--body-text-color-subdued); font-size: 0.85em; }
"""

# Installed once by the side panel: a click on a citation link asks the server for the article and
# shows it, scrolled to the highlighted quote. The reply HTML itself carries no script.
VIEWER_JS = """
if (!window.__qaSourceClicks) {
  window.__qaSourceClicks = true;
  document.addEventListener('click', async (event) => {
    const link = event.target.closest('a[href^="%s"]');
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    props.value = await server.open_source(link.getAttribute('href').slice(%d));
    setTimeout(() => {
      const mark = element.querySelector('mark');
      if (mark) mark.scrollIntoView({block: 'center'});
    }, 60);
  }, true);
}
""" % (SOURCE_REF, len(SOURCE_REF))

QUEUE = {"default_concurrency_limit": 2}  # two questions at a time: this machine has two cores
LAUNCH = {"theme": THEME, "css": CSS, "max_file_size": MAX_FILE_BYTES}  # launch() options for every server

UPLOAD_LABEL = (f"Upload .txt, .md, .html, .pdf, .docx (up to {MAX_FILES_PER_UPLOAD} files, "
                f"{MAX_UPLOAD_BYTES // 1_000_000} MB in all; each at most "
                + ", ".join(f"{MAX_BYTES[k] // 1_000_000} MB {n}" for k, n in
                            (("txt", "text"), ("html", "page"), ("docx", "Word"), ("pdf", "PDF"))) + ")")
VIEWER_EMPTY = "<p><i>Click a numbered source in an answer to read the article here.</i></p>"


# ---- rendering -----------------------------------------------------------------------------
def _escape(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


def source_ref(c: Citation) -> str:
    return f"{SOURCE_REF}{url_quote(c.doc_id, safe='')}|{c.start}|{c.end}"


def quote_html(c: Citation, css: str = "") -> str:
    """The verbatim quote, HTML-escaped, with the short answer wrapped in <mark>."""
    if c.start <= c.answer_start < c.answer_end <= c.end:
        a, b = c.answer_start - c.start, c.answer_end - c.start
        inner = _escape(c.quote[:a]) + "<mark>" + _escape(c.quote[a:b]) + "</mark>" + _escape(c.quote[b:])
    else:
        inner = _escape(c.quote)
    cls = f' class="{css}"' if css else ""
    return f"<blockquote{cls}>{inner}</blockquote>"


def page_label(c: Citation) -> str:
    """'page 2', 'pages 2–3' or '' for a source without pages."""
    if c.page is None:
        return ""
    if c.page_end is not None and c.page_end != c.page:
        return f"pages {c.page}–{c.page_end}"
    return f"page {c.page}"


def source_line(n: int, c: Citation) -> str:
    """[n] Title · date · page · characters a–b, linked to the side panel."""
    where = " · ".join(x for x in (html.escape(c.date), page_label(c)) if x)
    return (f'<p><small><a class="cite" href="{html.escape(source_ref(c))}">[{n}] {html.escape(c.title)}</a>'
            f" · <code>{html.escape(c.doc_id)}</code>{' · ' + where if where else ''}"
            f" · characters {c.start}–{c.end}</small></p>")


def disagreement_html(ans: Answer, first: int) -> str:
    """'Sources disagree:' each answer with its source and date, newest first; the sources are
    numbered on from `first`, linked to the side panel like the others."""
    items = []
    for n, (text, c, main) in enumerate(answers_by_date(ans), first):
        where = " · ".join(x for x in (page_label(c),) if x)
        items.append(f"<li><b>{html.escape(text)}</b>{' (the answer above)' if main else ''} — "
                     f'<a class="cite" href="{html.escape(source_ref(c))}">[{n}] {html.escape(c.title)}</a>'
                     f" · {html.escape(c.date) if c.date else 'date unknown'}{' · ' + where if where else ''}</li>")
    return ('<div class="disagree"><p><b>Sources disagree</b> <small>(newest first):</small></p><ul>'
            + "".join(items) + "</ul></div>")


def render(ans: Answer) -> str:
    """An answer as chat HTML: how the question was read, the bold short answer, the quote with the
    answer marked and one numbered source per agreeing article. Article text is always escaped, and
    line breaks become <br>, so nothing from an article is run or read as Markdown."""
    parts = []
    notice = f'<p class="reading"><small>{html.escape(ans.notice)}</small></p>' if ans.notice else ""
    if not ans.abstained:
        parts.append(notice)
    if ans.read_as:
        parts.append(f'<p class="reading"><small>Read as a follow-up: “{html.escape(ans.read_as)}”</small></p>')
    if ans.abstained:  # "The articles do not say." first, then what was found and why it does not answer
        parts += [f"<p><b>{html.escape(ans.message)}</b></p>", notice]
        if ans.closest:
            parts.append("<p><small>The closest passages found — they do not answer the question:</small></p>")
            for n, c in enumerate(ans.closest, 1):
                parts += [quote_html(c, "closest"), source_line(n, c)]
        return "".join(parts)
    agree = len(ans.citations)
    note = f" · {agree} sources agree" if agree > 1 else ""
    parts.append(f"<p><b>{html.escape(ans.text)}</b> <small>(confidence {ans.score:.0%}{note})</small></p>")
    for n, c in enumerate(ans.citations, 1):
        parts += [quote_html(c), source_line(n, c)]
    if ans.conflicts:
        parts.append(disagreement_html(ans, len(ans.citations) + 1))
    return "".join(parts)


def article_html(index: Index, ref: str) -> str:
    """The side panel: a whole article, escaped, with [start, end) highlighted. `ref` comes from the
    browser, so it only ever names a document of the index; nothing is read from disk."""
    try:
        doc_id, start, end = ref.rsplit("|", 2)
        doc = index.documents[unquote(doc_id)]
        start, end = int(start), int(end)
    except (ValueError, KeyError):
        return "<p><b>That source is no longer in the collection.</b></p>"
    start, end = max(0, min(start, len(doc.text))), max(0, min(end, len(doc.text)))
    # cut the text where the quote starts and ends and where each page begins; a quote that runs on to
    # the next page is marked on both
    cuts = sorted({0, start, end, len(doc.text), *doc.page_starts})
    body, marked = [], False
    for a, b in zip(cuts, cuts[1:] + [None]):
        for page in (k + 1 for k, s in enumerate(doc.page_starts) if s == a):
            body.append(f'<span class="page-no">page {page}</span>')
        if a == start == end:  # an empty range: an empty mark where it would be
            body.append('<mark id="quote"></mark>')
            marked = True
        if b is None:
            break
        piece = _escape(doc.text[a:b])
        if start <= a and b <= end:
            body.append(("<mark>" if marked else '<mark id="quote">') + piece + "</mark>")
            marked = True
        else:
            body.append(piece)
    about = [f"<code>{html.escape(doc.doc_id)}</code>", KIND_NAMES.get(doc.kind, doc.kind)]
    if doc.pages:
        about[-1] += f", {doc.pages} page{'s' if doc.pages != 1 else ''}"
    if doc.date:
        about.append(html.escape(doc.date))
    if doc.author:
        about.append(html.escape(doc.author))
    page = doc.page_at(start)
    about.append(f"quote {'on page ' + str(page) + ', ' if page else 'at '}characters {start}–{end}")
    return (f"<h3>{html.escape(doc.title)}</h3><p><small>{' · '.join(about)}</small></p>"
            f"<div class='article'>{''.join(body)}</div>")


SOURCE_COLUMNS = ["id", "title", "type", "pages", "date", "language", "chunks"]


def sources_table(index: Index) -> list[list]:
    """The Articles tab: one row per article (SOURCE_COLUMNS)."""
    chunks: dict[str, int] = {}
    for c in index.chunks:
        chunks[c.doc_id] = chunks.get(c.doc_id, 0) + 1
    return [[d.doc_id, d.title, d.kind, d.pages or "", d.date, language(d.text), chunks.get(d.doc_id, 0)]
            for d in index.documents.values()]


# ---- the page -----------------------------------------------------------------------------
def build(settings: Settings | None = None, index: Index | None = None,
          collection: Collection | None = None) -> gr.Blocks:
    """The Gradio app over a collection (default: the seed articles and their index, built if needed)."""
    settings = settings or from_env()
    if collection is None:
        collection = (Collection(index.manifest.get("source") or settings.seeds_dir, index, index.path)
                      if index is not None else Collection.open(settings))
    default_k, default_threshold = settings.top_k, round(settings.threshold(), 2)

    def ask(question: str, history: list[str] | None = None, top_k: int = default_k,
            threshold: float = default_threshold) -> dict:
        """Answer a question from the articles: a verbatim short answer with its citations (document and
        character offsets), or an abstention. `history`: earlier questions of the conversation."""
        chosen = settings.with_overrides(top_k=max(1, min(int(top_k), 20)), abstain_threshold=float(threshold))
        return asdict(qa.answer(question, index=collection.index, settings=chosen, history=history or None))

    def respond(message: str, chat: list, readings: list, top_k: float, threshold: float):
        message = (message or "").strip()
        chat = list(chat or [])
        try:
            chosen = settings.with_overrides(top_k=int(top_k), abstain_threshold=float(threshold))
            ans = qa.answer(message, index=collection.index, settings=chosen, history=readings or None)
        except qa.QuestionError as exc:
            chat += [{"role": "user", "content": message or " "},
                     {"role": "assistant", "content": f"<p><b>Cannot ask that:</b> {html.escape(str(exc))}</p>"}]
            return chat, readings, ""
        chat += [{"role": "user", "content": message}, {"role": "assistant", "content": render(ans)}]
        return chat, list(readings or []) + [ans.read_as or ans.question], ""

    def open_source(ref: str) -> str:
        return article_html(collection.index, str(ref))

    def refresh():
        index = collection.index
        ids = list(index.documents)
        return (sources_table(index), gr.Dropdown(choices=ids, value=None),
                f"{len(ids)} articles · {len(index.chunks)} passages")

    def add_files(files: list | None):
        files = files or []
        if not files:
            return (f"Choose one or more files first ({', '.join(SUFFIXES)}).", *refresh())
        if len(files) > MAX_FILES_PER_UPLOAD:
            return (f"At most {MAX_FILES_PER_UPLOAD} files at a time.", *refresh())
        try:
            total = sum(Path(getattr(f, "name", f)).stat().st_size for f in files)
        except OSError as exc:
            return (f"Not added: {exc}", *refresh())
        if total > MAX_UPLOAD_BYTES:
            return (f"These files hold {total / 1e6:.0f} MB together; one upload takes at most "
                    f"{MAX_UPLOAD_BYTES // 1_000_000} MB. Add them in smaller groups.", *refresh())
        lines = []
        for f in files:
            path = Path(getattr(f, "name", f))
            shown = getattr(f, "orig_name", None) or path.name
            try:
                why = too_big(shown, path.stat().st_size)
                if why:
                    raise ArticleError(why)
                change = collection.add(shown, path.read_bytes())
                lines.append(f"{change.action.capitalize()}: **{change.title}** (`{change.doc_id}`)")
            except (ArticleError, OSError) as exc:
                lines.append(f"Not added: {exc}")
        return ("\n\n".join(lines), *refresh())

    def add_text(title: str, text: str):
        title, text = (title or "").strip(), (text or "").strip()
        if not title or not text:
            return ("Give the article a title and paste its text.", *refresh(), title, text)
        try:
            change = collection.add(name_for_title(title), f"# {title}\n\n{text}\n")
        except ArticleError as exc:
            return (f"Not added: {exc}", *refresh(), title, text)
        return (f"{change.action.capitalize()}: **{change.title}** (`{change.doc_id}`)", *refresh(), "", "")

    def remove(doc_id: str | None):
        if not doc_id:
            return ("Choose an article to remove.", *refresh())
        try:
            change = collection.remove(doc_id)
        except ArticleError as exc:
            return (f"Not removed: {exc}", *refresh())
        return (f"Removed: **{change.title}** (`{change.doc_id}`); its file is kept in `.removed/`", *refresh())

    with gr.Blocks(title="Ask the articles", analytics_enabled=False) as demo:
        gr.Markdown("## Ask the articles\nEvery answer is a verbatim quote with its exact source. "
                    "When the articles do not say, the assistant says so.")
        readings = gr.State([])
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chat = gr.Chatbot(elem_id="chat", height=560, placeholder="Ask a question about the articles.",
                                  buttons=["copy"], show_label=False)
                with gr.Row():
                    box = gr.Textbox(placeholder="Type a question and press Enter", show_label=False,
                                     scale=5, autofocus=True, max_length=qa.api.MAX_QUESTION_CHARS, submit_btn=True)
                    clear = gr.Button("New conversation", scale=1, variant="secondary")
                gr.Examples(EXAMPLES, inputs=box, label="Examples")
                with gr.Accordion("Settings", open=False):
                    top_k = gr.Slider(1, 10, value=default_k, step=1, label="Passages read per question")
                    threshold = gr.Slider(0.0, 0.9, value=default_threshold, step=0.01,
                                          label="Abstention strictness (higher: says “the articles do not say” "
                                                f"more often; calibrated default {default_threshold})")
            with gr.Column(scale=2):
                with gr.Tab("Source"):
                    gr.HTML(VIEWER_EMPTY, elem_id="source-view", js_on_load=VIEWER_JS,
                            server_functions=[open_source])
                with gr.Tab("Articles", elem_id="articles-tab"):
                    summary = gr.Markdown()
                    table = gr.Dataframe(headers=SOURCE_COLUMNS, interactive=False,
                                         wrap=True, elem_id="sources", max_height=320,
                                         column_widths=["17%", "31%", "9%", "10%", "15%", "9%", "9%"])
                    status = gr.Markdown(elem_id="articles-status")
                    with gr.Accordion("Add articles", open=True):
                        files = gr.File(file_count="multiple", elem_id="upload", file_types=list(SUFFIXES),
                                        label=UPLOAD_LABEL)
                        add_btn = gr.Button("Add files", elem_id="add-files")
                        title = gr.Textbox(label="…or paste an article: title", elem_id="paste-title")
                        text = gr.Textbox(label="Text", lines=5, elem_id="paste-text")
                        paste_btn = gr.Button("Add text", elem_id="add-text")
                    with gr.Accordion("Remove an article", open=False):
                        victim = gr.Dropdown(label="Article", choices=[])
                        remove_btn = gr.Button("Remove", variant="stop")
        outs = [status, table, victim, summary]
        box.submit(respond, [box, chat, readings, top_k, threshold], [chat, readings, box], api_visibility="private")
        clear.click(lambda: ([], [], ""), None, [chat, readings, box], api_visibility="private")
        chat.clear(lambda: [], None, readings, api_visibility="private")
        add_btn.click(add_files, files, outs, api_visibility="private").then(
            lambda: None, None, files, api_visibility="private")
        paste_btn.click(add_text, [title, text], outs + [title, text], api_visibility="private")
        remove_btn.click(remove, victim, outs, api_visibility="private")
        demo.load(refresh, None, [table, victim, summary], api_visibility="private")
        gr.api(ask, api_name="answer")
    return demo


def launch(settings: Settings | None = None, host: str = "127.0.0.1", port: int = 7860,
           open_browser: bool = True, index: Index | None = None,
           auth: tuple[str, str] | None = None) -> None:
    """Serve the page; on 127.0.0.1 unless another host is asked for explicitly."""
    demo = build(settings, index)
    demo.queue(**QUEUE).launch(server_name=host, server_port=port, inbrowser=open_browser,
                                                   share=False, show_error=True, auth=auth, **LAUNCH)


if __name__ == "__main__":
    launch()
