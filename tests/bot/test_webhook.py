"""Webhook mode: the emulator posts updates to the bot's webhook server, secret header checked."""

from __future__ import annotations

import html
import re
import socket

import httpx
import pytest

pytestmark = pytest.mark.node


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_webhook_mode_answers_and_refuses_a_wrong_secret(start_bot, retriever, emulator):
    port = free_port()
    async with start_bot(retriever, webhook_port=port, bot_webhook_secret="s3cret-Token_1") as env:
        info = (await env.http.post(f"/bot{env.token}/getWebhookInfo")).json()["result"]
        assert info["url"] == f"http://127.0.0.1:{port}/telegram-hook"

        alice = env.user()
        await alice.say("How long is the crack in the Brightwater dam spillway?")
        reply = await alice.reply()

        # Telegram's secret header is checked: an update without it, or with another, is refused.
        update = {"update_id": 999, "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "hi"}}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as hook:
            missing = await hook.post("/telegram-hook", json=update)
            wrong = await hook.post("/telegram-hook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"})
    assert "14 metres" in html.unescape(re.sub(r"<[^>]+>", "", reply.text))
    assert missing.status_code == 403 and wrong.status_code == 403
