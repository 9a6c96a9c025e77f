"""FTS5's own BM25, scored from postings held in memory.

SQLite FTS5 ranks a question against the archive in about 3.7 ms (Wikinews index, 2 cores):
it scores every passage holding any of the question's words (hundreds) through the
auxiliary-function API, one row at a time. A long-running service asks thousands of
questions of one immutable generation, so it pays to read the FTS5 index once, as postings
of (term, passage, weighted frequency), and score with numpy: the same formula, the same
tokens, the same statistics, so the same scores (a test holds the two to 1e-9) in a tenth of
the time.

FTS5 stays the source of truth: the postings come from its `fts5vocab` table and the
question's words from its tokenizer, so stemming and Unicode folding cannot drift.
"""

from __future__ import annotations

import logging
import math
import re
import sqlite3
import threading
import time
from array import array

import numpy as np

__all__ = ["KeywordIndex", "BM25_K1", "BM25_B", "TITLE_WEIGHT", "TEXT_WEIGHT"]

log = logging.getLogger(__name__)

#: FTS5's fixed bm25() parameters (sqlite/ext/fts5/fts5_aux.c).
BM25_K1 = 1.2
BM25_B = 0.75
#: The column weights of keyword search, in bm25() (index.store) and here: a title word
#: counts half a body word.
TITLE_WEIGHT = 0.5
TEXT_WEIGHT = 1.0

_PHRASE = re.compile(r'"((?:[^"]|"")*)"')
_TOKENIZE_OPTION = re.compile(r"tokenize\s*=\s*'((?:[^']|'')*)'", re.IGNORECASE)


