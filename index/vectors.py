"""The FAISS layer under the store: build, search (with filters inside the search), save, load.

Every index is inner product over L2-normalized float32 vectors (so scores are cosines, up to
quantization), wrapped in `faiss.IndexIDMap2` so the ids it returns are the store's int64
chunk ids and survive saves, loads and removals.

    >>> index = build_vector_index(ids, vectors, kind="hnsw")
    >>> scores, hits = search_vectors(index, queries, 10, allowed_ids=chunk_ids_of_one_source)
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Literal, get_args

import faiss
import numpy as np

from index.errors import VectorIndexError

__all__ = [
    "IVFPQ_MIN_TRAIN",
    "VectorKind",
    "build_vector_index",
    "index_kind",
    "load_vector_index",
    "remove_vector_ids",
    "save_vector_index",
    "search_vectors",
]

log = logging.getLogger(__name__)

VectorKind = Literal["flat", "hnsw", "ivfpq", "sq8", "ivfsq8"]

#: Fewest vectors an IVF index (ivfpq, ivfsq8) is trained on. PQ codebooks have 256
#: centroids per sub-space and k-means wants ~39 points per centroid; below this the
#: codebooks and cells are noise, and an exact flat index is fast anyway.
IVFPQ_MIN_TRAIN = 39 * 256

#: At or below this many allowed ids an approximate index is not searched at all: scoring the
#: allowed vectors directly is cheaper than a graph walk or list scan that mostly meets
#: filtered-out vectors, and it is exact.
_EXACT_SUBSET_MAX = 2048

#: Short filtered results are completed by exact scoring of the allowed vectors up to this
#: many allowed ids; beyond it the filter is broad enough that a short result is rare and
#: reconstructing that many vectors per query would cost more than it saves.
_EXACT_FALLBACK_MAX = 65536

_RECONSTRUCT_BATCH = 8192

#: IVF k-means is trained on at most this many vectors per cell (and never fewer than PQ
#: needs). 64 a cell gives centroids as good as the full set; at 1M vectors and 4096 cells
#: training on everything would take ~4x longer on two cores for no measurable recall.
_TRAIN_PER_LIST = 64
_TRAIN_MIN = 65_536


def build_vector_index(
    ids: np.ndarray,
    vectors: np.ndarray,
    *,
    kind: str = "flat",
    hnsw_m: int = 32,
    hnsw_ef_search: int = 128,
    hnsw_ef_construction: int = 80,
    ivf_nlist: int = 1024,
    ivf_nprobe: int = 32,
    pq_m: int = 48,
) -> faiss.Index:
    """An `IndexIDMap2` of the given `kind` holding `vectors` under `ids`.

    kind: "flat" (exact), "hnsw" (graph over full vectors), "ivfpq" (IVF cells + product
    quantization, trained on `vectors`; falls back to flat below `IVFPQ_MIN_TRAIN` vectors),
    "sq8" (exact scan over 8-bit scalar-quantized vectors, a quarter of flat's memory),
    "ivfsq8" (IVF cells over those 8-bit codes: sq8's memory and accuracy, IVF's speed; the
    type that met the 1M target in bench/scale.py). The IVF kinds fall back to flat below
    `IVFPQ_MIN_TRAIN` vectors.
    """
    if kind not in get_args(VectorKind):
        raise ValueError(f"kind must be one of {', '.join(get_args(VectorKind))}; got {kind!r}")
    ids = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
    vectors = _unit_rows(vectors)
    if len(ids) != len(vectors):
        raise ValueError(f"got {len(ids)} ids for {len(vectors)} vectors")
    if len(np.unique(ids)) != len(ids):
        raise ValueError("ids must be unique")
    if vectors.shape[1] == 0:
        raise ValueError("vectors must have at least one dimension")
    dim = vectors.shape[1]

    if kind in ("ivfpq", "ivfsq8") and len(vectors) < IVFPQ_MIN_TRAIN:
        log.info(
            "%s needs at least %d vectors to train its cells and codes; %d given, building an exact flat index instead",
            kind,
            IVFPQ_MIN_TRAIN,
            len(vectors),
        )
        kind = "flat"
    if kind == "sq8" and len(vectors) == 0:
        # The quantizer's per-dimension ranges come from training data; with none there is
        # nothing to learn them from, and flat costs nothing at this size.
        log.info("sq8 needs vectors to learn its value ranges; none given, building an exact flat index instead")
        kind = "flat"

    inner: faiss.Index
    if kind == "flat":
        inner = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        inner = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = max(hnsw_ef_construction, hnsw_m)
        inner.hnsw.efSearch = hnsw_ef_search
    elif kind == "sq8":
        inner = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        inner.train(vectors)
    else:
        # ~39 training points per cell keeps k-means meaningful; faiss subsamples above 256.
        nlist = max(1, min(ivf_nlist, len(vectors) // 39))
        quantizer = faiss.IndexFlatIP(dim)
        if kind == "ivfpq":
            inner = faiss.IndexIVFPQ(quantizer, dim, nlist, _pq_subspaces(dim, pq_m), 8, faiss.METRIC_INNER_PRODUCT)
        else:
            inner = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        inner.train(_training_sample(vectors, nlist))
        inner.nprobe = min(ivf_nprobe, nlist)
        # Lets a filtered search score the few allowed vectors directly (see search_vectors);
        # it also makes removal fail loudly instead of silently corrupting IndexIDMap's ids.
        inner.make_direct_map()
        # Hand the quantizer's lifetime to the C++ index, so the returned index stands alone
        # (as it does after a load) instead of leaning on Python references.
        quantizer.this.disown()
        inner.own_fields = True

    index = faiss.IndexIDMap2(inner)
    inner.this.disown()
    index.own_fields = True
    if len(vectors):
        index.add_with_ids(vectors, ids)
    return index


def search_vectors(
    index: faiss.Index,
    queries: np.ndarray,
    k: int,
    *,
    allowed_ids: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(scores, ids), each (n_queries, k'), best first; missing hits are id -1 for the caller to drop.

    k' is `k` capped by the number of vectors (and of allowed ids), so asking for more than
    exists returns only real hits. `allowed_ids` restricts the search *inside* FAISS (an
    `IDSelectorBatch`), so a filter never empties the top-k the way filtering afterwards does.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1; got {k}")
    queries = _unit_rows(queries)
    if queries.shape[1] != index.d:
        raise ValueError(f"queries have dimension {queries.shape[1]}, the index {index.d}")
    n_queries = len(queries)
    inner = faiss.downcast_index(_id_map(index).index)

    if allowed_ids is None:
        k_eff = min(k, index.ntotal)
        if k_eff == 0:
            return _empty(n_queries)
        scores, ids = index.search(queries, k_eff)
        return scores, ids

    allowed = np.unique(np.asarray(allowed_ids, dtype=np.int64).reshape(-1))
    k_eff = min(k, len(allowed), index.ntotal)
    if k_eff == 0:
        return _empty(n_queries)
    approximate = not isinstance(inner, faiss.IndexFlat | faiss.IndexScalarQuantizer)
    if approximate and len(allowed) <= _EXACT_SUBSET_MAX:
        return _trim_missing(*_exact_subset(index, queries, k_eff, allowed))

    selector = faiss.IDSelectorBatch(allowed)
    # Typed parameters carry the index's own breadth: the defaults in SearchParametersHNSW /
    # SearchParametersIVF (efSearch=16, nprobe=1) would silently override it.
    params: faiss.SearchParameters
    if isinstance(inner, faiss.IndexHNSW):
        params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(inner.hnsw.efSearch, k_eff))
    elif isinstance(inner, faiss.IndexIVF):
        params = faiss.SearchParametersIVF(sel=selector, nprobe=inner.nprobe)
    else:
        params = faiss.SearchParameters(sel=selector)
    # IndexIDMap translates the selector from chunk ids to its internal positions itself.
    scores, ids = index.search(queries, k_eff, params=params)

    short = (ids < 0).any(axis=1)
    if approximate and short.any():
        if len(allowed) <= _EXACT_FALLBACK_MAX:
            # The graph walk or the probed cells met too few allowed vectors: complete those
            # rows by scoring every allowed vector, so the filter cannot shrink the top-k.
            rows = np.flatnonzero(short)
            scores[rows], ids[rows] = _exact_subset(index, queries[rows], k_eff, allowed)
        else:
            log.debug("%d of %d filtered queries came back short of %d hits", short.sum(), n_queries, k_eff)
    return _trim_missing(scores, ids)


def save_vector_index(index: faiss.Index, path: Path) -> None:
    """Write `index` to `path` and make it durable (file and directory entry fsynced)."""
    path = Path(path)
    faiss.write_index(index, str(path))
    # fsync covers the file's data whichever descriptor wrote it; FAISS closes its own
    # handle without syncing, so reopen to sync before anyone points CURRENT at it.
    with path.open("rb+") as fh:
        fh.flush()
        os.fsync(fh.fileno())
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def load_vector_index(path: Path, *, hnsw_ef_search: int | None = None, ivf_nprobe: int | None = None) -> faiss.Index:
    """Read an index written by `save_vector_index`, applying the search breadth settings given."""
    path = Path(path)
    if not path.is_file():
        raise VectorIndexError(f"no vector index at {path}")
    try:
        index = faiss.read_index(str(path))
    except RuntimeError as exc:
        raise VectorIndexError(f"cannot read the vector index at {path}: {exc}") from exc
    if not isinstance(index, faiss.IndexIDMap2):
        raise VectorIndexError(f"{path} holds a {type(index).__name__}, not an id-mapped NewsBot vector index")
    inner = faiss.downcast_index(index.index)
    if hnsw_ef_search is not None and isinstance(inner, faiss.IndexHNSW):
        inner.hnsw.efSearch = hnsw_ef_search
    if ivf_nprobe is not None and isinstance(inner, faiss.IndexIVF):
        inner.nprobe = min(ivf_nprobe, inner.nlist)
    return index


def remove_vector_ids(index: faiss.Index, ids: np.ndarray) -> int:
    """Remove `ids` in place (flat and sq8 only); returns how many were there.

    HNSW cannot delete from its graph, and IVF under IndexIDMap would shift ids under the
    map, so those kinds raise `VectorIndexError`: rebuild them from the store instead.
    """
    kind = index_kind(index)
    if kind not in ("flat", "sq8"):
        raise VectorIndexError(f"a {kind} vector index cannot remove vectors in place; rebuild it from the store")
    return int(index.remove_ids(np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)))


def index_kind(index: faiss.Index) -> str:
    """Which of the `VectorKind`s `index` is (for stats and for choosing how to update it)."""
    inner = faiss.downcast_index(_id_map(index).index)
    if isinstance(inner, faiss.IndexHNSW):
        return "hnsw"
    if isinstance(inner, faiss.IndexIVFPQ):
        return "ivfpq"
    if isinstance(inner, faiss.IndexIVFScalarQuantizer):
        return "ivfsq8"
    if isinstance(inner, faiss.IndexScalarQuantizer):
        return "sq8"
    if isinstance(inner, faiss.IndexFlat):
        return "flat"
    raise VectorIndexError(f"unknown vector index type {type(inner).__name__}")


def _exact_subset(index: faiss.Index, queries: np.ndarray, k: int, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Top-k among `allowed` by scoring their stored (possibly quantized) vectors directly."""
    n_queries = len(queries)
    best_scores = np.full((n_queries, k), -np.inf, dtype=np.float32)
    best_ids = np.full((n_queries, k), -1, dtype=np.int64)
    for start in range(0, len(allowed), _RECONSTRUCT_BATCH):
        batch, vectors = _reconstruct_present(index, allowed[start : start + _RECONSTRUCT_BATCH])
        scores = queries @ vectors.T
        merged_scores = np.concatenate([best_scores, scores], axis=1)
        merged_ids = np.concatenate([best_ids, np.broadcast_to(batch, scores.shape)], axis=1)
        top = np.argsort(-merged_scores, axis=1, kind="stable")[:, :k]
        best_scores = np.take_along_axis(merged_scores, top, axis=1)
        best_ids = np.take_along_axis(merged_ids, top, axis=1)
    best_scores[best_ids < 0] = -np.inf
    return best_scores, best_ids


def _reconstruct_present(index: faiss.Index, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) for those of `ids` the index holds; a stale filter id is skipped, not an error."""
    try:
        return ids, index.reconstruct_batch(ids)
    except RuntimeError:
        pass
    kept, vectors = [], []
    for chunk_id in ids.tolist():
        try:
            vectors.append(index.reconstruct(chunk_id))
        except RuntimeError:
            continue
        kept.append(chunk_id)
    if not kept:
        return np.zeros(0, dtype=np.int64), np.zeros((0, index.d), dtype=np.float32)
    return np.asarray(kept, dtype=np.int64), np.stack(vectors)


def _id_map(index: faiss.Index) -> faiss.IndexIDMap2:
    index = faiss.downcast_index(index) if not isinstance(index, faiss.IndexIDMap2) else index
    if not isinstance(index, faiss.IndexIDMap2):
        raise VectorIndexError(f"expected an IndexIDMap2 from build_vector_index, got {type(index).__name__}")
    return index


def _training_sample(vectors: np.ndarray, nlist: int) -> np.ndarray:
    """A fixed random subset of `vectors` big enough to train `nlist` cells and the PQ codebooks."""
    size = max(nlist * _TRAIN_PER_LIST, _TRAIN_MIN)
    if len(vectors) <= size:
        return vectors
    # Seeded, so rebuilding the same vectors gives the same index.
    rows = np.sort(np.random.default_rng(0).choice(len(vectors), size=size, replace=False))
    return vectors[rows]


def _pq_subspaces(dim: int, wanted: int) -> int:
    """The largest number of PQ sub-spaces <= `wanted` that divides `dim` (FAISS requires it)."""
    for m in range(min(wanted, dim), 0, -1):
        if dim % m == 0:
            return m
    return 1


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    """`vectors` as a C-contiguous float32 matrix of unit rows, copied only when it must change.

    Inner product equals cosine only over unit vectors; the embedder already normalizes, so
    at 1M x 384 (1.5 GB) a defensive copy would be pure waste.
    """
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix.reshape(1, -1)
    if matrix.ndim != 2:
        raise ValueError(f"vectors must be a 2-d array; got shape {matrix.shape}")
    matrix = np.ascontiguousarray(matrix)
    # A max over the squared norms, not np.allclose: this runs on every query (20 us -> 3).
    if len(matrix) and float(np.abs(np.einsum("ij,ij->i", matrix, matrix) - 1.0).max()) > 1e-4:
        matrix = matrix.copy()  # never rescale the caller's array in place
        faiss.normalize_L2(matrix)
    return matrix


def _trim_missing(scores: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop trailing columns no query filled (allowed ids the index does not hold)."""
    filled = (ids >= 0).any(axis=0)
    width = int(np.flatnonzero(filled)[-1]) + 1 if filled.any() else 0
    return scores[:, :width], ids[:, :width]


def _empty(n_queries: int) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((n_queries, 0), dtype=np.float32), np.zeros((n_queries, 0), dtype=np.int64)
