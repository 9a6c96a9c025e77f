"""The bot's conversation: small async handlers, one per thing a user can do.

Handlers receive their collaborators (the answerer, memory, limits) through `BotHandlers`, never
globals. Retrieval is synchronous and CPU-bound, so it runs in a worker thread while the event
loop keeps answering other chats. Whatever fails, the user gets a short, polite message; the
details (and the traceback) go to the log only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from html import escape
from typing import Any

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatAction, ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from retrieval.types import Answer, Answerer, Turn

from . import render
from .errors import ServiceUnavailableError
from .history import AnswerCache, AsOfDays, CachedAnswer, ConversationHistory, conversation_key
from .limits import Allowlist, RateLimiter

__all__ = ["MAX_QUESTION_CHARS", "BotHandlers", "Texts"]

logger = logging.getLogger("newsbot.bot")

#: Longest question the bot accepts; longer ones are refused politely, not truncated.
MAX_QUESTION_CHARS = 1000
#: Headlines longer than this are not turned into example questions on /start.
_EXAMPLE_TITLE_CHARS = 90
#: Telegram shows "typing…" for about 5 seconds; renew it a little sooner while we work.
_TYPING_RENEW_SECONDS = 4.5

Context = ContextTypes.DEFAULT_TYPE


@dataclass(slots=True, frozen=True)
class Texts:
    """The bot's fixed replies (Telegram HTML), in one place for wording changes."""

    failed: str = "Sorry, something went wrong while I was looking that up. Please try again in a moment."
    unavailable: str = "Sorry, the news archive is not reachable right now. Please try again in a few minutes."
    not_allowed: str = "Sorry, this bot is private and you are not on its list of allowed users."
    too_long: str = "That question is too long ({length} characters). Please keep it under {limit} characters."
    empty_ask: str = "Ask me something after the command, for example:\n<code>/ask What did the council decide about the budget?</code>"
    rate_limited: str = "You are asking faster than I can keep up with. Please wait about {seconds} seconds."
    new_conversation: str = "Started afresh: I have forgotten your previous questions (and any /asof day)."
    as_of_set: str = (
        "From now on I answer as the archive stood on <b>{day}</b>: newer articles are left out, and "
        "“this week” or “latest” mean then. Send /asof off to ask about today again."
    )
    as_of_current: str = "I answer as the archive stood on <b>{day}</b>. Send /asof off to ask about today again."
    as_of_today: str = (
        "I answer as of today. To ask the archive as it stood on another day, send it as "
        "<code>/asof 2020-08-22</code> (year-month-day)."
    )
    as_of_cleared: str = "Back to today: I answer with everything in the archive."
    as_of_bad: str = "“{value}” is not a day I can read. Send it as year-month-day, for example <code>/asof 2020-08-22</code>, or /asof off."
    as_of_future: str = "{day} has not come yet. Send a day up to today, or /asof off."
    expired: str = "This answer is no longer in my memory. Please ask again."
    unknown_command: str = "I do not know that command. See /help."
    examples_fallback: tuple[str, ...] = (
        "What happened at the latest summit?",
        "Who won the election?",
        "What did the government announce about the budget?",
    )


