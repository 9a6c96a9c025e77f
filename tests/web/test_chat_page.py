"""The chat page at `/`, driven in headless Chromium against the real service over the seed index.

Every answer the page shows is checked against the JSON the server actually sent for it, so the
tests say both "the service answered" and "the page showed that answer faithfully".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import LiveServer, start_server

pytestmark = pytest.mark.browser

SEED_QUESTION = "Who called the letter a mistake?"
#: Answered from tests/fixtures/news/web-xss.jsonl, whose 2024 title is markup.
MARKUP_QUESTION = "Which stallholders sold out of smoked mackerel at the Lanternfish festival?"
FESTIVAL_QUESTION = "How many visitors did the Lanternfish Harbour Festival in Port Wrenley draw?"
OFF_TOPIC_QUESTION = "What is a good recipe for a rye sourdough starter?"
ASK_TIMEOUT_MS = 90_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}


def squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class Chat:
    """One browser tab on the chat page, remembering every ask it sent and what came back."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.page_errors: list[str] = []
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def open(self) -> Chat:
        self.page.goto(f"{self.base_url}/")
        # The source list is filled once GET /v1/sources has answered (or failed visibly).
        self.page.wait_for_function(
            "() => { const s = document.querySelector('#sources-status').textContent;"
            " return s && !s.startsWith('Loading'); }"
        )
        return self

    def turns(self) -> Any:
        return self.page.locator("#turns > li")

    def ask(self, question: str) -> tuple[dict[str, Any], dict[str, Any] | None, Any]:
        """Types `question`, sends it with Enter; returns (request body, response body, turn)."""
        from playwright.sync_api import expect

        before = self.turns().count()
        with self.page.expect_response(
            lambda r: r.url.endswith("/v1/ask") and r.request.method == "POST", timeout=ASK_TIMEOUT_MS
        ) as info:
            self.page.fill("#question", question)
            self.page.press("#question", "Enter")
        response = info.value
        payload = response.request.post_data_json
        body = response.json() if response.ok else None
        turn = self.turns().nth(before)
        expect(turn).to_have_attribute("data-state", re.compile(r"\w+"), timeout=ASK_TIMEOUT_MS)
        return payload, body, turn

    def open_filters(self) -> None:
        if not self.page.locator("#filters").evaluate("d => d.open"):
            self.page.click("#filters > summary")

    def set_date(self, field: str, day: str) -> None:
        """Type `day` into a date filter and commit it, as leaving the field does."""
        self.page.fill(f"#{field}", day)
        self.page.locator(f"#{field}").dispatch_event("change")

    @staticmethod
    def card_dates(turn: Any) -> list[str]:
        """The publication dates the source cards of `turn` show."""
        return turn.locator(".card time").evaluate_all("ts => ts.map(t => t.getAttribute('datetime'))")


@pytest.fixture
def chat(browser: Any, live_server: LiveServer) -> Iterator[Chat]:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(30_000)
    session = Chat(page, live_server.url).open()
    yield session
    context.close()
    assert session.page_errors == [], f"JavaScript errors on the page: {session.page_errors}"


def unmarked(text: str) -> str:
    """Text without its [n] markers and whitespace differences."""
    return squeeze(re.sub(r"\[\d+(?:\s*,\s*\d+)*\]", " ", text))


def milley_citation(body: dict[str, Any]) -> dict[str, Any]:
    """The citation of the London Daily article that quotes Milley, or a failure saying what came back."""
    for citation in body["citations"]:
        text = f"{citation['quote']} {citation['passage']}"
        if citation["source"] == "London Daily" and "Milley" in text:
            return citation
    pytest.fail(f"no London Daily citation quoting Milley in {json.dumps(body, indent=1)[:3000]}")


