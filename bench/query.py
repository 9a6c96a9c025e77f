"""Query benchmark: latency and throughput of `ask` and `search`, against a LangChain baseline.

On an index of the Wikinews sample and one of the 2022 news-quiz collection (both read in
place from ../shared), in one run:

* in-process: `Retriever.search(q, top_k=10)` and `Retriever.ask(q)` at concurrency 1, 4 and
  16 (threads sharing one retriever, as the HTTP service does);
* over HTTP on 127.0.0.1: `GET /v1/search` and `POST /v1/ask` against `create_app` served by
  uvicorn in a subprocess on a free port, at the same concurrency levels;
* the baseline a user would otherwise write: LangChain's FAISS vector store
  (`langchain-community`) with `HuggingFaceEmbeddings` on the same local model folder,
  1,000-character chunks with 200 overlap (`RecursiveCharacterTextSplitter`), every setting
  left at its default, `similarity_search(q, k=10)`;
* quality on the dev questions (`../shared/eval/`): article Hits@10 and MRR@10 of our top 10
  passages (as `newsbot eval` scores them, `retrieval.evaluate`) and of the baseline's.

Latency p50/p95/p99 and throughput per cell, with our/baseline ratios measured in the same
run. Prints tables and writes bench/results/query.json.

    .venv/bin/python bench/query.py                          # both corpora, 200 requests a cell
    .venv/bin/python bench/query.py --corpora wikinews --requests 40 --concurrency 1 4

Every request count is bounded (`--requests` per cell). Each request sends a question from
the dev set that no earlier request of the run sent: the whitespace between two words is
widened (the tokenizer and the keyword query ignore it), so the embedder's query cache never
answers and every request pays for its query encode, as a new question does.

Indexes are kept in bench/results/cache/ (git-ignored) between runs: ours rebuilds from its
embedding cache in seconds; the baseline's FAISS store is saved with `save_local` and
reloaded. `--fresh` rebuilds both from nothing (their build times are then in the JSON).

The baseline is an optional extra: `pip install -e '.[bench]'` (see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from a checkout, without installing
from runinfo import git_head, write_report  # noqa: E402  (bench/ is on sys.path as the script's folder)

import numpy as np  # noqa: E402

from newsbot.settings import Settings  # noqa: E402

SHARED = ROOT.parent / "shared"
RESULTS = ROOT / "bench" / "results" / "query.json"
CACHE = ROOT / "bench" / "results" / "cache"


@dataclass(frozen=True)
class Corpus:
    name: str
    articles: Path
    questions: Path


CORPORA = {
    "wikinews": Corpus("wikinews", SHARED / "corpus" / "wikinews" / "articles.jsonl", SHARED / "eval" / "dev.jsonl"),
    "realtimeqa": Corpus("realtimeqa", SHARED / "corpus" / "realtimeqa" / "articles.jsonl", SHARED / "eval" / "realtimeqa-dev.jsonl"),
}

# Baseline chunking, as LangChain's tutorials write it.
BASELINE_CHUNK_CHARS = 1000
BASELINE_OVERLAP_CHARS = 200
K = 10

# Targets from the benchmarks issue.
TARGET_ASK_P50_MS = 30.0
TARGET_ASK_P99_MS = 150.0
TARGET_SPEEDUP = 1.5


def _settings(index_dir: Path, **overrides: Any) -> Settings:
    # Nothing from a .env file: the figures are for the defaults.
    return Settings(_env_file=None, index_dir=index_dir, rate_limit_per_minute=0, **overrides)  # type: ignore[call-arg]


# --------------------------------------------------------------------------- questions


class QuestionStream:
    """Dev questions in a cycle, each request's text new to every cache in the run.

    Variant n of a question widens the gap after one of its words (by one more space each
    time round). WordPiece and the FTS5 query split on whitespace, so the vector, the keyword
    query and the results are those of the original question; only the cache key differs.
    """

    def __init__(self, questions: Sequence[str]) -> None:
        self.questions = [q for q in questions if len(q.split()) >= 2]
        self._n = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        return self.next_with_source()[0]

    def next_with_source(self) -> tuple[str, str]:
        """(the next variant, the dev question it is a variant of)."""
        with self._lock:
            n = self._n
            self._n += 1
        return self.variant(n), self.questions[n % len(self.questions)]

    def variant(self, n: int) -> str:
        question = self.questions[n % len(self.questions)]
        words = question.split()
        round_ = n // len(self.questions)
        gap = round_ % (len(words) - 1)
        width = 2 + round_ // (len(words) - 1)
        return " ".join(words[: gap + 1]) + " " * width + " ".join(words[gap + 1 :])


# --------------------------------------------------------------------------- timing


@dataclass
class Cell:
    """One (corpus, surface, operation, concurrency) measurement."""

    corpus: str
    surface: str  # in-process, http, baseline
    op: str  # search, ask, similarity_search
    concurrency: int
    requests: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    throughput_rps: float
    cpu_p50_ms: float | None
    loadavg_1m: float
    # HTTP cells: CPU per request of the server process and of the benchmark's client.
    server_cpu_ms: float | None = None
    client_cpu_ms: float | None = None
    client: str | None = None


def _cell(corpus: str, surface: str, op: str, concurrency: int, latencies: list[float], errors: int, wall_s: float, cpu: list[float] | None) -> Cell:
    arr = np.asarray(latencies) if latencies else np.asarray([np.nan])
    return Cell(
        corpus=corpus, surface=surface, op=op, concurrency=concurrency, requests=len(latencies) + errors, errors=errors,
        p50_ms=round(float(np.percentile(arr, 50)), 2), p95_ms=round(float(np.percentile(arr, 95)), 2),
        p99_ms=round(float(np.percentile(arr, 99)), 2), mean_ms=round(float(arr.mean()), 2),
        throughput_rps=round(len(latencies) / wall_s, 2) if wall_s > 0 else 0.0,
        cpu_p50_ms=round(float(np.percentile(cpu, 50)), 2) if cpu else None, loadavg_1m=round(os.getloadavg()[0], 2),
    )


def run_in_process(call: Callable[[str], Any], stream: QuestionStream, *, requests: int, concurrency: int, warmup: int) -> tuple[list[float], int, float, list[float] | None]:
    """(latencies ms, errors, wall s, CPU ms per request at concurrency 1) of `requests` calls."""
    for _ in range(warmup):
        call(stream.next())
    latencies: list[float] = []
    cpu: list[float] = []
    errors = 0
    if concurrency == 1:
        started = time.perf_counter()
        for _ in range(requests):
            question = stream.next()
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                call(question)
            except Exception:
                errors += 1
                continue
            # Process CPU (all threads: torch's intra-op pool too) is what a query costs,
            # whatever else holds the shared cores.
            cpu.append((time.process_time() - c0) * 1000)
            latencies.append((time.perf_counter() - t0) * 1000)
        return latencies, errors, time.perf_counter() - started, cpu

    def one(question: str) -> float | None:
        t0 = time.perf_counter()
        try:
            call(question)
        except Exception:
            return None
        return (time.perf_counter() - t0) * 1000

    questions = [stream.next() for _ in range(requests)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for result in pool.map(one, questions):
            if result is None:
                errors += 1
            else:
                latencies.append(result)
    return latencies, errors, time.perf_counter() - started, None


async def _timed(questions: list[str], send: Callable[[str], Any], *, concurrency: int) -> tuple[list[float], int, float]:
    """(latencies ms of the successes, errors, wall s) of `send(question)` for each question, `concurrency` at a time."""
    latencies: list[float] = []
    errors = 0
    semaphore = asyncio.Semaphore(concurrency)

    async def one(question: str) -> None:
        nonlocal errors
        async with semaphore:
            t0 = time.perf_counter()
            if await send(question):
                latencies.append((time.perf_counter() - t0) * 1000)
            else:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(one(q) for q in questions))
    return latencies, errors, time.perf_counter() - started


async def _run_httpx(base_url: str, op: str, questions: list[str], *, concurrency: int) -> tuple[list[float], int, float]:
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=60.0, limits=limits) as client:

        async def send(question: str) -> bool:
            try:
                if op == "ask":
                    response = await client.post("/v1/ask", json={"question": question})
                else:
                    response = await client.get("/v1/search", params={"q": question, "top_k": K})
            except httpx.HTTPError:
                return False
            return response.status_code == 200

        return await _timed(questions, send, concurrency=concurrency)


async def _run_aiohttp(base_url: str, op: str, questions: list[str], *, concurrency: int) -> tuple[list[float], int, float]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(base_url, connector=connector, timeout=aiohttp.ClientTimeout(total=60.0)) as session:

        async def send(question: str) -> bool:
            try:
                if op == "ask":
                    request = session.post("/v1/ask", json={"question": question})
                else:
                    request = session.get("/v1/search", params={"q": question, "top_k": K})
                async with request as response:
                    await response.read()  # the whole body, as a caller needs it
                    return response.status == 200
            except (aiohttp.ClientError, asyncio.TimeoutError):
                return False

        return await _timed(questions, send, concurrency=concurrency)


#: The load generator shares the two cores with the server, so its own CPU per request
#: (measured below, per cell) lengthens every queue: aiohttp costs ~0.7 ms a request here,
#: httpx ~1.9 ms. A real client sits on another machine.
HTTP_CLIENTS = {"aiohttp": _run_aiohttp, "httpx": _run_httpx}


def default_http_client() -> str:
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        return "httpx"
    return "aiohttp"


@dataclass
class HttpRun:
    latencies: list[float]
    errors: int
    wall_s: float
    server_cpu_ms: float | None
    client_cpu_ms: float


def run_http(
    server: Server, op: str, stream: QuestionStream, *, requests: int, concurrency: int, warmup: int, client: str
) -> HttpRun:
    run = HTTP_CLIENTS[client]
    asyncio.run(run(server.url, op, [stream.next() for _ in range(warmup)], concurrency=1))
    questions = [stream.next() for _ in range(requests)]
    server_before, client_before = server.cpu_seconds(), _own_cpu_seconds()
    latencies, errors, wall = asyncio.run(run(server.url, op, questions, concurrency=concurrency))
    server_after, client_after = server.cpu_seconds(), _own_cpu_seconds()
    per = 1000 / max(requests, 1)
    server_cpu = (server_after - server_before) * per if server_before is not None and server_after is not None else None
    return HttpRun(latencies, errors, wall, server_cpu, (client_after - client_before) * per)


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --------------------------------------------------------------------------- the HTTP service


class Server:
    """`create_app` under uvicorn in a child process, on a socket bound here to a free port."""

    def __init__(self, index_dir: Path, *, backend: str) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.set_inheritable(True)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve-fd", str(self.sock.fileno()), "--serve-index", str(index_dir), "--backend", backend],
            pass_fds=[self.sock.fileno()],
        )
        self.sock.close()  # the child holds its own copy

    def wait_ready(self, timeout: float = 300.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.url, timeout=5.0) as client:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the server exited with {self.proc.returncode}")
                try:
                    if client.get("/readyz").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the server was not ready in time")
                time.sleep(0.2)

    def cpu_seconds(self) -> float | None:
        """User + system CPU the server process has used so far (all its threads)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mib(self) -> float | None:
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
        except OSError:
            return None
        return None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def serve(fd: int, index_dir: Path, backend: str) -> int:
    """The child side of `Server`: serve `index_dir` on the inherited socket until SIGINT."""
    import uvicorn

    from retrieval.api import create_app

    sock = socket.socket(fileno=fd)
    app = create_app(_settings(index_dir, embed_backend=backend))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the SIGINT it shut down on
        pass
    return 0


