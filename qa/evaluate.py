"""The eval runner: ask every question of an eval set end to end through `qa.answer`, score, report.

Scores two answer levels: the short answer (SQuAD EM/F1, and whether it contains a gold answer) and
the evidence (a gold answer inside the quoted evidence), plus abstention and citation accuracy.
"""
from __future__ import annotations

import collections
import json
import re
import statistics
import string
import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path

from tqdm import tqdm

from . import evalsets
from .api import answer, default_index
from .retrieve import retrieve
from .settings import Settings
from .store import Index

NO_THRESHOLD = -1e9
RANK_DEPTH = 20


@dataclass
class Result:
    qid: str
    question: str
    kind: str
    lang: str
    gold: list[str]
    gold_docs: list[str]
    text: str
    abstained: bool  # abstained on its own (no typed answer found), before any threshold
    score: float
    evidence: str
    cited: list[str]
    verbatim: bool
    seconds: float
    gold_rank: int | None = None  # rank of the first gold document in the retrieval ranking (1-based)
    answer_rank: int | None = None  # rank among the top_k chunks retrieved of the first holding a gold answer
    sure: bool = False  # the span reader was sure enough to answer whatever the evidence threshold


_PUNCTUATION = set(string.punctuation) | set("‘’“”€")


def normalize(text: str) -> str:
    """SQuAD v2 normalisation: lower case, no punctuation, no articles, single spaces."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def f1(prediction: str, gold: str) -> float:
    p, g = normalize(prediction).split(), normalize(gold).split()
    if not p or not g:
        return float(p == g)
    common = sum((collections.Counter(p) & collections.Counter(g)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def contains(haystack: str, golds: list[str]) -> bool:
    h = f" {normalize(haystack)} "
    return any(f" {normalize(g)} " in h for g in golds if normalize(g))


def run(path: str | Path, settings: Settings, limit: int = 0, progress: bool = True,
        max_articles: int = 0) -> list[Result]:
    """Answer every question of the eval set at `path` over its own corpus (or the default index)."""
    evalset = evalsets.load(path, max_articles)
    index = corpus_index(evalset, settings, str(path), progress)
    questions = evalset.questions[:limit] if limit else evalset.questions
    return ask(questions, index, settings, progress)


def corpus_index(evalset: evalsets.EvalSet, settings: Settings, source: str, progress: bool = True) -> Index:
    """An index over the eval set's own paragraphs; the default (seed) index for our JSONL sets."""
    if evalset.documents:
        return Index.from_documents(evalset.documents, settings, source=source, progress=progress)
    return default_index(settings)


def ask(questions: list[evalsets.Question], index: Index, settings: Settings,
        progress: bool = True) -> list[Result]:
    """Answer each question (with the evidence check's threshold switched off, so it can be swept; the
    span reader's own stays at its setting)."""
    raw = replace(settings, abstain_threshold=NO_THRESHOLD)
    sure_at = settings.sure_threshold() if settings.reader == "span" else float("inf")
    results = []
    for q in tqdm(questions, desc="asking", unit="q", disable=not progress):
        started = time.perf_counter()
        ans = answer(q.question, index=index, settings=raw)
        seconds = time.perf_counter() - started
        verbatim = all(index.documents[c.doc_id].text[c.start:c.end] == c.quote and
                       (c.answer_start < 0 or c.start <= c.answer_start <= c.answer_end <= c.end)
                       for c in ans.citations)
        verbatim = verbatim and (not ans.citations or index.documents[ans.citations[0].doc_id].text[
            ans.citations[0].answer_start:ans.citations[0].answer_end] == ans.text)
        vector = index.embedder.embed_queries([q.question])[0]
        deep = retrieve(index, q.question, vector, 4 * RANK_DEPTH, settings.retrieval)
        docs = list(dict.fromkeys(hit.chunk.doc_id for hit in deep))[:RANK_DEPTH]
        gold_rank = next((r for r, d in enumerate(docs, 1) if d in q.docs), None)
        read = retrieve(index, q.question, vector, settings.top_k, settings.retrieval)  # what `answer` was given
        answer_rank = next((r for r, hit in enumerate(read, 1) if q.answers and contains(hit.chunk.text, q.answers)),
                           None)
        results.append(Result(q.qid, q.question, q.kind, q.lang, q.answers, q.docs, ans.text, ans.abstained,
                              ans.score, ans.evidence, [c.doc_id for c in ans.citations], verbatim, seconds,
                              gold_rank, answer_rank, ans.signals.get("reader", 0.0) >= sure_at))
    return results


