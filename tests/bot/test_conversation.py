"""The bot as users meet it: the real Application, the real retriever, the Telegram emulator.

Each test starts the application built by `bot.app.build_application` against the emulator
(python-telegram-bot polling it over HTTP on 127.0.0.1) and acts as users through the
emulator's client routes. Answers come from the real retriever over a real index.
"""

from __future__ import annotations

import html
import re

import pytest

from bot.render import MAX_MESSAGE_UTF16, utf16_len

from .telegram_user import BOT_USERNAME

pytestmark = pytest.mark.node

MILLEY_QUESTION = "Who called the letter a mistake?"
DAM_QUESTION = "How long is the crack in the Brightwater dam spillway?"
DAM_TITLE = "Q&A: why the <Brightwater> dam & its spillway worry engineers"


def visible(text: str) -> str:
    """What a reader sees of a Telegram HTML message."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


async def test_question_answered_with_the_right_citation(start_bot, retriever):
    expected = retriever.ask(MILLEY_QUESTION)
    assert not expected.abstained and expected.citations
    async with start_bot(retriever) as env:
        alice = env.user()
        await alice.say(MILLEY_QUESTION)
        reply = await alice.reply()
        actions = await alice.chat_actions()
    assert reply.parse_mode == "HTML"
    text = visible(reply.text)
    # The quote that answers it, with its marker, and the source it came from.
    assert "it was a mistake" in text
    assert "Milley" in text
    assert "[1]" in text
    assert "Sources" in text
    first = expected.citations[0]
    assert f"{html.escape(first.title)}" in reply.text
    assert f"(London Daily, {first.published_at[:10]})" in text
    # One button per cited source, and "typing" while it worked.
    assert [b["callback_data"].split(":")[2] for b in reply.buttons] == [str(c.n) for c in expected.citations]
    assert any(a["action"] == "typing" for a in actions)


async def test_start_and_help(start_bot, retriever):
    async with start_bot(retriever) as env:
        alice = env.user()
        await alice.command("/start")
        start = await alice.reply()
        await alice.command("/help")
        help_ = await alice.reply()
    text = visible(start.text)
    sources = retriever.sources()
    # What it is, which sources and dates it knows, three example questions.
    assert "news archive" in text
    assert f"I know {sum(s.articles for s in sources)} articles from" in text
    for source in sources[:10]:
        assert source.name in text
    first = min(s.first_published for s in sources if s.first_published)[:10]
    last = max(s.last_published for s in sources if s.last_published)[:10]
    assert f"from {first} to {last}" in text
    examples = re.findall(r"• (What is the latest on “(.+?)”\?)", text)
    assert len(examples) == 3
    assert "Future of US military presence in Iraq in question amid confusion in Washington" in [title for _, title in examples]
    assert "/help" in text
    for command in ("/ask", "/latest", "/sources", "/new", "/help"):
        assert command in visible(help_.text)
    assert f"@{BOT_USERNAME}" in help_.text


async def test_group_answers_only_ask_mentions_and_replies(start_bot, retriever):
    async with start_bot(retriever) as env:
        alice = env.user(user_id=2001, chat_id=-5001)
        await alice.say(MILLEY_QUESTION)
        await alice.silence(1.5)  # plain talk in a group is not for the bot

        await alice.say(f"@{BOT_USERNAME} {MILLEY_QUESTION}", mention=True)
        mentioned = await alice.reply()
        assert "it was a mistake" in visible(mentioned.text)

        await alice.say("And when did the crack in the Brightwater spillway appear?", reply_to=mentioned)
        replied = await alice.reply()
        assert "Brightwater" in visible(replied.text)

        await alice.command(f"/ask@{BOT_USERNAME} {DAM_QUESTION}")
        asked = await alice.reply()
        assert "14 metres" in visible(asked.text)
    # In a group the answer replies to the asker's message.
    assert mentioned.raw.get("reply_parameters")


async def test_source_button_shows_the_passage_and_returns(start_bot, retriever):
    async with start_bot(retriever) as env:
        alice = env.user()
        await alice.say(DAM_QUESTION)
        answer = await alice.reply()
        first = answer.buttons[0]
        assert first["callback_data"].startswith("src:")

        tap = await alice.tap(answer, first["callback_data"])
        shown = await alice.wait_edit(answer.message_id, lambda m: "<blockquote" in m.text)
        answered = await alice.wait_callback_answer(tap)

        back = shown.buttons[0]
        assert back["callback_data"].startswith("back:")
        tap_back = await alice.tap(shown, back["callback_data"])
        restored = await alice.wait_edit(answer.message_id, lambda m: "<blockquote" not in m.text)
        await alice.wait_callback_answer(tap_back)

    expected = retriever.ask(DAM_QUESTION).citations[0]
    assert answered["text"] == f"Source [{expected.n}]"
    # The passage with the quoted sentence in bold, the source linked, one button back.
    assert f"<b>{html.escape(expected.quote)}</b>" in shown.text
    assert html.escape(expected.title) in shown.text
    assert "Valley Courier" in shown.text
    assert len(shown.buttons) == 1 and "Back" in back["text"]
    assert restored.text == answer.text
    assert [b["callback_data"] for b in restored.buttons] == [b["callback_data"] for b in answer.buttons]


async def test_long_answer_is_split_below_4096_utf16_units(start_bot, make_retriever):
    # Five quoted sentences (the most an answer may hold), full of emoji, from five outlets.
    wordy = make_retriever(answer_max_sentences=5)
    question = "What happened at the Zanderfeld regatta?"
    expected = wordy.ask(question)
    async with start_bot(wordy) as env:
        alice = env.user()
        await alice.say(question)
        parts = await alice.replies(2)
        await alice.silence(0.5)
    lengths = [utf16_len(p.text) for p in parts]
    assert all(n <= MAX_MESSAGE_UTF16 for n in lengths), lengths
    assert sum(lengths) > MAX_MESSAGE_UTF16
    whole = "".join(p.text for p in parts)
    assert sum(ch > "\uffff" for ch in whole) > 50  # emoji: two UTF-16 units each
    for part in parts:
        assert part.text.count("<b>") == part.text.count("</b>")
        assert part.text.count("<a ") == part.text.count("</a>")
        assert not re.search(r"&[a-z#0-9]*$", part.text)
    for citation in expected.citations:
        assert html.escape(citation.quote) in whole
    # Buttons only under the last part, one per citation.
    assert not parts[0].buttons
    assert len(parts[-1].buttons) == len(expected.citations) == 5


async def test_title_with_markup_characters_is_escaped(start_bot, retriever):
    async with start_bot(retriever) as env:
        alice = env.user()
        await alice.say(DAM_QUESTION)
        reply = await alice.reply()
        await alice.tap(reply, reply.buttons[0]["callback_data"])
        passage = await alice.wait_edit(reply.message_id, lambda m: "<blockquote" in m.text)
    escaped = "Q&amp;A: why the &lt;Brightwater&gt; dam &amp; its spillway worry engineers"
    assert escaped in reply.text
    assert DAM_TITLE not in reply.text
    assert DAM_TITLE in visible(reply.text)
    assert escaped in passage.text and DAM_TITLE not in passage.text


async def test_latest_and_sources_list_the_archive(start_bot, retriever):
    async with start_bot(retriever) as env:
        alice = env.user()
        await alice.command("/latest")
        latest = await alice.reply()
        await alice.command("/latest regatta")
        on_topic = await alice.reply()
        await alice.command("/sources")
        sources = await alice.reply()
    for article in retriever.latest(limit=5):
        assert f"{html.escape(article.title)}</a>" in latest.text or html.escape(article.title) in latest.text
    assert "on “regatta”" in on_topic.text
    for article in retriever.latest(topic="regatta", limit=5):
        assert html.escape(article.title) in on_topic.text
    for info in retriever.sources():
        assert f"{html.escape(info.name)}: {info.articles} article" in sources.text


async def test_rate_limit_replies_politely_once(start_bot, retriever):
    async with start_bot(retriever, bot_rate_limit_per_minute=2) as env:
        alice = env.user()
        for _ in range(2):
            await alice.say(DAM_QUESTION)
            assert "14 metres" in visible((await alice.reply()).text)
        await alice.say(DAM_QUESTION)
        limited = await alice.reply()
        await alice.say(DAM_QUESTION)
        await alice.silence(1.0)  # told once; not every time
        # Another user is not affected.
        bob = env.user(user_id=1002, first_name="Bob")
        await bob.say(DAM_QUESTION)
        assert "14 metres" in visible((await bob.reply()).text)
    assert "wait about" in limited.text
    assert re.search(r"wait about \d+ seconds", limited.text)


async def test_allowlist_refuses_others(start_bot, retriever):
    async with start_bot(retriever, bot_allowed_user_ids=[1001], bot_allowed_chat_ids=[-7001]) as env:
        alice = env.user(user_id=1001)
        mallory = env.user(user_id=6666, first_name="Mallory")
        member = env.user(user_id=6667, chat_id=-7001, first_name="Member")
        outsider = env.user(user_id=6668, chat_id=-7002, first_name="Outsider")

        await mallory.say(DAM_QUESTION)
        refused = await mallory.reply()
        await outsider.command(f"/ask {DAM_QUESTION}")
        await outsider.silence(1.0)  # in a group that is not allowed, the bot stays silent

        await alice.say(DAM_QUESTION)
        allowed = await alice.reply()
        await member.command(f"/ask {DAM_QUESTION}")
        in_group = await member.reply()
    assert "private" in refused.text and "14 metres" not in refused.text
    assert "14 metres" in visible(allowed.text)
    assert "14 metres" in visible(in_group.text)


class ExplodingRetriever:
    """The real retriever, except that asking fails deep inside it."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def ask(self, question, **kwargs):
        self.inner.ask(question, **kwargs)
        raise RuntimeError("faiss exploded: Traceback secret /etc/passwd")

    def __getattr__(self, name):
        return getattr(self.inner, name)