# --------------------------------------------------------------------------- indexes


def _input_signature(path: Path, **params: Any) -> str:
    # The content, not the mtime: a fresh copy of the same corpus reuses the baseline's store.
    content = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashlib.sha256(json.dumps({"content": content, **params}, sort_keys=True).encode()).hexdigest()[:12]


def build_ours(corpus: Corpus, *, embedder: Any, cache: Path, fresh: bool) -> tuple[Path, dict[str, Any]]:
    from index.build import update_index

    index_dir = cache / f"{corpus.name}-index"
    if fresh and index_dir.exists():
        shutil.rmtree(index_dir)
    t0 = time.perf_counter()
    report = update_index(index_dir, embedder=embedder, settings=_settings(index_dir), inputs=[str(corpus.articles)], mode="rebuild")
    info = {
        "articles": report.articles, "chunks": report.chunks, "chunks_embedded": report.chunks_embedded,
        "chunks_cached": report.chunks_cached, "duplicates": len(report.duplicates), "build_s": round(time.perf_counter() - t0, 1),
        "fresh": report.chunks_embedded == report.chunks,  # every passage embedded by this run
    }
    print(f"   ours: {report.summary()}", flush=True)
    return index_dir, info


def load_baseline_embeddings(location: str) -> Any:
    from langchain_huggingface import HuggingFaceEmbeddings

    return HuggingFaceEmbeddings(model_name=location, model_kwargs={"device": "cpu"})


