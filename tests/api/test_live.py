"""Serving under load: swaps during a burst of asks fail none, /healthz stays quick, /metrics counts."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.api.conftest import ADMIN_TOKEN, LiveServer
from tests.api.test_admin import NEW_ARTICLE
from tests.conftest import make_settings

QUESTIONS = [
    "Who called the letter a mistake?",
    "What did Mark Esper tell journalists?",
    "Why is the US military presence in Iraq in question?",
    "Who was assassinated in Baghdad?",
]
BURST = 32
MAX_ASKS = 400


def _metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        got = ",".join(sorted((m.group(2) or "").split(","))) if m.group(2) else ""
        if got == want:
            return float(m.group(3))
    return 0.0


def test_swaps_during_a_burst_of_asks_fail_none(admin_server: LiveServer, admin: httpx.Client, embedder) -> None:
    from index.build import update_index
    from index.models import Article

    settings = admin_server.app.state.service.settings
    live = admin_server.app.state.service.live
    first = live.current
    statuses: list[int] = []
    generations: list[str] = []
    health_ms: list[float] = []
    burst_done = threading.Event()

    def one_ask(i: int) -> None:
        with httpx.Client(base_url=admin_server.url, timeout=60) as c:
            r = c.post("/v1/ask", json={"question": QUESTIONS[i % len(QUESTIONS)]})
            statuses.append(r.status_code)
            generations.append(r.headers.get("x-index-generation", ""))
            if r.status_code == 200:
                assert r.json()["citations"], r.json()

    def swaps() -> None:
        # An admin ingest, an explicit reload and a CLI-style write, while the asks run.
        time.sleep(0.2)
        assert admin.post("/v1/articles", json=NEW_ARTICLE).status_code == 200
        assert admin.post("/v1/index/reload").status_code == 200
        extra = Article(title="Pier repairs approved", body="The Kellmouth council approved repairs to the ferry pier on Monday.", source="Kellmouth Courier")
        update_index(settings.index_dir, embedder=embedder, settings=settings, articles=[extra], mode="add")
        assert admin.get("/v1/sources").status_code == 200  # the next request picks CURRENT up

    def health() -> None:
        with httpx.Client(base_url=admin_server.url, timeout=10) as c:
            while not burst_done.is_set():
                t = time.perf_counter()
                assert c.get("/healthz").status_code == 200
                health_ms.append((time.perf_counter() - t) * 1000)
                time.sleep(0.05)

    swapper = threading.Thread(target=swaps)
    prober = threading.Thread(target=health)
    asked = 0
    with ThreadPoolExecutor(max_workers=8) as pool:
        prober.start()
        swapper.start()
        # Waves of concurrent asks until the swaps are done (bounded), so asks straddle every swap.
        while asked < MAX_ASKS and (asked < BURST or swapper.is_alive()):
            for f in [pool.submit(one_ask, asked + i) for i in range(8)]:
                f.result(timeout=120)
            asked += 8
        swapper.join(timeout=120)
        burst_done.set()
        prober.join(timeout=30)

    assert not swapper.is_alive()
    assert statuses == [200] * asked
    assert live.current.generation != first.generation
    assert len(set(generations)) >= 2, "every ask ran on one generation: the swaps did not overlap the burst"
    # The retired readers were closed once their last request finished, not before.
    assert first.retired and first.users == 0 and first.reader._closed
    assert health_ms and max(health_ms) < 2000, max(health_ms)

    metrics = admin.get("/metrics").text
    assert _metric(metrics, "newsbot_http_requests_total", method="POST", route="/v1/ask", status="200") == asked
    assert _metric(metrics, "newsbot_http_request_duration_seconds_count", method="POST", route="/v1/ask") == asked
    assert _metric(metrics, "newsbot_asks_total") == asked
    assert _metric(metrics, "newsbot_http_requests_total", method="GET", route="/healthz", status="200") == len(health_ms)
    stats = admin.get("/v1/stats").json()
    metrics = admin.get("/metrics").text
    assert _metric(metrics, "newsbot_articles_indexed") == stats["articles"]
    assert _metric(metrics, "newsbot_chunks_indexed") == stats["chunks"]
    assert _metric(metrics, "newsbot_index_swaps_total") >= 3


def test_metrics_count_abstentions_and_route_templates(seed_index: Path, start_server) -> None:
    server = start_server(make_settings(seed_index))
    with httpx.Client(base_url=server.url, timeout=30) as c:
        r = c.post("/v1/ask", json={"question": "What is the boiling point of liquid nitrogen on Neptune?"})
        assert r.status_code == 200 and r.json()["abstained"], r.json()
        c.post("/v1/ask", json={"question": "Who called the letter a mistake?"})
        for i in range(3):
            c.get(f"/v1/articles/a-{i:016d}")
        c.post("/v1/ask", json={"question": ""})
        metrics = c.get("/metrics").text
    assert _metric(metrics, "newsbot_asks_total") == 2
    assert _metric(metrics, "newsbot_abstentions_total") == 1
    assert _metric(metrics, "newsbot_http_requests_total", method="GET", route="/v1/articles/{article_id}", status="404") == 3
    assert _metric(metrics, "newsbot_http_requests_total", method="POST", route="/v1/ask", status="422") == 1
    assert "a-0000000000000000" not in metrics  # ids never become labels


def test_rate_limit_is_429_with_retry_after(seed_index: Path, start_server) -> None:
    server = start_server(make_settings(seed_index, rate_limit_per_minute=3))
    with httpx.Client(base_url=server.url, timeout=30) as c:
        codes = [c.get("/v1/sources").status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        limited = c.get("/v1/sources")
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["error"] == "rate_limited"
        # Health and metrics stay reachable for probes.
        assert c.get("/healthz").status_code == 200
        assert 'status="429"' in c.get("/metrics").text


def test_cors_origins_from_settings(seed_index: Path, start_server) -> None:
    server = start_server(make_settings(seed_index, cors_origins=["https://news.example"]))
    with httpx.Client(base_url=server.url, timeout=30) as c:
        pre = c.options(
            "/v1/ask",
            headers={"Origin": "https://news.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
        )
        assert pre.status_code == 200
        assert pre.headers["access-control-allow-origin"] == "https://news.example"
        other = c.get("/v1/sources", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_without_an_index_ready_waits_and_an_ingest_creates_it(tmp_path: Path, start_server) -> None:
    server = start_server(make_settings(tmp_path / "empty-index", admin_token=ADMIN_TOKEN), ready=False)
    with httpx.Client(base_url=server.url, timeout=60) as c:
        assert c.get("/healthz").status_code == 200
        deadline = time.monotonic() + 30
        while (ready := c.get("/readyz")).json()["status"] == "loading" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.status_code == 503 and "newsbot index build" in ready.json()["detail"]
        ask = c.post("/v1/ask", json={"question": "anything?"})
        assert ask.status_code == 503 and ask.headers["retry-after"]
        r = c.post("/v1/articles", json=NEW_ARTICLE, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert r.status_code == 200, r.text
        assert c.get("/readyz").status_code == 200
        answer = c.post("/v1/ask", json={"question": "Who paid for the floating library in Kellmouth?"}).json()
        assert "fishing cooperative" in answer["answer"]