async def test_exception_in_retrieval_gives_a_polite_message(start_bot, retriever, caplog):
    async with start_bot(ExplodingRetriever(retriever)) as env:
        alice = env.user()
        with caplog.at_level("ERROR", logger="newsbot.bot"):
            await alice.say(DAM_QUESTION)
            reply = await alice.reply()
            await alice.silence(0.5)
    assert "Sorry, something went wrong" in reply.text
    for leak in ("Traceback", "RuntimeError", "faiss", "passwd"):
        assert leak not in reply.text
    # ... and the operator has the details in the log.
    assert any(r.exc_info and "faiss exploded" in str(r.exc_info[1]) for r in caplog.records)


async def test_abstention_is_said_plainly_with_a_hint(start_bot, retriever):
    question = "What is the capital of Mongolia?"
    assert retriever.ask(question).abstained
    async with start_bot(retriever) as env:
        alice = env.user()
        await alice.say(question)
        reply = await alice.reply()
    text = visible(reply.text)
    assert "could not find an answer" in text and "rephrasing" in text
    assert "Sources" not in text and not reply.buttons


async def test_unexpected_telegram_failure_reaches_the_error_handler(start_bot, retriever, caplog):
    async with start_bot(retriever) as env:
        alice = env.user()
        await alice.say(DAM_QUESTION)
        answer = await alice.reply()
        # A tap on a message Telegram no longer has: the edit fails with a 400 inside the handler.
        gone = type(answer)(message_id=987654, text=answer.text, parse_mode="HTML", reply_markup=answer.reply_markup)
        with caplog.at_level("ERROR", logger="newsbot.bot"):
            await alice.tap(gone, answer.buttons[0]["callback_data"])
            apology = await alice.reply()
    assert apology.text.startswith("Sorry, something went wrong")
    assert "message to edit not found" not in apology.text and "BadRequest" not in apology.text
    assert any(r.getMessage() == "bot.unhandled_error" and r.exc_info for r in caplog.records)


