"""Scale benchmark: FAISS index types at 100k and 1M synthetic 384-d chunks.

For each index type the settings offer (flat, hnsw, ivfpq, sq8), plus a few candidate
variants that could meet the 1M target, it measures build time, memory (bytes of the saved
index and the process's resident-memory growth), single-query search latency p50/p95, and
recall@10 against exact search, over a sweep of each type's search breadth (efSearch,
nprobe). Prints a table and writes bench/results/scale.json.

    .venv/bin/python bench/scale.py                       # 100k and 1M, both data sets
    .venv/bin/python bench/scale.py --sizes 100000 --data clustered --queries 500

Two synthetic data sets, because the choice decides what recall@10 means:

* `random`: unit vectors uniform on the sphere (what the issue names). A query is a database
  vector perturbed to cosine 0.8, so its top-1 is meaningful; but in 384 dimensions every
  other vector sits at cosine ~0 +- 0.05 to it, so "neighbours" 2-10 are a near-tie among
  a million unrelated points. Approximate indexes must then scan almost everything to get
  them right: a worst case that no real embedding collection looks like.
* `clustered`: embedding-like. Chunks belong to stories (about 20 chunks each) within topics,
  so a chunk sits at cosine ~0.55 to its story mates, ~0.2 to its topic and ~0 to the rest,
  as MiniLM news embeddings do. Queries are perturbed chunks as above. This is the data the
  1M target (recall@10 >= 0.95, <= 10 ms a query, <= 1 GiB of vectors) is judged on.

Each chunk also gets a metadata row in a SQLite table the size of a real chunk row, and the
timing of fetching a result's rows is reported, so memory and latency include the store's
side, not FAISS alone.

The machine has 2 cores shared with other work: builds use both, searches use one thread
(a server answers one query per worker), and the load average is recorded beside each row.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import platform
import resource
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

# Idle OpenMP threads sleep instead of spinning. On this shared 2-core machine, with the
# default spin policy, training a PQ codebook took 70 s; passive, 19 s; one thread, 9 s.
# It must be set before FAISS loads libgomp.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from a checkout, without installing
from runinfo import write_report  # noqa: E402  (bench/ is on sys.path as the script's folder)

import faiss  # noqa: E402

from index.vectors import build_vector_index, search_vectors  # noqa: E402

DIM = 384
K = 10
QUERY_COSINE = 0.8
RESULTS = ROOT / "bench" / "results" / "scale.json"

# Targets from the benchmarks issue, at 1M chunks.
TARGET_RECALL = 0.95
TARGET_MS = 10.0
TARGET_BYTES = 1 << 30


# --------------------------------------------------------------------------- data


def random_unit(n: int, *, seed: int, block: int = 100_000) -> np.ndarray:
    """`n` unit vectors uniform on the sphere, generated in blocks to bound peak memory."""
    out = np.empty((n, DIM), dtype=np.float32)
    rng = np.random.default_rng(seed)
    for start in range(0, n, block):
        stop = min(n, start + block)
        out[start:stop] = rng.standard_normal((stop - start, DIM), dtype=np.float32)
    faiss.normalize_L2(out)
    return out


def clustered_unit(n: int, *, seed: int, story_size: int = 20, topics: int = 200, block: int = 100_000) -> np.ndarray:
    """Embedding-like unit vectors: chunk = story centre + noise, story centre = topic + noise.

    Weights give cos(chunk, story) ~0.75, cos(story, topic) ~0.6, hence chunk-to-chunk cosine
    ~0.55 within a story, ~0.2 within a topic and ~0 across topics.
    """
    rng = np.random.default_rng(seed)
    topic_centres = random_unit(topics, seed=seed + 1)
    stories = max(1, n // story_size)
    story_centres = np.ascontiguousarray(0.6 * topic_centres[rng.integers(0, topics, stories)] + 0.8 * random_unit(stories, seed=seed + 2), dtype=np.float32)
    faiss.normalize_L2(story_centres)
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, block):
        stop = min(n, start + block)
        noise = rng.standard_normal((stop - start, DIM), dtype=np.float32)
        faiss.normalize_L2(noise)
        out[start:stop] = 0.75 * story_centres[rng.integers(0, stories, stop - start)] + 0.66 * noise
    faiss.normalize_L2(out)
    return out


def perturbed_queries(database: np.ndarray, count: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(queries, source rows): database vectors turned to cosine QUERY_COSINE, like a paraphrase."""
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(database), size=count, replace=False)
    noise = rng.standard_normal((count, DIM), dtype=np.float32)
    source = database[rows]
    # Remove the component along the source so the cosine is exactly QUERY_COSINE.
    noise -= (noise * source).sum(axis=1, keepdims=True) * source
    faiss.normalize_L2(noise)
    queries = np.ascontiguousarray(QUERY_COSINE * source + np.float32(np.sqrt(1 - QUERY_COSINE**2)) * noise, dtype=np.float32)
    faiss.normalize_L2(queries)
    return queries, rows


