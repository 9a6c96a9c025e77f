"""Plain data that flows through the index: articles in, chunks stored, problems reported."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "Article",
    "Chunk",
    "DateSource",
    "IngestProblem",
    "article_id_for",
    "canonical_url",
    "normalize_body",
]

#: Where a published date was read from. A scraped page's header date is the day the page was
#: saved, not the day the story ran, so callers must be able to tell them apart.
DateSource = Literal["metadata", "byline", "header", "url", "content"]

# Query parameters that only track the click and never change the article.
_TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ref|cmpid|ocid|smid|mbid)$", re.I)


def canonical_url(url: str) -> str:
    """The form of `url` used for identity: lower-case host, no fragment, no tracking parameters."""
    parts = urlsplit(url.strip())
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING_PARAMS.match(k)])
    netloc = parts.netloc.lower()
    if netloc.startswith("www."):
        netloc = netloc[4:]
    path = parts.path.rstrip("/") or "/"
    scheme = "https" if parts.scheme in ("http", "https") else parts.scheme
    return urlunsplit((scheme, netloc, path, query, ""))


def normalize_body(text: str) -> str:
    """Body text reduced for duplicate detection: case, whitespace and punctuation folded."""
    return re.sub(r"\W+", " ", text.casefold()).strip()


def article_id_for(*, url: str | None, title: str, body: str) -> str:
    """A stable id: from the canonical url when there is one, else from the content."""
    key = f"url:{canonical_url(url)}" if url else f"text:{normalize_body(title)}\n{normalize_body(body)}"
    return "a-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


@dataclass(slots=True)
class Article:
    """One news article, as parsed from a file, record, feed entry or page."""

    title: str
    body: str
    url: str | None = None
    source: str | None = None
    #: ISO 8601 date (`YYYY-MM-DD`) or datetime, when one could be found.
    published_at: str | None = None
    date_source: DateSource | None = None
    author: str | None = None
    category: str | None = None
    #: The standfirst / summary line under the title, when the page has one (also in `body`).
    summary: str | None = None
    #: Where it came from: `path`, `path:line` for a JSONL record, or a fetched URL.
    origin: str = ""
    #: Everything else the input carried (unknown JSON keys, front matter), kept verbatim.
    metadata: dict[str, Any] = field(default_factory=dict)
    id: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            self.id = article_id_for(url=self.url, title=self.title, body=self.body)

    @property
    def content_hash(self) -> str:
        """Changes whenever anything stored for the article changes (an edit replaces its chunks)."""
        parts = [self.title, self.body, self.url or "", self.source or "", self.published_at or "", self.author or "", self.category or ""]
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


@dataclass(slots=True, frozen=True)
class Chunk:
    """A passage of an article body: `article.body[start:end] == text`."""

    article_id: str
    position: int
    start: int
    end: int
    text: str


@dataclass(slots=True, frozen=True)
class IngestProblem:
    """An input that was skipped, with where and why, so a build can report and go on."""

    origin: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.origin}:{self.line}" if self.line is not None else self.origin
        return f"{where}: {self.reason}"