async def test_too_long_question_is_refused(start_bot, retriever):
    async with start_bot(retriever) as env:
        alice = env.user()
        await alice.say("why " * 300)
        reply = await alice.reply()
    assert "too long" in reply.text and "1,000" in reply.text


async def test_follow_ups_use_each_users_own_recent_turns_and_new_forgets(start_bot, retriever):
    follow_up = "How much will it cost?"
    alone = retriever.ask(follow_up).answer.split(" [1]")[0]
    assert "2.3 million euros" not in alone  # without the dam question it is read as another story
    async with start_bot(retriever) as env:
        alice = env.user(user_id=2001, chat_id=-5002, first_name="Alice")
        bob = env.user(user_id=2002, chat_id=-5002, first_name="Bob")
        await alice.command(f"/ask {DAM_QUESTION}")
        await alice.reply()
        await bob.command("/ask When were the snow leopard cubs born?")
        await bob.reply()
        # Bob spoke last, but Alice's follow-up is read against Alice's question.
        await alice.command(f"/ask {follow_up}")
        followed = await alice.reply()
        await alice.command("/new")
        forgot = await alice.reply()
        await alice.command(f"/ask {follow_up}")
        fresh = await alice.reply()
    assert "2.3 million euros" in visible(followed.text).split(" [1]")[0]
    assert "afresh" in forgot.text
    assert visible(fresh.text).split(" [1]")[0] == alone