def exact_top_k(database: np.ndarray, queries: np.ndarray, k: int, *, block: int = 200_000) -> tuple[np.ndarray, np.ndarray]:
    """Exact inner-product top-k (scores, rows) by blocked matrix products: the recall reference."""
    best_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_rows = np.full((len(queries), k), -1, dtype=np.int64)
    for start in range(0, len(database), block):
        scores = queries @ database[start : start + block].T
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        merged_scores = np.concatenate([best_scores, np.take_along_axis(scores, top, axis=1)], axis=1)
        merged_rows = np.concatenate([best_rows, top + start], axis=1)
        order = np.argsort(-merged_scores, axis=1)[:, :k]
        best_scores = np.take_along_axis(merged_scores, order, axis=1)
        best_rows = np.take_along_axis(merged_rows, order, axis=1)
    return best_scores, best_rows


def write_metadata(path: Path, n: int, *, seed: int) -> float:
    """A chunks table like the store's (ids, article, source, date, offsets, ~900 chars of text)."""
    started = time.perf_counter()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE chunks (chunk_id INTEGER PRIMARY KEY, article_id TEXT NOT NULL, source TEXT NOT NULL,"
        " published_at TEXT, position INTEGER, start INTEGER, end INTEGER, title TEXT, text TEXT NOT NULL)"
    )
    rng = np.random.default_rng(seed)
    words = np.array("the of minister said on in election market report city police court health storm talks vote".split())
    base = " ".join(rng.choice(words, size=160))  # ~900 characters, about a 200-token chunk

    def rows() -> Iterator[tuple]:
        for i in range(n):
            yield (i, f"a-{i // 10:016x}", f"source-{i % 50}", f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}", i % 10, 0, 900, f"Headline {i // 10}", f"{i} {base}")

    with conn:
        conn.executemany("INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?)", rows())
    conn.close()
    return time.perf_counter() - started


# --------------------------------------------------------------------------- measuring


def rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def release_memory() -> None:
    """Collect and hand freed heap back to the OS, so the next RSS delta is that index's own."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:  # not glibc: deltas are noisier, nothing else changes
        pass


def saved_bytes(index: faiss.Index, folder: Path) -> int:
    path = folder / "probe.faiss"
    faiss.write_index(index, str(path))
    size = path.stat().st_size
    path.unlink()
    return size


def latencies_ms(search: Callable[[np.ndarray], np.ndarray], queries: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(wall ms, CPU ms, top-k rows) per query, queries sent one at a time.

    CPU time is the searching thread's own (searches run single-threaded, in this thread):
    on a machine shared with other jobs it is what a query costs, while wall time also counts
    the waits for a core, which depend on whatever else was running.
    """
    wall = np.empty(len(queries))
    cpu = np.empty(len(queries))
    hits = np.empty((len(queries), K), dtype=np.int64)
    search(queries[:1])  # warm caches and lazily built tables
    for i in range(len(queries)):
        started, started_cpu = time.perf_counter(), time.thread_time()
        found = search(queries[i : i + 1])
        cpu[i] = (time.thread_time() - started_cpu) * 1000
        wall[i] = (time.perf_counter() - started) * 1000
        hits[i] = -1
        hits[i, : found.shape[1]] = found[0, :K]
    return wall, cpu, hits


def recall_at_k(hits: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(h.tolist()) & set(t.tolist())) / K for h, t in zip(hits, truth, strict=True)]))


