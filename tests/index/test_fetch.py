"""Feeds and article pages fetched from a real HTTP server on 127.0.0.1 that the test starts."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from index.fetch import fetch_urls, is_url
from index.models import Article, IngestProblem

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fetch"
USER_AGENT = "NewsBot-test/1.0 (+https://example.invalid/newsbot)"
INTERVAL = 0.2


@dataclass
class Site:
    """A small news site: routes to (status, content type, body), and a log of requests."""

    base: str = ""
    routes: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)
    log: list[tuple[str, str, float]] = field(default_factory=list)
    slow: dict[str, float] = field(default_factory=dict)

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.log]


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            site.log.append((self.path, self.headers.get("User-Agent", ""), time.monotonic()))
            if self.path in site.slow:
                time.sleep(site.slow[self.path])
            status, ctype, body = site.routes.get(self.path, (404, "text/html", b"<h1>Not found</h1>"))
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (the timeout test)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's name
            pass

    return Handler


@pytest.fixture()
def site() -> Iterator[Site]:
    state = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    html = "text/html; charset=utf-8"
    for name in ("ferry", "library", "thin", "standalone"):
        state.routes[f"/news/{name}.html"] = (200, html, (FIXTURES / f"{name}.html").read_bytes())
    feed = (FIXTURES / "feed.xml").read_text(encoding="utf-8").replace("{base}", state.base)
    state.routes["/feed.xml"] = (200, "application/rss+xml", feed.encode("utf-8"))
    atom = (FIXTURES / "atom.xml").read_text(encoding="utf-8").replace("{base}", state.base)
    state.routes["/atom.xml"] = (200, "application/atom+xml", atom.encode("utf-8"))
    state.routes["/private/members.html"] = (200, html, (FIXTURES / "library.html").read_bytes())
    state.routes["/robots.txt"] = (200, "text/plain", b"User-agent: *\nDisallow: /private/\n")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _fetch(urls: list[str], **options: object) -> list[Article | IngestProblem]:
    settings = {"user_agent": USER_AGENT, "timeout": 5.0, "min_interval": INTERVAL}
    settings.update(options)
    return list(fetch_urls(urls, **settings))  # type: ignore[arg-type]


def _split(items: list[Article | IngestProblem]) -> tuple[dict[str, Article], dict[str, IngestProblem]]:
    articles = {item.origin: item for item in items if isinstance(item, Article)}
    problems = {item.origin: item for item in items if isinstance(item, IngestProblem)}
    assert len(articles) + len(problems) == len(items)
    return articles, problems


def test_feed_expands_to_its_pages_each_fetched_once(site: Site) -> None:
    items = _fetch([f"{site.base}/feed.xml"])
    articles, problems = _split(items)
    base = site.base

    ferry = articles[f"{base}/news/ferry.html"]
    assert ferry.title == "Night ferry returns to the islands"
    assert ferry.url == f"{base}/news/ferry.html"
    assert ferry.body.startswith("The night ferry between Port Calder and the outer islands")
    assert "Most read" not in ferry.body and "Coast road" not in ferry.body
    assert (ferry.source, ferry.author) == ("Harbour Example", "Elin Brodie")
    # The feed's date (with its time) is the publisher's record of the entry.
    assert (ferry.published_at, ferry.date_source) == ("2026-11-20T07:30:00+00:00", "metadata")
    assert ferry.metadata["feed_entry_id"] == "ferry-1"

    # A relative link in the feed is resolved against the feed's URL; the page has no date
    # and no site name of its own, so the feed supplies them.
    library = articles[f"{base}/news/library.html"]
    assert library.title == "Library opens until midnight during exams"
    assert (library.published_at, library.source) == ("2026-11-23T18:00:00+00:00", "Example Local News")

    # The page has no text (a script shell): the feed entry's own summary stands in.
    choir = articles[f"{base}/news/thin.html"]
    assert choir.title == "Choir wins national prize"
    assert choir.body == "The Inchmore school choir won the national choir prize on Tuesday.\n\nThe twenty singers beat forty other schools."
    assert (choir.published_at, choir.metadata["format"]) == ("2026-11-25T12:00:00+00:00", "feed_entry")

    assert problems[f"{base}/news/missing.html"].reason == "HTTP 404 Not Found"
    assert problems[f"{base}/private/members.html"].reason == "robots.txt disallows fetching this URL"
    assert len(articles) == 3 and len(problems) == 2

    # Each page once: the second listing of the ferry (with tracking parameters) is the same page.
    paths = site.paths()
    assert paths.count("/news/ferry.html") == 1
    assert not [p for p in paths if "utm_source" in p]
    assert "/private/members.html" not in paths
    assert sorted(paths) == sorted(
        ["/robots.txt", "/feed.xml", "/news/ferry.html", "/news/library.html", "/news/missing.html", "/news/thin.html"]
    )


def test_requests_carry_the_user_agent_and_respect_the_interval(site: Site) -> None:
    _fetch([f"{site.base}/feed.xml"])
    assert len(site.log) == 6
    assert {agent for _, agent, _ in site.log} == {USER_AGENT}
    arrivals = [when for _, _, when in site.log]
    gaps = [later - earlier for earlier, later in zip(arrivals, arrivals[1:])]
    assert min(gaps) >= INTERVAL - 0.02, gaps


def test_seen_links_are_not_fetched_again(site: Site) -> None:
    already = {f"{site.base}/news/ferry.html", f"{site.base}/news/library.html"}
    items = _fetch([f"{site.base}/feed.xml"], seen=lambda link: link in already, min_interval=0.0)
    articles, _ = _split(items)
    assert set(articles) == {f"{site.base}/news/thin.html"}
    assert "/news/ferry.html" not in site.paths() and "/news/library.html" not in site.paths()


def test_article_url_atom_feed_and_failures_in_one_call(site: Site) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    urls = [
        f"{site.base}/news/standalone.html",
        f"{site.base}/atom.xml",  # links to the same page: not fetched twice
        "corpus/some-file.txt",
        f"http://127.0.0.1:{closed_port}/news/nothing.html",
        f"{site.base}/news/gone.html",
    ]
    items = _fetch(urls, min_interval=0.0)
    articles, problems = _split(items)

    (bridge,) = articles.values()
    assert bridge.origin == f"{site.base}/news/standalone.html"
    assert bridge.title == "Old stone bridge reopens to walkers"
    assert (bridge.published_at, bridge.date_source) == ("2025-03-02", "metadata")
    assert (bridge.source, bridge.author) == ("Valley Example", "Rhys Morgan")
    assert "fifteen months after winter floods" in bridge.body
    assert site.paths().count("/news/standalone.html") == 1

    assert problems["corpus/some-file.txt"].reason == "not an http(s) URL"
    assert problems[f"http://127.0.0.1:{closed_port}/news/nothing.html"].reason.startswith("fetch failed: ConnectError")
    assert problems[f"{site.base}/news/gone.html"].reason == "HTTP 404 Not Found"
    assert len(problems) == 3


def test_timeouts_oversized_and_non_html_responses_are_problems(site: Site) -> None:
    site.slow["/news/slow.html"] = 2.0
    site.routes["/news/slow.html"] = (200, "text/html", (FIXTURES / "ferry.html").read_bytes())
    site.routes["/news/huge.html"] = (200, "text/html", b"<p>" + b"x" * 300_000 + b"</p>")
    site.routes["/report.pdf"] = (200, "application/pdf", b"%PDF-1.7\n" + bytes(range(256)))
    site.routes["/api.json"] = (200, "application/json", json.dumps({"ok": True}).encode())
    site.routes["/empty-feed.xml"] = (200, "application/rss+xml", b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>')
    urls = [f"{site.base}{path}" for path in ("/news/slow.html", "/news/huge.html", "/report.pdf", "/api.json", "/empty-feed.xml")]
    started = time.monotonic()
    items = _fetch(urls, timeout=0.5, min_interval=0.0, max_bytes=100_000)
    assert time.monotonic() - started < 10
    articles, problems = _split(items)
    assert articles == {}
    assert problems[urls[0]].reason == "timed out after 0.5 s"
    assert problems[urls[1]].reason == "response larger than 100000 bytes"
    assert problems[urls[2]].reason == "unsupported content type 'application/pdf'"
    assert problems[urls[3]].reason == "unsupported content type 'application/json'"
    assert problems[urls[4]].reason == "feed has no entries"


def test_options_are_checked_before_any_request() -> None:
    with pytest.raises(ValueError, match="timeout must be greater than 0"):
        fetch_urls(["http://127.0.0.1:9/"], user_agent=USER_AGENT, timeout=0, min_interval=1.0)
    with pytest.raises(ValueError, match="min_interval"):
        fetch_urls(["http://127.0.0.1:9/"], user_agent=USER_AGENT, timeout=1.0, min_interval=-1)
    with pytest.raises(ValueError, match="user_agent"):
        fetch_urls(["http://127.0.0.1:9/"], user_agent=" ", timeout=1.0, min_interval=1.0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://example.com/news/a.html", True),
        ("http://127.0.0.1:8000/feed.xml", True),
        ("  https://example.com/feed  ", True),
        ("ftp://example.com/file.txt", False),
        ("corpus/london-daily-iraq.txt", False),
        ("/home/user/news.jsonl", False),
        ("https://", False),
        ("http://[::1", False),
        ("example.com/news", False),
    ],
)
def test_is_url(text: str, expected: bool) -> None:
    assert is_url(text) is expected


def test_json_feed_and_entries_without_a_link(site: Site) -> None:
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Example Local News (JSON)",
        "items": [
            {"id": "lib", "url": f"{site.base}/news/library.html", "title": "Library opens late", "date_published": "2026-11-23T18:00:00Z"},
            {
                "id": "note-7",
                "title": "Bin collections move to Tuesday",
                "content_html": "<p>Bin collections in the old town move from Monday to Tuesday from next week.</p>",
                "date_published": "2026-11-24T09:00:00Z",
                "authors": [{"name": "Town Hall"}],
            },
        ],
    }
    site.routes["/feed.json"] = (200, "application/feed+json", json.dumps(feed).encode("utf-8"))
    articles, problems = _split(_fetch([f"{site.base}/feed.json"], min_interval=0.0))
    assert problems == {}
    library = articles[f"{site.base}/news/library.html"]
    assert (library.title, library.published_at) == ("Library opens until midnight during exams", "2026-11-23T18:00:00+00:00")
    bins = articles[f"{site.base}/feed.json#note-7"]
    assert (bins.title, bins.author, bins.url, bins.source) == ("Bin collections move to Tuesday", "Town Hall", None, "Example Local News (JSON)")
    assert bins.body == "Bin collections in the old town move from Monday to Tuesday from next week."


def test_index_add_of_a_feed_indexes_its_pages_and_a_second_poll_fetches_none_again(site: Site, tmp_path: Path, embedder) -> None:
    from index.build import update_index
    from index.store import IndexReader
    from tests.conftest import make_settings

    settings = make_settings(tmp_path / "idx", fetch_min_interval=0.0, fetch_user_agent=USER_AGENT)
    first = update_index(settings.index_dir, embedder=embedder, settings=settings, inputs=[f"{site.base}/feed.xml"], mode="add")
    assert first.added >= 2 and first.published
    pages = [p for p in site.paths() if p.startswith("/news/")]
    assert pages, "no article page was fetched"
    reader = IndexReader.open(settings.index_dir)
    assert {a.url.rsplit("/", 1)[-1] for a in reader.latest(10) if a.url} >= {"ferry.html", "library.html"}
    reader.close()

    site.log.clear()
    second = update_index(settings.index_dir, embedder=embedder, settings=settings, inputs=[f"{site.base}/feed.xml"], mode="add")
    assert not second.published and second.added == 0
    # Only the page that failed last time (a 404) is tried again; indexed entries are not refetched.
    assert [p for p in site.paths() if p.startswith("/news/")] == ["/news/missing.html"]
    assert [p.reason for p in second.problems if "missing" in p.origin]
