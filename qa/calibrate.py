"""Abstention: turn the evidence signals into a calibrated confidence, fitted on labelled data.

A small logistic regression per embedder (its similarity scale is its own), and one over the span
reader's margin (`SPAN_READER`), fitted by `bench/calibrate.py` on training data with unanswerable
questions (never on ../shared/bench); the weights and the chosen thresholds live in `qa/calibration.json`,
never in code.
"""
from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import numpy as np

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
# the share of unanswerable questions abstention is fitted for: the benchmarks hold one in two, but people
# mostly ask what their articles cover (used by bench/calibrate.py and by the span reader's export)
UNANSWERABLE_SHARE = 0.2
# Signals the reader reports; the fitted model names the subset it uses.
FEATURES = ("dense", "lexical", "window_lexical", "missing", "chunk", "closeness", "typed")
# the entry for the span reader's own confidence: its margin (best span score - no-answer score)
SPAN_READER = "span_reader"


@functools.lru_cache(maxsize=1)
def _table() -> dict:
    if not CALIBRATION_FILE.exists():
        return {}
    return json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))


def model(embedder: str) -> dict | None:
    """The fitted model for `embedder` ({weights, bias, threshold, ...}), or None if it has none."""
    return _table().get(embedder)


def confidence(signals: dict[str, float], embedder: str) -> float:
    """Probability that the evidence supports the answer; without a model for the embedder, the
    plain sentence score squashed to 0..1 (no calibration: see README)."""
    m = model(embedder)
    if m is None:
        return 1 / (1 + math.exp(-signals.get("dense", 0.0)))
    return probability(m, signals)


def reader_confidence(margin: float) -> float:
    """Probability that the span reader's answer is right, from its margin alone (0 without a fitted model)."""
    m = model(SPAN_READER)
    return probability(m, {"margin": margin}) if m else 0.0


def probability(m: dict, signals: dict[str, float]) -> float:
    """A fitted model's probability for these signals (missing ones count as 0)."""
    z = m["bias"] + sum(w * signals.get(f, 0.0) for f, w in zip(m["features"], m["weights"]))
    return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))  # below 1.0, so a threshold of 1.0 never passes


def reader_threshold() -> float:
    """The reader confidence at which it answers even when the evidence check would abstain (never: 1.0
    without a fitted model)."""
    m = model(SPAN_READER)
    return float(m["threshold"]) if m else 1.0


def default_threshold(embedder: str) -> float:
    """The confidence below which we abstain, as chosen on the calibration data (0: never)."""
    m = model(embedder)
    return float(m["threshold"]) if m else 0.0


def fit(x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None, l2: float = 1e-2,
        steps: int = 5000, lr: float = 0.5) -> tuple[np.ndarray, float]:
    """(Weighted) L2-regularised logistic regression by gradient descent on standardised features;
    returns weights and bias for the raw features."""
    sw = np.ones(len(y)) if sample_weight is None else sample_weight / sample_weight.mean()
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mu) / sd
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        g = sw * (p - y)
        w -= lr * (z.T @ g / len(y) + l2 * w)
        b -= lr * float(np.mean(g))
    return w / sd, b - float(np.sum(w * mu / sd))
