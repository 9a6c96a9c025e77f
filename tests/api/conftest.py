"""A real uvicorn server on 127.0.0.1 (a free port) serving `create_app`, for the API tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from retrieval.api import create_app
from tests.conftest import make_settings

ADMIN_TOKEN = "test-admin-token-0123456789"


class LiveServer:
    """uvicorn in a thread, on a socket bound before start (no port race)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=5)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def start(self, *, ready: bool = True, timeout: float = 60.0) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        if ready:
            with httpx.Client(base_url=self.url, timeout=5) as client:
                while client.get("/readyz").status_code != 200:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"not ready: {client.get('/readyz').text}")
                    time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()


@pytest.fixture
def start_server(embedder: Any) -> Iterator[Callable[..., LiveServer]]:
    """Start a server for `settings` (the session's model shared); stopped after the test."""
    started: list[LiveServer] = []

    def start(settings: Any, *, ready: bool = True) -> LiveServer:
        server = LiveServer(create_app(settings, embedder=embedder)).start(ready=ready)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def server(seed_index: Path, embedder: Any) -> Iterator[LiveServer]:
    """A read-only server over the seed index (shared by a module's tests; nothing writes)."""
    settings = make_settings(seed_index, admin_token=ADMIN_TOKEN)
    live = LiveServer(create_app(settings, embedder=embedder)).start()
    yield live
    live.stop()


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


@pytest.fixture
def admin_server(seed_index: Path, index_copy: Callable[[Path], Path], start_server: Callable[..., LiveServer]) -> LiveServer:
    """A server over a private copy of the seed index, which admin tests may change."""
    return start_server(make_settings(index_copy(seed_index), admin_token=ADMIN_TOKEN))


@pytest.fixture
def admin(admin_server: LiveServer) -> Iterator[httpx.Client]:
    """A client of `admin_server` that sends the admin token."""
    with httpx.Client(base_url=admin_server.url, timeout=60, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as c:
        yield c
