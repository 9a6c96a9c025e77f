"""`newsbot index ...` through the real CLI (typer's CliRunner), as a user types it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsbot.cli import app
from tests.conftest import FIXTURES, ROOT

runner = CliRunner()


@pytest.fixture
def cli_env(tmp_path: Path, embedder, monkeypatch: pytest.MonkeyPatch) -> Path:
    index_dir = tmp_path / "index"
    monkeypatch.setenv("NEWSBOT_INDEX_DIR", str(index_dir))
    monkeypatch.setenv("NEWSBOT_CORPUS_DIR", str(ROOT / "corpus"))
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    return index_dir


def test_build_stats_add_remove(cli_env: Path) -> None:
    result = runner.invoke(app, ["index", "build", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "1 added" in result.output and "generation" in result.output

    result = runner.invoke(app, ["index", "stats", "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    assert stats["articles"] == 1 and stats["chunks"] > 1
    assert stats["model"] == "all-MiniLM-L6-v2" and stats["index_type"] == "flat"
    assert stats["first_published"] == "2025-09-11" and stats["bytes_on_disk"] > 0

    result = runner.invoke(app, ["index", "add", str(FIXTURES / "ingest" / "records.jsonl"), "--json", "--quiet"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["added"] >= 1 and report["published"]
    new_id = report["article_ids"][0]

    result = runner.invoke(app, ["index", "add", str(FIXTURES / "ingest" / "records.jsonl"), "--json", "--quiet"])
    assert json.loads(result.stdout)["published"] is False

    result = runner.invoke(app, ["index", "remove", new_id])
    assert result.exit_code == 0, result.output
    assert "1 removed" in result.output

    result = runner.invoke(app, ["index", "remove", "a-0000000000000000"])
    assert result.exit_code != 0
    assert "no such article: a-0000000000000000" in result.output


def test_stats_without_an_index_fails_with_one_line(cli_env: Path) -> None:
    result = runner.invoke(app, ["index", "stats"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"error: no index in {cli_env}: run `newsbot index build` first"]


def test_bad_map_option_is_refused(cli_env: Path) -> None:
    result = runner.invoke(app, ["index", "build", "--map", "nonsense"])
    assert result.exit_code == 1
    assert "--map takes field=key" in result.output


def test_skipped_inputs_are_listed_and_counted(cli_env: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "ok.md").write_text("# Harbour reopens\n\nThe harbour reopened on Thursday after two weeks of repairs.\n")
    (folder / "broken.json").write_text("{ this is not json")
    result = runner.invoke(app, ["index", "build", str(folder), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "broken.json" in result.output and "1 skipped" in result.output
