"""What the bot remembers between messages: recent turns for follow-ups, and answers for buttons.

Both are bounded in memory and forget on their own: a bot process must not grow without limit
however many chats it serves. Nothing is persisted; a restart forgets everything, which is the
behaviour users expect of `/new` anyway.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date
from typing import Any

from retrieval.types import Answer, Turn

__all__ = ["AnswerCache", "AsOfDays", "CachedAnswer", "ConversationHistory", "conversation_key"]

Clock = Callable[[], float]


def _put_newest(items: OrderedDict[Any, Any], key: Hashable, value: Any, limit: int) -> None:
    """Store `value` as the most recently used entry; the least recently used go past `limit`."""
    items[key] = value
    items.move_to_end(key)
    while len(items) > limit:
        items.popitem(last=False)


def conversation_key(*, chat_id: int, user_id: int | None, private: bool) -> tuple[int, int]:
    """Whose turns these are: the chat in a private chat, each member apart in a group."""
    return (chat_id, chat_id if private or user_id is None else user_id)


class ConversationHistory:
    """Recent turns per conversation: at most `max_turns`, each forgotten after `ttl_seconds`.

    >>> h = ConversationHistory(max_turns=2, ttl_seconds=60)
    >>> h.add((1, 1), Turn("q1", "a1")); h.add((1, 1), Turn("q2", "a2")); h.add((1, 1), Turn("q3", "a3"))
    >>> [t.question for t in h.turns((1, 1))]
    ['q2', 'q3']
    """

    def __init__(self, *, max_turns: int, ttl_seconds: float, max_conversations: int = 10_000, clock: Clock = time.monotonic) -> None:
        if max_turns < 0:
            raise ValueError(f"max_turns must not be negative. Currently, max_turns is {max_turns}")
        if max_conversations < 1:
            raise ValueError(f"max_conversations must be positive. Currently, it is {max_conversations}")
        self._max_turns = max_turns
        self._ttl = ttl_seconds
        self._max_conversations = max_conversations
        self._clock = clock
        self._turns: OrderedDict[Hashable, deque[tuple[float, Turn]]] = OrderedDict()

    def turns(self, key: Hashable) -> list[Turn]:
        """The unexpired turns of a conversation, oldest first."""
        kept = self._fresh(key)
        return [turn for _, turn in kept] if kept else []

    def add(self, key: Hashable, turn: Turn) -> None:
        """Remember a turn; the oldest turn, and the least recent conversation, make room."""
        if self._max_turns == 0:
            return
        kept = self._fresh(key) or deque(maxlen=self._max_turns)
        kept.append((self._clock(), turn))
        _put_newest(self._turns, key, kept, self._max_conversations)

    def clear(self, key: Hashable) -> bool:
        """Forget a conversation (`/new`); True when there was something to forget."""
        return self._turns.pop(key, None) is not None

    def __len__(self) -> int:
        return len(self._turns)

    def _fresh(self, key: Hashable) -> deque[tuple[float, Turn]] | None:
        kept = self._turns.get(key)
        if kept is None:
            return None
        oldest_allowed = self._clock() - self._ttl
        while kept and kept[0][0] < oldest_allowed:
            kept.popleft()
        if not kept:
            del self._turns[key]
            return None
        return kept


class AsOfDays:
    """The day each conversation asks as of (`/asof`); a conversation without one asks as of today.

    Bounded like the history (the least recently used conversation goes first), but without
    expiry: a day is a setting the user chose, and every answer given under it says so.

    >>> days = AsOfDays(max_conversations=1)
    >>> days.set((1, 1), date(2020, 8, 22)); days.get((1, 1))
    datetime.date(2020, 8, 22)
    >>> days.set((2, 2), date(2021, 1, 6)); days.get((1, 1)) is None
    True
    """

    def __init__(self, *, max_conversations: int = 10_000) -> None:
        if max_conversations < 1:
            raise ValueError(f"max_conversations must be positive. Currently, it is {max_conversations}")
        self._max = max_conversations
        self._days: OrderedDict[Hashable, date] = OrderedDict()

    def get(self, key: Hashable) -> date | None:
        day = self._days.get(key)
        if day is not None:
            self._days.move_to_end(key)
        return day

    def set(self, key: Hashable, day: date) -> None:
        _put_newest(self._days, key, day, self._max)

    def clear(self, key: Hashable) -> bool:
        """Ask as of today again; True when a day was set."""
        return self._days.pop(key, None) is not None


@dataclass(slots=True, frozen=True)
class CachedAnswer:
    """An answer sent to a chat, kept so its source buttons can show passages and come back."""

    chat_id: int
    answer: Answer
    #: The HTML of the message the buttons sit under (the answer's last part), to return to.
    html: str


class AnswerCache:
    """Answers behind inline buttons, by a short random key that fits in `callback_data`.

    Bounded (least recently used answers go first) and expiring; a tap on an older answer gets a
    polite "ask again" instead of a passage.
    """

    def __init__(self, *, max_answers: int = 2_000, ttl_seconds: float = 24 * 3600, clock: Clock = time.monotonic) -> None:
        if max_answers < 1:
            raise ValueError(f"max_answers must be positive. Currently, max_answers is {max_answers}")
        self._max = max_answers
        self._ttl = ttl_seconds
        self._clock = clock
        self._items: OrderedDict[str, tuple[float, CachedAnswer]] = OrderedDict()

    @staticmethod
    def new_key() -> str:
        """A key for the next answer (8 URL-safe characters; callback data allows 64 bytes)."""
        return secrets.token_urlsafe(6)

    def put(self, key: str, item: CachedAnswer) -> None:
        _put_newest(self._items, key, (self._clock(), item), self._max)

    def get(self, key: str) -> CachedAnswer | None:
        found = self._items.get(key)
        if found is None:
            return None
        stored_at, item = found
        if self._clock() - stored_at > self._ttl:
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return item

    def __len__(self) -> int:
        return len(self._items)
