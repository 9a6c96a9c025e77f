"""Telegram HTML for answers, passages and listings, split below Telegram's message limit.

Every piece of user or article text goes through `html.escape`; the only markup is ours. The
4096 limit is counted as Telegram counts, in UTF-16 code units (an emoji outside the BMP is
two). We count the HTML source, tags and entities included, which is never shorter than the
text Telegram measures after parsing, so a part that fits here fits there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from retrieval.types import Answer, ArticleSummary, Citation, SourceInfo

__all__ = [
    "MAX_MESSAGE_UTF16",
    "back_keyboard",
    "render_answer",
    "render_help",
    "render_latest",
    "render_passage",
    "render_sources",
    "render_start",
    "source_keyboard",
    "split_html",
    "utf16_len",
]

#: Telegram's limit for one message's text, in UTF-16 code units.
MAX_MESSAGE_UTF16 = 4096
#: Longest passage shown on a source button (characters), so the view is one message.
PASSAGE_CHARS = 2500
_BUTTON_LABEL_CHARS = 40
_URL_CHARS = 2000


def utf16_len(text: str) -> int:
    """Length of `text` as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


# ---------------------------------------------------------------------------------------------
# Splitting


@dataclass(slots=True, frozen=True)
class _Unit:
    text: str
    kind: str  # "open", "close", "entity" or "char"
    name: str = ""
    width: int = 1


_TOKEN = re.compile(r"<(/?)([a-zA-Z][\w-]*)[^<>]*>|&(?:#\d+|#[xX][0-9a-fA-F]+|[a-zA-Z]\w*);|[^<&]+|[<&]")


def _units(html: str) -> list[_Unit]:
    units: list[_Unit] = []
    for match in _TOKEN.finditer(html):
        token = match.group(0)
        if match.group(2):
            kind = "close" if match.group(1) else "open"
            units.append(_Unit(token, kind, match.group(2).lower(), utf16_len(token)))
        elif token.startswith("&") and len(token) > 1:
            units.append(_Unit(token, "entity", width=len(token)))
        else:
            units.extend(_Unit(char, "char", width=utf16_len(char)) for char in token)
    return units


def _closers(stack: Sequence[_Unit]) -> str:
    return "".join(f"</{unit.name}>" for unit in reversed(stack))


def _push(stack: list[_Unit], unit: _Unit) -> list[_Unit]:
    if unit.kind == "open":
        return [*stack, unit]
    if unit.kind == "close" and stack and stack[-1].name == unit.name:
        return stack[:-1]
    return stack


def split_html(html: str, *, limit: int = MAX_MESSAGE_UTF16) -> list[str]:
    """Split Telegram HTML into parts of at most `limit` UTF-16 units each.

    Cuts prefer a line break, then a space, and never fall inside a tag or an entity; tags open
    at a cut are closed at the end of one part and reopened at the start of the next, so every
    part is well-formed on its own. Raises ValueError when a single tag cannot fit.
    """
    if limit < 64:
        raise ValueError(f"limit must be at least 64 UTF-16 units. Currently, the limit is {limit}")
    if utf16_len(html) <= limit:
        return [html] if html.strip() else []
    units = _units(html)
    parts: list[str] = []
    stack: list[_Unit] = []
    i = 0
    while i < len(units):
        prefix = "".join(unit.text for unit in stack)
        used = utf16_len(prefix)
        current = list(stack)
        j = i
        newline: tuple[int, list[_Unit], int] | None = None
        space: tuple[int, list[_Unit], int] | None = None
        while j < len(units):
            unit = units[j]
            after = _push(current, unit)
            if used + unit.width + utf16_len(_closers(after)) > limit:
                break
            used += unit.width
            current = after
            j += 1
            if unit.kind == "char" and unit.text == "\n":
                newline = (j, current, used)
            elif unit.kind == "char" and unit.text.isspace():
                space = (j, current, used)
        if j == i:
            raise ValueError(f"cannot split: a tag of {units[i].width} UTF-16 units does not fit in {limit}")
        cut, cut_stack = j, current
        if j < len(units):
            # A paragraph break late enough beats a space; a space beats cutting a word.
            if newline and newline[2] >= limit // 2:
                cut, cut_stack = newline[0], newline[1]
            elif space and space[2] >= limit // 4:
                cut, cut_stack = space[0], space[1]
            elif newline:
                cut, cut_stack = newline[0], newline[1]
            elif space:
                cut, cut_stack = space[0], space[1]
        # Do not end a part on a tag just opened (an empty element); it moves to the next part.
        while cut > i + 1 and units[cut - 1].kind == "open" and cut_stack and cut_stack[-1] is units[cut - 1]:
            cut -= 1
            cut_stack = cut_stack[:-1]
        body = (prefix + "".join(unit.text for unit in units[i:cut])).rstrip()
        part = body + _closers(cut_stack)
        if _visible_text(part).strip():
            parts.append(part)
        stack = cut_stack
        i = cut
        while i < len(units) and units[i].kind == "char" and units[i].text.isspace():
            i += 1
    return parts