def check_card(card: Any, citation: dict[str, Any]) -> None:
    """The open source card shows exactly the cited article: title, link, outlet, date, quote."""
    from playwright.sync_api import expect

    expect(card).to_be_visible()
    title = card.locator(".card-title")
    expect(title).to_contain_text(squeeze(citation["title"]))
    link = title.locator("a")
    if citation["url"]:
        expect(link).to_have_attribute("href", citation["url"])
        expect(link).to_have_attribute("rel", "noopener noreferrer")
    else:
        expect(link).to_have_count(0)
    expect(card.locator(".card-source")).to_have_text(citation["source"])
    if citation["published_at"]:
        expect(card.locator(".card-meta time")).to_have_attribute("datetime", citation["published_at"])
    # The quoted sentence is highlighted inside its passage.
    mark = card.locator(".passage mark")
    expect(mark).to_have_count(1)
    assert squeeze(mark.text_content()) == squeeze(citation["quote"])
    passage = squeeze(card.locator(".passage").text_content())
    if squeeze(citation["quote"]) in squeeze(citation["passage"]):
        assert passage == squeeze(citation["passage"])


def test_seed_question_shows_answer_and_source_card(chat: Chat, browser: Any, live_server: LiveServer, output_dir: Path) -> None:
    from playwright.sync_api import expect

    page = chat.page
    payload, body, turn = chat.ask(SEED_QUESTION)
    assert payload == {"question": SEED_QUESTION}
    assert body is not None and not body["abstained"], body
    expect(turn).to_have_attribute("data-state", "answered")
    expect(turn.locator(".question-text")).to_have_text(SEED_QUESTION)
    # The text is the server's, with "[1, 2]" shown as one button per number.
    shown = turn.locator(".answer-text").text_content()
    assert unmarked(shown) == unmarked(body["answer"])
    citation = milley_citation(body)
    n = citation["n"]

    # Cards stay closed until their number is chosen.
    card = turn.locator(f".card[data-n='{n}']")
    expect(card).to_be_hidden()
    expect(turn.locator(".card")).to_have_count(len({c["n"] for c in body["citations"]}))
    marker = turn.locator(f".answer-text .cite[data-n='{n}']")
    if marker.count() == 0:  # cited but not marked inline: the source list carries the button
        marker = turn.locator(f".source-list .cite[data-n='{n}']")
    button = marker.first
    expect(button).to_have_attribute("aria-expanded", "false")
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    check_card(card, citation)
    expect(card).to_be_focused()
    if body["as_of"]:
        expect(turn.locator(".as-of time")).to_have_attribute("datetime", body["as_of"])
    expect(turn.locator(".note")).to_have_count(len(body["notes"]))

    page.screenshot(path=str(output_dir / "answered-desktop.png"), full_page=True)

    # Phone width, in a fresh tab as a phone would load it: nothing may need sideways scrolling.
    phone_context = browser.new_context(viewport=PHONE, device_scale_factor=2)
    try:
        phone = Chat(phone_context.new_page(), live_server.url).open()
        expect(phone.page.locator("#filters")).not_to_have_attribute("open", "")
        _, phone_body, phone_turn = phone.ask(SEED_QUESTION)
        assert phone_body is not None
        phone_turn.locator(f".source-list .cite[data-n='{n}']").click()
        phone_card = phone_turn.locator(f".card[data-n='{n}']")
        check_card(phone_card, milley_citation(phone_body))
        overflow = phone.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px at 360px wide"
        phone.page.screenshot(path=str(output_dir / "answered-phone-full.png"), full_page=True)
        # What the phone shows: the top of the answer, the composer still at hand.
        phone_turn.locator(".answer").evaluate("a => a.scrollIntoView({block: 'start'})")
        phone.page.screenshot(path=str(output_dir / "answered-phone.png"))
        assert phone.page_errors == []
    finally:
        phone_context.close()

    # Opening it again from its number hides it.
    button.click()
    expect(card).to_be_hidden()
    expect(button).to_have_attribute("aria-expanded", "false")


