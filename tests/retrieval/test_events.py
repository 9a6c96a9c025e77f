"""Events a question takes for granted (`retrieval.events`), and the words a report tells of each in."""

from __future__ import annotations

import pytest

from retrieval.events import presupposed, tells_of

ASKS = [
    ("What sentence did the Kessock stabber receive?", ["sentence"]),
    ("What prison term did the accountant get for the fraud?", ["sentence"]),
    ("Which verdict did the jury reach in the Vessby trial?", ["sentence"]),
    ("How long was the accountant jailed for?", ["sentence"]),
    ("When did the sculptor Mira Dahl die?", ["death"]),
    ("What did the former mayor die of?", ["death"]),
    ("How old was Dahl when she died?", ["death"]),
    ("What was the cause of the senator's death?", ["death"]),
    # Asking about what is said, how long a trial ran or how many died takes neither for granted.
    ("What did the judge say about the pension fraud?", []),
    ("How long did the fraud trial last?", []),
    ("How many people died in the hostel fire?", []),
    # A league punishes with a suspension or a ban.
    ("What punishment did the league give the Rovers captain?", ["sentence"]),
    ("Who won the Fenmoor by-election?", ["result"]),
    ("Which flag design won the referendum?", ["result"]),
    ("By what margin did Kessock beat Vessby in the cup final?", ["result", "final"]),
    ("Who was elected mayor of Kessock in 2031?", ["result"]),
    ("Who will stand in the Fenmoor by-election?", []),
    ("Who won the grand final of the Fenmoor League?", ["result", "final"]),
    ("What time did she run in the 400 m final at the championships?", ["final"]),
    # "Final" as an adjective names no final.
    ("Who moderated the final debate of the campaign?", []),
    ("Who replaced Ola Berg on the Skarvik council?", ["succession"]),
    ("Whom did the mayor name to replace the harbour master?", ["succession"]),
    ("Who became coach of Harbour Rovers after Dan Whitlow left?", ["succession"]),
    ("On what date was Siri Holm sworn in as councillor?", ["succession"]),
    # The WHO is an organisation: "what did the WHO's name replace" asks for no successor.
    ("What name did the WHO's new label replace?", []),
    ("Who was the Rovers coach before Kari Sund?", []),
    ("When did the Glasswater Bridge reopen?", ["reopening"]),
    ("On what date was access to the archive restored?", ["reopening"]),
    # The main verb only: the shipment is what is asked about.
    ("What part did the agency ship on the way to resuming flights?", []),
    ("How much did the studio agree to pay to settle the lawsuit?", ["settlement"]),
    ("When did the governor pardon the former aide?", ["pardon"]),
    ("Where was the former president buried?", ["burial"]),
    ("Where was the funeral service for the former president held?", ["funeral"]),
    ("Where was the former president buried after his military funeral?", ["burial", "funeral"]),
]

TELLS = [
    # A report tells of one in many words, including what the accused faced.
    ("sentence", "He was jailed for six years on Friday.", True),
    ("sentence", "If convicted, he faces up to 14 years in prison.", True),
    ("sentence", "The jury found her not guilty of all charges.", True),
    ("sentence", "Kvale was charged and remanded in custody.", False),
    ("sentence", "The league suspended him for the rest of the season.", True),
    ("death", "Dahl, who carved the harbour lions, passed away at home.", True),
    ("death", "The mayor won the primary with 80% of the vote.", False),
    ("death", "The junta was blamed for 2,095 deaths.", False),
    ("result", "Siri Holm won the seat with 52% of the vote.", True),
    ("result", "Kessock lost 2-1 at home.", True),
    ("result", "Voters go to the polls on Saturday; the count starts on Sunday.", False),
    ("final", "A crowd of 11,200 watched the final, the largest this season.", True),
    ("final", "The two guys that set up Uni's final try were 18.", False),
    ("succession", "Sund was sworn in as chair on Monday.", True),
    ("succession", "Deputy mayor Per Moen is acting mayor until the by-election.", True),
    ("succession", "Police said he had been acting in self-defence.", False),
    ("reopening", "The bridge is expected to reopen in late March.", True),
    ("reopening", "The ban was lifted on Friday.", True),
    ("reopening", "The bridge closed to all traffic on Monday.", False),
    ("settlement", "The two sides reached a settlement out of court.", True),
    ("settlement", "The studios sued the site for copyright infringement.", False),
    ("pardon", "The governor granted him clemency on Friday.", True),
    ("pardon", "He was sentenced to seven years in prison.", False),
    # A commutation is not a pardon.
    ("pardon", "The president commuted his sentence on Friday.", False),
    ("burial", "He was laid to rest in the family tomb.", True),
    # A funeral does not say where the body lies.
    ("burial", "A military funeral was held on Wednesday.", False),
    ("funeral", "He was cremated with full state honours.", True),
    ("funeral", "The former president died at home on Thursday, aged 86.", False),
]


@pytest.mark.parametrize(("question", "events"), ASKS)
def test_a_question_can_take_an_event_for_granted(question: str, events: list[str]) -> None:
    assert presupposed(question) == events


@pytest.mark.parametrize(("event", "text", "told"), TELLS)
def test_a_report_tells_of_an_event_in_many_words_but_not_in_any(event: str, text: str, told: bool) -> None:
    assert tells_of(event, text) is told

