"""Who may use the bot, and how often: the allowlist and the per-user rate limit."""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

__all__ = ["Allowlist", "RateDecision", "RateLimiter"]


class Allowlist:
    """Allowed user ids and chat ids; both empty means everyone is allowed.

    A listed chat lets all its members in (a team's group); a listed user may use the bot in
    any chat, private or group.
    """

    def __init__(self, *, user_ids: Iterable[int] = (), chat_ids: Iterable[int] = ()) -> None:
        self._users = frozenset(user_ids)
        self._chats = frozenset(chat_ids)

    @property
    def open(self) -> bool:
        return not (self._users or self._chats)

    def allows(self, *, user_id: int | None, chat_id: int | None) -> bool:
        if self.open:
            return True
        return (user_id is not None and user_id in self._users) or (chat_id is not None and chat_id in self._chats)


@dataclass(slots=True, frozen=True)
class RateDecision:
    """The outcome of asking the rate limiter for one more request."""

    allowed: bool
    #: Seconds until the next request would be allowed (0 when allowed).
    retry_after: float = 0.0
    #: True for the first refusal in a window: reply once, then stay quiet until it passes.
    first_refusal: bool = False

    @property
    def retry_after_seconds(self) -> int:
        return max(1, math.ceil(self.retry_after))


class RateLimiter:
    """A sliding window of `per_minute` requests per key (0 disables it).

    >>> limiter = RateLimiter(per_minute=1)
    >>> limiter.check("u").allowed, limiter.check("u").allowed
    (True, False)
    """

    def __init__(self, *, per_minute: int, window_seconds: float = 60.0, max_keys: int = 50_000, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 0:
            raise ValueError(f"per_minute must not be negative. Currently, per_minute is {per_minute}")
        self._limit = per_minute
        self._window = window_seconds
        self._max_keys = max_keys
        self._clock = clock
        self._seen: OrderedDict[Hashable, deque[float]] = OrderedDict()
        self._warned: dict[Hashable, float] = {}

    def check(self, key: Hashable) -> RateDecision:
        """Count one request for `key` if it is allowed now."""
        if self._limit == 0:
            return RateDecision(True)
        now = self._clock()
        stamps = self._seen.get(key)
        if stamps is None:
            stamps = self._seen[key] = deque()
        while stamps and stamps[0] <= now - self._window:
            stamps.popleft()
        self._seen.move_to_end(key)
        while len(self._seen) > self._max_keys:
            old, _ = self._seen.popitem(last=False)
            self._warned.pop(old, None)
        if len(stamps) < self._limit:
            stamps.append(now)
            self._warned.pop(key, None)
            return RateDecision(True)
        retry_after = stamps[0] + self._window - now
        first = self._warned.get(key, -math.inf) <= now - self._window
        if first:
            self._warned[key] = now
        return RateDecision(False, retry_after=retry_after, first_refusal=first)