def build_baseline(corpus: Corpus, *, embeddings: Any, location: str, cache: Path, fresh: bool) -> tuple[Any, dict[str, Any]]:
    """LangChain's FAISS store over 1,000-character chunks, as its tutorials build one."""
    with warnings.catch_warnings():  # "langchain-community is being sunset": still what users run
        warnings.simplefilter("ignore", DeprecationWarning)
        from langchain_community.vectorstores import FAISS
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    signature = _input_signature(corpus.articles, model=location, chunk=BASELINE_CHUNK_CHARS, overlap=BASELINE_OVERLAP_CHARS, v=1)
    folder = cache / f"{corpus.name}-langchain-{signature}"
    if fresh and folder.exists():
        shutil.rmtree(folder)
    if (folder / "index.faiss").exists():
        t0 = time.perf_counter()
        store = FAISS.load_local(str(folder), embeddings, allow_dangerous_deserialization=True)  # our own file, written below
        info = json.loads((folder / "build.json").read_text())
        info.update(fresh=False, load_s=round(time.perf_counter() - t0, 2))
        print(f"   baseline: {info['chunks']:,} chunks loaded from {folder.name} (built in {info['build_s']}s earlier)", flush=True)
        return store, info
    texts, metadatas = [], []
    for line in corpus.articles.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        body = record.get("body") or record.get("text") or ""
        # Title on top of the body: what a user loading these records would embed.
        texts.append(f"{record.get('title') or ''}\n\n{body}".strip())
        metadatas.append({"id": record["id"], "url": record.get("url")})
    splitter = RecursiveCharacterTextSplitter(chunk_size=BASELINE_CHUNK_CHARS, chunk_overlap=BASELINE_OVERLAP_CHARS)
    t0 = time.perf_counter()
    documents = splitter.create_documents(texts, metadatas=metadatas)
    store = FAISS.from_documents(documents, embeddings)
    build_s = time.perf_counter() - t0
    folder.mkdir(parents=True, exist_ok=True)
    store.save_local(str(folder))
    info = {"articles": len(texts), "chunks": len(documents), "build_s": round(build_s, 1)}
    (folder / "build.json").write_text(json.dumps(info))
    info["fresh"] = True
    print(f"   baseline: {len(documents):,} chunks built in {build_s:.0f}s", flush=True)
    return store, info


