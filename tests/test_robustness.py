"""Bad input never crashes and never loses anything: odd article files, damaged or half-built index
folders, random and adversarial texts (hypothesis); nothing is unpickled, nothing leaves the folders."""
import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

import qa
from qa.chunk import chunk_document, fit_sentences, sentences
from qa.ingest import MAX_ARTICLE_BYTES, read_folder
from qa.settings import REPO_ROOT
from qa.store import FILES, BadIndexError, Index, _sha256
from qa.tokens import get_encoding
from qa.types import Document

TEXT = "Kestrel Motors opened a plant in Tampere. It will employ 640 people and cost 410 million euros.\n"


def test_article_files_of_every_kind(tmp_path):
    """Each odd file is indexed with its text intact, or skipped with the reason; the rest still load."""
    d = tmp_path / "articles"
    d.mkdir()
    (d / "good.txt").write_text(TEXT, encoding="utf-8")
    (d / "empty.txt").write_bytes(b"")
    (d / "blank.md").write_text(" \n\n\t\n")
    (d / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    (d / "latin1.txt").write_bytes("Le coût de la Dacia électrique reste très élevé à Montréal.\n".encode("latin-1"))
    (d / "cp1252.txt").write_bytes("“Renault’s price is €18,000 — final,” he said.\n".encode("cp1252"))
    (d / "utf16.txt").write_bytes("Nissan berencana meluncurkan mobil listrik baru.\n".encode("utf-16"))
    with open(d / "huge.txt", "wb") as f:  # 50 MB, sparse: refused by size before it is read
        f.truncate(50_000_000)
    (d / "copy of good.txt").write_text(TEXT, encoding="utf-8")
    (d / "name with spaces and été.md").write_text("# Été\n\nUn article au nom accentué.\n", encoding="utf-8")
    corpus = read_folder(d)
    texts = {doc.doc_id: doc.text for doc in corpus.documents}
    reasons = {Path(p).name: why for p, why in corpus.skipped.items()}
    assert texts["latin1"].startswith("Le coût de la Dacia électrique reste très élevé")
    assert texts["cp1252"].startswith("“Renault’s price is €18,000 — final,”")
    assert texts["utf16"].startswith("Nissan berencana")
    assert texts["name with spaces and été"].startswith("# Été")
    assert "empty" in reasons["empty.txt"] and "empty" in reasons["blank.md"]
    assert "binary" in reasons["photo.txt"]
    assert "50.0 MB" in reasons["huge.txt"] and f"{MAX_ARTICLE_BYTES / 1e6:.0f} MB" in reasons["huge.txt"]
    assert "same content as" in reasons["good.txt"] or "same content as" in reasons["copy of good.txt"]
    assert len(texts) == 5


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for p in src.iterdir():
        (dst / p.name).write_bytes(p.read_bytes())
    return dst


def _restamp(path: Path) -> None:
    """Make the manifest's file hashes agree with the files, to reach the checks behind them."""
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["files"] = {n: _sha256(path / n) for n in FILES}
    (path / "manifest.json").write_text(json.dumps(manifest))


def test_truncated_vectors_and_tables_out_of_step_are_refused(tmp_path, seed_index, settings):
    cut = _copy(seed_index.path, tmp_path / "cut")
    data = (cut / "chunks.faiss").read_bytes()
    (cut / "chunks.faiss").write_bytes(data[: len(data) // 2])
    with pytest.raises(BadIndexError, match="chunks.faiss is missing or does not match"):
        Index.open(cut, settings)
    _restamp(cut)
    with pytest.raises(BadIndexError, match="damaged"):
        Index.open(cut, settings)

    step = _copy(seed_index.path, tmp_path / "step")
    chunks = json.loads((step / "chunks.json").read_text())
    (step / "chunks.json").write_text(json.dumps(chunks[:-1]))
    _restamp(step)
    with pytest.raises(BadIndexError, match="inconsistent"):
        Index.open(step, settings)
    rebuilt = qa.api.open_or_build(settings.seeds_dir, step, settings)  # what the chat page does: rebuild
    assert len(rebuilt.chunks) == len(seed_index.chunks)


def test_a_build_killed_midway_leaves_the_old_index_usable(tmp_path, seed_index, settings):
    """A process killed (SIGKILL, no cleanup) in the middle of writing the new index, after the
    chunk tables are written: the old index is untouched and opens; the leftover is never mistaken for it."""
    path = _copy(seed_index.path, tmp_path / "index")
    before = {p.name: p.read_bytes() for p in path.iterdir()}
    code = ("import os, signal, qa.store as s, qa.vectors as v\n"
            "v.faiss.write_index = lambda *a: os.kill(os.getpid(), signal.SIGKILL)\n"
            f"s.Index.build({str(settings.seeds_dir)!r}, {str(path)!r}, s.Settings())\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, timeout=300)
    assert proc.returncode == -signal.SIGKILL
    leftovers = list(tmp_path.glob(".index.tmp-*"))
    assert leftovers and (leftovers[0] / "chunks.json").is_file(), "the kill happened mid-write"
    assert {p.name: p.read_bytes() for p in path.iterdir()} == before
    assert len(Index.open(path, settings).chunks) == len(seed_index.chunks)
    with pytest.raises(BadIndexError, match="no complete index"):
        Index.open(leftovers[0], settings)


def test_nothing_is_unpickled_and_no_remote_code_is_trusted():
    """A static check over our code: no pickle, no torch.load, no allow_pickle=True, no trust_remote_code=True."""
    banned = re.compile(r"\bimport pickle\b|pickle\.load|torch\.load\(|allow_pickle\s*=\s*True|"
                        r"trust_remote_code\s*=\s*True|(?<![.\w])eval\(|(?<![.\w])exec\(")
    offenders = [f"{p.relative_to(REPO_ROOT)}:{n}" for folder in ("qa", "ui", "bench", "eval")
                 for p in (REPO_ROOT / folder).rglob("*.py")
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if banned.search(line)]
    assert not offenders


_words = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=60)
_texts = st.lists(st.one_of(_words, st.sampled_from(["\n", "\n\n", ". ", "€20,000", "â\x80\x99", "\r\n", "\t",
                                                      "Dr. Ghosn.", "ﬁ", "e\u0301", "👩‍💻", "\u200b", "\ufeff"])),
                  min_size=1, max_size=40).map("".join)


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_texts, st.integers(8, 80), st.integers(0, 20))
def test_chunk_offsets_always_round_trip(text, budget, overlap):
    enc = get_encoding("cl100k_base")

    def count(t):
        return len(enc.encode(t, disallowed_special=()))

    def fits(t):
        return count(t) <= budget

    doc = Document("d", "t", text, "", "")
    units = fit_sentences(doc, sentences(doc), fits)
    for u in units:
        assert text[u.start:u.end].strip() and 0 <= u.start < u.end <= len(text)
    for c in chunk_document(doc, units, count, fits, overlap_tokens=min(overlap, budget - 1)):
        assert text[c.start:c.end] == c.text and c.n_tokens <= budget


@hsettings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                    HealthCheck.function_scoped_fixture])
@given(st.lists(_texts, min_size=1, max_size=3), _texts)
def test_every_citation_is_verbatim_on_random_articles(settings, articles, question):
    docs = [Document(f"d{i}", "t", t, "", str(i)) for i, t in enumerate(articles) if t.strip()]
    if not docs:
        return
    index = Index.from_documents(docs, settings)
    try:
        ans = qa.answer(question, index=index, settings=settings)
    except qa.QuestionError:
        return
    for c in ans.citations + ans.closest:
        assert index.documents[c.doc_id].text[c.start:c.end] == c.quote
    if not ans.abstained:
        top = ans.citations[0]
        assert index.documents[top.doc_id].text[top.answer_start:top.answer_end] == ans.text
