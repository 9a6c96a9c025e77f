"""When a question is about: recency words and date windows written in it.

"latest", "recent", "this week", "today" ask for fresh news: they turn on a recency decay (a
preference, not a filter, so older evidence can still answer and be flagged as stale). A window
the question spells out ("in October 2023", "since 1 November", "between May and July 2019")
becomes a date filter. Both are relative to `as_of`, the day the question is asked.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from retrieval.text import WEEKDAYS

__all__ = ["EMPTY_WINDOW_NOTE", "TimeFrame", "asked_period", "parse_timeframe", "published_day", "speaks_of", "years_named"]

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<{0}>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_YEAR = r"(?P<{0}>(?:19|20)\d\d)"


def _date_expr(tag: str) -> str:
    """A date as questions write it: "1 November", "November 1", "November 2019", "2019", "2019-11-01"."""
    m, d, y = f"{tag}m", f"{tag}d", f"{tag}y"
    return (
        rf"(?:(?P<{tag}iso>(?:19|20)\d\d-\d\d-\d\d)"
        rf"|(?P<{d}>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH.format(m)}(?:,?\s+{_YEAR.format(y)})?"
        rf"|{_MONTH.format(m + '2')}\s+(?P<{d}2>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+{_YEAR.format(y + '2')})?"
        rf"|{_MONTH.format(m + '3')}(?:,?\s+(?:of\s+)?{_YEAR.format(y + '3')})?"
        rf"|{_YEAR.format(y + '4')})"
    )


_A, _B = _date_expr("a"), _date_expr("b")
# Order matters: ranges before single dates, so "between May and July 2019" is one window.
_RANGE = re.compile(rf"\b(?:between|from)\s+{_A}\s+(?:and|to|until|till|-|–)\s+{_B}(?![\w-])", re.I)
_SINCE = re.compile(rf"\b(?:since|after|from)\s+(?:the\s+start\s+of\s+)?{_A}(?![\w-])", re.I)
_UNTIL = re.compile(rf"\b(?:before|until|till|by)\s+(?:the\s+end\s+of\s+)?{_A}(?![\w-])", re.I)
_IN = re.compile(rf"\b(?:in|during|on|throughout)\s+(?:(?:early|late|mid)[\s-]+)?{_A}(?![\w-])", re.I)
# A month and year naming an event ("the June 2020 knife attack", "Chile's October 2019
# protests"): when it happened, so a window too. A year alone does not make one ("the 2019 Tour
# de France", "At the 1972 Convention": the edition's reports may come from any time), nor a
# month without a year ("the March on Washington", "the May government").
_EVENT_DATE = re.compile(
    rf"(?:\b(?:the|a|an|its|their|his|her|this|that)|['’]s)\s+(?:(?:early|late|mid)[\s-]+)?"
    rf"(?:(?P<ad>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH.format('am')},?\s+{_YEAR.format('ay')}"
    rf"|{_MONTH.format('am2')}\s+(?:(?P<ad2>\d{{1,2}})(?:st|nd|rd|th)?,?\s+)?{_YEAR.format('ay2')})(?![\w-])",
    re.I,
)
# "last year" is the calendar year before; "over the last year" is a trailing span (recency).
_RELATIVE_WINDOW = re.compile(r"(?<!the )\b(?P<which>last|previous)\s+(?P<unit>month|year)\b", re.I)

# Words asking for fresh news, and how far back each one looks (days) for the stale warning.
_RECENCY = [
    (re.compile(r"\b(?:today|tonight|this (?:morning|afternoon|evening))\b", re.I), 1),
    (re.compile(r"\byesterday\b", re.I), 2),
    (re.compile(r"\b(?:this|last|past) (?:week|weekend|few days)\b", re.I), 7),
    (re.compile(rf"\b(?:on|this|last|since) (?:{WEEKDAYS})\b", re.I), 7),
    (re.compile(r"\bthis month\b", re.I), 31),
    (re.compile(r"\b(?:latest|newest|most recent|recent(?:ly)?|lately|currently|right now|now|so far|ongoing|at the moment|these days)\b", re.I), 31),
    (re.compile(r"\b(?:this year|the (?:last|past) (?:year|12 months))\b", re.I), 366),
    (re.compile(r"\bthe (?:last|past) month\b", re.I), 31),
]


# A year standing alone ("in 2021", "2021's"), not part of a number or an id ("2021-22", "B2021").
_YEAR_WORD = re.compile(r"(?<![\w-])((?:19|20)\d\d)(?![\w-])")


def years_named(text: str) -> set[int]:
    """The years `text` names."""
    return {int(y) for y in _YEAR_WORD.findall(text)}


@dataclass(slots=True, frozen=True)
class TimeFrame:
    """What the question says about time."""

    #: A window written in the question, applied as a date filter (inclusive bounds).
    since: date | None = None
    until: date | None = None
    #: The question asks for fresh news: favour recent articles.
    recent: bool = False
    #: How far back the recency words look, in days (for the stale-evidence warning).
    window_days: int | None = None
    #: The words that set the frame, for notes ("this week", "in October 2019").
    phrase: str | None = None

    @property
    def has_window(self) -> bool:
        return self.since is not None or self.until is not None


def parse_timeframe(question: str, *, as_of: date) -> TimeFrame:
    """Recency cues and an explicit date window in `question`, relative to `as_of`."""
    recent, window_days, recency_phrase = False, None, None
    for pattern, days in _RECENCY:
        found = pattern.search(question)
        if found:
            recent = True
            window_days = days if window_days is None else min(window_days, days)
            recency_phrase = recency_phrase or found.group(0)

    since = until = None
    phrase = None
    # A month without a year ("in September") belongs to the year the question names elsewhere
    # ("Hong Kong's 2019 protests"), else to the last such month before `as_of`.
    years = years_named(question)
    default_year = years.pop() if len(years) == 1 else None
    match = _RANGE.search(question)
    if match:
        second = _bounds(match, "b", as_of=as_of, default_year=default_year)
        first = _bounds(match, "a", as_of=as_of, default_year=second[1].year if second else default_year)
        if first and second:
            since, until, phrase = first[0], second[1], match.group(0)
    if phrase is None:
        for pattern, side in ((_SINCE, "since"), (_UNTIL, "until"), (_IN, "in"), (_EVENT_DATE, "in")):
            match = pattern.search(question)
            if not match:
                continue
            bounds = _bounds(match, "a", as_of=as_of, default_year=default_year)
            if not bounds:
                continue
            if side == "since":
                since = bounds[0]
            elif side == "until":
                until = bounds[1] if "end of" in match.group(0).lower() else bounds[0] - timedelta(days=1)
            else:
                since, until = bounds
            phrase = match.group(0)
            break
    if phrase is None:
        match = _RELATIVE_WINDOW.search(question)
        if match:
            if match.group("unit").lower() == "year":
                since, until = date(as_of.year - 1, 1, 1), date(as_of.year - 1, 12, 31)
            else:
                first_of_month = as_of.replace(day=1)
                last_month_end = first_of_month - timedelta(days=1)
                since, until = last_month_end.replace(day=1), last_month_end
            phrase = match.group(0)
    if since and until and since > until:
        since, until = until, since
    return TimeFrame(since=since, until=until, recent=recent, window_days=window_days, phrase=phrase or recency_phrase)


def _bounds(match: re.Match[str], tag: str, *, as_of: date, default_year: int | None = None) -> tuple[date, date] | None:
    """First and last day of the date expression captured under `tag`."""
    groups = match.groupdict()
    iso = groups.get(f"{tag}iso")
    if iso:
        try:
            day = date.fromisoformat(iso)
        except ValueError:
            return None
        return day, day
    for suffix in ("", "2", "3"):
        month_name = groups.get(f"{tag}m{suffix}")
        if not month_name:
            continue
        month = _MONTHS[month_name.lower().rstrip(".")[:3] if month_name.lower()[:4] != "sept" else "sep"]
        year_text = groups.get(f"{tag}y{suffix}")
        day_text = groups.get(f"{tag}d{suffix}") if suffix != "3" else None
        if suffix == "2":
            day_text = groups.get(f"{tag}d2")
        if year_text or default_year:
            year = int(year_text) if year_text else int(default_year)  # type: ignore[arg-type]
        else:
            # "in October" means the last October up to the day the question is asked.
            year = as_of.year if month <= as_of.month else as_of.year - 1
        last_day = calendar.monthrange(year, month)[1]
        if day_text:
            day_number = int(day_text)
            if not 1 <= day_number <= last_day:
                return None
            if not year_text and not default_year and date(year, month, day_number) > as_of:
                year -= 1
                last_day = calendar.monthrange(year, month)[1]
                if day_number > last_day:
                    return None
            day = date(year, month, day_number)
            return day, day
        return date(year, month, 1), date(year, month, last_day)
    year_text = groups.get(f"{tag}y4")
    if year_text:
        year = int(year_text)
        return date(year, 1, 1), date(year, 12, 31)
    return None


#: Said when the archive holds nothing from the window a question names.
EMPTY_WINDOW_NOTE = "The archive has no articles from the period asked about ({phrase})."

#: Days after a window in which a report of it may still appear ("sentenced on Friday" is
#: reported on Monday, a verdict's analysis weeks later).
REPORT_GRACE_DAYS = 30


def published_day(published_at: str | None) -> date | None:
    """The day of an ISO publication date or timestamp; None when it is missing or unreadable."""
    if not published_at:
        return None
    try:
        return date.fromisoformat(published_at[:10])
    except ValueError:
        return None


def asked_period(frame: TimeFrame, question: str) -> TimeFrame:
    """The time `question` is about: its window, else the years it names ("the 2019 Tour de France").

    A year naming an edition or an event is no search window (a later report may tell of it,
    and it must still be found), but evidence should speak of that year.
    """
    if frame.has_window:
        return frame
    years = years_named(question)
    if not years:
        return frame
    first, last = min(years), max(years)
    return TimeFrame(since=date(first, 1, 1), until=date(last, 12, 31), phrase=str(first) if first == last else f"{first}-{last}")


def speaks_of(frame: TimeFrame, *, published_at: str | None, text: str) -> bool:
    """Whether evidence published on `published_at` (ISO), reading `text`, can be about `frame`'s window.

    It can when it was published in the window or up to `REPORT_GRACE_DAYS` after it, or when
    its text names the window: one of its years ("the 1979 revolution", recounted in 2019), or,
    for a window of a month or less, its month in a report of that year ("inducted in July",
    written in October). A question without a window is about any time.
    """
    if not frame.has_window:
        return True
    since, until = frame.since, frame.until
    published = published_day(published_at)
    if published is not None:
        after_start = since is None or published >= since
        before_end = until is None or published <= until + timedelta(days=REPORT_GRACE_DAYS)
        if after_start and before_end:
            return True
    named = years_named(text)
    first = since.year if since else min(named, default=0)
    last = until.year if until else max(named, default=0)
    if any(first <= year <= last for year in named):
        return True
    if since and until and (until - since).days <= 31 and published is not None and first <= published.year <= last:
        # Every spelling of the month ("Sept."); a May window meets the verb "may" too, which
        # errs on the side of answering.
        words = [name for name, number in _MONTHS.items() if number in {since.month, until.month}]
        return re.search(rf"\b(?:{'|'.join(words)})\b", text, re.I) is not None
    return False
