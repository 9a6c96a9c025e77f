"""Browser-test plumbing: a real uvicorn server over the seed index and headless Debian Chromium.

Chromium comes from Debian (`apt-get install -y chromium`), never from `playwright install`,
which downloads its own build and fails offline. The flags below are what lets Chromium start
as root in a container without reaching for the network on its own.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # tests run as root, where the sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Screenshots land here (git-ignored) so a person can look at what the test saw.
OUTPUT_DIR = Path(__file__).resolve().parents[1] / ".output" / "web"

if not CHROMIUM.exists():
    pytest.skip(
        "Chromium is not installed at /usr/bin/chromium (install it with `apt-get install -y chromium`)",
        allow_module_level=True,
    )


@dataclass
class LiveServer:
    """uvicorn serving an app on 127.0.0.1 and a free port, in a background thread."""

    app: Any
    port: int = 0
    _server: Any = None
    _thread: threading.Thread | None = None
    errors: list[BaseException] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, ready_path: str = "/readyz", ready_timeout: float = 180.0) -> LiveServer:
        import uvicorn

        # Binding here (port 0) and handing uvicorn the socket leaves no window for another
        # process to take the port between choosing and binding it.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on", access_log=False)
        self._server = uvicorn.Server(config)

        def run() -> None:
            try:
                self._server.run(sockets=[sock])
            except BaseException as error:  # noqa: BLE001 - reported by wait_ready
                self.errors.append(error)

        self._thread = threading.Thread(target=run, name=f"uvicorn-{self.port}", daemon=True)
        self._thread.start()
        self.wait_ready(ready_path, timeout=ready_timeout)
        return self

    def wait_ready(self, path: str, *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        with httpx.Client(timeout=5.0) as client:
            while time.monotonic() < deadline:
                if self.errors or (self._thread is not None and not self._thread.is_alive()):
                    raise RuntimeError(f"uvicorn stopped before it was ready: {self.errors!r}")
                try:
                    response = client.get(f"{self.url}{path}")
                    if response.status_code == 200:
                        return
                    last = f"{response.status_code} {response.text[:200]}"
                except httpx.HTTPError as error:
                    last = repr(error)
                time.sleep(0.2)
        raise TimeoutError(f"{self.url}{path} not ready after {timeout:.0f} s: {last}")

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)


def start_server(seed_index: Any, embedder: Any, *, ready_path: str = "/readyz", **overrides: Any) -> LiveServer:
    """The real service (`create_app`) over the index in `seed_index`, with settings `overrides`."""
    from retrieval.api import create_app
    from tests.conftest import make_settings

    settings = make_settings(Path(seed_index), **overrides)
    return LiveServer(create_app(settings, embedder=embedder)).start(ready_path=ready_path)


@pytest.fixture(scope="module")
def live_server(seed_index: Any, embedder: Any) -> Iterator[LiveServer]:
    server = start_server(seed_index, embedder)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    return OUTPUT_DIR
