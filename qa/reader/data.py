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
import hashlib
import csv
import functools
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


def load_squad_articles(path: str | Path, source: str, id_prefix: str = "") -> list[Record]:
    """SQuAD nested format, with ids made unique by `id_prefix` (some sets reuse ids across files)."""
    recs = load_squad(path, source)
    if id_prefix:
        for i, r in enumerate(recs):
            r.id = f"{id_prefix}-{i}-{r.id}"
    return recs


def english_sets() -> list[Record]:
    """All English training questions: SQuAD 1.1 train (its first 10 articles taken from the SQuAD 2.0
    copy, which has official offsets and 348 unanswerables), TyDi GoldP-en, SQuADShifts wiki and Reddit."""
    v2 = load_squad(SHARED / "train/squad2_en_first10/train-v2.0.first10articles.json", "squad2_first10")
    v2_titles = {r.title for r in v2}
    recs = [r for r in load_squad(SHARED / "train/squad11_en/train-v1.1.reconstructed.json", "squad11")
            if r.title not in v2_titles] + v2
    for name in ("train", "dev"):  # XTREME's 90/10 re-split of TyDi train: both halves are train data
        recs += load_squad_articles(SHARED / f"train/tydiqa_goldp_en/tydiqa.en.{name}.json", "tydiqa_en",
                                    f"tydi-en-{name}")
    for name in ("new_wiki", "reddit"):
        recs += load_squad(SHARED / f"train/squadshifts/{name}_v1.0.json", f"squadshifts_{name}")
    return recs


def indonesian_sets() -> list[Record]:
    """IDK-MRC train (with its unanswerables), TyDi GoldP-id train, FacQA train and valid."""
    recs = load_flat(SHARED / "train/idk_mrc/train.json", "idk_mrc")
    recs += load_flat(SHARED / "train/tydiqa_goldp_id/train.json", "tydiqa_id")
    for name in ("train", "valid"):
        recs += load_facqa(SHARED / f"train/facqa_id/{name}_preprocess.csv", "facqa")
    return recs


def is_dev_title(title: str) -> bool:
    """SQuAD 1.1 train articles held out as the English dev split (about 2% of them, fixed by a hash)."""
    return bool(title) and int(hashlib.sha256(title.encode()).hexdigest(), 16) % 50 == 0


def split_records() -> tuple[list[Record], list[Record]]:
    """(train, English dev): every question in ../shared/train, deduplicated, benchmark-overlap ids
    removed; the SQuAD 1.1 articles picked by `is_dev_title` are the English dev split. Read once per
    process (training, dev and packing all start from it); each call gets its own lists."""
    train, dev = _split()
    return list(train), list(dev)


@functools.lru_cache(maxsize=1)
def _split() -> tuple[tuple[Record, ...], tuple[Record, ...]]:
    train, dev = [], []
    for r in dedup(english_sets() + indonesian_sets()):
        (dev if r.source == "squad11" and is_dev_title(r.title) else train).append(r)
    return tuple(train), tuple(dev)


def training_records() -> list[Record]:
    return split_records()[0]


