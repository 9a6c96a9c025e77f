"""Scraped news pages (text as a scraper saves it) -> `Article`, with the page chrome removed.

A saved page looks like this, whatever the site:

    Site Name                      <- header: site name, maybe a tagline, the page's date line
    Tagline.
    Thursday, Sep 11, 2025
    Title of the story             <- the title, written twice (page heading and article heading)
    Title of the story
    Standfirst without a full stop <- optional standfirst
    Body paragraph.                <- body (maybe a byline or a dateline near the top)
    ...
    #ANT / Newsletter / 0:00 / ×   <- widget lines
    Related Articles               <- a list heading, then a run of other stories' headlines
    Headline one
    Headline two

Every rule below is about that shape (repeated lines, runs of short lines, lines without a
sentence's punctuation), never about one site's words, so other sites' pages parse too.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from index.dates import find_date, is_date_line, to_iso
from index.errors import PageParseError
from index.models import Article

__all__ = ["looks_like_scraped_page", "parse_scraped_page", "take_byline"]

# How far down the page the header and the title may be (non-blank lines).
_HEADER_SCAN = 12
# A title's repeat comes within this many non-blank lines of the first copy.
_REPEAT_WINDOW = 3
# Longer than this, a line is a paragraph, not a headline in a list.
_HEADLINE_MAX_CHARS = 300
# Longer than this, a glued line under a heading is a paragraph, not a link in a list.
_LIST_ITEM_MAX_CHARS = 200
# Lines at least this long are taken as paragraphs when judging how a page separates them.
_PARAGRAPH_MIN_CHARS = 80
# A short line: a widget label ("Close", "Newsletter") or a list heading ("Read next").
_SHORT_MAX_WORDS = 6
_SHORT_MAX_CHARS = 50
_STANDFIRST_MAX_CHARS = 400
_BYLINE_MAX_CHARS = 160

# What a sentence (body paragraph) ends with; headlines and widgets mostly end without it.
_SENTENCE_END = re.compile(r"[.!?…;][\"'”’)\]]*$|[\"”’]$")
_BYLINE_START = re.compile(r"^(?:by|written by|words by)\s+", re.IGNORECASE)
_BYLINE_LABEL = re.compile(r"^(?:published|posted|updated|last updated|first published)\b", re.IGNORECASE)
# "LONDON, Jan 7 (Reuters) -": a place in capitals, a date, an optional agency, a dash.
_DATELINE = re.compile(r"^[A-Z][A-Z .'’-]{1,40},\s*(?P<rest>.{6,60}?)\s*(?:\([^)]{1,40}\))?\s*[-–—]\s")
_MONTH_DAY = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}\b|\b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b",
    re.IGNORECASE,
)
_AUTHOR_END = re.compile(r"\s*(?:[|·•,;–—]|\bon\b|\bupdated\b|\bpublished\b|$)", re.IGNORECASE)


def looks_like_scraped_page(text: str) -> bool:
    """Whether `text` has the shape of a saved page: a header, then a title written twice, or
    a short header with a date line followed by a headline or ending in page chrome."""
    lines = _lines(text)
    nonblank = [i for i, line in enumerate(lines) if line]
    title = _find_repeated_title(lines, nonblank)
    if title is not None:
        first, _ = title
        header = [lines[i] for i in nonblank if i < first]
        return 1 <= len(header) <= 6
    date_at = _find_header_date(lines, nonblank[:4])
    if date_at is None or nonblank.index(date_at) == 0:
        return False
    above = [lines[i] for i in nonblank if i < date_at]
    below = [lines[i] for i in nonblank if i > date_at]
    if len(below) < 2 or any(len(line.split()) > 8 for line in above):
        return False
    # After a page's date line comes a headline; after an article's date line, its text.
    headline_next = len(below[0]) <= 200 and not _SENTENCE_END.search(below[0])
    return headline_next or _chrome_start(lines, date_at + 1) < len(lines)


def parse_scraped_page(text: str, *, origin: str) -> Article:
    """Parse a saved news page into an article: site, date, title once, standfirst, clean body.

    Raises `PageParseError` when no title and body can be told apart.
    """
    lines = _lines(text)
    nonblank = [i for i, line in enumerate(lines) if line]
    if len(nonblank) < 2:
        raise PageParseError(origin, "page has no title and body")

    header, title_at, content_from = _split_header(lines, nonblank)
    title = lines[title_at]
    site, header_date, tagline = _read_header(header)

    end = _chrome_start(lines, content_from)
    body_lines = _drop_inline_chrome(lines[content_from:end])
    body_lines = [line for line in body_lines if line]
    # A third copy of the title (e.g. an image caption) adds nothing.
    body_lines = [line for line in body_lines if _norm(line) != _norm(title)]

    author, byline_date, body_lines = take_byline(body_lines)
    if byline_date is None and body_lines:
        byline_date = _dateline_date(body_lines[0], reference=header_date)

    summary = _standfirst(lines, content_from, end, body_lines)
    if not body_lines:
        raise PageParseError(origin, "page has a title but no body text")

    metadata: dict[str, object] = {"format": "scraped_page"}
    if tagline:
        metadata["tagline"] = tagline
    if header_date and byline_date:
        # The header date is the day the page was saved; keep it, it is not the story's date.
        metadata["page_date"] = header_date
    published_at, date_source = (byline_date, "byline") if byline_date else (header_date, "header" if header_date else None)

    return Article(
        title=title,
        body="\n\n".join(body_lines),
        source=site,
        published_at=published_at,
        date_source=date_source,  # type: ignore[arg-type]
        author=author,
        summary=summary,
        origin=origin,
        metadata=metadata,
    )


# --- header and title --------------------------------------------------------------------


def _split_header(lines: list[str], nonblank: list[int]) -> tuple[list[str], int, int]:
    """(header lines, index of the title line, index where the content starts)."""
    repeated = _find_repeated_title(lines, nonblank)
    if repeated is not None:
        first, second = repeated
        return [lines[i] for i in nonblank if i < first], first, second + 1
    # No repeated title: the title is the first line after the header date line.
    date_at = _find_header_date(lines, nonblank[:5])
    if date_at is not None:
        after = [i for i in nonblank if i > date_at]
        if after:
            return [lines[i] for i in nonblank if i <= date_at], after[0], after[0] + 1
    return [], nonblank[0], nonblank[0] + 1


def _find_repeated_title(lines: list[str], nonblank: list[int]) -> tuple[int, int] | None:
    scan = nonblank[:_HEADER_SCAN]
    for k, i in enumerate(scan):
        line = lines[i]
        if len(line) < 8 or len(line.split()) < 2 or is_date_line(line):
            continue
        for j in nonblank[k + 1 : k + 1 + _REPEAT_WINDOW]:
            if _norm(lines[j]) == _norm(line):
                return i, j
    return None


def _find_header_date(lines: list[str], candidates: list[int]) -> int | None:
    for i in candidates:
        if is_date_line(lines[i]):
            return i
    return None


def _read_header(header: list[str]) -> tuple[str | None, str | None, str | None]:
    """(site name, header date, tagline) from the lines above the title."""
    site = date = tagline = None
    for position, line in enumerate(header):
        found = is_date_line(line)
        if found and date is None:
            date = found.iso
        elif position == 0 and len(line.split()) <= 8:
            site = line
        elif tagline is None and not found:
            tagline = line
    return site, date, tagline


# --- page chrome -------------------------------------------------------------------------


def _chrome_start(lines: list[str], content_from: int) -> int:
    """Index of the first line of the trailing chrome (len(lines) when there is none).

    Walking up from the end, a line is chrome when it is blank, short (a widget or a list
    heading), headline-like (no sentence ending), next to such a headline, or in a list under a
    heading. The first real paragraph met stops the walk.
    """
    in_list = _list_run_lines(lines, content_from) | _headed_list_lines(lines, content_from)
    start = len(lines)
    for i in range(len(lines) - 1, content_from - 1, -1):
        line = lines[i]
        if not line or _is_short(line) or i in in_list or _is_headline_like(line):
            start = i
            continue
        break
    while start < len(lines) and not lines[start]:
        start += 1
    return start


def _list_run_lines(lines: list[str], content_from: int) -> set[int]:
    """Indices of lines in a list of headlines although they end like a sentence.

    Some headlines carry a full stop ("Profits fall. Shares follow."); such a line is still a
    headline when it sits directly next to another headline-like line of some length. A body
    paragraph glued only to widget labels ("Share", "0:00") is not pulled in.
    """
    result: set[int] = set()
    for i in range(content_from, len(lines)):
        line = lines[i]
        if not line or len(line) > _HEADLINE_MAX_CHARS or not _SENTENCE_END.search(line):
            continue
        neighbours = [lines[j] for j in (i - 1, i + 1) if content_from <= j < len(lines)]
        if any(n and not _is_short(n) and _is_headline_like(n) for n in neighbours):
            result.add(i)
    return result


def _headed_list_lines(lines: list[str], content_from: int) -> set[int]:
    """Indices of lines in a list under a heading ("You may also like"), full stops or not.

    On a page whose paragraphs are set off by blank lines, a heading followed by a run of
    short lines glued together is a list of links, whatever punctuation the items carry.
    Where paragraphs are glued too, the shape says nothing and this finds nothing.
    """
    if not _blank_separated(lines, content_from):
        return set()
    result: set[int] = set()
    i = content_from
    while i < len(lines):
        if not (lines[i] and _is_short(lines[i]) and any(ch.isalpha() for ch in lines[i])):
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not lines[j]:
            j += 1
        k = j
        while k < len(lines) and lines[k] and len(lines[k]) <= _LIST_ITEM_MAX_CHARS:
            k += 1
        if k - j >= 2:
            result.update(range(j, k))
        i = max(k, i + 1)
    return result


def _blank_separated(lines: list[str], content_from: int) -> bool:
    """Whether the page's long paragraphs are followed by a blank line (most of them)."""
    long_lines = [i for i in range(content_from, len(lines)) if len(lines[i]) >= _PARAGRAPH_MIN_CHARS]
    if not long_lines:
        return False
    followed = sum(1 for i in long_lines if i + 1 >= len(lines) or not lines[i + 1])
    return followed * 2 > len(long_lines)


