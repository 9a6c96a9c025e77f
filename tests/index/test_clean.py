"""The scraped-page cleaner on the bundled seed page and on variants from other (invented) sites."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.clean import looks_like_scraped_page, parse_scraped_page
from index.errors import PageParseError

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "corpus" / "london-daily-iraq.txt"
PAGES = ROOT / "tests" / "fixtures" / "pages"

SEED_TITLE = "Future of US military presence in Iraq in question amid confusion in Washington"
CHROME_LINES = {"#ANT", "Newsletter", "Related Articles", "0:00", "Close", "×"}


def _related_headlines(text: str) -> list[str]:
    """The seed page's related list, read from the page itself: the lines after the last widget."""
    lines = [line.strip() for line in text.splitlines()]
    start = max(i for i, line in enumerate(lines) if line == "Close") + 1
    return [line for line in lines[start:] if len(line) > 3]


@pytest.fixture(scope="module")
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


def test_seed_page_header_title_and_dates(seed_text: str) -> None:
    article = parse_scraped_page(seed_text, origin=str(SEED))
    assert article.source == "London Daily"
    assert article.published_at == "2025-09-11"
    assert article.date_source == "header"
    assert article.title == SEED_TITLE
    assert article.body.count(SEED_TITLE) == 0
    assert article.metadata["tagline"] == "Focus on the big picture."
    assert article.origin == str(SEED)


def test_seed_page_standfirst_and_body(seed_text: str) -> None:
    article = parse_scraped_page(seed_text, origin="seed")
    assert article.summary is not None and article.summary.startswith("US letter said troops would begin")
    assert article.body.startswith(article.summary + "\n\n")
    assert "Milley" in article.body
    assert article.body.endswith("no partners willing to help us root it out.”")
    paragraphs = article.body.split("\n\n")
    assert len(paragraphs) == 35  # the standfirst and 34 paragraphs
    assert not CHROME_LINES & set(paragraphs)


def test_seed_page_keeps_no_related_headline(seed_text: str) -> None:
    article = parse_scraped_page(seed_text, origin="seed")
    related = _related_headlines(seed_text)
    assert len(related) == 50
    assert "Larry Ellison becomes the richest man" not in article.body
    leaked = [headline for headline in related if headline in article.body]
    assert leaked == []


@pytest.mark.parametrize(
    ("site", "date_line", "heading", "iso"),
    [
        ("The Northern Post", "11 September 2025", "You may also like", "2025-09-11"),
        ("Daily Ledger", "2025-09-11", "More from Daily Ledger", "2025-09-11"),
        ("Coast FM News", "Thu 11 Sep 2025", "Read next", "2025-09-11"),
        ("Evening Record", "September 11th, 2025", "Most read", "2025-09-11"),
    ],
)
def test_seed_page_rewritten_as_other_sites(seed_text: str, site: str, date_line: str, heading: str, iso: str) -> None:
    """Same page, other site name, date format and list heading: the rules are structural."""
    text = (
        seed_text.replace("London Daily", site, 1)
        .replace("Thursday, Sep 11, 2025", date_line, 1)
        .replace("Related Articles", heading, 1)
        .replace("Focus on the big picture.", "All the news that fits", 1)
    )
    assert looks_like_scraped_page(text)
    article = parse_scraped_page(text, origin="variant")
    assert (article.source, article.published_at, article.date_source) == (site, iso, "header")
    assert article.title == SEED_TITLE
    assert "Milley" in article.body
    assert heading not in article.body
    assert not [h for h in _related_headlines(seed_text) if h in article.body]


def test_other_site_day_month_year_and_widgets_glued_to_body() -> None:
    path = PAGES / "harbour-gazette-ferry.txt"
    article = parse_scraped_page(path.read_text(encoding="utf-8"), origin=str(path))
    assert article.source == "The Harbour Gazette"
    assert (article.published_at, article.date_source) == ("2026-11-25", "header")
    assert article.title == "Night ferry to the islands returns after a two-year pause"
    assert article.summary == "Operators say the late sailing will run four nights a week through the winter"
    # The last paragraph sits right on top of the widget lines; it is story, not chrome.
    assert article.body.endswith("whether to keep the service through the summer.")
    paragraphs = article.body.split("\n\n")
    assert len(paragraphs) == 6
    for chrome in ("Share", "Listen", "0:00", "Subscribe", "More from", "✕", "Lighthouse keepers", "mackerel", "Harbour café"):
        assert chrome not in article.body


