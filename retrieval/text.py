"""Words and sentences: the lexical side of retrieval and answer selection.

Tokens are case-folded and lightly stemmed so "killed"/"kill" and "protests"/"protest" meet;
sentences keep their character offsets, because every quote must point into the article body.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["IRREGULAR_PASTS", "STOPWORDS", "WEEKDAYS", "ArticleText", "Sentence", "content_terms", "name_terms", "split_sentences", "stem", "token_set", "tokens"]

#: Question and function words that carry no topic. Kept small on purpose: "who", "when" and
#: numbers matter for answer typing, which reads the raw question, not these terms.
STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just let me
    more most my myself no nor not now of off on once only or other our ours ourselves out over own same
    she should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves according say said says tell told many much one ones two
    did does according also whose ever get got since still yet via per well like may might must shall
    s t don didn doesn wasn weren isn aren recently recent latest today
    what's who's it's that's there's
    """.split()
)

# Numbers keep their separators ("2,095", "5.9") so they stay one token.
_WORD = re.compile(r"\d+(?:[.,]\d+)*|[^\W_]+(?:['’.][^\W_]+)*", re.UNICODE)
_SUFFIXES = ("ingly", "edly", "ings", "ing", "ies", "ied", "ed", "es", "s")


def _fold(text: str) -> str:
    # Accents are folded so "Rossello" in a question meets "Rosselló" in an article.
    text = text.casefold()
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# Irregular past tenses and participles, to their present: "ran for mayor" meets "run for
# mayor". Only forms without a common other meaning in the news ("found", "left", "saw", "rose",
# "Fed", "Met", a vaccine "shot" stay).
_IRREGULAR = {
    form: base
    for base, forms in {
        "run": "ran", "win": "won", "take": "took taken", "make": "made", "hold": "held", "give": "gave given",
        "write": "wrote written", "begin": "began begun", "choose": "chose chosen", "drive": "drove driven",
        "fall": "fell fallen", "fly": "flew flown", "grow": "grew grown", "know": "knew known", "sell": "sold",
        "spend": "spent", "stand": "stood", "strike": "struck stricken", "teach": "taught", "think": "thought",
        "throw": "threw thrown", "buy": "bought", "bring": "brought", "build": "built", "catch": "caught",
        "fight": "fought", "lead": "led", "lose": "lost", "pay": "paid", "send": "sent",
        "sing": "sang sung", "speak": "spoke spoken", "steal": "stole stolen", "sweep": "swept",
        "wear": "wore worn", "break": "broke broken", "draw": "drew drawn", "eat": "ate eaten", "hide": "hid hidden",
        "keep": "kept", "mean": "meant", "sit": "sat", "go": "went gone", "come": "came", "become": "became",
        "seek": "sought", "sleep": "slept", "feel": "felt", "flee": "fled", "forbid": "forbade forbidden",
        "forget": "forgot forgotten", "freeze": "froze frozen", "shake": "shook shaken", "swear": "swore sworn",
        "tear": "tore torn", "wake": "woke woken", "arise": "arose arisen", "bear": "borne",
        "blow": "blew blown", "deal": "dealt", "dig": "dug", "hang": "hung",
        "ride": "rode ridden", "ring": "rang rung", "rise": "risen", "shine": "shone",
        "shrink": "shrank shrunk", "sink": "sank sunk", "slide": "slid", "spin": "spun", "spring": "sprang sprung",
        "stick": "stuck", "sting": "stung", "swim": "swam swum", "swing": "swung", "weep": "wept", "withdraw": "withdrew withdrawn",
    }.items()
    for form in forms.split()
}
#: The irregular past tenses and participles that stem as their present ("ran", "taken").
IRREGULAR_PASTS = frozenset(_IRREGULAR)