def summarize(results: list[Result], threshold: float) -> dict:
    """Metrics with answers below the evidence `threshold` counted as abstentions, unless the span reader
    was sure of them."""
    has = [r for r in results if r.gold]
    no = [r for r in results if not r.gold]

    def abstains(r: Result) -> bool:
        return r.abstained or (r.score < threshold and not r.sure)

    def short_f1(r: Result) -> float:
        return 0.0 if abstains(r) else max(f1(r.text, g) for g in r.gold)

    def em(r: Result) -> float:
        return 0.0 if abstains(r) else float(any(normalize(r.text) == normalize(g) for g in r.gold))

    n = len(results)
    out = {
        "questions": n, "answerable": len(has), "unanswerable": len(no), "threshold": threshold,
        "short_contains": _mean(not abstains(r) and contains(r.text, r.gold) for r in has),
        "evidence_contains": _mean(not abstains(r) and contains(r.evidence, r.gold) for r in has),
        "top_citation_correct": _mean(not abstains(r) and bool(r.cited) and r.cited[0] in r.gold_docs for r in has),
        "recall@1": _mean(r.gold_rank is not None and r.gold_rank <= 1 for r in has),
        "recall@5": _mean(r.gold_rank is not None and r.gold_rank <= 5 for r in has),
        "recall@10": _mean(r.gold_rank is not None and r.gold_rank <= 10 for r in has),
        "mrr": _mean(1 / r.gold_rank if r.gold_rank else 0.0 for r in has),
        # a gold answer in one of the first k chunks (DPR's top-k accuracy): the chunks the reader reads
        "answer@3": _mean(r.answer_rank is not None and r.answer_rank <= 3 for r in has),
        "answer@5": _mean(r.answer_rank is not None and r.answer_rank <= 5 for r in has),
        "abstention_precision": _mean(not r.gold for r in results if abstains(r)),
        "false_abstention": _mean(abstains(r) for r in has),
        "abstention_on_unanswerable": _mean(abstains(r) for r in no),
        "em": 100 * sum(em(r) if r.gold else float(abstains(r)) for r in results) / max(n, 1),
        "f1": 100 * sum(short_f1(r) if r.gold else float(abstains(r)) for r in results) / max(n, 1),
        "has_ans_em": 100 * _mean(em(r) for r in has) if has else None,
        "has_ans_f1": 100 * _mean(short_f1(r) for r in has) if has else None,
        "no_ans_acc": _mean(abstains(r) for r in no) if no else None,
        "verbatim": _mean(r.verbatim for r in results),
        "latency_p50_ms": round(1000 * statistics.median(r.seconds for r in results), 1) if results else None,
        "latency_p95_ms": round(1000 * _pct([r.seconds for r in results], 95), 1) if results else None,
    }
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}


def sweep(results: list[Result]) -> tuple[float, list[dict]]:
    """Summaries over candidate thresholds; returns the one with the best overall F1."""
    scores = sorted({round(r.score, 3) for r in results if not r.abstained})
    candidates = [NO_THRESHOLD] + scores
    rows = [summarize(results, t) for t in candidates]
    best = max(rows, key=lambda row: (row["f1"], -row["false_abstention"]))
    return best["threshold"], rows


def write_report(results: list[Result], settings: Settings, source: str, out_dir: Path) -> Path:
    """JSON (every answer) and Markdown report under `out_dir`; returns the Markdown path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    name = f"{Path(source).stem}-{settings.embedder}-{stamp}"
    summary = summarize(results, settings.threshold())
    best_t, rows = sweep(results)
    kinds = {k: summarize([r for r in results if r.kind == k], settings.threshold())
             for k in sorted({r.kind for r in results})}
    payload = {"source": str(source), "settings": {k: str(v) for k, v in asdict(settings).items()},
               "summary": summary, "best_threshold": best_t, "per_kind": kinds,
               "results": [asdict(r) for r in results]}
    (out_dir / f"{name}.json").write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    lines = [f"# Eval: {Path(source).name} ({datetime.now():%Y-%m-%d %H:%M})", "",
             f"Embedder `{settings.embedder}`, top_k {settings.top_k}, abstention threshold {settings.threshold()} "
             f"(best-F1 threshold on this set: {best_t}).", "", "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in summary.items()]
    lines += ["", "## Per kind", "", "| kind | n | short contains | evidence contains | citation | abstained (unans.) |",
              "|---|---|---|---|---|---|"]
    lines += [f"| {k} | {s['questions']} | {s['short_contains']} | {s['evidence_contains']} | "
              f"{s['top_citation_correct']} | {s['abstention_on_unanswerable']} |" for k, s in kinds.items()]
    misses = [r for r in results if r.gold and not contains(r.text, r.gold)][:40]
    if misses:
        lines += ["", "## Short answers that miss the gold (first 40)", "", "| id | question | gold | answer |", "|---|---|---|---|"]
        lines += [f"| {r.qid} | {r.question} | {' / '.join(r.gold)} | {'(abstained)' if r.abstained else r.text} |"
                  for r in misses]
    plots = _plots(results, rows, out_dir, name)
    lines += ["", "## Plots", ""] + [f"![{title}]({file})" for title, file in plots]
    md = out_dir / f"{name}.md"
    md.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return md


def _plots(results: list[Result], sweep_rows: list[dict], out_dir: Path, name: str) -> list[tuple[str, str]]:
    """F1 by abstention threshold, retrieval recall@k, latency histogram: PNG files beside the report."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    rows = [r for r in sweep_rows if r["threshold"] > NO_THRESHOLD]
    if rows:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot([r["threshold"] for r in rows], [r["f1"] for r in rows], label="F1 (all)")
        ax.plot([r["threshold"] for r in rows], [100 * r["false_abstention"] for r in rows], label="false abstention %")
        if any(not r.gold for r in results):
            ax.plot([r["threshold"] for r in rows], [100 * r["abstention_on_unanswerable"] for r in rows],
                    label="abstention on unanswerable %")
        ax.set_xlabel("abstention threshold (confidence)")
        ax.legend(fontsize=8)
        made.append(("F1 by threshold", _save(fig, out_dir / f"{name}-threshold.png")))
    has = [r for r in results if r.gold]
    if has:
        ks = list(range(1, RANK_DEPTH + 1))
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot(ks, [_mean(r.gold_rank is not None and r.gold_rank <= k for r in has) for k in ks], marker="o")
        ax.set_xlabel("k (documents)")
        ax.set_ylabel("recall@k of the gold document")
        ax.set_ylim(0, 1.02)
        made.append(("Retrieval recall@k", _save(fig, out_dir / f"{name}-recall.png")))
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist([1000 * r.seconds for r in results], bins=30)
    ax.set_xlabel("qa.answer latency (ms)")
    ax.set_ylabel("questions")
    made.append(("Latency", _save(fig, out_dir / f"{name}-latency.png")))
    return made


def _save(fig, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path.name


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]
