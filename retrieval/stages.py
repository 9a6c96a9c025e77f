"""Stages of a competition named in text: "the grand final", "round five", "the third round".

A question about one stage of a season ("Which club won the grand final of the 2020 season?")
is not answered by reports of its other stages ("X defeat Y in round five of the 2020
season"), however well those cover the rest of the question's words. Abstention uses this:
evidence that names other stages of the competition but never the one asked about is weak.
"""

from __future__ import annotations

import re

__all__ = ["other_stages_only", "stage_keys"]

_NUMBERS = {
    w: n
    for n, words in enumerate(
        [
            (),
            ("one", "first", "1st"),
            ("two", "second", "2nd"),
            ("three", "third", "3rd"),
            ("four", "fourth", "4th"),
            ("five", "fifth", "5th"),
            ("six", "sixth", "6th"),
            ("seven", "seventh", "7th"),
            ("eight", "eighth", "8th"),
            ("nine", "ninth", "9th"),
            ("ten", "tenth", "10th"),
            ("eleven", "eleventh", "11th"),
            ("twelve", "twelfth", "12th"),
        ]
    )
    for w in words
}
_UNIT = r"(?:round|stage|leg|heat|game)"
_COUNT = r"(?:\d{1,2}|" + "|".join(sorted((w for w in _NUMBERS if not w[0].isdigit()), key=len, reverse=True)) + ")"
_ORDINAL = r"(?:\d{1,2}(?:st|nd|rd|th)|" + "|".join(w for w in _NUMBERS if w.endswith(("st", "nd", "rd", "th")) and not w[0].isdigit()) + ")"
_STAGE = re.compile(
    rf"\b(?P<named>(?:grand|preliminary|semi|quarter)[- ]?finals?)\b"
    rf"|\bthe (?P<final>finals?)(?=\s+(?:of|in|at|on|against|between)\b|\s*[,.?;]|\s*$)"
    rf"|\b(?P<unit>{_UNIT})s? (?P<count>{_COUNT})\b"
    rf"|\b(?P<ordinal>{_ORDINAL}) (?P<unit2>{_UNIT})\b",
    re.I,
)


def stage_keys(text: str) -> set[str]:
    """The stages `text` names, normalised: "grand final", "semi-final", "final", "round 5"."""
    keys: set[str] = set()
    for match in _STAGE.finditer(text):
        if match.group("named"):
            word = re.sub(r"[- ]?finals?$", "", match.group("named").casefold())
            keys.add(f"{word}-final" if word in ("semi", "quarter") else f"{word} final")
        elif match.group("final"):
            keys.add("final")
        else:
            unit = (match.group("unit") or match.group("unit2")).casefold()
            count = (match.group("count") or match.group("ordinal")).casefold()
            number = int(count) if count.isdigit() else _NUMBERS.get(count) or int(re.sub(r"\D", "", count) or 0)
            keys.add(f"{unit} {number}")
    return keys


def other_stages_only(question: str, passages: list[str]) -> bool:
    """Whether `passages` name stages of a competition but none of those `question` asks about."""
    asked = stage_keys(question)
    if not asked:
        return False
    named = set().union(*(stage_keys(p) for p in passages)) if passages else set()
    if "grand final" in named:
        named.add("final")  # a question about "the final" is answered by the grand final, not the reverse
    return bool(named) and not (asked & named)
