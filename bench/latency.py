"""Seed index build time and `qa.answer` latency (median of ten seed questions, after one warm-up).

    python bench/latency.py

Prints the figures and writes bench/reports/latency.md.
"""
from __future__ import annotations

import os
import platform
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

import qa
from qa import evalsets
from qa.settings import REPO_ROOT, Settings


def main() -> None:
    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        index = qa.Index.build(settings.seeds_dir, Path(tmp) / "index", settings)
        build = time.perf_counter() - started
        started = time.perf_counter()
        qa.Index.open(Path(tmp) / "index", settings)
        load = time.perf_counter() - started
    questions = [q.question for q in evalsets.load(REPO_ROOT / "eval" / "seeds.jsonl").questions[:10]]
    qa.answer(questions[0], index=index, settings=settings)  # warm-up: model and IDF table
    times = []
    for q in questions:
        t = time.perf_counter()
        qa.answer(q, index=index, settings=settings)
        times.append(time.perf_counter() - t)
    lines = [f"# Latency ({datetime.now():%Y-%m-%d %H:%M}, {platform.machine()}, {os.cpu_count()} cores, "
             f"embedder {settings.embedder})", "",
             "| figure | value |", "|---|---|",
             f"| seed index build (5 articles, {len(index.chunks)} chunks, {len(index.sentences)} sentences) | {build:.1f} s |",
             f"| seed index load | {1000 * load:.0f} ms |",
             f"| qa.answer median over 10 seed questions | {1000 * statistics.median(times):.0f} ms |",
             f"| qa.answer max over 10 seed questions | {1000 * max(times):.0f} ms |"]
    out = REPO_ROOT / "bench" / "reports" / "latency.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
