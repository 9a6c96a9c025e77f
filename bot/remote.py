"""An Answerer that asks a NewsBot HTTP service (`newsbot serve`) instead of a local index.

Several bot processes can then share one service, which holds the model and the index once.
The wire format is the service's (`POST /v1/ask`, `GET /v1/search`, `/v1/sources`,
`/v1/latest`), the JSON form of `retrieval.types`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from retrieval.types import Answer, ArticleSummary, Citation, Filters, Hit, SourceInfo, Turn

from .errors import ServiceError, ServiceUnavailableError

__all__ = ["RemoteAnswerer"]

#: What the service accepts for one turn of history (`TurnIn`) and how many turns.
_MAX_TURNS = 10
_MAX_TURN_QUESTION = 2000
_MAX_TURN_ANSWER = 8000


class RemoteAnswerer:
    """The Answerer protocol over HTTP.

    >>> answerer = RemoteAnswerer("http://127.0.0.1:8000")          # doctest: +SKIP
    >>> answerer.ask("Who called the letter a mistake?").citations[0].title  # doctest: +SKIP
    """

    def __init__(self, api_url: str, *, timeout: float = 30.0, client: httpx.Client | None = None) -> None:
        if not api_url.startswith(("http://", "https://")):
            raise ValueError(f"api_url must be an http(s) URL. Currently, api_url is {api_url!r}")
        self.api_url = api_url.rstrip("/")
        self._client = client or httpx.Client(base_url=self.api_url, timeout=timeout, headers={"User-Agent": "NewsBot-bot"})

    def close(self) -> None:
        self._client.close()

    # --- the Answerer protocol ---------------------------------------------------------------

    def ask(
        self,
        question: str,
        *,
        top_k: int | None = None,
        filters: Filters | None = None,
        history: list[Turn] | None = None,
        as_of: date | None = None,
    ) -> Answer:
        body: dict[str, Any] = {"question": question}
        if top_k is not None:
            body["top_k"] = top_k
        if as_of is not None:
            body["as_of"] = as_of.isoformat()
        body.update(_filter_body(filters))
        if history:
            body["history"] = [
                {"question": t.question[:_MAX_TURN_QUESTION], "answer": t.answer[:_MAX_TURN_ANSWER]} for t in history[-_MAX_TURNS:]
            ]
        return _answer(self._request("POST", "/v1/ask", json=body))

    def search(self, query: str, *, top_k: int | None = None, filters: Filters | None = None) -> list[Hit]:
        params: list[tuple[str, str]] = [("q", query)]
        if top_k is not None:
            params.append(("top_k", str(top_k)))
        if filters is not None:
            params.extend(("source", s) for s in filters.sources)
            if filters.since:
                params.append(("since", filters.since.isoformat()))
            if filters.until:
                params.append(("until", filters.until.isoformat()))
        data = self._request("GET", "/v1/search", params=params)
        return [_hit(h) for h in data.get("hits", [])]

    def sources(self) -> list[SourceInfo]:
        data = self._request("GET", "/v1/sources")
        items = data.get("sources", []) if isinstance(data, dict) else data
        return [
            SourceInfo(name=s["name"], articles=int(s.get("articles", 0)), first_published=s.get("first_published"), last_published=s.get("last_published"))
            for s in items
        ]

    def latest(self, *, topic: str | None = None, limit: int = 5) -> list[ArticleSummary]:
        params: dict[str, Any] = {"limit": limit}
        if topic:
            params["topic"] = topic
        data = self._request("GET", "/v1/latest", params=params)
        return [
            ArticleSummary(
                article_id=a["article_id"], title=a.get("title", ""), source=a.get("source"), published_at=a.get("published_at"),
                url=a.get("url"), summary=a.get("summary"),
            )
            for a in data.get("articles", [])
        ]

    # --- transport ------------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.api_url}{path}"
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ServiceUnavailableError(f"NewsBot service at {self.api_url} unreachable: {exc.__class__.__name__}: {exc}", url=url) from exc
        if response.status_code >= 500:
            raise ServiceUnavailableError(f"NewsBot service answered {response.status_code} for {method} {path}", url=url, status=response.status_code)
        if response.status_code >= 400:
            raise ServiceError(
                f"NewsBot service refused {method} {path} ({response.status_code}): {response.text[:300]}", url=url, status=response.status_code
            )
        try:
            return response.json()
        except ValueError as exc:
            raise ServiceError(f"NewsBot service sent non-JSON for {method} {path}", url=url, status=response.status_code) from exc


def _filter_body(filters: Filters | None) -> dict[str, Any]:
    if filters is None or filters.is_empty():
        return {}
    if filters.article_ids:
        # The HTTP contract has no article filter; silently widening the search would be wrong.
        raise ValueError("RemoteAnswerer cannot restrict a question to article ids (the HTTP API has no such filter)")
    body: dict[str, Any] = {}
    if filters.sources:
        body["sources"] = list(filters.sources)
    if filters.since:
        body["since"] = filters.since.isoformat()
    if filters.until:
        body["until"] = filters.until.isoformat()
    return body


def _hit(h: dict[str, Any]) -> Hit:
    return Hit(
        article_id=h["article_id"], chunk_id=int(h.get("chunk_id", 0)), title=h.get("title", ""), source=h.get("source"),
        published_at=h.get("published_at"), url=h.get("url"), text=h.get("text", ""), score=float(h.get("score", 0.0)),
        outlets=list(h.get("outlets") or []),
    )


def _answer(data: dict[str, Any]) -> Answer:
    citations = [
        Citation(
            n=int(c["n"]), article_id=c["article_id"], title=c.get("title", ""), source=c.get("source"), published_at=c.get("published_at"),
            url=c.get("url"), passage=c.get("passage", ""), quote=c.get("quote", ""), quote_start=int(c.get("quote_start", 0)),
            quote_end=int(c.get("quote_end", 0)), outlets=list(c.get("outlets") or []),
        )
        for c in data.get("citations", [])
    ]
    return Answer(
        answer=data.get("answer", ""), abstained=bool(data.get("abstained", False)), citations=citations,
        took_ms=float(data.get("took_ms", 0.0)), as_of=data.get("as_of"), notes=list(data.get("notes") or []),
        closest=[_hit(h) for h in data.get("closest") or []], mode=data.get("mode", "extractive"),
    )
