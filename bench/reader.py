"""Benchmark the trained span reader alone, on the GOLD paragraph (no retrieval).

    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 python bench/reader.py [--model qa/reader/model]
        [--test-limit N] [--with-dev] [--latency-questions 30] [--no-int8]

- English: XQuAD-en articles that are NOT among the 16 SQuAD 2.0 (cs224n dev) training articles
  (all answerable).
- Indonesian: IDK-MRC test (half unanswerable).
- Settings: `at_calibrated` = answer iff margin (best span score - null score) > the margin shipped in
  the model folder's calibration.json (`span.calibrated_margin`, fitted on IDK-MRC valid + the held-out
  SQuAD article combined); `at_zero` = the model's own null decision; `answer_all` = always answer
  (HasAns span quality). `--with-dev` also re-fits a per-language best-F1 threshold on the dev split
  (IDK-MRC valid / SQuAD article `1973_oil_crisis`) and reports `at_dev_threshold`.
- `--test-limit N`: only the first N questions of each test set (stated in the report).
- Latency: SpanReader.read() on 3 passages of ~160 tokens each (reader max_len/stride as loaded),
  median over `--latency-questions` questions, torch threads left at their default.
Writes eval/reports/reader-<date>.md and .json and prints the figures.
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
from qa.reader.span import SpanReader, answerability, calibrate_threshold, calibrated_margin  # noqa: E402
from qa.reader.train import best_threshold, evaluate, predict  # noqa: E402


def quantiles(xs):
    if not xs:
        return {}
    q = np.quantile(np.asarray(xs), [0.1, 0.25, 0.5, 0.75, 0.9])
    return {k: round(float(v), 3) for k, v in zip(["p10", "p25", "p50", "p75", "p90"], q)}


def latency(reader: SpanReader, recs, n_questions=30, tokens=160):
    """Median wall time of reader.read(question, 3 passages of ~`tokens` tokens)."""
    tok = reader.tokenizer
    paras = []
    for c in dict.fromkeys(r.context for r in recs):
        enc = tok(c, add_special_tokens=False, return_offsets_mapping=True)
        if len(enc["input_ids"]) >= tokens:
            paras.append(c[:enc["offset_mapping"][tokens - 1][1]])
    qs = [r.question for r in recs][:n_questions]
    for i in range(3):  # warm-up
        reader.read(qs[i], paras[i:i + 3])
    times = []
    for i, q in enumerate(qs):
        ps = [paras[(3 * i + k) % len(paras)] for k in range(3)]
        t = time.perf_counter()
        reader.read(q, ps)
        times.append((time.perf_counter() - t) * 1000)
    return {"median_ms": statistics.median(times), "p90_ms": float(np.quantile(times, 0.9)),
            "n_questions": len(times), "passages": 3, "tokens_per_passage": tokens,
            "torch_threads": torch.get_num_threads()}


def run(model_folder=None, limit=None, test_limit=None, with_dev=False, latency_questions=30, int8=True):
    reader = SpanReader.load(model_folder)
    cal = calibrated_margin(model_folder)
    dev = data.dev_records() if with_dev else {}
    test = data.test_records()
    if limit:
        dev = {k: v[:limit] for k, v in dev.items()}
        test = {k: v[:limit] for k, v in test.items()}
    if test_limit:
        test = {k: v[:test_limit] for k, v in test.items()}
    out = {"date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
           "machine": f"{platform.machine()} {os.cpu_count()} CPU, torch {torch.__version__}",
           "model": str(reader.folder), "max_len": reader.max_len, "stride": reader.stride,
           "test_limit": test_limit, "calibrated_margin": cal, "datasets": {}, "thresholds": {}}
    pairs = {"xquad_en_heldout": "squad_en_dev", "idk_mrc_test": "idk_mrc_valid"}
    for test_name, dev_name in pairs.items():
        t0 = time.time()
        tpred = predict(reader, test[test_name])
        ans = [m for r, (_, m) in zip(test[test_name], tpred) if not r.is_impossible]
        una = [m for r, (_, m) in zip(test[test_name], tpred) if r.is_impossible]
        sig = lambda ms: [answerability(type("S", (), {"margin": m})()) for m in ms]  # noqa: E731
        d = out["datasets"][test_name] = {"dev_split": dev_name if with_dev else None}
        if with_dev:
            dpred = predict(reader, dev[dev_name])
            thr = best_threshold(dev[dev_name], dpred)
            acc_thr = calibrate_threshold([m for r, (_, m) in zip(dev[dev_name], dpred) if not r.is_impossible],
                                          [m for r, (_, m) in zip(dev[dev_name], dpred) if r.is_impossible])
            out["thresholds"][dev_name] = {"best_f1_margin": thr, "best_acc_margin": acc_thr}
            d["dev_at_threshold"] = evaluate(dev[dev_name], dpred, thr)
            d["at_dev_threshold"] = evaluate(test[test_name], tpred, thr)
        d.update({
            "at_calibrated": evaluate(test[test_name], tpred, cal),
            "at_zero": evaluate(test[test_name], tpred, 0.0),
            "answer_all": evaluate(test[test_name], tpred, -1e8),
            "margin_answerable": quantiles(ans), "margin_unanswerable": quantiles(una),
            "answerability_answerable": quantiles(sig(ans)), "answerability_unanswerable": quantiles(sig(una)),
            "seconds": round(time.time() - t0, 1),
        })
    lat_recs = data.test_records() if test_limit else test  # enough distinct ~160-token paragraphs
    out["latency"] = latency(reader, lat_recs["xquad_en_heldout"] + lat_recs["idk_mrc_test"], latency_questions)
    out["latency"].update({"max_len": reader.max_len, "stride": reader.stride})
    if not int8:
        return out
    try:  # optional: torch dynamic int8 Linear layers (SpanReader.load(int8_linear=True))
        q = SpanReader.load(model_folder, int8_linear=True)
        out["latency_int8_linear"] = latency(q, lat_recs["xquad_en_heldout"] + lat_recs["idk_mrc_test"],
                                             latency_questions)
        if os.environ.get("READER_BENCH_INT8_ACCURACY"):
            qp = predict(q, test["idk_mrc_test"])
            out["int8_linear_idk_mrc_test_at_dev_threshold"] = evaluate(test["idk_mrc_test"], qp, cal)
    except Exception as e:  # noqa: BLE001
        out["latency_int8_linear"] = {"error": repr(e)}
    return out


def fmt(x, nd=1):
    return "n/a" if x is None else (f"{x:.{nd}f}" if isinstance(x, float) else str(x))


def report_md(res) -> str:
    L = ["# Span reader benchmark (gold paragraph)", "",
         f"- date: {res['date']}", f"- machine: {res['machine']}", f"- model: `{res['model']}`",
         f"- reader max_len {res.get('max_len')}, stride {res.get('stride')}; "
         + (f"first {res['test_limit']} questions of each test set" if res.get("test_limit") else "full test sets"),
         "",
         f"Margin = best span score - null score; answer iff margin > threshold. `at_calibrated`: the shipped "
         f"calibrated margin {res.get('calibrated_margin', 0.0):.3f} (calibration.json, fitted on IDK-MRC valid + "
         "held-out SQuAD article, max answer/abstain accuracy); `at_zero`: the model's own null decision; "
         "`answer_all`: always answer; `at_dev_threshold` (only with --with-dev): per-language best-F1 dev threshold.", "",
         "| test set | setting | n | EM | F1 | HasAns EM | HasAns F1 | NoAns acc | threshold |",
         "|---|---|---|---|---|---|---|---|---|"]
    for name, d in res["datasets"].items():
        for setting in ("at_calibrated", "at_dev_threshold", "at_zero", "answer_all"):
            if setting not in d:
                continue
            m = d[setting]
            L.append(f"| {name} | {setting} | {m['n']} | {fmt(m['EM'])} | {fmt(m['F1'])} | {fmt(m['HasAns_EM'])} | "
                     f"{fmt(m['HasAns_F1'])} | {fmt(m['NoAns_acc'], 3)} | {fmt(m['threshold'], 2)} |")
        m = d.get("dev_at_threshold")
        if m is None:
            continue
        L.append(f"| {d['dev_split']} (dev) | at_dev_threshold | {m['n']} | {fmt(m['EM'])} | {fmt(m['F1'])} | "
                 f"{fmt(m['HasAns_EM'])} | {fmt(m['HasAns_F1'])} | {fmt(m['NoAns_acc'], 3)} | {fmt(m['threshold'], 2)} |")
    L += ["", "## Answerability score distribution on the test sets (sigmoid(margin))", "",
          "| test set | answerable p10/p25/p50/p75/p90 | unanswerable p10/p25/p50/p75/p90 |", "|---|---|---|"]
    for name, d in res["datasets"].items():
        a = "/".join(str(v) for v in d["answerability_answerable"].values())
        u = "/".join(str(v) for v in d["answerability_unanswerable"].values()) or "n/a"
        L.append(f"| {name} | {a} | {u} |")
    L += ["", "Margins: " + json.dumps({k: {"answerable": d["margin_answerable"],
                                             "unanswerable": d["margin_unanswerable"]}
                                         for k, d in res["datasets"].items()}),
          "", "Thresholds: " + json.dumps(res["thresholds"]), "",
          "## Latency", "",
          f"SpanReader.read() on {res['latency']['passages']} passages x ~{res['latency']['tokens_per_passage']} "
          f"tokens: median {res['latency']['median_ms']:.1f} ms, p90 {res['latency']['p90_ms']:.1f} ms over "
          f"{res['latency']['n_questions']} questions (torch threads {res['latency']['torch_threads']}).", ""]
    li = res.get("latency_int8_linear", {})
    if "median_ms" in li:
        m = res.get("int8_linear_idk_mrc_test_at_dev_threshold", {})
        L += [f"Optional `SpanReader.load(int8_linear=True)` (torch dynamic int8 Linear): median "
              f"{li['median_ms']:.1f} ms, p90 {li['p90_ms']:.1f} ms"
              + (f"; IDK-MRC test at the same threshold: EM {fmt(m.get('EM'))} F1 {fmt(m.get('F1'))} "
                 f"NoAns acc {fmt(m.get('NoAns_acc'), 3)}." if m else " (accuracy not re-measured)."), ""]
    return "\n".join(L)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="reader folder (default: shipped qa/reader/model)")
    ap.add_argument("--limit", type=int, default=0, help="first N questions per set (smoke runs)")
    ap.add_argument("--test-limit", type=int, default=0, help="first N questions of each test set only")
    ap.add_argument("--with-dev", action="store_true", help="also fit per-language best-F1 dev thresholds")
    ap.add_argument("--latency-questions", type=int, default=30)
    ap.add_argument("--no-int8", action="store_true", help="skip the optional dynamic-int8 latency run")
    ap.add_argument("--out-dir", default=str(ROOT / "eval/reports"))
    args = ap.parse_args(argv)
    res = run(args.model, args.limit or None, args.test_limit or None, args.with_dev, args.latency_questions,
              not args.no_int8)
    md = report_md(res)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"reader-{stamp}.json").write_text(json.dumps(res, indent=1))
    (out / f"reader-{stamp}.md").write_text(md)
    print(md)
    print(f"wrote {out / f'reader-{stamp}.md'} and .json")


if __name__ == "__main__":
    main()
