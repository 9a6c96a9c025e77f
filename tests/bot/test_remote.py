"""The bot against a NewsBot HTTP service (`--api-url`): a real uvicorn server, the real app."""

from __future__ import annotations

import html
import re
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
