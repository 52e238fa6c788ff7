"""Follow-up questions: which ones lean on the previous turn, and what they borrow from it."""
import qa
from qa.followup import is_referential, key_words, read_question


def test_referential_questions_are_recognised():
    for q in ["How much will it cost?", "When will it be launched?", "What about Renault?", "Who runs them?",
              "Berapa harganya?", "Kapan mobil itu diluncurkan?", "And the price?"]:
        assert is_referential(q), q
    for q in ["Who is the CEO of Renault Group?", "How much will the Dacia version cost?",
              "Siapa bos baru Nissan?"]:
        assert not is_referential(q), q


def test_a_follow_up_borrows_the_previous_questions_key_words():
    reading = read_question("How much will it cost?", ["Which car is Nissan basing on the Twingo?"])
    assert reading.is_followup and {"Nissan", "Twingo"} <= set(reading.carried)
    assert reading.text.startswith("How much will it cost? (")
    assert not read_question("Who is the CEO of Renault Group?", ["Which car?"]).is_followup
    assert not read_question("How much will it cost?", None).is_followup
    assert "cost" not in key_words("How much will it cost?")


def test_follow_up_is_answered_against_the_previous_turn(seed_index, settings):
    first = qa.answer("Which car will Nissan launch its own version of?", index=seed_index, settings=settings)
    assert first.text == "Twingo"
    ans = qa.answer("How much will it cost?", index=seed_index, settings=settings,
                    history=[first.read_as or first.question])
    assert not ans.abstained and "20,000" in ans.text and "Nissan launch version" in ans.read_as
    assert ans.question == "How much will it cost?"