async def test_asof_asks_the_archive_as_it_stood_on_a_day_until_turned_off(start_bot, retriever):
    from datetime import date

    question = "What is the latest on the Glasswater Bridge?"
    day = date(2024, 2, 1)
    then, now = retriever.ask(question, as_of=day), retriever.ask(question)
    # The day matters for this question: the newest report (April) is cited only without it.
    assert max(c.published_at for c in now.citations) > day.isoformat() >= max(c.published_at for c in then.citations)
    async with start_bot(retriever) as env:
        alice = env.user()
        await alice.command("/asof 1 February")
        unreadable = await alice.reply()
        await alice.command("/asof 2999-01-01")
        future = await alice.reply()
        await alice.command("/asof 2024-02-01")
        set_ = await alice.reply()
        await alice.command("/asof")
        current = await alice.reply()
        await alice.say(question)
        answered_then = await alice.reply()
        await alice.command("/asof off")
        off = await alice.reply()
        await alice.say(question)
        answered_now = await alice.reply()
        # /new forgets the day too.
        await alice.command("/asof 2024-02-01")
        await alice.reply()
        await alice.command("/new")
        await alice.reply()
        await alice.command("/asof")
        after_new = await alice.reply()
    assert "not a day I can read" in unreadable.text and "1 February" in unreadable.text
    assert "has not come yet" in future.text
    assert "2024-02-01" in set_.text and "2024-02-01" in current.text
    # Answered exactly as the retriever answers as of that day (no source newer than it), and it says so.
    assert visible(answered_then.text).split(" [1]")[0] == then.answer.split(" [1]")[0]
    source_dates = lambda reply: re.findall(r"\d{4}-\d\d-\d\d", visible(reply.text).split("Sources")[-1])
    assert max(source_dates(answered_then)) <= day.isoformat() < max(source_dates(answered_now))
    assert "Asked as of 2024-02-01" in visible(answered_then.text)
    assert [b["callback_data"].split(":")[2] for b in answered_then.buttons] == [str(c.n) for c in then.citations]
    assert "Back to today" in off.text
    assert visible(answered_now.text).split(" [1]")[0] == now.answer.split(" [1]")[0]
    assert "Asked as of" not in visible(answered_now.text)
    assert "as of today" in after_new.text
