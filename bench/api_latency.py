"""Latency of the HTTP service over a real uvicorn server: p50/p95 of /v1/ask, /v1/search, /healthz under load.

    .venv/bin/python bench/api_latency.py [INDEX_DIR] [--asks 40] [--concurrency 4]

INDEX_DIR defaults to NEWSBOT_INDEX_DIR. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.embed import load_embedder  # noqa: E402
from newsbot.settings import Settings  # noqa: E402
from retrieval.api import create_app  # noqa: E402
from tests.api.conftest import LiveServer  # noqa: E402

QUESTIONS = [
    "Who called the letter a mistake?",
    "What did Mark Esper tell journalists?",
    "Why is the US military presence in Iraq in question?",
    "Who was assassinated in Baghdad?",
]


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("index_dir", nargs="?")
    parser.add_argument("--asks", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    settings = Settings(_env_file=None, **({"index_dir": Path(args.index_dir)} if args.index_dir else {}))  # type: ignore[call-arg]
    server = LiveServer(create_app(settings, embedder=load_embedder(settings.model, backend=settings.embed_backend, cache_dir=settings.model_cache_dir))).start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as c:
            for q in QUESTIONS:  # warm-up: first-call costs (term stats, caches) are not latency
                c.post("/v1/ask", json={"question": q})

            def timed(method: str, path: str, **kw: object) -> float:
                t = time.perf_counter()
                r = c.request(method, path, **kw)
                assert r.status_code == 200, r.text
                return (time.perf_counter() - t) * 1000

            # Distinct questions per call so the query-embedding cache does not flatter the figure.
            ask = [timed("POST", "/v1/ask", json={"question": f"{QUESTIONS[i % 4]} ({i})"}) for i in range(args.asks)]
            search = [timed("GET", "/v1/search", params={"q": f"Iraq letter withdrawal {i}"}) for i in range(args.asks)]

        health: list[float] = []
        stop = threading.Event()

        def probe() -> None:
            with httpx.Client(base_url=server.url, timeout=10) as h:
                while not stop.is_set():
                    t = time.perf_counter()
                    h.get("/healthz")
                    health.append((time.perf_counter() - t) * 1000)
                    time.sleep(0.02)

        def one(i: int) -> float:
            with httpx.Client(base_url=server.url, timeout=60) as cc:
                t = time.perf_counter()
                assert cc.post("/v1/ask", json={"question": f"{QUESTIONS[i % 4]} [{i}]"}).status_code == 200
                return (time.perf_counter() - t) * 1000

        prober = threading.Thread(target=probe)
        prober.start()
        started = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            loaded = list(pool.map(one, range(args.asks)))
        elapsed = time.perf_counter() - started
        stop.set()
        prober.join()
    finally:
        server.stop()
    print(
        json.dumps(
            {
                "index": str(settings.index_dir),
                "ask_ms": {"p50": _pct(ask, 0.5), "p95": _pct(ask, 0.95), "mean": round(statistics.mean(ask), 1)},
                "search_ms": {"p50": _pct(search, 0.5), "p95": _pct(search, 0.95)},
                f"ask_ms_at_concurrency_{args.concurrency}": {"p50": _pct(loaded, 0.5), "p95": _pct(loaded, 0.95)},
                "asks_per_second": round(args.asks / elapsed, 1),
                "healthz_ms_during_asks": {"p50": _pct(health, 0.5), "max": round(max(health), 1)},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