@dataclass
class Row:
    size: int
    data: str
    config: str
    kind: str
    settings_kind: bool
    build_params: dict
    search_params: dict
    build_s: float
    build_cpu_s: float
    index_bytes: int
    rss_delta_bytes: int
    p50_ms: float
    p95_ms: float
    cpu_p50_ms: float
    cpu_p95_ms: float
    recall_at_10: float
    loadavg_1m: float
    meets_target: bool = field(default=False)


# --------------------------------------------------------------------------- index configurations


@dataclass
class Built:
    """An index under test, with how to search it and how to change its breadth."""

    index: faiss.Index
    search: Callable[[np.ndarray], np.ndarray]  # one query -> (1, k) rows
    set_breadth: Callable[[dict], None]
    sweep: list[dict]
    build_params: dict
    settings_kind: bool
    keep: list = field(default_factory=list)  # objects whose lifetime the index borrows


def _ivf_nlist(n: int) -> int:
    # The settings default (1024) at both sizes. 4 sqrt(n) = 4096 cells at 1M would make
    # each probe cheaper, but k-means over 262k training vectors takes ~30 min on these two
    # shared cores, and on embedding-like data 1024 cells already reach the recall target.
    return min(1024, max(1, n // 39))


def _via_store_api(index: faiss.Index) -> Callable[[np.ndarray], np.ndarray]:
    # The 4 settings kinds are searched exactly as the store will search them.
    return lambda q: search_vectors(index, q, K)[1]


def build_config(name: str, vectors: np.ndarray, ids: np.ndarray, shared: dict[str, faiss.Index], *, hnsw_ef_construction: int = 80) -> Built:
    n = len(vectors)
    nlist = _ivf_nlist(n)
    if name == "flat":
        index = build_vector_index(ids, vectors, kind="flat")
        return Built(index, _via_store_api(index), lambda p: None, [{}], {}, True)
    if name == "sq8":
        index = build_vector_index(ids, vectors, kind="sq8")
        shared["sq8"] = index
        return Built(index, _via_store_api(index), lambda p: None, [{}], {}, True)
    if name == "hnsw":
        params = {"hnsw_m": 32, "hnsw_ef_construction": hnsw_ef_construction}
        index = build_vector_index(ids, vectors, kind="hnsw", **params)
        inner = faiss.downcast_index(index.index)
        shared["hnsw"] = index
        return Built(
            index, _via_store_api(index), lambda p: setattr(inner.hnsw, "efSearch", p["efSearch"]),
            [{"efSearch": e} for e in (16, 32, 64, 128, 256)], params, True,
        )
    if name == "ivfpq":
        params = {"ivf_nlist": nlist, "pq_m": 48}
        index = build_vector_index(ids, vectors, kind="ivfpq", **params)
        inner = faiss.downcast_index(index.index)
        if not isinstance(inner, faiss.IndexIVF):
            # Below IVFPQ_MIN_TRAIN vectors the product builds an exact flat index instead
            # (index/vectors.py): time that, with nothing to sweep, and leave the candidates
            # built on the IVF cells out.
            return Built(index, _via_store_api(index), lambda p: None, [{}], {**params, "built_as": "flat"}, True)
        shared["ivfpq"] = index
        return Built(
            index, _via_store_api(index), lambda p: setattr(inner, "nprobe", p["nprobe"]),
            [{"nprobe": p} for p in (8, 16, 32, 64, 128)], params, True,
        )
    # Candidates beyond the settings kinds, built directly in FAISS (ids == rows here).
    if name == "ivfpq+sq8-rerank":
        # IVF-PQ proposes k_factor*k candidates, their 8-bit codes re-rank them: PQ speed,
        # SQ8 accuracy, both already built above (no extra memory beyond the two).
        base = faiss.downcast_index(shared["ivfpq"].index)
        refine = faiss.downcast_index(shared["sq8"].index)
        index = faiss.IndexRefine(base, refine)
        state: dict = {}

        def set_breadth(p: dict) -> None:
            state["params"] = faiss.IndexRefineSearchParameters(
                k_factor=p["k_factor"], base_index_params=faiss.SearchParametersIVF(nprobe=p["nprobe"])
            )

        return Built(
            index, lambda q: index.search(q, K, params=state["params"])[1], set_breadth,
            [{"nprobe": p, "k_factor": f} for p in (16, 32, 64) for f in (4, 10)],
            {"ivf_nlist": nlist, "pq_m": 48, "refine": "sq8"}, False, keep=[shared["ivfpq"], shared["sq8"]],
        )
    if name == "ivf-sq8":
        # The index index.vectors builds for kind="ivfsq8" (IndexIVFScalarQuantizer, 8-bit),
        # made here from the ivfpq run's trained coarse quantizer so only the SQ ranges and
        # the assignment of vectors to cells are new work.
        quantizer = faiss.downcast_index(shared["ivfpq"].index).quantizer
        index = faiss.IndexIVFScalarQuantizer(quantizer, DIM, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        index.train(vectors[:: max(1, n // 65_536)])
        index.add(vectors)
        return Built(
            index, lambda q: index.search(q, K)[1], lambda p: setattr(index, "nprobe", p["nprobe"]),
            [{"nprobe": p} for p in (16, 32, 64, 128)], {"ivf_nlist": nlist}, False, keep=[shared["ivfpq"]],
        )
    if name == "hnsw-sq8":
        # HNSW graph over 8-bit codes: graph speed at a quarter of the vector memory. To
        # spare a second hour-long 1M graph build on two shared cores, the graph is the one
        # the hnsw config just built on float vectors, with its storage swapped for 8-bit
        # codes of the same vectors in the same order. (A graph built by IndexHNSWSQ itself
        # reached the same recall at 20k: 0.994 clustered, 0.91 random at efSearch=256.)
        hnsw_index = shared.pop("hnsw")
        inner = faiss.downcast_index(hnsw_index.index)
        codes = faiss.IndexScalarQuantizer(DIM, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        codes.train(vectors[:: max(1, n // 65_536)])
        codes.add(vectors)
        old = inner.storage
        codes.this.disown()  # the graph index owns its storage from here on
        inner.storage = codes
        old.this.own(True)  # and Python frees the float vectors it no longer uses
        del old
        return Built(
            hnsw_index, _via_store_api(hnsw_index), lambda p: setattr(inner.hnsw, "efSearch", p["efSearch"]),
            [{"efSearch": e} for e in (16, 32, 64, 128, 256)], {"hnsw_m": 32, "hnsw_ef_construction": hnsw_ef_construction, "graph": "from hnsw"}, False,
        )
    raise ValueError(f"unknown config {name!r}")


# The order matters: ivfpq and sq8 stay alive for the two candidates that reuse them.
CONFIGS = ["flat", "sq8", "ivfpq", "ivfpq+sq8-rerank", "ivf-sq8", "hnsw", "hnsw-sq8"]


def run_size(
    n: int, data: str, *, queries_count: int, exhaustive_queries: int, configs: list[str], folder: Path, seed: int,
    hnsw_ef_construction: int, checkpoint: Callable[[list[Row], dict], None],
) -> tuple[list[Row], dict]:
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    started = time.perf_counter()
    vectors = clustered_unit(n, seed=seed) if data == "clustered" else random_unit(n, seed=seed)
    ids = np.arange(n, dtype=np.int64)  # ids == rows, so every config's results compare directly
    queries, _ = perturbed_queries(vectors, queries_count, seed=seed + 10)
    truth_scores, truth = exact_top_k(vectors, queries, K)
    generate_s = time.perf_counter() - started

    db_path = folder / f"meta-{n}-{data}.sqlite"
    rss_before_db = rss_bytes()
    meta_s = write_metadata(db_path, n, seed=seed)
    conn = sqlite3.connect(db_path)
    fetch_ms = []
    for row in truth:
        t0 = time.perf_counter()
        conn.execute(f"SELECT chunk_id, article_id, source, published_at, title, text FROM chunks WHERE chunk_id IN ({','.join('?' * K)})", row.tolist()).fetchall()
        fetch_ms.append((time.perf_counter() - t0) * 1000)
    context = {
        "size": n,
        "data": data,
        "queries": queries_count,
        "generate_and_ground_truth_s": round(generate_s, 1),
        "metadata_write_s": round(meta_s, 1),
        "metadata_db_bytes": db_path.stat().st_size + sum(p.stat().st_size for p in folder.glob(db_path.name + "-*")),
        "metadata_rss_delta_bytes": rss_bytes() - rss_before_db,
        "metadata_fetch_p50_ms": round(float(np.percentile(fetch_ms, 50)), 3),
        "metadata_fetch_p95_ms": round(float(np.percentile(fetch_ms, 95)), 3),
        # What "neighbour" means in this data: the query's source, and the 10th exact hit.
        "cosine_top1_median": round(float(np.median(truth_scores[:, 0])), 3),
        "cosine_top10_median": round(float(np.median(truth_scores[:, K - 1])), 3),
        "vectors_bytes_float32": vectors.nbytes,
    }
    print(f"\n== {n:,} chunks, {data} data: generated in {generate_s:.0f}s, metadata {meta_s:.0f}s "
          f"(fetch of 10 rows p50 {context['metadata_fetch_p50_ms']} ms); cosine of top-1 {context['cosine_top1_median']}, "
          f"of 10th {context['cosine_top10_median']}", flush=True)

    rows: list[Row] = []
    shared: dict[str, faiss.Index] = {}
    for name in configs:
        if name in ("ivfpq+sq8-rerank",) and not {"ivfpq", "sq8"} <= shared.keys():
            continue
        if name == "ivf-sq8" and "ivfpq" not in shared:
            continue
        if name == "hnsw-sq8" and "hnsw" not in shared:
            continue
        if name == "hnsw":
            shared.clear()  # the IVF candidates are done: free ivfpq and sq8 first
        release_memory()
        rss0 = rss_bytes()
        faiss.omp_set_num_threads(os.cpu_count() or 1)
        t0, cpu0 = time.perf_counter(), time.process_time()
        built = build_config(name, vectors, ids, shared, hnsw_ef_construction=hnsw_ef_construction)
        build_s, build_cpu_s = time.perf_counter() - t0, time.process_time() - cpu0
        rss_delta = rss_bytes() - rss0
        if name == "ivfpq+sq8-rerank":
            index_bytes = saved_bytes(built.keep[0], folder) + saved_bytes(built.keep[1], folder)
        elif name == "ivf-sq8":
            index_bytes = saved_bytes(built.index, folder)  # includes its (shared) quantizer
        else:
            index_bytes = saved_bytes(built.index, folder)
        faiss.omp_set_num_threads(1)
        # Exhaustive scans cost the same for every query: fewer of them bound a 1M run.
        timed = queries[:exhaustive_queries] if name in ("flat", "sq8") else queries
        for params in built.sweep:
            built.set_breadth(params)
            times, cpu_times, hits = latencies_ms(built.search, timed)
            row = Row(
                size=n, data=data, config=name, kind=name, settings_kind=built.settings_kind,
                build_params=built.build_params, search_params=params, build_s=round(build_s, 1), build_cpu_s=round(build_cpu_s, 1),
                index_bytes=index_bytes, rss_delta_bytes=rss_delta,
                p50_ms=round(float(np.percentile(times, 50)), 3), p95_ms=round(float(np.percentile(times, 95)), 3),
                cpu_p50_ms=round(float(np.percentile(cpu_times, 50)), 3), cpu_p95_ms=round(float(np.percentile(cpu_times, 95)), 3),
                recall_at_10=round(recall_at_k(hits, truth[: len(timed)]), 4), loadavg_1m=round(os.getloadavg()[0], 2),
            )
            # Judged on CPU time: wall time here mostly measures the other jobs on the cores.
            row.meets_target = row.recall_at_10 >= TARGET_RECALL and row.cpu_p50_ms <= TARGET_MS and row.index_bytes <= TARGET_BYTES
            rows.append(row)
            print(_format(row), flush=True)
        checkpoint(rows, context)
        del built
    shared.clear()
    conn.close()
    return rows, context


def _format(row: Row) -> str:
    params = ",".join(f"{k}={v}" for k, v in row.search_params.items()) or "-"
    flag = "  <= meets 1M target" if row.meets_target and row.size >= 1_000_000 else ""
    return (f"{row.size:>9,} {row.data:<9} {row.config:<17} {params:<22} build {row.build_s:>6.0f}s ({row.build_cpu_s:>5.0f} cpu) "
            f"index {row.index_bytes / 2**20:>5.0f} MiB rss{row.rss_delta_bytes / 2**20:>+6.0f} MiB "
            f"cpu p50 {row.cpu_p50_ms:>6.2f} p95 {row.cpu_p95_ms:>6.2f} ms | wall p50 {row.p50_ms:>6.2f} p95 {row.p95_ms:>6.2f} ms "
            f"recall@10 {row.recall_at_10:.3f} load {row.loadavg_1m:.1f}{flag}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--data", choices=["clustered", "random", "both"], default="both")
    parser.add_argument("--queries", type=int, default=200, help="single queries timed per setting (bounded: 2 shared cores)")
    parser.add_argument("--exhaustive-queries", type=int, default=50, help="queries for flat and sq8, whose full scans cost the same each time")
    parser.add_argument("--hnsw-ef-construction", type=int, default=80)
    parser.add_argument("--configs", nargs="+", choices=CONFIGS, default=CONFIGS)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--append", action="store_true", help="keep other runs already in --out; replace only what this run measures")
    args = parser.parse_args(argv)

    datasets = ["clustered", "random"] if args.data == "both" else [args.data]
    configs = [c for c in CONFIGS if c in args.configs]  # dependency order, whatever was typed
    report: dict = {
        "machine": {
            "cpus": os.cpu_count(), "python": platform.python_version(), "faiss": faiss.__version__,
            "numpy": np.__version__, "loadavg_at_start": os.getloadavg(),
        },
        "method": {
            "k": K, "query_cosine_to_source": QUERY_COSINE, "search_threads": 1, "build_threads": os.cpu_count(),
            "latency": "cpu_* = the search thread's CPU time per query (robust to other jobs); p50_ms/p95_ms = wall time",
            "target_judged_on": "cpu_p50_ms",
            "targets_at_1M": {"recall_at_10": TARGET_RECALL, "p50_ms": TARGET_MS, "index_bytes": TARGET_BYTES},
        },
        "contexts": [],
        "rows": [],
    }
    if args.append and args.out.exists():
        # Long 1M runs go in pieces on a shared machine; earlier pieces stay, re-measured rows go.
        previous = json.loads(args.out.read_text())
        redone = {(n, d) for n in args.sizes for d in datasets}
        report["earlier_runs"] = previous.get("earlier_runs", []) + [previous["machine"]]
        report["contexts"] = [c for c in previous["contexts"] if (c["size"], c["data"]) not in redone]
        report["rows"] = [r for r in previous["rows"] if (r["size"], r["data"]) not in redone or r["config"] not in configs]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="newsbot-scale-") as tmp:
        for n in args.sizes:
            for data in datasets:
                done_rows, done_contexts = list(report["rows"]), list(report["contexts"])

                def checkpoint(rows: list[Row], context: dict) -> None:
                    # Written after every configuration: a 1M run interrupted late keeps its figures.
                    report["rows"] = done_rows + [asdict(r) for r in rows]
                    report["contexts"] = done_contexts + [context]
                    _write(report, args.out, started)

                run_size(
                    n, data, queries_count=args.queries, exhaustive_queries=args.exhaustive_queries, configs=configs,
                    folder=Path(tmp), seed=args.seed, hnsw_ef_construction=args.hnsw_ef_construction, checkpoint=checkpoint,
                )
                release_memory()
    _write(report, args.out, started)
    print(f"\nwrote {args.out} ({len(report['rows'])} rows, peak RSS {peak_rss_bytes() / 2**30:.1f} GiB, {time.perf_counter() - started:.0f}s)")
    return 0


def _write(report: dict, out: Path, started: float) -> None:
    report["machine"]["peak_rss_bytes"] = peak_rss_bytes()
    write_report(report, out, started)  # partial results survive an interrupted 1M run


if __name__ == "__main__":
    raise SystemExit(main())
