"""Hybrid search over the index, and the `Retriever` every surface (HTTP, bot, CLI) calls.

    reader = IndexReader.open("data/index")
    embedder = load_embedder(settings.model, backend=settings.embed_backend, cache_dir=settings.model_cache_dir)
    retriever = Retriever(reader, embedder, settings=settings)
    hits = retriever.search("who called the letter a mistake", top_k=5)
    answer = retriever.ask("Who called the letter a mistake?")

A search runs dense (FAISS cosine) and keyword (SQLite FTS5 BM25) retrieval with the filters
inside both, fuses the two rankings, applies time (a recency decay for "latest/this week"
questions, a date window written in the question), searches the keywords once more with the
words that distinguish the first results (pseudo-relevance feedback), caps passages per
article so evidence spans stories, and reports the outlets that carried each story.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar

import numpy as np

from newsbot.settings import Settings
from retrieval.followup import search_query
from retrieval.terms import TermStats
from retrieval.text import ArticleText, Sentence, content_terms, token_set
from retrieval.timeframe import EMPTY_WINDOW_NOTE, TimeFrame, parse_timeframe, published_day
from retrieval.types import Answer, ArticleSummary, Filters, Hit, SourceInfo, Turn

__all__ = ["Candidate", "Retrieval", "Retriever"]

log = logging.getLogger(__name__)

_V = TypeVar("_V")

_WORDS = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*")


@dataclass(slots=True)
class Candidate:
    """One passage on its way through fusion, with every score that shaped its rank."""

    chunk_id: int
    dense: float | None = None
    dense_rank: int | None = None
    keyword: float | None = None
    keyword_rank: int | None = None
    #: Rank in the keyword search expanded from the first results (`Retriever._expand`), when it ran.
    keyword_fb_rank: int | None = None
    fused: float = 0.0
    time_factor: float = 1.0
    in_window: bool = True
    score: float = 0.0


@dataclass(slots=True)
class Retrieval:
    """A search's ranked hits and what the answer step needs to know about how they were found."""

    question: str
    query: str
    as_of: date
    timeframe: TimeFrame
    hits: list[Hit]
    candidates: dict[int, Candidate]
    #: Words borrowed from the conversation for a follow-up question.
    context_terms: list[str] = field(default_factory=list)
    #: Highest dense cosine among all candidates (the evidence's semantic closeness).
    best_dense: float = 0.0
    notes: list[str] = field(default_factory=list)
    #: The question named a period the archive holds no article from (and `notes` says so).
    window_empty: bool = False


def _single_threaded_faiss() -> None:
    """One OpenMP thread per FAISS search.

    A query searches one vector: OpenMP's thread start-up and barrier spinning cost more than
    the search (measured on the Wikinews index under load: 24 ms a search with 2 threads, 1 ms
    with one), and concurrent requests already use the cores. Process-wide, as FAISS allows.
    """
    try:
        import faiss

        faiss.omp_set_num_threads(1)
    except ImportError:  # pragma: no cover - faiss-cpu is a hard dependency
        pass


