"""Text repair: the seed mojibake is fixed, clean text in any language is left alone."""
from qa.ingest import decode, read_file, read_folder
from qa.repair import repair

from .conftest import SEEDS


def test_seed_000_mojibake_is_repaired():
    doc = read_file(next(SEEDS.glob("000_*.txt")))
    assert "approximately €20,000" in doc.text
    assert "lower €18,000" in doc.text
    assert "it’s eager" in doc.text and "doesn’t have a name" in doc.text and "Nissan’s take" in doc.text
    assert "â" not in doc.text and "Ź" not in doc.text


def test_clean_seeds_are_unchanged():
    for path in sorted(SEEDS.glob("*.txt"))[1:]:
        raw = path.read_text(encoding="utf-8")
        assert read_file(path).text == raw.replace("\r\n", "\n"), path.name


def test_real_circumflex_words_are_not_touched():
    text = "România este frumoasă. Tôi là người Việt. Le pâté coûte cher, c’est vrai."
    assert repair(text) == text


def test_the_rule_needs_its_signature():
    assert repair("One lone itâs is not enough evidence.") == "One lone itâs is not enough evidence."
    assert repair("itâs here and doesnât matter: âŹ5 âŚ") == "it’s here and doesn’t matter: €5 …"


def test_common_mojibake_goes_through_ftfy():
    assert repair("The cafÃ© serves crÃ¨me brÃ»lÃ©e") == "The café serves crème brûlée"


def test_non_utf8_file_is_decoded(tmp_path):
    (tmp_path / "latin.txt").write_bytes("Der Preis beträgt 20.000 Euro für das Modell. Größer ist er nicht.".encode("cp1252"))
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02\x03binary")
    (tmp_path / "empty.md").write_text("   \n")
    corpus = read_folder(tmp_path)
    assert [d.doc_id for d in corpus.documents] == ["latin"]
    assert "beträgt" in corpus.documents[0].text and "für" in corpus.documents[0].text
    assert set(corpus.skipped) == {str(tmp_path / "binary.txt"), str(tmp_path / "empty.md")}
    assert "binary" in corpus.skipped[str(tmp_path / "binary.txt")]


def test_utf8_bom_is_dropped():
    assert decode("\ufeffHello".encode("utf-8")) == "Hello"


def test_nested_hidden_and_outside_files(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / "a" / "x.txt").write_text("First article about Renault.")
    (tmp_path / "b" / "x.txt").write_text("Second article about Nissan.")
    (tmp_path / ".git" / "notes.txt").write_text("not an article")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("secret")
    (tmp_path / "link.txt").symlink_to(outside)
    corpus = read_folder(tmp_path)
    assert sorted(d.doc_id for d in corpus.documents) == ["a/x", "b/x"]
    assert corpus.skipped == {str(tmp_path / "link.txt"): "links outside the folder"}
