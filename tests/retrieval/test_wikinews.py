"""The Wikinews dev questions (read from ../shared, skipped where absent): a guard against regressions.

The thresholds sit a little under the figures in docs/retrieval.md, so noise does not fail the
suite but a real loss of quality does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.evaluate import evaluate, load_questions
from retrieval.search import Retriever

DEV = Path(__file__).resolve().parents[3] / "shared" / "eval" / "dev.jsonl"

pytestmark = pytest.mark.wikinews


@pytest.fixture(scope="module")
def report(wikinews_retriever: Retriever):
    if not DEV.exists():
        pytest.skip(f"the dev questions are not at {DEV} (they live in ../shared, outside the repository)")
    return evaluate(wikinews_retriever, load_questions(DEV), k=10)


def test_retrieval_finds_the_gold_articles(report) -> None:
    assert report.summary["all"]["hits@10"] >= 0.95
    assert report.summary["all"]["mrr@10"] >= 0.9
    assert report.summary["multi"]["all_gold@10"] >= 0.85


def test_answers_and_abstention(report) -> None:
    summary = report.summary["all"]
    assert summary["answer_accuracy"] >= 0.875
    assert summary["answered"] >= 0.95
    assert summary["abstain_precision"] >= 0.85 and summary["abstain_recall"] >= 0.85


def test_every_answer_cites_what_it_quotes(wikinews_retriever: Retriever) -> None:
    answer = wikinews_retriever.ask("Which artist made the gold toilet stolen from Blenheim Palace?")
    assert not answer.abstained and answer.citations
    for citation in answer.citations:
        assert f"[{citation.n}]" in answer.answer
        body = wikinews_retriever.reader.article(citation.article_id).body
        assert body[citation.quote_start : citation.quote_end] == citation.quote
        assert citation.url.startswith("https://en.wikinews.org/")
