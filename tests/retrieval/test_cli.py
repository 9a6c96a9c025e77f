"""`newsbot ask`, `search` and `eval` through the real CLI on the seed index."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from newsbot.cli import app

EVAL = Path(__file__).resolve().parents[1] / "fixtures" / "eval"


def _env(index: Path) -> dict[str, str]:
    return {"NEWSBOT_INDEX_DIR": str(index), "NEWSBOT_LLM_BASE_URL": "", "NEWSBOT_LOG_LEVEL": "ERROR"}


def test_ask_json_has_the_documented_fields(seed_index: Path) -> None:
    result = CliRunner().invoke(app, ["ask", "Who called the letter a mistake?", "--json"], env=_env(seed_index))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # The documented fields, then what the HTTP service adds (its test compares the two).
    assert set(data) == {"answer", "abstained", "citations", "took_ms", "as_of", "notes", "closest", "mode"}
    assert {"n", "article_id", "title", "source", "published_at", "url", "passage", "quote"} <= set(data["citations"][0])
    assert "Milley" in data["answer"] and not data["abstained"]


def test_ask_text_lists_numbered_sources_with_filters(seed_index: Path) -> None:
    result = CliRunner().invoke(
        app, ["ask", "What happened to the Glasswater Bridge?", "--until", "2024-02-01", "--source", "Kessock Courier"], env=_env(seed_index)
    )
    assert result.exit_code == 0, result.output
    assert "[1] Glasswater Bridge closes for repairs after cracks found — Kessock Courier, 2024-01-15" in result.stdout
    assert "“" in result.stdout and "reopens" not in result.stdout


def test_ask_rejects_a_bad_date(seed_index: Path) -> None:
    result = CliRunner().invoke(app, ["ask", "anything", "--since", "last tuesday"], env=_env(seed_index))
    assert result.exit_code == 1 and "YYYY-MM-DD" in result.output


def test_a_blank_question_or_query_is_refused_not_abstained(seed_index: Path) -> None:
    # As the HTTP service refuses a blank question (422), the CLI says so instead of
    # "answering" that the archive has nothing on it.
    for command, word in (("ask", "question"), ("search", "query")):
        result = CliRunner().invoke(app, [command, "   "], env=_env(seed_index))
        assert result.exit_code == 1 and f"the {word} is empty" in result.output


def test_search_json(seed_index: Path) -> None:
    result = CliRunner().invoke(app, ["search", "Eastmere Cup penalties", "--top-k", "3", "--json"], env=_env(seed_index))
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)["hits"]
    assert 1 <= len(hits) <= 3
    assert {"article_id", "chunk_id", "title", "source", "published_at", "url", "text", "score"} <= set(hits[0])
    assert hits[0]["title"] == "Harbour Rovers win the Eastmere Cup on penalties"


def test_eval_prints_a_table_and_writes_json(seed_index: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    result = CliRunner().invoke(app, ["eval", str(EVAL / "seed-questions.jsonl"), "--out", str(out), "--calibrate"], env=_env(seed_index))
    assert result.exit_code == 0, result.output
    assert "AbstR" in result.stdout and "abstention threshold" in result.stdout
    assert json.loads(out.read_text())["summary"]["all"]["n"] == 5


def test_missing_index_is_a_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["ask", "anything"], env=_env(tmp_path / "nothing"))
    assert result.exit_code == 1 and "newsbot index build" in result.output


def test_eval_against_a_baseline_lists_what_changed(seed_index: Path, tmp_path: Path) -> None:
    questions = str(EVAL / "seed-questions.jsonl")
    first = tmp_path / "hybrid.json"
    result = CliRunner().invoke(app, ["eval", questions, "--out", str(first), "-q"], env=_env(seed_index))
    assert result.exit_code == 0, result.output
    # Keyword search alone has no dense closeness to be confident with, so answers turn into abstentions.
    second = tmp_path / "keyword.json"
    env = {**_env(seed_index), "NEWSBOT_RETRIEVAL_MODE": "keyword"}
    result = CliRunner().invoke(app, ["eval", questions, "--out", str(second), "-q", "--baseline", str(first)], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(second.read_text())
    changed = {c["id"]: c["changed"] for c in data["comparison"]["changes"]}
    before = {r["id"]: r for r in json.loads(first.read_text())["results"]}
    after = {r["id"]: r for r in data["results"]}
    # Exactly the questions whose compared fields differ are listed, each with both values.
    differing = {
        qid for qid in after if any(before[qid][f] != after[qid][f] for f in ("gold_rank", "answer_in_passages", "correct", "abstained"))
    }
    assert differing and set(changed) == differing
    for qid in differing:
        assert all(pair == [before[qid][f], after[qid][f]] != [after[qid][f]] * 2 for f, pair in changed[qid].items())
        assert f"  {qid}: " in result.stdout
    assert "Answered" in data["comparison"]["metrics"] and "against " in result.stdout
    # The same run against itself: nothing moved.
    again = CliRunner().invoke(app, ["eval", questions, "--out", str(tmp_path / "again.json"), "-q", "--baseline", str(second)], env=env)
    assert again.exit_code == 0 and "0 question(s) changed" in again.stdout and "no metric of the `all` row moved" in again.stdout


def test_eval_refuses_a_baseline_that_is_not_an_eval_file(seed_index: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"hits": []}', encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", str(EVAL / "seed-questions.jsonl"), "--baseline", str(bad)], env=_env(seed_index))
    assert result.exit_code == 1 and "bad.json" in result.output and "newsbot eval" in result.output
