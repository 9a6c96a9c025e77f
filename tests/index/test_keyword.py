"""The in-memory keyword index ranks exactly as SQLite FTS5's bm25() does, filters included."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from index.keyword import KeywordIndex
from index.store import IndexReader, fts_query
from tests.conftest import SHARED

# Names, numbers, stems shared by two words ("elections election"), a word in most passages,
# words the archive lacks, a word of two FTS5 tokens ("gas_prices": a phrase, left to FTS5).
QUERIES = [
    "union called off strike",
    "Milley letter mistake",
    "ferry strike in the harbour",
    "elections election elected",
    "who said what on Tuesday 2020",
    "zzzqx unheardofword",
    "mayor budget council vote",
    "gas_prices rise",
    "Iraq parliament US troops",
]


@pytest.fixture
def open_reader() -> Iterator[Callable[[Path], IndexReader]]:
    """Fresh readers (nothing in memory yet) of built indexes, closed when the test ends."""
    readers: list[IndexReader] = []

    def open_(index_dir: Path) -> IndexReader:
        readers.append(IndexReader.open(index_dir))
        return readers[-1]

    yield open_
    for reader in readers:
        reader.close()


def _fts_scores(reader: IndexReader, query: str) -> dict[int, float]:
    """Every matching passage's FTS5 score (no LIMIT, so ties at a cut-off are all there)."""
    match = fts_query(query)
    if match is None:
        return {}
    sql = "SELECT rowid, -bm25(chunks_fts, 0.5, 1.0) FROM chunks_fts WHERE chunks_fts MATCH ?"
    return {int(r): float(s) for r, s in reader._db().execute(sql, [match])}


def _assert_same_ranking(found: list[tuple[int, float]], expected: dict[int, float], k: int) -> None:
    assert len(found) == min(k, len(expected))
    scores = [s for _, s in found]
    assert scores == sorted(scores, reverse=True)
    for rowid, score in found:
        assert score == pytest.approx(expected[rowid], rel=1e-9, abs=1e-12)
    # Nothing left out scores above the last one kept.
    if found:
        kept = {r for r, _ in found}
        assert all(s <= found[-1][1] + 1e-9 for r, s in expected.items() if r not in kept)


def _queries_for(reader: IndexReader) -> list[str]:
    # Plus the opening words of some passages: real vocabulary, whatever the index holds.
    rows = reader._db().execute("SELECT text FROM chunks ORDER BY id LIMIT 40").fetchall()
    return QUERIES + [" ".join(text.split()[:8]) for (text,) in rows[::4]]


def test_memory_scores_equal_fts5_on_the_seed_index(seed_index: Path, open_reader: Callable[[Path], IndexReader]) -> None:
    reader = open_reader(seed_index)
    queries = _queries_for(reader)
    before = {q: reader.keyword_search(q, 10) for q in queries}
    assert reader.load_keyword_index(max_passages=1_000_000)
    assert reader.keyword_in_memory
    compared = 0
    for query in queries:
        expected = _fts_scores(reader, query)
        found = reader.keyword_search(query, 10)
        _assert_same_ranking(found, expected, 10)
        # FTS5's LIMIT may break ties another way; scores at each rank are the same.
        assert [s for _, s in found] == pytest.approx([s for _, s in before[query]], rel=1e-9)
        compared += bool(expected)
    assert compared >= len(queries) - 3  # the query set really matches passages


def test_filtered_memory_search_keeps_only_allowed_passages(seed_index: Path, open_reader: Callable[[Path], IndexReader]) -> None:
    reader = open_reader(seed_index)
    assert reader.load_keyword_index(max_passages=1_000_000)
    every = reader.keyword_search("strike union ferry mayor letter", 50)
    assert len(every) >= 4
    allowed = np.array(sorted(r for r, _ in every[1::2]), dtype=np.int64)
    found = reader.keyword_search("strike union ferry mayor letter", 50, allowed=allowed)
    assert {r for r, _ in found} == set(allowed.tolist())
    expected = {r: s for r, s in _fts_scores(reader, "strike union ferry mayor letter").items() if r in set(allowed.tolist())}
    _assert_same_ranking(found, expected, 50)
    assert reader.keyword_search("strike", 5, allowed=np.array([], dtype=np.int64)) == []


