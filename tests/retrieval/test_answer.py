"""Extractive answers on the seed index: the right quote, exact offsets, abstention, freshness, follow-ups."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from retrieval.answer import ABSTAIN_TEXT
from retrieval.search import Retriever
from retrieval.types import Answer, Filters, Turn
from tests.conftest import make_settings


def _check_citations(answer: Answer, reader) -> None:
    """Every [n] resolves, every citation is used, and every quote is the body at its offsets."""
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}
    assert markers == {c.n for c in answer.citations}
    for c in answer.citations:
        body = reader.article(c.article_id).body
        assert body[c.quote_start : c.quote_end] == c.quote
        assert c.quote in answer.answer or answer.mode == "generative"
        assert c.title and c.published_at  # the scraped seed page has no url


def test_who_called_the_letter_a_mistake(seed_retriever: Retriever, seed_reader) -> None:
    answer = seed_retriever.ask("Who called the letter a mistake?")
    assert not answer.abstained
    assert "Milley" in answer.answer
    _check_citations(answer, seed_reader)
    assert any("Milley" in c.quote and "mistake" in c.quote for c in answer.citations)
    assert 1 <= len(answer.citations) <= 3
    assert answer.as_of == max(c.published_at[:10] for c in answer.citations)


def test_numbers_from_a_fixture_story(seed_retriever: Retriever, seed_reader) -> None:
    answer = seed_retriever.ask("How much did the repairs to the Glasswater Bridge cost?")
    assert not answer.abstained
    assert "3.6 million crowns" in answer.answer
    _check_citations(answer, seed_reader)


def test_syndicated_story_cites_one_article_with_all_outlets(seed_retriever: Retriever) -> None:
    answer = seed_retriever.ask("Who dissented from the Bank of Norland rate rise?")
    assert "Aaltonen" in answer.answer
    cited = [c for c in answer.citations if "Aaltonen" in c.quote][0]
    assert sorted(cited.outlets) == ["Eastmere Post", "Kessock Courier", "Norland Wire"]


def test_abstains_on_a_related_headline_of_the_page_chrome(seed_retriever: Retriever) -> None:
    # "Larry Ellison becomes the richest man in the world" is only in the seed page's
    # related-articles list, which is not the story.
    answer = seed_retriever.ask("Who became the richest man in the world, surpassing Musk?")
    assert answer.abstained
    assert answer.answer == ABSTAIN_TEXT and answer.citations == []
    assert answer.closest and any("do not answer" in n for n in answer.notes)


def test_abstains_on_something_absent(seed_retriever: Retriever) -> None:
    answer = seed_retriever.ask("Which team won the 2018 Stanley Cup ice hockey final?")
    assert answer.abstained and not answer.citations


def test_abstains_when_the_evidence_is_about_another_time_than_asked(seed_index: Path, seed_reader, embedder) -> None:
    # The archive's only Eastmere Cup final is May 2024's: a question about 2023's edition
    # matches its words, but the report neither dates from 2023 nor names it.
    asked = seed_retriever_with(seed_index, seed_reader, embedder)
    assert "Harbour Rovers" in asked.ask("Which team won the Eastmere Cup in May 2024?").answer
    other_year = asked.ask("Which team won the Eastmere Cup in May 2023?")
    assert other_year.abstained and not other_year.citations
    assert any("Harbour Rovers" in p.text for p in other_year.closest)
    # The archive has nothing from May 2023 at all, and the search says so.
    assert "The archive has no articles from the period asked about (in May 2023)." in other_year.notes
    # A year naming the edition sets no search window, but the evidence must speak of it too.
    assert asked.ask("Which team won the 2023 Eastmere Cup final?").abstained
    # From 2020 the archive holds the seed page, not a cup final: the answer says why it doubts.
    from_2020 = asked.ask("Which team won the 2020 Eastmere Cup final?")
    assert from_2020.abstained
    assert any(n.startswith("None of the closest reports dates from or mentions the period asked about (2020)") for n in from_2020.notes)
    this_year = asked.ask("Which team won the 2024 Eastmere Cup final?")
    assert "Harbour Rovers" in this_year.answer and not any("period asked about" in n for n in this_year.notes)
    # Without the rule the same question takes 2024's winner for 2023's.
    lax = seed_retriever_with(seed_index, seed_reader, embedder, off_window_factor=1.0)
    assert not lax.ask("Which team won the Eastmere Cup in May 2023?").abstained
    assert not lax.ask("Which team won the 2023 Eastmere Cup final?").abstained


def seed_retriever_with(seed_index: Path, reader, embedder, **overrides: object) -> Retriever:
    return Retriever(reader, embedder, settings=make_settings(seed_index, **overrides))


def test_filters_reach_the_answer(seed_retriever: Retriever) -> None:
    answer = seed_retriever.ask("What happened to the Glasswater Bridge?", filters=Filters(until=date(2024, 2, 1)))
    assert not answer.abstained
    assert all(c.published_at[:10] <= "2024-02-01" for c in answer.citations)
    assert "cracks" in answer.answer or "closed" in answer.answer


def test_stale_evidence_is_flagged_for_questions_about_now(seed_retriever: Retriever) -> None:
    answer = seed_retriever.ask("What is the latest on the Glasswater Bridge this week?", as_of=date(2024, 9, 1))
    assert not answer.abstained
    assert answer.as_of == "2024-04-11"
    assert any("older than the period asked about" in n for n in answer.notes)
    fresh = seed_retriever.ask("What is the latest on the Glasswater Bridge this week?", as_of=date(2024, 4, 13))
    assert not any("older than" in n for n in fresh.notes)


def test_follow_up_uses_the_history(seed_retriever: Retriever, seed_reader) -> None:
    history = [Turn(question="Why did the US assassinate Suleimani, and how did Iraq respond?", answer="...")]
    follow = seed_retriever.ask("and what did France say?", history=history)
    assert not follow.abstained
    assert "Le Drian" in follow.answer
    _check_citations(follow, seed_reader)


def test_follow_up_without_a_subject_takes_it_from_the_previous_question(seed_retriever: Retriever) -> None:
    history = [Turn(question="Why was the Glasswater Bridge closed?", answer="Cracks were found in two steel cables [1].")]
    retrieval = seed_retriever.retrieve("How much did the repairs cost?", top_k=3, history=history)
    assert "glasswater" in retrieval.context_terms
    answer = seed_retriever.ask("How much did the repairs cost?", history=history)
    assert "3.6 million crowns" in answer.answer


def test_answer_json_shape(seed_retriever: Retriever) -> None:
    data = seed_retriever.ask("Who called the letter a mistake?").to_dict()
    assert {"answer", "abstained", "citations", "took_ms"} <= set(data)
    assert {"n", "article_id", "title", "source", "published_at", "url", "passage", "quote"} <= set(data["citations"][0])
    assert data["took_ms"] > 0
