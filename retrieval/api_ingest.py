"""Admin ingest payloads -> `Article`s, each bad item reported with what is wrong instead of failing the batch.

Two shapes arrive at `POST /v1/articles`: JSON (one object or a list of them, with the JSONL
fields) and uploaded files (HTML pages or plain text). Both end as a list of
`(item, Article | ProblemItem)` in submission order, so the response can say which item went where.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from index.dates import to_iso
from index.models import Article
from retrieval.api_models import ArticleIn, clean_text

__all__ = ["ProblemItem", "articles_from_json", "article_from_upload"]

_ARTICLE_FIELDS = set(ArticleIn.model_fields)


@dataclass(slots=True, frozen=True)
class ProblemItem:
    """One submitted item that cannot be ingested: which one, which field, and why."""

    item: int | str
    reason: str
    field: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"item": self.item, "field": self.field, "reason": self.reason}


def _field_name(loc: tuple[Any, ...]) -> str | None:
    return ".".join(str(part) for part in loc) or None


def article_from_record(record: Any, *, item: int | str, origin: str) -> Article | list[ProblemItem]:
    """An `Article` from one JSON record, or every reason it is not one."""
    if not isinstance(record, dict):
        return [ProblemItem(item, f"must be a JSON object with title and body, got {type(record).__name__}")]
    try:
        parsed = ArticleIn.model_validate(record)
    except ValidationError as exc:
        return [ProblemItem(item, err["msg"], _field_name(err["loc"])) for err in exc.errors(include_url=False)]

    published_at = None
    if parsed.published_at is not None:
        published_at = to_iso(parsed.published_at)
        if published_at is None:
            return [ProblemItem(item, f"not a full date: {parsed.published_at!r} (use ISO 8601, e.g. 2024-05-14)", "published_at")]

    # Unknown keys are kept verbatim, as the JSONL reader keeps them.
    metadata: dict[str, Any] = {}
    extra = dict(parsed.model_extra or {})
    nested = extra.pop("metadata", None)
    if isinstance(nested, dict):
        metadata.update(nested)
    elif nested is not None:
        metadata["metadata"] = nested
    extra.pop("id", None)  # ids are derived from the url or the content, never chosen by a client
    metadata.update(extra)
    try:
        _check_metadata(metadata)
    except ValueError as exc:
        return [ProblemItem(item, str(exc), "metadata")]

    return Article(
        title=parsed.title,
        body=parsed.body,
        url=parsed.url,
        source=parsed.source,
        published_at=published_at,
        date_source="metadata" if published_at else None,
        author=parsed.author,
        category=parsed.category,
        summary=parsed.summary,
        origin=origin,
        metadata=metadata,
    )


def _check_metadata(value: Any, *, depth: int = 0) -> None:
    """Metadata is stored as JSON in SQLite: the same text rules as every other field apply."""
    if depth > 20:
        raise ValueError("is nested too deeply")
    if isinstance(value, str):
        clean_text(value)
    elif isinstance(value, dict):
        for key, inner in value.items():
            clean_text(str(key))
            _check_metadata(inner, depth=depth + 1)
    elif isinstance(value, list):
        for inner in value:
            _check_metadata(inner, depth=depth + 1)
    elif isinstance(value, float) and value != value:  # NaN cannot round-trip through strict JSON
        raise ValueError("must not contain NaN")


def articles_from_json(payload: Any, *, origin: str) -> list[tuple[int, Article | list[ProblemItem]]]:
    """Each item of a JSON payload (object or list) with its article or its problems."""
    records = payload if isinstance(payload, list) else [payload]
    return [(i, article_from_record(record, item=i, origin=f"{origin}[{i}]")) for i, record in enumerate(records)]


def _decode(data: bytes) -> str | None:
    for encoding in ("utf-8-sig",):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return str(best) if best is not None else None


#: File signatures of formats people upload by mistake; refused by name rather than decoded as text.
_BINARY_MAGIC = (
    (b"%PDF-", "PDF"),
    (b"\x89PNG", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"PK\x03\x04", "ZIP (or Word/OpenDocument)"),
    (b"\xd0\xcf\x11\xe0", "Office (OLE)"),
)


def _looks_like_html(name: str, content_type: str, text: str) -> bool:
    if name.lower().endswith((".html", ".htm", ".xhtml")) or "html" in content_type.lower():
        return True
    head = text.lstrip()[:512].lower()
    return head.startswith(("<!doctype html", "<html")) or "<body" in head


def article_from_upload(
    data: bytes, *, name: str, content_type: str = "", overrides: dict[str, str] | None = None
) -> Article | list[ProblemItem]:
    """The article in an uploaded HTML page or text file, or why there is none.

    A text file is a saved news page when it has that shape (site header, title, body);
    otherwise its first non-blank line is the title and the rest the body.
    """
    from index.clean import looks_like_scraped_page, parse_scraped_page
    from index.errors import PageParseError
    from index.extract import article_from_html

    overrides = {k: v for k, v in (overrides or {}).items() if v}
    if not data.strip():
        return [ProblemItem(name, "the file is empty", "file")]
    kind = next((name for magic, name in _BINARY_MAGIC if data.startswith(magic)), None)
    if kind is not None:
        return [ProblemItem(name, f"{kind} files are not supported: upload an HTML page or a text file", "file")]
    text = _decode(data)
    if text is None or "\x00" in text:
        return [ProblemItem(name, "not a text or HTML file (binary content)", "file")]
    origin = f"upload:{name}"
    article: Article | None
    if _looks_like_html(name, content_type, text):
        article = article_from_html(text, origin=origin, url=overrides.get("url"))
        if article is None:
            return [ProblemItem(name, "no article text found in the HTML page", "file")]
    elif looks_like_scraped_page(text):
        try:
            article = parse_scraped_page(text, origin=origin)
        except PageParseError as exc:
            return [ProblemItem(name, exc.reason, "file")]
    else:
        lines = [line.strip() for line in text.splitlines()]
        nonblank = [line for line in lines if line]
        if len(nonblank) < 2:
            return [ProblemItem(name, "a text file needs a title line and a body", "file")]
        title, first = nonblank[0], lines.index(nonblank[0])
        body = "\n".join(lines[first + 1 :]).strip()
        article = Article(title=title[:500], body=body, origin=origin, metadata={"format": "text"})

    # Fields given beside the file win over what was read from it.
    record = {
        "title": article.title,
        "body": article.body,
        "url": overrides.get("url", article.url),
        "source": overrides.get("source", article.source),
        "published_at": overrides.get("published_at", article.published_at),
        "author": article.author,
        "category": article.category,
        "summary": article.summary,
    }
    checked = article_from_record({k: v for k, v in record.items() if v is not None}, item=name, origin=origin)
    if isinstance(checked, Article):
        if "published_at" not in overrides and article.date_source:
            checked.date_source = article.date_source
        checked.metadata = {**article.metadata, **checked.metadata}
    return checked
