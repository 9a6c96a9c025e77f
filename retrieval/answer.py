"""Extractive answers: the one to three sentences of the retrieved passages that best answer.

Sentences are scored on the question's words they share, weighted by rarity in the archive
(IDF), in the sentence and in its neighbourhood (title and adjacent sentences), on whether they
carry the kind of thing asked for (a number for "how many", a name for "who", a date for
"when"), and on the rank of the passage they sit in. The dense side of the evidence is the
passage's cosine to the question: encoding sentences at query time costs ~20 ms each on two
cores (see docs/retrieval.md), more than the whole answer budget.

What is asked for is read by `retrieval.question`: the answer kinds (number, proportion, date,
time, person, place, cause, the "which X" noun) and, for a question in several parts, each
part, which then gets a sentence of its own.

Each chosen sentence becomes a citation quoting it exactly, with its character offsets in the
article body. When the evidence is weak (`confidence` below the calibrated
`abstain_threshold`, lowered by the checks of `retrieval.doubts`) the answer says so, cites
nothing, and lists the closest passages apart.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Set
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from retrieval import doubts
from retrieval.question import QuestionPart, carries, counts, question_parts
from retrieval.text import ArticleText, Sentence, content_terms, name_terms, token_set
from retrieval.timeframe import years_named
from retrieval.types import Answer, Citation, Hit

if TYPE_CHECKING:
    from retrieval.search import Retrieval, Retriever

__all__ = ["ABSTAIN_TEXT", "Evidence", "ScoredSentence", "answer_from", "assess", "question_weights"]

ABSTAIN_TEXT = "I found nothing in the archive that answers this."
CLOSEST_NOTE = "The closest passages are listed below; they do not answer the question."



#: Sentence scoring weights (chosen on the dev sets as a whole, see docs/retrieval.md).
WEIGHTS: dict[str, float] = {
    "overlap": 0.3,
    # In the sentence's own share (not its neighbourhood's), a question word found in every
    # sentence of the article keeps 1 - this of its weight: it names the story, not the answer.
    "spread_discount": 0.4,
    "context": 0.35,
    "prior": 0.15,
    "typed": 0.2,
    "name_bonus": 0.4,
    "window": 2,
    "min_novel": 0.4,
    "restate_factor": 0.7,
    "focus": 0.6,
    # The "which X" noun inside a name the question does not hold ("at the Gatot Soebroto Army
    # Hospital" for "which hospital"): the sentence names an X, not just mentions one.
    "focus_name": 1.0,
    # For a fresh-news question, a sentence dated only to earlier years: the story's background.
    "past_year_factor": 0.6,
    # Added when a number in the sentence counts what "how many X" asks about ("nearly 2000
    # people"), over numbers that count something else ("900 years of the cathedral").
    "counted": 0.2,
    # A date reckoned from the report's day ("on Friday", "yesterday") for a "when" question:
    # it answers, but less well than a date on the calendar ("from 29 November").
    "relative_date": 0.6,
    # A line that ends without ending a sentence is a subhead, a caption or the lead-in to a
    # list ("Here are the five races to watch:"): it names the topic, not the answer.
    "fragment_factor": 0.7,
    # A sentence that is itself a question (an interviewer's, a rhetorical one) asks, it does
    # not answer, however many of the question's words it shares.
    "question_factor": 0.7,
    # A plain number when a proportion is asked for ("odds", "share"): it may be one, written out.
    "ratio_number": 0.5,
    # The same when an age is asked for ("how old"): "died at 103" may be one.
    "age_number": 0.5,
    # In scoring for one part of a multi-part question: words of the shared context ("When X
    # resigned, ...") and words only the other parts use count less than the part's own.
    "shared_part": 0.5,
    "other_part": 0.25,
    # In scoring for one part: a sentence that names only another part's subject.
    # Swept 0.5-1.0 on both dev sets and probes 1-3: no column moves; the fixture's "What
    # times did Oyelaran run in Kessock and Makori in Vessby?" needs it (see the test).
    "other_subject": 0.5,
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
    #: Score and typedness for each part of a multi-part question (empty for a plain one).
    part_scores: tuple[float, ...] = ()
    part_typed: tuple[float, ...] = ()


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
    #: The period the question asks about ("in May 2023", "2019") when none of the articles
    #: of the best two sentences dates from it or mentions it (the confidence was lowered).
    off_period: str | None = None
    #: An event the question takes for granted ("a death", "a sentence or verdict", "a result")
    #: that the articles of the best two sentences never tell of (the confidence was lowered).
    untold: str | None = None


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
    question_tokens = set(weights)
    parts = question_parts(retrieval.question)
    whole = _Asking(
        weights, frozenset().union(*(p.kinds for p in parts)), {p.focus for p in parts if p.focus}, frozenset(p.counted for p in parts if p.counted)
    )
    askings = [_part_asking(p, parts, weights) for p in parts] if len(parts) > 1 else []

    hits = retrieval.hits
    w = WEIGHTS
    # A question about fresh news ("this week") is not answered by a sentence dated to an
    # earlier year ("Chile elected a leftist in 2021"): that is the story's background.
    past_years = retrieval.as_of.year if retrieval.timeframe.recent else None
    asked_years = years_named(retrieval.question)
    span = int(w["window"])
    scored: dict[tuple[str, int], ScoredSentence] = {}
    # Per article: several of its passages, and all of the best one's, share its rarity.
    own: dict[str, tuple[_Asking, list[_Asking]]] = {}
    coverage = 0.0
    # The best article's unretrieved passages are read after every retrieved one, all at one rank.
    reading = [*enumerate(hits), *((len(hits), extra) for extra in rest_of_best_article(hits, retriever=retriever))]
    for rank, hit in reading:
        title_tokens = token_set(hit.title)
        if rank < 3 and rank < len(hits):
            coverage = max(coverage, whole.share(retriever.passage_words(hit) | title_tokens))
        article = retriever.article_text(hit.article_id)
        sentences = article.sentences
        inside = [i for i, s in enumerate(sentences) if s.end > hit.start and s.start < hit.end]
        # Rank, not fused score: reciprocal-rank scores are too flat to tell passages apart.
        prior = 1.0 / (1.0 + rank)
        sentence_tokens = article.tokens
        if hit.article_id not in own:
            # The question with this article's rarity in its weights, for the sentences' own share.
            rarity = _rarity(article, weights)
            own[hit.article_id] = (whole.rescaled(rarity), [a.rescaled(rarity) for a in askings])
        whole_own, askings_own = own[hit.article_id]
        for i in inside:
            sentence = sentences[i]
            key = (hit.article_id, sentence.start)
            if key in scored and scored[key].hit_rank <= rank:
                continue
            toks = sentence_tokens[i]
            if rank >= len(hits) and not toks & question_tokens:
                # Read past the ranking, a sentence with none of the question's words has
                # nothing to tell it answers (it halves the cost of a long interview).
                continue
            around = set(toks) | title_tokens
            for j in range(max(0, i - span), min(len(sentence_tokens), i + span + 1)):
                around |= sentence_tokens[j]
            content = toks - _COMMON
            novel = len(content - question_tokens) / (len(content) or 1)
            words = len(sentence.text.split())
            factor = 1.0 if 6 <= words <= 60 else 0.7
            if _is_fragment(article.body, sentence):
                factor *= w["fragment_factor"]
            if _is_question(sentence):
                factor *= w["question_factor"]
            if past_years is not None and _only_past_years(sentence.text, past_years, asked_years):
                factor *= w["past_year_factor"]
            cues = _Cues(sentence.text, article.names[i], question_tokens)
            # A sentence of mostly the question's own words restates it, unless what little
            # it adds is the very kind of thing asked for ("Bill Weld ... received 9% of the
            # vote" for "which governor received 9% of the vote?").
            typed = whole.typed(cues, toks)
            if novel < w["min_novel"] and typed < 1.0:
                factor *= w["restate_factor"]

            def score(asking: _Asking, own: _Asking, typed: float) -> tuple[float, float, float]:
                overlap = own.share(toks)
                total = w["overlap"] * overlap + w["context"] * asking.share(around) + w["prior"] * prior + w["typed"] * typed
                if asking.counted and cues.counts(asking.counted):
                    total += w["counted"]
                if asking.other_names & toks and not asking.own_names & toks:
                    # "Makori crossed the line in 1:01:47" answers the Makori part of "What
                    # times did Oyelaran run in Kessock and Makori in Vessby?", not the other.
                    total *= w["other_subject"]
                return total * factor, overlap, typed

            total, overlap, _ = score(whole, whole_own, typed)
            per_part = [score(a, own, a.typed(cues, toks)) for a, own in zip(askings, askings_own, strict=True)]
            scored[key] = ScoredSentence(
                hit, rank, sentence, toks, total, overlap, typed, tuple(p[0] for p in per_part), tuple(p[2] for p in per_part)
            )

    ranked = sorted(scored.values(), key=lambda s: -s.score)
    confidence = 0.5 * retrieval.best_dense + 0.5 * coverage
    quoted = doubts.quoted_hits(ranked)
    off_period = doubts.off_period(retrieval, quoted, retriever=retriever)
    if off_period:
        confidence *= retriever.settings.off_window_factor
    untold = doubts.untold_event(retrieval.question, quoted, retriever=retriever)
    if untold:
        confidence *= retriever.settings.untold_event_factor
    return Evidence(
        dense=retrieval.best_dense, coverage=coverage, confidence=confidence, sentences=ranked, off_period=off_period, untold=untold
    )


def rest_of_best_article(hits: list[Hit], *, retriever: Retriever) -> list[Hit]:
    """The passages of the first hit's article that the ranking left out, when the question is about that article.

    It is about that article when the article holds its whole share of the hits
    (`answer_max_per_article`). A question about one report may be answered deep inside it
    (an interview's seventh answer), in a passage that shares few words with the question.
    Over a story many outlets carried, the share is rarely full, and the outlets' other
    passages (lists, asides) would compete with the answer.
    """
    s = retriever.settings
    if not s.answer_read_best_article or not hits:
        return []
    best = hits[0]
    share = s.answer_max_per_article or len(hits) // 2 + 1
    if sum(h.article_id == best.article_id for h in hits) < share:
        return []
    retrieved = {h.chunk_id for h in hits}
    return [
        dataclasses.replace(best, chunk_id=c.chunk_id, text=c.text, score=0.0, start=c.start, end=c.end)
        for c in retriever.reader.article_chunks(best.article_id)
        if c.chunk_id not in retrieved
    ]


def _rarity(article: ArticleText, weights: dict[str, float]) -> dict[str, float]:
    """How much each question word counts in telling this article's sentences apart.

    The words that name the story ("Typhoon Phanfone", "Philippines") occur in most of its
    sentences, so they cannot tell the one that answers from the rest; the word that asks
    ("evacuate") occurs in one. A word in every sentence keeps `1 - spread_discount` of its
    weight, one in none keeps all of it.
    """
    n = len(article.sentences) or 1
    discount = WEIGHTS["spread_discount"]
    return {t: 1.0 - discount * article.spread.get(t, 0) / n for t in weights}


class _Cues:
    """What a sentence carries, worked out once and shared by every part's scoring."""

    def __init__(self, text: str, names: frozenset[str], question_tokens: set[str]) -> None:
        self.text = text
        self.question_tokens = question_tokens
        self.new_name = not names <= question_tokens
        self._unknown: str | None = None
        self._seen: dict[str, bool] = {}

    def names(self, focus: set[str]) -> bool:
        """A name in the sentence is one of the "which X" nouns ("Gatot Soebroto Army Hospital").

        A run of capitalised words that holds the noun and a word the question does not:
        "Foreign Minister Nikos Dendias" names a minister, "a hospital spokesperson" does not.
        """
        key = "names:" + ",".join(sorted(focus))
        if key not in self._seen:
            self._seen[key] = any(_names_one_of(run, focus, self.question_tokens) for run in _NAME_RUN.findall(self.text))
        return self._seen[key]

    def counts(self, nouns: frozenset[str]) -> bool:
        """A number in the sentence counts one of `nouns` ("nearly 2000 people")."""
        key = "counts:" + ",".join(sorted(nouns))
        if key not in self._seen:
            self._seen[key] = any(counts(self.text, noun) for noun in nouns)
        return self._seen[key]

    def has(self, kind: str) -> bool:
        if kind not in self._seen:
            if kind in ("number", "ratio"):
                # A number the question already states ("more than 1,000 people") is not an
                # answer to it. Worked out only when a number is asked for.
                if self._unknown is None:
                    self._unknown = _strip_known(self.text, self.question_tokens)
                self._seen[kind] = carries(kind, self._unknown)
            else:
                self._seen[kind] = carries(kind, self.text)
        return self._seen[kind]


# Capitalised words in a row, "of", "the" or "de" between them: "University of Kessock",
# "St Olav's Hospital".
_NAME_RUN = re.compile(r"[A-Z][\w’'.-]*(?:\s+(?:of\s+|the\s+|de\s+)?[A-Z][\w’'.-]*)+")


def _names_one_of(run: str, focus: set[str], question_tokens: set[str]) -> bool:
    """The run of capitalised words holds a focus noun and a word the question does not."""
    terms = [t for word in run.split() for t in content_terms(word)[:1]]
    return any(t in focus for t in terms) and any(t not in focus and t not in question_tokens for t in terms)


@dataclass(slots=True)
class _Asking:
    """What one question (or one part of it) asks: its word weights, answer kinds and focus nouns."""

    weights: dict[str, float]
    kinds: frozenset[str]
    focus: set[str]
    #: The nouns a "how many X" asks to count.
    counted: frozenset[str] = frozenset()
    #: For one part of a question: the names it asks about, and those only other parts ask about.
    own_names: frozenset[str] = frozenset()
    other_names: frozenset[str] = frozenset()
    # Summed once: `share` runs for every sentence, its neighbourhood and every part.
    total: float = field(init=False)

    def __post_init__(self) -> None:
        self.total = sum(self.weights.values()) or 1.0

    def share(self, tokens: Set[str]) -> float:
        """IDF-weighted share of the question's words among `tokens`."""
        return sum(v for t, v in self.weights.items() if t in tokens) / self.total

    def rescaled(self, scale: dict[str, float]) -> _Asking:
        """The same asking with each word's weight times its `scale` (an article's `_rarity`)."""
        return dataclasses.replace(self, weights={t: v * scale[t] for t, v in self.weights.items()})

    def typed(self, cues: _Cues, tokens: set[str]) -> float:
        """1.0 when the sentence carries what is asked for, less for weaker signs of it."""
        w = WEIGHTS
        typed = 0.0
        if "ratio" in self.kinds:
            typed = 1.0 if cues.has("ratio") else (w["ratio_number"] if cues.has("number") else 0.0)
        elif "age" in self.kinds:
            typed = 1.0 if cues.has("age") else (w["age_number"] if cues.has("number") else 0.0)
        elif "number" in self.kinds and cues.has("number"):
            typed = 1.0
        if any(kind in self.kinds and cues.has(kind) for kind in ("time", "cause", "words")):
            typed = 1.0
        if "date" in self.kinds and cues.has("date"):
            typed = max(typed, 1.0 if cues.has("calendar_date") else w["relative_date"])
        if typed < 1.0 and cues.new_name:
            typed = max(typed, 1.0 if self.kinds & {"person", "place"} else w["name_bonus"])
        if self.focus & tokens:
            typed = max(typed, w["focus_name"] if cues.names(self.focus) else w["focus"])
        return typed


def _part_asking(part: QuestionPart, parts: list[QuestionPart], weights: dict[str, float]) -> _Asking:
    """The question as one part asks it: the part's own words weigh most."""
    others = set().union(*(p.terms for p in parts if p is not part)) - part.terms
    scale = {t: 1.0 if t in part.terms else WEIGHTS["other_part"] if t in others else WEIGHTS["shared_part"] for t in weights}
    scaled = {t: v * scale[t] for t, v in weights.items()}
    own_names = name_terms(part.text) & part.terms
    other_names = frozenset().union(*(name_terms(p.text) & p.terms for p in parts if p is not part)) - own_names
    return _Asking(
        scaled, part.kinds, {part.focus} if part.focus else set(), frozenset({part.counted} if part.counted else ()), own_names, other_names
    )


_COMMON = frozenset({"the", "a", "an", "of", "to", "in", "and", "is", "was", "that", "for", "on", "it", "with", "as", "he", "she", "they"})


# How a sentence of running text ends: a stop, or a closing quote or bracket after one.
_SENTENCE_ENDS = (".", "!", "?", "”", '"', "’", "'", ")", "…")


def _is_fragment(body: str, sentence: Sentence) -> bool:
    """A line that ends without ending a sentence: a subhead, a caption, a lead-in to a list.

    Only at a line break: an over-long sentence cut into pieces (`split_sentences`) is
    running text, whatever its pieces end with.
    """
    if sentence.text.rstrip().endswith(_SENTENCE_ENDS):
        return False
    rest = body[sentence.end : sentence.end + 3]
    return not rest.strip(" \t") or rest.lstrip(" \t").startswith(("\n", "\r"))


def _is_question(sentence: Sentence) -> bool:
    """The sentence ends in a question mark, inside closing quotes or brackets or not."""
    return sentence.text.rstrip(" \"”’')").endswith("?")


def _only_past_years(text: str, this_year: int, asked: set[int]) -> bool:
    """The sentence dates itself only to years before `this_year` that the question does not name.

    Not when it also dates itself from the report's day: "the mayor welcomed the Rovers on
    Monday, celebrating their 2030 title" is this week's news, the year its background.
    """
    years = years_named(text)
    return bool(years) and not asked & years and max(years) < this_year and not carries("report_day", text)


def _strip_known(text: str, question_tokens: set[str]) -> str:
    return " ".join(w for w in text.split() if w.strip(".,;:()\"'”“").replace(",", "").casefold() not in question_tokens)


def choose(sentences: list[ScoredSentence], *, max_sentences: int, min_relative: float) -> list[ScoredSentence]:
    """The best sentence, then up to `max_sentences - 1` more that score close to it and add new words.

    When the best sentence does not itself carry the kind of thing asked for, the best one that
    does is taken next: restating the question is what lexical scoring over-rewards. A question
    in several parts ("..., and who ...?") first gets one sentence per part (`_per_part`).
    """
    if not sentences:
        return []
    best = sentences[0]
    chosen = _per_part(sentences, max_sentences=max_sentences, min_relative=min_relative) or [best]
    pool = [c for c in sentences[1:] if c.score >= min_relative * best.score]
    if best.typed < 1.0 and PREFER_TYPED and len(chosen) < max_sentences:
        typed = next((c for c in pool if c.typed >= 1.0 and c not in chosen), None)
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


def _per_part(sentences: list[ScoredSentence], *, max_sentences: int, min_relative: float) -> list[ScoredSentence]:
    """For a multi-part question, a different sentence for each part, in the parts' order.

    A part's candidates are the sentences that carry what it asks for, scoring within
    `min_relative` of its best (or its best ones when none does). The parts are served
    jointly, the best total of part scores: a sentence that fits two parts goes to the part
    that has nothing else as good.
    """
    count = min(len(sentences[0].part_scores), max_sentences)
    options: list[list[ScoredSentence]] = []
    for n in range(count):
        ranked = sorted(sentences, key=lambda s: -s.part_scores[n])
        typed = [s for s in ranked if s.part_typed[n] >= 1.0 and s.part_scores[n] >= min_relative * ranked[0].part_scores[n]]
        options.append((typed or ranked)[:_PART_OPTIONS])
    best: tuple[float, tuple[ScoredSentence, ...]] = (-1.0, ())
    for combo in itertools.product(*options):
        if len({id(s) for s in combo}) == len(combo):
            total = sum(s.part_scores[n] for n, s in enumerate(combo))
            if total > best[0]:
                best = (total, combo)
    return list(best[1])


# Candidates per part for the joint choice: 4**3 combinations at most.
_PART_OPTIONS = 4


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / (len(a | b) or 1)


def answer_from(retrieval: Retrieval, evidence: Evidence, *, retriever: Retriever) -> Answer:
    """The extractive answer (or abstention) for a finished retrieval and its `assess`ed evidence."""
    s = retriever.settings
    notes = list(retrieval.notes) + doubts.doubt_notes(retrieval, evidence)
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
