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
from .settings import Settings
from .store import Index

NO_THRESHOLD = -1e9


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
    """Answer every question (with abstention by threshold switched off, so the threshold can be swept)."""
    evalset = evalsets.load(path, max_articles)
    index = (Index.from_documents(evalset.documents, settings, source=str(path), progress=progress)
             if evalset.documents else default_index(settings))
    raw = replace(settings, abstain_threshold=NO_THRESHOLD)
    questions = evalset.questions[:limit] if limit else evalset.questions
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
        results.append(Result(q.qid, q.question, q.kind, q.lang, q.answers, q.docs, ans.text, ans.abstained,
                              ans.score, ans.evidence, [c.doc_id for c in ans.citations], verbatim, seconds))
    return results


def summarize(results: list[Result], threshold: float) -> dict:
    """Metrics with answers below `threshold` counted as abstentions."""
    has = [r for r in results if r.gold]
    no = [r for r in results if not r.gold]

    def abstains(r: Result) -> bool:
        return r.abstained or r.score < threshold

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
        "false_abstention": _mean(abstains(r) for r in has),
        "abstention_on_unanswerable": _mean(abstains(r) for r in no),
        "em": 100 * sum(em(r) if r.gold else float(abstains(r)) for r in results) / max(n, 1),
        "f1": 100 * sum(short_f1(r) if r.gold else float(abstains(r)) for r in results) / max(n, 1),
        "has_ans_f1": 100 * _mean(short_f1(r) for r in has) if has else None,
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
    md = out_dir / f"{name}.md"
    md.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return md


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]
