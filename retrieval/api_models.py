"""The HTTP contract: request and response bodies of the NewsBot service.

Constraints live on the fields, so bad input is a 422 naming the field by construction and the
OpenAPI page at `/docs` documents exactly what is accepted.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, GetJsonSchemaHandler, StringConstraints, ValidationInfo, field_validator
from pydantic.json_schema import JsonSchemaValue

__all__ = [
    "AS_OF_HELP",
    "AdminIngestResponse",
    "AnswerOut",
    "ArticleIn",
    "ArticleOut",
    "ArticleSummaryOut",
    "AskRequest",
    "CitationOut",
    "DeleteResponse",
    "ErrorOut",
    "HealthOut",
    "HitOut",
    "IngestedOut",
    "IngestProblemOut",
    "LatestResponse",
    "ReadyOut",
    "ReloadResponse",
    "SearchResponse",
    "SourceOut",
    "SourcesResponse",
    "TurnIn",
    "clean_text",
    "trimmed_text",
]

#: Most articles one admin request may carry (a bigger batch belongs to `newsbot index add`).
MAX_BATCH = 100


def clean_text(value: str) -> str:
    """Refuse text the index cannot store: NUL characters and lone UTF-16 surrogates.

    JSON can spell both (`\\u0000`, `\\ud800`); SQLite and the tokenizer cannot take them, so
    they are rejected at the edge with the field named instead of failing deep inside a search.
    """
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (lone surrogate found)") from None
    return value


#: What `clean_text` and stripping accept, said in the schema (JSON Schema patterns are
#: unanchored): no NUL anywhere, and for required text at least one non-space character.
NO_NUL_PATTERN = "^[^\\x00]*$"
SOME_TEXT_PATTERN = "^[^\\x00]*\\S[^\\x00]*$"


class DocumentPattern:
    """Puts a `pattern` into a field's JSON schema without pydantic enforcing it.

    The validators give the precise message ("must not contain NUL characters"); the pattern
    tells clients (and the schema fuzzer) the same rule up front.
    """

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["pattern"] = self.pattern
        return schema


def trimmed_text(max_length: int, *, min_length: int = 1) -> Any:
    """A text field: surrounding whitespace dropped, then its length checked."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(clean_text),
        DocumentPattern(SOME_TEXT_PATTERN if min_length else NO_NUL_PATTERN),
    ]


Question = trimmed_text(2000)
SourceName = trimmed_text(200)
ShortText = trimmed_text(1000)
Title = trimmed_text(500)
Body = trimmed_text(1_000_000)
DateText = trimmed_text(64)


URL_PATTERN = "^\\s*https?://[^/?#\\s\\x00]+[^\\x00]*$"


def _check_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an absolute http(s) URL")
    return value


# --- requests ---------------------------------------------------------------------------------


class TurnIn(BaseModel):
    """A previous exchange, so a follow-up ("and what did he say next?") can be resolved."""

    model_config = ConfigDict(extra="forbid")

    question: Annotated[str, StringConstraints(max_length=2000), AfterValidator(clean_text), DocumentPattern(NO_NUL_PATTERN)]
    answer: Annotated[str, StringConstraints(max_length=8000), AfterValidator(clean_text), DocumentPattern(NO_NUL_PATTERN)]


AS_OF_HELP = (
    "Ask as of this day (default today): \"this week\", \"latest\" and the preference for recent "
    "articles are reckoned from it, and articles published after it are left out, so an archive "
    "can be asked about its own time."
)


