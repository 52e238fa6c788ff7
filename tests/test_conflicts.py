"""Two articles that give different figures for the same question: both answers are shown, with dates."""
import qa
from qa.types import Answer, Citation


def test_differing_sources_are_both_shown(tmp_path, settings):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "launch.md").write_text(
        "# Renault prices the new Twingo\n\nRenault said on Tuesday that the new electric Twingo will cost "
        "€20,000 when it reaches showrooms. The car is built in Slovenia.\n", encoding="utf-8")
    (folder / "update.md").write_text(
        "# Twingo price revised\n\nA year later, Renault said the electric Twingo will cost €22,500 "
        "because battery prices rose. Deliveries start in the spring.\n", encoding="utf-8")
    (folder / "other.md").write_text(
        "# Nissan names a new chief\n\nNissan appointed Ivan Espinosa as its chief executive. He replaces "
        "Makoto Uchida, who led the company through a difficult period.\n", encoding="utf-8")
    index = qa.Index.build(folder, tmp_path / "index", settings)
    a = qa.answer("How much will the electric Twingo cost?", index=index, settings=settings)
    assert not a.abstained
    answers = {a.text} | {c.answer_text for c in a.conflicts}
    assert any("20,000" in x for x in answers) and any("22,500" in x for x in answers)
    for c in a.citations + a.conflicts:
        assert qa.document(c.doc_id, index=index)[c.start:c.end] == c.quote
    assert {c.doc_id for c in a.conflicts}.isdisjoint({a.citations[0].doc_id})
    # one source only: nothing to disagree with
    b = qa.answer("Who is Nissan's new chief executive?", index=index, settings=settings)
    assert "Espinosa" in b.text and b.conflicts == []