# British spellings, to the American ones, so "hospitalised"/"hospitalized",
# "colour"/"color", "centre"/"center" and "travelled"/"traveled" meet. Applied to every word
# alike, so a word only ever spelled one way merely gets another spelling.
_IZE = re.compile(r"(?<=\w{3})(?:is|ys)(e|ed|es|ing|ation|ations)$")
_OUR = re.compile(
    r"^(arm|behavi|col|endeav|fav|flav|harb|hon|hum|lab|neighb|od|parl|rum|sav|splend|tum|val|vap|vig)our(s|ed|ing|ite|ites|able|er|ers)?$"
)
_TRE = re.compile(r"^(cent|met|lit|theat|fib|spect|sab|calib|lust|meag|somb|kilomet|centimet|millimet)re(s|d)?$")
_ENCE = re.compile(r"^(defen|offen|licen|preten)ce(s)?$")
_LL = re.compile(
    r"^(travel|cancel|model|label|fuel|level|signal|counsel|total|channel|marshal|dial|equal|duel|rival|tunnel|jewel|quarrel|shovel|pedal|panel)l(ed|ing|er|ers)$"
)


def _american(word: str) -> str:
    if len(word) > 6 and ("is" in word or "ys" in word):
        word = _IZE.sub(lambda m: ("yz" if m.group(0).startswith("y") else "iz") + m.group(1), word)
    if "our" in word:
        word = _OUR.sub(r"\1or\2", word)
    if word.endswith(("re", "res", "red")):
        word = _TRE.sub(r"\1er\2", word)
    if "ence" in word:
        word = _ENCE.sub(r"\1se\2", word)
    if "ll" in word:
        word = _LL.sub(r"\1\2", word)
    return word


def stem(word: str) -> str:
    """A crude suffix-stripping stem: enough to join inflections, never meant to be a lemma.

    A final "e" goes too, so "case"/"cases" and "close"/"closed" meet; an irregular past
    ("ran", "taken") stems as its present, and a British spelling as the American one.
    """
    word = _american(_IRREGULAR.get(word, word))
    if word.isdigit() or len(word) <= 3:
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word[-2] in "sui'":
                break  # "class", "bus", "crisis"
            word = word[: -len(suffix)] + ("y" if suffix in ("ies", "ied") else "")
            break
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]  # "stopp" (stopped) -> "stop"
    return word


def tokens(text: str) -> list[str]:
    """Every word of `text`, folded and stemmed, in order (stopwords kept)."""
    return [_normal(w) for w in _WORD.findall(_fold(text))]


def token_set(text: str) -> set[str]:
    """The distinct words of `text`, folded and stemmed (normalizing each distinct word once)."""
    return {_normal(w) for w in set(_WORD.findall(_fold(text)))}


# A site named by its domain ("Secunia.com", "Change.org") is the name without it.
_DOMAIN = re.compile(r"^([^\W\d_][\w-]+)\.(?:com|org|net|gov|edu|info|io|co\.uk|co)$")


@functools.lru_cache(maxsize=200_000)
def _normal(word: str) -> str:
    if word[0].isdigit():
        return word.replace(",", "")
    if "." in word and (domain := _DOMAIN.match(word)):
        word = domain.group(1)
    word = word.replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    return stem(word.replace(".", "").replace("'", ""))


def content_terms(text: str) -> list[str]:
    """The topical words of `text` (stopwords dropped), folded and stemmed, first occurrences only."""
    seen: dict[str, None] = {}
    for raw in _WORD.findall(_fold(text)):
        bare = raw.replace("’", "'").removesuffix("'s").replace(".", "").replace("'", "")
        if not bare or bare in STOPWORDS or (len(bare) < 2 and not bare.isdigit()):
            continue
        seen.setdefault(_normal(raw), None)
    return list(seen)


#: The days of the week as regex alternatives, for every pattern that reads a day ("on Monday").
WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"

# A capitalised word that does not open a sentence: a name, unless it is a month or weekday.
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w’'-]+")
_CALENDAR = re.compile(
    rf"(?:jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\.?|(?:january|february|march|april|may|june|july|august|september|october|november|december|{WEEKDAYS})",
    re.I,
)


def name_terms(text: str) -> frozenset[str]:
    """The names `text` mentions (capitalised words past its first, months and weekdays aside), as terms."""
    out = set()
    for name in _NAME.findall(text):
        if _CALENDAR.fullmatch(name):
            continue
        terms = content_terms(name)
        out.add(terms[0] if terms else name.casefold())
    return frozenset(out)


