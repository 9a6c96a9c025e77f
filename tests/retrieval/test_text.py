"""Sentence splitting with offsets, words, and question time frames: no index needed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from retrieval.followup import is_follow_up, search_query
from retrieval.text import ArticleText, content_terms, name_terms, split_sentences, token_set
from retrieval.timeframe import asked_period, parse_timeframe, speaks_of
from retrieval.types import Turn

SEED = Path(__file__).resolve().parents[2] / "corpus" / "london-daily-iraq.txt"


def test_sentences_are_exact_slices_of_the_seed_page() -> None:
    text = SEED.read_text(encoding="utf-8")
    sentences = split_sentences(text)
    assert len(sentences) > 50
    for s in sentences:
        assert text[s.start : s.end] == s.text
    quotes = [s.text for s in sentences if "Milley said" in s.text]
    assert quotes and quotes[0].startswith("“That letter is a draft, it was a mistake")


def test_abbreviations_and_initials_do_not_end_sentences() -> None:
    sentences = [
        "Gen. Mark Milley spoke.",
        "He met J. K. Rowling at 5 p.m. Friday.",
        '"It is," he said.',
        "Then U.S. troops left.",
        # Initials of several letters too, but a place's closing "D.C." ends its sentence.
        "The wreck is the U.S.S. Grayback.",
        "O.J. Simpson and a Ph.D. Student came.",
        "He flew to Washington, D.C.",
        "Then he left.",
    ]
    assert [s.text for s in split_sentences(" ".join(sentences))] == sentences


@given(st.text(alphabet=st.sampled_from(list("ab .!?\n\"”A1")), max_size=300))
def test_sentence_offsets_hold_for_any_text(text: str) -> None:
    previous_end = 0
    for s in split_sentences(text, max_chars=40):
        assert text[s.start : s.end] == s.text
        assert s.start >= previous_end
        assert len(s.text) <= 40
        previous_end = s.end


def test_name_terms_skip_the_opening_word_months_and_weekdays() -> None:
    assert name_terms("Officials said on Tuesday in March that Rosselló met Wanda Vázquez.") == {"rossello", "wanda", "vazquez"}
    assert name_terms("nothing capitalised here") == frozenset()


def test_article_text_holds_each_sentences_words_and_names() -> None:
    body = SEED.read_text(encoding="utf-8")
    article = ArticleText.of(body)
    assert article.sentences == split_sentences(body)
    assert len(article.tokens) == len(article.names) == len(article.sentences)
    for sentence, tokens, names in zip(article.sentences, article.tokens, article.names):
        assert tokens == token_set(sentence.text)
        assert names == name_terms(sentence.text)
    milley = next(i for i, s in enumerate(article.sentences) if "Milley said" in s.text)
    assert "milley" in article.names[milley] and "mistak" in article.tokens[milley]


def test_content_terms_fold_case_accents_and_inflections() -> None:
    assert content_terms("Who killed Rosselló's protesters in 2,095 cases?") == ["kill", "rossello", "protester", "2095", "cas"]
    # An irregular past meets its present ("he ran for mayor" / "run for mayor"); a form with a
    # common other meaning ("found" a company, "left" wing) is left alone.
    assert content_terms("He ran and won; it was taken, held and made") == content_terms("run win take hold make")
    assert content_terms("found left") == ["found", "left"]
    # British and American spellings meet; look-alikes that are other words do not change.
    british = "hospitalised organisation colour travelled cancelled centres defence analysed labour kilometres"
    american = "hospitalized organization color traveled canceled centers defense analyzed labor kilometers"
    assert content_terms(british) == content_terms(american)
    assert content_terms("four hour tour crisis killed called") == ["four", "hour", "tour", "crisis", "kill", "call"]
    # A site named by its domain is the name; abbreviations keep their letters.
    assert content_terms("Secunia.com and Change.org in the U.S.") == content_terms("Secunia and Change in the US")


def test_recency_words_set_a_decay_not_a_filter() -> None:
    frame = parse_timeframe("What country elected its first leftist leader this week?", as_of=date(2022, 6, 23))
    assert frame.recent and frame.window_days == 7 and not frame.has_window
    assert not parse_timeframe("Which riders died in the crash in Randolph, New Hampshire?", as_of=date(2022, 6, 23)).recent


def test_date_windows_in_the_question() -> None:
    as_of = date(2024, 3, 10)
    frame = parse_timeframe("What did the council decide in October 2023?", as_of=as_of)
    assert (frame.since, frame.until) == (date(2023, 10, 1), date(2023, 10, 31))
    frame = parse_timeframe("What changed since 1 November?", as_of=as_of)
    assert frame.since == date(2023, 11, 1) and frame.until is None
    frame = parse_timeframe("Who resigned between May and July 2019?", as_of=as_of)
    assert (frame.since, frame.until) == (date(2019, 5, 1), date(2019, 7, 31))
    frame = parse_timeframe("What did Carrie Lam announce in September during the 2019 protests?", as_of=as_of)
    assert (frame.since, frame.until) == (date(2019, 9, 1), date(2019, 9, 30))
    assert not parse_timeframe("Why were the Fourth of July fireworks cancelled?", as_of=as_of).has_window
    # A month and year naming an event is when it happened; a year or a month alone is not.
    frame = parse_timeframe("Where did the June 2020 knife attack in Reading take place?", as_of=as_of)
    assert (frame.since, frame.until, frame.phrase) == (date(2020, 6, 1), date(2020, 6, 30), "the June 2020")
    frame = parse_timeframe("What did Chile's October 2019 protesters want?", as_of=as_of)
    assert (frame.since, frame.until) == (date(2019, 10, 1), date(2019, 10, 31))
    frame = parse_timeframe("Who won the April 7, 2020 election for the court seat?", as_of=as_of)
    assert (frame.since, frame.until) == (date(2020, 4, 7), date(2020, 4, 7))
    assert not parse_timeframe("Who won the 2019 Tour de France?", as_of=as_of).has_window
    assert not parse_timeframe("What did the May government decide?", as_of=as_of).has_window
    assert not parse_timeframe("Who marched in the March for Our Lives?", as_of=as_of).has_window
    assert not parse_timeframe("At the 1972 Democratic National Convention, who got 400 votes?", as_of=as_of).has_window


def test_evidence_speaks_of_a_window_by_its_date_or_by_naming_it() -> None:
    as_of = date(2024, 3, 10)
    july = parse_timeframe("Where was he inducted in July 2013?", as_of=as_of)
    # Published in the window, or in the month after it (reports follow events).
    assert speaks_of(july, published_at="2013-07-20", text="He was inducted on Saturday.")
    assert speaks_of(july, published_at="2013-08-25T10:00:00", text="He was inducted last month.")
    assert not speaks_of(july, published_at="2013-10-09", text="He was inducted last summer.")
    # Later, it speaks of the window by naming its month in a report of that year, or its year.
    assert speaks_of(july, published_at="2013-10-09", text="After I was inducted in Phoenix in July, I travelled.")
    assert not speaks_of(july, published_at="2014-10-09", text="After I was inducted in Phoenix in July, I travelled.")
    assert speaks_of(july, published_at="2019-01-02", text="He was inducted in 2013 in Phoenix.")
    assert not speaks_of(july, published_at=None, text="He was inducted in 2012.")
    # A year's window is named by the year; a window from a day on by a year after it.
    year = parse_timeframe("Who won the cup in 2019?", as_of=as_of)
    assert speaks_of(year, published_at="2021-05-01", text="Rovers, the 2019 winners, lost.")
    assert not speaks_of(year, published_at="2021-05-01", text="Rovers, winners in 2018 and 2020, lost.")
    since = parse_timeframe("What changed since 1 November?", as_of=as_of)
    assert speaks_of(since, published_at="2024-01-05", text="Nothing changed.")
    assert not speaks_of(since, published_at="2023-06-01", text="Nothing changed in 2022.")
    # A question without a window is about any time.
    assert speaks_of(parse_timeframe("Who won the cup?", as_of=as_of), published_at="1999-01-01", text="")


def test_a_question_is_about_its_window_else_the_years_it_names() -> None:
    as_of = date(2024, 3, 10)
    edition = "Who won the 2019 Tour de France?"
    assert not parse_timeframe(edition, as_of=as_of).has_window  # the edition is no search window
    period = asked_period(parse_timeframe(edition, as_of=as_of), edition)
    assert (period.since, period.until) == (date(2019, 1, 1), date(2019, 12, 31))
    window = "Who won the cup final in May 2019?"
    assert asked_period(parse_timeframe(window, as_of=as_of), window) == parse_timeframe(window, as_of=as_of)
    editions = "How did the 2015 and 2019 Tour de France routes differ?"
    period = asked_period(parse_timeframe(editions, as_of=as_of), editions)
    assert (period.since, period.until, period.phrase) == (date(2015, 1, 1), date(2019, 12, 31), "2015-2019")
    timeless = "Who won the Tour de France?"
    assert not asked_period(parse_timeframe(timeless, as_of=as_of), timeless).has_window


def test_follow_up_borrows_the_subject_of_the_previous_question() -> None:
    history = [Turn(question="Why did the US kill Suleimani in Baghdad?", answer="...")]
    assert is_follow_up("and what did France say?")
    query, borrowed = search_query("and what did France say?", history)
    assert "Suleimani" in query and "suleimani" in borrowed
    standalone, none = search_query("Who won the Eastmere Cup final in 2024?", history)
    assert standalone == "Who won the Eastmere Cup final in 2024?" and none == []
