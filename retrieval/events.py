"""Events a question takes for granted, and whether a report tells of them.

"What sentence did X receive?" assumes a court's sentence, "who replaced X?" a successor,
"when did X reopen?" a reopening. A report of an earlier stage of the story (the charge,
the resignation, the closure) matches such a question word for word yet cannot answer it;
`retrieval.doubts` reads the reports the answer would lead with for a sign of the event.
Each event is a pair of patterns: how a question asks about it, and how a report tells of
it, the second wide on purpose (docs/retrieval.md, **Abstention**).
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["EVENT_NAMES", "presupposed", "tells_of"]

# A case's outcome: "what sentence did X receive", "what verdict did the jury reach",
# "how long was X jailed for".
_SENTENCE_Q = re.compile(
    r"\b(?:what|which)\s+(?:(?:prison|jail|custodial|court)\s+)?(?:sentences?|verdicts?|penalty|penalties|punishments?|(?:prison|jail)\s+terms?)\b"
    r"|\bhow long\b.{0,80}?\b(?:jailed|imprisoned|sentenced|sentence|(?:prison|jail)\s+term)\b",
    re.I,
)
# How a report tells of one. Wider than the outcome alone ("faces up to 14 years in prison",
# "the convicted killer"): a report that says any of it is not taken for one that says
# nothing of a sentence. A league's or a body's punishment is a suspension, a ban or a
# disqualification ("what punishment did the league give X").
_SENTENCE_S = re.compile(
    r"\b(?:sentenced|sentences? of|(?:life|prison|jail|suspended|custodial|death) sentences?|jailed|imprisoned|imprisonment|years? (?:in|behind) (?:jail|prison|bars)|(?:prison|jail) terms?|fined|a fine of|probation|community service|death penalty|acquitted|acquittal|convicted|conviction|found (?:\w+ ){0,2}?(?:not )?guilty|verdicts?|cleared of|mistrial|hung jury"
    r"|suspen(?:ded|sions?)|banned|disqualified|stripped of)\b",
    re.I,
)
# A person's death: "when did X die", "on what date did X die", "what did X die of", "where
# did X pass away", "how old was X when she died", "the cause of his death".
_DEATH_Q = re.compile(
    r"\bdid\s+.{1,80}?\b(?:die|pass away)\b"
    r"|\bwhen (?:he|she|they) died\b|\b(?:cause|date|place|time) of (?:his|her|their|[\w.'’ -]{1,40}?'s) death\b|\b(?:his|her|their) funeral\b",
    re.I,
)
# Not "deaths": a count of victims ("2,095 deaths under the regime") tells of no one's own.
_DEATH_S = re.compile(r"\b(?:die[ds]?|dead|death|deceased|killed|passed away|obituary|funeral|buried)\b", re.I)

# A contest's result: "who won the by-election", "which flag design won", "by what margin did
# Australia beat New Zealand", "who was elected". A preview matches such a question word for
# word ("voters go to the polls tomorrow") yet cannot answer it.
_RESULT_Q = re.compile(
    r"\b(?:who (?:won|beat|defeated|was elected|got elected|finished (?:first|second|third))"
    r"|(?:which|what) (?:[\w-]+ ){1,3}?(?:won|beat|defeated|was elected|took the title)"
    r"|by what (?:margin|score|scoreline)|what was the (?:final )?(?:score|scoreline|result|outcome)|winners? of)\b",
    re.I,
)
# Wide, as for a sentence: any word of winning, losing or a tally ("lost 2-1", "the results",
# "claimed the title") counts, past wins of the background included.
_RESULT_S = re.compile(
    r"\b(?:won|wins|defeated|defeats|beat|beats|victory|victorious|winners?|champions?|elected|re-elected|results?|lost|loses|drew|draw|triumphed|title|scored|conceded|tally)\b",
    re.I,
)

# A contest's final: "who won the grand final", "the 400 m final at the championships". A
# report of an earlier round has win words of its own and cannot say. "Final" as a noun
# only: "the final debate", "the final score" and "Uni's final try" name no final.
_FINAL = r"\b(?:(?:grand|cup|semi-?|quarter-?)\s?finals?\b|finals?(?=\s+(?:of|at|in|on|against|between|match|game|series|tie|was|is|will|took|\d)\b|\s*[,.;:?!)]))"
_FINAL_Q = re.compile(_FINAL, re.I)
_FINAL_S = re.compile(rf"{_FINAL}|\bfinalists?\b|\bdecider\b", re.I)

# A successor taking office: "who replaced X", "who succeeded X", "who took over as", "who
# became PM after X died", "whom did X name to replace Y", "when was X sworn in". A report of
# the death, the resignation, the sacking or the election matches such a question word for
# word and cannot name the successor or the day. "Who" in lower case or capitalised: the WHO
# is an organisation.
_WHO = r"(?-i:\b(?:[Ww]hom?)\b)"
_SUCCESSION_Q = re.compile(
    rf"{_WHO}[^?]{{0,80}}?\b(?:replac(?:e|ed)|succeed(?:ed)?|took over|take over|stepped in|step in)\b"
    r"|\b(?:successor|replacement|sworn in|inaugurated|took office)\b"
    rf"|{_WHO}[^?]{{0,40}}?\b(?:became|become|was (?:named|appointed|chosen|picked|elected)|did [^?]{{1,40}}? (?:name|appoint|elect|choose|pick|nominate))\b"
    r"[^?]{0,80}?\b(?:after|to replace|to succeed|as (?:his|her|its|their) (?:new|next))\b",
    re.I,
)
# Not a bare "acting": "acting in self-defence" tells of no successor.
_SUCCESSION_S = re.compile(
    r"\b(?:replac(?:e|ed|es|ing|ement)|succeed(?:ed|s|ing)?|successor|took over|takes over|sworn in|swearing-in|inaugurat\w*|took office|takes office|oath"
    r"|stepped in|interim|caretaker"
    r"|acting (?:as )?(?:chair\w*|mayor|president|prime minister|premier|leader|head|governor|director|chief|ceo|minister|commander|secretary))\b",
    re.I,
)
# A reopening or resumption: "when did the cathedral reopen", "on what date did the league
# resume", "was access restored". The main verb only: "shipped ... on the way to resuming
# flights" asks about the shipment. A report of the closure cannot say when it ended.
_REOPENING_Q = re.compile(
    r"\b(?:did|does|will)\b[^?]{1,60}?\b(?:re-?open|resume|restore)\b"
    r"|\b(?:was|were|has|have|had)\b[^?]{1,60}?\b(?:re-?opened|resumed|restored)\b|\b(?:reopening|resumption)\b",
    re.I,
)
_REOPENING_S = re.compile(r"\b(?:re-?open\w*|resum(?:e|ed|es|ing|ption)|restor\w*|reinstated|unblocked|lifted|open again|back open)\b", re.I)
# A settlement: "how much did X agree to pay to settle the lawsuit". A report of the suit
# being filed cannot say.
_SETTLEMENT_Q = re.compile(r"\bsettle(?:d|ment)?\b", re.I)
_SETTLEMENT_S = re.compile(
    r"\b(?:settl(?:e|ed|es|ing|ement|ements)|out of court|(?:to )?end the (?:lawsuit|suit|case|dispute)|dropped (?:the|its|their) (?:lawsuit|suit|case|claim))\b", re.I
)
# A pardon: "when did X pardon Y". A report of the conviction, the sentence or a commutation
# (which "after earlier commuting his sentence" may name in the question) cannot say.
_PARDON_Q = re.compile(r"\b(?:pardon(?:ed|s)?|clemency)\b", re.I)
_PARDON_S = re.compile(r"\b(?:pardon\w*|clemency)\b", re.I)
# A burial: "where was X buried". A report of the death, or of the funeral, need not say.
_BURIAL_Q = re.compile(r"\b(?:buried|burial|laid to rest|interred|entombed)\b", re.I)
_BURIAL_S = re.compile(r"\b(?:buried|burial|laid to rest|interred|entombed|cemetery|graves?|graveyard|tomb|mausoleum|crypt)\b", re.I)
# A funeral: "where was the funeral service held", "the public memorial for X". A report of
# the death need not tell of one; "his funeral" asks of a death too (`_DEATH_Q`).
_FUNERAL_Q = re.compile(r"\b(?:funeral|memorial (?:service|ceremony)|public memorial)\b", re.I)
_FUNERAL_S = re.compile(r"\b(?:funerals?|memorial|cremat\w*|mourners|buried|burial|laid to rest)\b", re.I)

class _Event(NamedTuple):
    """How the answer's notes name an event, how a question asks about it, how a report tells of it."""

    name: str
    asks: re.Pattern[str]
    tells: re.Pattern[str]


