"""Session-wide fixtures: the real model (loaded once), and real indexes built from real files.

Built indexes live under `tests/.cache/` (git-ignored) and are rebuilt at the start of each
session; a rebuild of unchanged inputs is nearly free thanks to the index's own embedding
cache, so the model encodes each passage once per machine, not once per run. Tests that change
an index copy it first (`index_copy`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
CACHE = Path(os.environ.get("NEWSBOT_TEST_CACHE", Path(__file__).resolve().parent / ".cache"))
# One ONNX export per machine, shared by in-process tests, CLI runs and subprocesses (whatever
# their working directory), instead of one per test folder.
os.environ.setdefault("NEWSBOT_MODEL_CACHE_DIR", str(CACHE / "models"))

from index.build import BuildReport, update_index  # noqa: E402
from index.embed import Embedder, load_embedder  # noqa: E402
from newsbot.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = ROOT.parent / "shared"
WIKINEWS = SHARED / "corpus" / "wikinews" / "articles.jsonl"


def make_settings(index_dir: Path, **overrides: object) -> Settings:
    """Settings for a test: nothing read from the environment or a .env file but what is given."""
    return Settings(_env_file=None, index_dir=index_dir, corpus_dir=ROOT / "corpus", **overrides)  # type: ignore[call-arg]


def build(index_dir: Path, inputs: list[str | Path], embedder: Embedder, **overrides: object) -> BuildReport:
    """A real `newsbot index build` of `inputs` into `index_dir`."""
    settings = make_settings(index_dir, **overrides)
    return update_index(index_dir, embedder=embedder, settings=settings, inputs=[str(p) for p in inputs], mode="rebuild")


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The bundled all-MiniLM-L6-v2 on the default backend, loaded once for the whole session."""
    return load_embedder("all-MiniLM-L6-v2", backend=Settings.model_fields["embed_backend"].default, cache_dir=CACHE / "models")


@pytest.fixture(scope="session")
def seed_index(embedder: Embedder) -> Path:
    """Index of the bundled corpus (the London Daily page) and the test news fixtures."""
    index_dir = CACHE / "seed-index"
    report = build(index_dir, [ROOT / "corpus", FIXTURES / "news"], embedder)
    assert report.articles >= 1, report.summary()
    return index_dir


@pytest.fixture(scope="session")
def wikinews_index(embedder: Embedder) -> Path:
    """Index of the shared Wikinews sample (skipped where ../shared is absent)."""
    if not WIKINEWS.exists():
        pytest.skip(f"the Wikinews sample is not at {WIKINEWS} (it lives in ../shared, outside the repository)")
    index_dir = CACHE / "wikinews-index"
    report = build(index_dir, [WIKINEWS], embedder)
    assert report.articles >= 300, report.summary()
    return index_dir


@pytest.fixture
def index_copy(tmp_path: Path) -> Iterator[callable]:
    """Copy a built index folder into the test's tmp dir, so the test may change it."""

    def copy(index_dir: Path) -> Path:
        target = tmp_path / f"index-{index_dir.name}"
        shutil.copytree(index_dir, target, ignore=shutil.ignore_patterns(".write.lock"))
        return target

    yield copy