class KeywordIndex:
    """BM25 over one generation's `chunks_fts`, as `-bm25(chunks_fts, 0.5, 1.0)` ranks it."""

    def __init__(
        self,
        terms: dict[str, tuple[int, int]],
        rowids: np.ndarray,
        docs: np.ndarray,
        freqs: np.ndarray,
        doc_norm: np.ndarray,
        rows: int,
        *,
        tokenizer: str = "unicode61",
    ) -> None:
        self._terms = terms  # term -> (start, end) of its postings
        self._rowids = rowids  # passage rowid by position, ascending
        self._docs = docs  # passage positions, grouped by term
        # BM25's term-frequency part of each posting, f * (k1 + 1) / (f + k1 * (1 - b + b * |D| / avgdl)),
        # with f the term's weighted count in the passage (title 0.5, text 1.0): all but the IDF.
        self._tf = freqs * (BM25_K1 + 1.0) / (freqs + doc_norm[docs])
        self._passages = int(doc_norm.size)
        self._rows = max(rows, 1)
        self._tokenizer = tokenizer  # chunks_fts's own, so a question's words stem as passages' did
        self._tokens: dict[str, tuple[str, ...]] = {}
        self._tokens_lock = threading.Lock()
        self._tokenizer_local = threading.local()
        # The last filter's passages as a mask: one question runs several keyword searches with
        # the same (cached) id array, and np.isin over tens of thousands of ids is most of a
        # filtered search's cost. Read and replaced as one tuple, so threads need no lock.
        self._allowed_mask: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def load(cls, conn: sqlite3.Connection) -> KeywordIndex:
        """Read the postings of `conn`'s `chunks_fts` (one pass over its fts5vocab instance table)."""
        started = time.perf_counter()
        conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.newsbot_fts_instances USING fts5vocab(main, chunks_fts, instance)")
        term_ids, occurrences, title = array("q"), array("q"), array("b")
        names: list[str] = []
        previous = None
        try:
            # One row per token occurrence, ordered by term: stopwords too, as FTS5 counts every
            # token in a passage's length. Streamed into flat arrays: 17 bytes an occurrence.
            for term, doc, is_title in conn.execute("SELECT term, doc, col = 'title' FROM temp.newsbot_fts_instances"):
                if term != previous:
                    names.append(term)
                    previous = term
                term_ids.append(len(names) - 1)
                occurrences.append(doc)
                title.append(is_title)
        finally:
            conn.execute("DROP TABLE IF EXISTS temp.newsbot_fts_instances")
        rows = conn.execute("SELECT count(*) FROM chunks_fts_docsize").fetchone()[0]
        (schema,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'chunks_fts'").fetchone()
        option = _TOKENIZE_OPTION.search(schema or "")
        tokenizer = option.group(1).replace("''", "'") if option else "unicode61"  # FTS5's default
        term_idx = np.frombuffer(term_ids, dtype=np.int64)
        weights = np.where(np.frombuffer(title, dtype=np.int8).astype(bool), TITLE_WEIGHT, TEXT_WEIGHT)
        rowids, positions = np.unique(np.frombuffer(occurrences, dtype=np.int64), return_inverse=True)
        # Rowids are 63-bit passage ids: passages are numbered 0..n-1 for the score arrays.
        lengths = np.bincount(positions, minlength=rowids.size).astype(np.float64)
        avgdl = lengths.sum() / rows if rows else 1.0
        norm = BM25_K1 * (1.0 - BM25_B + BM25_B * lengths / max(avgdl, 1e-12))

        # (term, passage) pairs with the summed column weights of their occurrences.
        n = max(int(rowids.size), 1)
        keys, inverse = np.unique(term_idx * n + positions, return_inverse=True)
        freqs = np.bincount(inverse, weights=weights)
        pair_terms = keys // n
        docs = keys % n
        bounds = np.searchsorted(pair_terms, np.arange(len(names) + 1))
        terms = {name: (int(bounds[i]), int(bounds[i + 1])) for i, name in enumerate(names)}
        log.info(
            "keyword index loaded",
            extra={"terms": len(terms), "postings": int(docs.size), "passages": rows, "seconds": round(time.perf_counter() - started, 3)},
        )
        return cls(terms, rowids, docs.astype(np.int32), freqs, norm, rows, tokenizer=tokenizer)

    def search(self, match: str, k: int, *, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The top `k` (rowid, score) for an FTS5 query of OR-ed quoted words, as `keyword_search` writes it.

        Raises ValueError for anything else (a phrase of several tokens, an operator), which
        the caller hands to FTS5 itself.
        """
        phrases = _PHRASE.findall(match)
        if not phrases or " OR ".join(f'"{p}"' for p in phrases) != match:
            raise ValueError(f"not an OR of quoted words: {match!r}")
        score = np.zeros(self._passages, dtype=np.float64)
        matched = False
        for phrase in phrases:
            tokens = self._tokens.get(phrase)
            if tokens is None:
                tokens = self._tokenize(phrase)
            if len(tokens) != 1:
                if not tokens:
                    continue  # FTS5 drops a phrase with no tokens from an OR
                raise ValueError(f"multi-token phrase {phrase!r}")
            start, end = self._terms.get(tokens[0], (0, 0))
            if start == end:
                continue
            hits = end - start
            idf = math.log((self._rows - hits + 0.5) / (hits + 0.5))
            if idf <= 0.0:
                idf = 1e-6  # as FTS5 does, so a word in most passages still counts a little
            # A phrase given twice (two words with one stem) counts twice, as in FTS5.
            score[self._docs[start:end]] += idf * self._tf[start:end]
            matched = True
        if not matched or k <= 0:
            return []
        # Every term adds a positive amount, so the passages matched are those scored above 0.
        found = np.flatnonzero(score)
        if allowed is not None:
            found = found[self._mask(allowed)[found]]
        if found.size == 0:
            return []
        scores = score[found]
        if found.size > k:
            keep = np.argpartition(-scores, k - 1)[:k]
            keep = np.flatnonzero(scores >= scores[keep].min())  # every tie at the cut-off
            found, scores = found[keep], scores[keep]
        # Ties broken by rowid, so equal scores rank the same way every time.
        order = np.lexsort((found, -scores))[:k]
        return list(zip(self._rowids[found[order]].tolist(), scores[order].tolist(), strict=True))

    def _mask(self, allowed: np.ndarray) -> np.ndarray:
        """Which passage positions `allowed` holds (cached for the last array seen)."""
        cached = self._allowed_mask
        if cached is not None and cached[0] is allowed:
            return cached[1]
        mask = np.isin(self._rowids, allowed)
        self._allowed_mask = (allowed, mask)
        return mask

    def _tokenize(self, text: str) -> tuple[str, ...]:
        """The tokens chunks_fts's tokenizer makes of a quoted phrase's `text` (then cached)."""
        conn = getattr(self._tokenizer_local, "conn", None)
        if conn is None:
            # A scratch FTS5 table with the same tokenizer: SQLite exposes no tokenize() call.
            conn = sqlite3.connect(":memory:", check_same_thread=False)
            quoted = self._tokenizer.replace("'", "''")
            conn.execute(f"CREATE VIRTUAL TABLE words USING fts5(w, tokenize = '{quoted}')")
            conn.execute("CREATE VIRTUAL TABLE words_vocab USING fts5vocab(words, instance)")
            self._tokenizer_local.conn = conn
        with conn:
            conn.execute("INSERT INTO words (rowid, w) VALUES (1, ?)", (text.replace('""', '"'),))
            tokens = tuple(t for (t,) in conn.execute("SELECT term FROM words_vocab ORDER BY offset"))
            conn.execute("DELETE FROM words WHERE rowid = 1")
        with self._tokens_lock:
            if len(self._tokens) > 100_000:
                self._tokens.clear()
            self._tokens[text] = tokens
        return tokens

