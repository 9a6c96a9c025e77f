"""The bot against a NewsBot HTTP service (`--api-url`): a real uvicorn server, the real app."""

from __future__ import annotations

import html
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.errors import ServiceError, ServiceUnavailableError
from bot.remote import RemoteAnswerer
from retrieval.api import create_app
from retrieval.types import Filters, Turn
from tests.api.conftest import LiveServer
from tests.conftest import make_settings

DAM_QUESTION = "How long is the crack in the Brightwater dam spillway?"


@pytest.fixture(scope="module")
def service(bot_index: Path, embedder: Any):
    live = LiveServer(create_app(make_settings(bot_index), embedder=embedder)).start()
    yield live
    live.stop()


def test_remote_answerer_speaks_the_http_contract(service, retriever):
    remote = RemoteAnswerer(service.url, timeout=30)
    try:
        local = retriever.ask(DAM_QUESTION)
        answer = remote.ask(DAM_QUESTION)
        assert answer.answer == local.answer
        assert [c.to_dict() for c in answer.citations] == [c.to_dict() for c in local.citations]

        followed = remote.ask("How much will it cost?", history=[Turn(DAM_QUESTION, local.answer)])
        assert "2.3 million euros" in followed.answer

        hits = remote.search("Brightwater spillway", top_k=3, filters=Filters(sources=("Valley Courier",)))
        assert hits and all(h.source == "Valley Courier" for h in hits)
        assert [s.to_dict() for s in remote.sources()] == [s.to_dict() for s in retriever.sources()]
        assert [a.to_dict() for a in remote.latest(limit=3)] == [a.to_dict() for a in retriever.latest(limit=3)]
        assert [a.article_id for a in remote.latest(topic="regatta", limit=2)] == [a.article_id for a in retriever.latest(topic="regatta", limit=2)]

        # Asked as of a day, the service leaves out what was published after it, as in-process:
        # the winner was reported the day after.
        regatta, day = "Which crew won the Zanderfeld regatta?", date(2024, 9, 8)
        then = remote.ask(regatta, as_of=day)
        assert [c.to_dict() for c in then.citations] == [c.to_dict() for c in retriever.ask(regatta, as_of=day).citations]
        assert then.citations and all(c.published_at[:10] <= "2024-09-08" for c in then.citations)
        assert remote.ask(regatta).citations[0].published_at[:10] == "2024-09-09"

        with pytest.raises(ServiceError) as refused:
            remote.ask("x" * 2001)  # over the contract's 2000 characters: a 422
        assert refused.value.status == 422
    finally:
        remote.close()


def test_unreachable_service_is_a_service_unavailable_error():
    remote = RemoteAnswerer("http://127.0.0.1:9", timeout=2)
    with pytest.raises(ServiceUnavailableError):
        remote.ask(DAM_QUESTION)
    remote.close()


@pytest.mark.node
async def test_bot_over_the_http_service_and_when_it_is_down(start_bot, service):
    remote = RemoteAnswerer(service.url, timeout=30)
    down = RemoteAnswerer("http://127.0.0.1:9", timeout=2)
    try:
        async with start_bot(remote) as env:
            alice = env.user()
            await alice.say(DAM_QUESTION)
            reply = await alice.reply()
        async with start_bot(down) as env:
            alice = env.user()
            await alice.say(DAM_QUESTION)
            failed = await alice.reply()
    finally:
        remote.close()
        down.close()
    assert "14 metres" in html.unescape(re.sub(r"<[^>]+>", "", reply.text))
    assert "not reachable" in failed.text and "127.0.0.1" not in failed.text


def test_make_answerer_picks_http_or_in_process(monkeypatch, bot_index, embedder):
    import index.embed
    from bot.app import make_answerer

    remote = make_answerer(make_settings(bot_index), api_url="http://127.0.0.1:8000")
    assert isinstance(remote, RemoteAnswerer) and remote.api_url == "http://127.0.0.1:8000"
    remote.close()
    # In-process: the real reader and retriever; the session's model stands in for a second load.
    monkeypatch.setattr(index.embed, "load_embedder", lambda *args, **kwargs: embedder)
    local = make_answerer(make_settings(bot_index))
    assert "14 metres" in local.ask(DAM_QUESTION).answer


@pytest.mark.node
def test_run_bot_polls_until_interrupted(emulator, service, tmp_path):
    """`run_bot` as `newsbot bot --api-url` runs it: a separate process, stopped by Ctrl-C."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    import httpx

    from tests.conftest import ROOT

    from .telegram_user import new_token

    token = new_token()
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_BASE_URL": f"{emulator}/bot",
        "NEWSBOT_INDEX_DIR": str(tmp_path / "no-index"),  # must not be needed with an API URL
    }
    code = f"from newsbot.settings import Settings; from bot.app import run_bot; run_bot(Settings(_env_file=None), api_url={service.url!r})"
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        with httpx.Client(base_url=emulator, timeout=10) as http:
            user = {"id": 3001, "is_bot": False, "first_name": "Cli"}
            chat = {"id": 3001, "type": "private", "first_name": "Cli"}
            message = {"botToken": token, "from": user, "chat": chat, "date": int(time.time()), "text": DAM_QUESTION}
            assert http.post("/sendMessage", json=message).json()["ok"]
            deadline = time.monotonic() + 60
            replies: list = []
            while not replies:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "no answer from the bot process"
                replies = http.post("/getUpdates", json={"token": token, "chatId": 3001}).json()["result"]
                time.sleep(0.05)
        assert "14 metres" in json.dumps(replies[0]["message"]["text"])
    finally:
        process.send_signal(signal.SIGINT)
        try:
            returncode = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    stderr = process.stderr.read() if process.stderr else ""
    assert returncode == 0, stderr
    assert "Traceback" not in stderr
