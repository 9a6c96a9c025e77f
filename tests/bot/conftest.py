"""Bot test plumbing: the telegram-test-api emulator on 127.0.0.1 and the real retriever.

The emulator is the public npm package, pinned, installed on first use into the git-ignored
`tests/.node/` and started through `tests/bot/emulator.js`, which closes the gaps that stop
python-telegram-bot 22.8 from working with it as shipped.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import build_application, running
from newsbot.settings import Settings
from retrieval.types import Answerer
from tests.conftest import CACHE, FIXTURES, ROOT, build, make_settings

from .telegram_user import TelegramUser, new_token

EMULATOR_VERSION = "4.2.1"
NODE_DIR = ROOT / "tests" / ".node"
EMULATOR_PACKAGE = NODE_DIR / "node_modules" / "telegram-test-api"
LAUNCHER = Path(__file__).resolve().parent / "emulator.js"
OUTPUT = ROOT / "tests" / ".output" / "bot"


def install_emulator() -> Path:
    """`npm install` the pinned emulator into tests/.node unless that version is already there."""
    manifest = EMULATOR_PACKAGE / "package.json"
    if manifest.exists() and json.loads(manifest.read_text())["version"] == EMULATOR_VERSION:
        return EMULATOR_PACKAGE
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        pytest.skip("Node.js and npm are needed for the Telegram emulator (telegram-test-api); install the `nodejs` and `npm` packages")
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [npm, "install", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund", "--loglevel=error", f"telegram-test-api@{EMULATOR_VERSION}"],
        check=True,
        timeout=300,
    )
    return EMULATOR_PACKAGE


@pytest.fixture(scope="session")
def emulator() -> Iterator[str]:
    """The emulator's base URL (http://127.0.0.1:<free port>), for the whole session."""
    package = install_emulator()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    stderr = open(OUTPUT / "emulator.stderr.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        ["node", str(LAUNCHER), "--port", "0", "--module-dir", str(package)],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env={**os.environ, "NODE_ENV": "test"},
    )
    try:
        port = _read_ready_port(process, timeout=30.0)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        stderr.close()


def _read_ready_port(process: subprocess.Popen[str], *, timeout: float) -> int:
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the emulator exited with {process.returncode}; see {OUTPUT / 'emulator.stderr.log'}")
        if selector.select(timeout=0.2):
            line = process.stdout.readline()
            if line.startswith("READY "):
                return int(line.split()[1])
    raise RuntimeError(f"the emulator did not start within {timeout}s")


@pytest.fixture(scope="session")
def bot_index(embedder: Any) -> Path:
    """A real index of the bundled corpus, the shared test news and the bot's own fixtures
    (a title with `<` and `&`)."""
    index_dir = CACHE / "bot-index"
    report = build(index_dir, [ROOT / "corpus", FIXTURES / "news", FIXTURES / "bot"], embedder)
    assert report.articles >= 4, report.summary()
    return index_dir


def _retriever_class() -> Any:
    try:
        from retrieval import Retriever
    except ImportError:  # until retrieval/__init__.py re-exports it
        from retrieval.search import Retriever
    return Retriever


@pytest.fixture(scope="session")
def make_retriever(bot_index: Path, embedder: Any) -> Iterator[Callable[..., Answerer]]:
    """Real retrievers over the real bot index, with settings overrides (`answer_max_sentences=5`)."""
    from index.store import IndexReader

    reader = IndexReader.open(bot_index)

    def make(**overrides: Any) -> Answerer:
        return _retriever_class()(reader, embedder, settings=make_settings(bot_index, **overrides))

    yield make
    reader.close()


@pytest.fixture(scope="session")
def retriever(make_retriever: Callable[..., Answerer]) -> Answerer:
    """The real retriever over the real bot index (the answerer every bot test uses)."""
    return make_retriever()


BotFactory = Callable[..., contextlib.AbstractAsyncContextManager[Any]]


class BotEnv:
    """A running bot (the real Application) and a way to act as its users."""

    def __init__(self, application: Any, http: httpx.AsyncClient, token: str, settings: Settings) -> None:
        self.application = application
        self.http = http
        self.token = token
        self.settings = settings

    def user(self, *, user_id: int = 1001, chat_id: int | None = None, first_name: str = "Alice") -> TelegramUser:
        return TelegramUser(self.http, self.token, user_id=user_id, chat_id=user_id if chat_id is None else chat_id, first_name=first_name)


@pytest.fixture
def start_bot(emulator: str, bot_index: Path) -> BotFactory:
    """`async with start_bot(answerer, **settings) as env:` runs the application built by
    `build_application` against the emulator (polling, or webhook with `webhook_port=`)."""

    @contextlib.asynccontextmanager
    async def start(answerer: Answerer, *, webhook_port: int | None = None, **overrides: Any) -> AsyncIterator[BotEnv]:
        token = new_token()
        if webhook_port:
            overrides = {"bot_webhook_listen": "127.0.0.1", "bot_webhook_port": webhook_port, **overrides}
        settings = make_settings(bot_index, telegram_bot_token=token, telegram_base_url=f"{emulator}/bot", **overrides)
        application = build_application(settings, answerer)
        webhook_url = f"http://127.0.0.1:{webhook_port}/telegram-hook" if webhook_port else None
        async with httpx.AsyncClient(base_url=emulator, timeout=10) as http:
            async with running(application, settings, webhook_url=webhook_url, poll_interval=0.05, poll_timeout=1):
                yield BotEnv(application, http, token, settings)

    return start
