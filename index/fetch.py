"""Feeds and article URLs -> `Article`s, fetched politely.

A feed URL (RSS, Atom or JSON Feed) expands to its entries' links; every article page is
fetched once per call, with a timeout, our User-Agent, robots.txt respected and at most one
request per host per `min_interval` seconds. Pages go through trafilatura; when a page yields
no text, the feed entry's own title, summary and date stand in. Whatever fails becomes an
`IngestProblem` naming the URL, and the rest carries on.
"""

from __future__ import annotations

import io
import json
import time
import urllib.robotparser
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import httpx

from index.dates import to_iso
from index.extract import article_from_html, fragment_text
from index.models import Article, IngestProblem, canonical_url

__all__ = ["fetch_urls", "is_url"]

#: Responses larger than this are not news pages (or feeds) and are abandoned mid-download.
DEFAULT_MAX_BYTES = 10 * 1024 * 1024

_FEED_TYPES = ("rss", "atom", "rdf", "feed+json", "/xml", "+xml")
_HTML_TYPES = ("text/html", "application/xhtml+xml")


def is_url(s: str) -> bool:
    """Whether `s` is an absolute http(s) URL with a host (as opposed to a file path)."""
    try:
        parts = urlsplit(s.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def fetch_urls(
    urls: Iterable[str],
    *,
    user_agent: str,
    timeout: float,
    min_interval: float,
    seen: Callable[[str], bool] | None = None,
    client: httpx.Client | None = None,
    respect_robots: bool = True,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Iterator[Article | IngestProblem]:
    """Articles from feed and article URLs, and a problem for every URL that failed.

    `seen(link)` returning True skips a feed entry that is already indexed, so polling a feed
    only fetches what is new; URLs given directly are always fetched. Pass `client` to reuse
    an `httpx.Client` (it is not closed); otherwise one is made and closed here.
    """
    if not user_agent.strip():
        raise ValueError("user_agent must name the fetcher (for example 'NewsBot/0.1'); it is empty")
    if timeout <= 0:
        raise ValueError(f"timeout must be greater than 0 seconds. Currently, the timeout is {timeout}")
    if min_interval < 0:
        raise ValueError(f"min_interval must be 0 or more seconds. Currently, the min_interval is {min_interval}")
    if max_bytes <= 0:
        raise ValueError(f"max_bytes must be greater than 0. Currently, the max_bytes is {max_bytes}")
    fetcher = _PoliteFetcher(
        client=client,
        user_agent=user_agent,
        timeout=timeout,
        min_interval=min_interval,
        respect_robots=respect_robots,
        max_bytes=max_bytes,
    )
    return _fetch_all(list(urls), fetcher, seen)


def _fetch_all(urls: list[str], fetcher: _PoliteFetcher, seen: Callable[[str], bool] | None) -> Iterator[Article | IngestProblem]:
    done: set[str] = set()
    try:
        for raw in urls:
            url = raw.strip() if isinstance(raw, str) else ""
            if not is_url(url):
                yield IngestProblem(str(raw), "not an http(s) URL")
                continue
            try:
                yield from _fetch_one(url, fetcher, seen, done)
            except Exception as exc:  # noqa: BLE001 - one odd feed or page must not stop the others
                yield IngestProblem(url, f"could not be processed ({type(exc).__name__}: {exc})")
    finally:
        fetcher.close()


def _fetch_one(url: str, fetcher: _PoliteFetcher, seen: Callable[[str], bool] | None, done: set[str]) -> Iterator[Article | IngestProblem]:
    if canonical_url(url) in done:
        return  # an article page a feed earlier in this call already brought in
    response = fetcher.get(url)
    if isinstance(response, IngestProblem):
        yield response
        return
    feed = _parse_feed(response)
    if feed is None:
        key = canonical_url(url)
        if key not in done:
            done.add(key)
            yield _page_article(url, response, entry=None)
        return
    if not feed.entries:
        yield IngestProblem(url, "feed has no entries")
        return
    for entry in feed.entries:
        link = _entry_link(entry, base=response.url)
        if link is None:
            article = _entry_article(entry, link=None, origin=f"{url}#{entry.get('id') or entry.get('title') or '?'}", feed=feed)
            yield article or IngestProblem(url, f"feed entry {entry.get('title')!r} has no link and no text")
            continue
        key = canonical_url(link)
        if key in done:
            continue
        done.add(key)
        if seen is not None and seen(link):
            continue
        try:
            page = fetcher.get(link)
            yield page if isinstance(page, IngestProblem) else _page_article(link, page, entry=entry, feed=feed)
        except Exception as exc:  # noqa: BLE001 - one odd page must not cost the feed's other entries
            yield IngestProblem(link, f"could not be processed ({type(exc).__name__}: {exc})")


# --- HTTP ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Response:
    url: str
    status: int
    content_type: str
    content: bytes


class _PoliteFetcher:
    """GETs with a per-host minimum interval, robots.txt, a size cap, and failures as problems."""

    def __init__(
        self,
        *,
        client: httpx.Client | None,
        user_agent: str,
        timeout: float,
        min_interval: float,
        respect_robots: bool,
        max_bytes: int,
    ) -> None:
        self._own_client = client is None
        self._client = client or httpx.Client(follow_redirects=True, timeout=timeout)
        self._headers = {"User-Agent": user_agent, "Accept": "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,application/xml;q=0.9,*/*;q=0.5"}
        self._user_agent = user_agent
        self._timeout = timeout
        self._min_interval = min_interval
        self._respect_robots = respect_robots
        self._max_bytes = max_bytes
        self._last_request: dict[str, float] = {}
        self._robots: dict[str, urllib.robotparser.RobotFileParser | None] = {}

    def close(self) -> None:
        if self._own_client:
            self._client.close()

    def get(self, url: str) -> _Response | IngestProblem:
        if self._respect_robots and not self._allowed(url):
            return IngestProblem(url, "robots.txt disallows fetching this URL")
        result = self._get(url)
        if isinstance(result, str):
            return IngestProblem(url, result)
        if result.status >= 400:
            return IngestProblem(url, f"HTTP {result.status} {_reason(result.status)}".rstrip())
        return result

    def _get(self, url: str) -> _Response | str:
        """The response, or why there is none."""
        self._wait_for(url)
        try:
            return self._download(url)
        finally:
            # The interval runs from the end of the last exchange with the host, so a slow
            # response never lets the next request follow it too closely.
            self._last_request[_host(url)] = time.monotonic()

    def _download(self, url: str) -> _Response | str:
        try:
            with self._client.stream("GET", url, headers=self._headers, timeout=self._timeout) as response:
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self._max_bytes:
                        return f"response larger than {self._max_bytes} bytes"
                    chunks.append(chunk)
                return _Response(
                    url=str(response.url),
                    status=response.status_code,
                    content_type=response.headers.get("content-type", "").lower(),
                    content=b"".join(chunks),
                )
        except httpx.TimeoutException:
            return f"timed out after {self._timeout:g} s"
        except httpx.TooManyRedirects:
            return "too many redirects"
        except httpx.HTTPError as exc:
            return f"fetch failed: {type(exc).__name__}: {exc}"
        except (httpx.InvalidURL, ValueError) as exc:
            return f"invalid URL: {exc}"

    def _wait_for(self, url: str) -> None:
        last = self._last_request.get(_host(url))
        if last is not None:
            delay = last + self._min_interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def _allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            self._robots[origin] = self._load_robots(origin)
        rules = self._robots[origin]
        return rules is None or rules.can_fetch(self._user_agent, url)

    def _load_robots(self, origin: str) -> urllib.robotparser.RobotFileParser | None:
        """The site's robots.txt rules; None (everything allowed) when it has none."""
        result = self._get(f"{origin}/robots.txt")
        # A missing robots.txt allows everything; so does an unreachable one, since the page
        # fetch that follows will report the real failure.
        if isinstance(result, str) or result.status >= 400:
            return None
        rules = urllib.robotparser.RobotFileParser()
        rules.parse(result.content.decode("utf-8", errors="replace").splitlines())
        return rules


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


# --- feeds -------------------------------------------------------------------------------


def _parse_feed(response: _Response) -> Any | None:
    """The parsed feed when the response is one (RSS, Atom, RDF or JSON Feed), else None."""
    head = response.content[:2048].lstrip().lower()
    ctype = response.content_type
    if "json" in ctype or head.startswith(b"{"):
        return _parse_json_feed(response)
    looks_xml = head.startswith(b"<?xml") or b"<rss" in head or b"<feed" in head or b"<rdf:rdf" in head
    if any(t in ctype for t in _HTML_TYPES) and not (b"<rss" in head or b"<feed" in head):
        return None
    if not looks_xml and not any(t in ctype for t in _FEED_TYPES):
        return None
    # A stream, never a string: feedparser would treat a string as a URL or a file path.
    parsed = feedparser.parse(
        io.BytesIO(response.content),
        response_headers={"content-location": response.url, "content-type": response.content_type or "application/xml"},
    )
    if not parsed.get("version") and not parsed.entries:
        return None
    return parsed


def _parse_json_feed(response: _Response) -> Any | None:
    """A JSON Feed (jsonfeed.org) in the shape feedparser gives RSS and Atom."""
    try:
        data = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or "jsonfeed.org" not in str(data.get("version", "")):
        return None
    entries = []
    for item in data.get("items") or []:
        if not isinstance(item, dict):
            continue
        authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
        entries.append(
            feedparser.FeedParserDict(
                id=item.get("id"),
                link=item.get("url") or item.get("external_url"),
                title=item.get("title"),
                summary=item.get("summary") or item.get("content_html") or item.get("content_text"),
                content=[{"value": item.get("content_html") or item.get("content_text") or ""}],
                published=item.get("date_published"),
                updated=item.get("date_modified"),
                author=", ".join(a.get("name", "") for a in authors if isinstance(a, dict)) or None,
            )
        )
    return feedparser.FeedParserDict(version="json1", feed=feedparser.FeedParserDict(title=data.get("title")), entries=entries)


def _entry_link(entry: Any, *, base: str) -> str | None:
    link = entry.get("link")
    if not link:
        for candidate in entry.get("links") or []:
            if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
                link = candidate["href"]
                break
    if not link:
        return None
    absolute = urljoin(base, str(link).strip())
    return absolute if is_url(absolute) else None


def _entry_date(entry: Any) -> str | None:
    for key in ("published", "updated", "created"):
        iso = to_iso(entry.get(key))
        if iso:
            return iso
    for key in ("published_parsed", "updated_parsed"):
        parsed = entry.get(key)
        if parsed:
            return datetime(*parsed[:6], tzinfo=timezone.utc).isoformat(timespec="seconds")
    return None


def _entry_author(entry: Any) -> str | None:
    detail = entry.get("author_detail") or {}
    return detail.get("name") or entry.get("author") or None


def _entry_text(entry: Any) -> str:
    contents = [c.get("value", "") for c in entry.get("content") or [] if isinstance(c, dict)]
    best = max(contents + [entry.get("summary") or ""], key=len)
    return fragment_text(best) if best else ""


def _feed_title(feed: Any | None) -> str | None:
    if feed is None:
        return None
    return (feed.get("feed") or {}).get("title") or None


def _entry_article(entry: Any, *, link: str | None, origin: str, feed: Any | None) -> Article | None:
    """An article from the feed entry alone (its page had no text to extract)."""
    body = _entry_text(entry)
    if not body:
        return None
    published = _entry_date(entry)
    title = fragment_text(entry.get("title") or "") or body.split("\n", 1)[0][:120]
    return Article(
        title=title,
        body=body,
        url=link,
        source=_feed_title(feed),
        published_at=published,
        date_source="metadata" if published else None,
        author=_entry_author(entry),
        origin=origin,
        metadata={"format": "feed_entry", "feed_entry_id": entry.get("id")} if entry.get("id") else {"format": "feed_entry"},
    )


# --- pages -------------------------------------------------------------------------------


def _page_article(url: str, response: _Response, *, entry: Any | None, feed: Any | None = None) -> Article | IngestProblem:
    ctype = response.content_type
    if ctype and not any(t in ctype for t in _HTML_TYPES + ("xml", "text/plain")):
        fallback = _entry_article(entry, link=url, origin=url, feed=feed) if entry is not None else None
        return fallback or IngestProblem(url, f"unsupported content type {ctype.split(';')[0]!r}")
    article = article_from_html(response.content, origin=url, url=url)
    if article is None:
        fallback = _entry_article(entry, link=url, origin=url, feed=feed) if entry is not None else None
        return fallback or IngestProblem(url, "no article text found on the page")
    if response.url != url:
        article.metadata["final_url"] = response.url
    if entry is not None:
        # The feed is the publisher's own record of the entry: its date (with a time) beats
        # what the page's markup says; its title and author fill what the page lacks.
        published = _entry_date(entry)
        if published:
            article.published_at, article.date_source = published, "metadata"
        article.author = article.author or _entry_author(entry)
        # A site name beats the feed's title, which beats the bare host name.
        if not article.source or article.source == article.metadata.get("hostname"):
            article.source = _feed_title(feed) or article.source
        if entry.get("id"):
            article.metadata["feed_entry_id"] = entry.get("id")
        if entry.get("title") and not article.title:
            article.title = fragment_text(entry["title"])
    return article
