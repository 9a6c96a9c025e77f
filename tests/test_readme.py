"""The README is part of the product: its commands run, its settings table is complete and current."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsbot.cli import app
from newsbot.settings import Settings
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _first_block() -> list[str]:
    block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert block, "the README has no shell block"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_the_two_commands_come_first_and_ci_runs_the_test_command_verbatim() -> None:
    run, test = _first_block()
    assert run == "./scripts/run.sh" and test == "./scripts/test.sh"
    for command in (run, test):
        assert (ROOT / command).stat().st_mode & 0o111, f"{command} is not executable"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(rf"^{re.escape(test)}$", ci, re.M), ".ci/run does not run the README's test command"


def test_every_setting_is_in_the_readme_table_as_generated() -> None:
    from scripts.settings_table import table

    assert table() in README, "README settings table is stale: run `python scripts/settings_table.py --write`"
    for name, field in Settings.model_fields.items():
        env = field.validation_alias.choices[0] if field.validation_alias else f"NEWSBOT_{name.upper()}"
        assert f"`{env}`" in README


def _readme_commands(subcommand: str) -> list[list[str]]:
    commands = []
    for line in README.splitlines():
        line = line.split(" #")[0].strip()
        if line.startswith(".venv/bin/newsbot " + subcommand):
            commands.append(shlex.split(line)[1:])
    return commands


@pytest.mark.parametrize("args", _readme_commands("ask") + _readme_commands("search"), ids=" ".join)
def test_readme_ask_and_search_examples_run(args: list[str], seed_index: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEWSBOT_INDEX_DIR", str(seed_index))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    if args[0] == "ask":
        assert "Milley" in result.output and "London Daily" in result.output
    else:
        hits = json.loads(result.stdout)["hits"]
        assert hits and any("Iraq" in h["title"] for h in hits)


# The README's eval lines, in order: the second compares against what the first wrote.
_EVAL_LINE = re.compile(r"^(?:[A-Z_]+=\S+ )*\.venv/bin/newsbot eval ")


@pytest.mark.wikinews
def test_readme_eval_examples_run_in_order(wikinews_index: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    shared_dev = ROOT.parent / "shared" / "eval" / "dev.jsonl"
    if not shared_dev.exists():
        pytest.skip(f"the dev questions are not at {shared_dev} (they live in ../shared, outside the repository)")
    lines = [line.split(" #")[0].strip() for line in README.splitlines() if _EVAL_LINE.match(line)]
    assert len(lines) >= 2, "the README shows an eval and an eval against a baseline"
    monkeypatch.setenv("NEWSBOT_INDEX_DIR", str(wikinews_index))
    monkeypatch.chdir(tmp_path)  # the examples write their results into the working directory
    for line in lines:
        words = shlex.split(line)
        env = dict(w.split("=", 1) for w in words if re.match(r"^[A-Z_]+=", w))
        args = [str(shared_dev) if w == "../shared/eval/dev.jsonl" else w for w in words[len(env) + 1 :]]
        result = CliRunner().invoke(app, args, env=env)
        assert result.exit_code == 0, (line, result.output)
    assert "question(s) changed" in result.stdout and "against eval.json" in result.stdout
    assert json.loads((tmp_path / "eval-k8.json").read_text())["comparison"]["baseline"] == "eval.json"
