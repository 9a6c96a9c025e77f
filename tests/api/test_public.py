"""The public endpoints over a real uvicorn server on the seed index."""

from __future__ import annotations

import httpx

SEED_QUESTION = "Who called the letter a mistake?"


def test_seed_question_is_answered_with_its_citation(client: httpx.Client) -> None:
    r = client.post("/v1/ask", json={"question": SEED_QUESTION})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["abstained"] is False
    assert "Milley" in body["answer"]
    assert "[1]" in body["answer"]
    first = body["citations"][0]
    assert first["n"] == 1
    assert "mistake" in first["quote"]
    assert first["source"] == "London Daily"
    assert body["took_ms"] > 0
    # The citation resolves to the stored article, and the quote is its text at those offsets.
    article = client.get(f"/v1/articles/{first['article_id']}")
    assert article.status_code == 200
    text = article.json()["body"]
    assert text[first["quote_start"] : first["quote_end"]] == first["quote"]


def test_search_returns_ranked_passages_with_filters(client: httpx.Client) -> None:
    r = client.get("/v1/search", params={"q": "letter withdrawal Iraq", "top_k": 3})
    assert r.status_code == 200, r.text
    hits = r.json()["hits"]
    assert 1 <= len(hits) <= 3
    assert hits[0]["source"] == "London Daily"
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    # A source filter that matches nothing gives nothing (applied inside the search).
    none = client.get("/v1/search", params={"q": "letter withdrawal Iraq", "source": "No Such Outlet"})
    assert none.status_code == 200 and none.json()["hits"] == []


def test_sources_stats_latest(client: httpx.Client) -> None:
    sources = client.get("/v1/sources").json()["sources"]
    names = {s["name"]: s for s in sources}
    assert "London Daily" in names and names["London Daily"]["articles"] >= 1
    stats = client.get("/v1/stats").json()
    assert stats["articles"] >= 1 and stats["chunks"] >= stats["articles"]
    assert stats["model"] == "all-MiniLM-L6-v2"
    assert stats["keyword_index"] == "memory"  # the service preloads keyword postings
    latest = client.get("/v1/latest", params={"limit": 2}).json()["articles"]
    assert 1 <= len(latest) <= 2
    dated = [a["published_at"] for a in latest if a["published_at"]]
    assert dated == sorted(dated, reverse=True)


def test_unknown_article_is_404(client: httpx.Client) -> None:
    r = client.get("/v1/articles/a-0000000000000000")
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"
    assert "a-0000000000000000" in r.json()["detail"]


def test_health_ready_docs_and_page(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["generation"]
    schema = client.get("/openapi.json").json()
    ask = schema["components"]["schemas"]["AskRequest"]
    assert ask["properties"]["question"]["maxLength"] == 2000
    assert ask.get("examples")
    assert client.get("/docs").status_code == 200
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]


def test_as_of_asks_the_archive_about_its_own_time(client: httpx.Client) -> None:
    question = "What is the latest on the Glasswater Bridge?"
    now = client.post("/v1/ask", json={"question": question})
    assert now.status_code == 200, now.text
    # Today, the newest report (the April reopening) is among the evidence.
    assert max(c["published_at"] for c in now.json()["citations"]) >= "2024-04-11"
    then = client.post("/v1/ask", json={"question": question, "as_of": "2024-02-01"})
    assert then.status_code == 200, then.text
    body = then.json()
    assert not body["abstained"] and body["citations"]
    # Asked on 1 February 2024, the archive knows only what was published by then.
    assert all(c["published_at"] <= "2024-02-01" for c in body["citations"]) and body["as_of"] <= "2024-02-01"
    assert any("closed" in c["quote"] or "closes" in c["title"] for c in body["citations"])
    hits = client.get("/v1/search", params={"q": "Glasswater Bridge", "as_of": "2024-02-01", "top_k": 10}).json()["hits"]
    assert hits and all(h["published_at"] <= "2024-02-01" for h in hits)
    assert any(h["published_at"] > "2024-02-01" for h in client.get("/v1/search", params={"q": "Glasswater Bridge", "top_k": 10}).json()["hits"])


def test_the_cli_prints_what_the_service_returns(client: httpx.Client, seed_index) -> None:
    # `newsbot ask/search --json` and the HTTP service are one contract: same objects, same
    # values (only the time taken differs), for an answer with a freshness note and for one
    # that abstains with its closest passages.
    import json

    from typer.testing import CliRunner

    from newsbot.cli import app

    env = {"NEWSBOT_INDEX_DIR": str(seed_index), "NEWSBOT_LLM_BASE_URL": "", "NEWSBOT_LOG_LEVEL": "ERROR"}
    without_time = lambda payload: {k: v for k, v in payload.items() if k != "took_ms"}
    for question, as_of in (("What is the latest on the Glasswater Bridge?", "2024-06-01"), ("Who won the 1987 Tour de France?", None)):
        body = {"question": question, **({"as_of": as_of} if as_of else {})}
        served = client.post("/v1/ask", json=body).json()
        printed = CliRunner().invoke(app, ["ask", question, "--json", *(["--as-of", as_of] if as_of else [])], env=env)
        assert printed.exit_code == 0, printed.output
        assert without_time(json.loads(printed.stdout)) == without_time(served)
    assert served["abstained"] and served["closest"], "the second question abstains: its closest passages are compared too"
    first = without_time(client.post("/v1/ask", json={"question": "What is the latest on the Glasswater Bridge?", "as_of": "2024-06-01"}).json())
    assert first["notes"] and first["as_of"], "the first carries a freshness note and its date"
    served_hits = client.get("/v1/search", params={"q": "Glasswater Bridge", "top_k": 5, "as_of": "2024-02-01"}).json()
    printed = CliRunner().invoke(app, ["search", "Glasswater Bridge", "--top-k", "5", "--as-of", "2024-02-01", "--json"], env=env)
    assert printed.exit_code == 0, printed.output
    assert without_time(json.loads(printed.stdout)) == without_time(served_hits)
