"""`newsbot eval` on question files written for the seed index, in both supported formats."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from retrieval.evaluate import answer_matches, calibrate, evaluate, format_report, load_questions
from retrieval.search import Retriever

EVAL = Path(__file__).resolve().parents[1] / "fixtures" / "eval"


def test_answer_matching_rules() -> None:
    assert answer_matches("Tom Cruise", "a video of TOM CRUISE")
    assert answer_matches("11", "There were 11 helicopters.")
    assert not answer_matches("11", "There were 110 helicopters.")
    assert not answer_matches("11", "It cost 11.5 million.")
    assert answer_matches("66 to 27", "by 66 to 27 votes")
    assert answer_matches("Rob Gronkowski’s", "rob gronkowski's")


def test_newsbot_format_scores_retrieval_answers_and_abstention(seed_retriever: Retriever) -> None:
    questions = load_questions(EVAL / "seed-questions.jsonl")
    report = evaluate(seed_retriever, questions, k=10)
    by_id = {r.id: r for r in report.results}
    # The reopening story is found by its url; the dissent question's gold is the Eastmere Post
    # copy, which the store folded into the wire story: the copy still counts as the gold.
    assert by_id["s2"].gold_rank == 1
    assert by_id["s3"].gold_rank == 1
    assert by_id["m1"].gold_found == 2
    assert by_id["s1"].correct and by_id["s2"].correct
    assert by_id["n1"].abstained
    summary = report.summary
    assert summary["single"]["hits@10"] == 1.0 and summary["multi"]["all_gold@10"] == 1.0
    assert summary["none"]["abstain_recall"] == 1.0 and summary["all"]["abstain_precision"] == 1.0
    assert summary["all"]["latency_p50_ms"] > 0
    table = format_report(report)
    assert table.splitlines()[0].split()[:3] == ["type", "n", "H@1"] and "multi" in table
    json.dumps(report.to_dict())  # the JSON written by the CLI
    best = calibrate(report.results)["best"]
    assert best is not None and best["abstain_recall"] == 1.0


def test_multihop_rag_format_scores_evidence_facts(seed_retriever: Retriever) -> None:
    questions = load_questions(EVAL / "multihop-sample.json")
    assert [q.type for q in questions] == ["inference_query", "comparison_query", "null_query"]
    assert not questions[2].answerable and questions[0].facts
    report = evaluate(seed_retriever, questions, k=10)
    results = {r.type: r for r in report.results}
    # A passage hits when a fact, spaces and newlines removed, is a substring of it.
    assert results["comparison_query"].fact_rank == 1
    assert results["inference_query"].fact_rank is not None
    assert results["null_query"].fact_rank is None
    overall = report.summary["all"]
    assert overall["mh_hits@10"] == 1.0 and overall["mh_mrr@10"] > 0.5
    # Article-level matching uses the evidence urls.
    assert results["comparison_query"].gold_rank == 1


def test_answer_in_gold_is_the_ceiling_of_answer_recall(seed_retriever: Retriever, tmp_path: Path) -> None:
    """Whether an answer string is in a gold article at all: a set worded otherwise than its articles shows."""
    reopens = "https://kessock-courier.example/local/2024/04/11/glasswater-bridge-reopens"
    rows = [
        {"id": "in", "question": "How much did the Glasswater Bridge repairs cost?", "answers": ["3.6 million crowns"], "gold_urls": [reopens], "type": "single"},
        # The quiz's own wording: the report writes "3.6 million crowns".
        {"id": "out", "question": "How much did the Glasswater Bridge repairs cost?", "answers": ["3,600,000 crowns"], "gold_urls": [reopens], "type": "single"},
        # Gold is a syndicated copy, folded into the wire story whose body is searched instead.
        {"id": "copy", "question": "Who dissented at the Bank of Norland rate decision?", "answers": ["Ruben Aaltonen"], "gold_urls": ["https://eastmere-post.example/money/norland-rate-rise"], "type": "single"},
        {"id": "none", "question": "Which team won the 2018 Stanley Cup ice hockey final?", "answers": [], "gold": [], "type": "none"},
    ]
    path = tmp_path / "worded.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    report = evaluate(seed_retriever, load_questions(path), k=10)
    by_id = {r.id: r for r in report.results}
    assert [by_id[i].answer_in_gold for i in ("in", "out", "copy", "none")] == [True, False, True, None]
    # Retrieval found the gold article for both wordings; only the string differs.
    assert by_id["out"].gold_rank == 1 and not by_id["out"].answer_in_passages
    assert report.summary["all"]["answer_in_gold"] == round(2 / 3, 4)
    assert "AnsInGold" in format_report(report).splitlines()[0]


def test_bad_question_files_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "ok?"}\nnot json\n', encoding="utf-8")
    with pytest.raises(ValueError, match="bad.jsonl:2"):
        load_questions(bad)
    odd = tmp_path / "odd.jsonl"
    odd.write_text('{"prompt": "what?"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="neither"):
        load_questions(odd)
    # Each refusal names the place and the field; nothing is scored from a half-read file.
    for content, expected in (
        ('{"question": "ok?"}\n5\n', "odd.jsonl:2: not a JSON object"),
        ('{"question": "ok?", "asked_on": "yesterday"}\n', "odd.jsonl:1: `asked_on` is not a day"),
        ('{"question": "ok?", "answers": "Milley"}\n', "odd.jsonl:1: `answers` must be a list of strings"),
        ('{"question": ""}\n', "`question` must be a non-empty string"),
        ('[{"question": "ok?"}, ["what?"]]', "odd.jsonl: record 2: not a JSON object"),
        ('[{"question": "ok?"}', "odd.jsonl: not a JSON array"),
        ("\n\n", "odd.jsonl: no questions"),
        ('[{"query": "ok?", "evidence_list": ["a fact"]}]', "record 1: `evidence_list` must be a list of objects"),
    ):
        odd.write_text(content, encoding="utf-8")
        with pytest.raises(ValueError, match=re.escape(expected)):
            load_questions(odd)
