"""Acting as Telegram users through the emulator's client side (telegram-test-api).

The emulator stores what users "send" until the bot fetches it with getUpdates (or posts it to
the bot's webhook), and stores what the bot sends until a user reads it with the client
`/getUpdates`. Every wait here is bounded by a deadline.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

#: The bot the emulator pretends to be (see tests/bot/emulator.js).
BOT_ID = 666
BOT_USERNAME = "TestNameBot"
POLL_SECONDS = 0.05

_ids = itertools.count(1)


def new_token() -> str:
    """A fresh bot token, so each test has its own storage in the shared emulator."""
    return f"{100000 + next(_ids)}:TEST-{time.monotonic_ns()}"


@dataclass
class BotMessage:
    """A message the bot sent (as the emulator stored it)."""

    message_id: int
    text: str
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def buttons(self) -> list[dict[str, Any]]:
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [button for row in rows for button in row]

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> BotMessage:
        message = stored["message"]
        return cls(
            message_id=int(stored["messageId"]),
            text=message.get("text", ""),
            parse_mode=message.get("parse_mode"),
            reply_markup=message.get("reply_markup"),
            raw=message,
        )


@dataclass
class TelegramUser:
    """One user in one chat (private by default; a negative chat id is a group)."""

    http: httpx.AsyncClient
    token: str
    user_id: int = 1001
    chat_id: int = 1001
    first_name: str = "Alice"

    @property
    def chat(self) -> dict[str, Any]:
        if self.chat_id < 0:
            return {"id": self.chat_id, "type": "supergroup", "title": "Newsroom"}
        return {"id": self.chat_id, "type": "private", "first_name": self.first_name}

    def _message(self, text: str, **extra: Any) -> dict[str, Any]:
        return {
            "botToken": self.token,
            "from": {"id": self.user_id, "is_bot": False, "first_name": self.first_name, "username": self.first_name.lower()},
            "chat": self.chat,
            "date": int(time.time()),  # seconds, as Telegram sends
            "text": text,
            **extra,
        }

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(path, json=body)
        response.raise_for_status()
        data = response.json()
        assert data.get("ok"), data
        return data["result"]

    async def say(self, text: str, *, reply_to: BotMessage | None = None, mention: bool = False) -> int:
        """Send a text message; returns its message id."""
        extra: dict[str, Any] = {}
        if mention:
            at = text.find(f"@{BOT_USERNAME}")
            assert at >= 0, "a mention needs the bot's @username in the text"
            extra["entities"] = [{"type": "mention", "offset": len(text[:at].encode("utf-16-le")) // 2, "length": len(BOT_USERNAME) + 1}]
        if reply_to is not None:
            extra["reply_to_message"] = {
                "message_id": reply_to.message_id,
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Test First name", "username": BOT_USERNAME},
                "chat": self.chat,
                "date": int(time.time()),
                "text": reply_to.text,
            }
        result = await self._post("/sendMessage", self._message(text, **extra))
        return int(result["message_id"])

    async def command(self, text: str) -> int:
        """Send a command such as `/ask why?`; Telegram marks it with a bot_command entity."""
        assert text.startswith("/")
        name = text.split(" ", 1)[0]
        entity = {"type": "bot_command", "offset": 0, "length": len(name.encode("utf-16-le")) // 2}
        result = await self._post("/sendCommand", self._message(text, entities=[entity]))
        return int(result["message_id"])

    async def tap(self, message: BotMessage, data: str) -> str:
        """Tap an inline button of a bot message; returns the callback query id."""
        body = {
            "botToken": self.token,
            "from": {"id": self.user_id, "is_bot": False, "first_name": self.first_name},
            "chat_instance": f"ci-{self.chat_id}",
            "data": data,
            "message": {
                "message_id": message.message_id,
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Test First name", "username": BOT_USERNAME},
                "chat": self.chat,
                "date": int(time.time()),
                "text": message.text,
            },
        }
        result = await self._post("/sendCallback", body)
        return str(result["callback_id"])

    async def replies(self, count: int = 1, *, timeout: float = 30.0) -> list[BotMessage]:
        """Wait for `count` new bot messages in this chat (and return exactly those seen)."""
        seen: list[BotMessage] = []
        deadline = time.monotonic() + timeout
        while len(seen) < count:
            result = await self._post("/getUpdates", {"token": self.token, "chatId": self.chat_id})
            seen.extend(BotMessage.from_stored(item) for item in result)
            if len(seen) >= count:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} bot message(s) within {timeout}s, got {len(seen)}: {[m.text[:80] for m in seen]}")
            await asyncio.sleep(POLL_SECONDS)
        return seen

    async def reply(self, *, timeout: float = 30.0) -> BotMessage:
        """Wait for exactly one new bot message."""
        (message,) = await self.replies(1, timeout=timeout)
        return message

    async def silence(self, seconds: float = 1.0) -> None:
        """Assert the bot sends nothing to this chat for `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            result = await self._post("/getUpdates", {"token": self.token, "chatId": self.chat_id})
            assert not result, f"unexpected bot message(s): {[r['message'].get('text', '')[:120] for r in result]}"
            await asyncio.sleep(POLL_SECONDS)

    async def current(self, message_id: int) -> BotMessage:
        """A bot message as it is now (after edits)."""
        history = await self._post("/getUpdatesHistory", {"token": self.token})
        for item in history:
            if "message" in item and "chat_id" in item["message"] and int(item["messageId"]) == message_id:
                return BotMessage.from_stored(item)
        raise AssertionError(f"no bot message {message_id}")

    async def wait_edit(self, message_id: int, predicate: Any, *, timeout: float = 15.0) -> BotMessage:
        """Wait until the bot message satisfies `predicate` (it is edited in place)."""
        deadline = time.monotonic() + timeout
        while True:
            message = await self.current(message_id)
            if predicate(message):
                return message
            if time.monotonic() > deadline:
                raise AssertionError(f"message {message_id} never matched; it reads: {message.text[:300]!r}")
            await asyncio.sleep(POLL_SECONDS)

    async def chat_actions(self) -> list[dict[str, Any]]:
        actions = await self._post("/getChatActions", {"token": self.token})
        return [a for a in actions if a["chat_id"] == self.chat_id]

    async def callback_answers(self) -> list[dict[str, Any]]:
        return await self._post("/getCallbackAnswers", {"token": self.token})

    async def wait_callback_answer(self, callback_id: str, *, timeout: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for answer in await self.callback_answers():
                if answer["callback_query_id"] == callback_id:
                    return answer
            if time.monotonic() > deadline:
                raise AssertionError(f"callback query {callback_id} was never answered")
            await asyncio.sleep(POLL_SECONDS)
