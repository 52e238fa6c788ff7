"""Evaluation sets: our JSONL format and SQuAD v1.1/v2.0 JSON (nested, or the flat list of IDK-MRC/TyDi)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from .repair import repair
from .types import Document


@dataclass(frozen=True)
class Question:
    qid: str
    question: str
    answers: list[str]  # empty: the articles do not say
    docs: list[str]  # documents whose text answers it (any counts as a correct citation)
    lang: str = ""
    kind: str = ""


@dataclass
class EvalSet:
    name: str
    questions: list[Question]
    documents: list[Document] = field(default_factory=list)  # empty: ask the default index


def load(path: str | Path, max_articles: int = 0) -> EvalSet:
    """An eval set from a .jsonl file (ours) or a SQuAD-style .json file (with its own corpus,
    optionally only its first `max_articles` articles for a quick run)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no eval set at {path}")
    if path.suffix == ".jsonl":
        return load_jsonl(path)
    return load_squad(path, max_articles)


def load_jsonl(path: Path) -> EvalSet:
    questions = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                questions.append(Question(str(d.get("id", n)), d["question"], list(d.get("answers", [])),
                                          list(d.get("docs", [])), d.get("lang", ""), d.get("kind", "")))
            except (ValueError, KeyError) as exc:
                raise ValueError(f"{path}:{n}: not an eval record ({exc})") from exc
    return EvalSet(path.stem, questions)


def load_squad(path: Path, max_articles: int = 0, whole_articles: bool = False) -> EvalSet:
    """Each paragraph becomes a document (titled by its article); each question keeps its gold paragraph.
    `whole_articles`: each article becomes one document, its paragraphs joined by blank lines, so the
    chunker cuts it as it cuts an uploaded article and retrieval must find the right chunk within it."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    articles = data["data"] if isinstance(data, dict) else [{"title": "", "paragraphs": data}]
    if max_articles:
        articles = articles[:max_articles]
    if whole_articles:
        articles = [{"title": a.get("title"), "paragraphs": [
            {"context": "\n\n".join(p["context"] for p in a["paragraphs"]),
             "qas": [q for p in a["paragraphs"] for q in p["qas"]]}]} for a in articles]
    documents, questions, seen = [], [], {}
    for a_no, article in enumerate(articles):
        title = (article.get("title") or f"article {a_no}").replace("_", " ")
        for p_no, para in enumerate(article["paragraphs"]):
            context = para["context"]
            digest = hashlib.sha256(context.encode()).hexdigest()
            doc_id = seen.get(digest)
            if doc_id is None:
                doc_id = f"p{len(documents):05d}"
                seen[digest] = doc_id
                documents.append(Document(doc_id, title if whole_articles else f"{title} ¶{p_no + 1}", repair(context),
                                          f"{path.name}#{a_no}/{p_no}", digest))
            for qa in para["qas"]:
                impossible = qa.get("is_impossible", False)
                answers = [] if impossible else list(dict.fromkeys(a["text"] for a in qa.get("answers", [])))
                questions.append(Question(str(qa["id"]), qa["question"], answers, [] if impossible else [doc_id],
                                          kind="unanswerable" if impossible else "answerable"))
    return EvalSet(path.stem, questions, documents)
