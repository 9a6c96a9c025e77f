"""Bad input: 422 naming the field, 413 over the body limit, never a 5xx."""

from __future__ import annotations

import json
import socket

import httpx
import pytest


def _fields(response: httpx.Response) -> set[str]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_request"
    return {e["field"] for e in body["detail"]}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "question"),
        ({"question": ""}, "question"),
        ({"question": "   "}, "question"),
        ({"question": "x" * 2001}, "question"),
        ({"question": "ok?", "top_k": 0}, "top_k"),
        ({"question": "ok?", "top_k": 21}, "top_k"),
        ({"question": "ok?", "top_k": "many"}, "top_k"),
        ({"question": "ok?", "since": "yesterday"}, "since"),
        ({"question": "ok?", "as_of": "last week"}, "as_of"),
        ({"question": "ok?", "since": "2020-02-01", "until": "2020-01-01"}, "until"),
        ({"question": "ok?", "history": [{"question": "q", "answer": "a"}] * 11}, "history"),
        ({"question": "ok?", "history": [{"question": "q"}]}, "history.0.answer"),
        ({"question": "ok?", "sources": [""]}, "sources.0"),
        ({"question": "nul \u0000 inside"}, "question"),
        ({"question": "surrogate \ud800 inside"}, "question"),
        ({"question": "ok?", "colour": "blue"}, "colour"),
    ],
)
def test_ask_field_errors_name_the_field(client: httpx.Client, payload: dict, field: str) -> None:
    # json.dumps escapes (ensure_ascii), so a lone surrogate travels as `\\ud800` like any client sends it.
    raw = json.dumps(payload).encode()
    assert field in _fields(client.post("/v1/ask", content=raw, headers={"content-type": "application/json"}))


def test_ask_body_that_is_not_json(client: httpx.Client) -> None:
    r = client.post("/v1/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
    deep = b"[" * 100_000 + b"]" * 100_000
    assert client.post("/v1/ask", content=deep[:1_000_000], headers={"content-type": "application/json"}).status_code in (400, 413, 422)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "x" * 501}, "q"),
        ({"q": "iraq", "top_k": 0}, "top_k"),
        ({"q": "iraq", "top_k": 51}, "top_k"),
        ({"q": "iraq", "since": "2020-13-01"}, "since"),
        ({"q": "iraq", "as_of": "2020-02-30"}, "as_of"),
        ({"q": "iraq", "since": "2020-02-01", "until": "2020-01-01"}, "until"),
        ({"q": "nul \x00"}, "q"),
        ({"q": "iraq", "source": ["Example Gazette", "nul \x00"]}, "source.1"),
    ],
)
def test_search_field_errors_name_the_field(client: httpx.Client, params: dict, field: str) -> None:
    assert field in _fields(client.get("/v1/search", params=params))


def test_latest_field_errors(client: httpx.Client) -> None:
    assert "limit" in _fields(client.get("/v1/latest", params={"limit": 0}))
    assert "limit" in _fields(client.get("/v1/latest", params={"limit": 51}))
    assert "topic" in _fields(client.get("/v1/latest", params={"topic": " "}))


def test_article_id_too_long_is_422_and_odd_ids_are_404(client: httpx.Client) -> None:
    assert "article_id" in _fields(client.get("/v1/articles/" + "a" * 201))
    for odd in ("%00", "..%2F..%2Fetc%2Fpasswd", "%ED%A0%80", "a%20b", "'; DROP TABLE articles; --"):
        assert client.get(f"/v1/articles/{odd}").status_code == 404, odd


def test_body_over_the_limit_is_413_by_content_length(client: httpx.Client) -> None:
    r = client.post("/v1/ask", json={"question": "x" * 2_100_000})
    assert r.status_code == 413
    assert r.json()["error"] == "payload_too_large"


def test_streamed_body_over_the_limit_is_413(client: httpx.Client) -> None:
    """A chunked body carries no Content-Length; the service counts what arrives."""

    def chunks():
        for _ in range(40):
            yield b"x" * 65536

    r = client.post("/v1/ask", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in {k.lower() for k in r.request.headers}
    assert r.status_code == 413


def test_lying_content_length_is_refused_without_500(server) -> None:
    """A raw request whose Content-Length is not a number."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"POST /v1/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}")
        status_line = sock.recv(200).split(b"\r\n", 1)[0]
    assert status_line.split()[1] == b"400"


def test_wrong_method_and_unknown_path(client: httpx.Client) -> None:
    assert client.put("/v1/ask", json={}).status_code == 405
    r = client.get("/v1/nothing-here")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
