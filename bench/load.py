"""Load test: many concurrent `gradio_client` users on the running chat page, each asking its own seed
question, while an article is uploaded and removed mid-run. Every reply must be that client's own
correct answer (the one `qa.answer` gives in-process, with or without the uploaded article), none may
be lost, and the index must stay whole.

    python bench/load.py                 # 50 clients x 2 questions (the issue's run)
    python bench/load.py --clients 8 --rounds 1 --no-report   # the CI mode the tests use

Prints the figures and writes bench/reports/load.{md,json}. Exit status 1 when any reply is wrong,
missing or late.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import qa  # noqa: E402
from qa import evalsets  # noqa: E402
from qa.collection import Collection  # noqa: E402
from qa.settings import REPO_ROOT, from_env  # noqa: E402

UPLOAD = ("Kestrel Motors opens a battery plant in Tampere\n\nKestrel Motors said its new battery plant in "
          "Tampere will employ 640 people and supply the Kestrel Vireo hatchback from 2027.\n")


def key(ans: dict) -> tuple:
    """What must match between a served reply and the in-process answer."""
    if ans["abstained"]:
        return (True,)
    top = ans["citations"][0]
    return (False, ans["text"], top["doc_id"], top["start"], top["end"])


def run(clients: int, rounds: int, timeout: float, collection: Collection, settings, url: str) -> dict:
    from dataclasses import asdict

    from gradio_client import Client

    questions = [q.question for q in evalsets.load(REPO_ROOT / "eval" / "seeds.jsonl").questions]

    def answers() -> dict:
        return {q: key(asdict(qa.answer(q, index=collection.index, settings=settings))) for q in questions}

    # A reply is correct when it is the in-process answer for the collection as it stood at some moment of
    # the run: with or without the uploaded article (its words change corpus statistics such as BM25's).
    expected = {q: {k} for q, k in answers().items()}
    collection.add("kestrel-load-test.txt", UPLOAD)
    for q, k in answers().items():
        expected[q].add(k)
    collection.remove("kestrel-load-test")
    results: list[dict] = []
    lock = threading.Lock()
    deadline = time.monotonic() + timeout

    def user(n: int) -> None:
        try:  # fifty clients connecting at once is part of the load: generous timeouts, failures counted
            client = Client(url, verbose=False, httpx_kwargs={"timeout": max(30.0, timeout / 4)})
        except Exception as exc:  # noqa: BLE001
            with lock:
                results.extend({"client": n, "question": "", "seconds": 0.0, "ok": False,
                                "error": f"connect: {type(exc).__name__}: {exc}"} for _ in range(rounds))
            return
        for r in range(rounds):
            q = questions[(n * rounds + r) % len(questions)]
            t = time.perf_counter()
            row = {"client": n, "question": q}
            try:
                job = client.submit(question=q, api_name="/answer")
                got = job.result(timeout=max(1.0, deadline - time.monotonic()))
                row.update(seconds=time.perf_counter() - t, ok=key(got) in expected[q], reply=got["text"],
                           echoed=got["question"] == q)
            except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
                row.update(seconds=time.perf_counter() - t, ok=False, error=f"{type(exc).__name__}: {exc}")
            with lock:
                results.append(row)

    def uploader() -> None:  # the page's upload and remove handlers call exactly these
        time.sleep(0.5)
        collection.add("kestrel-load-test.txt", UPLOAD)
        time.sleep(0.5)
        collection.remove("kestrel-load-test")

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients + 1) as pool:
        side = pool.submit(uploader)
        for f in [pool.submit(user, n) for n in range(clients)]:
            f.result()
        side.result()
    wall = time.perf_counter() - started
    reopened = qa.Index.open(collection.index_path, settings)
    times = sorted(r["seconds"] for r in results if "error" not in r)
    return {
        "clients": clients, "rounds": rounds, "requests": clients * rounds, "replies": len(times),
        "correct": sum(r["ok"] and r.get("echoed", False) for r in results),
        "wrong": [r for r in results if "error" not in r and not (r["ok"] and r["echoed"])],
        "errors": [r for r in results if "error" in r],
        "lost": clients * rounds - len(results),
        "p50_ms": round(1000 * statistics.median(times)) if times else None,
        "p95_ms": round(1000 * times[int(0.95 * (len(times) - 1))]) if times else None,
        "max_ms": round(1000 * times[-1]) if times else None,
        "wall_s": round(wall, 1), "per_s": round(len(times) / wall, 2),
        "index_after": {"documents": len(reopened.documents), "chunks": len(reopened.chunks),
                        "same_as_served": len(reopened.chunks) == len(collection.index.chunks)},
    }


def serve_copy(tmp: Path):
    """A private copy of the seeds and their index, served on a free loopback port."""
    from ui.screenshots import private_collection, serve

    collection, settings = private_collection(from_env(), tmp)
    return collection, settings, serve(collection, settings)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--rounds", type=int, default=2, help="questions per client")
    p.add_argument("--timeout", type=float, default=300, help="seconds for the whole run")
    p.add_argument("--no-report", action="store_true", help="print only; do not write bench/reports/load.*")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        collection, settings, server = serve_copy(Path(tmp))
        with server as url:
            out = run(args.clients, args.rounds, args.timeout, collection, settings, url)
    ok = not out["wrong"] and not out["errors"] and not out["lost"]
    lines = [f"# Load test ({datetime.now():%Y-%m-%d %H:%M}, {platform.machine()}, {os.cpu_count()} cores)", "",
             f"{out['clients']} concurrent gradio_client users on the chat page (loopback), {out['rounds']} "
             "different seed questions each, one article uploaded and removed during the run.", "",
             "| figure | value |", "|---|---|"]
    for k in ("requests", "replies", "correct", "lost", "p50_ms", "p95_ms", "max_ms", "wall_s", "per_s"):
        lines.append(f"| {k} | {out[k]} |")
    lines += [f"| wrong replies | {len(out['wrong'])} |", f"| errors | {len(out['errors'])} |",
              f"| index after the run | {out['index_after']} |", "", f"Result: {'PASS' if ok else 'FAIL'}"]
    print("\n".join(lines))
    for r in (out["wrong"] + out["errors"])[:10]:
        print(r, file=sys.stderr)
    if not args.no_report:
        folder = REPO_ROOT / "bench" / "reports"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "load.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (folder / "load.json").write_text(json.dumps(out, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
