"""Application wiring and the bot's small parts: token, URLs, webhook options, memory, limits."""

from __future__ import annotations

import pytest
from telegram.ext import AIORateLimiter, Application

from bot.app import ALLOWED_UPDATES, bot_api_urls, build_application, run_bot, webhook_options
from bot.errors import BotConfigError, MissingTokenError
from bot.history import AnswerCache, CachedAnswer, ConversationHistory, conversation_key
from bot.limits import Allowlist, RateLimiter
from newsbot.settings import Settings
from retrieval.types import Answer, Turn
from tests.conftest import make_settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_run_bot_without_a_token_stops_with_a_clear_message(tmp_path):
    settings = make_settings(tmp_path)
    assert settings.telegram_bot_token is None
    with pytest.raises(MissingTokenError, match="TELEGRAM_BOT_TOKEN is not set.*@BotFather"):
        # Raised before anything heavy: no model, no index (there is none in tmp_path).
        run_bot(settings)


def test_token_and_base_url_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "42:ENV-TOKEN")
    monkeypatch.setenv("TELEGRAM_BASE_URL", "http://127.0.0.1:8081/bot")
    monkeypatch.setenv("NEWSBOT_BOT_ALLOWED_CHAT_IDS", "-100123, 7")
    settings = Settings(_env_file=None, index_dir=tmp_path)  # type: ignore[call-arg]
    application = build_application(settings, answerer=object())  # type: ignore[arg-type]
    assert isinstance(application, Application)
    assert application.bot.token == "42:ENV-TOKEN"
    assert application.bot.base_url == "http://127.0.0.1:8081/bot42:ENV-TOKEN"
    assert application.bot.base_file_url == "http://127.0.0.1:8081/file/bot42:ENV-TOKEN"
    limiter = application.bot.rate_limiter
    assert isinstance(limiter, AIORateLimiter)
    assert limiter._max_retries == 3  # PTB's default of 0 would drop a message on the first flood refusal
    assert settings.bot_allowed_chat_ids == [-100123, 7]
    handlers = application.bot_data["handlers"]
    assert handlers.allowlist.allows(user_id=1, chat_id=7)
    assert not handlers.allowlist.allows(user_id=1, chat_id=8)


def test_bot_api_urls_accept_both_spellings():
    assert bot_api_urls("http://127.0.0.1:8081/bot") == ("http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot")
    assert bot_api_urls("http://127.0.0.1:8081/") == ("http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot")
    with pytest.raises(BotConfigError):
        bot_api_urls("127.0.0.1:8081")


def test_webhook_options_always_check_a_secret(tmp_path):
    settings = make_settings(tmp_path, bot_webhook_port=9443)
    options = webhook_options(settings, "https://bot.example.com/hooks/telegram")
    assert options["listen"] == "127.0.0.1" and options["port"] == 9443
    assert options["url_path"] == "hooks/telegram"
    assert options["webhook_url"] == "https://bot.example.com/hooks/telegram"
    assert options["allowed_updates"] == ALLOWED_UPDATES
    assert len(options["secret_token"]) >= 32  # made up for the run when none is configured
    assert webhook_options(settings, "https://bot.example.com/x")["secret_token"] != options["secret_token"]
    fixed = make_settings(tmp_path, bot_webhook_secret="abc_DEF-123")
    assert webhook_options(fixed, "https://b.example/x")["secret_token"] == "abc_DEF-123"
    with pytest.raises(BotConfigError):
        webhook_options(make_settings(tmp_path, bot_webhook_secret="has space"), "https://b.example/x")
    with pytest.raises(BotConfigError):
        webhook_options(settings, "bot.example.com/x")


def test_history_is_bounded_expires_and_is_per_user_in_groups():
    clock = Clock()
    history = ConversationHistory(max_turns=2, ttl_seconds=60, max_conversations=2, clock=clock)
    alice = conversation_key(chat_id=-5, user_id=1, private=False)
    bob = conversation_key(chat_id=-5, user_id=2, private=False)
    assert alice != bob
    assert conversation_key(chat_id=9, user_id=9, private=True) == (9, 9)
    for n in range(3):
        history.add(alice, Turn(f"q{n}", f"a{n}"))
    assert [t.question for t in history.turns(alice)] == ["q1", "q2"]
    assert history.turns(bob) == []
    clock.now += 61
    assert history.turns(alice) == []
    history.add(alice, Turn("q", "a"))
    history.add(bob, Turn("q", "a"))
    history.add((7, 7), Turn("q", "a"))  # a third conversation pushes out the least recent
    assert len(history) == 2 and history.turns(alice) == []
    assert history.clear(bob) and not history.clear(bob)
    off = ConversationHistory(max_turns=0, ttl_seconds=60)
    off.add(alice, Turn("q", "a"))
    assert off.turns(alice) == []


def test_answer_cache_is_bounded_and_expires():
    clock = Clock()
    cache = AnswerCache(max_answers=2, ttl_seconds=100, clock=clock)
    item = CachedAnswer(chat_id=1, answer=Answer(answer="x", abstained=False, citations=[]), html="x")
    keys = [cache.new_key() for _ in range(3)]
    assert len(set(keys)) == 3 and all(len(f"src:{k}:20".encode()) <= 64 for k in keys)
    for key in keys:
        cache.put(key, item)
    assert cache.get(keys[0]) is None and cache.get(keys[2]) is item
    clock.now += 101
    assert cache.get(keys[2]) is None


def test_rate_limiter_slides_and_refuses_politely_once_per_window():
    clock = Clock()
    limiter = RateLimiter(per_minute=2, clock=clock)
    assert limiter.check("u").allowed and limiter.check("u").allowed
    refused = limiter.check("u")
    assert not refused.allowed and refused.first_refusal and refused.retry_after_seconds == 60
    again = limiter.check("u")
    assert not again.allowed and not again.first_refusal
    assert limiter.check("other").allowed
    clock.now += 30
    assert limiter.check("u").retry_after_seconds == 30
    clock.now += 31
    assert limiter.check("u").allowed
    unlimited = RateLimiter(per_minute=0)
    assert all(unlimited.check("u").allowed for _ in range(100))


def test_allowlist():
    assert Allowlist().allows(user_id=1, chat_id=1)
    only = Allowlist(user_ids=[1], chat_ids=[-10])
    assert only.allows(user_id=1, chat_id=-99)
    assert only.allows(user_id=2, chat_id=-10)
    assert not only.allows(user_id=2, chat_id=2)
    assert not only.allows(user_id=None, chat_id=None)


def test_docstring_examples_run():
    import doctest

    import bot.history
    import bot.limits

    for module in (bot.history, bot.limits):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__
