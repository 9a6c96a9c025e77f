"""`newsbot serve --build-if-missing`: the README's first command, as a real process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_builds_a_missing_index_then_answers(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "NEWSBOT_INDEX_DIR": str(tmp_path / "index"),
        "NEWSBOT_CORPUS_DIR": str(ROOT / "corpus"),
        "HF_HUB_OFFLINE": "1",
        "NEWSBOT_LOG_LEVEL": "WARNING",
    }
    newsbot = Path(sys.executable).with_name("newsbot")
    command = [str(newsbot)] if newsbot.exists() else [sys.executable, "-m", "newsbot.cli"]
    # cwd=tmp_path: no .env of the developer's is read.
    proc = subprocess.Popen(
        [*command, "serve", "--build-if-missing", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        ready = None
        with httpx.Client(base_url=url, timeout=10) as client:
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    ready = client.get("/readyz")
                    if ready.status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.25)
            assert ready is not None and ready.status_code == 200, proc.poll()
            answer = client.post("/v1/ask", json={"question": "Who called the letter a mistake?"}, timeout=60).json()
            assert "Milley" in answer["answer"] and answer["citations"]
        assert (tmp_path / "index" / "CURRENT").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            output, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
    assert proc.returncode == 0, output
    assert "indexing" in output and f"serving on http://127.0.0.1:{port}" in output