def test_keyboard_only_ask_and_citation(chat: Chat) -> None:
    from playwright.sync_api import expect

    page = chat.page
    # The skip link is the first stop and lands in the question box.
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#question")).to_be_focused()
    with page.expect_response(lambda r: r.url.endswith("/v1/ask"), timeout=ASK_TIMEOUT_MS) as info:
        page.keyboard.type(SEED_QUESTION)
        page.keyboard.press("Enter")
    body = info.value.json()
    turn = chat.turns().first
    expect(turn).to_have_attribute("data-state", "answered", timeout=ASK_TIMEOUT_MS)
    citation = milley_citation(body)

    # Shift+Tab from the question box walks back through the last answer's citation buttons.
    page.focus("#question")
    target = f".cite[data-n='{citation['n']}']"
    for _ in range(30):  # bounded: the page has far fewer stops than this
        page.keyboard.press("Shift+Tab")
        if page.evaluate(f"document.activeElement.matches({json.dumps(target)})"):
            break
    else:
        pytest.fail(f"never reached {target} with Shift+Tab")
    page.keyboard.press("Enter")
    card = turn.locator(f".card[data-n='{citation['n']}']")
    expect(card).to_be_visible()
    expect(card).to_be_focused()
    page.keyboard.press("Escape")
    expect(card).to_be_hidden()
    assert page.evaluate(f"document.activeElement.matches({json.dumps(target)})")
    # A visible focus ring: the outline is drawn, not suppressed.
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), outline


def test_follow_up_sends_the_conversation_as_history(chat: Chat) -> None:
    from playwright.sync_api import expect

    first_payload, first, _ = chat.ask(SEED_QUESTION)
    assert "history" not in first_payload
    assert first is not None
    follow_up = "What else did he say about the letter?"
    payload, second, turn = chat.ask(follow_up)
    assert payload["question"] == follow_up
    assert payload["history"] == [{"question": SEED_QUESTION, "answer": first["answer"]}]
    assert second is not None
    expect(turn).to_have_attribute("data-state", "abstained" if second["abstained"] else "answered")
    expect(chat.turns()).to_have_count(2)

    # "New conversation" forgets the history.
    chat.page.click("#new-chat")
    expect(chat.turns()).to_have_count(0)
    expect(chat.page.locator("#question")).to_be_focused()
    payload, _, _ = chat.ask(SEED_QUESTION)
    assert "history" not in payload


def test_date_filter_restricts_the_answer(chat: Chat) -> None:
    from playwright.sync_api import expect

    page = chat.page
    chat.open_filters()
    chat.set_date("until", "2023-12-31")
    expect(page.locator("#filters-active")).to_have_text("All sources, up to 2023-12-31")
    payload, body, turn = chat.ask(FESTIVAL_QUESTION)
    assert payload == {"question": FESTIVAL_QUESTION, "until": "2023-12-31"}
    assert body is not None and not body["abstained"], body
    assert body["citations"], body
    for citation in body["citations"]:
        assert citation["published_at"] and citation["published_at"][:10] <= "2023-12-31", citation
    assert any("26,500" in c["quote"] or "26,500" in c["passage"] for c in body["citations"]), body
    dates = chat.card_dates(turn)
    assert dates and all(d[:10] <= "2023-12-31" for d in dates), dates

    # Starting the day after the 2023 article leaves nothing of the festival in range.
    chat.set_date("since", "2023-03-13")
    payload, body, turn = chat.ask(FESTIVAL_QUESTION)
    assert payload["since"] == "2023-03-13" and payload["until"] == "2023-12-31"
    assert body is not None
    assert all(c["published_at"] and "2023-03-13" <= c["published_at"][:10] <= "2023-12-31" for c in body["citations"]), body


def test_as_of_asks_the_archive_as_on_that_day(chat: Chat) -> None:
    from playwright.sync_api import expect

    page = chat.page
    chat.open_filters()
    chat.set_date("as_of", "2024-02-01")
    expect(page.locator("#filters-active")).to_have_text("All sources, any date, as of 2024-02-01")
    question = "What is the latest on the Glasswater Bridge?"
    payload, body, turn = chat.ask(question)
    assert payload == {"question": question, "as_of": "2024-02-01"}
    assert body is not None and not body["abstained"] and body["citations"], body
    # On 1 February 2024 the bridge had closed; the April report of its reopening did not exist yet.
    assert all(c["published_at"][:10] <= "2024-02-01" for c in body["citations"]), body
    dates = chat.card_dates(turn)
    assert dates and all(d[:10] <= "2024-02-01" for d in dates), dates


