"""`newsbot bot` from the command line: without a token it stops at once with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsbot.cli import app


def test_bot_without_a_token_says_how_to_get_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.delenv("NEWSBOT_TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env with a token is read
    result = CliRunner().invoke(app, ["bot"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: TELEGRAM_BOT_TOKEN is not set")
    assert "@BotFather" in lines[0] and "Traceback" not in result.output
