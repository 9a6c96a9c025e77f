"""Prometheus metrics of the HTTP service, in a registry of its own (one per app).

Requests are labelled by route template (`/v1/articles/{article_id}`), never by the raw path,
so ids and fuzzed URLs cannot explode the number of series.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.routing import Match, Mount

from retrieval.http_guards import ASGIApp, Message, Receive, Scope, Send

__all__ = ["MetricsMiddleware", "ServiceMetrics"]

_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}


class ServiceMetrics:
    """Every series the service exports."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "newsbot_http_requests", "HTTP requests answered, by route template and status.", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "newsbot_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
            registry=self.registry,
        )
        self.in_progress = Gauge("newsbot_http_requests_in_progress", "HTTP requests being answered.", registry=self.registry)
        self.articles = Gauge("newsbot_articles_indexed", "Articles in the served index generation.", registry=self.registry)
        self.chunks = Gauge("newsbot_chunks_indexed", "Passages in the served index generation.", registry=self.registry)
        self.asks = Counter("newsbot_asks", "Questions answered (POST /v1/ask).", registry=self.registry)
        self.abstentions = Counter("newsbot_abstentions", "Questions the service declined to answer for lack of evidence.", registry=self.registry)
        self.reloads = Counter("newsbot_index_swaps", "Index generations swapped in while serving.", registry=self.registry)

    def index_served(self, stats: dict[str, Any]) -> None:
        """Record the size of the index generation now served."""
        for gauge, keys in ((self.articles, ("articles", "n_articles")), (self.chunks, ("chunks", "n_chunks"))):
            for key in keys:
                value = stats.get(key)
                if isinstance(value, (int, float)):
                    gauge.set(value)
                    break
        self.reloads.inc()


def route_template(app: Any, scope: Scope) -> str:
    """The template of the route `scope` goes to; `static` for the web page, else `unmatched`."""
    routes = getattr(getattr(app, "router", None), "routes", ())
    partial = None
    for route in routes:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return "static" if isinstance(route, Mount) else str(getattr(route, "path", "unmatched"))
        if match == Match.PARTIAL and partial is None:
            partial = route
    if partial is not None:  # right path, wrong method (405)
        return str(getattr(partial, "path", "unmatched"))
    return "unmatched"


class MetricsMiddleware:
    """Counts and times every HTTP request, including ones a guard refused (413, 429)."""

    def __init__(self, app: ASGIApp, *, metrics: ServiceMetrics, routes_of: Any) -> None:
        self.app = app
        self.metrics = metrics
        # The FastAPI app whose routes name the templates (this middleware sits inside it).
        self.routes_of = routes_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope.get("method", "GET")
        method = method if method in _METHODS else "OTHER"
        route = route_template(self.routes_of, scope)
        status = 500
        started = time.perf_counter()

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        self.metrics.in_progress.inc()
        try:
            await self.app(scope, receive, send_and_record)
        finally:
            self.metrics.in_progress.dec()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)
            self.metrics.requests.labels(method, route, str(status)).inc()