def test_byline_date_beats_header_and_list_under_read_next() -> None:
    path = PAGES / "metro-ledger-library.txt"
    article = parse_scraped_page(path.read_text(encoding="utf-8"), origin=str(path))
    assert article.source == "METRO LEDGER"
    assert (article.published_at, article.date_source) == ("2026-11-24", "byline")
    assert article.metadata["page_date"] == "2026-11-25"
    assert article.author == "Priya Raman"
    # No standfirst: the first paragraph is the lede, a full sentence set off by blank lines.
    assert article.summary is None
    assert article.body.startswith("The central library will stay open until midnight")
    assert "By Priya Raman" not in article.body
    for chrome in ("Read next", "Tram line four", "three thousand trees", "Museum night", "Bakery strike"):
        assert chrome not in article.body
    assert article.body.endswith("the café will close at eight as before.")


def test_title_once_dateline_without_year_and_list_inside_body() -> None:
    path = PAGES / "valley-courier-bridge.txt"
    text = path.read_text(encoding="utf-8")
    assert looks_like_scraped_page(text)
    article = parse_scraped_page(text, origin=str(path))
    assert article.source == "Valley Courier"
    assert article.title == "Old stone bridge reopens to walkers after flood repairs"
    # "KINGSTON, March 2 (Valley Wire) -" has no year: it is taken from the page's date.
    assert (article.published_at, article.date_source) == ("2025-03-02", "byline")
    assert article.metadata["page_date"] == "2025-03-03"
    for chrome in ("Advertisement", "Most popular", "Farm shop", "bus timetable", "school to expand"):
        assert chrome not in article.body
    assert "Cyclists will still have to dismount" in article.body
    assert article.body.endswith("national flood recovery fund.")


def test_plain_article_is_not_a_scraped_page() -> None:
    assert not looks_like_scraped_page((PAGES / "plain-note.txt").read_text(encoding="utf-8"))
    assert not looks_like_scraped_page("Short headline\n\n2020-01-07\n\nThe body is a full sentence here.\n\nMore of it.")


def test_page_without_body_is_refused() -> None:
    with pytest.raises(PageParseError) as caught:
        parse_scraped_page("Some Site\nMonday, Jan 6, 2020\nA title alone\nA title alone\n", origin="empty-page.txt")
    assert caught.value.origin == "empty-page.txt"
    with pytest.raises(PageParseError):
        parse_scraped_page("   \n\n", origin="blank.txt")


def test_list_items_with_full_stops_under_a_heading_and_a_timed_byline() -> None:
    path = PAGES / "northern-post-minister.txt"
    article = parse_scraped_page(path.read_text(encoding="utf-8"), origin=str(path))
    assert article.source == "Northern Post"
    assert (article.published_at, article.date_source, article.author) == ("2026-11-24T18:05:00+00:00", "byline", "Jo Park")
    assert article.metadata["page_date"] == "2026-11-25"
    # The related items end with full stops like sentences; being a glued run under a heading
    # on a page that separates its paragraphs with blank lines gives them away.
    assert article.body.split("\n\n") == [
        "The housing minister resigned on Tuesday night after the statistics office said the figures she quoted were wrong.",
        "She had told parliament that 40,000 homes were built last year; the real number was 28,000.",
        "Her deputy will take over the department until a new minister is appointed.",
    ]


def test_page_without_blank_lines_between_paragraphs() -> None:
    path = PAGES / "island-times-festival.txt"
    article = parse_scraped_page(path.read_text(encoding="utf-8"), origin=str(path))
    assert (article.source, article.published_at, article.metadata["tagline"]) == ("The Island Times", "2025-03-01", "Island news since 1902")
    assert article.summary is None
    assert article.body.split("\n\n") == [
        "Forty thousand people visited the harbour festival over the weekend, organisers said, the most since it began in 1987.",
        "The fireworks on Saturday night were cancelled because of wind.",
        '"The crowds were wonderful," said organiser Dee Hart.',
    ]
