"""Tests of the trained extractive span reader (qa/reader). They load the shipped weights."""
import json
import math
import os
import shutil

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from qa.reader import ChecksumError, SpanReader, calibrate_threshold, calibrated_margin  # noqa: E402
from qa.reader.span import CALIBRATION, DEFAULT_FOLDER, WEIGHTS  # noqa: E402

GHOSN = "Carlos Ghosn was arrested in Tokyo in November 2018."
GHOSN_ID = "Carlos Ghosn ditangkap di Tokyo pada bulan November 2018 atas tuduhan penyimpangan keuangan."
UNRELATED = ("Photosynthesis is the process by which green plants use sunlight, water and carbon dioxide "
             "to produce glucose and oxygen. It takes place mainly in the chloroplasts of leaf cells.")
FILLER = [
    "The river flows slowly through the valley and feeds the farms along its banks.",
    "Many species of birds migrate south in the autumn to find warmer weather.",
    "The library was renovated last year and now holds more than fifty thousand books.",
    "Engineers tested the new bridge design with heavy trucks before it opened to traffic.",
    "The orchestra performed a symphony by a little-known composer from the nineteenth century.",
    "Farmers in the region grow rice, maize and cassava on terraced hillsides.",
    "A committee reviewed the budget and recommended cuts to several programmes.",
    "The museum displays pottery, coins and tools found during the excavation.",
]


@pytest.fixture(scope="module")
def reader():
    return SpanReader.load()


def test_shipped_weights_load_and_are_small(reader):
    assert (DEFAULT_FOLDER / "SHA256SUMS").is_file()
    assert (DEFAULT_FOLDER / "MODEL_CARD.md").is_file()
    size = sum(p.stat().st_size for p in DEFAULT_FOLDER.iterdir() if p.is_file())
    assert size <= 30 * 1024 * 1024
    assert not any(p.suffix in {".bin", ".pt", ".pth", ".pkl"} for p in DEFAULT_FOLDER.iterdir())


