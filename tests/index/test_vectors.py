"""The FAISS layer: every kind finds what it holds, filters inside the search, and survives a save."""

from __future__ import annotations

import logging
from pathlib import Path

import faiss
import numpy as np
import pytest

from index.errors import VectorIndexError
from index.vectors import (
    IVFPQ_MIN_TRAIN,
    build_vector_index,
    index_kind,
    load_vector_index,
    remove_vector_ids,
    save_vector_index,
    search_vectors,
)

KINDS = ["flat", "hnsw", "ivfpq", "sq8", "ivfsq8"]
DIM = 32
N = 12_000  # above IVFPQ_MIN_TRAIN, so ivfpq really is IVF-PQ
# Small enough for IVF-PQ over 32 dimensions to train in a few seconds (PQ training time grows
# with the number of sub-spaces); FAST for builds whose codes' accuracy does not matter.
SMALL = {"ivf_nlist": 64, "ivf_nprobe": 16, "pq_m": 8, "hnsw_m": 16}
FAST = {**SMALL, "pq_m": 4}


def _clustered(n: int, *, seed: int) -> np.ndarray:
    """Unit vectors around 40 topics, like embeddings of news about a few stories."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, DIM)).astype(np.float32)
    vectors = centres[rng.integers(0, 40, n)] + 0.6 * rng.standard_normal((n, DIM)).astype(np.float32)
    faiss.normalize_L2(vectors)
    return vectors


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    vectors = _clustered(N, seed=7)
    # Large, sparse ids like the store's chunk ids: positions must never leak out as ids.
    ids = 10**12 + np.arange(N, dtype=np.int64) * 37
    return ids, vectors


@pytest.fixture(scope="module", params=KINDS)
def built(request: pytest.FixtureRequest, data: tuple[np.ndarray, np.ndarray]) -> tuple[str, faiss.Index]:
    ids, vectors = data
    return request.param, build_vector_index(ids, vectors, kind=request.param, **SMALL)


def _recall(hits: np.ndarray, stored: np.ndarray, ids: np.ndarray, queries: np.ndarray) -> float:
    """Mean share of each row's hits that are among the exact top-k over `stored`."""
    k = hits.shape[1]
    return float(np.mean([len(set(row.tolist()) & set(_exact_top(stored, ids, q, k).tolist())) / k for row, q in zip(hits, queries, strict=True)]))


@pytest.fixture(scope="module")
def narrow(data) -> dict[str, faiss.Index]:
    """hnsw and ivfpq searching as narrowly as FAISS allows, where filtered searches come back short."""
    ids, vectors = data
    return {kind: build_vector_index(ids, vectors, kind=kind, **{**FAST, "ivf_nprobe": 1, "hnsw_ef_search": 16}) for kind in ("hnsw", "ivfpq", "ivfsq8")}


