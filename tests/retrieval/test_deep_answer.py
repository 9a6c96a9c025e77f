"""A question about one report is answered from deep inside it, past the passages the ranking reached."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.embed import Embedder
from index.store import IndexReader
from retrieval.answer import rest_of_best_article
from retrieval.search import Retriever
from tests.conftest import build, make_settings

# A long interview: every answer speaks of the eelgrass survey (and of trust), so the ranking
# reaches the passages that say it most; the trust that pays is named once, in the eighth answer.
_ANSWERS = [
    "The Glasswater eelgrass survey began in 2011, when the Kessock harbour board asked the marine station to map the meadows in the Glasswater estuary before the new quay was dredged, and the board has trusted its maps ever since.",
    "Every July the eelgrass survey team dives the twelve transects of the estuary, counting shoots in each square metre of the Glasswater eelgrass meadows; we trust a photograph more than a tired diver's count.",
    "The eelgrass meadows of the Glasswater shelter young cod and flatfish, and the survey has shown the meadows holding their ground even in the years of the storms, so fishermen have come to trust the eelgrass survey.",
    "Our eelgrass survey divers also record the water clarity, because eelgrass needs light, and the Glasswater estuary runs brown after heavy rain in the hills; a count in murky water is one we do not trust.",
    "The first years of the survey were hard: the eelgrass survey boat broke down twice, and the divers counted the Glasswater meadows from a borrowed dinghy they did not quite trust.",
    "The meadows near the old ferry slip have grown by a third since the survey began, which we think follows the end of the sewage outflow there in 2014.",
    "The survey publishes its counts every winter, and anyone can read them; schools in Kessock use them to teach how eelgrass meadows store carbon.",
    "Money has always been the question. Since 2016 the Norland Coastal Trust has paid for the boat, the fuel and two divers each summer, and the harbour board pays the rest of the survey.",
    "Next year the team hopes to add a drone to map the meadows at low tide, which would let the survey cover the whole estuary in a week instead of a month.",
]


def _interview() -> dict[str, str]:
    body = "\n\n".join(_ANSWERS)
    return {
        "title": "Interview: the divers who count the Glasswater eelgrass",
        "source": "Kessock Courier",
        "published_at": "2024-07-02",
        "url": "https://kessock-courier.example/features/2024/07/02/glasswater-eelgrass-divers",
        "body": body,
    }


_OTHERS = [
    {"title": "Kessock harbour quay dredging begins", "source": "Kessock Courier", "published_at": "2024-03-04", "body": "Dredging of the new quay in Kessock harbour began on Monday. The harbour board says the work in the Glasswater estuary will take six weeks and that divers will check the eelgrass meadows nearby afterwards."},
    {"title": "Eastmere Cup final tickets sell out", "source": "Eastmere Post", "published_at": "2024-05-10", "body": "Tickets for the Eastmere Cup final between Harbour Rovers and Eastmere Athletic sold out within an hour on Friday, the league said."},
]

QUESTION = "Which trust financed the Glasswater eelgrass survey?"
# Small passages, so that a short interview has many of them.
_CHUNKS = {"chunk_tokens": 64, "chunk_overlap": 8}


@pytest.fixture(scope="module")
def deep_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    folder = tmp_path_factory.mktemp("deep")
    articles = folder / "articles.jsonl"
    articles.write_text("".join(json.dumps(a) + "\n" for a in [_interview(), *_OTHERS]), encoding="utf-8")
    index_dir = folder / "index"
    build(index_dir, [articles], embedder, **_CHUNKS)
    return index_dir


def _retriever(index_dir: Path, embedder: Embedder, **overrides: object) -> Retriever:
    return Retriever(IndexReader.open(index_dir), embedder, settings=make_settings(index_dir, **_CHUNKS, **overrides))


def test_the_answer_deep_in_the_one_report_asked_about_is_found(deep_index: Path, embedder: Embedder) -> None:
    reading = _retriever(deep_index, embedder)
    ranked_only = _retriever(deep_index, embedder, answer_read_best_article=False)
    retrieval = reading.retrieve(QUESTION, max_per_article=reading.settings.answer_max_per_article)
    # The premise: the interview holds its whole share of the passages, and the funder's
    # passage is not among them.
    interview = retrieval.hits[0].article_id
    assert [h.article_id for h in retrieval.hits].count(interview) == reading.settings.answer_max_per_article
    assert not any("Norland Coastal Trust" in h.text for h in retrieval.hits)
    assert "Norland Coastal Trust" not in ranked_only.ask(QUESTION).answer

    answer = reading.ask(QUESTION)
    assert not answer.abstained and "Norland Coastal Trust" in answer.answer
    quoted = next(c for c in answer.citations if "Norland Coastal Trust" in c.quote)
    # The citation is the passage that holds the quote, at its offsets in the body.
    body = reading.reader.article(interview).body
    assert quoted.article_id == interview and quoted.quote in quoted.passage
    assert body[quoted.quote_start : quoted.quote_end] == quoted.quote


def test_only_an_article_that_holds_its_whole_share_is_read_further(deep_index: Path, embedder: Embedder) -> None:
    retriever = _retriever(deep_index, embedder)
    hits = retriever.retrieve(QUESTION, max_per_article=retriever.settings.answer_max_per_article).hits
    rest = rest_of_best_article(hits, retriever=retriever)
    stored = retriever.reader.article_chunks(hits[0].article_id)
    assert {h.chunk_id for h in rest} == {c.chunk_id for c in stored} - {h.chunk_id for h in hits}
    assert all(h.article_id == hits[0].article_id and h.text in retriever.reader.article(h.article_id).body for h in rest)
    # One passage of the article is no sign that the question is about it alone.
    others = [h for h in hits if h.article_id != hits[0].article_id]
    assert rest_of_best_article([hits[0], *others], retriever=retriever) == []
    assert rest_of_best_article(hits, retriever=_retriever(deep_index, embedder, answer_read_best_article=False)) == []
