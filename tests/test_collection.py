"""Adding and removing articles: files land only inside the folder, the index changes incrementally
(unchanged articles keep their vectors), errors are clear, and everything survives a restart."""
import numpy as np
import pytest

import qa
from qa.api import open_or_build
from qa.collection import ArticleError, safe_name

ARTICLE = "Kestrel Motors hires 640 people\n\nKestrel Motors said its Tampere plant will employ 640 people.\n"


def _vectors(index, doc_id):
    rows = [c.chunk_id for c in index.chunks if c.doc_id == doc_id]
    return index.chunk_vectors.all()[rows]


def test_add_then_remove_survives_a_restart_without_re_embedding(collection, seed_index):
    coll, chosen = collection
    change = coll.add("kestrel.txt", ARTICLE.encode("cp1252"))
    assert change.action == "added" and change.doc_id == "kestrel"
    assert (chosen.seeds_dir / "kestrel.txt").is_file()
    ans = qa.answer("How many people will the Tampere plant employ?", index=coll.index, settings=chosen)
    assert "640" in ans.text and ans.citations[0].doc_id == "kestrel"
    kept = "000_b010cb9e285ec495"
    assert np.array_equal(_vectors(coll.index, kept), _vectors(seed_index, kept)), "unchanged article re-embedded"

    restarted = open_or_build(chosen.seeds_dir, chosen.index_dir, chosen)
    assert set(restarted.documents) == set(coll.index.documents)
    assert restarted.manifest["build_seconds"] == seed_index.manifest["build_seconds"], "rebuilt from scratch"

    coll.remove("kestrel")
    assert not (chosen.seeds_dir / "kestrel.txt").exists()
    assert list((chosen.seeds_dir / ".removed").glob("*kestrel.txt")), "a removed article is kept aside, not lost"
    again = open_or_build(chosen.seeds_dir, chosen.index_dir, chosen)
    assert "kestrel" not in again.documents and len(again.chunks) == len(seed_index.chunks)


def test_changed_file_on_disk_is_re_embedded_alone(collection, seed_index):
    coll, chosen = collection
    path = chosen.seeds_dir / "004_c70634c124d9b7e4.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nRenault also opened a plant on the Moon in 2031.\n",
                    encoding="utf-8")
    index, changes = coll.index.sync(qa.ingest.read_folder(chosen.seeds_dir))
    assert changes == {"added": [], "changed": ["004_c70634c124d9b7e4"], "removed": []}
    assert np.array_equal(_vectors(index, "002_11c4eb88deb26ba2"), _vectors(seed_index, "002_11c4eb88deb26ba2"))
    assert "Moon" in index.documents["004_c70634c124d9b7e4"].text
    same, nothing = index.sync(qa.ingest.read_folder(chosen.seeds_dir))
    assert same is index and not any(nothing.values())


def test_bad_articles_are_refused_with_a_reason_and_nothing_changes(collection):
    coll, chosen = collection
    before = sorted(p.name for p in chosen.seeds_dir.iterdir())
    cases = {
        ("empty.txt", b"   \n"): "empty",
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200)): "binary",
        ("notes.odt", b"PK\x03\x04"): "only .txt",
        ("notes.pdf", b"%PDF-1.4"): "damaged",
        ("copy.txt", (chosen.seeds_dir / "000_b010cb9e285ec495.txt").read_bytes()): "already in the collection",
    }
    for (name, data), why in cases.items():
        with pytest.raises(ArticleError, match=why):
            coll.add(name, data)
    with pytest.raises(ArticleError, match="no article"):
        coll.remove("../index/manifest")
    assert sorted(p.name for p in chosen.seeds_dir.iterdir()) == before


def test_upload_names_cannot_leave_the_folder(collection):
    coll, chosen = collection
    assert safe_name("../../etc/passwd.txt") == ("passwd", ".txt")
    assert safe_name("..\\..\\win.md") == ("win", ".md")
    assert safe_name("Rapport annuel 2024 — été.txt") == ("Rapport annuel 2024 — été", ".txt")
    with pytest.raises(ArticleError):
        safe_name("../.txt")
    change = coll.add("../../outside.txt", ARTICLE)
    assert (chosen.seeds_dir / "outside.txt").is_file() and not (chosen.seeds_dir.parent / "outside.txt").exists()
    assert change.doc_id == "outside"


def test_same_name_new_content_replaces_the_article(collection):
    coll, chosen = collection
    coll.add("kestrel.md", ARTICLE)
    change = coll.add("kestrel.md", ARTICLE.replace("640", "720"))
    assert change.action == "replaced"
    assert "720" in coll.index.documents["kestrel"].text and "640" not in coll.index.documents["kestrel"].text
    assert sum(1 for c in coll.index.chunks if c.doc_id == "kestrel") >= 1