def _drop_inline_chrome(lines: list[str]) -> list[str]:
    """Remove widget lines and headline lists (under a heading) from inside the body."""
    # run[i]: how many headline-like lines follow on from line i without a blank line.
    run = [0] * (len(lines) + 1)
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i]
        run[i] = run[i + 1] + 1 if line and (_is_headline_like(line) or _is_short(line)) else 0
    kept: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line and _is_widget(line):
            i += 1
            continue
        if line and _is_list_heading(line):
            j = i + 1
            while j < len(lines) and not lines[j]:
                j += 1
            if run[j] >= 3:
                i = j + run[j]
                continue
        kept.append(line)
        i += 1
    return kept


def _is_widget(line: str) -> bool:
    """A player, share or sign-up control: no words at all, or one bare label."""
    if not any(ch.isalpha() for ch in line):
        return True
    tokens = line.split()
    return len(tokens) == 1 and len(line) <= 20 and not _SENTENCE_END.search(line)


def _is_short(line: str) -> bool:
    if not any(ch.isalpha() for ch in line):
        return True
    return len(line) <= _SHORT_MAX_CHARS and len(line.split()) <= _SHORT_MAX_WORDS and not _SENTENCE_END.search(line)


def _is_list_heading(line: str) -> bool:
    # Inside the body, a short line ending in a colon ("The demands are:") introduces the
    # story's own list; only a bare heading ("Read next") introduces other stories.
    return _is_short(line) and any(ch.isalpha() for ch in line) and not line.endswith(":")


