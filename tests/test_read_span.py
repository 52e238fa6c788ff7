"""The trained span reader as the default answerer: verbatim answers at their offsets, evidence sentences
around them, abstention when neither the calibrated evidence check nor the reader's own confidence
passes, the same Answer shape as the sentence reader."""
import qa
from qa.settings import Settings


def test_span_reader_is_the_default():
    assert Settings().reader == "span"


def test_span_reader_answers_verbatim_with_sentence_evidence(seed_index, settings):
    for q in ["Who is the CEO of Renault Group?", "How much will the Dacia version cost?", "Siapa bos baru Nissan?"]:
        a = qa.answer(q, index=seed_index, settings=settings)
        assert not a.abstained and a.text and a.citations
        top = a.citations[0]
        doc = qa.document(top.doc_id, index=seed_index)
        assert doc[top.start:top.end] == top.quote and doc[top.answer_start:top.answer_end] == a.text
        assert top.start <= top.answer_start < top.answer_end <= top.end
        assert "margin" in a.signals


def test_span_reader_answers_seed_questions_and_abstains_on_the_unknown(seed_index, settings):
    assert qa.answer("Who is the CEO of Renault Group?", index=seed_index, settings=settings).text == "Luca de Meo"
    assert qa.answer("Siapa bos baru Nissan?", index=seed_index, settings=settings).text == "Ivan Espinosa"
    assert qa.answer("Model Mitsubishi apa yang kemungkinan menjadi dasar SUV baru Nissan?", index=seed_index,
                     settings=settings).text == "Outlander PHEV"
    assert qa.answer("Berapa kapasitas mesin bensin pada Rogue E-Power?", index=seed_index,
                     settings=settings).text == "1,5 liter"
    unknown = qa.answer("What is the capital of Australia?", index=seed_index, settings=settings)
    assert unknown.abstained and not unknown.citations and unknown.message == "The articles do not say."
    assert unknown.closest  # the nearest passages it found, shown beside the abstention


def test_a_sure_reader_answers_where_the_evidence_check_would_not(seed_index, settings):
    strict = settings.with_overrides(abstain_threshold=0.999)  # the evidence check refuses everything
    q = "Who is the CEO of Renault Group?"
    a = qa.answer(q, index=seed_index, settings=strict)
    assert not a.abstained and a.text == "Luca de Meo"
    assert a.score == a.signals["reader"] >= strict.sure_threshold()
    assert qa.answer(q, index=seed_index, settings=strict.with_overrides(reader_threshold=1.0)).abstained
    unknown = qa.answer("What is the capital of Australia?", index=seed_index, settings=strict)
    assert unknown.abstained and unknown.signals["reader"] < strict.sure_threshold()


def test_sentence_answerer_still_selectable(seed_index, settings):
    a = qa.answer("Who is the CEO of Renault Group?", index=seed_index,
                  settings=settings.with_overrides(reader="sentence"))
    assert a.text == "Luca de Meo" and "margin" not in a.signals


def test_spans_of_another_type_than_asked_are_not_answers(seed_index, settings):
    """The articles give the Micra's maker and the Rogue's engine size, never a battery capacity or a power:
    a span without the asked unit is no answer, however sure the reader is of it."""
    for q in ["What is the battery capacity of the new Nissan Micra?",
              "How much horsepower does the Rogue E-Power produce?"]:
        a = qa.answer(q, index=seed_index, settings=settings.with_overrides(abstain_threshold=0.0))
        assert a.abstained and a.signals["misfits"] >= 1 and a.closest
        assert "does not answer this: the question asks for the " in a.notice  # what it found, and why not
    fits = qa.answer("Berapa kapasitas mesin bensin pada Rogue E-Power?", index=seed_index, settings=settings)
    assert fits.text == "1,5 liter" and fits.signals["misfits"] == 0


def test_the_quote_takes_in_the_sentence_that_names_what_was_asked(seed_index, settings):
    """The answer's sentence says only "the two models ... sharing the CMF-CD architecture"; the sentence before
    names the Rogue and the Outlander: the quote holds both, so it shows why the answer answers; a sentence
    that says it all stays alone."""
    a = qa.answer("What architecture do the Nissan Rogue and the Mitsubishi Outlander share?", index=seed_index,
                  settings=settings)
    top = a.citations[0]
    assert a.text == "CMF-CD architecture" and qa.document(top.doc_id, index=seed_index)[top.start:top.end] == top.quote
    assert "Outlander" in top.quote[:top.answer_start - top.start] and "the two models" in top.quote
    ceo = qa.answer("Who is the CEO of Renault Group?", index=seed_index, settings=settings).citations[0]
    assert ceo.quote.count(". ") == 0 and "Luca de Meo" in ceo.quote