# --------------------------------------------------------------------------- quality


def hits_and_mrr(ranks: Sequence[int | None], *, k: int = K) -> dict[str, float]:
    """Article Hits@k and MRR@k from the rank of each question's first gold passage (as evaluate.py)."""
    n = len(ranks)
    return {
        "n": n,
        f"hits@{k}": round(sum(r is not None and r <= k for r in ranks) / n, 4) if n else float("nan"),
        f"mrr@{k}": round(sum(1 / r for r in ranks if r is not None and r <= k) / n, 4) if n else float("nan"),
    }


def quality(corpus: Corpus, *, retriever: Any, baseline: Any) -> dict[str, Any]:
    """Hits@10 and MRR@10 of ours (with and without the question's date) and of the baseline."""
    from retrieval.evaluate import evaluate, load_questions

    questions = [q for q in load_questions(corpus.questions) if q.answerable and q.gold]
    out: dict[str, Any] = {"questions": len(questions)}
    for label, qs in (("ours", questions), ("ours_without_asked_on", [replace(q, asked_on=None) for q in questions])):
        if label != "ours" and not any(q.asked_on for q in questions):
            continue
        report = evaluate(retriever, qs, k=K, path=str(corpus.questions))
        mine = hits_and_mrr([r.gold_rank for r in report.results])
        # Same definitions as `newsbot eval`: the figures must agree with its summary.
        assert abs(mine[f"hits@{K}"] - (report.summary["all"]["hits@10"] or 0)) < 1e-3, (mine, report.summary["all"])
        out[label] = mine
    ranks = []
    for q in questions:
        docs = baseline.similarity_search(q.question, k=K)
        ranks.append(next((rank for rank, d in enumerate(docs, start=1) if d.metadata.get("id") in q.gold), None))
    out["baseline"] = hits_and_mrr(ranks)
    out["ratios"] = {
        metric: round(out["ours"][metric] / out["baseline"][metric], 3) if out["baseline"][metric] else None
        for metric in (f"hits@{K}", f"mrr@{K}")
    }
    return out