def _visible_text(html: str) -> str:
    return re.sub(r"<[^<>]*>", "", html)


# ---------------------------------------------------------------------------------------------
# Pieces


def _date(published_at: str | None) -> str:
    return published_at[:10] if published_at else "date unknown"


def _link(title: str, url: str | None) -> str:
    text = escape(title.strip() or "Untitled")
    # Only web links: a `javascript:` or `tg:` URL from an article must not become a link.
    if url and re.match(r"^https?://", url, re.IGNORECASE) and len(url) <= _URL_CHARS:
        return f'<a href="{escape(url, quote=True)}">{text}</a>'
    return text


def _byline(source: str | None, published_at: str | None) -> str:
    return f"{escape(source or 'unknown source')}, {_date(published_at)}"


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# ---------------------------------------------------------------------------------------------
# Messages


def render_answer(answer: Answer, *, asked_as_of: date | None = None, limit: int = MAX_MESSAGE_UTF16) -> list[str]:
    """The answer with its `[n]` markers, then its numbered sources; one or more messages.

    `asked_as_of` is the day the conversation asks as of (`/asof`), said with every answer so
    a setting made long ago cannot pass unnoticed.
    """
    blocks: list[str] = []
    notes = "\n".join(f"<i>{escape(note)}</i>" for note in answer.notes)
    if asked_as_of is not None:
        notes = "\n".join(filter(None, [f"<i>Asked as of {asked_as_of.isoformat()} (/asof off for today).</i>", notes]))
    if answer.abstained:
        blocks.append(
            "I could not find an answer to that in the news archive.\n"
            "<i>Try rephrasing: name the people, places or events, or ask about a shorter period.</i>"
        )
        if notes:
            blocks.append(notes)
        if answer.closest:
            lines = ["<b>Closest passages</b> (not an answer):"]
            for hit in answer.closest[:3]:
                lines.append(f"• {_link(hit.title, hit.url)} ({_byline(hit.source, hit.published_at)})")
            blocks.append("\n".join(lines))
    else:
        blocks.append(escape(answer.answer.strip()))
        if answer.as_of:
            blocks.append(f"<i>As of {escape(answer.as_of[:10])}.</i>")
        if notes:
            blocks.append(notes)
    if answer.citations:
        lines = ["<b>Sources</b>"]
        # Several quotes from one article share its line: "[1][3] Title (Source, date)".
        by_article: dict[str, list[Citation]] = {}
        for citation in answer.citations:
            by_article.setdefault(citation.article_id, []).append(citation)
        for group in by_article.values():
            first = group[0]
            markers = "".join(f"[{c.n}]" for c in group)
            line = f"{markers} {_link(first.title, first.url)} ({_byline(first.source, first.published_at)})"
            others = [outlet for outlet in first.outlets if outlet and outlet != first.source]
            if others:
                line += f"; also in {escape(', '.join(others))}"
            lines.append(line)
        blocks.append("\n".join(lines))
    return split_html("\n\n".join(blocks), limit=limit)


