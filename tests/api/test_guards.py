"""The guards and the contract without a server: token buckets on a given clock, the OpenAPI document."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from retrieval.api import create_app
from retrieval.http_guards import TokenBuckets
from tests.conftest import make_settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_spends_refills_and_says_how_long_to_wait() -> None:
    clock = Clock()
    buckets = TokenBuckets(60, clock=clock)  # one token a second, 60 at most
    assert all(buckets.take("a") == 0 for _ in range(60))
    wait = buckets.take("a")
    assert wait == pytest.approx(1.0)
    assert buckets.take("b") == 0  # clients are independent
    clock.now += 2.5
    assert buckets.take("a") == 0 and buckets.take("a") == 0
    assert buckets.take("a") == pytest.approx(0.5)


def test_token_buckets_forget_the_least_recent_clients_beyond_the_bound() -> None:
    buckets = TokenBuckets(1, max_clients=3, clock=Clock())
    for client in ("a", "b", "c", "d"):
        assert buckets.take(client) == 0
    assert buckets.take("d") > 0
    assert buckets.take("a") == 0  # forgotten, so a fresh bucket


def test_token_buckets_refuse_a_zero_budget() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        TokenBuckets(0)


def test_openapi_documents_admin_auth_bodies_and_examples(tmp_path: Path, embedder) -> None:
    app = create_app(make_settings(tmp_path / "none"), embedder=embedder)
    with TestClient(app) as client:
        spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    ingest = spec["paths"]["/v1/articles"]["post"]
    assert {"application/json", "multipart/form-data"} <= set(ingest["requestBody"]["content"])
    assert ingest["security"] == [{"HTTPBearer": []}]
    assert "400" in ingest["responses"]
    assert spec["components"]["schemas"]["AnswerOut"]["examples"]
    assert spec["components"]["schemas"]["ArticleIn"]["examples"]
    # Public endpoints need no token.
    assert "security" not in spec["paths"]["/v1/ask"]["post"]


def test_without_an_index_v1_is_503_and_healthz_is_up(tmp_path: Path, embedder) -> None:
    app = create_app(make_settings(tmp_path / "none"), embedder=embedder)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        for _ in range(200):  # the lifespan loads in the background; bounded wait
            if client.get("/readyz").json()["status"] != "loading":
                break
        r = client.get("/v1/sources")
        assert r.status_code == 503 and r.headers["retry-after"] == "5"
        assert "newsbot index build" in r.json()["detail"]
        assert client.get("/readyz").status_code == 503


def test_an_unexpected_error_is_a_clean_json_500_as_a_last_resort(tmp_path: Path, embedder) -> None:
    """No route is known to fail; this route exists only to prove the last-resort shape."""
    app = create_app(make_settings(tmp_path / "none"), embedder=embedder)

    @app.get("/v1/boom", include_in_schema=False)
    async def boom() -> None:
        raise RuntimeError("secret internals")

    # Routes registered after the static mount would be shadowed; move the new one first.
    app.router.routes.insert(0, app.router.routes.pop())
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/v1/boom")
    assert r.status_code == 500
    assert r.json() == {"error": "internal", "detail": "internal error; the server log has the details"}
    assert "secret" not in r.text
