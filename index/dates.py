"""Dates as news inputs write them, turned into ISO 8601 strings.

Two jobs: `to_iso` normalizes a value that is meant to be a date (a JSON field, front matter,
a feed entry), and `find_date` spots a date written inside running text (a page's header line,
a byline, a dateline) where most of the words around it are not part of it.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from dateutil import parser as _dateparser

__all__ = ["DateMatch", "find_date", "is_date_line", "to_iso"]

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|sday|nesday|rsday|urday)?\.?,?"
_ORD = r"(?:st|nd|rd|th)?"
_TIME = r"(?:,?\s+(?:at\s+)?\d{1,2}[:.]\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?(?:\s+(?:UTC|GMT|Z))?)?"
_ISO = r"\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
_DAY_MONTH_YEAR = rf"\d{{1,2}}{_ORD}\s+(?:of\s+)?{_MONTH},?\s+\d{{4}}{_TIME}"
_MONTH_DAY_YEAR = rf"{_MONTH}\s+\d{{1,2}}{_ORD},?\s+\d{{4}}{_TIME}"

# Word boundaries keep "2019-2020" or "ISO-8601" fragments from matching as dates.
_DATE_RE = re.compile(
    rf"(?<![\w-])(?:{_WEEKDAY}\s*)?(?P<date>{_ISO}|{_DAY_MONTH_YEAR}|{_MONTH_DAY_YEAR})(?![\w-])",
    re.IGNORECASE,
)
_WEEKDAY_WORD = re.compile(rf"^{_WEEKDAY}$", re.IGNORECASE)

# Two defaults that differ in every field: whatever differs between the two parses was not
# in the input, which is how we tell "2020-01-07" (a date) from "2020-01-07 00:00" (a time).
_DEFAULT_A = datetime(2000, 1, 1, 0, 0, 0)
_DEFAULT_B = datetime(2004, 2, 2, 1, 1, 1)

#: Unix timestamps beyond this are taken as milliseconds (it is in the year 5138 as seconds).
_MS_THRESHOLD = 100_000_000_000


@dataclass(frozen=True, slots=True)
class DateMatch:
    """A date found in text: its ISO form and where it was written."""

    iso: str
    start: int
    end: int


def to_iso(value: Any) -> str | None:
    """ISO 8601 for a date-like value, or None when it holds no full date.

    A value without a time gives `YYYY-MM-DD`; one with a time gives a datetime (with its
    offset when it had one). Values without a year or a day are refused rather than guessed.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return _format(value, has_time=True)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return _from_timestamp(float(value))
    if isinstance(value, str):
        text = value.strip()
        if not text or len(text) > 100:
            return None
        if re.fullmatch(r"\d{9,13}(?:\.\d+)?", text):
            return _from_timestamp(float(text))
        return _parse_text(text)
    return None


def find_date(text: str) -> DateMatch | None:
    """The first date written in `text` (e.g. "Thursday, Sep 11, 2025" or "25 November 2026")."""
    for match in _DATE_RE.finditer(text):
        iso = _parse_text(match.group("date"))
        if iso:
            return DateMatch(iso=iso, start=match.start(), end=match.end())
    return None


def is_date_line(line: str) -> DateMatch | None:
    """The date, when `line` is little more than a date (a page's header date line)."""
    found = find_date(line)
    if found is None:
        return None
    rest = line[: found.start] + " " + line[found.end :]
    words = [w for w in re.findall(r"[^\W\d_]+", rest) if not _WEEKDAY_WORD.match(w)]
    # One stray word ("Updated", "Published") is still a date line; a sentence is not.
    return found if len(words) <= 1 else None


_ISO_FULL = re.compile(rf"{_ISO}")


def _parse_text(text: str) -> str | None:
    if _ISO_FULL.fullmatch(text):
        # The common case in exports; the standard library reads it ~100 times faster.
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            return _format(moment, has_time=len(text) > 10)
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text, flags=re.IGNORECASE)
    cleaned = re.sub(r"\bat\b", " ", cleaned, flags=re.IGNORECASE)
    with warnings.catch_warnings():
        # Unknown zone names ("BST") parse as naive times with a warning; naive is fine here.
        warnings.simplefilter("ignore")
        try:
            first = _dateparser.parse(cleaned, default=_DEFAULT_A)
            second = _dateparser.parse(cleaned, default=_DEFAULT_B)
        except (ValueError, OverflowError, TypeError, LookupError):
            return None
    if first.year != second.year or first.day != second.day or first.month != second.month:
        return None
    if not 1000 <= first.year <= 9999:
        return None
    has_time = (first.hour, first.minute) == (second.hour, second.minute)
    return _format(first, has_time=has_time)


def _format(moment: datetime, *, has_time: bool) -> str:
    if not has_time:
        return moment.date().isoformat()
    return moment.isoformat(timespec="seconds")


def _from_timestamp(seconds: float) -> str | None:
    if seconds > _MS_THRESHOLD:
        seconds /= 1000
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return None
