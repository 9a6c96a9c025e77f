"""Writing the index: ingest, deduplicate, chunk, embed (through the cache), publish atomically.

Every change (a full build, `add`, `remove`, an article posted over HTTP) writes a new
generation beside the one being served and then switches CURRENT by rename, so a crash or a
Ctrl-C at any point leaves the previous index whole and servable.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import itertools
import json
import logging
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.chunk import Chunker, embedding_text
from index.embed import Embedder
from index.errors import ModelMismatchError, NewsbotIndexError
from index.models import Article, IngestProblem, canonical_url, normalize_body
from index.store import (
    CACHE_DB,
    CURRENT,
    GENERATIONS,
    META,
    SCHEMA_VERSION,
    STORE_DB,
    VECTORS,
    EmbeddingCache,
    current_generation,
    generation_path,
    migrate,
    model_settings_hint,
)

__all__ = ["BuildReport", "update_index"]

log = logging.getLogger(__name__)

_BUILDING = ".building"
_NUM_PERM = 128
_SHINGLE = 5
# Stored signatures are only comparable under the scheme that made them, so it is fixed here.
_SCHEME = "affine64"


@dataclass(slots=True)
class BuildReport:
    """What a build, add or remove did."""

    mode: str
    generation: str | None = None
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    problems: list[IngestProblem] = field(default_factory=list)
    missing_ids: list[str] = field(default_factory=list)
    articles: int = 0
    chunks: int = 0
    chunks_embedded: int = 0
    chunks_cached: int = 0
    published: bool = False
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    #: Ids of the articles this run added or updated, in input order.
    article_ids: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """The one line a user sees at the end."""
        state = f"generation {self.generation}" if self.published else "index unchanged"
        return (
            f"{self.articles} articles, {self.chunks} chunks ({state}): {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.removed} removed, {len(self.duplicates)} duplicates, "
            f"{len(self.problems)} skipped; {self.chunks_embedded} passages embedded, {self.chunks_cached} from cache "
            f"in {self.seconds:.1f}s"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "generation": self.generation,
            "published": self.published,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "duplicates": self.duplicates,
            "skipped": [{"origin": p.origin, "line": p.line, "reason": p.reason} for p in self.problems],
            "missing_ids": self.missing_ids,
            "articles": self.articles,
            "chunks": self.chunks,
            "chunks_embedded": self.chunks_embedded,
            "chunks_cached": self.chunks_cached,
            "seconds": round(self.seconds, 3),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "article_ids": self.article_ids,
        }


# --- helpers -----------------------------------------------------------------------------------


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _chunk_id(article_id: str, position: int, start: int, end: int, text_hash: str) -> int:
    """A 53-bit id from the passage's identity: a rebuild of the same text gives the same id.

    53 bits so that JavaScript clients (the chat page) read it exactly; collisions stay
    negligible at archive sizes (about 1 in 18,000 at a million passages).
    """
    digest = hashlib.sha256(f"{article_id}|{position}|{start}|{end}|{text_hash}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << 53) - 1)


def _minhash(body: str) -> Any:
    from datasketch import MinHash

    words = normalize_body(body).split()
    shingles = {" ".join(words[i : i + _SHINGLE]) for i in range(max(1, len(words) - _SHINGLE + 1))}
    mh = MinHash(num_perm=_NUM_PERM, scheme=_SCHEME)
    mh.update_batch([s.encode("utf-8") for s in shingles])
    return mh


def _minhash_blob(mh: Any) -> bytes:
    return np.asarray(mh.hashvalues, dtype=np.uint64).tobytes()


def _minhash_from_blob(blob: bytes) -> Any:
    from datasketch import MinHash

    return MinHash(num_perm=_NUM_PERM, hashvalues=np.frombuffer(blob, dtype=np.uint64), scheme=_SCHEME)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(path: Path, data: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


@contextlib.contextmanager
def _write_lock(index_dir: Path) -> Iterator[None]:
    """One writer at a time per index folder (a CLI build and a server ingest wait for each other)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".write.lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _iter_inputs(
    inputs: Sequence[str], *, field_map: Mapping[str, str] | None, settings: Any, seen: Any = None
) -> Iterator[Article | IngestProblem]:
    from index.ingest import iter_articles

    urls = [i for i in inputs if _looks_like_url(i)]
    paths = [i for i in inputs if not _looks_like_url(i)]
    for path in paths:
        if not Path(path).exists():
            yield IngestProblem(origin=path, reason="no such file or folder")
    existing = [p for p in paths if Path(p).exists()]
    if existing:
        yield from iter_articles(existing, field_map=field_map)
    if urls:
        from index.fetch import fetch_urls

        yield from fetch_urls(
            urls,
            user_agent=settings.fetch_user_agent,
            timeout=settings.fetch_timeout,
            min_interval=settings.fetch_min_interval,
            seen=seen,
        )


