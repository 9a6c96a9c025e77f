"""Hybrid search on the seed index: filters inside the search, outlets of syndicated copies, time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import numpy as np

from index.store import IndexReader
from retrieval.search import Retriever
from retrieval.types import Filters
from tests.conftest import build, make_settings


def test_seed_article_is_found_by_keywords_and_by_meaning(seed_retriever: Retriever) -> None:
    for mode in ("keyword", "dense", "hybrid"):
        hits = seed_retriever.retrieve("Who said the letter about leaving Iraq was a mistake?", top_k=3, mode=mode).hits
        assert hits, mode
        assert "Iraq" in hits[0].title, (mode, hits[0].title)


def test_hits_point_into_the_article_body(seed_retriever: Retriever, seed_reader) -> None:
    for hit in seed_retriever.search("Bank of Norland interest rate decision", top_k=5):
        body = seed_reader.article(hit.article_id).body
        assert body[hit.start : hit.end] == hit.text


def test_syndicated_copies_collapse_into_one_hit_with_their_outlets(seed_retriever: Retriever) -> None:
    hits = seed_retriever.search("Bank of Norland raises interest rate to 4.25%", top_k=5)
    rate_hits = [h for h in hits if "Norland" in h.title]
    assert len({h.article_id for h in rate_hits}) == 1, "three copies of one wire story must be one article"
    assert sorted(rate_hits[0].outlets) == ["Eastmere Post", "Kessock Courier", "Norland Wire"]


def test_source_filter_is_applied_inside_the_search(seed_retriever: Retriever) -> None:
    # Without the filter the bridge stories (Kessock Courier) lead; a post-filter would then
    # return few or no passages. Inside the search it still fills top_k from the one outlet.
    filters = Filters(sources=("Eastmere Post",))
    hits = seed_retriever.search("Glasswater Bridge repairs and cracks", top_k=2, filters=filters)
    assert len(hits) == 2
    assert {h.source for h in hits} == {"Eastmere Post"}


def test_alternating_filters_each_get_their_own_passages(seed_index) -> None:
    # Filter ids are cached per reader and the keyword search's id table is only refilled when
    # the filter changes: flipping between two filters must never serve one's passages to the other.
    # The same for the in-memory keyword index, which caches the last filter's passage mask.
    reader = IndexReader.open(seed_index)
    fresh = IndexReader.open(seed_index)
    try:
        for round_, source in enumerate(("Eastmere Post", "Kessock Courier", "Eastmere Post", "Kessock Courier") * 2):
            if round_ == 4:
                assert reader.load_keyword_index(max_passages=100_000)
            allowed = reader.chunk_ids_where(sources=(source,))
            assert allowed is reader.chunk_ids_where(sources=(source.upper(),))  # one cached array per filter
            assert sorted(allowed.tolist()) == sorted(fresh._select_chunk_ids(sources=(source,), since=None, until=None, article_ids=()).tolist())
            found = reader.keyword_search("mayor", 10, allowed=allowed)
            assert found and {c.source for c in reader.chunks([cid for cid, _ in found])} == {source}
            assert found == fresh.keyword_search("mayor", 10, allowed=np.array(allowed))
    finally:
        reader.close()
        fresh.close()


def test_date_filters_bound_the_published_dates(seed_retriever: Retriever) -> None:
    filters = Filters(since=date(2024, 1, 1), until=date(2024, 2, 1))
    hits = seed_retriever.search("Glasswater Bridge", top_k=5, filters=filters)
    assert hits and all("2024-01-01" <= (h.published_at or "")[:10] <= "2024-02-01" for h in hits)
    assert hits[0].title.startswith("Glasswater Bridge closes")


def test_article_filter(seed_retriever: Retriever) -> None:
    target = seed_retriever.search("Eastmere Cup final penalties", top_k=1)[0].article_id
    hits = seed_retriever.search("bridge", top_k=3, filters=Filters(article_ids=(target,)))
    assert hits and {h.article_id for h in hits} == {target}


def test_latest_prefers_the_newest_story(seed_retriever: Retriever) -> None:
    as_of = date(2024, 4, 20)
    hits = seed_retriever.search("What is the latest on the Glasswater Bridge?", top_k=2, as_of=as_of)
    assert hits[0].title == "Glasswater Bridge reopens two weeks late"


def test_date_window_in_the_question_ranks_that_period_first(seed_retriever: Retriever) -> None:
    hits = seed_retriever.search("What happened to the Glasswater Bridge in January 2024?", top_k=2, as_of=date(2024, 6, 1))
    assert hits[0].published_at.startswith("2024-01")


def test_a_month_naming_the_event_ranks_that_period_first(seed_retriever: Retriever) -> None:
    as_of = date(2024, 6, 1)
    plain = seed_retriever.search("What was the news about the Glasswater Bridge?", top_k=2, as_of=as_of)
    assert not plain[0].published_at.startswith("2024-01"), "without the month another report leads: the test exercises it"
    hits = seed_retriever.search("What was the January 2024 news about the Glasswater Bridge?", top_k=2, as_of=as_of)
    assert hits[0].published_at.startswith("2024-01")


def test_asking_as_of_a_date_hides_later_articles(seed_retriever: Retriever) -> None:
    hits = seed_retriever.search("Glasswater Bridge", top_k=5, as_of=date(2024, 2, 1))
    assert hits and all((h.published_at or "")[:10] <= "2024-02-01" for h in hits)


def test_cap_per_article_spreads_results_over_articles(seed_retriever: Retriever) -> None:
    capped = seed_retriever.retrieve("Suleimani Iraq letter Milley Esper", top_k=6, max_per_article=1).hits
    assert len({h.article_id for h in capped}) == len(capped)


def test_sources_and_latest(seed_retriever: Retriever) -> None:
    names = {s.name: s for s in seed_retriever.sources()}
    assert names["Kessock Courier"].articles >= 3
    latest = seed_retriever.latest(topic="Glasswater Bridge", limit=2)
    assert latest[0].title == "Glasswater Bridge reopens two weeks late"


LEDE_STORY = {
    "title": "Ostrava tram depot to close after council vote",
    "source": "Kessock Courier",
    "published_at": "2024-05-02",
    "url": "https://example.org/ostrava-depot",
    "body": (
        "The council of Ostrava voted on Tuesday to close the city's only tram depot by the end of the year, "
        "mayor Ana Lind said, ending a century of repairs on the site.\n\n"
        "The depot opened in 1921 and once serviced eighty cars. Its workshops still hold the original lathes, "
        "and volunteers have offered to catalogue them before the building is sold.\n\n"
        "Engineers found that the copper roof above the paint shop had corroded through in three places, "
        "letting rain onto the wiring; replacing it would cost more than the depot earns in a decade.\n\n"
        "Unions asked for the staff to be moved to the new bus garage, and the council agreed to discuss it in June."
    ),
}
FILLER = [
    {"title": f"Harbour notes {n}", "source": "Eastmere Post", "published_at": f"2024-05-0{n}",
     "body": f"Harbour note {n}: the ferry timetable changes on Monday and the fish market opens at six. Roofers repaired the harbour office."}
    for n in range(1, 6)
]


@contextmanager
def story_index(tmp_path: Path, embedder, articles: list[dict], **overrides) -> Iterator[tuple[Path, IndexReader]]:
    """A real index of `articles` (written for the test), and a reader on it, closed after."""
    source = tmp_path / "news.jsonl"
    source.write_text("\n".join(json.dumps(a) for a in articles), encoding="utf-8")
    index_dir = tmp_path / "index"
    build(index_dir, [source], embedder, **overrides)
    reader = IndexReader.open(index_dir)
    try:
        yield index_dir, reader
    finally:
        reader.close()


def test_an_article_found_by_a_later_passage_offers_its_lede(tmp_path, embedder) -> None:
    with story_index(tmp_path, embedder, [LEDE_STORY, *FILLER], chunk_tokens=40, chunk_overlap=0) as (index_dir, reader):
        story = next(h.article_id for h in Retriever(reader, embedder, settings=make_settings(index_dir)).search("Ostrava tram depot", top_k=1))
        lede = next(c for c in reader.article_chunks(story) if c.position == 0)
        assert len(reader.article_chunks(story)) >= 3, "the story must span several passages for this test"
        question = "Why would replacing the corroded copper roof above the paint shop cost too much?"

        def hits(lead_weight: float):
            # Feedback off: its expanded search would find the lede by itself in a story this small.
            retriever = Retriever(reader, embedder, settings=make_settings(index_dir, lead_weight=lead_weight, feedback_passages=0))
            return retriever.retrieve(question, top_k=3, max_per_article=2).hits

        without = hits(0.0)
        assert without[0].article_id == story and lede.chunk_id not in {h.chunk_id for h in without}
        with_lede = hits(0.85)
        story_hits = [h for h in with_lede if h.article_id == story]
        assert story_hits[0].chunk_id == without[0].chunk_id, "the matching passage still leads"
        assert [h.chunk_id for h in story_hits][1] == lede.chunk_id
        assert story_hits[1].score >= 0.85 * story_hits[0].score - 1e-9
        # Filters still hold: outside the allowed articles no lede is offered.
        others = Retriever(reader, embedder, settings=make_settings(index_dir, lead_weight=0.85)).search(
            question, top_k=3, filters=Filters(sources=("Eastmere Post",))
        )
        assert others and all(h.article_id != story for h in others)


# A quiz-like question in a reader's words: the first story names the answer ("Harald Voss"),
# and a second outlet's report about him shares no word with the question.
RESIGNATION = {
    "title": "Norland cabinet crisis deepens as ministers quit",
    "source": "Eastmere Post",
    "published_at": "2024-06-03",
    "url": "https://example.org/norland-crisis",
    "body": "Norland's head of government announced his resignation this week. Prime Minister Harald Voss said "
    "Voss would hand the office of prime minister to a successor chosen by the Voss coalition.",
}
CARETAKER = {
    "title": "Voss to stay on as caretaker",
    "source": "Kessock Courier",
    "published_at": "2024-06-04",
    "url": "https://example.org/voss-caretaker",
    "body": "Harald Voss will remain at Bellweather Palace as caretaker until September, aides to Voss told reporters.",
}
OTHER_NEWS = [
    {"title": title, "source": "Eastmere Post", "published_at": f"2024-06-0{n}", "url": f"https://example.org/other-{n}", "body": body}
    for n, (title, body) in enumerate(
        [
            ("Mayor resigns over tram contract", "The mayor of Ostrava resigned this week over a tram contract, the council said."),
            ("Head coach announces retirement", "The head coach of the national rugby team announced his retirement after the final."),
            ("Museum director steps down", "The director of the maritime museum stepped down this week after twelve years."),
            ("Ferry operator announces new timetable", "The ferry operator announced a new timetable this week for the island routes."),
            ("Bank governor announces rate decision", "The central bank governor announced a rate rise, the third this year."),
            ("School head announces closure", "The head of Lindqvist School announced it will close this week for repairs."),
        ],
        start=1,
    )
]


def test_feedback_expands_the_keywords_with_what_the_first_results_name(tmp_path, embedder) -> None:
    question = "Which head of government announced his resignation this week?"
    with story_index(tmp_path, embedder, [RESIGNATION, CARETAKER, *OTHER_NEWS]) as (index_dir, reader):

        def retrieve(passages: int, filters: Filters | None = None):
            retriever = Retriever(reader, embedder, settings=make_settings(index_dir, feedback_passages=passages, feedback_terms=5))
            return retriever.retrieve(question, top_k=5, max_per_article=1, filters=filters)

        without, with_feedback = retrieve(0), retrieve(1)
        assert without.hits[0].title == with_feedback.hits[0].title == RESIGNATION["title"], "the first ranking still leads"
        assert all(c.keyword_fb_rank is None for c in without.candidates.values())
        caretaker = next(h for h in with_feedback.hits if h.title == CARETAKER["title"])
        found = with_feedback.candidates[caretaker.chunk_id]
        # It shares no word with the question, but the first result's names bring it up.
        assert found.keyword_rank is None and found.keyword_fb_rank is not None and found.keyword_fb_rank <= 1
        assert CARETAKER["title"] not in [h.title for h in without.hits]
        # The expanded search stays inside the filters, as every search does.
        filtered = retrieve(1, Filters(sources=("Eastmere Post",)))
        assert filtered.hits and all(h.source == "Eastmere Post" for h in filtered.hits)


# Two reports that match a question with no word about time; the older one matches it better.
OUTBREAK_OLD = {
    "title": "Health agency weighs emergency over Vessby fever",
    "source": "Eastmere Post",
    "published_at": "2030-03-02",
    "url": "https://example.org/vessby-fever",
    "body": "Officials at the Norland Health Agency are considering whether to declare a public health emergency "
    "over the outbreak of Vessby fever, the agency said.",
}
OUTBREAK_NEW = {
    "title": "Marholm pox cases rise",
    "source": "Kessock Courier",
    "published_at": "2031-06-10",
    "url": "https://example.org/marholm-pox",
    "body": "The Norland Health Agency may declare a public health emergency as Marholm pox spreads, officials said.",
}


def test_a_question_without_time_words_prefers_the_recent_of_two_equal_matches(tmp_path, embedder) -> None:
    question = "Which outbreak are officials at the Norland Health Agency considering declaring a public health emergency over?"
    with story_index(tmp_path, embedder, [OUTBREAK_OLD, OUTBREAK_NEW, *OTHER_NEWS]) as (index_dir, reader):

        def titles(question: str, as_of: date, **overrides) -> list[str]:
            retriever = Retriever(reader, embedder, settings=make_settings(index_dir, **overrides))
            return [h.title for h in retriever.retrieve(question, top_k=2, as_of=as_of).hits]

        now = date(2031, 6, 14)
        assert titles(question, now, background_recency_floor=1.0)[0] == OUTBREAK_OLD["title"], "the older report matches better"
        assert titles(question, now)[0] == OUTBREAK_NEW["title"]
        # Over an archive whose articles are all long past, the preference is the same for each.
        later = date(2040, 1, 1)
        assert titles(question, later) == titles(question, later, background_recency_floor=1.0)
        # A date window in the question says when: no preference for the recent one.
        in_window = Retriever(reader, embedder, settings=make_settings(index_dir)).retrieve(question.replace("?", " in March 2030?"), top_k=2, as_of=now)
        assert in_window.hits[0].title == OUTBREAK_OLD["title"]
        assert {c.time_factor for c in in_window.candidates.values()} == {1.0}


INTERVIEW = {
    "title": "The harbour's future: an interview",
    "source": "Eastmere Post",
    "published_at": "2024-06-10",
    "url": "https://example.org/harbour-interview",
    "body": (
        "Eastmere Post spoke with the harbour's longest-serving pilot about the new ferry terminal.\n\n"
        "((EastmerePost)) What will the new terminal change for the pilots?\n\n"
        "((TorvaldMcKinnon)) The new terminal will cut the wait at the outer buoys from two hours to twenty minutes.\n\n"
        "((EastmerePost)) And the fishing fleet?\n\n"
        "((TorvaldMcKinnon)) The fleet keeps the old quay, so nothing changes for them."
    ),
}
TERMINAL_NEWS = {
    "title": "Council approves the new ferry terminal",
    "source": "Eastmere Post",
    "published_at": "2024-06-01",
    "url": "https://example.org/terminal",
    "body": "The council approved the new ferry terminal on Monday. Pilots said the terminal would change the wait at the outer buoys.",
}


def test_an_interviewee_named_only_in_speaker_tags_is_found_by_name(tmp_path, embedder) -> None:
    # Transcripts write the speaker run together, "((TorvaldMcKinnon))"; ingest spells it
    # apart, so keyword search and the answer's word overlap see the name.
    with story_index(tmp_path, embedder, [INTERVIEW, TERMINAL_NEWS, *FILLER]) as (index_dir, reader):
        retriever = Retriever(reader, embedder, settings=make_settings(index_dir))
        question = "What did Torvald McKinnon say the new terminal would do to the wait at the outer buoys?"
        found = reader.keyword_search("Torvald McKinnon", 5)
        assert found and {c.title for c in reader.chunks([cid for cid, _ in found])} == {INTERVIEW["title"]}
        answer = retriever.ask(question)
        assert not answer.abstained and "twenty minutes" in answer.citations[0].quote