def _highlight(passage: str, quote: str) -> str:
    """The passage escaped, trimmed around the quote, with the quote in bold."""
    at = passage.find(quote) if quote else -1
    if at < 0:
        return escape(_truncate(passage, PASSAGE_CHARS))
    before, after = passage[:at], passage[at + len(quote) :]
    room = max(PASSAGE_CHARS - len(quote), 0)
    if len(before) > room // 2:
        before = "…" + before[len(before) - room // 2 :].lstrip()
    if len(after) > room // 2:
        after = after[: room // 2].rstrip() + "…"
    return f"{escape(before)}<b>{escape(_truncate(quote, PASSAGE_CHARS))}</b>{escape(after)}"


def render_passage(citation: Citation, *, limit: int = MAX_MESSAGE_UTF16) -> str:
    """What a source button shows: the source, and the passage with the quoted sentence in bold."""
    html = (
        f"<b>[{citation.n}]</b> {_link(citation.title, citation.url)}\n"
        f"<i>{_byline(citation.source, citation.published_at)}</i>\n"
        f"<blockquote expandable>{_highlight(citation.passage or citation.quote, citation.quote)}</blockquote>"
    )
    return split_html(html, limit=limit)[0]


def source_keyboard(answer: Answer, key: str) -> InlineKeyboardMarkup | None:
    """One button per cited source; `key` names the answer in the bot's answer cache."""
    if not answer.citations:
        return None
    titles = [c.title.strip() for c in answer.citations]
    rows = []
    for c, title in zip(answer.citations, titles, strict=True):
        # Quotes from one article would all read alike by title; their own words tell them apart.
        label = f"[{c.n}] “{c.quote.strip()}”" if titles.count(title) > 1 and c.quote.strip() else f"[{c.n}] {title or c.source or 'source'}"
        rows.append([InlineKeyboardButton(_truncate(label, _BUTTON_LABEL_CHARS), callback_data=f"src:{key}:{c.n}")])
    return InlineKeyboardMarkup(rows)


def back_keyboard(key: str) -> InlineKeyboardMarkup:
    """The button under a passage that returns to the answer."""
    return InlineKeyboardMarkup([[InlineKeyboardButton("« Back to the answer", callback_data=f"back:{key}")]])


def render_sources(sources: Sequence[SourceInfo]) -> list[str]:
    """`/sources`: each outlet with its article count and date range (as many messages as it takes)."""
    if not sources:
        return ["The archive is empty: no sources have been indexed yet."]
    lines = [f"<b>Sources in the archive</b> ({len(sources)})"]
    for info in sources:
        lines.append(
            f"• {escape(info.name)}: {info.articles} article{'s' if info.articles != 1 else ''}, "
            f"{_date(info.first_published)} to {_date(info.last_published)}"
        )
    return split_html("\n".join(lines))


def render_latest(articles: Sequence[ArticleSummary], *, topic: str | None = None) -> str:
    """`/latest [topic]`: newest articles, linked, with source and date."""
    about = f" on “{escape(topic)}”" if topic else ""
    if not articles:
        return f"No articles{about} in the archive."
    lines = [f"<b>Latest articles{about}</b>"]
    for article in articles:
        lines.append(f"• {_link(article.title, article.url)} ({_byline(article.source, article.published_at)})")
    return split_html("\n".join(lines))[0]


def render_start(*, bot_name: str, sources: Sequence[SourceInfo], examples: Sequence[str]) -> str:
    """`/start`: what the bot is, what it knows, and questions to try."""
    lines = [
        f"Hi! I am <b>{escape(bot_name)}</b>. I answer questions from a news archive, and every answer "
        "cites the articles it comes from: tap a source button to see the quoted passage.",
    ]
    if sources:
        firsts = [s.first_published for s in sources if s.first_published]
        lasts = [s.last_published for s in sources if s.last_published]
        shown = 10
        names = ", ".join(escape(s.name) for s in sources[:shown])
        if len(sources) > shown:
            names += f" and {len(sources) - shown} more (see /sources)"
        span = f", from {_date(min(firsts))} to {_date(max(lasts))}" if firsts and lasts else ""
        total = sum(s.articles for s in sources)
        lines.append(f"\nI know {total} article{'s' if total != 1 else ''} from {names}{span}.")
    if examples:
        lines.append("\n<b>Try asking:</b>")
        lines.extend(f"• {escape(example)}" for example in examples[:3])
    lines.append("\nSee /help for commands.")
    return split_html("\n".join(lines))[0]


def render_help(*, bot_username: str | None) -> str:
    """`/help`: commands and how the bot behaves in groups."""
    mention = f"@{escape(bot_username)}" if bot_username else "my name"
    return (
        "<b>Commands</b>\n"
        "/ask &lt;question&gt; — ask the news archive\n"
        "/latest [topic] — newest articles, optionally on a topic\n"
        "/sources — which outlets and dates I know\n"
        "/asof &lt;day&gt; — ask as the archive stood on a day (2020-08-22); /asof off for today\n"
        "/new — forget the previous questions (start afresh)\n"
        "/help — this message\n\n"
        "In a private chat, just write your question; follow-ups such as “what about France?” "
        "use your recent questions. In a group, use /ask, mention "
        f"{mention}, or reply to one of my messages.\n"
        "Answers cite their sources as [1], [2]…; tap a source button to read the quoted passage."
    )

