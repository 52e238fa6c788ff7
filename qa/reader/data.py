"""Loaders that turn the extractive-QA training/bench formats into flat `Record`s.

Formats handled:
- SQuAD nested (v1.1 / v2.0): {"data": [{"title", "paragraphs": [{"context", "qas": [...]}]}]}
- flat list (IDK-MRC, TyDi GoldP re-split): [{"context", "qas": [{"id", "is_impossible", "question", "answers"}]}]
- IndoNLU FacQA CSV: columns question, passage, seq_label, each a Python-literal list of tokens / BIO tags.
  Tokens are joined with single spaces; the first B..I run becomes the answer span.

Answers whose `answer_start` does not match their text (a few upstream annotation errors) are
re-anchored by searching the text in the context; if not found, the answer is dropped.
"""
from __future__ import annotations

import ast
import csv
import json
import re
import string
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..settings import SHARED_DIR

SHARED = SHARED_DIR

# Question ids that overlap the benchmarks (listed in ../shared/train/README.md); never train on them.
EXCLUDED_IDS = frozenset({
    "indonesian--1126210268286766618-0",
    "indonesian-3515746694782013928-1",
    "indonesian-3267168138258304397-10-unans-m-1",
    "indonesian-3283543765806791008-1-unans-m-1",
    "indonesian--6727848765086199754-0-unans-m-1",
    "indonesian-4934559560484724894-0",
    "indonesian--1088078990254537654-0",
})


@dataclass
class Record:
    id: str
    question: str
    context: str
    answer_text: str  # "" when unanswerable
    answer_start: int | None  # None when unanswerable
    all_answers: list[str] = field(default_factory=list)  # every reference answer (for EM/F1)
    title: str = ""
    source: str = ""

    @property
    def is_impossible(self) -> bool:
        return self.answer_start is None


def _anchor(context: str, text: str, start: int | None) -> int | None:
    if start is not None and 0 <= start and context[start:start + len(text)] == text:
        return start
    pos = context.find(text)
    return pos if pos >= 0 and text else None


def _qa_records(context: str, qas: list, title: str, source: str) -> list[Record]:
    out = []
    for qa in qas:
        answers = qa.get("answers") or []
        impossible = bool(qa.get("is_impossible", False)) or not answers
        texts = [a["text"] for a in answers]
        if impossible:
            out.append(Record(qa["id"], qa["question"], context, "", None, [], title, source))
            continue
        start = None
        text = ""
        for a in answers:
            start = _anchor(context, a["text"], a.get("answer_start"))
            if start is not None:
                text = a["text"]
                break
        if start is None:
            continue  # unrecoverable annotation
        out.append(Record(qa["id"], qa["question"], context, text, start, texts, title, source))
    return out


def load_squad(path: str | Path, source: str = "squad") -> list[Record]:
    """SQuAD nested format (v1.1 or v2.0)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    out = []
    for art in data["data"]:
        for p in art["paragraphs"]:
            out.extend(_qa_records(p["context"], p["qas"], art.get("title", ""), source))
    return out


def load_flat(path: str | Path, source: str = "flat") -> list[Record]:
    """Flat list format used by IDK-MRC and its TyDi GoldP re-split."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    out = []
    for p in data:
        out.extend(_qa_records(p["context"], p["qas"], p.get("title", ""), source))
    return out


def load_facqa(path: str | Path, source: str = "facqa") -> list[Record]:
    """IndoNLU FacQA CSV (token / BIO rows) -> character spans over the space-joined passage."""
    out = []
    with open(path, encoding="utf-8", newline="") as f:
        for i, row in enumerate(csv.DictReader(f)):
            q = " ".join(ast.literal_eval(row["question"]))
            toks = ast.literal_eval(row["passage"])
            tags = ast.literal_eval(row["seq_label"])
            starts, pos = [], 0
            for t in toks:
                starts.append(pos)
                pos += len(t) + 1
            context = " ".join(toks)
            b = next((k for k, t in enumerate(tags) if t == "B"), None)
            if b is None:
                b = next((k for k, t in enumerate(tags) if t == "I"), None)
            if b is None:
                continue
            e = b
            while e + 1 < len(tags) and tags[e + 1] == "I":
                e += 1
            s, end = starts[b], starts[e] + len(toks[e])
            text = context[s:end]
            out.append(Record(f"facqa-{Path(path).stem}-{i}", q, context, text, s, [text], "", source))
    return out


def dedup(records: list[Record]) -> list[Record]:
    seen, out = set(), []
    for r in records:
        if r.id in seen or r.id in EXCLUDED_IDS:
            continue
        seen.add(r.id)
        out.append(r)
    return out


# English SQuAD dev article kept out of training as the English dev split (threshold / per-epoch F1).
EN_DEV_TITLES = frozenset({"1973_oil_crisis"})


def squad_en() -> list[Record]:
    return load_squad(SHARED / "bench/squad2_en_cs224n/dev-v2.0.json", "squad2_en")


def training_records() -> list[Record]:
    """All training records: IDK-MRC train + TyDi GoldP-id train + FacQA train + English SQuAD 2.0
    (cs224n dev half, minus the English dev article). Deduplicated by id, overlap ids removed."""
    recs = load_flat(SHARED / "train/idk_mrc/train.json", "idk_mrc")
    recs += load_flat(SHARED / "train/tydiqa_goldp_id/train.json", "tydiqa_id")
    recs += load_facqa(SHARED / "train/facqa_id/train_preprocess.csv", "facqa")
    recs += [r for r in squad_en() if r.title not in EN_DEV_TITLES]
    return dedup(recs)


def dev_records() -> dict[str, list[Record]]:
    """Dev splits: IDK-MRC valid (Indonesian) and the held-out SQuAD 2.0 article (English)."""
    return {
        "idk_mrc_valid": load_flat(SHARED / "bench/idk_mrc/valid.json", "idk_mrc_valid"),
        "squad_en_dev": [r for r in squad_en() if r.title in EN_DEV_TITLES],
    }


def test_records() -> dict[str, list[Record]]:
    """Held-out evaluation: XQuAD-en articles not among the 16 SQuAD dev articles; IDK-MRC test."""
    train_titles = {r.title for r in squad_en()}
    xq = [r for r in load_squad(SHARED / "bench/xquad/xquad.en.json", "xquad_en") if r.title not in train_titles]
    return {"xquad_en_heldout": xq, "idk_mrc_test": load_flat(SHARED / "bench/idk_mrc/test.json", "idk_mrc_test")}


# ---- SQuAD v2 metric -------------------------------------------------------------------------

def normalize_answer(s: str) -> str:
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def exact(gold: str, pred: str) -> float:
    return float(normalize_answer(gold) == normalize_answer(pred))


def f1(gold: str, pred: str) -> float:
    g, p = normalize_answer(gold).split(), normalize_answer(pred).split()
    if not g or not p:
        return float(g == p)
    common = Counter(g) & Counter(p)
    same = sum(common.values())
    if same == 0:
        return 0.0
    pr, rc = same / len(p), same / len(g)
    return 2 * pr * rc / (pr + rc)


def score_record(r: Record, pred: str) -> tuple[float, float]:
    """(EM, F1) of a prediction; an unanswerable question is right only if `pred` is empty."""
    golds = r.all_answers if not r.is_impossible else [""]
    golds = golds or [r.answer_text]
    return max(exact(g, pred) for g in golds), max(f1(g, pred) for g in golds)
