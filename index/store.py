"""On-disk index: generations of (SQLite + FAISS) behind an atomically switched CURRENT pointer.

Layout of `NEWSBOT_INDEX_DIR`::

    CURRENT                      name of the generation being served (replaced by rename)
    cache.sqlite                 embedding cache: (model fingerprint, text hash) -> vector
    generations/<name>/
        meta.json                model name, dim, fingerprint; index type; chunking; counts
        store.sqlite             articles, chunks, duplicate copies, FTS5 keyword index
        vectors.faiss            FAISS IndexIDMap over normalized vectors, ids = chunk ids
    .write.lock                  held by the one process writing a generation

A generation never changes once CURRENT names it, so readers open it immutable and need no
locks; a writer builds the next generation beside it and switches CURRENT with `os.replace`.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import IndexMissingError, ModelMismatchError, NewsbotIndexError
from index.keyword import TEXT_WEIGHT, TITLE_WEIGHT, KeywordIndex

__all__ = [
    "EmbeddingCache",
    "IndexReader",
    "StoredArticle",
    "StoredChunk",
    "current_generation",
    "generation_path",
    "migrate",
    "model_settings_hint",
    "SCHEMA_VERSION",
]

CURRENT = "CURRENT"
GENERATIONS = "generations"
STORE_DB = "store.sqlite"
VECTORS = "vectors.faiss"
META = "meta.json"
CACHE_DB = "cache.sqlite"
#: Chunk-id arrays of recent filters kept in memory (a filter over 1M passages is 8 MB).
_WHERE_CACHE_BYTES = 64 * 1024 * 1024
#: Passages kept in memory once read (~1.5 KB each: the whole news-quiz index fits).
_CHUNK_CACHE = 32_768

# Numbered migrations, applied in order on open; `PRAGMA user_version` records how far a file is.
_MIGRATIONS: list[str] = [
    # 1: articles, chunks, duplicate copies, keyword index
    """
    CREATE TABLE articles (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        url TEXT,
        canonical_url TEXT,
        source TEXT,
        published_at TEXT,
        date_source TEXT,
        author TEXT,
        category TEXT,
        summary TEXT,
        origin TEXT,
        metadata TEXT NOT NULL DEFAULT '{}',
        content_hash TEXT NOT NULL,
        body_hash TEXT NOT NULL,
        minhash BLOB,
        chunking TEXT NOT NULL,
        added_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    );
    CREATE INDEX articles_source ON articles(source);
    CREATE INDEX articles_published ON articles(published_at);
    CREATE INDEX articles_body_hash ON articles(body_hash);
    CREATE TABLE chunks (
        id INTEGER PRIMARY KEY,
        article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        start INTEGER NOT NULL,
        end INTEGER NOT NULL,
        text TEXT NOT NULL,
        embed_hash TEXT NOT NULL
    );
    CREATE INDEX chunks_article ON chunks(article_id, position);
    CREATE TABLE copies (
        copy_id TEXT PRIMARY KEY,
        article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        similarity REAL,
        title TEXT,
        url TEXT,
        source TEXT,
        published_at TEXT,
        origin TEXT,
        metadata TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX copies_article ON copies(article_id);
    CREATE VIRTUAL TABLE chunks_fts USING fts5(title, text, tokenize = 'porter unicode61 remove_diacritics 2');
    """,
]
SCHEMA_VERSION = len(_MIGRATIONS)

_CACHE_SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    fingerprint TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (fingerprint, text_hash)
) WITHOUT ROWID;
"""

# Words that carry no evidence; dropping them keeps FTS5 from scoring half the archive.
_STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below between both but by
    can could did do does doing down during each few for from further had has have having he her here hers herself him himself
    his how i if in into is it its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them themselves then there these they this
    those through to too under until up very was we were what when where which while who whom why will with would you your
    yours yourself yourselves said says say according also""".split()
)
_WORD = re.compile(r"[\w][\w'’.-]*[\w]|[\w]", re.UNICODE)


def migrate(conn: sqlite3.Connection) -> None:
    """Bring a store database up to SCHEMA_VERSION."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise NewsbotIndexError(f"index schema {version} is newer than this NewsBot ({SCHEMA_VERSION}); upgrade NewsBot")
    for number, script in enumerate(_MIGRATIONS[version:], start=version + 1):
        conn.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")


def generation_path(index_dir: Path, name: str) -> Path:
    return Path(index_dir) / GENERATIONS / name


def current_generation(index_dir: Path) -> str | None:
    """The name CURRENT points at, or None before the first build."""
    try:
        name = (Path(index_dir) / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name or None


def fts_query(text: str) -> str | None:
    """An FTS5 OR-query of the informative words of `text` (None when nothing is left)."""
    terms: list[str] = []
    for word in _WORD.findall(text.casefold()):
        word = word.strip(".'’-")
        if len(word) < 2 and not word.isdigit() or word in _STOPWORDS:
            continue
        # Split on inner punctuation as the unicode61 tokenizer would, then quote each part.
        for part in re.split(r"[^\w]+", word):
            if part and part not in _STOPWORDS and f'"{part}"' not in terms:
                terms.append(f'"{part}"')
    return " OR ".join(terms) if terms else None


class EmbeddingCache:
    """Vectors already computed, keyed by model fingerprint and the hash of the embedded text.

    Shared by all generations (and by a CLI build and a running server), so it uses WAL.
    """

    def __init__(self, path: Path, *, dim: int) -> None:
        self.dim = dim
        self._conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_CACHE_SCHEMA)

    def get_many(self, fingerprint: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        for i in range(0, len(unique), 500):
            batch = unique[i : i + 500]
            marks = ",".join("?" * len(batch))
            rows = self._conn.execute(
                f"SELECT text_hash, vector FROM embeddings WHERE fingerprint = ? AND text_hash IN ({marks})",
                [fingerprint, *batch],
            )
            for text_hash, blob in rows:
                found[text_hash] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, fingerprint: str, items: Iterable[tuple[str, np.ndarray]]) -> None:
        with self._conn:
            self._conn.executemany(
                "INSERT OR REPLACE INTO embeddings (fingerprint, text_hash, vector) VALUES (?, ?, ?)",
                ((fingerprint, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items),
            )

    def close(self) -> None:
        self._conn.close()


@dataclass(slots=True, frozen=True)
class StoredChunk:
    """A passage with the article facts a hit or a citation shows (frozen: readers cache them)."""

    chunk_id: int
    article_id: str
    position: int
    start: int
    end: int
    text: str
    title: str
    source: str | None
    published_at: str | None
    date_source: str | None
    url: str | None


@dataclass(slots=True)
class StoredArticle:
    """An article as stored, with the copies of it that were folded into it."""

    id: str
    title: str
    body: str
    url: str | None
    source: str | None
    published_at: str | None
    date_source: str | None
    author: str | None
    category: str | None
    summary: str | None
    metadata: dict[str, Any]
    copies: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "url": self.url,
            "source": self.source,
            "published_at": self.published_at,
            "date_source": self.date_source,
            "author": self.author,
            "category": self.category,
            "summary": self.summary,
            "metadata": self.metadata,
            "copies": self.copies,
        }


_CHUNK_COLUMNS = (
    "c.id, c.article_id, c.position, c.start, c.end, c.text, a.title, a.source, a.published_at, a.date_source, a.url"
)
_ARTICLE_COLUMNS = "id, title, body, url, source, published_at, date_source, author, category, summary, metadata"


def _article_from_row(row: Sequence[Any]) -> StoredArticle:
    return StoredArticle(*row[:10], metadata=json.loads(row[10] or "{}"))


class IndexReader:
    """Read-only view of one published generation: dense and keyword search, articles, stats.

    Safe to share between threads: each thread gets its own SQLite connection, and FAISS
    searches on a built index do not mutate it.
    """

    def __init__(self, index_dir: Path, generation: str) -> None:
        from index.vectors import load_vector_index

        self.index_dir = Path(index_dir)
        self.generation = generation
        self.path = generation_path(self.index_dir, generation)
        meta_path = self.path / META
        if not meta_path.exists():
            raise IndexMissingError(f"index generation {generation} in {self.index_dir} is incomplete; run `newsbot index build`")
        self.meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
        search = self.meta.get("search_params", {})
        self._vectors = load_vector_index(self.path / VECTORS, **search)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        self._where_cache: OrderedDict[tuple[Any, ...], np.ndarray | None] = OrderedDict()
        self._chunk_cache: OrderedDict[int, StoredChunk] = OrderedDict()
        self._keyword: KeywordIndex | None = None  # once load_keyword_index ran

    @classmethod
    def open(cls, index_dir: Path | str) -> "IndexReader":
        """Open the generation CURRENT names."""
        index_dir = Path(index_dir)
        name = current_generation(index_dir)
        if name is None:
            raise IndexMissingError(f"no index in {index_dir}: run `newsbot index build` first")
        return cls(index_dir, name)

    # -- connections ---------------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise NewsbotIndexError("index reader is closed")
            # immutable=1: the file never changes once published, so SQLite may skip locking.
            uri = f"file:{self.path / STORE_DB}?mode=ro&immutable=1"
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        self._closed = True
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()

    # -- model -----------------------------------------------------------------------------

    def check_model(self, embedder: Any) -> None:
        """Refuse to search with another model than the one the vectors came from."""
        model = self.meta.get("model", {})
        if model.get("fingerprint") != embedder.fingerprint or model.get("dim") != embedder.dim:
            raise ModelMismatchError(
                f"the index in {self.index_dir} was built with model {model.get('model')!r} "
                f"(dim {model.get('dim')}, fingerprint {model.get('fingerprint')}), but the configured model is "
                f"{embedder.name!r} (dim {embedder.dim}, fingerprint {embedder.fingerprint}). "
                f"Rebuild it with this model: `newsbot index build`, or set {model_settings_hint(model)}"
            )

    # -- search -----------------------------------------------------------------------------

    def dense_search(self, vector: np.ndarray, k: int, *, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Nearest passages by cosine similarity; `allowed` restricts ids inside the search."""
        from index.vectors import search_vectors

        if k <= 0 or (allowed is not None and len(allowed) == 0):
            return []
        scores, ids = search_vectors(self._vectors, np.asarray(vector, dtype=np.float32).reshape(1, -1), k, allowed_ids=allowed)
        return [(int(i), float(s)) for s, i in zip(scores[0], ids[0]) if i >= 0]

    def load_keyword_index(self, *, max_passages: int) -> bool:
        """Hold this generation's keyword postings in memory when it has at most `max_passages`.

        Worth it for a process that answers many questions (the HTTP service, `newsbot eval`):
        loading reads the FTS5 index once (0.4 s for 2,000 passages), then each keyword search
        costs a tenth of FTS5's or less, with the same scores. A one-off CLI question skips it.
        """
        if self._keyword is not None:
            return True
        db = self._db()
        passages = int(self.meta.get("chunks") or db.execute("SELECT count(*) FROM chunks").fetchone()[0])
        if max_passages <= 0 or passages > max_passages:
            return False
        keyword = KeywordIndex.load(db)
        with self._lock:
            self._keyword = keyword
        return True

    @property
    def keyword_in_memory(self) -> bool:
        return self._keyword is not None

    def keyword_search(self, query: str, k: int, *, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """BM25 (SQLite FTS5) over title and passage; higher is better."""
        match = fts_query(query)
        if match is None or k <= 0 or (allowed is not None and len(allowed) == 0):
            return []
        if self._keyword is not None:
            try:
                return self._keyword.search(match, k, allowed=allowed)
            except ValueError:
                pass  # a phrase of several tokens: FTS5 matches phrases itself
        db = self._db()
        # bm25() is lower-is-better; the title column counts for less than the passage.
        sql = f"SELECT rowid, -bm25(chunks_fts, {TITLE_WEIGHT}, {TEXT_WEIGHT}) AS score FROM chunks_fts WHERE chunks_fts MATCH ?"
        params: list[Any] = [match]
        if allowed is not None:
            # The connection is this thread's, so its temp table still holds the ids of the last
            # filtered search; the same (cached) filter again skips refilling it.
            if getattr(self._local, "allowed", None) is not allowed:
                db.execute("CREATE TEMP TABLE IF NOT EXISTS allowed_ids (id INTEGER PRIMARY KEY)")
                db.execute("DELETE FROM allowed_ids")
                db.executemany("INSERT OR IGNORE INTO allowed_ids (id) VALUES (?)", ((int(i),) for i in allowed))
                self._local.allowed = allowed
            # `+rowid` keeps the constraint away from FTS5's planner: given `rowid IN (...)` it
            # re-runs the MATCH once per allowed id (seconds); this way it matches once, then filters.
            sql += " AND +rowid IN (SELECT id FROM allowed_ids)"
        sql += " ORDER BY score DESC LIMIT ?"
        params.append(k)
        try:
            return [(int(r[0]), float(r[1])) for r in db.execute(sql, params)]
        except sqlite3.OperationalError:
            return []

    def chunk_ids_where(
        self,
        *,
        sources: Sequence[str] = (),
        since: date | str | None = None,
        until: date | str | None = None,
        article_ids: Sequence[str] = (),
    ) -> np.ndarray | None:
        """Chunk ids passing the filters, or None when nothing is filtered.

        Cached per filter: a generation never changes, and a question's date window ("in
        2020") or a bot user's source filter comes back on request after request, each time
        costing a join over every passage (1 ms of the ~13 a Wikinews `ask` takes).
        """
        key = (
            tuple(sorted({s.casefold() for s in sources})),
            str(since)[:10] if since else None,
            str(until)[:10] if until else None,
            tuple(sorted(set(article_ids))),
        )
        with self._lock:
            if key in self._where_cache:
                self._where_cache.move_to_end(key)
                return self._where_cache[key]
        ids = self._select_chunk_ids(sources=sources, since=since, until=until, article_ids=article_ids)
        if ids is not None:
            ids.flags.writeable = False  # shared by every search with this filter
        with self._lock:
            self._where_cache[key] = ids
            while len(self._where_cache) > 1 and sum(a.nbytes for a in self._where_cache.values() if a is not None) > _WHERE_CACHE_BYTES:
                self._where_cache.popitem(last=False)
        return ids

    def _select_chunk_ids(
        self, *, sources: Sequence[str], since: date | str | None, until: date | str | None, article_ids: Sequence[str]
    ) -> np.ndarray | None:
        clauses: list[str] = []
        params: list[Any] = []
        if sources:
            lowered = [s.casefold() for s in sources]
            clauses.append(f"lower(a.source) IN ({','.join('?' * len(lowered))})")
            params.extend(lowered)
        if since:
            clauses.append("a.published_at IS NOT NULL AND substr(a.published_at, 1, 10) >= ?")
            params.append(str(since)[:10])
        if until:
            clauses.append("a.published_at IS NOT NULL AND substr(a.published_at, 1, 10) <= ?")
            params.append(str(until)[:10])
        if article_ids:
            clauses.append(f"a.id IN ({','.join('?' * len(article_ids))})")
            params.extend(article_ids)
        if not clauses:
            return None
        rows = self._db().execute(
            f"SELECT c.id FROM chunks c JOIN articles a ON a.id = c.article_id WHERE {' AND '.join(clauses)}", params
        ).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    # -- lookups ---------------------------------------------------------------------------

    def chunks(self, ids: Sequence[int]) -> list[StoredChunk]:
        """Passages by id, in the order asked (unknown ids are left out)."""
        if not ids:
            return []
        wanted = [int(i) for i in ids]
        # Every search reads its ~100 candidates' rows again (1 ms of a Wikinews `ask`); the
        # generation never changes, so the rows read stay in memory, least recently used out.
        by_id: dict[int, StoredChunk] = {}
        with self._lock:
            for i in wanted:
                if (cached := self._chunk_cache.get(i)) is not None:
                    self._chunk_cache.move_to_end(i)
                    by_id[i] = cached
        missing = [i for i in wanted if i not in by_id]
        if missing:
            fetched = self._chunks_where(f"c.id IN ({','.join('?' * len(missing))})", missing)
            by_id.update((c.chunk_id, c) for c in fetched)
            with self._lock:
                for c in fetched:
                    self._chunk_cache[c.chunk_id] = c
                while len(self._chunk_cache) > _CHUNK_CACHE:
                    self._chunk_cache.popitem(last=False)
        return [by_id[i] for i in wanted if i in by_id]

    def lead_chunks(self, article_ids: Sequence[str]) -> list[StoredChunk]:
        """The first passage of each article (its lede), in no particular order."""
        if not article_ids:
            return []
        return self._chunks_where(f"c.article_id IN ({','.join('?' * len(article_ids))}) AND c.position = 0", list(article_ids))

    def article_chunks(self, article_id: str) -> list[StoredChunk]:
        return self._chunks_where("c.article_id = ? ORDER BY c.position", [article_id])

    def _chunks_where(self, where: str, params: Sequence[Any]) -> list[StoredChunk]:
        rows = self._db().execute(f"SELECT {_CHUNK_COLUMNS} FROM chunks c JOIN articles a ON a.id = c.article_id WHERE {where}", params)
        return [StoredChunk(*row) for row in rows]

    def article(self, article_id: str) -> StoredArticle | None:
        row = self._db().execute(f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id = ?", [article_id]).fetchone()
        if row is None:
            return None
        article = _article_from_row(row)
        article.copies = self.copies([article_id]).get(article_id, [])
        return article

    def copies(self, article_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Copies folded into each article (exact or near duplicates, same url)."""
        if not article_ids:
            return {}
        marks = ",".join("?" * len(article_ids))
        out: dict[str, list[dict[str, Any]]] = {}
        rows = self._db().execute(
            f"SELECT article_id, copy_id, kind, similarity, title, url, source, published_at, metadata FROM copies "
            f"WHERE article_id IN ({marks}) ORDER BY published_at",
            list(article_ids),
        )
        for aid, cid, kind, sim, title, url, source, published, meta in rows:
            out.setdefault(aid, []).append(
                {"article_id": cid, "kind": kind, "similarity": sim, "title": title, "url": url, "source": source,
                 "published_at": published, "metadata": json.loads(meta or "{}")}
            )
        return out

    def sources(self) -> list[dict[str, Any]]:
        rows = self._db().execute(
            "SELECT coalesce(source, ''), count(*), min(substr(published_at, 1, 10)), max(substr(published_at, 1, 10)) "
            "FROM articles GROUP BY coalesce(source, '') ORDER BY count(*) DESC, 1"
        )
        return [
            {"name": name or "(unknown)", "articles": n, "first_published": first, "last_published": last}
            for name, n, first, last in rows
        ]

    def latest(self, limit: int, *, allowed_articles: Sequence[str] | None = None) -> list[StoredArticle]:
        """Newest articles first (undated ones last)."""
        sql = f"SELECT {_ARTICLE_COLUMNS} FROM articles"
        params: list[Any] = []
        if allowed_articles is not None:
            if not allowed_articles:
                return []
            sql += f" WHERE id IN ({','.join('?' * len(allowed_articles))})"
            params.extend(allowed_articles)
        sql += " ORDER BY published_at IS NULL, published_at DESC, title LIMIT ?"
        params.append(limit)
        return [_article_from_row(row) for row in self._db().execute(sql, params)]

    def article_ids(self) -> list[str]:
        return [r[0] for r in self._db().execute("SELECT id FROM articles ORDER BY id")]

    def stats(self) -> dict[str, Any]:
        db = self._db()
        articles, first, last = db.execute(
            "SELECT count(*), min(substr(published_at, 1, 10)), max(substr(published_at, 1, 10)) FROM articles"
        ).fetchone()
        chunks = db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        sources = db.execute("SELECT count(DISTINCT source) FROM articles").fetchone()[0]
        duplicates = db.execute("SELECT count(*) FROM copies").fetchone()[0]
        size = sum(p.stat().st_size for p in self.path.iterdir() if p.is_file())
        cache = self.index_dir / CACHE_DB
        model = self.meta.get("model", {})
        return {
            "articles": articles,
            "chunks": chunks,
            "sources": sources,
            "duplicates": duplicates,
            "first_published": first,
            "last_published": last,
            "model": model.get("model"),
            "model_fingerprint": model.get("fingerprint"),
            "dim": model.get("dim"),
            "index_type": self.meta.get("index_type"),
            "generation": self.generation,
            "built_at": self.meta.get("built_at"),
            "bytes_on_disk": size,
            "cache_bytes": cache.stat().st_size if cache.exists() else 0,
            # Where this process ranks keywords: postings in memory, or FTS5 queries.
            "keyword_index": "memory" if self._keyword is not None else "fts5",
        }


def model_settings_hint(model: dict[str, Any]) -> str:
    """The settings that select the model an index was built with (older indexes record no backend)."""
    return f"NEWSBOT_MODEL={model.get('model')} NEWSBOT_EMBED_BACKEND={model.get('backend', 'torch')}"
