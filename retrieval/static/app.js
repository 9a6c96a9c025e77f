// NewsBot chat page: asks POST /v1/ask, fills filters from GET /v1/sources.
//
// Article text (titles, passages, quotes, answers) comes from whatever was indexed, so it is
// only ever inserted as text nodes: nothing here assigns innerHTML.
"use strict";

(() => {
  // Relative, so the page keeps working when the service sits behind a path prefix.
  const ENDPOINTS = { ask: "v1/ask", sources: "v1/sources" };
  const MAX_HISTORY = 10; // the API refuses more
  const REQUEST_TIMEOUT_MS = 90_000;
  const HISTORY_ANSWER_CHARS = 8000;
  const SOURCES_ATTEMPTS = 20;
  const SOURCES_RETRY_MS = 3_000;
  const FORM_FIELDS = new Set(["question", "since", "until", "sources", "as_of"]);

  const $ = (id) => document.getElementById(id);
  const ui = {
    askForm: $("ask-form"),
    question: $("question"),
    askButton: $("ask"),
    questionError: $("question-error"),
    turns: $("turns"),
    emptyState: $("empty-state"),
    newChat: $("new-chat"),
    filters: $("filters"),
    filtersForm: $("filters-form"),
    filtersActive: $("filters-active"),
    filtersNote: $("filters-note"),
    source: $("source"),
    sourcesStatus: $("sources-status"),
    since: $("since"),
    until: $("until"),
    as_of: $("as_of"),
    sinceError: $("since-error"),
    untilError: $("until-error"),
    status: $("status"),
  };

  const state = {
    /** Completed turns, oldest first: what follow-ups send as `history`. */
    history: [],
    busy: false,
    /** Epoch ms before which the server asked us not to send (429 Retry-After). */
    waitUntil: 0,
    turnCount: 0,
  };

  // ---------------------------------------------------------------- small DOM helpers

  /** Builds an element; string children become text nodes, never markup. */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "className") node.className = value;
      else if (key === "hidden") node.hidden = Boolean(value);
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** Only http(s) links: a `javascript:` url in an article record must not become clickable. */
  function safeUrl(raw) {
    if (!raw || typeof raw !== "string") return null;
    try {
      const url = new URL(raw, window.location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch {
      return null;
    }
  }

  const dateFormat = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });

  /** A <time> for an ISO date or datetime; date-only values are read as local days (no UTC shift). */
  function timeElement(iso) {
    if (!iso) return null;
    const text = String(iso);
    const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    const when = day ? new Date(Number(day[1]), Number(day[2]) - 1, Number(day[3])) : new Date(text);
    const label = Number.isNaN(when.getTime()) ? text : dateFormat.format(when);
    return el("time", { datetime: text }, label);
  }

  function announce(message) {
    // Clearing first makes screen readers repeat a message identical to the previous one.
    ui.status.textContent = "";
    window.setTimeout(() => { ui.status.textContent = message; }, 50);
  }

  // ---------------------------------------------------------------- filters

  function currentFilters() {
    const filters = {};
    if (ui.source.value) filters.sources = [ui.source.value];
    if (ui.since.value) filters.since = ui.since.value;
    if (ui.until.value) filters.until = ui.until.value;
    if (ui.as_of.value) filters.as_of = ui.as_of.value;
    return filters;
  }

  function describeFilters(filters) {
    const parts = [];
    parts.push(filters.sources ? filters.sources.join(", ") : "All sources");
    if (filters.since && filters.until) parts.push(`${filters.since} to ${filters.until}`);
    else if (filters.since) parts.push(`from ${filters.since}`);
    else if (filters.until) parts.push(`up to ${filters.until}`);
    else parts.push("any date");
    if (filters.as_of) parts.push(`as of ${filters.as_of}`);
    return parts.join(", ");
  }

  /** Returns an error message when the date range is impossible, and marks the fields. */
  function validateDates() {
    const bad = ui.since.value && ui.until.value && ui.since.value > ui.until.value;
    const message = bad ? "The “from” date must be on or before the “to” date." : "";
    ui.untilError.textContent = message;
    ui.sinceError.textContent = "";
    setInvalid(ui.until, Boolean(bad));
    setInvalid(ui.since, false);
    return message;
  }

  function setInvalid(control, invalid) {
    if (invalid) control.setAttribute("aria-invalid", "true");
    else control.removeAttribute("aria-invalid");
  }

  function refreshFilterSummary() {
    const filters = currentFilters();
    const text = describeFilters(filters);
    ui.filtersActive.textContent = text;
    ui.filtersNote.textContent = Object.keys(filters).length ? `Searching: ${text}.` : "";
    validateDates();
  }

  async function loadSources(attempt = 1) {
    ui.sourcesStatus.textContent = "Loading sources…";
    ui.sourcesStatus.classList.remove("hint-error");
    try {
      const response = await fetchWithTimeout(ENDPOINTS.sources, { headers: { Accept: "application/json" } });
      if (!response.ok) throw await errorFromResponse(response);
      const body = await response.json();
      const sources = Array.isArray(body) ? body : Array.isArray(body.sources) ? body.sources : [];
      const chosen = ui.source.value;
      for (const option of [...ui.source.options].slice(1)) option.remove();
      let first = null;
      let last = null;
      for (const source of sources) {
        const name = source.name ?? source.source;
        if (!name) continue;
        const count = Number.isFinite(source.articles) ? ` (${source.articles})` : "";
        ui.source.append(el("option", { value: name }, `${name}${count}`));
        if (source.first_published && (!first || source.first_published < first)) first = source.first_published;
        if (source.last_published && (!last || source.last_published > last)) last = source.last_published;
      }
      ui.source.value = chosen;
      const span = first && last ? ` The archive runs from ${first.slice(0, 10)} to ${last.slice(0, 10)}.` : "";
      ui.sourcesStatus.textContent = sources.length
        ? `${sources.length} ${sources.length === 1 ? "source" : "sources"}.${span}`
        : "The archive has no sources yet.";
    } catch (error) {
      // A service that is still loading its index says 503: look again shortly, a few times.
      const later = error.status === 503 && attempt < SOURCES_ATTEMPTS;
      ui.sourcesStatus.textContent = `Sources could not be loaded: ${error.message}${later ? "" : " You can still ask across all sources."}`;
      ui.sourcesStatus.classList.add("hint-error");
      if (later) window.setTimeout(() => loadSources(attempt + 1), SOURCES_RETRY_MS);
    }
  }

  // ---------------------------------------------------------------- HTTP

  class RequestError extends Error {
    constructor(message, { kind, status = 0, field = null, retryAfter = 0 } = {}) {
      super(message);
      this.kind = kind; // "network" | "timeout" | "http" | "format"
      this.status = status;
      this.field = field;
      this.retryAfter = retryAfter; // seconds
    }
  }

  async function fetchWithTimeout(url, options = {}) {
    const controller = new AbortController();
    const timer = window.setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    try {
      return await fetch(url, { ...options, signal: controller.signal });
    } catch (error) {
      if (error.name === "AbortError") {
        throw new RequestError("The server took too long to answer.", { kind: "timeout" });
      }
      throw new RequestError("Could not reach the NewsBot server. Check the connection and try again.", { kind: "network" });
    } finally {
      window.clearTimeout(timer);
    }
  }

  /** Seconds from a Retry-After header: either a number of seconds or an HTTP date. */
  function parseRetryAfter(value) {
    if (!value) return 0;
    const seconds = Number(value);
    if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
    const date = Date.parse(value);
    return Number.isNaN(date) ? 0 : Math.max(0, Math.ceil((date - Date.now()) / 1000));
  }

  /** FastAPI's `loc` ["body", "history", 3, "answer"] read as "history[3].answer". */
  function fieldName(loc) {
    if (!Array.isArray(loc)) return null;
    const parts = loc.filter((part, i) => !(i === 0 && ["body", "query", "path", "header"].includes(part)));
    let name = "";
    for (const part of parts) {
      if (typeof part === "number") name += `[${part}]`;
      else name += name ? `.${part}` : String(part);
    }
    return name || null;
  }

  async function errorFromResponse(response) {
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    const status = response.status;
    const detail = body && (body.detail ?? body.error ?? body.message);
    let field = null;
    let reason = "";
    if (Array.isArray(detail) && detail.length) {
      const problems = detail.map((item) => {
        const name = item.field ?? fieldName(item.loc) ?? null;
        field = field ?? name;
        const message = item.msg ?? item.message ?? "is not valid";
        return name ? `${name}: ${message}` : message;
      });
      reason = problems.join("; ");
    } else if (detail && typeof detail === "object") {
      field = detail.field ?? null;
      reason = detail.message ?? detail.msg ?? JSON.stringify(detail);
      if (field && !reason.includes(field)) reason = `${field}: ${reason}`;
    } else if (typeof detail === "string") {
      reason = detail;
    }

    if (status === 429) {
      const retryAfter = parseRetryAfter(response.headers.get("Retry-After"));
      const wait = retryAfter ? ` Try again in ${retryAfter} ${retryAfter === 1 ? "second" : "seconds"}.` : " Try again shortly.";
      return new RequestError(`Too many questions for now (429).${wait}`, { kind: "http", status, retryAfter });
    }
    if (status === 413) {
      return new RequestError("The request is too large for the server (413). Shorten the question or start a new conversation.", { kind: "http", status });
    }
    if (status === 503) {
      const retryAfter = parseRetryAfter(response.headers.get("Retry-After"));
      const wait = retryAfter ? `Try again in ${retryAfter} ${retryAfter === 1 ? "second" : "seconds"}.` : "Try again in a moment.";
      return new RequestError(`The service is not ready (503)${reason ? `: ${reason}` : ""}. ${wait}`, { kind: "http", status });
    }
    if (status >= 500) {
      return new RequestError(`The server failed to answer (${status}). Try again.`, { kind: "http", status });
    }
    const prefix = status === 422 ? "The server refused the question" : `The request failed (${status})`;
    return new RequestError(`${prefix}${reason ? `: ${reason}` : "."}`, { kind: "http", status, field });
  }

  async function postAsk(payload) {
    const response = await fetchWithTimeout(ENDPOINTS.ask, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(payload),
    });
    if (!response.ok) throw await errorFromResponse(response);
    let body;
    try {
      body = await response.json();
    } catch {
      throw new RequestError("The server sent an answer this page cannot read.", { kind: "format", status: response.status });
    }
    if (!body || typeof body.answer !== "string") {
      throw new RequestError("The server sent an answer this page cannot read.", { kind: "format", status: response.status });
    }
    return body;
  }

  // ---------------------------------------------------------------- rendering an answer

  /** The passage as text with the quoted sentence wrapped in <mark>. */
  function passageWithQuote(passage, quote) {
    const block = el("blockquote", { className: "passage" });
    const text = passage || "";
    if (!quote) {
      append(block, [text]);
      return block;
    }
    const span = locate(text, quote);
    if (span) {
      append(block, [text.slice(0, span[0]), el("mark", {}, text.slice(span[0], span[1])), text.slice(span[1])]);
    } else {
      // The quote is promised to be in the article, not necessarily inside this passage.
      append(block, [el("mark", {}, quote)]);
      if (text) append(block, [el("span", { className: "passage-rest" }, ` … ${text}`)]);
    }
    return block;
  }

  /** [start, end) of `needle` in `haystack`, tolerating differences in whitespace. */
  function locate(haystack, needle) {
    const exact = haystack.indexOf(needle);
    if (exact >= 0) return [exact, exact + needle.length];
    const squeeze = (s) => {
      const chars = [];
      const index = [];
      let lastSpace = true;
      for (let i = 0; i < s.length; i += 1) {
        const space = /\s/.test(s[i]);
        if (space && lastSpace) continue;
        chars.push(space ? " " : s[i]);
        index.push(i);
        lastSpace = space;
      }
      return { text: chars.join(""), index };
    };
    const hay = squeeze(haystack);
    const target = squeeze(needle).text.trim();
    if (!target) return null;
    const at = hay.text.indexOf(target);
    if (at < 0) return null;
    return [hay.index[at], hay.index[at + target.length - 1] + 1];
  }

  function sourceLine(source, publishedAt, extra = []) {
    const parts = [];
    if (source) parts.push(el("span", { className: "card-source" }, source));
    const time = timeElement(publishedAt);
    if (time) parts.push(time);
    parts.push(...extra);
    const line = el("p", { className: "card-meta" });
    parts.forEach((part, i) => append(line, [i ? " · " : "", part]));
    return line;
  }

  function titleNode(title, url, id) {
    const href = safeUrl(url);
    const text = title || "Untitled article";
    return href
      ? el("a", { href, id, target: "_blank", rel: "noopener noreferrer" }, text, el("span", { className: "visually-hidden" }, " (opens in a new tab)"))
      : el("span", { id }, text);
  }

  function citationCard(citation, cardId) {
    const titleId = `${cardId}-title`;
    const outlets = (citation.outlets || []).filter((name) => name && name !== citation.source);
    const card = el(
      "article",
      { className: "card", id: cardId, tabindex: "-1", hidden: true, "aria-labelledby": titleId, dataset: { n: String(citation.n), articleId: citation.article_id || "" } },
      el("div", { className: "card-head" },
        el("span", { className: "card-n", "aria-hidden": "true" }, `[${citation.n}]`),
        el("h4", { className: "card-title" }, titleNode(citation.title, citation.url, titleId))),
      sourceLine(citation.source, citation.published_at),
      outlets.length ? el("p", { className: "card-outlets" }, `Also carried by: ${outlets.join(", ")}`) : null,
      passageWithQuote(citation.passage, citation.quote),
      el("button", { type: "button", className: "link-button card-close" }, `Hide source ${citation.n}`),
    );
    return card;
  }

  /** Wires the [n] buttons and the cards of one answer: a button toggles its card. */
  function makeCardToggle(cards) {
    const buttonsFor = new Map();
    const register = (n, button) => {
      if (!buttonsFor.has(n)) buttonsFor.set(n, []);
      buttonsFor.get(n).push(button);
      button.addEventListener("click", () => toggle(n, button));
    };
    const setOpen = (n, open, opener) => {
      const card = cards.get(n);
      if (!card) return;
      card.hidden = !open;
      for (const button of buttonsFor.get(n) || []) button.setAttribute("aria-expanded", String(open));
      if (open) {
        card.opener = opener;
        card.scrollIntoView({ block: "nearest", behavior: prefersReducedMotion() ? "auto" : "smooth" });
        card.focus({ preventScroll: true });
      }
    };
    const toggle = (n, opener) => setOpen(n, cards.get(n)?.hidden ?? false, opener);
    for (const [n, card] of cards) {
      const close = () => {
        setOpen(n, false);
        (card.opener || buttonsFor.get(n)?.[0])?.focus();
      };
      card.querySelector(".card-close").addEventListener("click", close);
      card.addEventListener("keydown", (event) => {
        if (event.key === "Escape") {
          event.preventDefault();
          close();
        }
      });
    }
    return register;
  }

  function prefersReducedMotion() {
    return window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  }

  /** Answer text with every `[n]` (or `[1, 2]`) turned into buttons for the matching cards. */
  function answerText(text, cards, register, titles) {
    const paragraph = el("p", { className: "answer-text" });
    const marker = /\[(\d+(?:\s*,\s*\d+)*)\]/g;
    let last = 0;
    for (const match of text.matchAll(marker)) {
      const numbers = match[1].split(",").map((s) => Number(s.trim()));
      if (!numbers.every((n) => cards.has(n))) continue; // not a citation, e.g. "[2019]"
      append(paragraph, [text.slice(last, match.index)]);
      for (const n of numbers) paragraph.append(citeButton(n, cards, register, titles));
      last = match.index + match[0].length;
    }
    append(paragraph, [text.slice(last)]);
    return paragraph;
  }

  function citeButton(n, cards, register, titles, label = `[${n}]`) {
    const button = el(
      "button",
      {
        type: "button",
        className: "cite",
        "aria-expanded": "false",
        "aria-controls": cards.get(n).id,
        "aria-label": `Source ${n}: ${titles.get(n) || "article"}`,
        dataset: { n: String(n) },
      },
      label,
    );
    register(n, button);
    return button;
  }

  function renderAnswer(container, turnId, data) {
    container.replaceChildren();
    container.removeAttribute("aria-busy");
    container.classList.toggle("abstained", Boolean(data.abstained));
    container.classList.toggle("generative", data.mode === "generative");

    const citations = Array.isArray(data.citations) ? data.citations : [];
    const cards = new Map();
    const titles = new Map();
    for (const citation of citations) {
      if (!Number.isInteger(citation.n) || cards.has(citation.n)) continue;
      cards.set(citation.n, citationCard(citation, `${turnId}-card-${citation.n}`));
      titles.set(citation.n, citation.title);
    }
    const register = makeCardToggle(cards);

    const label = data.abstained
      ? "No answer found in the archive"
      : data.mode === "generative" ? "Answer (written by a language model from the sources below)" : "Answer";
    append(container, [
      el("p", { className: "answer-label" }, el("span", { className: "answer-icon", "aria-hidden": "true" }, data.abstained ? "?" : "✓"), label),
      answerText(data.answer, cards, register, titles),
    ]);

    const meta = [];
    if (data.as_of) meta.push(el("span", { className: "as-of" }, "As of ", timeElement(data.as_of)));
    if (Number.isFinite(data.took_ms)) meta.push(el("span", { className: "took" }, `${(data.took_ms / 1000).toFixed(2)} s`));
    if (meta.length) {
      const line = el("p", { className: "answer-meta" });
      meta.forEach((part, i) => append(line, [i ? " · " : "", part]));
      container.append(line);
    }

    const notes = Array.isArray(data.notes) ? data.notes.filter(Boolean) : [];
    if (notes.length) {
      container.append(el("ul", { className: "notes", "aria-label": "Notes about this answer" },
        notes.map((note) => el("li", { className: "note" }, el("span", { className: "note-label" }, "Note: "), String(note)))));
    }

    if (cards.size) {
      // Several passages of one article are listed once, with all their numbers.
      const byArticle = new Map();
      for (const citation of citations) {
        if (!cards.has(citation.n)) continue;
        const key = citation.article_id || `n${citation.n}`;
        if (!byArticle.has(key)) byArticle.set(key, { citation, numbers: [] });
        const entry = byArticle.get(key);
        if (!entry.numbers.includes(citation.n)) entry.numbers.push(citation.n);
      }
      const list = el("ul", { className: "source-list" });
      for (const { citation, numbers } of byArticle.values()) {
        const who = [citation.source, citation.published_at ? citation.published_at.slice(0, 10) : null].filter(Boolean).join(", ");
        list.append(el("li", { dataset: { articleId: citation.article_id || "" } },
          el("span", { className: "source-numbers" }, numbers.map((n) => citeButton(n, cards, register, titles))),
          " ",
          el("span", { className: "source-title" }, citation.title || "Untitled article"),
          who ? el("span", { className: "source-who" }, ` (${who})`) : null));
      }
      container.append(el("section", { className: "sources", "aria-label": "Sources" },
        el("h4", { className: "sources-title" }, byArticle.size === 1 ? "Source" : "Sources"),
        list,
        el("div", { className: "cards" }, [...cards.values()])));
    }

    const closest = Array.isArray(data.closest) ? data.closest : [];
    if (closest.length) {
      container.append(el("section", { className: "closest", "aria-label": "Closest passages, not an answer" },
        el("h4", { className: "closest-title" }, "Closest passages, not an answer"),
        el("ol", { className: "closest-list" }, closest.map((hit) => el("li", { className: "closest-item", dataset: { articleId: hit.article_id || "" } },
          el("p", { className: "closest-head" }, titleNode(hit.title, hit.url, null)),
          sourceLine(hit.source, hit.published_at),
          el("p", { className: "closest-text" }, hit.text || ""))))));
    }
  }

  function renderError(container, error, retry) {
    container.replaceChildren();
    container.removeAttribute("aria-busy");
    container.classList.add("failed");
    append(container, [
      el("p", { className: "answer-label" }, el("span", { className: "answer-icon", "aria-hidden": "true" }, "!"), "No answer: something went wrong"),
      el("p", { className: "error-text", role: "alert", dataset: { status: String(error.status || 0), kind: error.kind || "", field: error.field || "" } }, error.message),
    ]);
    // Sending a refused request again cannot help; a dropped connection or a busy server can.
    const retryable = error.kind !== "http" || error.status === 429 || error.status === 408 || error.status >= 500;
    if (!retryable) {
      container.append(el("p", { className: "hint" }, "The question is back in the box below: change it and send it again."));
      return;
    }
    const retryButton = el("button", { type: "button", className: "button secondary retry" }, "Try again");
    retryButton.addEventListener("click", () => {
      if (retryButton.disabled) return;
      retry(container);
    });
    container.append(retryButton);
    if (error.retryAfter) holdRetries(error.retryAfter, retryButton);
  }

  /** After a 429, keep the Ask and retry buttons disabled for the time the server asked. */
  function holdRetries(seconds, retryButton) {
    state.waitUntil = Date.now() + seconds * 1000;
    const tick = () => {
      const left = Math.ceil((state.waitUntil - Date.now()) / 1000);
      if (left > 0) {
        retryButton.disabled = true;
        retryButton.textContent = `Try again in ${left} s`;
        ui.askButton.disabled = true;
        ui.askButton.textContent = `Wait ${left} s`;
        window.setTimeout(tick, 1000);
      } else {
        retryButton.disabled = false;
        retryButton.textContent = "Try again";
        ui.askButton.textContent = "Ask";
        ui.askButton.disabled = state.busy;
      }
    };
    tick();
  }

  // ---------------------------------------------------------------- asking

  function newTurn(question) {
    state.turnCount += 1;
    const turnId = `turn-${state.turnCount}`;
    const answer = el("div", { className: "answer", "aria-busy": "true" });
    const turn = el("li", { className: "turn", id: turnId },
      el("div", { className: "question" },
        el("h3", { className: "visually-hidden" }, `Question ${state.turnCount}`),
        el("p", { className: "question-text" }, question)),
      answer);
    ui.emptyState.hidden = true;
    ui.turns.append(turn);
    ui.newChat.disabled = false;
    return { turnId, turn, answer };
  }

  function showPending(container) {
    container.replaceChildren(el("p", { className: "pending" }, el("span", { className: "spinner", "aria-hidden": "true" }), "Searching the archive…"));
    container.setAttribute("aria-busy", "true");
    container.classList.remove("failed", "abstained", "generative");
  }

  function setBusy(busy) {
    state.busy = busy;
    ui.askButton.disabled = busy || Date.now() < state.waitUntil;
    ui.askForm.setAttribute("aria-busy", String(busy));
  }

  function clearQuestionError() {
    ui.questionError.textContent = "";
    setInvalid(ui.question, false);
  }

  function showFieldError(field) {
    if (!field || !FORM_FIELDS.has(field.split(/[.[]/)[0])) return;
    const name = field.split(/[.[]/)[0];
    const control = name === "sources" ? ui.source : ui[name];
    if (!control) return;
    setInvalid(control, true);
    if (name !== "question") ui.filters.open = true;
  }

  async function ask(question) {
    const payload = { question, ...currentFilters() };
    const history = state.history.slice(-MAX_HISTORY);
    if (history.length) payload.history = history;

    const { turnId, turn, answer } = newTurn(question);
    turn.dataset.filters = describeFilters(currentFilters());
    await send(payload, turnId, answer);
  }

  async function send(payload, turnId, container) {
    setBusy(true);
    showPending(container);
    announce("Searching the archive…");
    container.scrollIntoView({ block: "nearest", behavior: prefersReducedMotion() ? "auto" : "smooth" });
    try {
      const data = await postAsk(payload);
      renderAnswer(container, turnId, data);
      // The service caps each remembered turn (question 2000, answer 8000 characters).
      state.history.push({ question: payload.question.slice(0, 2000), answer: data.answer.slice(0, HISTORY_ANSWER_CHARS) });
      if (state.history.length > MAX_HISTORY) state.history.splice(0, state.history.length - MAX_HISTORY);
      container.closest(".turn").dataset.state = data.abstained ? "abstained" : "answered";
    } catch (error) {
      const failure = error instanceof RequestError ? error : new RequestError(`Unexpected problem: ${error.message}`, { kind: "format" });
      renderError(container, failure, (again) => send(payload, turnId, again));
      container.closest(".turn").dataset.state = "error";
      showFieldError(failure.field);
      if (!ui.question.value) ui.question.value = payload.question; // let the user edit and resend
      if (failure.field === "question") {
        ui.questionError.textContent = failure.message;
        ui.question.focus();
      }
    } finally {
      setBusy(false);
      container.scrollIntoView({ block: "nearest", behavior: prefersReducedMotion() ? "auto" : "smooth" });
    }
  }

  function startNewConversation() {
    state.history = [];
    ui.turns.replaceChildren();
    ui.emptyState.hidden = false;
    ui.newChat.disabled = true;
    clearQuestionError();
    announce("Started a new conversation.");
    ui.question.focus();
  }

  // ---------------------------------------------------------------- wiring

  ui.askForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const question = ui.question.value.trim();
    clearQuestionError();
    if (!question) {
      ui.questionError.textContent = "Type a question first.";
      setInvalid(ui.question, true);
      ui.question.focus();
      return;
    }
    if (state.busy) return;
    const wait = Math.ceil((state.waitUntil - Date.now()) / 1000);
    if (wait > 0) {
      // Keep the text: the server asked for a pause and the question should survive it.
      ui.questionError.textContent = `The server asked to wait: try again in ${wait} s.`;
      return;
    }
    const dateProblem = validateDates();
    if (dateProblem) {
      ui.filters.open = true;
      ui.questionError.textContent = dateProblem;
      ui.until.focus();
      return;
    }
    ui.question.value = "";
    ask(question);
  });

  ui.question.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ui.askForm.requestSubmit();
    }
  });
  ui.question.addEventListener("input", () => {
    if (ui.questionError.textContent) clearQuestionError();
  });

  for (const control of [ui.source, ui.since, ui.until, ui.as_of]) {
    control.addEventListener("change", () => {
      setInvalid(control, false);
      refreshFilterSummary();
    });
  }
  ui.filtersForm.addEventListener("submit", (event) => event.preventDefault());
  ui.filtersForm.addEventListener("reset", () => window.setTimeout(() => {
    for (const control of [ui.source, ui.since, ui.until, ui.as_of]) setInvalid(control, false);
    refreshFilterSummary();
  }, 0));

  ui.newChat.addEventListener("click", startNewConversation);
  for (const example of document.querySelectorAll(".example")) {
    example.addEventListener("click", () => {
      ui.question.value = example.dataset.question;
      ui.askForm.requestSubmit();
    });
  }

  // Wide screens have room to show the filters from the start.
  if (window.matchMedia("(min-width: 48rem)").matches) ui.filters.open = true;
  refreshFilterSummary();
  loadSources();
})();
