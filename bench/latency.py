"""Seed index build time and `qa.answer` latency: p50 / p95 over every seed question, asked twice after
one warm-up (the reader issue's bar: p50 <= 150 ms, p95 <= 300 ms on idle cores).

    python bench/latency.py [--passes 2]

Prints the figures and writes bench/reports/latency.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np

import qa
from qa import evalsets
from qa.settings import REPO_ROOT, Settings


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--passes", type=int, default=2, help="times each seed question is asked")
    args = ap.parse_args(argv)
    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        index = qa.Index.build(settings.seeds_dir, Path(tmp) / "index", settings)
        build = time.perf_counter() - started
        started = time.perf_counter()
        qa.Index.open(Path(tmp) / "index", settings)
        load = time.perf_counter() - started
    questions = [q.question for q in evalsets.load(REPO_ROOT / "eval" / "seeds.jsonl").questions]
    qa.answer(questions[0], index=index, settings=settings)  # warm-up: models and IDF table
    times = []
    for _ in range(args.passes):
        for q in questions:
            t = time.perf_counter()
            qa.answer(q, index=index, settings=settings)
            times.append(time.perf_counter() - t)
    p50, p95 = (1000 * float(v) for v in np.percentile(times, [50, 95]))
    lines = [f"# Latency ({datetime.now():%Y-%m-%d %H:%M}, {platform.machine()}, {os.cpu_count()} cores, "
             f"embedder {settings.embedder})", "",
             "| figure | value |", "|---|---|",
             f"| seed index build (5 articles, {len(index.chunks)} chunks, {len(index.sentences)} sentences) | {build:.1f} s |",
             f"| seed index load | {1000 * load:.0f} ms |",
             f"| qa.answer p50 / p95 over the {len(questions)} seed questions, {args.passes} passes "
             f"(reader: {settings.reader}) | {p50:.0f} / {p95:.0f} ms |",
             f"| qa.answer max | {1000 * max(times):.0f} ms |"]
    out = REPO_ROOT / "bench" / "reports" / "latency.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
