"""The ONNX Runtime backends against the torch model they are exported from."""

from __future__ import annotations

import builtins
import logging
from pathlib import Path

import numpy as np
import pytest

from index.embed import Embedder, load_embedder
from index.errors import ModelError, ModelMismatchError
from index.store import IndexReader
from tests.conftest import CACHE, FIXTURES, build

TEXTS = [
    "Glasswater Bridge reopens after repairs costing 4.2 million pounds.",
    "Who called the letter a mistake?",
    "The council voted 7 to 2 to close the old harbour road for the summer, "
    "and the ferry operator said it would add two sailings a day while the work goes on. " * 3,
    "Ein kurzer deutscher Satz.",
]


@pytest.fixture(scope="module")
def torch_embedder(embedder: Embedder) -> Embedder:
    if embedder.backend == "torch":
        return embedder
    return load_embedder("all-MiniLM-L6-v2", backend="torch")


@pytest.fixture(scope="module")
def int8_embedder(embedder: Embedder) -> Embedder:
    if embedder.backend == "onnx-int8":
        return embedder
    return load_embedder("all-MiniLM-L6-v2", backend="onnx-int8", cache_dir=CACHE / "models")


def test_int8_vectors_stay_close_to_torch_in_input_order(torch_embedder: Embedder, int8_embedder: Embedder) -> None:
    assert int8_embedder.backend == "onnx-int8"
    reference = torch_embedder.encode(TEXTS)
    vectors = int8_embedder.encode(TEXTS, batch_size=2)  # texts of mixed length across batches
    assert vectors.shape == reference.shape == (len(TEXTS), 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosine = (vectors * reference).sum(axis=1)
    # Row i must be text i: a mix-up after the length sort would put cosines far below this.
    assert cosine.min() > 0.97, cosine
    assert int(np.argmax(vectors[1] @ reference.T)) == 1


def test_int8_queries_encode_concurrently_with_the_vectors_of_a_batch(int8_embedder: Embedder) -> None:
    # Queries run on their own one-thread session and tokenizer, without the batch lock, so
    # they must match the batch path and stay right while threads and a batch overlap.
    from concurrent.futures import ThreadPoolExecutor

    questions = [f"{text} ({n})" for n, text in enumerate(TEXTS * 6)]
    expected = int8_embedder.encode(questions, batch_size=1)
    with ThreadPoolExecutor(6) as pool:
        batch = pool.submit(int8_embedder.encode, TEXTS * 20, batch_size=8)
        vectors = list(pool.map(int8_embedder.model.encode_query, questions))
        batch.result()
    np.testing.assert_allclose(np.stack(vectors), expected, atol=1e-5)
    cached = int8_embedder.encode_query(questions[0])
    assert cached is int8_embedder.encode_query(questions[0]) and not cached.flags.writeable


def test_int8_is_its_own_vector_space(torch_embedder: Embedder, int8_embedder: Embedder, tmp_path: Path) -> None:
    assert int8_embedder.fingerprint != torch_embedder.fingerprint
    index_dir = tmp_path / "index"
    build(index_dir, [FIXTURES / "news"], int8_embedder, embed_backend="onnx-int8")
    reader = IndexReader.open(index_dir)
    reader.check_model(int8_embedder)
    assert reader.meta["model"]["backend"] == "onnx-int8"
    with pytest.raises(ModelMismatchError, match="NEWSBOT_EMBED_BACKEND=onnx-int8"):
        reader.check_model(torch_embedder)


def test_onnx_fp32_reproduces_torch_and_reuses_its_export(torch_embedder: Embedder, tmp_path: Path) -> None:
    fp32 = load_embedder("all-MiniLM-L6-v2", backend="onnx", cache_dir=tmp_path)
    assert fp32.backend == "onnx"
    # Same vectors, so the same fingerprint: an index built with torch serves ONNX fp32 queries.
    assert fp32.fingerprint == torch_embedder.fingerprint
    np.testing.assert_allclose(fp32.encode(TEXTS), torch_embedder.encode(TEXTS), atol=2e-4)
    (exported,) = tmp_path.glob("*/model.onnx")
    written = exported.stat().st_mtime_ns
    again = load_embedder("all-MiniLM-L6-v2", backend="onnx", cache_dir=tmp_path)
    assert exported.stat().st_mtime_ns == written  # exported once, then reused
    assert again.encode_query("Who called the letter a mistake?").shape == (384,)


def test_onnx_falls_back_to_torch_when_onnxruntime_is_missing(
    torch_embedder: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real_import = builtins.__import__

    def no_onnxruntime(name: str, *args: object, **kwargs: object) -> object:
        if name == "onnxruntime" or name.startswith("onnxruntime."):
            raise ImportError("No module named 'onnxruntime'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnxruntime)
    with caplog.at_level(logging.WARNING, logger="index.embed"):
        fallback = load_embedder("all-MiniLM-L6-v2", backend="onnx-int8", cache_dir=tmp_path)
    assert fallback.backend == "torch"
    assert fallback.fingerprint == torch_embedder.fingerprint
    assert any("onnx backend unavailable" in r.getMessage() and "onnxruntime" in str(r.__dict__.get("reason")) for r in caplog.records)
    np.testing.assert_allclose(fallback.encode(TEXTS[:2]), torch_embedder.encode(TEXTS[:2]), atol=1e-5)


def test_unknown_backend_is_refused_by_name() -> None:
    with pytest.raises(ModelError, match="unknown embedding backend 'tensorrt'"):
        load_embedder("all-MiniLM-L6-v2", backend="tensorrt")
