"""Pick the better reader checkpoint on the dev data, fit the abstention margin, export with checksums.

    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    python -m qa.reader.export --candidates /tmp/reader-run/epoch-1-part-1 /tmp/reader-run2/epoch-1-part-1 \
                               --out qa/reader/model [--max-len 256 --stride 96] [--work /tmp/reader-run2]

Each candidate (an fp32 checkpoint folder) is quantised exactly as it will ship (int8 per-row + fp16 scale)
and read back, then run on the combined dev set: IDK-MRC valid (../shared/bench/idk_mrc/valid.json)
+ the held-out SQuAD 2.0 article `1973_oil_crisis`. Margin = best span score - null score. For each
candidate the margin threshold maximising answer/abstain accuracy on the combined dev set is fitted
(`span.calibrate_threshold`, unanswerable questions weighted to 20% of all, as for the sentence answerer);
the candidate with the higher prior-weighted dev F1 (0.8 x HasAns F1 + 0.2 x 100 x NoAns accuracy) is exported
to `--out` (safetensors + tokenizer + config + calibration.json, MODEL_CARD.md kept) and SHA256SUMS is
rewritten to cover every file the reader loads, calibration.json included (not the model card). A JSON summary goes to `--work/export.json`.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch

from . import data
from .span import (CALIBRATION, MAX_LEN, STRIDE, SpanReader, calibrate_threshold, dequantize_state_dict,
                   quantize_state_dict, save_quantized, write_checksums)
from ..calibrate import UNANSWERABLE_SHARE
from .train import evaluate, predict


def as_shipped(folder: Path, max_len: int, stride: int):
    """Load an fp32 checkpoint and round-trip its weights through the int8 export format."""
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer
    model = AutoModelForQuestionAnswering.from_pretrained(folder, local_files_only=True)
    sd = dequantize_state_dict(quantize_state_dict(model.state_dict()))
    model.load_state_dict(sd, strict=False)
    tok = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    return SpanReader(model.eval(), tok, folder, max_len=max_len, stride=stride), model, tok


def dev_report(reader: SpanReader, dev: dict) -> dict:
    recs, preds, per = [], [], {}
    for name, rs in dev.items():
        ps = predict(reader, rs)
        recs += rs
        preds += ps
        per[name] = ps
    ans = [m for r, (_, m) in zip(recs, preds) if not r.is_impossible]
    una = [m for r, (_, m) in zip(recs, preds) if r.is_impossible]
    thr = calibrate_threshold(ans, una, UNANSWERABLE_SHARE)
    acc = (sum(m > thr for m in ans) + sum(m <= thr for m in una)) / max(1, len(ans) + len(una))
    at_thr = evaluate(recs, preds, thr)
    out = {"margin_threshold": thr, "answer_abstain_accuracy": acc,
           "prior_weighted_f1": (1 - UNANSWERABLE_SHARE) * at_thr["HasAns_F1"] + UNANSWERABLE_SHARE * 100 * at_thr["NoAns_acc"],
           "combined_at_threshold": at_thr,
           "combined_answer_all": evaluate(recs, preds, -1e8),
           "combined_at_zero": evaluate(recs, preds, 0.0)}
    for name, rs in dev.items():
        out[name] = {"at_threshold": evaluate(rs, per[name], thr), "answer_all": evaluate(rs, per[name], -1e8)}
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--candidates", nargs="+", required=True)
    ap.add_argument("--out", default="qa/reader/model")
    ap.add_argument("--work", default="/tmp/reader-run2")
    ap.add_argument("--max-len", type=int, default=MAX_LEN)
    ap.add_argument("--stride", type=int, default=STRIDE)
    ap.add_argument("--dev-limit", type=int, default=0)
    ap.add_argument("--dry-run", action="store_true", help="evaluate only; do not touch --out")
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    dev = data.dev_records()
    if args.dev_limit:
        dev = {k: v[:args.dev_limit] for k, v in dev.items()}
    fitted_on = (f"IDK-MRC valid ({len(dev['idk_mrc_valid'])} q) + SQuAD 2.0 held-out article 1973_oil_crisis "
                 f"({len(dev['squad_en_dev'])} q), combined; max_len {args.max_len}, stride {args.stride}; "
                 f"threshold maximising answer/abstain accuracy with unanswerable questions weighted to "
                 f"{UNANSWERABLE_SHARE:.0%} of all")
    results = {}
    for c in args.candidates:
        t = time.time()
        reader, _, _ = as_shipped(Path(c), args.max_len, args.stride)
        results[c] = dev_report(reader, dev)
        results[c]["seconds"] = round(time.time() - t, 1)
        r = results[c]
        print(f"{c}: margin {r['margin_threshold']:.3f} acc {r['answer_abstain_accuracy']:.3f} "
              f"F1@thr {r['combined_at_threshold']['F1']:.1f} (Has {r['combined_at_threshold']['HasAns_F1']:.1f} "
              f"NoAcc {r['combined_at_threshold']['NoAns_acc']:.3f}) F1 answer-all "
              f"{r['combined_answer_all']['F1']:.1f} HasF1 all {r['combined_answer_all']['HasAns_F1']:.1f} "
              f"prior-weighted F1 {r['prior_weighted_f1']:.1f} "
              f"[{r['seconds']}s]", flush=True)
    best = max(args.candidates, key=lambda c: results[c]["prior_weighted_f1"])
    summary = {"chosen": best, "results": results, "fitted_on": fitted_on,
               "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}
    Path(args.work).mkdir(parents=True, exist_ok=True)
    (Path(args.work) / "export.json").write_text(json.dumps(summary, indent=1))
    print(f"chosen: {best}")
    if args.dry_run:
        return summary
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer
    model = AutoModelForQuestionAnswering.from_pretrained(best, local_files_only=True)
    tok = AutoTokenizer.from_pretrained(best, local_files_only=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for p in out.iterdir():
        if p.is_file() and p.name != "MODEL_CARD.md":
            p.unlink()
    save_quantized(model, tok, out)
    (out / CALIBRATION).write_text(json.dumps({
        "margin_threshold": results[best]["margin_threshold"], "fitted_on": fitted_on,
        "date": summary["date"], "checkpoint": str(best),
        "dev_answer_abstain_accuracy": round(results[best]["answer_abstain_accuracy"], 4)}, indent=1) + "\n")
    write_checksums(out)
    print(f"exported {best} to {out}; margin_threshold {results[best]['margin_threshold']:.4f}")
    return summary


if __name__ == "__main__":
    main()