def _looks_like_url(value: str) -> bool:
    return value.split("://", 1)[0].lower() in ("http", "https") and "://" in value


def _progress(iterable: Iterable[Any], *, enabled: bool, **kwargs: Any) -> Iterable[Any]:
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, **kwargs)


# --- the writer --------------------------------------------------------------------------------


class _GenerationWriter:
    """Fills one new generation's SQLite file; knows nothing about where inputs came from."""

    def __init__(self, db: sqlite3.Connection, *, chunker: Chunker, chunking_sig: str, threshold: float) -> None:
        from datasketch import MinHashLSH

        self.db = db
        self.chunker = chunker
        self.chunking_sig = chunking_sig
        self.threshold = threshold
        # LSH banding tuned at the threshold itself finds a pair just above it only part of the
        # time (0.945 about 3 times in 4); a lower candidate threshold, then the exact
        # similarity check in find_duplicate, finds them all.
        self.lsh = MinHashLSH(threshold=max(0.5, threshold - 0.25), num_perm=_NUM_PERM)
        self.minhashes: dict[str, Any] = {}
        for aid, blob in db.execute("SELECT id, minhash FROM articles WHERE minhash IS NOT NULL"):
            mh = _minhash_from_blob(blob)
            self.minhashes[aid] = mh
            self.lsh.insert(aid, mh)
        self.seen_this_run: set[str] = set()

    def existing(self, article_id: str) -> tuple[str, str] | None:
        row = self.db.execute("SELECT content_hash, chunking FROM articles WHERE id = ?", [article_id]).fetchone()
        return (row[0], row[1]) if row else None

    def delete_article(self, article_id: str) -> None:
        ids = [r[0] for r in self.db.execute("SELECT id FROM chunks WHERE article_id = ?", [article_id])]
        self.db.executemany("DELETE FROM chunks_fts WHERE rowid = ?", ((i,) for i in ids))
        self.db.execute("DELETE FROM chunks WHERE article_id = ?", [article_id])
        self.db.execute("DELETE FROM copies WHERE article_id = ? OR copy_id = ?", [article_id, article_id])
        self.db.execute("DELETE FROM articles WHERE id = ?", [article_id])
        if article_id in self.minhashes:
            self.lsh.remove(article_id)
            del self.minhashes[article_id]

    def find_duplicate(self, article: Article, body_hash: str, mh: Any) -> tuple[str, str, float] | None:
        """(primary id, kind, similarity) when `article` is a copy of a stored article."""
        row = self.db.execute("SELECT id FROM articles WHERE body_hash = ? AND id != ? LIMIT 1", [body_hash, article.id]).fetchone()
        if row:
            return row[0], "exact", 1.0
        best: tuple[str, str, float] | None = None
        for candidate in self.lsh.query(mh):
            if candidate == article.id:
                continue
            similarity = float(mh.jaccard(self.minhashes[candidate]))
            if similarity >= self.threshold and (best is None or similarity > best[2]):
                best = (candidate, "near", similarity)
        return best

    def record_copy(self, article: Article, primary: str, kind: str, similarity: float) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO copies (copy_id, article_id, kind, similarity, title, url, source, published_at, origin, metadata) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [article.id, primary, kind, similarity, article.title, article.url, article.source, article.published_at,
             article.origin, json.dumps(article.metadata, ensure_ascii=False, default=str)],
        )

    def insert(self, article: Article, *, body_hash: str, mh: Any) -> list[tuple[int, str, str]]:
        """Store the article and its chunks; returns (chunk id, embed hash, embed text) for each chunk."""
        self.db.execute(
            "INSERT INTO articles (id, title, body, url, canonical_url, source, published_at, date_source, author, category, "
            "summary, origin, metadata, content_hash, body_hash, minhash, chunking) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [article.id, article.title, article.body, article.url, canonical_url(article.url) if article.url else None,
             article.source, article.published_at, article.date_source, article.author, article.category, article.summary,
             article.origin, json.dumps(article.metadata, ensure_ascii=False, default=str), article.content_hash, body_hash,
             _minhash_blob(mh), self.chunking_sig],
        )
        self.minhashes[article.id] = mh
        self.lsh.insert(article.id, mh)
        pending: list[tuple[int, str, str]] = []
        rows = []
        for chunk in self.chunker.split(article.id, article.body):
            text = embedding_text(article.title, chunk.text, self.chunker._tokenizer)
            embed_hash = _sha(text)
            cid = _chunk_id(article.id, chunk.position, chunk.start, chunk.end, embed_hash)
            rows.append((cid, article.id, chunk.position, chunk.start, chunk.end, chunk.text, embed_hash))
            pending.append((cid, embed_hash, text))
        self.db.executemany("INSERT INTO chunks (id, article_id, position, start, end, text, embed_hash) VALUES (?,?,?,?,?,?,?)", rows)
        self.db.executemany(
            "INSERT INTO chunks_fts (rowid, title, text) VALUES (?, ?, ?)", ((r[0], article.title, r[5]) for r in rows)
        )
        return pending

    def copy_from(self, prev: str, article_id: str) -> None:
        """Carry an unchanged article over from the previous generation (already attached as `prev`)."""
        self.db.execute(f"INSERT INTO articles SELECT * FROM {prev}.articles WHERE id = ?", [article_id])
        self.db.execute(f"INSERT INTO chunks SELECT * FROM {prev}.chunks WHERE article_id = ?", [article_id])
        self.db.execute(
            "INSERT INTO chunks_fts (rowid, title, text) SELECT c.id, a.title, c.text FROM chunks c JOIN articles a "
            "ON a.id = c.article_id WHERE c.article_id = ?",
            [article_id],
        )
        blob = self.db.execute("SELECT minhash FROM articles WHERE id = ?", [article_id]).fetchone()[0]
        mh = _minhash_from_blob(blob)
        self.minhashes[article_id] = mh
        self.lsh.insert(article_id, mh)