def _exact_top(vectors: np.ndarray, ids: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    order = np.argsort(-(vectors @ query), kind="stable")[:k]
    return ids[order]


def test_each_kind_finds_its_own_vectors_under_their_ids(built, data) -> None:
    kind, index = built
    ids, vectors = data
    assert index_kind(index) == kind
    assert index.ntotal == N
    scores, hits = search_vectors(index, vectors[:50], 10)
    assert hits.shape == (50, 10)
    # A stored vector's nearest neighbour is itself, reported under the caller's id.
    assert (hits[:, 0] == ids[:50]).mean() >= 0.96
    assert set(hits.ravel().tolist()) <= set(ids.tolist())
    # Scores are cosines (up to quantization), best first.
    assert np.all(np.diff(scores, axis=1) <= 1e-6)
    assert scores[:, 0].max() <= 1.05 and scores[:, 0].min() > 0.8


def test_filter_inside_search_fills_top_k_where_a_post_filter_would_not(built, data) -> None:
    kind, index = built
    ids, vectors = data
    rng = np.random.default_rng(1)
    # A quarter of the corpus: above the size at which approximate kinds go exact, so this
    # exercises the IDSelectorBatch inside the FAISS search.
    allowed = rng.choice(ids, size=N // 4, replace=False)
    queries = _clustered(40, seed=11)

    _, unfiltered = search_vectors(index, queries, 10)
    post_filtered = [np.isin(row, allowed).sum() for row in unfiltered]
    assert max(post_filtered) < 10, "the test needs queries a post-filter would leave short"

    scores, hits = search_vectors(index, queries, 10, allowed_ids=allowed)
    assert hits.shape == (40, 10)
    assert (hits >= 0).all(), "a filter inside the search must not leave holes"
    assert np.isin(hits, allowed).all()
    # And the hits are the right ones, not just any allowed ids: the best allowed vectors as
    # the index stores them (so this measures the filtering, not PQ or SQ8 accuracy).
    stored = index.reconstruct_batch(allowed)
    filtered_recall = _recall(hits, stored, allowed, queries)
    if kind == "flat":
        assert filtered_recall == 1.0
    else:
        # An approximate index is as good filtered as it is unfiltered (the filter costs no recall).
        unfiltered_recall = _recall(unfiltered, index.reconstruct_batch(ids), ids, queries)
        assert filtered_recall >= unfiltered_recall - 0.05 and filtered_recall >= 0.8


def test_fewer_allowed_ids_than_k_returns_only_real_hits(built, data) -> None:
    _, index = built
    ids, vectors = data
    allowed = ids[[5, 900, 4000, 11_999]]
    stale = np.array([7], dtype=np.int64)  # not in the index: skipped, not an error
    scores, hits = search_vectors(index, vectors[[5, 900, 4000]], 10, allowed_ids=np.concatenate([allowed, stale]))
    assert hits.shape == (3, 4)
    for row in hits:
        assert sorted(row.tolist()) == sorted(allowed.tolist())
    assert hits[:, 0].tolist() == ids[[5, 900, 4000]].tolist()  # each query's own vector ranks first
    assert np.isfinite(scores).all()


def test_empty_filter_and_empty_index_return_no_hits(data) -> None:
    ids, vectors = data
    index = build_vector_index(ids[:100], vectors[:100])
    scores, hits = search_vectors(index, vectors[:2], 5, allowed_ids=np.array([], dtype=np.int64))
    assert hits.shape == (2, 0) and scores.shape == (2, 0)
    empty = build_vector_index(np.zeros(0, dtype=np.int64), np.zeros((0, DIM), dtype=np.float32))
    assert search_vectors(empty, vectors[:2], 5)[1].shape == (2, 0)


@pytest.mark.parametrize("kind", ["hnsw", "ivfpq", "ivfsq8"])
def test_short_approximate_search_is_completed_exactly(kind: str, data, narrow) -> None:
    ids, vectors = data
    index = narrow[kind]
    query = vectors[0]
    # The allowed vectors are the ones furthest from the query: the one probed IVF cell (or
    # the graph region the walk explores) holds none of them, so FAISS alone comes back short.
    far = np.argsort(vectors @ query)[: N // 4]
    allowed = ids[far]
    scores, hits = search_vectors(index, query, 10, allowed_ids=allowed)
    assert (hits >= 0).all() and np.isin(hits, allowed).all()
    stored = index.reconstruct_batch(allowed)
    assert sorted(hits[0].tolist()) == sorted(_exact_top(stored, allowed, query, 10).tolist())


def test_search_breadth_is_the_index_setting_not_faiss_parameter_defaults(data, narrow, tmp_path: Path) -> None:
    # SearchParametersIVF defaults to nprobe=1: if the filtered search forgot to pass the
    # index's own nprobe, recall under a broad filter would collapse.
    ids, vectors = data
    save_vector_index(narrow["ivfpq"], tmp_path / "ivfpq.faiss")
    index = load_vector_index(tmp_path / "ivfpq.faiss", ivf_nprobe=64)
    queries = _clustered(30, seed=5)
    allowed = ids[: N // 2]
    _, hits = search_vectors(index, queries, 10, allowed_ids=allowed)
    assert _recall(hits, index.reconstruct_batch(allowed), allowed, queries) >= 0.95


def test_save_and_load_round_trip(built, data, tmp_path: Path) -> None:
    kind, index = built
    ids, vectors = data
    path = tmp_path / "vectors.faiss"
    save_vector_index(index, path)
    loaded = load_vector_index(path, hnsw_ef_search=200, ivf_nprobe=24)
    assert index_kind(loaded) == kind and loaded.ntotal == N
    np.testing.assert_array_equal(faiss.vector_to_array(loaded.id_map), ids)
    inner = faiss.downcast_index(loaded.index)
    if kind == "hnsw":
        assert inner.hnsw.efSearch == 200
    if kind in ("ivfpq", "ivfsq8"):
        assert inner.nprobe == 24
    queries = vectors[100:120]
    before = search_vectors(index, queries, 10)
    if kind in ("hnsw", "ivfpq", "ivfsq8"):  # same breadth as before, so the same answers
        reloaded = load_vector_index(path, hnsw_ef_search=SMALL.get("hnsw_ef_search", 128), ivf_nprobe=SMALL["ivf_nprobe"])
    else:
        reloaded = loaded
    after = search_vectors(reloaded, queries, 10)
    np.testing.assert_array_equal(before[1], after[1])
    np.testing.assert_allclose(before[0], after[0], rtol=1e-5)
    # The filtered path works on a loaded index too (IVF needs its direct map back).
    _, hits = search_vectors(loaded, queries[:2], 10, allowed_ids=ids[:30])
    assert np.isin(hits, ids[:30]).all() and (hits >= 0).all()


def test_load_refuses_missing_or_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(VectorIndexError, match="no vector index"):
        load_vector_index(tmp_path / "absent.faiss")
    garbage = tmp_path / "garbage.faiss"
    garbage.write_bytes(b"not a faiss index at all")
    with pytest.raises(VectorIndexError, match="cannot read"):
        load_vector_index(garbage)
    bare = tmp_path / "bare.faiss"
    faiss.write_index(faiss.IndexFlatIP(DIM), str(bare))
    with pytest.raises(VectorIndexError, match="not an id-mapped"):
        load_vector_index(bare)


def test_ivfpq_with_too_few_vectors_falls_back_to_flat_and_says_why(data, caplog: pytest.LogCaptureFixture) -> None:
    ids, vectors = data
    with caplog.at_level(logging.INFO, logger="index.vectors"):
        index = build_vector_index(ids[:500], vectors[:500], kind="ivfpq")
    assert index_kind(index) == "flat"
    assert f"at least {IVFPQ_MIN_TRAIN} vectors" in caplog.text and "500 given" in caplog.text


def test_vectors_are_normalized_so_scores_are_cosines(data) -> None:
    ids, vectors = data
    scaled = vectors[:200] * 7.5
    index = build_vector_index(ids[:200], scaled)
    scores, hits = search_vectors(index, scaled[:3] * 0.1, 1)
    np.testing.assert_allclose(scores[:, 0], 1.0, atol=1e-5)
    assert (hits[:, 0] == ids[:3]).all()
    np.testing.assert_array_equal(scaled, vectors[:200] * 7.5)  # the caller's array is untouched


def test_remove_in_place_only_where_faiss_keeps_ids_right(built, data) -> None:
    kind, shared = built
    ids, vectors = data
    if kind in ("hnsw", "ivfpq", "ivfsq8"):
        with pytest.raises(VectorIndexError, match="rebuild"):
            remove_vector_ids(shared, ids[:10])
        assert shared.ntotal == N
        return
    index = build_vector_index(ids, vectors, kind=kind)  # its own copy: removal mutates
    assert remove_vector_ids(index, ids[:10]) == 10
    _, hits = search_vectors(index, vectors[:20], 1)
    assert not np.isin(hits, ids[:10]).any()
    # The survivors are still found under their own ids after the removal shifted positions.
    assert (hits[10:, 0] == ids[10:20]).all()


def test_bad_arguments_say_what_was_wrong(data) -> None:
    ids, vectors = data
    with pytest.raises(ValueError, match="kind must be one of"):
        build_vector_index(ids[:10], vectors[:10], kind="annoy")
    with pytest.raises(ValueError, match="unique"):
        build_vector_index(np.zeros(10, dtype=np.int64), vectors[:10])
    with pytest.raises(ValueError, match="10 ids for 9 vectors"):
        build_vector_index(ids[:10], vectors[:9])
    index = build_vector_index(ids[:10], vectors[:10])
    with pytest.raises(ValueError, match="k must be at least 1"):
        search_vectors(index, vectors[:1], 0)
    with pytest.raises(ValueError, match="dimension 8"):
        search_vectors(index, np.ones((1, 8), dtype=np.float32), 3)
