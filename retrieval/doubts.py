"""Doubts about evidence that matches a question's words: it is of another time, or never tells of the event asked about.

Word coverage and dense closeness cannot tell "the archive covers this story" from "the
archive states this fact". These checks catch two cases where the difference shows in the
text: the question names a time the reports neither date from nor name, or it takes an event
for granted (a sentence, a death, a result, a final, a successor, a reopening, a
settlement, a pardon, a burial, a funeral) that the reports never tell of. `answer.assess`
lowers the evidence's confidence for each, and `doubt_notes` tells the reader why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from retrieval.events import EVENT_NAMES, presupposed, tells_of
from retrieval.timeframe import asked_period, speaks_of

if TYPE_CHECKING:
    from retrieval.answer import Evidence, ScoredSentence
    from retrieval.search import Retrieval, Retriever
    from retrieval.types import Hit

__all__ = ["doubt_notes", "off_period", "quoted_hits", "untold_event"]


def quoted_hits(ranked: list[ScoredSentence]) -> list[Hit]:
    """One hit per article of the best two sentences: the evidence the answer would lead with, which both checks read."""
    return list({x.hit.article_id: x.hit for x in ranked[:2]}.values())


def untold_event(question: str, quoted: list[Hit], *, retriever: Retriever) -> str | None:
    """The event `question` takes for granted when the articles of the `quoted` hits (`quoted_hits`) never tell of it.

    A report of the crime or of the trial's start matches "what sentence did X receive?"
    word for word, as a profile of a living leader matches "when did X die?" and a preview
    "who won the by-election?", yet none can answer. `quoted` are the hits of the best two
    sentences, the evidence the answer would lead with (as for `off_period`): a result in
    another contest's report, ranked second among the passages, says nothing of this one.
    The whole articles are read, not the passages, so a line further down the report counts.
    Only events whose words are rare in a report that does not tell of them: a number, a
    name, a date or a "because" is in nearly every report, so their absence tells nothing
    (docs/retrieval.md).
    """
    for event in presupposed(question):
        if not any(tells_of(event, retriever.article_text(h.article_id).body) for h in quoted):
            return EVENT_NAMES[event]
    return None


def off_period(retrieval: Retrieval, quoted: list[Hit], *, retriever: Retriever) -> str | None:
    """The period the question asks about, when the evidence the answer leads with is not of it.

    Asked about a time ("in December 2020", "the 2019 Tour de France") that the articles of
    the best two sentences (`quoted`) neither date from nor name, the evidence is most likely about
    another stage of the story (the crash in January, not the compensation announced in
    December) or another edition, however well its words match. Those articles, not the best
    passages: a passage that speaks of the time but answers nothing (a preview of this year's
    race for "who won this year's race?") must not vouch for the others. Two, as measured:
    the best sentence alone lost an answerable question, three let a side remark from another
    article vouch (docs/retrieval.md).
    """
    frame = asked_period(retrieval.timeframe, retrieval.question)
    if not frame.has_window:
        return None
    if any(speaks_of(frame, published_at=h.published_at, text=retriever.article_text(h.article_id).body) for h in quoted):
        return None
    return frame.phrase


def doubt_notes(retrieval: Retrieval, evidence: Evidence) -> list[str]:
    """Why the evidence was doubted: it is about another time than asked, or never tells of the event asked about.

    An answer may still stand on it, and an abstention's closest passages are otherwise a
    puzzle ("but this is the cup final"). No period note when the search already said the
    archive holds nothing from that time.
    """
    notes = []
    if evidence.off_period and not retrieval.window_empty:
        notes.append(f"None of the closest reports dates from or mentions the period asked about ({evidence.off_period}); they may tell of another time.")
    if evidence.untold:
        notes.append(f"None of the closest reports tells of {evidence.untold}; they may be about an earlier stage of the story.")
    return notes
