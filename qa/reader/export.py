"""Ship a training checkpoint: quantise it as it will ship, score it on the dev data, fit the abstention
margin there, and write the reader folder with checksums.

    python -m qa.reader.export [--work ~/.cache/qa/reader-run] [--checkpoint annealed.safetensors]
                               [--out qa/reader/model] [--compare FOLDER]

The checkpoint (`--work/checkpoint.safetensors`, or the annealed branch, from `qa.reader.train`) is quantised (int8 per row, fp16 scale),
read back, and run on the dev data (`data.dev_records`: held-out SQuAD 1.1 articles with same-article
unanswerable pairs, and IDK-MRC valid), never a test set. The margin (best span score - no-answer score)
threshold is fitted there with unanswerable questions weighted to `UNANSWERABLE_SHARE` of all
(`span.calibrate_threshold`). `--compare` scores another reader folder (the shipped one) on the same dev
data first; `--dry-run` writes nothing to `--out`. A JSON summary goes to `--work/export.json`.
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
from ..calibrate import UNANSWERABLE_SHARE
from .span import (CALIBRATION, SpanReader, calibrate_threshold, dequantize_state_dict, new_model,
                   quantize_state_dict, save_quantized, write_checksums)
from .train import ANNEALED, CHECKPOINT, DEFAULT_WORK, evaluate, load_checkpoint, predict


def from_checkpoint(path: Path):
    """The reader in a training checkpoint, with its weights round-tripped through the shipped int8 format."""
    model_sd, _, ckpt = load_checkpoint(path)
    model, tokenizer = new_model()
    sd = dequantize_state_dict(quantize_state_dict(model_sd))
    missing, unexpected = model.load_state_dict(sd, strict=False)
    assert not unexpected and all(m.endswith("word_embeddings.weight") for m in missing), (missing, unexpected)
    return SpanReader(model.eval(), tokenizer), ckpt


def dev_report(reader: SpanReader, dev: dict) -> dict:
    """Dev figures at the fitted margin and answering everything, per set and combined."""
    recs, preds, per = [], [], {}
    for name, rs in dev.items():
        per[name] = predict(reader, rs)
        recs += rs
        preds += per[name]
    ans = [m for r, (_, m) in zip(recs, preds) if not r.is_impossible]
    una = [m for r, (_, m) in zip(recs, preds) if r.is_impossible]
    thr = calibrate_threshold(ans, una, UNANSWERABLE_SHARE)
    at = evaluate(recs, preds, thr)
    out = {"margin_threshold": thr,
           "prior_weighted_f1": (1 - UNANSWERABLE_SHARE) * at["HasAns_F1"] + UNANSWERABLE_SHARE * 100 * at["NoAns_acc"],
           "combined_at_threshold": at, "combined_answer_all": evaluate(recs, preds, -1e8)}
    for name, rs in dev.items():
        out[name] = {"at_threshold": evaluate(rs, per[name], thr), "answer_all": evaluate(rs, per[name], -1e8)}
    return out


def line(name: str, r: dict) -> str:
    at, every = r["combined_at_threshold"], r["combined_answer_all"]
    return (f"{name}: margin {r['margin_threshold']:.3f}; at it F1 {at['F1']:.1f} (HasAns {at['HasAns_F1']:.1f}, "
            f"NoAns {at['NoAns_acc']:.3f}); answering all HasAns F1 {every['HasAns_F1']:.1f}; "
            f"prior-weighted F1 {r['prior_weighted_f1']:.1f}; " + "; ".join(
                f"{k} F1 {v['at_threshold']['F1']:.1f}" for k, v in r.items() if isinstance(v, dict) and "at_threshold" in v))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default=str(DEFAULT_WORK))
    ap.add_argument("--out", default="qa/reader/model")
    ap.add_argument("--compare", default="", help="also score this reader folder on the same dev data")
    ap.add_argument("--dev-limit", type=int, default=0, help="dev questions per set (0 = all)")
    ap.add_argument("--dry-run", action="store_true", help="score only; do not write --out")
    ap.add_argument("--device", default="cpu", help="where the dev data is read (cuda on a GPU machine)")
    ap.add_argument("--checkpoint", default=CHECKPOINT, help=f"which checkpoint in --work ({ANNEALED} after "
                    "`train --anneal`)")
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    work = Path(args.work)
    dev = data.dev_records()
    if args.dev_limit:
        dev = {k: v[:args.dev_limit] for k, v in dev.items()}
    fitted_on = (" + ".join(f"{k} ({len(v)} q, {sum(r.is_impossible for r in v)} unanswerable)" for k, v in dev.items())
                 + f"; unanswerable questions weighted to {UNANSWERABLE_SHARE:.0%} of all")
    summary = {"date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "fitted_on": fitted_on}
    if args.compare:
        t = time.time()
        summary["compare"] = dev_report(SpanReader.load(args.compare), dev) | {"folder": args.compare,
                                                                                "seconds": round(time.time() - t)}
        print(line(args.compare, summary["compare"]), flush=True)
    t = time.time()
    reader, ckpt = from_checkpoint(work / args.checkpoint)
    reader.model.to(args.device)
    r = summary["candidate"] = dev_report(reader, dev) | {"step": ckpt["step"], "seconds": round(time.time() - t),
                                                          "args": json.loads(ckpt["args"])}
    print(line(f"checkpoint step {ckpt['step']}", r), flush=True)
    work.mkdir(parents=True, exist_ok=True)
    (work / "export.json").write_text(json.dumps(summary, indent=1))
    if args.dry_run:
        return summary
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for p in out.iterdir():
        if p.is_file() and p.name != "MODEL_CARD.md":
            p.unlink()
    save_quantized(reader.model, out)
    (out / CALIBRATION).write_text(json.dumps({
        "margin_threshold": r["margin_threshold"], "fitted_on": fitted_on, "date": summary["date"],
        "step": ckpt["step"], "dev": {k: v["at_threshold"] for k, v in r.items()
                                      if isinstance(v, dict) and "at_threshold" in v}}, indent=1) + "\n")
    write_checksums(out)
    print(f"exported step {ckpt['step']} to {out}; margin_threshold {r['margin_threshold']:.4f}")
    return summary


if __name__ == "__main__":
    main()
