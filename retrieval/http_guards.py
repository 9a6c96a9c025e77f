"""ASGI guards in front of the API: a request body size limit and a per-client rate limit.

Both answer in the service's JSON error shape (`{"error", "detail"}`) before any route runs, so
an oversized upload is refused without being parsed and a flood never reaches the model.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

__all__ = ["BodyLimitMiddleware", "RateLimitMiddleware", "TokenBuckets", "send_json_error"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def send_json_error(send: Send, status: int, error: str, detail: str, *, headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    """Answer a request directly from a middleware, in the same shape as the route errors."""
    body = json.dumps({"error": error, "detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """413 for a body over `max_bytes`: by its Content-Length, or by counting a streamed body.

    The body is read here (at most `max_bytes`) and replayed to the app, so a chunked upload
    without a Content-Length cannot grow past the limit either.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_big = f"request body is larger than {self.max_bytes} bytes (NEWSBOT_MAX_BODY_BYTES)"
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await send_json_error(send, 400, "bad_request", "Content-Length is not a number")
                    return
                if declared > self.max_bytes:
                    await send_json_error(send, 413, "payload_too_large", too_big, headers=[(b"connection", b"close")])
                    return

        chunks: list[bytes] = []
        size = 0
        first: Message | None = None
        while True:
            message = await receive()
            if message["type"] != "http.request":
                first = message  # a disconnect: let the app see it
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await send_json_error(send, 413, "payload_too_large", too_big, headers=[(b"connection", b"close")])
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                if first is not None:
                    return first
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class TokenBuckets:
    """A token bucket per client: `per_minute` requests, refilled continuously.

    Thread-safe; the number of tracked clients is bounded (least recently seen dropped first)
    so a scan from many addresses cannot grow memory without limit.
    """

    def __init__(self, per_minute: int, *, max_clients: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError(f"per_minute must be at least 1, got {per_minute}")
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """0 when `client` may go ahead (a token is spent), else the seconds until it may."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.pop(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[client] = (tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
            return wait


class RateLimitMiddleware:
    """429 with Retry-After once a client spends its budget on paths under `prefix`."""

    def __init__(self, app: ASGIApp, *, buckets: TokenBuckets, prefix: str = "/v1/") -> None:
        self.app = app
        self.buckets = buckets
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path", "").startswith(self.prefix):
            client = scope.get("client")
            wait = self.buckets.take(client[0] if client else "unknown")
            if wait > 0:
                retry_after = str(max(1, math.ceil(wait))).encode()
                await send_json_error(
                    send,
                    429,
                    "rate_limited",
                    f"too many requests: at most {int(self.buckets.capacity)} a minute (NEWSBOT_RATE_LIMIT_PER_MINUTE)",
                    headers=[(b"retry-after", retry_after)],
                )
                return
        await self.app(scope, receive, send)