def _is_headline_like(line: str) -> bool:
    return len(line) <= _HEADLINE_MAX_CHARS and not _SENTENCE_END.search(line)


# --- byline, dateline, standfirst --------------------------------------------------------


def take_byline(body: list[str]) -> tuple[str | None, str | None, list[str]]:
    """(author, byline date, paragraphs without the byline) from the top of an article's text.

    A byline is a short line near the top that starts with "By", or carries a date with a label
    ("Published ...") or with few other words ("Priya Raman | 24 November 2026").
    """
    author = date = None
    remove: set[int] = set()
    for k, line in enumerate(body[:4]):
        if len(line) > _BYLINE_MAX_CHARS:
            continue
        found = find_date(line)
        by = _BYLINE_START.match(line)
        if by:
            rest = line[by.end() :]
            cut = _AUTHOR_END.search(rest)
            author = (rest[: cut.start()] if cut else rest).strip() or None
            remove.add(k)
        if found and (by or _BYLINE_LABEL.match(line) or _mostly_date(line, found.start, found.end)):
            date = date or found.iso
            remove.add(k)
    return author, date, [line for k, line in enumerate(body) if k not in remove]


def _mostly_date(line: str, start: int, end: int) -> bool:
    rest = line[:start] + line[end:]
    # "Priya Raman | 24 November 2026" is a byline; "On 7 January 2020 it snowed." is text.
    return len(re.findall(r"[^\W\d_]+", rest)) <= 3 and not _SENTENCE_END.search(line)


def _dateline_date(first_paragraph: str, *, reference: str | None) -> str | None:
    """The date of a wire dateline ("KINGSTON, March 2 (Agency) - ...").

    Datelines often leave out the year; it is then the year of the page's own date (or the
    year before, when that would put the story after the page was saved).
    """
    match = _DATELINE.match(first_paragraph)
    if not match:
        return None
    rest = match.group("rest")
    found = find_date(rest)
    if found:
        return found.iso
    if reference is None:
        return None
    day = _MONTH_DAY.search(rest)
    if not day:
        return None
    ref = date.fromisoformat(reference[:10])
    for year in (ref.year, ref.year - 1):
        iso = to_iso(f"{day.group(0)} {year}")
        if iso and iso <= reference[:10]:
            return iso
    return None


def _standfirst(lines: list[str], content_from: int, end: int, body: list[str]) -> str | None:
    """The standfirst: a first paragraph that reads as a summary, not as the story's lede.

    It either lacks a sentence ending, or it sits directly on top of the next paragraph while
    the rest of the page separates paragraphs with blank lines.
    """
    if len(body) < 2:
        return None
    first = body[0]
    if len(first) > _STANDFIRST_MAX_CHARS or len(first.split()) < 4:
        return None
    if not _SENTENCE_END.search(first):
        return first
    region = lines[content_from:end]
    try:
        at = next(i for i, line in enumerate(region) if line == first)
    except StopIteration:
        return None
    glued = at + 1 < len(region) and region[at + 1] == body[1]
    blank_separated = sum(1 for line in region if not line) >= len(body) // 2
    return first if glued and blank_separated else None


# --- text helpers ------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text).replace("\u00a0", " ").replace("\ufeff", "")
    return [re.sub(r"[ \t\u200b]+", " ", line).strip() for line in text.splitlines()]


def _norm(line: str) -> str:
    return re.sub(r"\W+", " ", line.casefold()).strip()
