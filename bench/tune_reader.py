"""Grid-search the reader's sentence-scoring weights on an eval set (evidence and short-answer accuracy).

    python bench/tune_reader.py eval/seeds.jsonl [--cache /tmp/qa-tune] [--limit N]

Retrieval runs once per question; only the reader is re-run per weight setting. Prints the best settings.
"""
from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import replace
from pathlib import Path

from qa import evalsets
from qa.api import default_index
from qa.evaluate import NO_THRESHOLD, contains
from qa.read import read
from qa.retrieve import retrieve
from qa.settings import Settings
from qa.store import BadIndexError, Index


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("file", type=Path)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/qa-tune"))
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()
    settings = Settings(abstain_threshold=NO_THRESHOLD)
    ev = evalsets.load(args.file)
    if ev.documents:
        path = args.cache / args.file.stem
        try:
            index = Index.open(path, settings)
        except BadIndexError:
            index = Index.from_documents(ev.documents, settings, progress=True)
            index.save(path)
    else:
        index = default_index(settings)
    qs = [q for q in ev.questions if q.answers]
    qs = qs[:args.limit] if args.limit else qs
    prepared = []
    for q in qs:
        vec = index.embedder.embed_queries([q.question])[0]
        prepared.append((q, vec, retrieve(index, q.question, vec, settings.top_k, settings.retrieval)))
    rows = []
    grid = itertools.product([0.5, 1.0, 2.0], [0.0, 0.25, 0.5, 1.0], [0.0, 0.25, 0.5], [0.0, 0.3, 0.6])
    for wd, wl, wc, wx in grid:
        s = replace(settings, w_dense=wd, w_lexical=wl, w_chunk=wc, w_closeness=wx)
        ev_ok = short_ok = 0
        for q, vec, hits in prepared:
            a = read(q.question, vec, hits, index, s)
            ev_ok += contains(a.evidence, q.answers)
            short_ok += contains(a.text, q.answers)
        rows.append({"w_dense": wd, "w_lexical": wl, "w_chunk": wc, "w_closeness": wx,
                     "evidence": round(ev_ok / len(prepared), 3), "short": round(short_ok / len(prepared), 3)})
    rows.sort(key=lambda r: (-r["evidence"], -r["short"]))
    for r in rows[:10]:
        print(json.dumps(r))
    default = next(r for r in rows if (r["w_dense"], r["w_lexical"], r["w_chunk"], r["w_closeness"]) ==
                   (settings.w_dense, settings.w_lexical, settings.w_chunk, settings.w_closeness))
    print("current:", json.dumps(default))


if __name__ == "__main__":
    main()
