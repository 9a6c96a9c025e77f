"""Retrievers over the session's real indexes (the model and the indexes come from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.embed import Embedder
from index.store import IndexReader
from retrieval.search import Retriever
from tests.conftest import make_settings


@pytest.fixture(scope="session")
def seed_reader(seed_index: Path) -> Iterator[IndexReader]:
    reader = IndexReader.open(seed_index)
    yield reader
    reader.close()


@pytest.fixture(scope="session")
def seed_retriever(seed_reader: IndexReader, embedder: Embedder, seed_index: Path) -> Retriever:
    """The retriever as the CLI, the HTTP service and the bot build it, over the seed index."""
    return Retriever(seed_reader, embedder, settings=make_settings(seed_index))


@pytest.fixture(scope="session")
def wikinews_retriever(wikinews_index: Path, embedder: Embedder) -> Iterator[Retriever]:
    reader = IndexReader.open(wikinews_index)
    retriever = Retriever(reader, embedder, settings=make_settings(wikinews_index))
    retriever.preload()  # as the HTTP service does; the seed retriever keeps FTS5, as the CLI
    yield retriever
    reader.close()