# --------------------------------------------------------------------------- one corpus


def run_corpus(corpus: Corpus, args: argparse.Namespace, *, embedder: Any, baseline_embeddings: Any | None) -> dict[str, Any]:
    from index.store import IndexReader
    from retrieval.evaluate import load_questions
    from retrieval.search import Retriever

    print(f"\n== {corpus.name} (load {os.getloadavg()[0]:.1f})", flush=True)
    index_dir, ours_info = build_ours(corpus, embedder=embedder, cache=args.cache, fresh=args.fresh)
    reader = IndexReader.open(index_dir)
    reader.check_model(embedder)
    retriever = Retriever(reader, embedder, settings=_settings(index_dir, embed_backend=args.backend))
    retriever.preload()  # as the HTTP service does on loading an index
    stream = QuestionStream([q.question for q in load_questions(corpus.questions)])

    # The variants must not change what is found, or the timings would be of other queries.
    for _ in range(3):
        variant, source = stream.next_with_source()
        found = [h.chunk_id for h in retriever.search(variant, top_k=K)]
        assert found == [h.chunk_id for h in retriever.search(source, top_k=K)], "a whitespace variant changed the results"

    result: dict[str, Any] = {"corpus": corpus.name, "ours_index": ours_info, "cells": []}
    baseline = None
    if baseline_embeddings is not None:
        baseline, result["baseline_index"] = build_baseline(corpus, embeddings=baseline_embeddings, location=embedder.location, cache=args.cache, fresh=args.fresh)
        print("   quality on the dev questions ...", flush=True)
        result["quality"] = quality(corpus, retriever=retriever, baseline=baseline)
        qr = result["quality"]
        print(f"   Hits@10 ours {qr['ours']['hits@10']:.3f} baseline {qr['baseline']['hits@10']:.3f}; "
              f"MRR@10 ours {qr['ours']['mrr@10']:.3f} baseline {qr['baseline']['mrr@10']:.3f} ({qr['questions']} questions)", flush=True)

    cells: list[Cell] = []
    calls: list[tuple[str, str, Callable[[str], Any]]] = [
        ("in-process", "search", lambda q: retriever.search(q, top_k=K)),
        ("in-process", "ask", lambda q: retriever.ask(q)),
    ]
    if baseline is not None:
        calls.append(("baseline", "similarity_search", lambda q: baseline.similarity_search(q, k=K)))
    for concurrency in args.concurrency:
        for surface, op, call in calls:
            if surface == "baseline" and concurrency not in args.baseline_concurrency:
                continue
            latencies, errors, wall, cpu = run_in_process(call, stream, requests=args.requests, concurrency=concurrency, warmup=args.warmup)
            cells.append(_cell(corpus.name, surface, op, concurrency, latencies, errors, wall, cpu))
            print(_format_cell(cells[-1]), flush=True)
    reader.close()

    server = Server(index_dir, backend=args.backend)
    try:
        server.wait_ready()
        for concurrency in args.concurrency:
            for op in ("search", "ask"):
                run = run_http(server, op, stream, requests=args.requests, concurrency=concurrency, warmup=args.warmup, client=args.http_client)
                cell = _cell(corpus.name, "http", op, concurrency, run.latencies, run.errors, run.wall_s, None)
                cells.append(replace(
                    cell, client=args.http_client, client_cpu_ms=round(run.client_cpu_ms, 2),
                    server_cpu_ms=round(run.server_cpu_ms, 2) if run.server_cpu_ms is not None else None,
                ))
                print(_format_cell(cells[-1]), flush=True)
        result["server_peak_rss_mib"] = server.peak_rss_mib()
    finally:
        server.stop()
    result["cells"] = [asdict(c) for c in cells]
    result["latency_ratios"] = latency_ratios(cells)
    return result