@dataclass(slots=True)
class BotHandlers:
    """Everything the handlers need, passed in by `bot.app.build_application`."""

    answerer: Answerer
    history: ConversationHistory
    answers: AnswerCache
    limiter: RateLimiter
    allowlist: Allowlist
    top_k: int | None = None
    days: AsOfDays = field(default_factory=AsOfDays)
    texts: Texts = field(default_factory=Texts)
    max_question_chars: int = MAX_QUESTION_CHARS

    # --- gatekeeping (handler group -1, runs before the others) ------------------------------

    async def guard(self, update: Update, context: Context) -> None:
        """Stop updates from users and chats outside the allowlist (with one polite line in private)."""
        user = update.effective_user
        chat = update.effective_chat
        if self.allowlist.allows(user_id=user.id if user else None, chat_id=chat.id if chat else None):
            return
        logger.info("bot.refused_not_allowed", extra={"user_id": user.id if user else None, "chat_id": chat.id if chat else None})
        with contextlib.suppress(TelegramError):
            if update.callback_query:
                await update.callback_query.answer(self.texts.not_allowed, show_alert=True)
            elif chat is not None and chat.type == ChatType.PRIVATE and update.message:
                await update.message.reply_html(self.texts.not_allowed)
        raise ApplicationHandlerStop

    # --- commands -------------------------------------------------------------------------------

    async def start(self, update: Update, context: Context) -> None:
        """/start: what the bot is, which sources and dates it knows, three questions to try."""
        message = _message(update)
        sources: list[Any] = []
        examples: list[str] = []
        try:
            sources = await asyncio.to_thread(self.answerer.sources)
            latest = await asyncio.to_thread(self.answerer.latest, limit=10)
            # Recent headlines make questions the archive can answer; long ones make poor examples.
            titles = dict.fromkeys(a.title.strip() for a in latest if 0 < len(a.title.strip()) <= _EXAMPLE_TITLE_CHARS)
            examples = [f"What is the latest on “{title}”?" for title in list(titles)[:3]]
        except Exception:  # the greeting still works without the archive's numbers
            logger.exception("bot.start_archive_info_failed")
        text = render.render_start(
            bot_name=context.bot.first_name or "NewsBot", sources=sources, examples=(examples + list(self.texts.examples_fallback))[:3]
        )
        await message.reply_html(text)

    async def help(self, update: Update, context: Context) -> None:
        """/help: commands, and how to address the bot in a group."""
        await _message(update).reply_html(render.render_help(bot_username=context.bot.username))

    async def ask(self, update: Update, context: Context) -> None:
        """/ask <question>."""
        # The text after the command, line breaks kept (context.args would split on them).
        parts = (_message(update).text or "").split(maxsplit=1)
        await self._answer(update, context, parts[1] if len(parts) > 1 else "")

    async def sources(self, update: Update, context: Context) -> None:
        """/sources: the outlets in the archive with counts and dates."""
        message = _message(update)
        async with self._failures_reported(message):
            found = await asyncio.to_thread(self.answerer.sources)
            for part in render.render_sources(found):
                await message.reply_html(part)

    async def latest(self, update: Update, context: Context) -> None:
        """/latest [topic]: the newest articles, optionally about a topic."""
        message = _message(update)
        topic = " ".join(context.args or []).strip()[:200] or None
        if not await self._within_rate(update, message):
            return
        async with self._failures_reported(message), _typing(context, message.chat_id):
            found = await asyncio.to_thread(self.answerer.latest, topic=topic, limit=5)
            await message.reply_html(render.render_latest(found, topic=topic))

    async def as_of(self, update: Update, context: Context) -> None:
        """/asof [day|off]: ask the archive as it stood on a day (year-month-day), or today again."""
        message = _message(update)
        key = _conversation(update)
        value = " ".join(context.args or []).strip()
        if not value:
            day = self.days.get(key)
            text = self.texts.as_of_current.format(day=day.isoformat()) if day else self.texts.as_of_today
        elif value.lower() in ("off", "today", "now"):
            self.days.clear(key)
            text = self.texts.as_of_cleared
        else:
            try:
                day = date.fromisoformat(value)
            except ValueError:
                text = self.texts.as_of_bad.format(value=escape(value[:40]))
            else:
                if day > date.today():
                    text = self.texts.as_of_future.format(day=day.isoformat())
                else:
                    self.days.set(key, day)
                    text = self.texts.as_of_set.format(day=day.isoformat())
        await message.reply_html(text)

    async def new(self, update: Update, context: Context) -> None:
        """/new: forget this conversation's previous turns and its /asof day."""
        message = _message(update)
        key = _conversation(update)
        self.history.clear(key)
        self.days.clear(key)
        await message.reply_html(self.texts.new_conversation)

    async def unknown_command(self, update: Update, context: Context) -> None:
        """Any other command in a private chat."""
        await _message(update).reply_html(self.texts.unknown_command)

    # --- plain text -----------------------------------------------------------------------------

    async def private_text(self, update: Update, context: Context) -> None:
        """In a private chat, any text is a question."""
        await self._answer(update, context, _message(update).text or "")

    async def group_text(self, update: Update, context: Context) -> None:
        """In a group, only a mention of the bot or a reply to it is a question."""
        message = _message(update)
        question = addressed_question(message, bot_id=context.bot.id, bot_username=context.bot.username)
        if question is None:
            return
        await self._answer(update, context, question)

    # --- source buttons -------------------------------------------------------------------------

    async def source_button(self, update: Update, context: Context) -> None:
        """A source button: show the cited passage in place of the answer, with a way back."""
        query = update.callback_query
        assert query is not None and query.data is not None
        _, key, number = query.data.split(":", 2)
        cached = self._cached(update, key)
        citation = next((c for c in cached.answer.citations if str(c.n) == number), None) if cached else None
        if cached is None or citation is None:
            await query.answer(self.texts.expired, show_alert=True)
            return
        await query.answer(f"Source [{citation.n}]")
        await _edit(query, render.render_passage(citation), render.back_keyboard(key))

    async def back_button(self, update: Update, context: Context) -> None:
        """The return button under a passage: the answer again, with its source buttons."""
        query = update.callback_query
        assert query is not None and query.data is not None
        key = query.data.split(":", 1)[1]
        cached = self._cached(update, key)
        if cached is None:
            await query.answer(self.texts.expired, show_alert=True)
            return
        await query.answer()
        await _edit(query, cached.html, render.source_keyboard(cached.answer, key))

    # --- errors ---------------------------------------------------------------------------------

    async def error(self, update: object, context: Context) -> None:
        """Last resort for anything a handler did not catch: log it, tell the user politely."""
        logger.error("bot.unhandled_error", exc_info=context.error)
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        if update.callback_query:
            # It may have been answered already (a failed edit after the answer); that is fine.
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer()
        try:
            await context.bot.send_message(update.effective_chat.id, self.texts.failed)
        except TelegramError:
            logger.warning("bot.error_reply_failed", exc_info=True)

    # --- the question path ----------------------------------------------------------------------

    async def _answer(self, update: Update, context: Context, question: str) -> None:
        message = _message(update)
        question = question.strip()
        if not question:
            await message.reply_html(self.texts.empty_ask)
            return
        if len(question) > self.max_question_chars:
            await message.reply_html(self.texts.too_long.format(length=len(question), limit=f"{self.max_question_chars:,}"))
            return
        if not await self._within_rate(update, message):
            return
        key = _conversation(update)
        async with self._failures_reported(message), _typing(context, message.chat_id):
            turns = self.history.turns(key)
            as_of = self.days.get(key)
            answer: Answer = await asyncio.to_thread(self.answerer.ask, question, top_k=self.top_k, history=turns or None, as_of=as_of)
            logger.info(
                "bot.answered",
                extra={"chat_id": message.chat_id, "abstained": answer.abstained, "citations": len(answer.citations), "took_ms": answer.took_ms},
            )
            await self._send_answer(message, answer, asked_as_of=as_of)
            if not answer.abstained:
                self.history.add(key, Turn(question=question, answer=answer.answer))

    async def _send_answer(self, message: Message, answer: Answer, *, asked_as_of: date | None = None) -> None:
        parts = render.render_answer(answer, asked_as_of=asked_as_of)
        key = self.answers.new_key()
        keyboard = render.source_keyboard(answer, key)
        if keyboard is not None:
            self.answers.put(key, CachedAnswer(chat_id=message.chat_id, answer=answer, html=parts[-1]))
        in_group = message.chat.type != ChatType.PRIVATE
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            # In a group the first part replies to the asker, so the thread stays readable.
            await message.reply_html(part, do_quote=in_group and index == 0, reply_markup=keyboard if last else None)

    async def _within_rate(self, update: Update, message: Message) -> bool:
        user = update.effective_user
        decision = self.limiter.check(user.id if user else message.chat_id)
        if decision.allowed:
            return True
        logger.info("bot.rate_limited", extra={"user_id": user.id if user else None, "retry_after": round(decision.retry_after, 1)})
        if decision.first_refusal:
            await message.reply_html(self.texts.rate_limited.format(seconds=decision.retry_after_seconds))
        return False

    def _cached(self, update: Update, key: str) -> CachedAnswer | None:
        cached = self.answers.get(key)
        chat = update.effective_chat
        # A key is only good in the chat it was sent to.
        if cached is None or chat is None or cached.chat_id != chat.id:
            return None
        return cached

    @contextlib.asynccontextmanager
    async def _failures_reported(self, message: Message) -> AsyncIterator[None]:
        """Turn any failure inside into a log record and a polite reply (never exception text)."""
        try:
            yield
        except asyncio.CancelledError:
            raise
        except ServiceUnavailableError:
            logger.exception("bot.service_unavailable", extra={"chat_id": message.chat_id})
            await _reply_quietly(message, self.texts.unavailable)
        except Exception:
            logger.exception("bot.request_failed", extra={"chat_id": message.chat_id})
            await _reply_quietly(message, self.texts.failed)


