"""The chat page: ask about the articles, get the short answer, the highlighted quote and its source."""
from __future__ import annotations

import html
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # else launch() looks up remote hosts

import gradio as gr  # noqa: E402

import qa  # noqa: E402
from qa.settings import Settings, from_env  # noqa: E402
from qa.store import Index  # noqa: E402
from qa.types import Answer, Citation  # noqa: E402

# System fonts only: the default theme would fetch web fonts from the internet.
THEME = gr.themes.Default(font=["system-ui", "Segoe UI", "Roboto", "sans-serif"],
                          font_mono=["ui-monospace", "Menlo", "Consolas", "monospace"])

EXAMPLES = [
    "Who is Nissan's new boss?",
    "How much will the Dacia version cost?",
    "Siapa bos baru Nissan?",
    "When could Ampère be floated on the stock market?",
    "Who is the CEO of Renault Group?",
]


def render(ans: Answer) -> str:
    """An answer as chat HTML: bold short answer, quote with the answer marked, then the sources.
    Everything from the articles is escaped; line breaks become <br> so no Markdown is interpreted."""
    if ans.abstained:
        return (f"<p><b>{html.escape(ans.message)}</b></p>"
                "<p>None of the articles supports an answer to this question.</p>")
    parts = [f"<p><b>{html.escape(ans.text)}</b> <small>(confidence {ans.score:.0%})</small></p>"]
    for n, c in enumerate(ans.citations):
        if n == 1:
            parts.append(f"<p>Also stated in {len(ans.citations) - 1} other source(s):</p>")
        parts += [quote_html(c), source_line(c)]
    return "".join(parts)


def _escape(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


def quote_html(c: Citation) -> str:
    """The verbatim quote, HTML-escaped, with the short answer wrapped in <mark>."""
    if c.start <= c.answer_start < c.answer_end <= c.end:
        a, b = c.answer_start - c.start, c.answer_end - c.start
        inner = _escape(c.quote[:a]) + "<mark>" + _escape(c.quote[a:b]) + "</mark>" + _escape(c.quote[b:])
    else:
        inner = _escape(c.quote)
    return f"<blockquote>{inner}</blockquote>"


def source_line(c: Citation) -> str:
    return (f"<p><small>Source: <b>{html.escape(c.title)}</b> · <code>{html.escape(c.doc_id)}</code> · "
            f"characters {c.start}–{c.end}</small></p>")


def build(settings: Settings | None = None, index: Index | None = None) -> gr.Blocks:
    """The Gradio app over `index` (default: the seed index, built now if needed)."""
    settings = settings or from_env()
    index = index or qa.default_index(settings)

    def respond(message: str, history: list) -> str:
        try:
            return render(qa.answer(message, index=index, settings=settings))
        except qa.QuestionError as exc:
            return f"⚠️ {html.escape(str(exc))}"

    n_docs = len(index.documents)
    return gr.ChatInterface(
        respond,
        chatbot=gr.Chatbot(height=520, placeholder="Ask a question about the articles.", buttons=["copy"]),
        examples=EXAMPLES,
        title="Ask the articles",
        description=(f"Answers are verbatim quotes from {n_docs} articles, with the exact source. "
                     "When the articles do not say, the assistant says so."),
        flagging_mode="never",
        analytics_enabled=False,
        cache_examples=False,
        autofocus=True,
    )


def launch(settings: Settings | None = None, host: str = "127.0.0.1", port: int = 7860,
           open_browser: bool = True, index: Index | None = None) -> None:
    demo = build(settings, index)
    demo.queue(default_concurrency_limit=2).launch(server_name=host, server_port=port, inbrowser=open_browser,
                                                   share=False, show_error=True, theme=THEME)


if __name__ == "__main__":
    launch()
