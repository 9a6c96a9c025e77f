"""Telegram HTML rendering and splitting: escaping, citations, UTF-16 limits, well-formed parts."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

from hypothesis import given, settings as hsettings, strategies as st

from bot.render import (
    MAX_MESSAGE_UTF16,
    back_keyboard,
    render_answer,
    render_latest,
    render_passage,
    render_sources,
    source_keyboard,
    split_html,
    utf16_len,
)
from retrieval.types import Answer, ArticleSummary, Citation, Hit, SourceInfo

TELEGRAM_TAGS = {"b", "i", "u", "s", "a", "code", "pre", "blockquote", "tg-spoiler", "span"}


class _WellFormed(HTMLParser):
    """Checks that tags nest and close, as Telegram's HTML parser requires."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in TELEGRAM_TAGS:
            self.errors.append(f"unsupported tag {tag}")
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unbalanced </{tag}> with {self.stack}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def check_part(part: str) -> str:
    """Assert one message is valid Telegram HTML within the limit; return its visible text."""
    assert utf16_len(part) <= MAX_MESSAGE_UTF16, utf16_len(part)
    # No raw `<`/`&` outside tags and entities: every `&` starts an entity.
    assert not re.search(r"&(?!(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]\w*);)", part), part[:200]
    parser = _WellFormed()
    parser.feed(part)
    parser.close()
    assert not parser.errors, parser.errors
    assert not parser.stack, f"unclosed {parser.stack}"
    return "".join(parser.text)


def citation(n: int, *, title: str = "Council approves budget", source: str = "Daily Example", url: str | None = None,
             passage: str = "The council approved the budget on Monday. It passed 7 to 2.",
             quote: str = "The council approved the budget on Monday.", article_id: str | None = None) -> Citation:
    start = passage.find(quote)
    return Citation(n=n, article_id=article_id or f"a{n}", title=title, source=source, published_at="2024-03-01T09:00:00+00:00",
                    url=url or f"https://news.example/{n}?a=1&b=2", passage=passage, quote=quote,
                    quote_start=max(start, 0), quote_end=max(start, 0) + len(quote))


def test_utf16_len_counts_astral_characters_twice():
    assert utf16_len("abc") == 3
    assert utf16_len("😀") == 2
    assert utf16_len("é") == 1
    assert utf16_len("👍🏽") == 4


def test_answer_lists_numbered_linked_sources_with_source_and_date():
    answer = Answer(answer="The council approved the budget on Monday [1]. It passed 7 to 2 [2].", abstained=False,
                    citations=[citation(1), citation(2, source="Other Times")], as_of="2024-03-01")
    (message,) = render_answer(answer)
    text = check_part(message)
    assert "approved the budget on Monday [1]" in text
    assert '[1] <a href="https://news.example/1?a=1&amp;b=2">Council approves budget</a> (Daily Example, 2024-03-01)' in message
    assert "[2] " in message and "(Other Times, 2024-03-01)" in message
    assert "As of 2024-03-01" in text


def test_quotes_from_one_article_share_its_source_line_and_buttons_show_their_words():
    passage = "The council approved the budget on Monday. It passed 7 to 2."
    answer = Answer(answer="a [1] b [2] c [3]", abstained=False, citations=[
        citation(1, passage=passage, article_id="x"), citation(2, title="Other story", url="https://o.example/2"),
        citation(3, passage=passage, quote="It passed 7 to 2.", article_id="x"),
    ])
    (message,) = render_answer(answer)
    check_part(message)
    assert message.count("Council approves budget") == 1
    assert "[1][3] <a href=" in message and "[2] <a href=" in message
    labels = [row[0].text for row in source_keyboard(answer, "k").inline_keyboard]
    assert labels[0].startswith("[1] “The council approved") and labels[1] == "[2] Other story"
    assert labels[2] == "[3] “It passed 7 to 2.”"


def test_title_answer_and_source_are_escaped():
    evil = citation(1, title="Q&A: why <b>x</b> < y & z", source="A&B <News>")
    answer = Answer(answer="Prices rose <fast> & wide [1].", abstained=False, citations=[evil])
    (message,) = render_answer(answer)
    assert "Q&amp;A: why &lt;b&gt;x&lt;/b&gt; &lt; y &amp; z" in message
    assert "A&amp;B &lt;News&gt;" in message
    assert "Prices rose &lt;fast&gt; &amp; wide [1]." in message
    text = check_part(message)
    assert "Q&A: why <b>x</b> < y & z" in text


def test_non_web_urls_are_not_linked():
    answer = Answer(answer="x [1].", abstained=False, citations=[citation(1, url="javascript:alert(1)")])
    (message,) = render_answer(answer)
    assert "javascript" not in message
    assert "<a " not in message


def test_abstention_is_plain_with_a_hint_and_closest_passages_marked():
    hit = Hit(article_id="a1", chunk_id=3, title="Harbour <plan>", source="Port News", published_at="2023-01-02", url="https://p.example/1",
              text="...", score=0.2)
    (message,) = render_answer(Answer(answer="", abstained=True, citations=[], closest=[hit]))
    text = check_part(message)
    assert "could not find an answer" in text
    assert "rephrasing" in text
    assert "not an answer" in text
    assert "Harbour &lt;plan&gt;" in message
    (with_note,) = render_answer(Answer(answer="", abstained=True, citations=[], closest=[hit], notes=["Closest below <x>."]))
    assert with_note.index("Closest below &lt;x&gt;.") < with_note.index("Closest passages")