def latency_ratios(cells: list[Cell]) -> dict[str, Any]:
    """ours / baseline p50 (below 1: ours faster) and the speed-up baseline / ours, per concurrency."""
    by = {(c.surface, c.op, c.concurrency): c for c in cells}
    out: dict[str, Any] = {}
    for (surface, op, concurrency), cell in by.items():
        base = by.get(("baseline", "similarity_search", concurrency))
        if surface == "baseline" or base is None:
            continue
        key = f"{surface}:{op}@c{concurrency}"
        out[key] = {
            "p50_ratio": round(cell.p50_ms / base.p50_ms, 3), "p99_ratio": round(cell.p99_ms / base.p99_ms, 3),
            "speedup_p50": round(base.p50_ms / cell.p50_ms, 3),
        }
        if cell.cpu_p50_ms and base.cpu_p50_ms:
            out[key]["cpu_p50_ratio"] = round(cell.cpu_p50_ms / base.cpu_p50_ms, 3)
    return out


def _format_cell(c: Cell) -> str:
    cpu = f" cpu p50 {c.cpu_p50_ms:6.1f}" if c.cpu_p50_ms is not None else " " * 16
    errors = f" ERRORS {c.errors}" if c.errors else ""
    if c.client_cpu_ms is not None:
        server = f"{c.server_cpu_ms:.1f}" if c.server_cpu_ms is not None else "?"
        errors = f" | CPU/request server {server} ms, client ({c.client}) {c.client_cpu_ms:.1f} ms" + errors
    return (f"   {c.surface:<10} {c.op:<17} c={c.concurrency:<2} n={c.requests:<4} p50 {c.p50_ms:7.1f} p95 {c.p95_ms:7.1f} "
            f"p99 {c.p99_ms:7.1f} ms{cpu} | {c.throughput_rps:6.1f} req/s | load {c.loadavg_1m:.1f}{errors}")


def print_tables(results: list[dict[str, Any]]) -> None:
    print()
    header = ("corpus", "surface", "op", "c", "n", "p50 ms", "p95 ms", "p99 ms", "cpu p50", "req/s", "err")
    rows = [header]
    for result in results:
        for c in result["cells"]:
            rows.append((c["corpus"], c["surface"], c["op"], str(c["concurrency"]), str(c["requests"]), f"{c['p50_ms']:.1f}",
                         f"{c['p95_ms']:.1f}", f"{c['p99_ms']:.1f}", f"{c['cpu_p50_ms']:.1f}" if c["cpu_p50_ms"] is not None else "-",
                         f"{c['throughput_rps']:.1f}", str(c["errors"])))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(cell.rjust(w) if i >= 3 else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))))
    for result in results:
        q = result.get("quality")
        if q:
            extra = f"; ours without the quiz date Hits@10 {q['ours_without_asked_on']['hits@10']:.3f}" if "ours_without_asked_on" in q else ""
            print(f"\n{result['corpus']}: Hits@10 ours/baseline {q['ours']['hits@10']:.3f}/{q['baseline']['hits@10']:.3f} "
                  f"(x{q['ratios']['hits@10']}), MRR@10 {q['ours']['mrr@10']:.3f}/{q['baseline']['mrr@10']:.3f} (x{q['ratios']['mrr@10']}){extra}")
        for key, ratio in result.get("latency_ratios", {}).items():
            print(f"   {key:<24} p50 ours/baseline x{ratio['p50_ratio']:.2f} (speed-up x{ratio['speedup_p50']:.2f})"
                  + (f", cpu x{ratio['cpu_p50_ratio']:.2f}" if "cpu_p50_ratio" in ratio else ""))