class AskRequest(BaseModel):
    """A question, optionally restricted to outlets and a date range."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"question": "Who called the letter a mistake?"},
                {"question": "What did the Pentagon say about Iraq?", "top_k": 3, "sources": ["London Daily"], "since": "2020-01-01"},
                {"question": "What happened this week?", "as_of": "2020-01-08"},
            ]
        },
    )

    question: Question = Field(description="The question, 1 to 2000 characters.")  # type: ignore[valid-type]
    top_k: int = Field(5, ge=1, le=20, description="Passages the answer may draw on (citations at most).")
    sources: list[SourceName] | None = Field(None, max_length=50, description="Only these outlets (exact names, see /v1/sources).")  # type: ignore[valid-type]
    since: date | None = Field(None, description="Only articles published on or after this day.")
    until: date | None = Field(None, description="Only articles published on or before this day.")
    as_of: date | None = Field(None, description=AS_OF_HELP)
    history: list[TurnIn] | None = Field(None, max_length=10, description="Earlier turns of the conversation, oldest first (at most 10).")

    @field_validator("until")
    @classmethod
    def _range_in_order(cls, until: date | None, info: ValidationInfo) -> date | None:
        since = info.data.get("since")
        if until is not None and since is not None and until < since:
            raise ValueError(f"must not be before since ({since.isoformat()})")
        return until


class ArticleIn(BaseModel):
    """An article as a JSONL record carries it; unknown keys are kept as metadata."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "title": "Council approves new cycle lanes",
                    "body": "The city council voted on Tuesday to build twelve kilometres of protected cycle lanes.",
                    "url": "https://example.com/news/cycle-lanes",
                    "source": "Example Gazette",
                    "published_at": "2024-05-14",
                    "author": "A. Reporter",
                }
            ]
        },
    )

    title: Title = Field(description="Headline.")  # type: ignore[valid-type]
    body: Body = Field(description="Full article text.")  # type: ignore[valid-type]
    url: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=2048), AfterValidator(_check_url), DocumentPattern(URL_PATTERN)
    ] | None = Field(
        None, description="Canonical link; also what makes the article's id stable across edits."
    )
    source: SourceName | None = Field(None, description="Outlet name.")  # type: ignore[valid-type]
    published_at: DateText | None = Field(  # type: ignore[valid-type]
        None,
        description="Publication date or datetime: ISO 8601 (`2024-05-14`, `2024-05-14T09:30:00Z`); common written forms are read too.",
        json_schema_extra={"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}, {"type": "null"}]},
    )
    author: ShortText | None = Field(None, description="Byline.")  # type: ignore[valid-type]
    category: SourceName | None = Field(None, description="Section or topic.")  # type: ignore[valid-type]
    summary: ShortText | None = Field(None, description="Standfirst.")  # type: ignore[valid-type]


# --- responses --------------------------------------------------------------------------------


class ErrorOut(BaseModel):
    """Every error the service returns: a stable code and a message naming what is wrong."""

    error: str = Field(examples=["not_found"])
    detail: Any = Field(examples=["no article with id 'a-0123456789abcdef'"])


class CitationOut(BaseModel):
    n: int = Field(description="The number `[n]` in the answer text refers to.")
    article_id: str
    title: str
    source: str | None
    published_at: str | None
    url: str | None
    passage: str = Field(description="The passage the quote was taken from.")
    quote: str = Field(description="The exact sentence quoted from the article body.")
    quote_start: int = 0
    quote_end: int = 0
    outlets: list[str] = Field(default_factory=list, description="Outlets that carried the same story.")


class HitOut(BaseModel):
    article_id: str
    chunk_id: int
    title: str
    source: str | None
    published_at: str | None
    url: str | None
    text: str
    score: float
    outlets: list[str] = Field(default_factory=list)


class AnswerOut(BaseModel):
    """An answer whose every claim carries a `[n]` marker resolved in `citations`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "answer": "“That letter is a draft, it was a mistake, it was unsigned, it should not have been released,” Milley said [1].",
                    "abstained": False,
                    "citations": [
                        {
                            "n": 1,
                            "article_id": "a-0123456789abcdef",
                            "title": "Future of US military presence in Iraq in question amid confusion in Washington",
                            "source": "London Daily",
                            "published_at": "2020-01-07",
                            "url": None,
                            "passage": "…",
                            "quote": "“That letter is a draft, it was a mistake, …” Milley said.",
                            "quote_start": 1234,
                            "quote_end": 1340,
                            "outlets": ["London Daily"],
                        }
                    ],
                    "took_ms": 41.2,
                    "as_of": "2020-01-07",
                    "notes": [],
                    "closest": [],
                    "mode": "extractive",
                }
            ]
        }
    )

    answer: str
    abstained: bool = Field(description="True when the archive holds no good evidence; `closest` then lists near misses.")
    citations: list[CitationOut]
    took_ms: float
    as_of: str | None = None
    notes: list[str] = Field(default_factory=list)
    closest: list[HitOut] = Field(default_factory=list)
    mode: str = "extractive"


class SearchResponse(BaseModel):
    hits: list[HitOut]
    took_ms: float


class CopyOut(BaseModel):
    """Another copy of the same story (syndicated or duplicate), stored once."""

    model_config = ConfigDict(extra="allow")

    article_id: str
    url: str | None = None
    source: str | None = None
    published_at: str | None = None
    kind: str | None = None


class ArticleOut(BaseModel):
    id: str
    title: str
    body: str
    url: str | None = None
    source: str | None = None
    published_at: str | None = None
    date_source: str | None = None
    author: str | None = None
    category: str | None = None
    summary: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    copies: list[CopyOut] = Field(default_factory=list)


class SourceOut(BaseModel):
    name: str
    articles: int
    first_published: str | None
    last_published: str | None


class SourcesResponse(BaseModel):
    sources: list[SourceOut]


class ArticleSummaryOut(BaseModel):
    article_id: str
    title: str
    source: str | None
    published_at: str | None
    url: str | None
    summary: str | None = None


class LatestResponse(BaseModel):
    articles: list[ArticleSummaryOut]


class IngestedOut(BaseModel):
    """An article of an admin ingest that made it into the index (or was already there)."""

    item: int | str = Field(description="Position in the submitted list, or the uploaded file's name.")
    id: str
    title: str
    status: Literal["added", "updated", "unchanged", "duplicate"]


class IngestProblemOut(BaseModel):
    """An article of an admin ingest that was refused, and why."""

    item: int | str = Field(description="Position in the submitted list, or the uploaded file's name.")
    field: str | None = Field(None, description="The offending field, when one is to blame.")
    reason: str


class AdminIngestResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ingested": [{"item": 0, "id": "a-0123456789abcdef", "title": "Council approves new cycle lanes", "status": "added"}],
                    "problems": [{"item": 1, "field": "body", "reason": "Field required"}],
                    "generation": "g-000004",
                    "chunks": 3,
                }
            ]
        }
    )

    ingested: list[IngestedOut]
    problems: list[IngestProblemOut]
    generation: str | None = Field(description="The index generation now served.")
    chunks: int = Field(0, description="Passages written by this ingest.")


class DeleteResponse(BaseModel):
    removed: str
    generation: str | None


class ReloadResponse(BaseModel):
    generation: str
    previous: str | None
    changed: bool


class HealthOut(BaseModel):
    status: Literal["ok"] = "ok"


class ReadyOut(BaseModel):
    status: Literal["ready", "loading", "unavailable"]
    generation: str | None = None
    detail: str | None = None