_EVENTS: dict[str, _Event] = {
    "sentence": _Event("a sentence or verdict", _SENTENCE_Q, _SENTENCE_S),
    "death": _Event("a death", _DEATH_Q, _DEATH_S),
    "result": _Event("a result", _RESULT_Q, _RESULT_S),
    "final": _Event("a final", _FINAL_Q, _FINAL_S),
    "succession": _Event("a successor taking office", _SUCCESSION_Q, _SUCCESSION_S),
    "reopening": _Event("a reopening or resumption", _REOPENING_Q, _REOPENING_S),
    "settlement": _Event("a settlement", _SETTLEMENT_Q, _SETTLEMENT_S),
    "pardon": _Event("a pardon", _PARDON_Q, _PARDON_S),
    "burial": _Event("a burial", _BURIAL_Q, _BURIAL_S),
    "funeral": _Event("a funeral", _FUNERAL_Q, _FUNERAL_S),
}

#: How the answer's notes name each event `presupposed` returns ("a successor taking office").
EVENT_NAMES: dict[str, str] = {key: event.name for key, event in _EVENTS.items()}


def presupposed(question: str) -> list[str]:
    """The events `question` takes for granted (keys of `EVENT_NAMES`).

    A court's sentence ("what sentence did X receive?"), a death ("when did X die?"), a
    contest's result ("who won X?") or its final ("the grand final"), a successor ("who
    replaced X?", "when was X sworn in?"), a reopening ("when did X reopen?"), a settlement,
    a pardon, a burial, a funeral. A report that never tells of such an event cannot answer, however
    well it matches: it is of an earlier stage of the story.
    """
    return [key for key, event in _EVENTS.items() if event.asks.search(question)]


def tells_of(event: str, text: str) -> bool:
    """Whether `text` tells of `event` (of `presupposed`), or of anything near it."""
    return bool(_EVENTS[event].tells.search(text))