def test_long_answer_with_emoji_splits_below_4096_utf16_units():
    sentence = "Rescuers 🚁 reached the village & found <survivors> 🙂 after the flood [1]. "
    answer = Answer(answer=sentence * 120, abstained=False, citations=[citation(n) for n in range(1, 6)])
    parts = render_answer(answer)
    assert len(parts) >= 3
    # The Python length would fit, the UTF-16 length would not: the emoji count double.
    assert len(sentence * 120) < 3 * MAX_MESSAGE_UTF16 < utf16_len(sentence * 120) * 2
    texts = [check_part(part) for part in parts]
    joined = " ".join(texts)
    assert joined.count("🚁") == 120
    assert joined.count("<survivors>") == 120
    assert "Sources" in texts[-1]
    # Cuts fall between words, never inside one: every word of every part is a whole word.
    words = set(sentence.split())
    for text in texts[:-1]:
        assert set(text.split()) <= words


def test_split_reopens_tags_and_never_cuts_entities():
    html = "<b>" + ("bold &amp; 😀 words " * 400) + "</b>\n<i>" + ("x&lt;y " * 900) + "</i>"
    parts = split_html(html, limit=1000)
    assert len(parts) > 5
    texts = [check_part(part) for part in parts]
    for part in parts:
        assert utf16_len(part) <= 1000
    assert unescape(re.sub(r"<[^>]+>", "", html)).split() == " ".join(texts).split()
    assert all(p.startswith("<b>") for p in parts[:3])


def test_split_hard_cuts_a_word_longer_than_the_limit():
    parts = split_html("<code>" + "😀" * 3000 + "</code>", limit=500)
    assert all(utf16_len(p) <= 500 for p in parts)
    assert "".join(check_part(p) for p in parts) == "😀" * 3000


def test_split_refuses_a_tag_longer_than_the_limit():
    import pytest

    with pytest.raises(ValueError):
        split_html('<a href="https://x.example/' + "a" * 300 + '">t</a> ' + "w " * 200, limit=100)


_TEXT = st.text(alphabet=st.sampled_from(list("ab <>&\n😀é👍🏽 ")), min_size=0, max_size=80).map(
    lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
)
_TAGS = ["b", "i", "u", "code", "blockquote expandable", 'a href="https://e.x/?q=1&amp;r=2"']


def _nested(depth: int) -> st.SearchStrategy[str]:
    """Telegram-like markup: text and tags nested at most `depth` deep (ours nest two deep)."""
    if depth == 0:
        return _TEXT
    inner = _nested(depth - 1)
    element = st.tuples(st.sampled_from(_TAGS), inner).map(lambda t: f"<{t[0]}>{t[1]}</{t[0].split()[0]}>")
    return st.lists(st.one_of(_TEXT, element), min_size=1, max_size=5).map("".join)


_fragment = _nested(3)


@hsettings(max_examples=150, deadline=None)
@given(html=_fragment, limit=st.integers(min_value=200, max_value=500))
def test_split_property_parts_fit_are_well_formed_and_keep_the_text(html, limit):
    parts = split_html(html, limit=limit)
    for part in parts:
        assert utf16_len(part) <= limit
        parser = _WellFormed()
        parser.feed(part)
        parser.close()
        assert not parser.errors and not parser.stack
    original = unescape(re.sub(r"<[^>]+>", "", html))
    rebuilt = "".join(unescape(re.sub(r"<[^>]+>", "", p)) for p in parts)
    assert rebuilt.split() == original.split() or "".join(rebuilt.split()) == "".join(original.split())


def test_passage_view_bolds_the_quote_inside_an_expandable_blockquote():
    c = citation(2, passage="Before. The council approved the budget on Monday. After <that> & more.")
    html = render_passage(c)
    check_part(html)
    assert "<blockquote expandable>" in html
    assert "<b>The council approved the budget on Monday.</b>" in html
    assert "After &lt;that&gt; &amp; more." in html
    assert html.startswith("<b>[2]</b>")


def test_passage_view_of_a_huge_passage_fits_one_message():
    quote = "The quoted sentence 😀 is here."
    c = citation(1, passage=("filler 😀 " * 2000) + quote + (" tail 😀" * 2000), quote=quote)
    html = render_passage(c)
    check_part(html)
    assert f"<b>{quote}</b>" in html


def test_keyboards_one_button_per_source_and_a_back_button():
    answer = Answer(answer="x [1] [2]", abstained=False, citations=[citation(1), citation(2, title="A very long headline " * 5)])
    keyboard = source_keyboard(answer, "k1")
    rows = keyboard.inline_keyboard
    assert [row[0].callback_data for row in rows] == ["src:k1:1", "src:k1:2"]
    assert all(len(row[0].text) <= 40 for row in rows)
    assert source_keyboard(Answer(answer="", abstained=True, citations=[]), "k") is None
    assert back_keyboard("k1").inline_keyboard[0][0].callback_data == "back:k1"


def test_sources_and_latest_listings_escape_names():
    (html,) = render_sources([SourceInfo("A&B", 3, "2024-01-01", "2024-02-01")])
    assert "A&amp;B: 3 articles, 2024-01-01 to 2024-02-01" in html
    many = render_sources([SourceInfo(f"Outlet {n} 📰", n, "2024-01-01", "2024-02-01") for n in range(400)])
    assert len(many) > 1 and all(utf16_len(part) <= MAX_MESSAGE_UTF16 for part in many)
    assert "Outlet 399 📰: 399 articles" in many[-1]
    html = render_latest([ArticleSummary("x", "Title <1>", "S&S", "2024-01-02T00:00:00Z", "https://e.x/1")], topic="a<b")
    check_part(html)
    assert "Title &lt;1&gt;" in html and "a&lt;b" in html
