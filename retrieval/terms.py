"""How rare each word is in the archive: the weights of keyword overlap in answer selection.

A question's rare words ("Freewinds", "Milley") say far more about whether a sentence answers
it than its common ones ("said", "people"). Document frequencies are counted over article
titles and bodies once per index generation and kept beside the index, so later processes
load them instead of re-reading every article.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from retrieval.text import token_set

__all__ = ["TermStats"]

log = logging.getLogger(__name__)

_CACHE_DIR = "retrieval-cache"
_VERSION = 6  # bump whenever retrieval.text tokenization changes


class TermStats:
    """Document frequencies of folded, stemmed words over the articles of one index generation."""

    def __init__(self, df: dict[str, int], documents: int) -> None:
        self.df = df
        self.documents = max(1, documents)
        self._max_idf = math.log((self.documents + 1) / 0.5)

    @classmethod
    def count(cls, texts: Iterable[str]) -> TermStats:
        """Count over `texts`, one document each."""
        df: Counter[str] = Counter()
        n = 0
        for text in texts:
            df.update(token_set(text))
            n += 1
        return cls(dict(df), n)

    @classmethod
    def for_reader(cls, reader: Any) -> TermStats:
        """The statistics of `reader`'s generation, from the sidecar cache when it is there."""
        cache = Path(reader.index_dir) / _CACHE_DIR / f"terms-{reader.generation}.json"
        try:
            data = json.loads(cache.read_text(encoding="utf-8"))
            if data.get("version") == _VERSION:
                return cls(data["df"], data["documents"])
        except (OSError, ValueError, KeyError):
            pass

        def texts() -> Iterable[str]:
            for article_id in reader.article_ids():
                article = reader.article(article_id)
                if article is not None:
                    yield f"{article.title}\n{article.body}"

        stats = cls.count(texts())
        _write_atomically(cache, {"version": _VERSION, "documents": stats.documents, "df": stats.df})
        return stats

    def idf(self, term: str) -> float:
        """Inverse document frequency in [0, 1]: 1 for a word no article has, near 0 for one all have."""
        df = self.df.get(term, 0)
        return math.log((self.documents + 1) / (df + 0.5)) / self._max_idf

    def weights(self, terms: Iterable[str]) -> dict[str, float]:
        return {t: self.idf(t) for t in terms}


def _write_atomically(path: Path, payload: dict[str, Any]) -> None:
    # Best effort: an index folder we may not write to (read-only mount) just means recounting.
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".terms-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh)
        os.replace(tmp, path)
    except OSError as exc:
        log.info("term statistics not cached", extra={"path": str(path), "error": str(exc)})