def test_reversed_date_range_is_refused_before_sending(chat: Chat) -> None:
    from playwright.sync_api import expect

    page = chat.page
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.url.endswith("/v1/ask") else None)
    chat.open_filters()
    page.fill("#since", "2024-02-01")
    page.fill("#until", "2024-01-01")
    page.locator("#until").dispatch_event("change")
    page.fill("#question", SEED_QUESTION)
    page.press("#question", "Enter")
    expect(page.locator("#until-error")).to_contain_text("on or before")
    expect(page.locator("#until")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#question-error")).to_contain_text("on or before")
    page.wait_for_timeout(300)
    assert sent == []
    assert chat.turns().count() == 0


def test_source_filter_is_filled_from_the_service(chat: Chat, live_server: LiveServer) -> None:
    from playwright.sync_api import expect

    sources = httpx.get(f"{live_server.url}/v1/sources", timeout=10).json()["sources"]
    names = {s["name"] for s in sources}
    assert {"London Daily", "Wrenley Tribune"} <= names, names
    options = chat.page.locator("#source option").evaluate_all("os => os.map(o => o.value)")
    assert options[0] == "" and set(options[1:]) == names

    chat.open_filters()
    chat.page.select_option("#source", "Wrenley Tribune")
    expect(chat.page.locator("#filters-active")).to_contain_text("Wrenley Tribune")
    payload, body, turn = chat.ask(SEED_QUESTION)
    assert payload["sources"] == ["Wrenley Tribune"]
    assert body is not None
    assert all(c["source"] == "Wrenley Tribune" for c in body["citations"]), body
    # "Clear filters" goes back to everything.
    chat.page.click("#clear-filters")
    expect(chat.page.locator("#filters-active")).to_have_text("All sources, any date")
    payload, _, _ = chat.ask(SEED_QUESTION)
    assert "sources" not in payload


def test_markup_in_an_article_title_is_shown_as_text(chat: Chat) -> None:
    from playwright.sync_api import expect

    page = chat.page
    payload, body, turn = chat.ask(MARKUP_QUESTION)
    assert body is not None and body["citations"], body
    marked = [c for c in body["citations"] if "<script>" in c["title"]]
    assert marked, f"the markup-titled fixture article was not cited: {body}"
    citation = marked[0]
    turn.locator(f".source-list .cite[data-n='{citation['n']}']").click()
    card = turn.locator(f".card[data-n='{citation['n']}']")
    check_card(card, citation)
    expect(card.locator(".card-title")).to_contain_text("<script>window.__newsbotXss = 1</script>")
    expect(turn.locator(".source-list")).to_contain_text("<img src=x onerror=")
    # Nothing the article carried became an element, and its scripts never ran.
    assert turn.locator("script, img, b").count() == 0
    page.wait_for_timeout(200)
    assert page.evaluate("window.__newsbotXss") is None


def test_off_topic_question_abstains_visibly(chat: Chat) -> None:
    from playwright.sync_api import expect

    payload, body, turn = chat.ask(OFF_TOPIC_QUESTION)
    assert body is not None and body["abstained"], body
    expect(turn).to_have_attribute("data-state", "abstained")
    answer = turn.locator(".answer")
    expect(answer).to_have_class(re.compile(r"\babstained\b"))
    expect(answer.locator(".answer-label")).to_contain_text("No answer found")
    # Looks different from an answer: the frame is dashed, not solid.
    assert answer.evaluate("a => getComputedStyle(a).borderLeftStyle") == "dashed"
    closest = turn.locator(".closest-item")
    expect(closest).to_have_count(len(body["closest"]))
    if body["closest"]:
        expect(turn.locator(".closest-title")).to_have_text("Closest passages, not an answer")
        expect(closest.first).to_contain_text(squeeze(body["closest"][0]["title"]))
    else:
        expect(turn.locator(".closest")).to_have_count(0)


def test_field_error_from_the_service_names_the_field(chat: Chat) -> None:
    from playwright.sync_api import expect

    page = chat.page

    # The page never sends a bad top_k; rewriting the request on its way out makes the real
    # service answer with its real 422.
    def bad_top_k(route: Any) -> None:
        body = json.loads(route.request.post_data)
        route.continue_(post_data=json.dumps({**body, "top_k": 99}))

    page.route("**/v1/ask", bad_top_k)
    with page.expect_response(lambda r: r.url.endswith("/v1/ask")) as info:
        page.fill("#question", SEED_QUESTION)
        page.press("#question", "Enter")
    assert info.value.status == 422
    turn = chat.turns().first
    expect(turn).to_have_attribute("data-state", "error")
    error = turn.locator(".error-text")
    expect(error).to_contain_text("top_k")
    expect(error).to_have_attribute("data-status", "422")
    expect(error).to_have_attribute("role", "alert")
    # The question comes back into the box so it can be edited and sent again.
    expect(page.locator("#question")).to_have_value(SEED_QUESTION)
    # Resending the same refused request cannot help, so there is no "Try again", but the
    # restored question goes out again with Enter.
    expect(turn.locator(".retry")).to_have_count(0)
    page.unroute("**/v1/ask")
    page.press("#question", "Enter")
    expect(chat.turns().nth(1)).to_have_attribute("data-state", "answered", timeout=ASK_TIMEOUT_MS)


def test_network_failure_is_shown_and_can_be_retried(chat: Chat) -> None:
    from playwright.sync_api import expect

    page = chat.page
    page.route("**/v1/ask", lambda route: route.abort("connectionrefused"))
    page.fill("#question", SEED_QUESTION)
    page.press("#question", "Enter")
    turn = chat.turns().first
    expect(turn).to_have_attribute("data-state", "error")
    expect(turn.locator(".error-text")).to_contain_text("Could not reach the NewsBot server")
    expect(page.locator("#ask")).to_be_enabled()
    page.unroute("**/v1/ask")
    turn.locator(".retry").click()
    expect(turn).to_have_attribute("data-state", "answered", timeout=ASK_TIMEOUT_MS)
    expect(turn.locator(".error-text")).to_have_count(0)


def test_rate_limit_shows_retry_after(browser: Any, seed_index: Any, embedder: Any) -> None:
    from playwright.sync_api import expect

    # Two requests a minute: the page's GET /v1/sources and one question, then a 429.
    server = start_server(seed_index, embedder, rate_limit_per_minute=2)
    context = browser.new_context(viewport=DESKTOP)
    try:
        chat = Chat(context.new_page(), server.url).open()
        _, body, first = chat.ask(SEED_QUESTION)
        assert body is not None
        with chat.page.expect_response(lambda r: r.url.endswith("/v1/ask")) as info:
            chat.page.fill("#question", "And who sent it?")
            chat.page.press("#question", "Enter")
        response = info.value
        assert response.status == 429
        retry_after = int(response.headers["retry-after"])
        turn = chat.turns().nth(1)
        expect(turn).to_have_attribute("data-state", "error")
        error = turn.locator(".error-text")
        expect(error).to_contain_text("429")
        expect(error).to_contain_text(f"Try again in {retry_after} second")
        # Until the wait is over the page does not let the user hammer the server.
        expect(chat.page.locator("#ask")).to_be_disabled()
        expect(chat.page.locator("#ask")).to_contain_text("Wait")
        expect(turn.locator(".retry")).to_be_disabled()
        assert chat.page_errors == []
    finally:
        context.close()
        server.stop()


CONTRAST_JS = """
(selectors) => {
  const parse = (c) => {
    const p = c.match(/[\\d.]+/g).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const luminance = (c) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const background = (node) => {
    for (let e = node; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.a > 0.5) return c;
    }
    return parse(getComputedStyle(document.documentElement).backgroundColor || "rgb(255,255,255)");
  };
  const out = [];
  for (const selector of selectors) {
    const node = document.querySelector(selector);
    if (!node) { out.push({ selector, ratio: null }); continue; }
    const [a, b] = [luminance(parse(getComputedStyle(node).color)), luminance(background(node))];
    out.push({ selector, ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) });
  }
  return out;
}
"""
#: Text the page always or usually shows; each must reach WCAG AA (4.5:1) against its background.
CONTRAST_SELECTORS = [
    ".tagline", ".filters-active", "#sources-status", ".field label", ".composer-hint",
    ".question-text", ".answer-label", ".answer-text", ".answer-meta", ".cite", ".source-who",
    ".card-title", ".card-meta", ".passage", ".passage mark", ".card-close",
    ".answer.abstained .answer-label", ".answer.abstained .answer-text", ".closest-text",
    ".answer.failed .error-text", ".button.primary", ".button.secondary",
]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_labels_live_region_and_contrast(browser: Any, live_server: LiveServer, scheme: str, output_dir: Path) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport=DESKTOP, color_scheme=scheme)
    try:
        chat = Chat(context.new_page(), live_server.url).open()
        page = chat.page
        # Every form control has a label a screen reader can read out.
        unlabeled = page.evaluate(
            "[...document.querySelectorAll('input, select, textarea')].filter(c => !c.labels.length).map(c => c.id)"
        )
        assert unlabeled == []
        assert page.locator("html").get_attribute("lang") == "en"
        # New turns are announced without moving focus.
        expect(page.locator("#turns")).to_have_attribute("aria-live", "polite")
        expect(page.locator("#turns")).to_have_attribute("role", "log")

        chat.ask(OFF_TOPIC_QUESTION)
        _, body, turn = chat.ask(SEED_QUESTION)
        assert body is not None
        turn.locator(".source-list .cite").first.click()
        page.route("**/v1/ask", lambda route: route.abort("connectionrefused"))
        page.fill("#question", SEED_QUESTION)
        page.press("#question", "Enter")
        expect(chat.turns().nth(2)).to_have_attribute("data-state", "error")
        page.unroute("**/v1/ask")
        page.screenshot(path=str(output_dir / f"states-{scheme}.png"), full_page=True)

        results = page.evaluate(CONTRAST_JS, CONTRAST_SELECTORS)
        missing = [r["selector"] for r in results if r["ratio"] is None]
        low = [f"{r['selector']}: {r['ratio']:.2f}" for r in results if r["ratio"] is not None and r["ratio"] < 4.5]
        assert missing == [] and low == [], f"missing {missing}, below 4.5:1 {low}"
        assert chat.page_errors == []
    finally:
        context.close()


def test_service_without_an_index_says_why(browser: Any, embedder: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    # No index at all: the service stays up (healthz) and explains itself; so must the page.
    server = start_server(tmp_path / "no-index", embedder, ready_path="/healthz")
    context = browser.new_context(viewport=DESKTOP)
    try:
        chat = Chat(context.new_page(), server.url)
        chat.page.goto(f"{server.url}/")
        expect(chat.page.locator("#sources-status")).to_contain_text("Sources could not be loaded", timeout=15_000)
        expect(chat.page.locator("#sources-status")).to_contain_text("503")
        with chat.page.expect_response(lambda r: r.url.endswith("/v1/ask")) as info:
            chat.page.fill("#question", SEED_QUESTION)
            chat.page.press("#question", "Enter")
        response = info.value
        assert response.status == 503
        detail = response.json()["detail"]
        turn = chat.turns().first
        expect(turn).to_have_attribute("data-state", "error")
        error = turn.locator(".error-text")
        expect(error).to_contain_text("not ready (503)")
        expect(error).to_contain_text(squeeze(str(detail))[:60])
        expect(turn.locator(".retry")).to_be_visible()
        assert chat.page_errors == []
    finally:
        context.close()
        server.stop()