class Retriever:
    """Search and answer over one index with one embedding model (the `Answerer` protocol).

    The reader and the embedder are given, never built here, so tests, the HTTP service and
    the bot share one object. Safe to call from several threads.
    """

    def __init__(self, reader: Any, embedder: Any, *, settings: Settings, generator: Any | None = None) -> None:
        self.reader = reader
        self.embedder = embedder
        self.settings = settings
        self.generator = generator
        self._terms: TermStats | None = None
        # Sentences of articles with their words, split and normalized once per article rather
        # than on every question that reads it (the answer step's main cost otherwise).
        self._articles: OrderedDict[str, ArticleText] = OrderedDict()
        # The same for a passage's whole word set (the answer step's evidence coverage).
        self._passage_words: OrderedDict[int, frozenset[str]] = OrderedDict()
        # And each passage's candidate words for pseudo-relevance feedback.
        self._feedback_cache: OrderedDict[int, dict[str, tuple[float, str]]] = OrderedDict()
        # Guards the caches: HTTP requests call one retriever from many threads.
        self._lock = threading.Lock()
        _single_threaded_faiss()

    # -- Answerer protocol -----------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        top_k: int | None = None,
        filters: Filters | None = None,
        as_of: date | None = None,
        history: list[Turn] | None = None,
    ) -> list[Hit]:
        """Ranked passages for `query`."""
        return self.retrieve(query, top_k=top_k, filters=filters, as_of=as_of, history=history).hits

    def ask(
        self,
        question: str,
        *,
        top_k: int | None = None,
        filters: Filters | None = None,
        history: list[Turn] | None = None,
        as_of: date | None = None,
    ) -> Answer:
        """An answer with `[n]` citations, or an abstention with the closest passages."""
        from retrieval.answer import answer_from, assess

        started = time.perf_counter()
        k = top_k or self.settings.top_k
        retrieval = self.retrieve(
            question, top_k=k, filters=filters, as_of=as_of, history=history, max_per_article=self.settings.answer_max_per_article
        )
        # Scored once: the generative path cites the same evidence the extractive answer chose from.
        evidence = assess(retrieval, retriever=self)
        answer = answer_from(retrieval, evidence, retriever=self)
        if self.generator is not None and not answer.abstained:
            from retrieval.generate import generative_answer

            answer = generative_answer(retrieval, evidence, answer, generator=self.generator, retriever=self)
        answer.took_ms = (time.perf_counter() - started) * 1000
        return answer

    def preload(self) -> None:
        """Get ready for many questions: keyword postings into memory (`keyword_memory_passages`).

        Long-running callers (the HTTP service, the bot, `newsbot eval`) call it once; a
        one-off CLI question does not, as loading costs more than FTS5 takes for one search.
        """
        self.reader.load_keyword_index(max_passages=self.settings.keyword_memory_passages)

    def sources(self) -> list[SourceInfo]:
        """Outlets in the archive with article counts and date ranges."""
        return [SourceInfo(**row) for row in self.reader.sources()]

    def latest(self, *, topic: str | None = None, limit: int = 5, as_of: date | None = None) -> list[ArticleSummary]:
        """Newest articles, or the newest about `topic` (searched, then sorted by date)."""
        if not topic:
            articles = self.reader.latest(limit)
        else:
            found = self.retrieve(topic, top_k=max(limit * 3, 10), as_of=as_of, recent=True)
            # Sorting by date would float any weak match to the top, so keep only passages that
            # share the topic's words or sit close to the best semantic match.
            ids = list(
                dict.fromkeys(
                    h.article_id
                    for h in found.hits
                    if found.candidates[h.chunk_id].keyword_rank is not None
                    or (found.candidates[h.chunk_id].dense or 0.0) >= found.best_dense - 0.1
                )
            )
            articles = self.reader.latest(limit, allowed_articles=ids) if ids else []
        return [
            ArticleSummary(article_id=a.id, title=a.title, source=a.source, published_at=a.published_at, url=a.url, summary=a.summary)
            for a in articles
        ]

    # -- retrieval -------------------------------------------------------------------------

    @property
    def terms(self) -> TermStats:
        """Document frequencies of the archive's words (counted once, cached beside the index)."""
        if self._terms is None:
            with self._lock:
                if self._terms is None:
                    self._terms = TermStats.for_reader(self.reader)
        return self._terms

    def retrieve(
        self,
        question: str,
        *,
        top_k: int | None = None,
        filters: Filters | None = None,
        as_of: date | None = None,
        history: list[Turn] | None = None,
        recent: bool | None = None,
        mode: str | None = None,
        max_per_article: int | None = None,
    ) -> Retrieval:
        """The full search: filters, dense + keyword, fusion, time, diversity, outlets."""
        s = self.settings
        k = top_k or s.top_k
        if k < 1:
            raise ValueError(f"top_k must be at least 1, got {k}")
        mode = mode or s.retrieval_mode
        cap = s.max_per_article if max_per_article is None else max_per_article
        explicit_as_of = as_of is not None
        as_of = as_of or date.today()
        filters = filters or Filters()
        query, context_terms = search_query(question, history)
        timeframe = parse_timeframe(question, as_of=as_of)
        if recent is not None:
            timeframe = TimeFrame(since=timeframe.since, until=timeframe.until, recent=recent, window_days=timeframe.window_days, phrase=timeframe.phrase)
        notes: list[str] = []
        window_empty = False

        until = filters.until
        if explicit_as_of and s.hide_after_as_of:
            until = min(until, as_of) if until else as_of
        allowed = self.reader.chunk_ids_where(sources=filters.sources, since=filters.since, until=until, article_ids=filters.article_ids)

        window_allowed: np.ndarray | None = None
        if timeframe.has_window and s.question_window != "off":
            w_until = timeframe.until + timedelta(days=s.window_slack_days) if timeframe.until else None
            w_since = max(filter(None, [timeframe.since, filters.since])) if timeframe.since or filters.since else None
            if w_until and until:
                w_until = min(w_until, until)
            window_allowed = self.reader.chunk_ids_where(sources=filters.sources, since=w_since, until=w_until, article_ids=filters.article_ids)
            if window_allowed is not None and len(window_allowed) == 0:
                notes.append(EMPTY_WINDOW_NOTE.format(phrase=timeframe.phrase))
                window_empty = True
                window_allowed = None
            elif s.question_window == "hard":
                allowed, window_allowed = window_allowed, None

        depth = max(s.candidate_k, k)
        candidates: dict[int, Candidate] = {}
        vector = self.embedder.encode_query(query) if mode in ("hybrid", "dense") else None
        keyword_query = self.keyword_query(query) if mode in ("hybrid", "keyword") else query
        # The whole (filtered) archive is ranked first; a question's date window then adds what
        # it holds beyond those lists, ranked after them, so the window can lift its own passages
        # without hiding later developments a multi-part question also asks about.
        for offset, restrict in ((0, allowed), (depth, window_allowed)):
            if offset and restrict is None:
                continue
            if vector is not None:
                for rank, (cid, cos) in enumerate(self.reader.dense_search(vector, depth, allowed=restrict)):
                    cand = candidates.setdefault(cid, Candidate(cid))
                    if cand.dense_rank is None:
                        cand.dense, cand.dense_rank = cos, offset + rank
            if mode in ("hybrid", "keyword"):
                for rank, (cid, bm25) in enumerate(self.reader.keyword_search(keyword_query, depth, allowed=restrict)):
                    cand = candidates.setdefault(cid, Candidate(cid))
                    if cand.keyword_rank is None:
                        cand.keyword, cand.keyword_rank = bm25, offset + rank
        if not candidates:
            return Retrieval(question, query, as_of, timeframe, [], {}, context_terms, 0.0, notes, window_empty)

        window_ids = set(window_allowed.tolist()) if window_allowed is not None else None
        chunks = self._score(candidates, mode=mode, as_of=as_of, timeframe=timeframe, window_ids=window_ids)
        # The expanded search is one more ranking for reciprocal rank fusion (a weighted sum of
        # scores has no place for it).
        if s.feedback_passages > 0 and s.feedback_terms > 0 and mode == "hybrid" and s.fusion == "rrf":
            self._expand(candidates, chunks, keyword_query=keyword_query, query=query, depth=depth, allowed=allowed)
            chunks = self._score(candidates, mode=mode, as_of=as_of, timeframe=timeframe, window_ids=window_ids, chunks=chunks)

        if s.lead_weight > 0:
            self._lift_leads(candidates, chunks, k=k, allowed=allowed)
        ranked = sorted((c for c in candidates.values() if c.chunk_id in chunks), key=lambda c: -c.score)
        picked: list[Candidate] = []
        per_article: dict[str, int] = {}
        for cand in ranked:
            article_id = chunks[cand.chunk_id].article_id
            if cap and per_article.get(article_id, 0) >= cap:
                continue
            per_article[article_id] = per_article.get(article_id, 0) + 1
            picked.append(cand)
            if len(picked) >= k:
                break

        article_ids = list(dict.fromkeys(chunks[c.chunk_id].article_id for c in picked))
        copies = self.reader.copies(article_ids) if article_ids else {}
        hits = []
        for cand in picked:
            chunk = chunks[cand.chunk_id]
            outlets = [chunk.source] if chunk.source else []
            for copy in copies.get(chunk.article_id, []):
                if copy.get("source") and copy["source"] not in outlets:
                    outlets.append(copy["source"])
            hits.append(
                Hit(
                    article_id=chunk.article_id,
                    chunk_id=chunk.chunk_id,
                    title=chunk.title,
                    source=chunk.source,
                    published_at=chunk.published_at,
                    url=chunk.url,
                    text=chunk.text,
                    score=cand.score,
                    start=chunk.start,
                    end=chunk.end,
                    outlets=outlets,
                )
            )
        best_dense = max((c.dense for c in candidates.values() if c.dense is not None), default=0.0)
        return Retrieval(question, query, as_of, timeframe, hits, candidates, context_terms, best_dense, notes, window_empty)

    def _score(
        self,
        candidates: dict[int, Candidate],
        *,
        mode: str,
        as_of: date,
        timeframe: TimeFrame,
        window_ids: set[int] | None,
        chunks: dict[int, Any] | None = None,
    ) -> dict[int, Any]:
        """Fuse the rankings and apply time: each candidate's `score`. Passages not yet in `chunks` are read into it; returns it."""
        s = self.settings
        self._fuse(list(candidates.values()), mode=mode)
        chunks = {} if chunks is None else chunks
        missing = [cid for cid in candidates if cid not in chunks]
        if missing:
            chunks.update((c.chunk_id, c) for c in self.reader.chunks(missing))
        for cand in candidates.values():
            chunk = chunks.get(cand.chunk_id)
            if chunk is None:
                cand.score = -1.0
                continue
            cand.time_factor = self._time_factor(chunk.published_at, as_of, timeframe)
            cand.in_window = window_ids is None or cand.chunk_id in window_ids
            cand.score = cand.fused * cand.time_factor * (1.0 if cand.in_window else s.window_penalty)
        return chunks

    def _expand(self, candidates: dict[int, Candidate], chunks: dict[int, Any], *, keyword_query: str, query: str, depth: int, allowed: np.ndarray | None) -> None:
        """Pseudo-relevance feedback (RM3): search the keywords again with what the first results say.

        A question in a reader's words ("which head of state resigned this week") shares few
        words with the passages that name the answer ("Prime Minister Boris Johnson"), but the
        story's best passages do name it. The words that are most distinctive of the first few
        results (one passage per article, weighted by rank, rarity in the archive and frequency
        in the passage) are added to the keyword query, and that search joins fusion as a ranking
        of its own, so the first rankings still count as much as before and a drifted expansion
        can only add candidates, never remove them.
        """
        s = self.settings
        asked = set(content_terms(query))
        weights: dict[str, float] = {}
        spelling: dict[str, str] = {}
        for rank, (_, chunk) in enumerate(_best_per_article(candidates, chunks, s.feedback_passages)):
            for term, (weight, word) in self._feedback_words(chunk).items():
                if term not in asked:
                    weights[term] = weights.get(term, 0.0) + weight / (1 + rank)
                    spelling.setdefault(term, word)
        expansion = sorted(weights, key=lambda t: -weights[t])[: s.feedback_terms]
        if not expansion:
            return
        expanded = f"{keyword_query} " + " ".join(spelling[t] for t in expansion)
        for rank, (cid, _) in enumerate(self.reader.keyword_search(expanded, depth, allowed=allowed)):
            candidates.setdefault(cid, Candidate(cid)).keyword_fb_rank = rank

    def _feedback_words(self, chunk: Any) -> dict[str, tuple[float, str]]:
        """A passage's candidate expansion words: term -> (frequency share x IDF, a spelling), cached.

        Counting and stemming a passage's words is the costly part of feedback, and the same
        passages lead for many questions; a generation never changes them.
        """

        def count() -> dict[str, tuple[float, str]]:
            words = _WORDS.findall(f"{chunk.title}. {chunk.text}")
            out: dict[str, tuple[float, str]] = {}
            for word, tf in Counter(word.lower() for word in words).items():
                term = _feedback_term(word)
                if term is None:
                    continue
                idf = self.terms.idf(term)
                if idf >= self.settings.keyword_min_idf:
                    # Spellings of one term ("resign", "resigned") add up under the first one.
                    share, spelling = out.get(term, (0.0, word))
                    out[term] = (share + tf / len(words) * idf, spelling)
            return out

        return self._cached(self._feedback_cache, chunk.chunk_id, _PASSAGE_CACHE, count)

    def _lift_leads(self, candidates: dict[int, Candidate], chunks: dict[int, Any], *, k: int, allowed: np.ndarray | None) -> None:
        """News is written lede first: an article found through any passage offers its opening one too.

        The first passage of each of the best-ranked articles scores at least `lead_weight`
        times the article's best passage, so the paragraph that states the story's who, what
        and when can stand beside the passage that matched the question's words.
        """
        best = {chunk.article_id: cand.score for cand, chunk in _best_per_article(candidates, chunks, k)}
        leads = self.reader.lead_chunks(list(best))
        if allowed is not None and leads:
            # A handful of ledes against the filter's ids (tens of thousands under a date filter).
            inside = np.isin(np.fromiter((c.chunk_id for c in leads), dtype=np.int64, count=len(leads)), allowed)
            leads = [c for c, ok in zip(leads, inside) if ok]
        for lead in leads:
            floor = self.settings.lead_weight * best[lead.article_id]
            cand = candidates.get(lead.chunk_id)
            if cand is None:
                cand = candidates[lead.chunk_id] = Candidate(lead.chunk_id)
                chunks[lead.chunk_id] = lead
            cand.score = max(cand.score, floor)

    def keyword_query(self, query: str) -> str:
        """The words of `query` worth matching: those most of the archive has are dropped.

        A word in a third of all articles ranks nothing, but makes FTS5 score every passage
        that has it; the rarest few words are always kept.
        """
        min_idf = self.settings.keyword_min_idf
        if min_idf <= 0:
            return query
        words = _WORDS.findall(query)
        scored = []
        for word in words:
            terms = content_terms(word)
            if terms:
                scored.append((self.terms.idf(terms[0]), word))
        if not scored:
            return query
        keep = {w for idf, w in scored if idf >= min_idf} | {w for _, w in sorted(scored, reverse=True)[:3]}
        return " ".join(w for _, w in scored if w in keep)

    def _fuse(self, candidates: Sequence[Candidate], *, mode: str) -> None:
        s = self.settings
        if mode == "dense":
            for c in candidates:
                c.fused = c.dense if c.dense is not None else 0.0
            return
        if mode == "keyword":
            top = max((c.keyword or 0.0 for c in candidates), default=1.0) or 1.0
            for c in candidates:
                c.fused = (c.keyword or 0.0) / top
            return
        if s.fusion == "rrf":
            for c in candidates:
                c.fused = sum(
                    weight / (s.rrf_k + rank + 1)
                    for weight, rank in ((s.dense_weight, c.dense_rank), (s.keyword_weight, c.keyword_rank), (s.keyword_weight, c.keyword_fb_rank))
                    if rank is not None
                )
            return
        # Weighted: cosine is already on a comparable scale; BM25 is divided by the best one so a
        # query's keyword scores land in [0, 1] whatever its length.
        top_kw = max((c.keyword or 0.0 for c in candidates), default=1.0) or 1.0
        floor_dense = min((c.dense for c in candidates if c.dense is not None), default=0.0)
        for c in candidates:
            dense = c.dense if c.dense is not None else floor_dense
            c.fused = s.dense_weight * dense + s.keyword_weight * ((c.keyword or 0.0) / top_kw)

    def _time_factor(self, published_at: str | None, as_of: date, timeframe: TimeFrame) -> float:
        """How much an article's date counts for this question (multiplies its fused score).

        "Latest" or "this week" asks for fresh news: a steep decay (`recency_*`). A question
        with no word about time still comes to a news archive, where the story of the last
        weeks is the likelier subject than an older one that matches as well (a question about
        an outbreak the WHO "is" reconsidering): a mild one (`background_recency_*`). Over an
        archive whose articles are all months older than `as_of` it is the same for every
        article, so it changes nothing there. A date window in the question says when instead.
        """
        s = self.settings
        if timeframe.recent:
            return self._recency(published_at, as_of, floor=s.recency_floor, half_life=s.recency_half_life_days)
        if timeframe.has_window or s.background_recency_floor >= 1.0:
            return 1.0
        return self._recency(published_at, as_of, floor=s.background_recency_floor, half_life=s.background_recency_half_life_days)

    @staticmethod
    def _recency(published_at: str | None, as_of: date, *, floor: float, half_life: float) -> float:
        """Decay with a floor: recent articles keep their score, old and undated ones keep the floor."""
        published = published_day(published_at)
        if published is None:
            return floor
        age = max(0, (as_of - published).days)
        return floor + (1.0 - floor) * 0.5 ** (age / half_life)

    # -- articles and sentences ------------------------------------------------------------

    def article_sentences(self, article_id: str) -> tuple[str, list[Sentence]]:
        """An article's body and its sentences (with offsets into the body), cached."""
        text = self.article_text(article_id)
        return text.body, text.sentences

    def article_text(self, article_id: str) -> ArticleText:
        """An article's body, sentences and each sentence's words, cached (least recently used out)."""

        def split() -> ArticleText:
            article = self.reader.article(article_id)
            return ArticleText.of(article.body if article is not None else "")

        return self._cached(self._articles, article_id, _ARTICLE_CACHE, split)

    def passage_words(self, hit: Hit) -> frozenset[str]:
        """`token_set` of a passage's text, cached by passage (a generation never changes one)."""
        return self._cached(self._passage_words, hit.chunk_id, _PASSAGE_CACHE, lambda: frozenset(token_set(hit.text)))

    def _cached(self, cache: OrderedDict[Any, _V], key: Any, limit: int, make: Callable[[], _V]) -> _V:
        """`cache[key]`, made by `make()` outside the lock on a miss; the least recently used go past `limit`."""
        with self._lock:
            value = cache.get(key)
            if value is not None:
                cache.move_to_end(key)
                return value
        value = make()
        with self._lock:
            cache[key] = value
            if len(cache) > limit:
                cache.popitem(last=False)
        return value


def _best_per_article(candidates: dict[int, Candidate], chunks: dict[int, Any], limit: int) -> list[tuple[Candidate, Any]]:
    """The best-scoring passage (candidate, chunk) of each of the `limit` best-ranked articles."""
    out: list[tuple[Candidate, Any]] = []
    seen: set[str] = set()
    for cand in sorted(candidates.values(), key=lambda c: -c.score):
        chunk = chunks.get(cand.chunk_id)
        if chunk is None or chunk.article_id in seen:
            continue
        seen.add(chunk.article_id)
        out.append((cand, chunk))
        if len(out) >= limit:
            break
    return out


@functools.lru_cache(maxsize=65_536)
def _feedback_term(word: str) -> str | None:
    """The term a feedback word stands for; None for stopwords and numbers (FTS5 splits "1,600")."""
    if not word[0].isalpha():
        return None
    terms = content_terms(word)
    return terms[0] if terms else None


# Passages whose word sets stay in memory: ~2-4 KB each.
_PASSAGE_CACHE = 8192
# Articles whose sentences stay split in memory: a few KB each, so every article of the
# Wikinews sample (370) and of the news-quiz collection (1,566) fits, and a larger archive's
# most-read ones.
_ARTICLE_CACHE = 4096
