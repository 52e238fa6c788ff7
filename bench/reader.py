"""Benchmark span readers on the GOLD paragraph (no retrieval), side by side in one run.

    python bench/reader.py [--models qa/reader/model OTHER_FOLDER ...] [--limit N] [--sets squad2,xquad_en,...]

Sets (all from ../shared/bench, never trained on):
- squad2: the official SQuAD 2.0 dev set (11,873 questions, half unanswerable);
- xquad_en: XQuAD English (1,190), and xquad_<lang> for the other 11 languages (zero-shot);
- idk_mrc: IDK-MRC test (Indonesian, half unanswerable).
Each reader answers when its margin (best span score - no-answer score) is above the margin calibrated
on dev data and shipped beside its weights (`calibrated`), and also always (`answer_all`, HasAns quality);
`best` is the F1 at the margin threshold that is best on the set itself (the official SQuAD 2.0 script's
best_f1: no calibration can do better, so what it leaves short of a bar is the answers, not the threshold).
`--limit N` scores an even sample of N questions per set (stated in the report). Latency: one
`SpanReader.read` call over 3 passages of ~160 tokens, median over 30 questions. `--device cuda` reads on a
lent GPU (the figures then differ from the CPU's by bf16 rounding only; the latency is the GPU's).
Writes eval/reports/reader-<date>.{md,json} (or --out-dir) and prints the table.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from qa.reader import data  # noqa: E402
from qa.reader.span import SpanReader, bf16_fast, calibrated_margin  # noqa: E402
from qa.reader.train import best_threshold, evaluate, predict  # noqa: E402

DEFAULT_SETS = list(data.BENCH_FILES)


def load_set(name: str) -> list[data.Record]:
    try:
        return data.load_bench(name)
    except ValueError as e:
        raise SystemExit(str(e)) from None


def sample(recs: list, n: int) -> list:
    """An even sample of n records (every k-th), so a limited run still spans every article."""
    if not n or n >= len(recs):
        return recs
    step = len(recs) / n
    return [recs[int(i * step)] for i in range(n)]


def latency(reader: SpanReader, recs: list[data.Record], n_questions: int = 30, tokens: int = 160) -> dict:
    tok = reader.tokenizer
    paras = []
    for c in dict.fromkeys(r.context for r in recs):
        enc = tok(c, add_special_tokens=False, return_offsets_mapping=True)
        if len(enc["input_ids"]) >= tokens:
            paras.append(c[:enc["offset_mapping"][tokens - 1][1]])
    qs = [r.question for r in recs][:n_questions]
    for i in range(3):
        reader.read(qs[i], paras[i:i + 3])
    times = []
    for i, q in enumerate(qs):
        t = time.perf_counter()
        reader.read(q, [paras[(3 * i + k) % len(paras)] for k in range(3)])
        times.append((time.perf_counter() - t) * 1000)
    return {"p50_ms": round(statistics.median(times), 1), "p90_ms": round(float(np.quantile(times, 0.9)), 1),
            "questions": len(times), "passages": 3, "tokens_per_passage": tokens}


def run(models: list[str | None], sets: list[str], limit: int, device: str = "cpu") -> dict:
    where = (f"{torch.get_num_threads()} threads" if device == "cpu" else torch.cuda.get_device_name(device))
    out = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__} "
                      f"({device}: {where}, bf16 autocast {bf16_fast(torch.device(device))})",
           "limit": limit, "sets": sets, "models": {}}
    data_sets = {s: sample(load_set(s), limit) for s in sets}
    for folder in models:
        name = folder or "qa/reader/model"
        reader = SpanReader.load(folder)
        reader.model.to(device)
        reader.bf16 = bf16_fast(torch.device(device))
        margin = calibrated_margin(folder)
        res = out["models"][name] = {"calibrated_margin": margin, "sets": {}}
        for s, recs in data_sets.items():
            t = time.time()
            preds = predict(reader, recs)
            res["sets"][s] = {"calibrated": evaluate(recs, preds, margin), "answer_all": evaluate(recs, preds, -1e8),
                              "best": best_threshold(recs, preds), "seconds": round(time.time() - t, 1)}
            c = res["sets"][s]["calibrated"]
            print(f"{name} {s}: F1 {c['F1']:.1f} HasAns F1 {c['HasAns_F1']:.1f} NoAns {c['NoAns_acc']:.3f} "
                  f"(answer all: HasAns F1 {res['sets'][s]['answer_all']['HasAns_F1']:.1f}) n={c['n']}", flush=True)
        res["latency"] = latency(reader, data_sets.get("xquad_en") or next(iter(data_sets.values())))
    return out


def report_md(res: dict) -> str:
    names = list(res["models"])
    lines = ["# Span readers on the gold paragraph, side by side", "",
             f"{res['date']}; {res['machine']}; "
             + (f"an even sample of {res['limit']} questions per set" if res["limit"] else "full sets"), "",
             "F1 / HasAns F1 / NoAns accuracy at each reader's calibrated margin; `all`: HasAns F1 answering "
             "every question; `best`: F1 at the threshold best on the set itself (an upper bound for calibration).",
             "",
             "| set | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for s in res["sets"]:
        cells = []
        for n in names:
            d = res["models"][n]["sets"][s]
            c = d["calibrated"]
            noans = f" / {c['NoAns_acc']:.2f}" if c["n_unanswerable"] else ""
            best = f", best {d['best']['F1']:.1f}" if c["n_unanswerable"] else ""
            cells.append(f"{c['F1']:.1f} / {c['HasAns_F1']:.1f}{noans} (all {d['answer_all']['HasAns_F1']:.1f}{best})")
        lines.append(f"| {s} (n={res['models'][names[0]]['sets'][s]['calibrated']['n']}) | " + " | ".join(cells) + " |")
    lines.append("| latency, 3 x 160 tokens | " + " | ".join(
        f"p50 {res['models'][n]['latency']['p50_ms']} ms, p90 {res['models'][n]['latency']['p90_ms']} ms"
        for n in names) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=[None], help="reader folders (default: the shipped one)")
    ap.add_argument("--sets", default=",".join(DEFAULT_SETS))
    ap.add_argument("--limit", type=int, default=0, help="an even sample of N questions per set (0 = all)")
    ap.add_argument("--out-dir", default=str(ROOT / "eval/reports"))
    ap.add_argument("--device", default="cpu", help="cuda on a lent GPU machine (see the model card)")
    args = ap.parse_args(argv)
    res = run(args.models, [s for s in args.sets.split(",") if s], args.limit, args.device)
    md = report_md(res)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"reader-{stamp}.json").write_text(json.dumps(res, indent=1))
    (out / f"reader-{stamp}.md").write_text(md)
    print(md)
    print(f"wrote {out}/reader-{stamp}.md")
    return res


if __name__ == "__main__":
    main()