def targets(results: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for result in results:
        cells = {(c["surface"], c["op"], c["concurrency"]): c for c in result["cells"]}
        name = result["corpus"]
        ask4 = cells.get(("http", "ask", 4))
        if name == "wikinews" and ask4:
            out["http_ask_c4_wikinews"] = {
                "p50_ms": ask4["p50_ms"], "p99_ms": ask4["p99_ms"],
                "met": ask4["p50_ms"] <= TARGET_ASK_P50_MS and ask4["p99_ms"] <= TARGET_ASK_P99_MS,
            }
        ratios = result.get("latency_ratios", {})
        for op in ("search", "ask"):
            r = ratios.get(f"in-process:{op}@c1")
            if r:
                out[f"speedup_{op}_{name}"] = {"speedup_p50": r["speedup_p50"], "met": r["speedup_p50"] >= TARGET_SPEEDUP}
        q = result.get("quality")
        if q:
            out[f"hits10_{name}"] = {"ours": q["ours"]["hits@10"], "baseline": q["baseline"]["hits@10"], "met": q["ours"]["hits@10"] >= q["baseline"]["hits@10"]}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", nargs="+", choices=sorted(CORPORA), default=["wikinews", "realtimeqa"])
    parser.add_argument("--requests", type=int, default=200, help="timed requests per cell (bounded)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests before each cell")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--baseline-concurrency", type=int, nargs="+", default=[1, 4, 16], help="concurrency levels for the baseline")
    parser.add_argument("--http-client", choices=sorted(HTTP_CLIENTS), default=default_http_client(),
                        help="the load generator for the HTTP cells (aiohttp when installed: the lighter of the two)")
    parser.add_argument("--no-baseline", action="store_true", help="skip LangChain (when the bench extra is not installed)")
    parser.add_argument("--backend", default=Settings.model_fields["embed_backend"].default,
                        help="our embedder's backend, as NEWSBOT_EMBED_BACKEND (the baseline always uses torch)")
    parser.add_argument("--cache", type=Path, default=CACHE, help="where indexes are kept between runs")
    parser.add_argument("--fresh", action="store_true", help="rebuild both indexes from nothing")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--serve-fd", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--serve-index", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_fd is not None:
        return serve(args.serve_fd, args.serve_index, args.backend)
    if args.requests < 1 or args.requests > 100_000:
        parser.error("--requests must be between 1 and 100000")
    for name in args.corpora:
        for path in (CORPORA[name].articles, CORPORA[name].questions):
            if not path.exists():
                print(f"{path} is missing (the shared data lives in ../shared, outside the repository)", file=sys.stderr)
                return 2

    import torch

    from index.embed import load_embedder

    started = time.perf_counter()
    settings = _settings(Path("unused"), embed_backend=args.backend)
    embedder = load_embedder(settings.model, backend=args.backend, cache_dir=settings.model_cache_dir)
    baseline_embeddings = None
    if not args.no_baseline:
        try:
            baseline_embeddings = load_baseline_embeddings(embedder.location)
        except ImportError as exc:
            print(f"the LangChain baseline needs the bench extra (pip install -e '.[bench]'): {exc}", file=sys.stderr)
            return 2
    report: dict[str, Any] = {
        "machine": {
            "commit": git_head(), "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "MKL_NUM_THREADS")}, "python": platform.python_version(),
            "torch": torch.__version__, "loadavg_at_start": os.getloadavg(),
        },
        "method": {
            "model": embedder.name, "backend": args.backend, "k": K, "requests_per_cell": args.requests, "warmup": args.warmup,
            "ours": "Retriever defaults (hybrid dense + FTS5 BM25, RRF, max 2 passages an article); search top_k=10, ask top_k=5",
            "baseline": f"langchain_community FAISS.from_documents + HuggingFaceEmbeddings defaults, RecursiveCharacterTextSplitter("
                        f"{BASELINE_CHUNK_CHARS}, {BASELINE_OVERLAP_CHARS}) over 'title\\n\\nbody', similarity_search(k={K})",
            "quality": "article Hits@10 / MRR@10 over the top 10 passages, answerable dev questions with gold ids (retrieval.evaluate)",
            "questions": "each request a not-yet-sent whitespace variant of a dev question (query cache never hits)",
            "cpu_p50_ms": "process CPU time per request at concurrency 1, in-process (robust to other jobs on the cores)",
        },
        "corpora": [],
    }
    results = []
    for name in args.corpora:
        results.append(run_corpus(CORPORA[name], args, embedder=embedder, baseline_embeddings=baseline_embeddings))
        report["corpora"] = results
        _write(report, args.out, started)
    report["targets"] = targets(results)
    _write(report, args.out, started)
    print_tables(results)
    print("\ntargets: " + json.dumps(report["targets"]))
    print(f"\nwrote {args.out} ({time.perf_counter() - started:.0f}s, peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)")
    return 0


def _write(report: dict[str, Any], out: Path, started: float) -> None:
    report["machine"]["maxrss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    write_report(report, out, started)


if __name__ == "__main__":
    raise SystemExit(main())
