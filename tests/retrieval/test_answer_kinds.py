"""Answers that depend on what the question asks for: proportions, causes, times, parts.

The stories are written here; they are indexed with the test news fixtures (so word rarity is
not that of five articles alone) by a real build with the real model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from index.embed import Embedder
from index.store import IndexReader
from retrieval import question as question_module
from retrieval.answer import WEIGHTS, ScoredSentence, assess
from retrieval.question import question_kinds
from retrieval.search import Retriever
from retrieval.timeframe import speaks_of
from tests.conftest import FIXTURES, build, make_settings

STORIES = [
    {
        "title": "Asteroid 2031 QX7 no longer a threat, astronomers say",
        "published_at": "2031-04-20",
        "body": (
            "Asteroid 2031 QX7 was rated level 3 on the Palermo hazard scale in March 2031, the highest rating given to any object that year.\n\n"
            "Astronomers at the Kessock Observatory first spotted the asteroid on 2 March 2031 and rated it again on 9 March.\n\n"
            "The rating was raised to level 3 on 14 March, when the asteroid's orbit was still uncertain. "
            "At that point it was thought to have a 1 in 52 chance of striking the planet. "
            "Further observations in April 2031 lowered the hazard rating to zero.\n\n"
            "The asteroid will pass the Earth at a distance of 4.2 million kilometres in 2040."
        ),
    },
    {
        "title": "Hostel fire kills two climbers in Vessby",
        "published_at": "2031-01-12",
        "body": (
            "A fire on Sunday night killed two climbers, both aged nineteen, at a mountain hostel in Vessby, East Norland.\n\n"
            "The two climbers had arrived at the Vessby hostel on Saturday for a weekend of training in the hills. "
            "Mayor Ingrid Sollberg declared Monday a day of mourning in Vessby. "
            "The press agency NTB reported that the deaths were caused by carbon monoxide from a faulty heater.\n\n"
            "Fire crews from Vessby and Marholm fought the hostel fire for three hours. "
            "Police said the hostel's owner, aged 54, had been questioned about the fire."
        ),
    },
    {
        "title": "Tamsin Oyelaran breaks the course record at the Kessock Marathon",
        "published_at": "2031-10-12",
        "body": (
            "Tamsin Oyelaran of Norland won the Kessock Marathon on Sunday, breaking the course record set in 2024.\n\n"
            "Oyelaran pulled away from the field after 30 kilometres and ran the last ten alone. "
            "Her time was 2 hours 21 minutes 14 seconds. "
            "The men's race in Kessock was won by Pieter Vos in 2:09:12, ahead of Jonas Lind.\n\n"
            "Oyelaran, 27, first ran in Kessock in 2029 and finished fourth."
        ),
    },
    {
        "title": "Roads close in Kessock for marathon weekend",
        "published_at": "2032-10-08",
        "body": (
            "Roads in central Kessock will close on Sunday for the Kessock Marathon, organisers said on Friday.\n\n"
            "Buses will run on diverted routes until the evening, and the harbour car parks will be reserved for volunteers."
        ),
    },
    {
        "title": "Ruben Makori wins the Vessby half marathon",
        "published_at": "2031-10-13",
        "body": (
            "Ruben Makori won the Vessby half marathon on Monday, a day after his training partner Tamsin Oyelaran won in Kessock.\n\n"
            "Makori crossed the line in 1:01:47, the fastest half marathon run in Norland this year. "
            "The women's race in Vessby was won by Anna Berg in 1:09:30. "
            "Makori said he would run in Kessock next year."
        ),
    },
    {
        "title": "Ostria votes in a leftist president",
        "published_at": "2031-06-16",
        "body": (
            "Ostria will be governed from the left for the first time after former mayor Lena Varga won Sunday's run-off.\n\n"
            "Varga took 50.4% of the vote against the conservative Piet Holm. "
            "Vesland, Marholm and Tarnia elected leftist presidents in 2029, a leftist wave that has now reached Ostria."
        ),
    },
    {
        "title": "Norland budget 2031: fuel, pensions and rail fares",
        "published_at": "2031-03-04",
        "body": (
            "Finance minister Ida Strand presented the Norland budget for 2031 to parliament on Tuesday.\n\n"
            "Here are the Norland budget changes households will feel first, from fuel to pensions and rail fares:\n\n"
            "The first change households will feel is a cut in fuel duty of 4 crowns a litre from April. "
            "State pensions rise by 3 percent in July, and rail fares are frozen until 2032."
        ),
    },
    {
        "title": "Kessock lantern parade marks the city's 600th year",
        "published_at": "2031-08-18",
        "body": (
            "The Kessock lantern parade wound through the streets of the old town on Saturday, the city's 600th year.\n\n"
            "The parade, first held in 1431, was led by the lantern makers' guild. "
            "Organisers said nearly 3,000 people followed the lanterns to the harbour. "
            "The new lantern season opens to visitors on Friday. "
            "The guild's museum reopens from 2 September."
        ),
    },
    {
        "title": "Mayor Anders Lund wins the Kessock mayoral primary",
        "published_at": "2031-02-12",
        "body": (
            "Mayor Anders Lund won the Kessock mayoral primary on Tuesday with more than 80% of the vote.\n\n"
            "The former Kessock harbour master also stood in the Kessock mayoral primary and received 9% of the vote. "
            "Lena Brask, the former Kessock harbour master, received 9% of the vote. "
            "The general election is in November."
        ),
    },
    {
        "title": "Sculptor Mira Dahl dies in Marholm",
        "published_at": "2031-07-04",
        "body": (
            "Sculptor Mira Dahl, who carved the Kessock harbour lions in 1968, died on Thursday at her home in Marholm.\n\n"
            "Dahl was 91 years old. "
            "She won the Norland Prize for sculpture in 1987 and taught at the Marholm art school until 2015."
        ),
    },
    {
        "title": "Harbour Rovers defeat Marholm in round three of the 2031 Fenmoor League season",
        "published_at": "2031-05-03",
        "body": (
            "Harbour Rovers defeated Marholm 31 points to 12 in round three of the 2031 Fenmoor League season on Saturday.\n\n"
            '"We knew Marholm would come hard at us," Rovers coach Dan Whitlow said. '
            "Rovers now sit second on the 2031 Fenmoor League ladder, behind Kessock City."
        ),
    },
    {
        "title": "Kessock City defeat Harbour Rovers in round four of the 2031 Fenmoor League season",
        "published_at": "2031-05-10",
        "body": (
            "Kessock City beat Harbour Rovers 24 points to 20 in round four of the 2031 Fenmoor League season, keeping top spot on the ladder.\n\n"
            "City captain Ola Brenne scored two tries in the second half. "
            "The Fenmoor League season ends in September."
        ),
    },
    {
        "title": "Marholm man charged over Kessock harbour stabbing",
        "published_at": "2031-06-03",
        "body": (
            "A Marholm man has been charged with attempted murder after a stabbing at Kessock harbour on Saturday night.\n\n"
            "Tomas Kvale, 31, appeared before Kessock magistrates on Monday and was remanded in custody. "
            "A harbour worker, aged 45, was stabbed twice during an argument outside the ferry terminal and remains in hospital.\n\n"
            "Kvale will appear at Kessock Crown Court on 30 June. Police have appealed for witnesses to the attack."
        ),
    },
    {
        "title": "Vessby accountant jailed for pension fraud",
        "published_at": "2031-05-14",
        "body": (
            "A Vessby accountant who stole from the pension savings of his clients has been jailed for six years.\n\n"
            "Judge Hanne Lie told Vessby Crown Court that Erik Solheim, 58, had betrayed people who trusted him with their savings. "
            "Solheim took 2.4 million kroner from 37 clients over nine years.\n\n"
            "He was also banned from working as an accountant for life."
        ),
    },
    {
        "title": "Typhoon Mirelle sweeps across the Marholm islands",
        "published_at": "2031-12-27",
        "body": (
            "Typhoon Mirelle crossed the Marholm islands from Tuesday night to Wednesday, killing at least 14, officials in Marholm said on Thursday.\n\n"
            "Typhoon Mirelle hit the same islands as Typhoon Osk, which killed 300 people in 2019. "
            "In Marholm town, Typhoon Mirelle tore the roofs off 40 houses and cut power to the harbour. "
            "It also blocked roads and forced 21,000 residents to evacuate.\n\n"
            "Ferries to the Marholm islands were cancelled, leaving 4,000 people stranded at ports. "
            "Typhoon Mirelle weakened as it moved west of the Marholm islands on Friday.\n"
        ),
    },
    {
        "title": "Kessock mayor attacks the new harbour fee",
        "published_at": "2032-02-16",
        "body": (
            "Kessock mayor Ane Dahl criticised the new harbour fee on Monday, a week after the Norland transport ministry approved it.\n\n"
            "The harbour fee of 40 kroner applies to every vehicle using the Kessock ferry terminal from 1 March. "
            "Dahl described the fee as “a tax on islanders” and said the council would appeal. "
            "The transport ministry said the fee would pay for repairs to the ferry terminal."
        ),
    },
    {
        "title": "Ferry captain hurt as the Kessock ferry strikes the harbour wall",
        "published_at": "2031-11-08",
        "body": (
            "Ferry captain Jonas Eide was hurt when the Kessock ferry struck the harbour wall in fog on Friday, a hospital spokesperson said.\n\n"
            "Eide, who was steering the ferry into Kessock harbour, was flown by helicopter to a hospital in Marholm. "
            "None of the 40 passengers was hurt. "
            "A Marholm hospital doctor said that captain Eide had hurt his back and his arm in the ferry crash. "
            "The Kessock ferry crash closed the crossing to Marholm for the weekend. "
            "On Sunday the mayor visited Eide at St Olav's Hospital, where he is said to be recovering well."
        ),
    },
    {
        "title": "Interview: Vessby lighthouse keeper Per Aune on the storm season",
        "published_at": "2031-09-20",
        "body": (
            "Wikinews spoke to Per Aune, who has kept the Vessby lighthouse since his father retired, about the storm season.\n\n"
            "((WN)) Per Aune, how many nights a year does the Vessby lighthouse keeper spend at the lighthouse?\n\n"
            "((Per Aune)) About 250, every night from October to March and most of the summer too.\n\n"
            "((WN)) What do you do when a storm closes the harbour?\n\n"
            "((Per Aune)) I check the lamp every hour and radio the coastguard in Marholm."
        ),
    },
    {
        "title": "Harbour Rovers name Kari Sund as coach",
        "published_at": "2031-07-02",
        "body": (
            "Harbour Rovers named Kari Sund as their new coach on Tuesday, replacing Dan Whitlow, who left for Kessock City in June.\n\n"
            "Sund, 44, coached the Marholm under-21 side for five years and played 120 games for the Rovers. "
            "Her first game in charge is the cup tie against Vessby on Saturday."
        ),
    },
    {
        "title": "Skarvik votes on Saturday to replace Ola Berg",
        "published_at": "2032-03-12",
        "body": (
            "Voters in Skarvik go to the polls on Saturday in a by-election called after councillor Ola Berg resigned in January.\n\n"
            "Four candidates are standing in the Skarvik by-election: Siri Holm for the Harbour Party, Jon Vik for the Coast Alliance and two independents. "
            "Polling stations open at 7 a.m. and close at 10 p.m., and the count starts on Sunday morning.\n\n"
            "Holm, a former ferry captain, has campaigned on keeping the Skarvik ferry running through the winter. "
            "Vik, who runs a fish farm near the harbour, wants the council to spend more on roads and the school. "
            "The by-election is the first in Skarvik since 2024, and the council's majority does not depend on the seat.\n\n"
            "Berg, who chaired the council's harbour committee for six years, resigned to take a job in Kessock. "
            "The Skarvik by-election is the last of three held in Norland this winter."
        ),
    },
]


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Retriever]:
    folder = tmp_path_factory.mktemp("answer-kinds")
    stories = folder / "stories.jsonl"
    with stories.open("w", encoding="utf-8") as fh:
        for n, story in enumerate(STORIES):
            fh.write(json.dumps({**story, "source": "Norland Wire", "url": f"https://norland-wire.example/{n}"}) + "\n")
    index_dir = folder / "index"
    build(index_dir, [stories, FIXTURES / "news"], embedder)
    reader = IndexReader.open(index_dir)
    yield Retriever(reader, embedder, settings=make_settings(index_dir))
    reader.close()


def _without_event_check(retriever: Retriever) -> Retriever:
    """The same retriever with the check of events taken for granted off."""
    return Retriever(retriever.reader, retriever.embedder, settings=retriever.settings.model_copy(update={"untold_event_factor": 1.0}))


def _scored(retriever: Retriever, question: str, **retrieve: object) -> list[ScoredSentence]:
    """The candidate sentences for `question`, best first, as `ask` scores them."""
    return assess(retriever.retrieve(question, **retrieve), retriever=retriever).sentences


def _quotes_exact(answer, retriever: Retriever) -> None:
    assert {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)} == {c.n for c in answer.citations}
    for c in answer.citations:
        assert retriever.reader.article(c.article_id).body[c.quote_start : c.quote_end] == c.quote


def test_odds_asked_after_a_when_clause_get_the_proportion(retriever: Retriever) -> None:
    answer = retriever.ask(
        "In March 2031, when asteroid 2031 QX7 was rated level 3 on the Palermo scale, what were its estimated odds of hitting Earth?"
    )
    assert not answer.abstained
    assert "1 in 52" in answer.answer
    _quotes_exact(answer, retriever)


def test_a_cause_question_gets_the_sentence_that_states_the_cause(retriever: Retriever) -> None:
    answer = retriever.ask("According to the NTB news agency, what killed the two climbers in the Vessby hostel fire?")
    assert not answer.abstained
    assert "carbon monoxide" in answer.citations[0].quote
    _quotes_exact(answer, retriever)


def test_each_part_of_a_question_gets_its_own_sentence(retriever: Retriever, monkeypatch) -> None:
    question = "What times did Tamsin Oyelaran run in Kessock and Ruben Makori in Vessby?"
    answer = retriever.ask(question)
    assert not answer.abstained
    assert "2 hours 21 minutes 14 seconds" in answer.answer and "1:01:47" in answer.answer
    assert len(answer.citations) <= 3
    _quotes_exact(answer, retriever)
    # A sentence that names only the other part's runner counts half for this part: Makori's
    # time is no answer to how Oyelaran ran, however close its neighbours sit to her.
    makori = "Makori crossed the line in 1:01:47, the fastest half marathon run in Norland this year."
    part_scores = lambda: next(s.part_scores for s in _scored(retriever, question, top_k=5) if s.sentence.text == makori)
    oyelaran_part, makori_part = part_scores()
    monkeypatch.setitem(WEIGHTS, "other_subject", 1.0)
    without = part_scores()
    assert oyelaran_part == pytest.approx(0.5 * without[0]) and makori_part == pytest.approx(without[1])


def test_who_question_naming_a_rate_decision_wants_a_person(seed_retriever: Retriever) -> None:
    # "rate" asks for a number only after what/which/how; here it names the meeting.
    answer = seed_retriever.ask("Who dissented at the Bank of Norland rate decision?")
    assert "Aaltonen" in answer.answer


def test_fresh_news_is_not_answered_by_a_sentence_dated_to_an_earlier_year(retriever: Retriever, monkeypatch) -> None:
    # "Vesland ... elected leftist presidents in 2029" shares more of the question's words than
    # the sentence that answers it, but a question about this week is not asked of 2029.
    question = "Which country elected its first leftist president this week?"
    as_of = date(2031, 6, 17)
    best = lambda: _scored(retriever, question, top_k=5, as_of=as_of)[0].sentence.text
    monkeypatch.setitem(WEIGHTS, "past_year_factor", 1.0)
    assert best().startswith("Vesland"), "without the rule the background sentence wins: the test exercises it"
    monkeypatch.undo()
    assert best().startswith("Ostria will be governed")
    answer = retriever.ask(question, as_of=as_of)
    assert not answer.abstained and answer.citations[0].quote.startswith("Ostria will be governed")
    _quotes_exact(answer, retriever)
    # A question that names the year is asking about it, fresh news or not.
    named_question = "Which countries had elected leftist presidents in 2029, as reported this week?"
    assert _scored(retriever, named_question, top_k=5, as_of=as_of)[0].sentence.text.startswith("Vesland")
    # A sentence that also dates itself from the report's day is this week's news, the
    # earlier year its background.
    from retrieval.answer import _only_past_years

    assert _only_past_years("The Rovers won the Fenmoor title in 2030.", 2031, set())
    assert not _only_past_years("The mayor welcomed the Rovers on Monday, celebrating their 2030 title.", 2031, set())


def test_a_lead_in_line_is_not_the_answer_the_next_sentence_is(retriever: Retriever, monkeypatch) -> None:
    # "Here are the ... changes that households will feel first:" repeats the question but
    # answers nothing; a line that does not end like a sentence (subhead, caption, lead-in)
    # counts less.
    question = "Which Norland budget change will households feel first?"
    best = lambda: _scored(retriever, question, top_k=5)[0].sentence.text
    monkeypatch.setitem(WEIGHTS, "fragment_factor", 1.0)
    assert best().startswith("Here are"), "without the rule the lead-in wins: the test exercises it"
    monkeypatch.undo()
    assert best().startswith("The first change households will feel is a cut in fuel duty")
    answer = retriever.ask(question)
    assert not answer.abstained and "fuel duty" in answer.citations[0].quote
    _quotes_exact(answer, retriever)


def test_how_many_people_gets_the_number_that_counts_people(retriever: Retriever, monkeypatch) -> None:
    # Every sentence of the story holds a number; "600th year" and "1431" count no people.
    question = "About how many people followed the Kessock lantern parade through the streets of the old town?"
    best = lambda: _scored(retriever, question, top_k=5)[0].sentence.text
    monkeypatch.setitem(WEIGHTS, "counted", 0.0)
    assert "3,000" not in best(), "without the rule another numbered sentence wins: the test exercises it"
    monkeypatch.undo()
    assert "nearly 3,000 people" in best()
    answer = retriever.ask(question)
    assert not answer.abstained and "3,000" in answer.citations[0].quote
    _quotes_exact(answer, retriever)


def test_when_prefers_a_date_on_the_calendar_to_a_weekday(retriever: Retriever) -> None:
    # "on Friday" is a date reckoned from the report's day; "from 2 September" is on the calendar.
    question = "When does the lantern makers' guild museum in Kessock reopen to visitors?"
    sentences = _scored(retriever, question, top_k=5)
    typed = {s.sentence.text: s.typed for s in sentences}
    assert typed["The new lantern season opens to visitors on Friday."] == WEIGHTS["relative_date"] < 1.0
    assert typed["The guild's museum reopens from 2 September."] == 1.0
    assert sentences[0].sentence.text == "The guild's museum reopens from 2 September."
    answer = retriever.ask(question)
    assert not answer.abstained and "2 September" in answer.answer
    _quotes_exact(answer, retriever)


def test_only_a_line_that_ends_unfinished_is_a_fragment() -> None:
    from retrieval.answer import _is_fragment
    from retrieval.text import ArticleText

    body = "Budget changes households will feel first:\n\n" + "The crews of " + ", ".join(f"boat {n}" for n in range(150)) + " rowed home."
    article = ArticleText.of(body)
    lead_in, *pieces = article.sentences
    assert _is_fragment(body, lead_in)
    # A sentence too long to quote whole is cut into pieces; a piece is running text.
    assert len(pieces) > 1 and not any(_is_fragment(body, p) for p in pieces)


def test_a_sentence_that_adds_only_the_asked_for_name_is_not_a_restatement(retriever: Retriever, monkeypatch) -> None:
    # "Lena Brask, the former Kessock harbour master, received 9% of the vote" is mostly the
    # question's own words, but what it adds is the name asked for; the sentence before it
    # restates the question and adds nothing.
    question = "Who was the former Kessock harbour master who received 9% of the vote in the Kessock mayoral primary?"
    sentences = lambda: {s.sentence.text: s.score for s in _scored(retriever, question, top_k=5)}
    answer_text = "Lena Brask, the former Kessock harbour master, received 9% of the vote."
    restating = "The former Kessock harbour master also stood in the Kessock mayoral primary and received 9% of the vote."
    monkeypatch.setitem(WEIGHTS, "restate_factor", 0.5)
    halved = sentences()
    monkeypatch.undo()
    scores = sentences()
    assert halved[restating] < scores[restating], "the restating sentence is discounted: the test exercises the rule"
    assert halved[answer_text] == scores[answer_text]
    assert max(scores, key=scores.get) == answer_text
    answer = retriever.ask(question)
    assert not answer.abstained and "Lena Brask" in answer.citations[0].quote
    _quotes_exact(answer, retriever)


def test_how_old_gets_the_age_not_any_number(retriever: Retriever, monkeypatch) -> None:
    # Every sentence of the obituary holds a number; only one of them is an age.
    question = "How old was the sculptor Mira Dahl when she died?"
    monkeypatch.setitem(WEIGHTS, "age_number", 1.0)
    assert "91 years old" not in retriever.ask(question).answer, "when any number counts as an age the answer misses it: the test exercises the rule"
    monkeypatch.undo()
    answer = retriever.ask(question)
    assert not answer.abstained and any("91 years old" in c.quote for c in answer.citations)
    _quotes_exact(answer, retriever)


def test_the_quoted_articles_must_speak_of_the_time_asked_about(retriever: Retriever) -> None:
    # The only report from October 2032 is a preview of the race; the sentences that name a
    # winner come from 2031's report, which the question's time does not fit.
    question = "Who won the Kessock Marathon in October 2032?"
    retrieval = retriever.retrieve(question, top_k=5, max_per_article=3)
    frame = retrieval.timeframe
    speaks = lambda hit: speaks_of(frame, published_at=hit.published_at, text=retriever.article_text(hit.article_id).body)
    assert any(speaks(h) for h in retrieval.hits[:3]), "a best passage speaks of October 2032: the test exercises the rule"
    evidence = assess(retrieval, retriever=retriever)
    assert "Oyelaran" in evidence.sentences[0].sentence.text
    assert not any(speaks(x.hit) for x in evidence.sentences[:2])
    assert evidence.off_period == "in October 2032"
    answer = retriever.ask(question)
    assert answer.abstained or any("period asked about (in October 2032)" in n for n in answer.notes)


@pytest.mark.parametrize(
    ("event", "question", "told_question", "told_quote"),
    [
        # The only report of the stabbing is of the charge: every word of the question
        # matches it, but it says nothing of how the case ended.
        (
            "a sentence or verdict",
            "What sentence did Tomas Kvale receive for the Kessock harbour stabbing?",
            "What prison sentence did accountant Erik Solheim get for the Vessby pension fraud?",
            "jailed for six years",
        ),
        # The archive knows the mayor only as the winner of a primary.
        ("a death", "When did Kessock mayor Anders Lund die?", "When did the sculptor Mira Dahl die?", "died on Thursday"),
        # The only report of the by-election is its preview: it names the seat, the
        # candidates and the day, and cannot say who won.
        (
            "a result",
            "Who won the Skarvik by-election to replace Ola Berg, and with what share of the vote?",
            "Who won the Kessock Marathon in October 2031?",
            "Oyelaran",
        ),
        # The archive has the league's third and fourth rounds, each with its winner, and
        # nothing of the grand final.
        (
            "a final",
            "Which club won the grand final of the 2031 Fenmoor League season?",
            "Who won the Eastmere Cup final at Strand Park?",
            "Harbour Rovers",
        ),
        # The archive tells of Berg's resignation, not of who chairs the committee now.
        (
            "a successor taking office",
            "Who succeeded Ola Berg as chair of the Skarvik council's harbour committee?",
            "Who replaced Dan Whitlow as coach of Harbour Rovers?",
            "Kari Sund",
        ),
        # The hostel fire's report says nothing of the hostel opening again.
        (
            "a reopening or resumption",
            "When did the Vessby mountain hostel reopen after the fire that killed two climbers?",
            "When did the Glasswater Bridge reopen to traffic after the cable repairs?",
            "reopened to traffic on Thursday",
        ),
    ],
    ids=["sentence", "death", "result", "final", "succession", "reopening"],
)
def test_a_question_is_doubted_when_the_reports_never_tell_of_the_event_it_takes_for_granted(
    retriever: Retriever, event: str, question: str, told_question: str, told_quote: str
) -> None:
    lax = _without_event_check(retriever)
    assert not lax.ask(question).abstained, "the report alone is close enough to answer from: the test exercises the rule"
    answer = retriever.ask(question)
    assert answer.abstained and not answer.citations and answer.closest
    assert f"None of the closest reports tells of {event}; they may be about an earlier stage of the story." in answer.notes
    # Where a report tells of it, the question is answered from it, with no doubt noted.
    told = retriever.ask(told_question)
    assert not told.abstained and any(told_quote in c.quote for c in told.citations)
    assert not any(f"tells of {event}" in n for n in told.notes)
    _quotes_exact(told, retriever)


def test_words_that_run_through_the_story_count_less_in_a_sentence(retriever: Retriever, monkeypatch) -> None:
    # Nearly every sentence of the report names the typhoon and the islands; one says how many
    # had to evacuate. The story's names cannot tell its sentences apart, so in a sentence's
    # own share they count less, and the one that holds the asking word gains on the rest.
    question = "How many people had to evacuate when Typhoon Mirelle crossed the Marholm islands in December 2031?"
    answering = "It also blocked roads and forced 21,000 residents to evacuate."
    naming = "Typhoon Mirelle weakened as it moved west of the Marholm islands on Friday."

    def shares() -> tuple[float, float]:
        overlap = {s.sentence.text: s.overlap for s in _scored(retriever, question)}
        return overlap[answering], overlap[naming]

    monkeypatch.setitem(WEIGHTS, "spread_discount", 0.0)
    flat_answering, flat_naming = shares()
    monkeypatch.undo()
    answering_share, naming_share = shares()
    assert answering_share > flat_answering
    assert naming_share < flat_naming
    assert answering_share / naming_share > flat_answering / flat_naming


def test_asked_how_someone_described_it_the_answer_quotes_them(retriever: Retriever, monkeypatch) -> None:
    # The opening sentence names the mayor and the fee; only the quote says how she described it.
    question = "How did Kessock mayor Ane Dahl describe the new harbour fee?"
    assert question_kinds(question) == {"words"}
    monkeypatch.setitem(question_module._CUES, "words", re.compile(r"(?!)"))
    assert "a tax on islanders" not in retriever.ask(question).citations[0].quote, "without the cue the quote is not first: the test exercises the rule"
    monkeypatch.undo()
    answer = retriever.ask(question)
    assert not answer.abstained and "a tax on islanders" in answer.citations[0].quote
    _quotes_exact(answer, retriever)


def test_a_sentence_that_names_the_which_x_beats_one_that_mentions_it(retriever: Retriever, monkeypatch) -> None:
    # The lead and "flown to a hospital in Marholm" share more of the question's words; only
    # "St Olav's Hospital" names the hospital asked for, and is taken as the typed sentence.
    question = "Which Marholm hospital treated ferry captain Jonas Eide after the Kessock ferry crash?"
    monkeypatch.setitem(WEIGHTS, "focus_name", WEIGHTS["focus"])
    assert "St Olav's Hospital" not in retriever.ask(question).answer, "a mention counts as a name: the test exercises the rule"
    monkeypatch.undo()
    answer = retriever.ask(question)
    assert not answer.abstained and any("St Olav's Hospital" in c.quote for c in answer.citations)
    _quotes_exact(answer, retriever)


def test_an_interviewers_question_is_not_an_answer(retriever: Retriever, monkeypatch) -> None:
    # The interviewer's question holds most words of the reader's; the reply below it holds
    # the answer and few of the words.
    question = "What does Vessby lighthouse keeper Per Aune do when a storm closes the harbour?"
    asking = "((WN)) What do you do when a storm closes the harbour?"
    reply = "((Per Aune)) I check the lamp every hour and radio the coastguard in Marholm."
    scores = lambda: {s.sentence.text: s.score for s in _scored(retriever, question)}
    monkeypatch.setitem(WEIGHTS, "question_factor", 1.0)
    plain = scores()
    assert plain[asking] > plain[reply], "the interviewer's question scores above the reply: the test exercises the rule"
    monkeypatch.undo()
    ruled = scores()
    assert ruled[asking] < plain[asking] and ruled[reply] == plain[reply]
    assert ruled[reply] > ruled[asking]
    answer = retriever.ask(question)
    assert not answer.abstained and any(c.quote == reply for c in answer.citations)
    _quotes_exact(answer, retriever)
