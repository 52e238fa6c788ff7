"""The training command end to end on a few steps: checkpoint, resume, anneal, export with checksums, load."""
import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from qa.reader import SpanReader, calibrated_margin  # noqa: E402
from qa.reader import export, train  # noqa: E402


def test_train_resume_export_load(tmp_path):
    work, out = tmp_path / "run", tmp_path / "reader"
    small = ["--work", str(work), "--batch", "2", "--max-len", "96", "--stride", "48", "--dev-limit", "8",
             "--warmup", "2", "--ckpt-every", "1000", "--eval-every", "2"]
    train.main(small + ["--max-steps", "2"])
    assert (work / train.CHECKPOINT).is_file()
    model_sd, opt_sd, meta = train.load_checkpoint(work / train.CHECKPOINT)
    assert meta["step"] == 2 and opt_sd["state"] and "qa_outputs.weight" in model_sd
    train.main(small + ["--max-steps", "3"])  # goes on from step 2
    log = (work / "train.log").read_text()
    assert "resumed from" in log and "dev at step 2" in log
    assert train.load_checkpoint(work / train.CHECKPOINT)[2]["step"] == 3
    before = (work / train.CHECKPOINT).read_bytes()
    train.main(small + ["--anneal", "1"])  # a decayed branch: the main checkpoint stays as it was
    assert (work / train.CHECKPOINT).read_bytes() == before
    assert train.load_checkpoint(work / train.ANNEALED)[2]["step"] == 4
    summary = export.main(["--work", str(work), "--out", str(out), "--dev-limit", "8",
                           "--checkpoint", train.ANNEALED])
    assert summary["candidate"]["step"] == 4
    reader = SpanReader.load(out)  # checksums verified, embeddings from the wheel
    assert json.loads((out / "config.json").read_text())["reader_base"]["base_sha256"]
    assert isinstance(calibrated_margin(out), float)
    spans = reader.read("Where was Carlos Ghosn arrested?", ["Carlos Ghosn was arrested in Tokyo."])
    assert all("Carlos Ghosn was arrested in Tokyo."[s.start:s.end] == s.text for s in spans)
    size = sum(p.stat().st_size for p in out.iterdir())
    assert size < 50 * 2 ** 20


def test_answer_removed_negatives_drop_the_answer_sentence_only():
    import random

    from qa.reader.data import Record, answer_removed_negatives

    context = ("Renault builds the Twingo in Novo Mesto. The plant opened in 1973. "
               "Nissan will sell its own version from 2026.")
    start = context.index("1973")
    r = Record("q1", "When did the plant open?", context, "1973", start, ["1973"], "t", "squad11")
    twice = Record("q2", "Where is the Twingo built?", context + " Novo Mesto is in Slovenia.", "Novo Mesto",
                   context.index("Novo Mesto"), ["Novo Mesto"], "t", "squad11")
    (neg,) = answer_removed_negatives([r, twice], 1.0, random.Random(0))  # the answer stated twice: no pair
    assert neg.is_impossible and neg.question == r.question and neg.source == "squad11-rm"
    assert "1973" not in neg.context and "Novo Mesto" in neg.context and "from 2026" in neg.context
