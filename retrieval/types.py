"""The retrieval API's data: what a search returns and what an answer carries.

The HTTP service, the bot and the CLI all speak these types; their JSON form (`to_dict`) is the
wire format of `newsbot ask --json` and `POST /v1/ask`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Protocol

__all__ = ["Answer", "Answerer", "ArticleSummary", "Citation", "Filters", "Hit", "SourceInfo", "Turn"]


@dataclass(slots=True, frozen=True)
class Filters:
    """Restrictions applied inside the search (never as a post-filter)."""

    sources: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None
    article_ids: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return not (self.sources or self.since or self.until or self.article_ids)


@dataclass(slots=True)
class Hit:
    """One ranked passage."""

    article_id: str
    chunk_id: int
    title: str
    source: str | None
    published_at: str | None
    url: str | None
    text: str
    score: float
    #: Character offsets of `text` in the article body.
    start: int = 0
    end: int = 0
    #: Outlets that carried the same story (syndicated copies collapsed into this hit), this one included.
    outlets: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "article_id": self.article_id,
            "chunk_id": self.chunk_id,
            "title": self.title,
            "source": self.source,
            "published_at": self.published_at,
            "url": self.url,
            "text": self.text,
            "score": round(float(self.score), 6),
            "outlets": list(self.outlets),
        }


@dataclass(slots=True)
class Citation:
    """A numbered source of an answer: `[n]` in the answer text points here."""

    n: int
    article_id: str
    title: str
    source: str | None
    published_at: str | None
    url: str | None
    #: The passage the quote was taken from.
    passage: str
    #: The exact sentence quoted: `article.body[quote_start:quote_end] == quote`.
    quote: str
    quote_start: int
    quote_end: int
    outlets: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Answer:
    """What `ask` returns: text with `[n]` markers and the citations they resolve to."""

    answer: str
    abstained: bool
    citations: list[Citation]
    took_ms: float = 0.0
    #: The newest cited date ("as of ..."), when anything is cited.
    as_of: str | None = None
    #: Human-readable caveats: stale evidence, generative fallback, ...
    notes: list[str] = field(default_factory=list)
    #: Closest passages when abstaining, clearly not an answer.
    closest: list[Hit] = field(default_factory=list)
    #: "extractive" or "generative".
    mode: str = "extractive"

    def to_dict(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
            "took_ms": round(self.took_ms, 2),
            "as_of": self.as_of,
            "notes": list(self.notes),
            "closest": [h.to_dict() for h in self.closest],
            "mode": self.mode,
        }


@dataclass(slots=True, frozen=True)
class Turn:
    """A previous question and its answer, for follow-ups."""

    question: str
    answer: str


@dataclass(slots=True, frozen=True)
class SourceInfo:
    """An outlet in the archive: how many articles and which dates."""

    name: str
    articles: int
    first_published: str | None
    last_published: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True, frozen=True)
class ArticleSummary:
    """An article without its body, for listings such as "latest"."""

    article_id: str
    title: str
    source: str | None
    published_at: str | None
    url: str | None
    summary: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Answerer(Protocol):
    """What the bot and the HTTP service need from retrieval (in-process or over HTTP)."""

    def ask(
        self,
        question: str,
        *,
        top_k: int | None = None,
        filters: Filters | None = None,
        history: list[Turn] | None = None,
        as_of: date | None = None,
    ) -> Answer: ...

    def search(self, query: str, *, top_k: int | None = None, filters: Filters | None = None) -> list[Hit]: ...

    def sources(self) -> list[SourceInfo]: ...

    def latest(self, *, topic: str | None = None, limit: int = 5) -> list[ArticleSummary]: ...