@dataclass(slots=True, frozen=True)
class Sentence:
    """A sentence of a text: `text[start:end]` of the text it was split from."""

    start: int
    end: int
    text: str


# Words after which a period does not end a sentence.
_ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof gen sen rep gov lt col capt cpt sgt maj brig adm st jr sr co corp inc ltd no vs
    etc u.s u.k u.n e.g i.e a.m p.m jan feb mar apr jun jul aug sep sept oct nov dec fig approx dept
    est mt ft rev hon pres supt insp det cmdr
    """.split()
)
# Letters joined by stops, the last stop left out: "o.j", "u.s.s", "ph.d".
_INITIALISM = re.compile(r"(?:[a-z]{1,2}\.)+[a-z]{1,2}")
# Initialisms that end a place's name, and so often a sentence.
_PLACE_INITIALISMS = frozenset({"d.c"})
# A sentence ends at . ! ? (plus closing quotes/brackets) followed by space and a likely start.
_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")
_PARAGRAPH = re.compile(r"\n\s*\n|\n")


def split_sentences(text: str, *, max_chars: int = 600) -> list[Sentence]:
    """Sentences of `text` with their offsets; line breaks always end a sentence.

    Very long "sentences" (lists, tables) are cut at `max_chars` on a space so a quote stays
    readable.
    """
    sentences: list[Sentence] = []
    for para_start, para_end in _spans_between(text, _PARAGRAPH):
        cursor = para_start
        segment = text[para_start:para_end]
        for match in _BOUNDARY.finditer(segment):
            end = para_start + match.end()
            if _ends_with_abbreviation(text, cursor, para_start + match.start()):
                continue
            _emit(text, cursor, end, sentences, max_chars)
            cursor = end
        _emit(text, cursor, para_end, sentences, max_chars)
    return sentences


def _spans_between(text: str, separator: re.Pattern[str]) -> Iterable[tuple[int, int]]:
    cursor = 0
    for match in separator.finditer(text):
        yield cursor, match.start()
        cursor = match.end()
    yield cursor, len(text)


def _ends_with_abbreviation(text: str, start: int, dot: int) -> bool:
    if text[dot] != ".":
        return False
    word_start = dot
    while word_start > start and not text[word_start - 1].isspace() and text[word_start - 1] not in "(\"“":
        word_start -= 1
    word = text[word_start:dot].casefold()
    if word in _ABBREVIATIONS:
        return True
    # Initials ("J. K. Rowling", "O.J. Simpson", "the U.S.S. Grayback", "the B.C. Coroners
    # Service") and one-letter words are not sentence ends; "Washington, D.C." usually is.
    if _INITIALISM.fullmatch(word):
        return word not in _PLACE_INITIALISMS
    return len(word) == 1 and word.isalpha()


def _emit(text: str, start: int, end: int, out: list[Sentence], max_chars: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    while end - start > max_chars:
        cut = text.rfind(" ", start + max_chars // 2, start + max_chars)
        cut = cut if cut > start else start + max_chars
        out.append(Sentence(start, cut, text[start:cut]))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start and any(ch.isalnum() for ch in text[start:end]):
        out.append(Sentence(start, end, text[start:end]))


@dataclass(slots=True, frozen=True)
class ArticleText:
    """An article body split into sentences, with each sentence's words and names worked out once."""

    body: str
    sentences: list[Sentence]
    #: `token_set` of each sentence.
    tokens: list[frozenset[str]]
    #: `name_terms` of each sentence.
    names: list[frozenset[str]]
    #: How many sentences each word occurs in.
    spread: Counter[str]

    @classmethod
    def of(cls, body: str) -> ArticleText:
        sentences = split_sentences(body)
        tokens = [frozenset(token_set(s.text)) for s in sentences]
        return cls(body, sentences, tokens, [name_terms(s.text) for s in sentences], Counter(itertools.chain.from_iterable(tokens)))