def test_a_phrase_of_two_tokens_is_left_to_fts5(seed_index: Path, open_reader: Callable[[Path], IndexReader]) -> None:
    reader = open_reader(seed_index)
    assert reader.load_keyword_index(max_passages=1_000_000)
    with pytest.raises(ValueError, match="multi-token"):
        reader._keyword.search('"gas_prices"', 5)
    with pytest.raises(ValueError, match="not an OR"):
        reader._keyword.search('"strike" AND "union"', 5)
    # The reader hands such a query to FTS5, which matches the two words as a phrase.
    (text,) = reader._db().execute("SELECT text FROM chunks ORDER BY id LIMIT 1").fetchone()
    first, second = [w for w in text.split() if w.isalpha()][:2]
    query = f"{first}_{second} strike"
    found = reader.keyword_search(query, 5)
    assert found
    _assert_same_ranking(found, _fts_scores(reader, query), 5)


def test_the_passage_limit_keeps_big_archives_on_fts5(seed_index: Path, open_reader: Callable[[Path], IndexReader]) -> None:
    reader = open_reader(seed_index)
    passages = reader.stats()["chunks"]
    assert not reader.load_keyword_index(max_passages=passages - 1)
    assert not reader.keyword_in_memory
    assert not reader.load_keyword_index(max_passages=0)
    assert reader.load_keyword_index(max_passages=passages)
    assert reader.keyword_in_memory


@pytest.mark.parametrize("tokenizer", ["porter unicode61 remove_diacritics 2", "unicode61"])
def test_tokens_are_fts5s_own(tmp_path: Path, tokenizer: str) -> None:
    # Built from a table made here, so the check does not depend on what an index holds; with
    # and without stemming, as the question's words must go through the table's own tokenizer.
    conn = sqlite3.connect(tmp_path / "t.sqlite")
    conn.execute(f"CREATE VIRTUAL TABLE chunks_fts USING fts5(title, text, tokenize = '{tokenizer}')")
    conn.executemany(
        "INSERT INTO chunks_fts (rowid, title, text) VALUES (?, ?, ?)",
        [
            (9_000_000_000_000_000_001, "Élections à Paris", "The elections were called; voters elected a mayor."),
            (9_000_000_000_000_000_002, "Running", "She runs and ran; running is what runners do."),
            (9_000_000_000_000_000_003, "Weather", "Rain in Zürich, snow in Oslo."),
        ],
    )
    conn.commit()
    index = KeywordIndex.load(conn)
    for query in ['"elections"', '"elections" OR "election"', '"zurich"', '"running" OR "paris"', '"oslo" OR "rain" OR "runs"']:
        sql = "SELECT rowid, -bm25(chunks_fts, 0.5, 1.0) FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY 2 DESC"
        expected = [(int(r), float(s)) for r, s in conn.execute(sql, [query])]
        found = index.search(query, 10)
        assert [r for r, _ in found] == [r for r, _ in expected], query
        assert [s for _, s in found] == pytest.approx([s for _, s in expected], rel=1e-9), query
    assert index.search('"nothing"', 10) == []


@pytest.mark.skipif(not (SHARED / "eval" / "dev.jsonl").exists(), reason="the Wikinews dev questions live in ../shared")
def test_memory_scores_equal_fts5_on_wikinews(wikinews_index: Path, open_reader: Callable[[Path], IndexReader]) -> None:
    questions = [json.loads(line)["question"] for line in (SHARED / "eval" / "dev.jsonl").read_text().splitlines() if line.strip()]
    reader = open_reader(wikinews_index)
    assert reader.load_keyword_index(max_passages=1_000_000)
    for question in questions:
        _assert_same_ranking(reader.keyword_search(question, 50), _fts_scores(reader, question), 50)
