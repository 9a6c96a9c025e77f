"""The Telegram application: built from settings and an answerer, run by polling or webhook.

>>> app = build_application(settings, answerer)              # doctest: +SKIP
>>> run_bot(settings, api_url="http://127.0.0.1:8000")       # doctest: +SKIP

`run_bot` is what `newsbot bot` calls. Tests build the same application against a local Bot
API emulator through `settings.telegram_base_url` and drive it with `running(...)`.
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from newsbot.settings import Settings
from retrieval.types import Answerer

from .errors import BotConfigError, MissingTokenError
from .handlers import BotHandlers
from .history import AnswerCache, ConversationHistory
from .limits import Allowlist, RateLimiter

__all__ = ["ALLOWED_UPDATES", "COMMANDS", "build_application", "make_answerer", "run_bot", "running", "webhook_options"]

logger = logging.getLogger("newsbot.bot")

#: The bot menu Telegram shows next to the text field.
COMMANDS = (
    BotCommand("ask", "Ask the news archive a question"),
    BotCommand("latest", "Newest articles, optionally on a topic"),
    BotCommand("sources", "Which outlets and dates I know"),
    BotCommand("asof", "Ask as the archive stood on a day (YYYY-MM-DD), or off"),
    BotCommand("new", "Forget previous questions"),
    BotCommand("help", "How to use this bot"),
)
#: Only what the handlers use, so Telegram does not send (and bill flood limits for) the rest.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def build_application(
    settings: Settings,
    answerer: Answerer,
    *,
    token: str | None = None,
    concurrent_updates: int = 8,
    flood_retries: int = 3,
) -> Application:
    """The python-telegram-bot Application with every handler registered.

    `token` overrides `settings.telegram_bot_token`; a missing token raises MissingTokenError.
    `concurrent_updates` chats are served at once (retrieval runs in worker threads);
    `flood_retries` is AIORateLimiter's `max_retries`, how often a request refused by Telegram's
    flood control is retried after its `retry_after`.
    """
    token = token or settings.telegram_bot_token
    if not token:
        raise MissingTokenError()
    if concurrent_updates < 1:
        raise ValueError(f"concurrent_updates must be at least 1. Currently, concurrent_updates is {concurrent_updates}")
    builder = (
        Application.builder()
        .token(token)
        .rate_limiter(AIORateLimiter(max_retries=flood_retries))
        .concurrent_updates(concurrent_updates)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .post_init(_set_commands)
    )
    if settings.telegram_base_url:
        base_url, base_file_url = bot_api_urls(settings.telegram_base_url)
        builder = builder.base_url(base_url).base_file_url(base_file_url)
    application = builder.build()
    handlers = BotHandlers(
        answerer=answerer,
        history=ConversationHistory(max_turns=settings.bot_history_turns, ttl_seconds=settings.bot_history_ttl_seconds),
        answers=AnswerCache(),
        limiter=RateLimiter(per_minute=settings.bot_rate_limit_per_minute),
        allowlist=Allowlist(user_ids=settings.bot_allowed_user_ids, chat_ids=settings.bot_allowed_chat_ids),
        top_k=settings.top_k,
    )
    register_handlers(application, handlers)
    application.bot_data["handlers"] = handlers
    return application


def register_handlers(application: Application, handlers: BotHandlers) -> None:
    """Wire the handlers: allowlist first (group -1), then commands, text, buttons, errors."""
    new_messages = filters.UpdateType.MESSAGE  # edits of old messages are not new questions
    application.add_handler(TypeHandler(Update, handlers.guard), group=-1)
    for name, callback in (
        ("start", handlers.start),
        ("help", handlers.help),
        ("ask", handlers.ask),
        ("sources", handlers.sources),
        ("latest", handlers.latest),
        ("asof", handlers.as_of),
        ("new", handlers.new),
    ):
        application.add_handler(CommandHandler(name, callback, filters=new_messages))
    application.add_handler(MessageHandler(new_messages & filters.ChatType.PRIVATE & filters.COMMAND, handlers.unknown_command))
    application.add_handler(MessageHandler(new_messages & filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND, handlers.private_text))
    application.add_handler(MessageHandler(new_messages & filters.ChatType.GROUPS & filters.TEXT & ~filters.COMMAND, handlers.group_text))
    application.add_handler(CallbackQueryHandler(handlers.source_button, pattern=r"^src:[\w-]+:\d+$"))
    application.add_handler(CallbackQueryHandler(handlers.back_button, pattern=r"^back:[\w-]+$"))
    application.add_error_handler(handlers.error)


async def _set_commands(application: Application) -> None:
    try:
        await application.bot.set_my_commands(list(COMMANDS))
    except Exception:  # a menu is nice to have; the bot works without it
        logger.warning("bot.set_commands_failed", exc_info=True)


def bot_api_urls(base: str) -> tuple[str, str]:
    """`base_url` and `base_file_url` for a Bot API server given as `TELEGRAM_BASE_URL`.

    Accepts `http://host:8081/bot` (the form PTB uses) or just `http://host:8081`; files live
    under `/file/bot` on the same server.
    """
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BotConfigError(f"TELEGRAM_BASE_URL must be an http(s) URL such as http://127.0.0.1:8081/bot, not {base!r}")
    root = base.rstrip("/")
    if root.endswith("/bot"):
        root = root[: -len("/bot")]
    return f"{root}/bot", f"{root}/file/bot"


def webhook_options(settings: Settings, webhook_url: str) -> dict[str, Any]:
    """Arguments for `Updater.start_webhook` / `Application.run_webhook`.

    The server listens on `bot_webhook_listen:bot_webhook_port` at the path of `webhook_url`
    (a reverse proxy forwards the public URL there). Telegram's secret-token header is always
    checked: with no `bot_webhook_secret`, a random secret is made for this run.
    """
    parts = urlsplit(webhook_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BotConfigError(f"webhook URL must be an absolute URL such as https://bot.example.com/telegram, not {webhook_url!r}")
    secret = settings.bot_webhook_secret or secrets.token_urlsafe(32)
    if not _SECRET.match(secret):
        raise BotConfigError("NEWSBOT_BOT_WEBHOOK_SECRET may only hold A-Z, a-z, 0-9, _ and - (1 to 256 characters)")
    return {
        "listen": settings.bot_webhook_listen,
        "port": settings.bot_webhook_port,
        "url_path": parts.path.lstrip("/"),
        "webhook_url": webhook_url,
        "secret_token": secret,
        "allowed_updates": ALLOWED_UPDATES,
    }


@contextlib.asynccontextmanager
async def running(
    application: Application,
    settings: Settings,
    *,
    webhook_url: str | None = None,
    poll_interval: float = 0.0,
    poll_timeout: float = 10.0,
) -> AsyncIterator[Application]:
    """Run the application inside an existing event loop (tests, embedding), polling or webhook."""
    await application.initialize()
    try:
        if webhook_url:
            await application.updater.start_webhook(**webhook_options(settings, webhook_url))
        else:
            await application.updater.start_polling(poll_interval=poll_interval, timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES)
        await application.start()
        try:
            yield application
        finally:
            if application.updater.running:
                await application.updater.stop()
            await application.stop()
    finally:
        await application.shutdown()


def make_answerer(settings: Settings, *, api_url: str | None = None) -> Answerer:
    """The HTTP answerer when an API URL is given, else the in-process retriever over the index."""
    api_url = api_url or settings.bot_api_url
    if api_url:
        from .remote import RemoteAnswerer

        return RemoteAnswerer(api_url, timeout=settings.bot_api_timeout)
    # Heavy imports (torch, faiss) only when retrieval really runs in this process.
    from index.embed import load_embedder
    from index.store import IndexReader

    try:
        from retrieval import Retriever
    except ImportError:  # retrieval/__init__.py does not re-export it (yet)
        from retrieval.search import Retriever

    embedder = load_embedder(settings.model, backend=settings.embed_backend, cache_dir=settings.model_cache_dir)
    reader = IndexReader.open(settings.index_dir)
    reader.check_model(embedder)
    retriever = Retriever(reader, embedder, settings=settings)
    retriever.preload()
    return retriever


def run_bot(
    settings: Settings,
    *,
    api_url: str | None = None,
    webhook_url: str | None = None,
    answerer: Answerer | None = None,
) -> None:
    """Run the bot until interrupted: what `newsbot bot` calls.

    Polls Telegram by default; with `webhook_url` (or `NEWSBOT_BOT_WEBHOOK_URL`) registers that
    URL and serves updates posted to it. Raises MissingTokenError, before loading anything,
    when TELEGRAM_BOT_TOKEN is not set.
    """
    if not settings.telegram_bot_token:
        raise MissingTokenError()
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger("httpx").level))
    webhook_url = webhook_url or settings.bot_webhook_url
    options = webhook_options(settings, webhook_url) if webhook_url else None
    answerer = answerer or make_answerer(settings, api_url=api_url)
    application = build_application(settings, answerer)
    if options:
        logger.info("bot.webhook_mode", extra={"listen": options["listen"], "port": options["port"], "path": "/" + options["url_path"]})
        application.run_webhook(**options)
    else:
        logger.info("bot.polling_mode")
        application.run_polling(allowed_updates=ALLOWED_UPDATES)
