"""What a question asks for: its parts, and the kind of answer each part wants.

A question can ask several things at once ("what did X announce, and what share did Y win?",
"what times did X run in Vienna and Y in Chicago?"). Each part gets the best sentence for it,
so one part's strong word overlap cannot crowd the other out of the answer.

Answer kinds are read from the interrogative phrase, with two traps avoided: a "when" that
opens a subordinate clause ("When the governor resigned, who ...") asks for no date, and a
number the question itself states is not an answer to it (see `retrieval.answer`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from retrieval.text import IRREGULAR_PASTS, WEEKDAYS, content_terms

__all__ = ["QuestionPart", "carries", "counts", "question_kinds", "question_parts"]

_WH = r"(?:who|whom|whose|what|which|when|where|why|how)"
# A preposition may open the question before its interrogative: "In what year was X, who
# died in 2019, jailed?" asks "what year", not the relative "who"; "Since when had ...".
_LEAD = r"(?:in|on|at|for|by|to|from|with|during|under|after|before|since|until|of|over|through|into|onto|against|near|about)"
_AUX_WORDS = "did|does|do|is|was|were|will|are|has|have|had|can|could|would|should|exactly"
_AUX = rf"(?:{_AUX_WORDS})"
_AUXILIARIES = frozenset(_AUX_WORDS.split("|"))

_NUMBER_Q = re.compile(
    r"\b(?:how (?:many|much|long|old|far|big|large|tall|high|often|fast|deep)|by how|odds|chances?|probability|likelihood|percentage|percent|proportion|number of|amount|price|cost|age|score|vote(?!\s+to\b)|toll|tally|rate|margin|figure|sum|magnitude|share|turnout)\b",
    re.I,
)
# Asking for an age: the answer is "82 years old", "aged 17", not any number (a year, a count).
_AGE_Q = re.compile(r"\b(?:how old|(?:what|which) age|age of whom)\b", re.I)
# Asking for a proportion: the answer is "1 in 37", "2 out of 10", "80%", not any number.
_RATIO_Q = re.compile(r"\b(?:odds|chances?|probability|likelihood|percentage|percent|proportion|share|turnout)\b", re.I)
_PERSON_Q = re.compile(r"\b(?:who|whom|whose)\b", re.I)
# "when" asks for a date only as an interrogative: followed by an auxiliary ("when did",
# "when is") or closing the question. "When X announced ..., who ..." is a time clause.
# "When in 2004 had ..." and "When during the trial did ..." still ask: a short phrase of time
# may come between the "when" and its auxiliary.
_DATE_Q = re.compile(
    rf"\b(?:when(?=\s+{_AUX}\b|\s*[?]?\s*$|\s+(?:in|during|on|at)\s+[^\s,]+(?:\s+[^\s,]+)?\s+{_AUX}\b)|(?:what|which) (?:year|date|day|month)s?\b)",
    re.I,
)
# Clock times and durations: "what time did the quake strike", "what times did they run".
_TIME_Q = re.compile(r"\b(?:what|which|whose|winning|finishing|finish) times?\b", re.I)
_PLACE_Q = re.compile(r"\b(?:where|which (?:city|country|state|town|region|province|island|park|airport|nation|county|village|capital))\b", re.I)
_CAUSE_Q = re.compile(
    r"\b(?:why|what (?:[\w-]+ ){0,2}?(?:killed|kills|caused|causes|cause|led to|prompted|triggered|sparked)|cause of|reason|how did .{1,60}? (?:die|dies))\b",
    re.I,
)
# Asking for someone's words: "what did X say about ...", "what did X call it", "how did X
# describe ...". The answer is what they said, which a report quotes.
_WORDS_Q = re.compile(
    r"\b(?:what did\b.{1,80}?\b(?:say|call|tell|tweet|write)|how did\b.{1,80}?\b(?:describe|characteri[sz]e|call)|what (?:words?|phrase|term)\b)\b",
    re.I,
)
_NUMBER_S = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|(?:thir|four|fif|six|seven|eigh|nine)teen|(?:twen|thir|for|fif|six|seven|eigh|nine)ty|hundred|thousand|million|billion|trillion|dozen|half)\b",
    re.I,
)
_AGE_NUMBER = r"(?:\d{1,3}|(?:twen|thir|for|fif|six|seven|eigh|nine)ty(?:[- ](?:one|two|three|four|five|six|seven|eight|nine))?|(?:thir|four|fif|six|seven|eigh|nine)teen)"
_AGE_S = re.compile(
    rf"\b{_AGE_NUMBER}[- ]years?[- ]old\b|\b{_AGE_NUMBER} years of age\b|\b(?:aged|age of|at age)\s+{_AGE_NUMBER}\b",
    re.I,
)
_RATIO_S = re.compile(r"\b\d[\d,.]*\s*(?:in|out of)\s+\d|\d\s*%|\b(?:percent|per cent)\b", re.I)
_MONTH_S = r"(?:jan(?:uary)?|feb(?:ruary)?|march|april|may|june|july|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_WEEKDAY_S = f"(?:{WEEKDAYS})"
_DATE_S = re.compile(
    rf"\b(?:(?:1[5-9]|20)\d\d|{_MONTH_S}|{_WEEKDAY_S}|yesterday|today|ago|next (?:week|month|year))\b",
    re.I,
)
# A day reckoned from the report's ("on Monday", "yesterday", "this week"): the sentence tells
# of the report's own time.
_REPORT_DAY_S = re.compile(rf"\b(?:{_WEEKDAY_S}|yesterday|today|tonight|this (?:week|morning|afternoon|evening))\b", re.I)
_TIME_S = re.compile(
    r"\b\d{1,2}:\d\d(?::\d\d)?\b|\b\d+(?:\.\d+)? ?(?:hours?|hrs?|minutes?|mins?|seconds?|secs?)\b|\b\d{1,2}(?:[.:]\d\d)? ?[ap]\.?m\b",
    re.I,
)
# A year is one from 1500 on: a report recounts history ("the hall dates to 1873"). A plain
# "1800 residents" may pass for one; news writes such numbers with a comma ("1,800").
# A date on the calendar ("29 November", "December 22", "2019", "2019-01-04"), as against
# one reckoned from the report's day ("on Friday", "yesterday"), which answers "when" less well.
_CALENDAR_S = re.compile(
    rf"\b(?:(?:1[5-9]|20)\d\d|{_MONTH_S}\.?\s+\d{{1,2}}\b|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH_S})\b",
    re.I,
)
# Quoted words: a double quote, straight or curly (a quotation may open in one sentence and
# close in the next), or a span in single curly quotes (an apostrophe is not one).
_QUOTED_S = re.compile(r"[\"“”]|‘[^‘’]*\w[^‘’]*’")
# Causal connectives: how a report states a cause.
_CAUSE_S = re.compile(
    r"\b(?:because|due to|caused by|cause of|causes? (?:was|were|is)|result(?:ed|s)? (?:of|from)|as a result|died (?:of|from)|killed by|blamed (?:on|for)|attributed to|owing to|in order to|led to|since (?:he|she|they|it|we|i|you|there)|for (?:not|failing|refusing|violating|breaking))\b",
    re.I,
)

#: Sentence cue of each answer kind.
_CUES: dict[str, re.Pattern[str]] = {
    "number": _NUMBER_S,
    "ratio": _RATIO_S,
    "age": _AGE_S,
    "date": _DATE_S,
    "calendar_date": _CALENDAR_S,
    "time": _TIME_S,
    "cause": _CAUSE_S,
    "words": _QUOTED_S,
    "report_day": _REPORT_DAY_S,
}

# Where a question turns to its next part: ", and which ...", "; what ...", "... and when did",
# or a new sentence ("Two runners made history. What times did ...").
_PART_SPLIT = re.compile(rf"(?:,\s*(?:and|but)\s+|;\s*(?:and\s+)?|\s+and\s+)(?=(?:{_LEAD}\s+)?{_WH}\b)|[.?!]\s+(?=(?-i:[A-Z]))", re.I)
# Where the asking clause of a part can open: at its start or after a comma ("When X resigned,
# who ..."); the first one that is not a time clause is it, and a later ", where ..." is a
# relative clause inside it.
_CLAUSE_START = re.compile(rf"(?:^\W*(?:{_LEAD}\s+)?|,\s+)({_WH}\b)", re.I)
# A short trailing conjunct naming a new subject and where or when repeats the question for
# it ("... run in Vienna and Kosgei in Chicago"): a capitalised name of up to three words,
# then a preposition, and nothing else of a clause. A list's last item ("where did Spain,
# Italy and France agree to meet"), a second name in a compound ("the Kessock plant and
# Vessby Field") or a clause of its own ("after Norland and Estmark joined in May") asks
# nothing new; the looser rule before this one split all three.
_GAPPED = re.compile(r"\s+and\s+(?=(?:the\s+)?[A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*){0,2}\s+(?:in|at|on|during|for)\s+\S+(?:\s+\S+){0,3}\s*[?.]?\s*$)")


@dataclass(frozen=True, slots=True)
class QuestionPart:
    """One thing a question asks: its text, the kinds of answer it wants, and its focus noun."""

    text: str
    kinds: frozenset[str]
    #: The folded, stemmed noun of "which X did" ("museum"), when there is one.
    focus: str | None
    #: The part's own topical words (a trailing "and Kosgei in Chicago" has Kosgei, Chicago).
    terms: frozenset[str]
    #: The folded, stemmed noun of "how many X" ("people"): a number counting it answers best.
    counted: str | None = None


def question_kinds(text: str) -> frozenset[str]:
    """The kinds of answer `text` asks for: number, ratio, age, date, time, person, place, cause, words.

    An opening "who", "when", "where" or "why" decides alone: in "Who dissented at the rate
    decision?" the "rate" does not ask for a number. After "what/which/how", the nouns and
    phrases that ask for a number, a time or a cause are looked for; a later "who" or "where"
    there opens a relative clause ("the city where ...") and asks for nothing.
    """
    opener = re.match(rf"\W*(?:{_LEAD}\s+)?({_WH})\b", text, re.I)
    word = opener.group(1).lower() if opener else ""
    if word in ("who", "whom", "whose"):
        return frozenset({"person"})
    if word == "where":
        return frozenset({"place"})
    if word == "why":
        return frozenset({"cause"})
    if word == "when" and _DATE_Q.match(text, opener.start(1)):
        return frozenset({"date"})
    kinds = set()
    if _NUMBER_Q.search(text):
        kinds.add("number")
    if _RATIO_Q.search(text):
        kinds.add("ratio")
    if _AGE_Q.search(text):
        kinds.add("age")
    if _TIME_Q.search(text):
        kinds.add("time")
    if _CAUSE_Q.search(text):
        kinds.add("cause")
    if _WORDS_Q.search(text):
        kinds.add("words")
    if _DATE_Q.search(text) and (opener is None or "when" not in _DATE_Q.search(text).group(0).lower()):
        kinds.add("date")
    if _PLACE_Q.search(text) and (opener is None or not _PLACE_Q.search(text).group(0).lower().startswith("where")):
        kinds.add("place")
    if opener is None and _PERSON_Q.search(text):
        kinds.add("person")
    return frozenset(kinds)


# Past tenses that do not end in -ed, for "which artist made ...", "which team won ...": the
# stemmer's, and those it leaves alone for their other meanings, which are verbs here too.
_IRREGULAR_PAST = IRREGULAR_PASTS | {"found", "left", "rose", "saw", "said", "told", "got", "hit", "put", "set", "beat", "met", "shot"}
# Where a "which X" noun phrase ends: an auxiliary ("which museum did").
_FOCUS_VERBS = _AUXILIARIES - {"exactly"} | {"became", "becomes"}
_FOCUS_START = re.compile(r"\b(?:which|what)\s+", re.I)
# The auxiliaries that put the subject before the verb ("what did Iraq's parliament vote"),
# not the copulas, after which the noun is what is asked about ("what was the ship called").
_SUBJECT_AUX = _AUXILIARIES - {"is", "was", "were", "are", "exactly"}
_PREPOSITIONS = frozenset({"of", "in", "near", "at", "on", "from", "for", "with", "by", "to"})


def _focus(text: str) -> str | None:
    """The noun of "which/what X <verb>": "which museum did" -> museum, "which Taipei mayor switched" -> mayor.

    The noun phrase is the (up to four) words before an auxiliary, a past tense or an adverb
    ("which WNBA team recently won"); a phrase after a preposition is not its head ("which
    site near Mecca did" -> site). A possessive ends it too: "which Air Force Secretary's
    emails" asks for the secretary.
    """
    start = _FOCUS_START.search(text)
    if not start:
        return None
    words = re.findall(r"[\w’'-]+", text[start.end() :])[:5]
    # "what did Iraq's parliament vote to do" asks for no kind of thing: its noun is the
    # subject. "What was the rescue ship called" still asks for a ship's name.
    if not words or words[0].lower() in _SUBJECT_AUX:
        return None
    for n in range(len(words)):
        if words[n].lower().endswith(("'s", "’s")):
            phrase = [*words[:n], words[n][:-2]]
            break
        if n and _is_verb(words[n]):
            phrase = words[:n]
            break
    else:
        return None
    before_preposition = next((i for i, w in enumerate(phrase) if i and w.lower() in _PREPOSITIONS), len(phrase))
    terms = content_terms(phrase[before_preposition - 1])
    return terms[0] if terms else None


def _is_verb(word: str) -> bool:
    """An auxiliary, a past tense or an adverb: where a "which X" noun phrase ends."""
    low = word.lower()
    return low in _FOCUS_VERBS or low in _IRREGULAR_PAST or (len(low) > 4 and low.endswith(("ed", "ly")))


# Words that end the noun phrase after "how many": an auxiliary, a preposition, a past tense.
_COUNT_STOP = _AUXILIARIES | {"in", "on", "at", "to", "for", "from", "with", "by", "during", "after", "before", "over", "since", "than"}


_PLURALS = frozenset({"people", "children", "men", "women", "police", "personnel", "staff", "cattle"})


def _counted(text: str) -> str | None:
    """The head noun of "how many X ..." ("how many of Nevada's Republican delegates did" -> delegat)."""
    match = re.search(r"\bhow many\s+(.+)", text, re.I)
    if not match:
        return None
    words: list[str] = []
    for word in re.findall(r"[\w'’-]+", match.group(1))[:6]:
        low = word.lower()
        if low in _COUNT_STOP or (words and low.endswith("ed")):
            break
        if low in ("of", "the", "a", "an") or low.endswith(("'s", "’s")):
            continue
        words.append(low)
    # The head is the last word, unless a plural came before it and a verb after ("people live").
    plural = [w for w in words if w.endswith("s") or w in _PLURALS]
    head = words[-1] if words and (not plural or words[-1] in plural) else (plural[-1] if plural else None)
    terms = content_terms(head) if head else []
    return terms[0] if terms else None


def counts(text: str, noun: str) -> bool:
    """Whether `text` has a number followed, within three words, by `noun` (stemmed): "nearly 2000 people"."""
    words = re.findall(r"[\w.,'’-]+", text)
    for i, word in enumerate(words):
        if _NUMBER_S.search(word):
            for following in words[i + 1 : i + 4]:
                terms = content_terms(following)
                if terms and terms[0] == noun:
                    return True
    return False


def question_parts(question: str) -> list[QuestionPart]:
    """The parts of `question`, in order; a plain question is one part.

    Text that asks nothing itself (a leading "When X resigned," or a statement before the
    question) is context shared by every part, so it forms no part of its own. A part's
    `terms` are its own topical words; a single part holds all of the question's.
    """
    # Each asking clause, and whether it ends the question: a trailing conjunct ("and Kosgei in
    # Chicago") is read only there; before a split, "between Australia and New Zealand at
    # Brisbane, and by how many runs" is a pair.
    asking: list[tuple[str, bool]] = []
    ends = [m.group(0)[0] for m in _PART_SPLIT.finditer(question)] + [""]
    for chunk, end in zip(_PART_SPLIT.split(question), ends, strict=True):
        # A sentence that ends in a full stop before the question states what it is about:
        # its relative clauses ("Thai Princess Ubolratana, whose 2019 bid ... failed, lost her
        # title.") ask nothing.
        if end in (".", "!"):
            continue
        for match in _CLAUSE_START.finditer(chunk):
            clause = chunk[match.start(1) :].strip(" ,;")
            if not (clause.lower().startswith("when") and not _DATE_Q.match(clause)):
                asking.append((clause, not end))
                break
    pieces = [p for clause, last in asking for p in (_split_gapped(clause) if last else [(clause, clause)])] or [(question, question)]
    if len(pieces) == 1:
        asks = pieces[0][1]
        return [QuestionPart(question, question_kinds(asks), _focus(asks), frozenset(content_terms(question)), _counted(asks))]
    return [
        QuestionPart(text, question_kinds(asks), _focus(asks), frozenset(content_terms(text)), _counted(asks)) for text, asks in pieces
    ]


def _split_gapped(segment: str) -> list[tuple[str, str]]:
    """(text, interrogative text) of a segment, or of its head and trailing conjunct.

    The conjunct inherits the head's question: "and Kosgei in Chicago" asks "what times".
    """
    pieces = _GAPPED.split(segment, maxsplit=1)
    if len(pieces) == 1:
        return [(segment, segment)]
    return [(pieces[0], pieces[0]), (pieces[1], pieces[0])]


def carries(kind: str, text: str) -> bool:
    """Whether `text` holds something of `kind` (number, ratio, age, date, time, cause, words, report_day)."""
    cue = _CUES.get(kind)
    return bool(cue and cue.search(text))