# --- helpers --------------------------------------------------------------------------------------


def addressed_question(message: Message, *, bot_id: int, bot_username: str | None) -> str | None:
    """The question in a group message addressed to the bot (mention or reply), else None."""
    text = message.text or ""
    replied = message.reply_to_message is not None and message.reply_to_message.from_user is not None and message.reply_to_message.from_user.id == bot_id
    mentioned = False
    for entity, value in message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION]).items():
        if entity.type == MessageEntity.MENTION and bot_username and value.lower() == f"@{bot_username}".lower():
            mentioned = True
        elif entity.type == MessageEntity.TEXT_MENTION and entity.user is not None and entity.user.id == bot_id:
            mentioned = True
    if bot_username:
        pattern = re.compile(rf"@{re.escape(bot_username)}\b", re.IGNORECASE)
        # Telegram always sends the mention entity; the pattern also strips it from the question.
        mentioned = mentioned or bool(pattern.search(text))
        text = pattern.sub(" ", text)
    if not (mentioned or replied):
        return None
    return " ".join(text.split())


def _message(update: Update) -> Message:
    message = update.effective_message
    assert message is not None, "handler registered for message updates only"
    return message


def _conversation(update: Update) -> tuple[int, int]:
    chat = update.effective_chat
    user = update.effective_user
    assert chat is not None
    return conversation_key(chat_id=chat.id, user_id=user.id if user else None, private=chat.type == ChatType.PRIVATE)


@contextlib.asynccontextmanager
async def _typing(context: Context, chat_id: int) -> AsyncIterator[None]:
    """Show "typing…" in the chat while the body runs (renewed, since it fades after ~5 s)."""

    async def send_typing() -> None:
        try:
            await context.bot.send_chat_action(chat_id=chat_id, action=ChatAction.TYPING)
        except TelegramError:
            logger.debug("bot.typing_failed", exc_info=True)

    async def keep_typing() -> None:
        while True:
            await asyncio.sleep(_TYPING_RENEW_SECONDS)
            await send_typing()

    await send_typing()
    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _edit(query: Any, html: str, keyboard: Any) -> None:
    try:
        await query.edit_message_text(html, reply_markup=keyboard)
    except BadRequest as exc:
        # Two taps on the same button: Telegram refuses an edit that changes nothing.
        if "not modified" not in str(exc).lower():
            raise


async def _reply_quietly(message: Message, html: str) -> None:
    try:
        await message.reply_html(html)
    except TelegramError:
        logger.warning("bot.failure_reply_failed", exc_info=True)