def same_article_negatives(records: list[Record], share: float, rng) -> list[Record]:
    """Unanswerable pairs of the kind retrieval brings: a question with another paragraph of the same
    article that does not hold its answer. About `share` of the answerable questions get one."""
    by_title: dict[tuple, dict[str, str]] = {}
    for r in records:
        if r.title:
            by_title.setdefault((r.source, r.title), {}).setdefault(r.context, "")
    out = []
    for r in records:
        if r.is_impossible or not r.title or rng.random() >= share:
            continue
        contexts = by_title[(r.source, r.title)]
        others = [c for c in contexts if c != r.context]
        answer = normalize_answer(r.answer_text)
        for c in rng.sample(others, min(3, len(others))):
            if not contexts[c]:
                contexts[c] = normalize_answer(c)
            if answer not in contexts[c]:
                out.append(Record(r.id + "-neg", r.question, c, "", None, [], r.title, r.source + "-neg"))
                break
    return out


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, the spaces after it included, covering all of it."""
    cuts = [0] + [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text)]
    return list(zip(cuts, cuts[1:]))


def answer_removed_negatives(records: list[Record], share: float, rng) -> list[Record]:
    """Unanswerable pairs of the kind SQuAD 2.0 and our seeds' traps hold: a question with its own
    paragraph minus the sentence(s) that state its answer, so everything around it still matches the
    question. About `share` of the answerable questions get one (when the answer is not stated twice)."""
    out = []
    for r in records:
        if r.is_impossible or rng.random() >= share:
            continue
        a_start, a_end = r.answer_start, r.answer_start + len(r.answer_text)
        kept = [r.context[b:e] for b, e in _sentence_spans(r.context) if e <= a_start or b >= a_end]
        if len(kept) < 2:
            continue
        context = "".join(kept).strip()
        if normalize_answer(r.answer_text) in normalize_answer(context):
            continue
        out.append(Record(r.id + "-rm", r.question, context, "", None, [], r.title, r.source + "-rm"))
    return out


def distractor_sentence_questions(records: list[Record], share: float, rng) -> list[Record]:
    """Extra copies of answerable questions whose answer sits outside the sentence that shares the most
    words with the question (16% of them): the answer is named a sentence away from the words the question
    repeats ("The city's new mayor wants to reopen the Regent. Maria Costa said so on Monday." for "Who is
    the new mayor?"), the case a reader that takes the nearest span to the matching words gets wrong.
    About `share` of them get one more copy."""
    from ..answer_types import STOPWORDS
    from ..lexical import terms

    out = []
    for r in records:
        if r.is_impossible or rng.random() >= share:
            continue
        spans = _sentence_spans(r.context)
        holder = next((i for i, (b, e) in enumerate(spans) if b <= r.answer_start < e), None)
        if len(spans) < 2 or holder is None:
            continue
        question = set(terms(r.question)) - STOPWORDS
        shared = [len(question.intersection(terms(r.context[b:e]))) for b, e in spans]
        if shared[holder] < max(shared):
            out.append(Record(r.id + "-far", r.question, r.context, r.answer_text, r.answer_start,
                              r.all_answers, r.title, r.source))
    return out


_WORD = re.compile(r"\w+(?:['’.-]\w+)*")
_YEAR = re.compile(r"\b1[0-9]\d\d\b|\b20\d\d\b")
INDONESIAN_SOURCES = ("idk_mrc", "tydiqa_id", "facqa")


def _names(question: str) -> list[tuple[int, int]]:
    """(start, end) of each run of capitalised words in `question`, except a run at its first word."""
    runs, cur = [], None
    for m in _WORD.finditer(question):
        if m.group()[0].isupper() and m.start() > 0:
            if cur and question[cur[1]:m.start()] == " ":
                cur = (cur[0], m.end())
            else:
                if cur:
                    runs.append(cur)
                cur = (m.start(), m.end())
        elif cur:
            runs.append(cur)
            cur = None
    runs += [cur] if cur else []
    return [(s, e - 2 if question[e - 2:e] in ("'s", "’s") else e) for s, e in runs]


def entity_swapped_negatives(records: list[Record], share: float, rng) -> list[Record]:
    """Unanswerable pairs of SQuAD 2.0's "entity swap" kind: a question on its own paragraph with a name
    (or a year) the paragraph uses swapped for one it never mentions (a name from another question in the
    same language, a year a few away), so the words around it still match. About `share` of the answerable
    questions that have such a name get one."""
    pools: dict[bool, list[str]] = {True: [], False: []}
    for r in records:
        if not r.is_impossible:
            pools[r.source.startswith(INDONESIAN_SOURCES)] += [r.question[s:e] for s, e in _names(r.question)
                                                               if r.question[s:e] in r.context]
    out = []
    for r in records:
        if r.is_impossible or rng.random() >= share:
            continue
        names = [(s, e) for s, e in _names(r.question) if r.question[s:e] in r.context]
        years = [(m.start(), m.end()) for m in _YEAR.finditer(r.question) if m.group() in r.context]
        context = normalize_answer(r.context)
        new = None
        if years and (not names or rng.random() < 0.5):
            s, e = rng.choice(years)
            for _ in range(10):
                year = str(int(r.question[s:e]) + rng.choice((-1, 1)) * rng.randint(1, 20))
                if year not in r.context:
                    new = year
                    break
        elif names:
            s, e = rng.choice(names)
            pool = pools[r.source.startswith(INDONESIAN_SOURCES)]
            words = len(r.question[s:e].split())
            for tries in range(20):  # a name of as many words first: "Who ruled Savoy?" -> "Who ruled Aragon?"
                pick = rng.choice(pool)
                if tries < 10 and len(pick.split()) != words:
                    continue
                key = normalize_answer(pick)
                if key and key not in context:
                    new = pick
                    break
        if new is None:
            continue
        question = r.question[:s] + new + r.question[e:]
        out.append(Record(r.id + "-swap", question, r.context, "", None, [], r.title, r.source + "-swap"))
    return out


def mentioned_swapped_negatives(records: list[Record], share: float, rng,
                                inside: bool = False) -> list[Record]:
    """Unanswerable pairs the way SQuAD 2.0's writers made most of theirs: a name (or year) in the question
    swapped for another one its own paragraph mentions outside the sentence that states the answer ("Who is
    Nissan's new boss?" -> "Who is Renault's new boss?" when Renault is named elsewhere), so every word still
    matches the paragraph but what is asked is not said. About `share` of the answerable questions that
    have such a name get one.

    `inside`: the name swapped out and the one swapped in both stand in the answer's own sentence ("Who is
    Renault's chief?" -> "Who is Mitsubishi's chief?" over "Renault's chief Luca de Meo met Mitsubishi's ..."), so
    where the question's words sit says nothing: outside swaps also taught that an answer a sentence away
    from the question's name is no answer, which news text, referring back, contradicts (README)."""
    from ..answer_types import STOPWORDS

    out = []
    for r in records:
        if r.is_impossible or rng.random() >= share:
            continue
        a_start, a_end = r.answer_start, r.answer_start + len(r.answer_text)
        spans = _sentence_spans(r.context)
        holder = "".join(r.context[b:e] for b, e in spans if b < a_end and e > a_start)
        outside = [r.context[b:e] for b, e in spans if e <= a_start or b >= a_end]
        named_in = holder if inside else r.context  # where the name swapped out must stand
        pick_from = [holder.replace(r.answer_text, " , ")] if inside else outside  # where the new one comes from
        names = [(s, e) for s, e in _names(r.question) if r.question[s:e] in named_in]
        years = [(m.start(), m.end()) for m in _YEAR.finditer(r.question) if m.group() in named_in]
        if not (names or years) or not pick_from:
            continue
        if years and (not names or rng.random() < 0.5):
            s, e = rng.choice(years)
            pool = {m.group() for t in pick_from for m in _YEAR.finditer(t)}
        else:
            s, e = rng.choice(names)
            pool = {u[b:f] for u in (t.strip() for t in pick_from) for b, f in _names(u)}
        old = set(normalize_answer(r.question[s:e]).split())
        answer = set(normalize_answer(r.answer_text).split())
        held = normalize_answer(holder)
        lower = {w for w in _WORD.findall(r.context) if w.islower()}
        fits = [p for p in sorted(pool)  # not a common word that a sentence happened to start with
                if len(p) > 2 and not (inside and ("'" in p or "’" in p))  # no "I'm" or "Nissan's" swapped in
                and (key := normalize_answer(p)) and not old & set(key.split())
                and not (len(key.split()) == 1 and (key in lower or key in STOPWORDS))
                and not answer & set(key.split()) and (inside or f" {key} " not in f" {held} ")
                and key not in normalize_answer(r.question)]
        if not fits:
            continue
        words = len(r.question[s:e].split())  # a name of as many words first
        new = rng.choice([p for p in fits if len(p.split()) == words] or fits)
        question = r.question[:s] + new + r.question[e:]
        kind = "-ins" if inside else "-ment"
        out.append(Record(r.id + kind, question, r.context, "", None, [], r.title, r.source + kind))
    return out


# Opposites SQuAD 2.0's writers swapped in ("largest" -> "smallest"; 20% of its unanswerables as annotated by
# SQuAD2-CR): common English comparison, direction and change words, each way.
_OPPOSITES = dict(pair for a, b in (
    ("first", "last"), ("largest", "smallest"), ("biggest", "smallest"), ("most", "least"), ("more", "less"),
    ("highest", "lowest"), ("high", "low"), ("higher", "lower"), ("longest", "shortest"), ("long", "short"),
    ("earliest", "latest"), ("early", "late"), ("earlier", "later"), ("before", "after"), ("north", "south"),
    ("east", "west"), ("northern", "southern"), ("eastern", "western"), ("increase", "decrease"),
    ("increased", "decreased"), ("rise", "fall"), ("won", "lost"), ("win", "lose"), ("major", "minor"),
    ("maximum", "minimum"), ("top", "bottom"), ("upper", "lower"), ("inner", "outer"), ("internal", "external"),
    ("oldest", "newest"), ("ancient", "modern"), ("began", "ended"), ("start", "end"), ("started", "ended"),
    ("opened", "closed"), ("buy", "sell"), ("bought", "sold"), ("import", "export"), ("imported", "exported"),
    ("positive", "negative"), ("success", "failure"), ("successful", "unsuccessful"), ("accepted", "rejected"),
    ("allowed", "banned"), ("included", "excluded"), ("above", "below"), ("inside", "outside"),
    ("private", "public"), ("rich", "poor"), ("strongest", "weakest"), ("strong", "weak"), ("hot", "cold"),
    ("wet", "dry"), ("male", "female"), ("men", "women"), ("legal", "illegal"), ("common", "rare"),
    ("cheap", "expensive"), ("fastest", "slowest"), ("fast", "slow"), ("large", "small"), ("wide", "narrow"),
    ("deep", "shallow"), ("youngest", "oldest"), ("primary", "secondary"), ("gain", "loss"), ("profit", "loss"),
    ("supported", "opposed"), ("support", "oppose"), ("majority", "minority"), ("best", "worst"),
    ("better", "worse"), ("victory", "defeat"), ("born", "died"), ("birth", "death"), ("created", "destroyed"),
    ("raised", "lowered"), ("added", "removed"), ("increasing", "decreasing"),
    ("southernmost", "northernmost"), ("easternmost", "westernmost"), ("inland", "coastal"), ("entered", "left"),
) for pair in ((a, b), (b, a)) if pair[0] not in ("lower", "loss", "left"))  # two opposites each: never swapped
# "What did X invent?" -> "What didn't X invent?"; "Who was the first ...?" -> "Who was not the first ...?"
_CONTRACTED = {"did": "didn't", "does": "doesn't", "do": "don't", "can": "can't", "could": "couldn't",
               "would": "wouldn't", "will": "won't", "has": "hasn't", "have": "haven't", "had": "hadn't",
               "should": "shouldn't"}
_COPULAS = ("is", "was", "are", "were")
_NEGATIONS = re.compile(r"\b(?:not|never|no|none|nor|without)\b|n't\b", re.I)


def reworded_negatives(records: list[Record], share: float, rng) -> list[Record]:
    """Unanswerable pairs of SQuAD 2.0's "negation" and "antonym" kinds (29% of its unanswerables as annotated
    by SQuAD2-CR; name swaps are `mentioned_swapped_negatives`): an English question on its own paragraph with
    a word the paragraph uses turned into its opposite ("the largest city" -> "the smallest city", when the
    paragraph never says "smallest"), or its verb negated ("What did Tesla invent?" -> "What didn't Tesla
    invent?", when the answer's sentence holds no negation), so nearly every word still matches. About `share`
    of the answerable English questions that allow an opposite get one, and about a third of that of the ones
    that allow only a negation."""
    out = []
    for r in records:
        if r.is_impossible or r.source.startswith(INDONESIAN_SOURCES) or rng.random() >= share:
            continue
        a_start, a_end = r.answer_start, r.answer_start + len(r.answer_text)
        holder = "".join(r.context[b:e] for b, e in _sentence_spans(r.context) if b < a_end and e > a_start)
        said = {w.lower() for w in _WORD.findall(r.context)}
        words = list(_WORD.finditer(r.question))
        opposites = [(m, _OPPOSITES[m.group().lower()]) for m in words
                     if m.group().lower() in _OPPOSITES and m.group().lower() in said
                     and _OPPOSITES[m.group().lower()] not in said]
        negatable = [] if _NEGATIONS.search(r.question) or _NEGATIONS.search(holder) else [
            m for m in words[1:3] if m.group().lower() in _CONTRACTED or m.group().lower() in _COPULAS]
        if not opposites and (not negatable or rng.random() >= 0.35):  # negations are 9% of SQuAD 2.0's, opposites 20%
            continue
        if opposites:
            m, new = rng.choice(opposites)
            kind = "-opp"
        else:
            m = negatable[0]
            word = m.group().lower()
            new = m.group() + " not" if word in _COPULAS else _CONTRACTED[word]
            kind = "-not"
        new = new[0].upper() + new[1:] if m.group()[0].isupper() else new
        question = r.question[:m.start()] + new + r.question[m.end():]
        out.append(Record(r.id + kind, question, r.context, "", None, [], r.title, r.source + kind))
    return out


def dev_records() -> dict[str, list[Record]]:
    """Dev splits (never test sets): the held-out SQuAD 1.1 articles with same-article negatives
    (English) and IDK-MRC valid (Indonesian, with its own unanswerables)."""
    import random

    en = split_records()[1]
    en += same_article_negatives(en, 0.25, random.Random(7))
    return {"en_dev": en, "idk_mrc_valid": load_flat(SHARED / "bench/idk_mrc/valid.json", "idk_mrc_valid")}


XQUAD_LANGS = ("en", "es", "de", "el", "ru", "tr", "ar", "vi", "th", "zh", "hi", "ro")
# the gold-paragraph benchmarks of bench/reader.py (never trained on), by set name
BENCH_FILES = {"squad2": "bench/squad2_dev_full/dev-v2.0.reconstructed.json", "xquad_en": "bench/xquad/xquad.en.json",
               "idk_mrc": "bench/idk_mrc/test.json",
               **{f"xquad_{x}": f"bench/xquad/xquad.{x}.json" for x in XQUAD_LANGS if x != "en"}}


def load_bench(name: str) -> list[Record]:
    """One benchmark set of BENCH_FILES as flat records."""
    if name not in BENCH_FILES:
        raise ValueError(f"unknown benchmark set {name!r}; choose from {', '.join(BENCH_FILES)}")
    path = SHARED / BENCH_FILES[name]
    return load_flat(path, name) if name == "idk_mrc" else load_squad(path, name)


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