def test_tampered_copy_is_refused(tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(DEFAULT_FOLDER, copy)
    SpanReader.load(copy)  # the untouched copy loads
    w = copy / WEIGHTS
    raw = bytearray(w.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    w.write_bytes(bytes(raw))
    with pytest.raises(ChecksumError, match="checksum mismatch"):
        SpanReader.load(copy)
    (copy / "SHA256SUMS").unlink()
    with pytest.raises(ChecksumError, match="missing"):
        SpanReader.load(copy)


def test_bf16_weights_read_as_autocast_would(reader):
    """Where bf16 is fast the Linear weights are cast once at load; the logits are those of autocast over
    fp32 weights, which casts them on every call."""
    import torch
    from qa.reader.span import new_model

    if not reader.bf16:
        pytest.skip("no bf16 matrix units: the weights stay fp32")
    assert reader.model.qa_outputs.weight.dtype == torch.bfloat16
    model, tokenizer = new_model(DEFAULT_FOLDER)
    fp32 = SpanReader(model, tokenizer)
    assert fp32.bf16 and model.qa_outputs.weight.dtype == torch.float32
    question, passages = "Where was Carlos Ghosn arrested?", [GHOSN, UNRELATED]
    for a, b in zip(reader.logits([question] * 2, passages)[1:], fp32.logits([question] * 2, passages)[1:]):
        assert (a == b).all()


def test_answer_is_verbatim_and_right(reader):
    passages = [UNRELATED, GHOSN]
    spans = reader.read("Where was Carlos Ghosn arrested?", passages)
    best = spans[0]
    assert best.passage == 1
    answer = passages[best.passage][best.start:best.end]
    assert answer == best.text
    assert "Tokyo" in answer
    assert len(answer) <= 30
    assert spans == sorted(spans, key=lambda s: s.margin, reverse=True)


def test_name_before_a_comma_is_read_whole(reader):
    """The tokenizer keeps punctuation on its word ("Espinosa,"); answers still end at the name."""
    passage = "Nissan's new chief executive, Ivan Espinosa, said the company would rely on Renault."
    assert reader.read("Who is Nissan's new boss?", [passage])[0].text == "Ivan Espinosa"
    long_question = "Which person, named in the statement the company released this week, is the boss now?"
    assert reader.read(long_question, ["Ivan Espinosa."])[0].text == "Ivan Espinosa"  # passage shorter than question


def test_word_cuts_keep_words_whole_but_not_unspaced_scripts():
    from qa.reader.span import word_cuts

    text = "Captur, 1,5 liter 日产汽车"
    cuts = word_cuts(text)
    assert cuts[0] and cuts[6] and not cuts[3]  # "Captur" ends before the comma, never inside
    assert not cuts[text.index("5")] and cuts[text.index(" liter")]  # "1,5" is one figure
    assert all(cuts[text.index("日"):])  # Chinese is written without spaces: every character may cut


def test_indonesian_answer(reader):
    best = reader.read("Kapan Carlos Ghosn ditangkap?", [GHOSN_ID])[0]
    assert GHOSN_ID[best.start:best.end] == "November 2018"
    where = reader.read("Where was Carlos Ghosn arrested?", [GHOSN_ID])[0]  # the same passage, asked in English
    assert GHOSN_ID[where.start:where.end] == "Tokyo"


@pytest.mark.xfail(reason="'di mana' (where) questions in Indonesian: this reader answers the accusation, at a "
                          "low margin (-3.9) (model card, Known limitations)")
def test_indonesian_where_question(reader):
    best = reader.read("Di mana Carlos Ghosn ditangkap?", [GHOSN_ID])[0]
    assert "Tokyo" in GHOSN_ID[best.start:best.end]


def test_unanswerable_scores_lower(reader):
    q = "Where was Carlos Ghosn arrested?"
    good = reader.read(q, [GHOSN])[0]
    bad = reader.read(q, [UNRELATED])
    bad_score = reader.answerability(bad[0]) if bad else 0.0
    assert reader.answerability(good) > bad_score
    assert 0.0 <= bad_score <= 1.0


def _long(body_sentences):
    return " ".join(body_sentences) + " " + GHOSN + " " + FILLER[0]


def test_long_passage_answer_near_end_found_through_windows(reader):
    passage = _long([UNRELATED] * 30)
    n_tokens = len(reader.tokenizer(passage, add_special_tokens=False)["input_ids"])
    assert n_tokens > 1000
    assert passage.index("Tokyo") > 0.9 * len(passage)
    enc, _, _ = reader.logits(["Where was Carlos Ghosn arrested?"], [passage])
    assert len(enc["input_ids"]) > 3  # several stride windows, read in one forward pass
    spans = reader.read("Where was Carlos Ghosn arrested?", [passage])
    best = spans[0]
    assert "Tokyo" in passage[best.start:best.end]


def test_long_passage_with_varied_distractors(reader):
    passage = _long(FILLER[i % len(FILLER)] for i in range(75))
    assert len(reader.tokenizer(passage, add_special_tokens=False)["input_ids"]) > 1000
    best = reader.read("Where was Carlos Ghosn arrested?", [passage])[0]
    assert "Tokyo" in passage[best.start:best.end]


def test_calibrated_margin_is_shipped_float():
    assert CALIBRATION in (DEFAULT_FOLDER / "SHA256SUMS").read_text()
    m = calibrated_margin()
    assert isinstance(m, float) and math.isfinite(m)
    assert calibrated_margin(None) == m
    meta = json.loads((DEFAULT_FOLDER / CALIBRATION).read_text())
    assert meta["margin_threshold"] == m and meta["fitted_on"] and meta["date"]


def test_tampered_calibration_is_refused(tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(DEFAULT_FOLDER, copy)
    assert calibrated_margin(copy) == calibrated_margin()
    cal = copy / CALIBRATION
    meta = json.loads(cal.read_text())
    meta["margin_threshold"] = -1e9  # "always answer" smuggled in
    cal.write_text(json.dumps(meta))
    with pytest.raises(ChecksumError, match="checksum mismatch"):
        calibrated_margin(copy)
    cal.unlink()
    assert calibrated_margin(copy) == 0.0  # no calibration shipped: the model's own null decision


def test_calibration_weights_the_unanswerable_share():
    answerable, unanswerable = [1.0, 2.0, 3.0], [0.0, 2.5]
    assert calibrate_threshold(answerable, unanswerable, unanswerable_share=0.0) < -1e8  # never abstain
    assert calibrate_threshold(answerable, unanswerable, unanswerable_share=1.0) == 2.75  # abstain on all of u
    assert calibrate_threshold(answerable, unanswerable) == 0.5  # unweighted: only the 2.5 stays wrong
