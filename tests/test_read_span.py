"""The trained span reader behind the answerer seam (`reader="span"`): verbatim answers at their
offsets, evidence sentences around them, abstention by the evidence check or the reader's margin, same
Answer shape as the sentence reader."""
import qa


def test_span_reader_answers_verbatim_with_sentence_evidence(seed_index, settings):
    chosen = settings.with_overrides(reader="span", span_margin=-1e9)  # the reader never vetoes: test the plumbing
    for q in ["Who is the CEO of Renault Group?", "How much will the Dacia version cost?", "Siapa bos baru Nissan?"]:
        a = qa.answer(q, index=seed_index, settings=chosen)
        assert not a.abstained and a.text and a.citations
        top = a.citations[0]
        doc = qa.document(top.doc_id, index=seed_index)
        assert doc[top.start:top.end] == top.quote and doc[top.answer_start:top.answer_end] == a.text
        assert top.start <= top.answer_start < top.answer_end <= top.end


def test_span_reader_abstains_below_its_margin(seed_index, settings):
    chosen = settings.with_overrides(reader="span", span_margin=1e9)  # nothing is ever sure enough
    a = qa.answer("Who is the CEO of Renault Group?", index=seed_index, settings=chosen)
    assert a.abstained and a.message == "The articles do not say." and a.closest


def test_span_reader_answers_seed_questions_and_abstains_on_the_unknown(seed_index, settings):
    chosen = settings.with_overrides(reader="span")  # shipped weights, calibrated margin and threshold
    assert qa.answer("Who is the CEO of Renault Group?", index=seed_index, settings=chosen).text == "Luca de Meo"
    assert qa.answer("Model Mitsubishi apa yang kemungkinan menjadi dasar SUV baru Nissan?", index=seed_index,
                     settings=chosen).text == "Outlander PHEV"
    assert qa.answer("Berapa kapasitas mesin bensin pada Rogue E-Power?", index=seed_index,
                     settings=chosen).text == "1,5 liter"
    unknown = qa.answer("What is the capital of Australia?", index=seed_index, settings=chosen)
    assert unknown.abstained and not unknown.citations
