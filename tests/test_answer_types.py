"""The answer-type check: a span whose type plainly clashes with what the question asks for cannot answer it."""
import pytest

from qa.answer_types import misfit


@pytest.mark.parametrize("question, span", [
    ("How many Twingo-based cars does Nissan expect to sell per year?", "€20,000"),
    ("How much did Renault pay for Nissan's 51% stake in the Indian joint venture?", "51-percent"),
    ("How much did Renault pay for Nissan's 51% stake in the Indian joint venture?", "51"),  # the question's own
    ("When was the agreement signed?", "€600 million"),
    ("Who leads the plant?", "2023"),
    ("What is the battery capacity of the new Nissan Micra?", "Renault 5"),
    ("Berapa kapasitas baterai Nissan Micra yang baru?", "Renault 5"),
    ("What is the driving range of the new Renault Twingo?", "20,000 euros"),
    ("How much horsepower does the Rogue E-Power produce?", "1.5-liter"),
    ("What is the top speed of the Dacia Spring?", "18,000 euros"),
    ("On which stock exchange was Ampère listed?", "second half of 2023"),
    ("How many Twingo-based cars does Nissan expect to sell per year?", "more than a few rough years"),  # a length
    ("How many Twingo-based cars does Nissan expect to sell per year?", "Twingo E-Tech"),  # no number at all
    ("How many people died in the fire?", "for three days"),
])
def test_plain_clashes_misfit(question, span):
    assert misfit(question, span)


@pytest.mark.parametrize("question, span", [
    ("How many horsepower was Watt's engine?", "ten"),  # the unit is the question's own noun
    ("As of what year were 10000 horsepower engines available?", "1883"),  # mentions a measure, asks a year
    ("How much does it cost to gain entry to a parliament meeting?", "free"),
    ("From 1947 to 1967, how much did the price of oil increase?", "less than two percent per year"),
    ("Who owns more wealth than the bottom 90 percent of people in the U.S.?", "richest 1 percent"),
    ("What is the driving range?", "400 km"),
    ("How much will the Dacia version cost?", "under 18,000 euros"),
    ("How many people work at the plant?", "four"),
    ("During what time frame were the classes limited to 15 students?", "2012-2013"),
    ("When did the 1973 oil crisis begin?", "October 1973"),  # a month besides the echoed year
    ("What will Nissan's version be called?", "retro-tastic"),  # unclear cases fit: the reader decides
    ("How many years did he rule?", "ten years"),  # a count of years
    ("In 1940 how many people were sleeping in the Underground stations?", "150,000 a night"),  # a rate
    ("How many new carriers per year did the subcommittee recommend?", "one every four years"),
    ("How many people typically come to the games?", "5 - 8 people most weeks"),  # names what it counts
    ("How many times has Polonia won the cup?", "twice"),
    ("How many fraternities are part of the university?", "fifteen"),
])
def test_unclear_or_fitting_spans_fit(question, span):
    assert misfit(question, span) == ""
