"""HTML news pages -> `Article`, through trafilatura (main text, title, date, author, site)."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import trafilatura

from index.clean import take_byline
from index.models import Article

__all__ = ["article_from_html", "fragment_text"]

# Only dates the page states in its metadata (meta tags, JSON-LD, <time>): trafilatura's
# extensive search also guesses from running text and copyright lines, which is how a 2019
# story ends up dated to the year of its footer.
_DATE_PARAMS = {"extensive_search": False, "original_date": True}
_MIN_WORDS = 5


def article_from_html(html: str | bytes, *, origin: str, url: str | None = None) -> Article | None:
    """The article in an HTML page, or None when the page has no main text to extract."""
    try:
        doc = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            date_extraction_params=_DATE_PARAMS,
        )
    except Exception:  # noqa: BLE001 - a page trafilatura cannot parse is just a page without text
        return None
    if doc is None or not (doc.text or "").strip():
        return None

    paragraphs = [line.strip() for line in doc.text.splitlines() if line.strip()]
    title = (doc.title or "").strip()
    # trafilatura keeps the page's <h1> as the first line of the text; the title holds it.
    if title and paragraphs and paragraphs[0].casefold() == title.casefold():
        paragraphs = paragraphs[1:]
    author_in_text, date_in_text, paragraphs = take_byline(paragraphs)
    # A page whose "main text" is a word or two (a login wall, an empty template) has no article.
    if sum(len(p.split()) for p in paragraphs) < _MIN_WORDS:
        return None

    if doc.date:
        published_at, date_source = doc.date, "metadata"
    elif date_in_text:
        published_at, date_source = date_in_text, "byline"
    else:
        published_at, date_source = None, None

    metadata: dict[str, object] = {"format": "html"}
    if doc.tags:
        metadata["tags"] = list(doc.tags)
    if doc.language:
        metadata["language"] = doc.language
    # trafilatura names the site after the host when the page names none; keeping the host
    # lets a caller with a better name (a feed's title) tell the two apart.
    hostname = doc.hostname or (urlsplit(url).netloc if url else None)
    if hostname:
        metadata["hostname"] = hostname
    body = "\n\n".join(paragraphs)
    # `summary` is a standfirst the body also holds; a meta description the page never
    # shows is kept, but as metadata.
    summary = None
    if doc.description:
        if doc.description.strip() in body:
            summary = doc.description.strip()
        else:
            metadata["description"] = doc.description.strip()
    return Article(
        title=title or paragraphs[0][:120],
        body=body,
        url=url or doc.url or None,
        source=doc.sitename or doc.hostname or None,
        published_at=published_at,
        date_source=date_source,  # type: ignore[arg-type]
        author=doc.author or author_in_text,
        category=", ".join(doc.categories) if doc.categories else None,
        summary=summary,
        origin=origin,
        metadata=metadata,
    )


def fragment_text(fragment: str) -> str:
    """The text of an HTML fragment (a feed summary, a CMS body), one blank line between blocks."""
    text = re.sub(r"(?i)<br\s*/?>", "\n", fragment)
    text = re.sub(r"(?i)</(?:p|div|li|h[1-6]|blockquote|tr|section|article)>", "\n\n", text)
    # Bounded and excluding "<": linear time even on "<<<<..." input.
    text = re.sub(r"<[^<>]{1,4000}>", "", text)
    text = html.unescape(text).replace("\u00a0", " ")
    blocks = [re.sub(r"[ \t]+", " ", block).strip() for block in re.split(r"\n[ \t]*\n", text)]
    return "\n\n".join(block for block in blocks if block)
