"""Chunking: offsets round-trip, token budgets hold, overlap exists, tiktoken stays offline."""
import hashlib
import socket

import pytest

from qa.chunk import chunk_document, fit_sentences, sentences
from qa.tokens import get_encoding
from qa.types import Document


def test_every_chunk_and_sentence_round_trips(seed_index):
    for c in seed_index.chunks:
        assert seed_index.documents[c.doc_id].text[c.start:c.end] == c.text
    for s in seed_index.sentences:
        text = seed_index.documents[s.doc_id].text[s.start:s.end]
        assert text and text == text.strip()


def test_chunks_fit_both_token_budgets(seed_index, settings):
    enc = get_encoding("cl100k_base")
    embedder = seed_index.embedder
    for c in seed_index.chunks:
        assert len(enc.encode(c.text)) <= settings.chunk_tokens
        assert embedder.max_tokens is None or embedder.count_tokens(c.text) <= embedder.max_tokens


def test_chunks_cover_every_sentence_and_overlap(seed_index, settings):
    enc = get_encoding("cl100k_base")
    overlapping = 0
    for doc_id, doc in seed_index.documents.items():
        chunks = [c for c in seed_index.chunks if c.doc_id == doc_id]
        sents = [s for s in seed_index.sentences if s.doc_id == doc_id]
        for s in sents:
            assert any(c.start <= s.start and s.end <= c.end for c in chunks)
        for a, b in zip(chunks, chunks[1:]):
            last = next(s for s in reversed(sents) if s.end <= a.end)
            if len(enc.encode(doc.text[last.start:last.end])) <= settings.overlap_tokens:
                assert b.start <= last.start, "a short boundary sentence must be repeated in the next chunk"
            overlapping += b.start < a.end
    assert overlapping > 0


def budget(tokens: int):
    """A cl100k counter and the predicate `at most `tokens``, as the index build uses them."""
    enc = get_encoding("cl100k_base")

    def count(t):
        return len(enc.encode(t))

    return count, lambda t: count(t) <= tokens


def test_long_sentence_is_split_at_words_not_truncated():
    text = "word " * 400 + "end."
    doc = Document("d", "t", text, "", "")
    count, fits = budget(50)
    units = fit_sentences(doc, sentences(doc), fits)
    chunks = chunk_document(doc, units, count, fits, overlap_tokens=10)
    assert all(c.n_tokens <= 50 for c in chunks)
    assert chunks[0].start == 0 and chunks[-1].end == len(text.rstrip())
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    assert all(i in covered for i, ch in enumerate(text.rstrip()) if not ch.isspace())


def test_newline_ends_a_sentence():
    doc = Document("d", "t", "A headline without a stop\nThe body starts here. Second one.", "", "")
    got = [doc.text[s.start:s.end] for s in sentences(doc)]
    assert got == ["A headline without a stop", "The body starts here.", "Second one."]


def test_cl100k_base_loads_with_network_blocked(tmp_path, monkeypatch):
    """The standard name resolves from the bundled file in a cold cache, with sockets refused."""
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "cache"))
    get_encoding.cache_clear()

    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    try:
        enc = get_encoding("cl100k_base")
        assert enc.name == "cl100k_base"
        assert enc.decode(enc.encode("Renault–Nissan €20,000")) == "Renault–Nissan €20,000"
        url = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
        assert (tmp_path / "cache" / hashlib.sha1(url.encode()).hexdigest()).is_file()
    finally:
        get_encoding.cache_clear()


def test_unknown_encoding_is_a_clear_error():
    with pytest.raises(ValueError):
        get_encoding("no_such_encoding")


def test_a_word_longer_than_the_budget_is_cut_not_truncated():
    text = "See " + "x" * 3000 + " and " + "漢字" * 500 + "."
    doc = Document("d", "t", text, "", "")
    count, fits = budget(40)
    chunks = chunk_document(doc, fit_sentences(doc, sentences(doc), fits), count, fits, overlap_tokens=0)
    assert all(c.n_tokens <= 40 for c in chunks)
    assert "".join(c.text for c in chunks).replace(" ", "") == text.replace(" ", "")
