"""Date normalization: values meant as dates, and dates written in running text."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from index.dates import find_date, is_date_line, to_iso


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-09-11", "2025-09-11"),
        ("2020-1-7", "2020-01-07"),
        ("2020-01-07T10:00:00Z", "2020-01-07T10:00:00+00:00"),
        ("2022-06-01 12:30", "2022-06-01T12:30:00"),
        ("Tue, 07 Jan 2020 10:00:00 GMT", "2020-01-07T10:00:00+00:00"),
        ("Thursday, Sep 11, 2025", "2025-09-11"),
        ("25 November 2026", "2026-11-25"),
        ("November 25th, 2026", "2026-11-25"),
        (1578390000, "2020-01-07T09:40:00+00:00"),
        ("1578390000000", "2020-01-07T09:40:00+00:00"),
        (date(2025, 6, 14), "2025-06-14"),
        (datetime(2025, 6, 14, 8, 5), "2025-06-14T08:05:00"),
        # Incomplete or impossible dates are refused, not guessed.
        ("November 2026", None),
        ("Nov 25", None),
        ("2020-02-30", None),
        ("yesterday", None),
        ("", None),
        (None, None),
        (True, None),
        (["2020-01-07"], None),
    ],
)
def test_to_iso(value: object, expected: str | None) -> None:
    assert to_iso(value) == expected


def test_find_date_in_running_text() -> None:
    found = find_date("Results for 2019-2020 came in on Jan 7, 2020 after a recount.")
    assert found is not None and found.iso == "2020-01-07"
    assert "Results for 2019-2020 came in on Jan 7, 2020 after"[found.start : found.end].strip() == "Jan 7, 2020"
    assert find_date("No date in here at all.") is None


def test_date_line_is_little_more_than_a_date() -> None:
    assert is_date_line("Thursday, Sep 11, 2025")
    assert is_date_line("Updated 2026-11-25")
    assert not is_date_line("The meeting on Jan 7, 2020 ran late into the night")
