"""Admin endpoints: auth, ingest over HTTP into the live index, delete, reload."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.api.conftest import ADMIN_TOKEN, LiveServer
from tests.conftest import make_settings

NEW_ARTICLE = {
    "title": "Harbour town opens a floating library",
    "body": (
        "The harbour town of Kellmouth opened a floating library on Saturday, moored at the old ferry pier. "
        "The mayor, Ingrid Solvang, said the barge holds four thousand books and a reading room for children. "
        "The library was paid for by a fishing cooperative that sold its second trawler."
    ),
    "url": "https://example.org/kellmouth/floating-library",
    "source": "Kellmouth Courier",
    "published_at": "2024-06-01",
    "author": "T. Writer",
}
NEW_QUESTION = "Who paid for the floating library in Kellmouth?"


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("POST", "/v1/articles", {"json": NEW_ARTICLE}),
        ("DELETE", "/v1/articles/a-0000000000000000", {}),
        ("POST", "/v1/index/reload", {}),
    ],
)
def test_admin_auth_none_wrong_right(client: httpx.Client, method: str, path: str, kwargs: dict) -> None:
    """Read-only server with a token: no token and a wrong one are 401; the right one passes auth."""
    none = client.request(method, path, **kwargs)
    assert none.status_code == 401 and none.headers["www-authenticate"] == "Bearer"
    for wrong in ("Bearer nope", "Bearer " + ADMIN_TOKEN + "x", "Basic " + ADMIN_TOKEN, "Bearer " + ADMIN_TOKEN[:-1]):
        assert client.request(method, path, headers={"Authorization": wrong}, **kwargs).status_code == 401, wrong
    right = client.request(method, path, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, **(kwargs if method != "POST" or path != "/v1/articles" else {"json": []}))
    assert right.status_code not in (401, 403)


def test_admin_is_refused_when_no_token_is_configured(seed_index: Path, start_server) -> None:
    server: LiveServer = start_server(make_settings(seed_index))  # admin_token unset
    with httpx.Client(base_url=server.url) as c:
        for auth in ({}, {"Authorization": "Bearer"}, {"Authorization": "Bearer anything"}):
            r = c.post("/v1/index/reload", headers=auth)
            assert r.status_code == 403 and "NEWSBOT_ADMIN_TOKEN" in r.json()["detail"]


def test_non_ascii_authorization_header_is_401_not_500(client: httpx.Client) -> None:
    r = client.post("/v1/index/reload", headers={"Authorization": "Bearer \u00e9t\u00e9".encode("latin-1")})
    assert r.status_code == 401


def test_ingested_article_becomes_answerable_without_restart(admin: httpx.Client) -> None:
    before = admin.post("/v1/ask", json={"question": NEW_QUESTION}).json()
    assert not any(c["source"] == "Kellmouth Courier" for c in before["citations"])
    generation = admin.get("/readyz").json()["generation"]

    r = admin.post("/v1/articles", json=NEW_ARTICLE)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["problems"] == []
    [item] = body["ingested"]
    assert item["status"] == "added" and item["item"] == 0
    assert body["generation"] != generation and body["chunks"] >= 1

    after = admin.post("/v1/ask", json={"question": NEW_QUESTION})
    assert after.status_code == 200
    answer = after.json()
    assert not answer["abstained"], answer
    assert "fishing cooperative" in answer["answer"]
    assert answer["citations"][0]["article_id"] == item["id"]
    assert admin.get(f"/v1/articles/{item['id']}").json()["author"] == "T. Writer"
    assert "Kellmouth Courier" in {s["name"] for s in admin.get("/v1/sources").json()["sources"]}

    # The same article again changes nothing.
    again = admin.post("/v1/articles", json=NEW_ARTICLE).json()
    assert again["ingested"][0]["status"] == "unchanged"

    # Deleted: gone from the archive and from answers; a second delete is a 404.
    deleted = admin.delete(f"/v1/articles/{item['id']}")
    assert deleted.status_code == 200 and deleted.json()["removed"] == item["id"]
    assert admin.get(f"/v1/articles/{item['id']}").status_code == 404
    gone = admin.post("/v1/ask", json={"question": NEW_QUESTION}).json()
    assert all(c["article_id"] != item["id"] for c in gone["citations"])
    assert admin.delete(f"/v1/articles/{item['id']}").status_code == 404


def test_batch_with_malformed_items_ingests_the_rest(admin: httpx.Client) -> None:
    good = {**NEW_ARTICLE, "url": "https://example.org/kellmouth/second", "title": "Kellmouth library extends hours", "body": NEW_ARTICLE["body"] + " Opening hours now run until nine."}
    batch = [
        good,
        {"title": "No body here"},
        {**good, "url": "ftp://example.org/x", "title": "Bad url"},
        {**good, "url": None, "published_at": "sometime soon", "title": "Bad date"},
        "not an object",
    ]
    r = admin.post("/v1/articles", json=batch)
    assert r.status_code == 400, r.text
    body = r.json()
    assert [i["item"] for i in body["ingested"]] == [0]
    assert body["ingested"][0]["status"] == "added"
    problems = {(p["item"], p["field"]) for p in body["problems"]}
    assert problems == {(1, "body"), (2, "url"), (3, "published_at"), (4, None)}
    assert all(p["reason"] for p in body["problems"])
    # The good one is served.
    assert admin.get(f"/v1/articles/{body['ingested'][0]['id']}").status_code == 200


def test_batch_shape_errors_are_422(admin: httpx.Client) -> None:
    assert admin.post("/v1/articles", json=[]).status_code == 422
    assert admin.post("/v1/articles", json=[NEW_ARTICLE] * 101).status_code == 422
    assert admin.post("/v1/articles", json=42).status_code == 422
    assert admin.post("/v1/articles", content=b"{oops", headers={"content-type": "application/json"}).status_code == 422
    assert admin.post("/v1/articles", content=b"title=x", headers={"content-type": "text/plain"}).status_code == 415


def test_upload_html_and_text_files(admin: httpx.Client) -> None:
    html = (
        "<html><head><title>Dam repairs finished early</title>"
        '<meta property="article:published_time" content="2024-03-02"></head><body><article>'
        "<h1>Dam repairs finished early</h1>"
        "<p>Engineers finished repairs on the Brennhold dam two weeks ahead of schedule, the water board said on Friday.</p>"
        "<p>The board's chair, Petra Lind, credited a dry February that let crews work without interruption.</p>"
        "</article></body></html>"
    )
    text = "Ferry strike ends\n\nFerry workers in Osterby ended their strike after the operator agreed to hire twelve more deckhands."
    files = [
        ("file", ("dam.html", html.encode(), "text/html")),
        ("file", ("ferry.txt", text.encode(), "text/plain")),
        ("file", ("empty.txt", b"", "text/plain")),
        ("file", ("blob.bin", bytes(range(256)) * 4, "application/octet-stream")),
    ]
    r = admin.post("/v1/articles", files=files, data={"source": "Upload Gazette"})
    assert r.status_code == 400, r.text
    body = r.json()
    ingested = {i["item"]: i for i in body["ingested"]}
    assert set(ingested) == {"0:dam.html", "1:ferry.txt"}
    assert {p["item"] for p in body["problems"]} == {"2:empty.txt", "3:blob.bin"}
    dam = admin.get(f"/v1/articles/{ingested['0:dam.html']['id']}").json()
    assert dam["title"] == "Dam repairs finished early" and dam["source"] == "Upload Gazette"
    answer = admin.post("/v1/ask", json={"question": "Who credited a dry February for the dam repairs?"}).json()
    assert "Petra Lind" in answer["answer"], answer


def test_reload_picks_up_a_cli_rebuild_and_so_does_the_next_request(admin_server: LiveServer, admin: httpx.Client, embedder) -> None:
    from index.build import update_index
    from index.models import Article
    from retrieval.api import create_app  # noqa: F401 - the server under test

    settings = admin_server.app.state.service.settings
    assert admin.post("/v1/index/reload").json()["changed"] is False
    before = admin.get("/readyz").json()["generation"]

    # A CLI-style write from outside the server: a new generation and a new CURRENT.
    article = Article(title=NEW_ARTICLE["title"], body=NEW_ARTICLE["body"], source="Kellmouth Courier", url=NEW_ARTICLE["url"])
    report = update_index(settings.index_dir, embedder=embedder, settings=settings, articles=[article], mode="add")
    assert report.published

    # No reload call: the next request notices CURRENT moved.
    r = admin.get(f"/v1/articles/{article.id}")
    assert r.status_code == 200
    assert admin.get("/readyz").json()["generation"] == report.generation != before
    reloaded = admin.post("/v1/index/reload").json()
    assert reloaded == {"generation": report.generation, "previous": report.generation, "changed": False}


def test_statuses_added_updated_duplicate_unchanged(admin: httpx.Client) -> None:
    edited = {**NEW_ARTICLE, "body": NEW_ARTICLE["body"] + " It opens at eight every morning."}
    first = admin.post("/v1/articles", json=[NEW_ARTICLE, NEW_ARTICLE]).json()
    assert [i["status"] for i in first["ingested"]] == ["added", "duplicate"]
    assert first["ingested"][0]["id"] == first["ingested"][1]["id"]
    second = admin.post("/v1/articles", json=[edited]).json()
    assert second["ingested"][0]["status"] == "updated"
    assert "eight every morning" in admin.get(f"/v1/articles/{second['ingested'][0]['id']}").json()["body"]
    third = admin.post("/v1/articles", json=edited).json()
    assert third["ingested"][0]["status"] == "unchanged" and third["generation"] == second["generation"]


def test_binary_uploads_are_refused_by_kind(admin: httpx.Client) -> None:
    r = admin.post("/v1/articles", files=[("file", ("paper.pdf", b"%PDF-1.4\nTitle\nBody text here", "application/pdf"))])
    assert r.status_code == 400
    [problem] = r.json()["problems"]
    assert problem["field"] == "file" and "PDF" in problem["reason"]
