"""Extractive answers: the one to three sentences of the retrieved passages that best answer.

Sentences are scored on the question's words they share, weighted by rarity in the archive
(IDF), in the sentence and in its neighbourhood (title and adjacent sentences), on whether they
carry the kind of thing asked for (a number for "how many", a name for "who", a date for
"when"), and on the rank of the passage they sit in. The dense side of the evidence is the
passage's cosine to the question: encoding sentences at query time costs ~20 ms each on two
cores (see docs/retrieval.md), more than the whole answer budget.

Each chosen sentence becomes a citation quoting it exactly, with its character offsets in the
article body. When the evidence is weak (`confidence` below the calibrated
`abstain_threshold`) the answer says so, cites nothing, and lists the closest passages apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from retrieval.text import Sentence, content_terms, token_set
from retrieval.types import Answer, Citation, Hit

if TYPE_CHECKING:
    from retrieval.search import Retrieval, Retriever

__all__ = ["ABSTAIN_TEXT", "Evidence", "ScoredSentence", "answer_from", "assess", "question_weights"]

ABSTAIN_TEXT = "I found nothing in the archive that answers this."
CLOSEST_NOTE = "The closest passages are listed below; they do not answer the question."

_NUMBER_Q = re.compile(
    r"\b(?:how (?:many|much|long|old|far|big|large|tall|high|often|fast|deep)|by how|odds|percentage|percent|proportion|number of|amount|price|cost|age|score|vote|times?|toll|rate|margin|figure|sum|magnitude|share)\b",
    re.I,
)
_PERSON_Q = re.compile(r"\b(?:who|whom|whose)\b", re.I)
_DATE_Q = re.compile(r"\b(?:when|what (?:year|date|day|month|time)|which (?:year|date|day|month))\b", re.I)
_PLACE_Q = re.compile(r"\b(?:where|which (?:city|country|state|town|region|province|island|park|airport|nation|county|village|capital))\b", re.I)
# The thing a "which/what X" question asks for: "which museum did", "what times did".
_FOCUS_Q = re.compile(
    r"\b(?:which|what)\s+((?:[\w-]+\s+){0,2}?[\w-]+)\s+(?:did|does|do|was|were|is|are|has|have|had|will|would|can|could|became|becomes)\b",
    re.I,
)
_NUMBER_S = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|thousand|million|billion|trillion|dozen|half)\b",
    re.I,
)
_DATE_S = re.compile(
    r"\b(?:(?:19|20)\d\d|jan(?:uary)?|feb(?:ruary)?|march|april|may|june|july|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|ago|next (?:week|month|year))\b",
    re.I,
)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w’'-]+")


#: Sentence scoring weights (chosen on the dev sets as a whole, see docs/retrieval.md).
WEIGHTS: dict[str, float] = {
    "overlap": 0.3,
    "context": 0.35,
    "prior": 0.15,
    "typed": 0.2,
    "name_bonus": 0.4,
    "window": 2,
    "min_novel": 0.4,
    "restate_factor": 0.7,
    "focus": 0.6,
}


@dataclass(slots=True)
class ScoredSentence:
    """A candidate sentence for the answer, with where it sits."""

    hit: Hit
    hit_rank: int
    sentence: Sentence
    tokens: set[str]
    score: float
    overlap: float
    #: 1.0 when the sentence carries the kind of thing asked for (number, date, name, the "which X").
    typed: float = 0.0


@dataclass(slots=True)
class Evidence:
    """How well the retrieved passages cover the question: what abstention is decided on."""

    #: Highest dense cosine of any candidate passage to the question.
    dense: float
    #: IDF-weighted share of the question's words found in the best passage and its title.
    coverage: float
    #: The two combined (see `assess`), compared with `abstain_threshold`.
    confidence: float
    sentences: list[ScoredSentence]


def question_weights(question: str, context_terms: list[str], retriever: Retriever) -> dict[str, float]:
    """IDF weight of each topical word of the question; words borrowed from history count half."""
    weights = retriever.terms.weights(content_terms(question))
    borrowed = {t: retriever.terms.idf(t) for t in context_terms if t not in weights}
    own_total, borrowed_total = sum(weights.values()), sum(borrowed.values())
    # The follow-up's own words ("France") must decide between sentences the context already
    # narrowed to the subject, so borrowed words weigh at most half as much in all.
    scale = min(0.5, 0.5 * own_total / borrowed_total) if own_total and borrowed_total else 0.5
    for term, weight in borrowed.items():
        weights[term] = scale * weight
    return weights


def assess(retrieval: Retrieval, *, retriever: Retriever) -> Evidence:
    """Score the sentences of the retrieved passages and how strong the evidence is."""
    weights = question_weights(retrieval.question, retrieval.context_terms, retriever)
    total = sum(weights.values()) or 1.0
    question_tokens = set(weights)
    wants_number = bool(_NUMBER_Q.search(retrieval.question))
    wants_person = bool(_PERSON_Q.search(retrieval.question))
    wants_date = bool(_DATE_Q.search(retrieval.question))
    wants_place = bool(_PLACE_Q.search(retrieval.question))
    focus_match = _FOCUS_Q.search(retrieval.question)
    focus = content_terms(focus_match.group(1).split()[-1]) if focus_match else []

    hits = retrieval.hits
    w = WEIGHTS
    span = int(w["window"])
    scored: dict[tuple[str, int], ScoredSentence] = {}
    coverage = 0.0
    for rank, hit in enumerate(hits):
        title_tokens = token_set(hit.title)
        passage_tokens = token_set(hit.text) | title_tokens
        passage_cover = sum(v for t, v in weights.items() if t in passage_tokens) / total
        if rank < 3:
            coverage = max(coverage, passage_cover)
        body, sentences = retriever.article_sentences(hit.article_id)
        inside = [i for i, s in enumerate(sentences) if s.end > hit.start and s.start < hit.end]
        # Rank, not fused score: reciprocal-rank scores are too flat to tell passages apart.
        prior = 1.0 / (1.0 + rank)
        lo, hi = max(0, min(inside, default=0) - span), min(len(sentences), max(inside, default=-1) + 1 + span)
        sentence_tokens = {i: token_set(sentences[i].text) for i in range(lo, hi)}
        for i in inside:
            sentence = sentences[i]
            key = (hit.article_id, sentence.start)
            if key in scored and scored[key].hit_rank <= rank:
                continue
            toks = sentence_tokens[i]
            overlap = sum(v for t, v in weights.items() if t in toks) / total
            around = set(toks) | title_tokens
            for j in range(i - span, i + span + 1):
                if j in sentence_tokens:
                    around |= sentence_tokens[j]
            context = sum(v for t, v in weights.items() if t in around) / total
            typed = 0.0
            if wants_number and _NUMBER_S.search(_strip_known(sentence.text, question_tokens)):
                typed = 1.0
            elif wants_date and _DATE_S.search(sentence.text):
                typed = 1.0
            elif any(t not in question_tokens for t in (content_terms(n)[0] if content_terms(n) else n.casefold() for n in _NAME.findall(sentence.text))):
                typed = 1.0 if (wants_person or wants_place) else w["name_bonus"]
            if focus and focus[0] in toks:
                typed = max(typed, w["focus"])
            content = toks - _COMMON
            novel = len(content - question_tokens) / (len(content) or 1)
            words = len(sentence.text.split())
            length = 1.0 if 6 <= words <= 60 else 0.7
            score = (w["overlap"] * overlap + w["context"] * context + w["prior"] * prior + w["typed"] * typed) * length
            if novel < w["min_novel"]:
                score *= w["restate_factor"]
            scored[key] = ScoredSentence(hit, rank, sentence, toks, score, overlap, typed)

    ranked = sorted(scored.values(), key=lambda s: -s.score)
    confidence = 0.5 * retrieval.best_dense + 0.5 * coverage
    return Evidence(dense=retrieval.best_dense, coverage=coverage, confidence=confidence, sentences=ranked)


_COMMON = frozenset({"the", "a", "an", "of", "to", "in", "and", "is", "was", "that", "for", "on", "it", "with", "as", "he", "she", "they"})


def _strip_known(text: str, question_tokens: set[str]) -> str:
    # A number the question already states ("more than 1,000 people") is not an answer to it.
    return " ".join(w for w in text.split() if w.strip(".,;:()\"'”“").replace(",", "").casefold() not in question_tokens)


def choose(sentences: list[ScoredSentence], *, max_sentences: int, min_relative: float) -> list[ScoredSentence]:
    """The best sentence, then up to `max_sentences - 1` more that score close to it and add new words.

    When the best sentence does not itself carry the kind of thing asked for, the best one that
    does is taken next: restating the question is what lexical scoring over-rewards.
    """
    if not sentences:
        return []
    best = sentences[0]
    chosen = [best]
    pool = [c for c in sentences[1:] if c.score >= min_relative * best.score]
    if best.typed < 1.0 and PREFER_TYPED:
        typed = next((c for c in pool if c.typed >= 1.0), None)
        if typed is not None:
            chosen.append(typed)
    for candidate in pool:
        if len(chosen) >= max_sentences:
            break
        if candidate in chosen:
            continue
        redundant = any(_jaccard(candidate.tokens, c.tokens) > 0.6 for c in chosen)
        if not redundant:
            chosen.append(candidate)
    return chosen


PREFER_TYPED = True


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / (len(a | b) or 1)


def answer_from(retrieval: Retrieval, *, retriever: Retriever) -> Answer:
    """The extractive answer (or abstention) for a finished retrieval."""
    s = retriever.settings
    evidence = assess(retrieval, retriever=retriever)
    notes = list(retrieval.notes)
    if not retrieval.hits or evidence.confidence < s.abstain_threshold or not evidence.sentences:
        return abstention(retrieval, notes=notes)
    chosen = choose(evidence.sentences, max_sentences=s.answer_max_sentences, min_relative=s.answer_min_relative_score)
    citations: list[Citation] = []
    parts: list[str] = []
    for n, item in enumerate(chosen, start=1):
        hit = item.hit
        citations.append(
            Citation(
                n=n,
                article_id=hit.article_id,
                title=hit.title,
                source=hit.source,
                published_at=hit.published_at,
                url=hit.url,
                passage=hit.text,
                quote=item.sentence.text,
                quote_start=item.sentence.start,
                quote_end=item.sentence.end,
                outlets=list(hit.outlets),
            )
        )
        parts.append(f"{item.sentence.text} [{n}]")
    as_of = newest_date(citations)
    notes.extend(freshness_notes(retrieval, as_of, stale_after_days=s.stale_after_days))
    return Answer(answer=" ".join(parts), abstained=False, citations=citations, as_of=as_of, notes=notes)


def abstention(retrieval: Retrieval, *, notes: list[str]) -> Answer:
    """The archive has no answer: say so, cite nothing, show the closest passages apart."""
    closest = list(retrieval.hits[:3])
    if closest:
        notes = notes + [CLOSEST_NOTE]
    return Answer(answer=ABSTAIN_TEXT, abstained=True, citations=[], notes=notes, closest=closest)


def newest_date(citations: list[Citation]) -> str | None:
    """The newest cited publication date (YYYY-MM-DD)."""
    dates = [c.published_at[:10] for c in citations if c.published_at]
    return max(dates) if dates else None


def freshness_notes(retrieval: Retrieval, newest: str | None, *, stale_after_days: int) -> list[str]:
    """Warn when a question about the present is answered from old evidence."""
    frame = retrieval.timeframe
    if not frame.recent:
        return []
    if newest is None:
        return ["None of the cited articles carries a date, so how current this is cannot be told."]
    try:
        newest_day = date.fromisoformat(newest)
    except ValueError:
        return []
    window = min(frame.window_days or stale_after_days, stale_after_days) if frame.window_days else stale_after_days
    if newest_day < retrieval.as_of - timedelta(days=window):
        asked = f" ({frame.phrase})" if frame.phrase else ""
        return [
            f"The newest evidence is from {newest}, older than the period asked about{asked} as of {retrieval.as_of.isoformat()}; "
            "there may be newer developments the archive does not have."
        ]
    return []