def _chunking_signature(embedder: Embedder, chunker: Chunker) -> str:
    return json.dumps(
        {"fingerprint": embedder.fingerprint, "chunk_tokens": chunker.chunk_tokens, "overlap": chunker.overlap_tokens, "v": 2},
        sort_keys=True,
    )


def update_index(
    index_dir: Path | str,
    *,
    embedder: Embedder,
    settings: Any,
    inputs: Sequence[str] = (),
    articles: Iterable[Article | IngestProblem] = (),
    mode: str = "add",
    remove: Sequence[str] = (),
    field_map: Mapping[str, str] | None = None,
    progress: bool = False,
) -> BuildReport:
    """Write a new generation from the current one (`add`) or from scratch (`rebuild`) and publish it.

    `inputs` are paths and URLs; `articles` are already-parsed articles (the HTTP ingest).
    Unchanged articles are carried over or rebuilt from the embedding cache; nothing is
    published when nothing changed.
    """
    if mode not in ("add", "rebuild"):
        raise ValueError(f"mode must be 'add' or 'rebuild', got {mode!r}")
    index_dir = Path(index_dir)
    started = time.perf_counter()
    report = BuildReport(mode=mode)
    with _write_lock(index_dir):
        _collect_garbage(index_dir, keep=settings.keep_generations)
        prev_name = current_generation(index_dir)
        prev_path = generation_path(index_dir, prev_name) if prev_name else None
        prev_meta = json.loads((prev_path / META).read_text()) if prev_path and (prev_path / META).exists() else None
        if mode == "add" and prev_meta:
            model = prev_meta.get("model", {})
            if model.get("fingerprint") != embedder.fingerprint:
                raise ModelMismatchError(
                    f"the index in {index_dir} was built with model {model.get('model')!r} (fingerprint {model.get('fingerprint')}); "
                    f"the configured model is {embedder.name!r} ({embedder.fingerprint}). Adding would mix vectors of two models: "
                    f"rebuild with `newsbot index build`, or set {model_settings_hint(model)}"
                )
        name = time.strftime("g%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        gen = generation_path(index_dir, name)
        gen.mkdir(parents=True)
        (gen / _BUILDING).touch()
        try:
            _fill_generation(
                gen, prev_path=prev_path if prev_meta else None, embedder=embedder, settings=settings, inputs=inputs,
                articles=articles, mode=mode, remove=remove, field_map=field_map, progress=progress, report=report,
            )
            if report.published:
                _publish(index_dir, gen, name)
                report.generation = name
                _collect_garbage(index_dir, keep=settings.keep_generations)
            else:
                shutil.rmtree(gen, ignore_errors=True)
                report.generation = prev_name
        except BaseException:
            # Ctrl-C or a failure: the half-written generation goes, CURRENT still names the old one.
            shutil.rmtree(gen, ignore_errors=True)
            raise
    report.seconds = time.perf_counter() - started
    log.info("index updated", extra={"report": report.summary()})
    return report


def _fill_generation(
    gen: Path,
    *,
    prev_path: Path | None,
    embedder: Embedder,
    settings: Any,
    inputs: Sequence[str],
    articles: Iterable[Article | IngestProblem],
    mode: str,
    remove: Sequence[str],
    field_map: Mapping[str, str] | None,
    progress: bool,
    report: BuildReport,
) -> None:
    timings = report.timings
    chunker = Chunker(
        embedder.tokenizer, chunk_tokens=settings.chunk_tokens, overlap_tokens=settings.chunk_overlap, max_seq_length=embedder.max_seq_length
    )
    chunking_sig = _chunking_signature(embedder, chunker)
    db_path = gen / STORE_DB
    if mode == "add" and prev_path is not None:
        # Start from a copy of the served generation; SQLite's backup API copies a consistent snapshot.
        src = sqlite3.connect(f"file:{prev_path / STORE_DB}?mode=ro", uri=True)
        db = sqlite3.connect(db_path, isolation_level=None)
        src.backup(db)
        src.close()
    else:
        db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    migrate(db)
    prev_alias = None
    if mode == "rebuild" and prev_path is not None:
        db.execute("ATTACH DATABASE ? AS prev", [f"file:{prev_path / STORE_DB}?mode=ro"])
        prev_alias = "prev"
        if db.execute("PRAGMA prev.user_version").fetchone()[0] != SCHEMA_VERSION:
            # Rows of an older schema cannot be copied as they are: rebuild them from the inputs
            # (their vectors still come from the cache).
            db.execute("DETACH DATABASE prev")
            prev_alias = None
    before = _content_digest(db, prev_alias) if prev_alias else _content_digest(db, "main")
    writer = _GenerationWriter(db, chunker=chunker, chunking_sig=chunking_sig, threshold=settings.near_duplicate_threshold)

    # 1. removals
    db.execute("BEGIN")
    for article_id in remove:
        if writer.existing(article_id) is None:
            report.missing_ids.append(article_id)
            continue
        writer.delete_article(article_id)
        report.removed += 1

    # 2. articles in
    t0 = time.perf_counter()
    pending: list[tuple[int, str, str]] = []
    def seen(url: str) -> bool:
        # A feed polled again should not fetch the entries the index already holds.
        key = canonical_url(url)
        return db.execute(
            "SELECT 1 FROM articles WHERE canonical_url = ? UNION ALL SELECT 1 FROM copies WHERE url = ? LIMIT 1", [key, url]
        ).fetchone() is not None

    inputs_stream = _iter_inputs(inputs, field_map=field_map, settings=settings, seen=seen) if inputs else ()
    stream = itertools.chain(articles, inputs_stream)
    for item in _progress(stream, enabled=progress, desc="reading", unit=" articles"):
        if isinstance(item, IngestProblem):
            report.problems.append(item)
            continue
        article = item
        if article.id in writer.seen_this_run:
            report.duplicates.append({"id": article.id, "of": article.id, "kind": "same-url", "origin": article.origin})
            continue
        writer.seen_this_run.add(article.id)
        digest = article.content_hash
        here = writer.existing(article.id)
        if here is not None and here == (digest, chunking_sig):
            report.unchanged += 1
            continue
        existed = here is not None
        if prev_alias is not None:
            row = db.execute(f"SELECT content_hash, chunking FROM {prev_alias}.articles WHERE id = ?", [article.id]).fetchone()
            if row is not None and tuple(row) == (digest, chunking_sig):
                # Same text, same model, same chunking: reuse the passages instead of re-splitting.
                writer.copy_from(prev_alias, article.id)
                report.unchanged += 1
                continue
            existed = row is not None
        body_hash = _sha(normalize_body(article.body))
        mh = _minhash(article.body)
        if here is not None:
            writer.delete_article(article.id)
        duplicate = writer.find_duplicate(article, body_hash, mh)
        if duplicate is not None:
            primary, kind, similarity = duplicate
            writer.record_copy(article, primary, kind, similarity)
            report.duplicates.append({"id": article.id, "of": primary, "kind": kind, "similarity": round(similarity, 3), "origin": article.origin})
            if existed:
                report.updated += 1
            continue
        pending.extend(writer.insert(article, body_hash=body_hash, mh=mh))
        report.article_ids.append(article.id)
        if existed:
            report.updated += 1
        else:
            report.added += 1
    db.execute("COMMIT")
    timings["ingest"] = time.perf_counter() - t0

    # 3. vectors for new passages, through the cache
    t0 = time.perf_counter()
    cache = EmbeddingCache(gen.parent.parent / CACHE_DB, dim=embedder.dim)
    try:
        known = cache.get_many(embedder.fingerprint, [h for _, h, _ in pending])
        missing = list({h: t for _, h, t in pending if h not in known}.items())
        report.chunks_cached = len(pending) - sum(1 for _, h, _ in pending if h not in known)
        report.chunks_embedded = len(pending) - report.chunks_cached
        batch = max(1, settings.embed_batch_size) * 8
        # Sorting by length keeps padding (wasted work) low inside each batch.
        missing.sort(key=lambda item: len(item[1]))
        bar = None
        if progress and missing:
            from tqdm import tqdm

            bar = tqdm(total=len(missing), desc="embedding", unit=" passages")
        for i in range(0, len(missing), batch):
            part = missing[i : i + batch]
            vectors = embedder.encode([t for _, t in part], batch_size=settings.embed_batch_size)
            # Written as they come, so an interrupted build keeps what it already paid for.
            cache.put_many(embedder.fingerprint, zip((h for h, _ in part), vectors))
            if bar is not None:
                bar.update(len(part))
        if bar is not None:
            bar.close()
        timings["embed"] = time.perf_counter() - t0

        # 4. the vector index over every passage of the generation
        t0 = time.perf_counter()
        rows = db.execute("SELECT id, embed_hash FROM chunks ORDER BY id").fetchall()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        vectors_by_hash = cache.get_many(embedder.fingerprint, [r[1] for r in rows])
    finally:
        cache.close()
    lost = [r[1] for r in rows if r[1] not in vectors_by_hash]
    if lost:
        raise NewsbotIndexError(f"{len(lost)} passage vectors missing from the embedding cache; run `newsbot index build` again")
    matrix = np.stack([vectors_by_hash[r[1]] for r in rows]) if rows else np.zeros((0, embedder.dim), dtype=np.float32)
    from index.vectors import build_vector_index, save_vector_index

    search_params = {"hnsw_ef_search": settings.hnsw_ef_search, "ivf_nprobe": settings.ivf_nprobe}
    vindex = build_vector_index(
        ids, matrix, kind=settings.faiss_index, hnsw_m=settings.hnsw_m, ivf_nlist=settings.ivf_nlist, **search_params
    )
    save_vector_index(vindex, gen / VECTORS)
    timings["vectors"] = time.perf_counter() - t0

    # 5. meta, and whether anything changed at all
    report.articles = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    report.chunks = len(rows)
    after = _content_digest(db, "main")
    if prev_alias:
        # A rebuild drops whatever the inputs no longer contain.
        report.removed += db.execute(
            f"SELECT count(*) FROM {prev_alias}.articles WHERE id NOT IN (SELECT id FROM main.articles)"
        ).fetchone()[0]
        db.execute("DETACH DATABASE prev")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("PRAGMA journal_mode=DELETE")
    db.close()
    signature = {"model": embedder.describe(), "index_type": settings.faiss_index, "chunking": json.loads(chunking_sig), "search_params": search_params}
    prev_meta = json.loads((prev_path / META).read_text()) if prev_path else None
    prev_signature = {k: prev_meta.get(k) for k in signature} if prev_meta else None
    report.published = prev_meta is None or before != after or prev_signature != signature
    meta = {
        **signature,
        "schema_version": SCHEMA_VERSION,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "articles": report.articles,
        "chunks": report.chunks,
    }
    _write_durably(gen / META, json.dumps(meta, indent=2, sort_keys=True))
    for name in (STORE_DB, VECTORS):
        with open(gen / name, "rb") as fh:
            os.fsync(fh.fileno())


def _content_digest(db: sqlite3.Connection, schema: str) -> str:
    """Identity of a generation's content: its articles' hashes and its recorded copies."""
    digest = hashlib.sha256()
    for aid, content_hash, chunking in db.execute(f"SELECT id, content_hash, chunking FROM {schema}.articles ORDER BY id"):
        digest.update(f"{aid}:{content_hash}:{chunking}\n".encode())
    for cid, aid in db.execute(f"SELECT copy_id, article_id FROM {schema}.copies ORDER BY copy_id"):
        digest.update(f"copy {cid}->{aid}\n".encode())
    return digest.hexdigest()


def _publish(index_dir: Path, gen: Path, name: str) -> None:
    """Make `gen` the served generation: its files are flushed first, then CURRENT is swapped by rename."""
    (gen / _BUILDING).unlink()
    _fsync_dir(gen)
    tmp = index_dir / f"{CURRENT}.tmp"
    _write_durably(tmp, name + "\n")
    os.replace(tmp, index_dir / CURRENT)
    _fsync_dir(index_dir)


def _collect_garbage(index_dir: Path, *, keep: int) -> None:
    """Drop generations left by interrupted builds, and old ones beyond `keep` (never the current)."""
    root = index_dir / GENERATIONS
    if not root.exists():
        return
    current = current_generation(index_dir)
    finished = []
    for path in sorted(root.iterdir()):
        if path.name == current:
            continue
        if (path / _BUILDING).exists() or not (path / META).exists():
            shutil.rmtree(path, ignore_errors=True)
        else:
            finished.append(path)
    # Keep the newest finished ones: a server may still be reading the one it served before.
    for path in finished[: max(0, len(finished) - (keep - 1))]:
        shutil.rmtree(path, ignore_errors=True)
