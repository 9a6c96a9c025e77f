"""Generative answers (optional): an OpenAI-compatible chat model writes from numbered passages.

Ollama, vLLM, llama.cpp's server and OpenAI all speak `POST {base}/chat/completions`. The model
is given the retrieved passages as `[1]..[k]` and told to cite them; whatever it cites that is
not one of them is removed, the rest are renumbered in order of use, and each citation quotes
the passage's best sentence (exact offsets, as extractive citations do). A timeout, an HTTP
error or a reply without a single valid citation falls back to the extractive answer, and the
answer's notes say so.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import httpx

from retrieval.errors import GenerationError
from retrieval.types import Answer, Citation

if TYPE_CHECKING:
    from newsbot.settings import Settings
    from retrieval.answer import Evidence
    from retrieval.search import Retrieval, Retriever

__all__ = ["ChatGenerator", "NO_ANSWER", "build_messages", "generative_answer"]

#: What the model is told to reply when the passages do not answer the question.
NO_ANSWER = "NO ANSWER"

_SYSTEM = (
    "You answer questions about news using only the numbered passages given. "
    "Write one to three sentences. After each claim put the number of the passage it comes from in square brackets, like [2]. "
    "Cite only the passage numbers given. Mention dates when they matter. "
    f"If the passages do not answer the question, reply exactly: {NO_ANSWER}"
)
_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


class ChatGenerator:
    """A client for one chat model at an OpenAI-compatible endpoint."""

    def __init__(self, *, base_url: str, model: str, api_key: str | None = None, timeout: float = 20.0, client: httpx.Client | None = None) -> None:
        if not base_url:
            raise ValueError("base_url is required for generative answers")
        if not model:
            raise ValueError("a chat model name is required for generative answers (NEWSBOT_LLM_MODEL)")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout = timeout
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = client or httpx.Client(timeout=timeout, headers=headers)

    @classmethod
    def from_settings(cls, settings: Settings) -> ChatGenerator:
        return cls(base_url=settings.llm_base_url or "", model=settings.llm_model or "", api_key=settings.llm_api_key, timeout=settings.llm_timeout)

    def complete(self, messages: list[dict[str, str]]) -> str:
        """The model's reply text; every failure is a `GenerationError` saying what went wrong."""
        try:
            response = self._client.post(
                f"{self.base_url}/chat/completions",
                json={"model": self.model, "messages": messages, "temperature": 0, "stream": False},
                timeout=self.timeout,
            )
        except httpx.TimeoutException as exc:
            raise GenerationError(f"the model at {self.base_url} did not answer within {self.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise GenerationError(f"the model at {self.base_url} could not be reached: {exc}") from exc
        if response.status_code != 200:
            raise GenerationError(f"the model at {self.base_url} answered HTTP {response.status_code}")
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise GenerationError(f"the model at {self.base_url} sent a reply that is not a chat completion") from exc
        if not isinstance(content, str) or not content.strip():
            raise GenerationError(f"the model at {self.base_url} sent an empty reply")
        return content.strip()

    def close(self) -> None:
        self._client.close()


def build_messages(question: str, retrieval: Retrieval) -> list[dict[str, str]]:
    """System instructions, then the numbered passages (with titles and dates) and the question."""
    blocks = []
    for n, hit in enumerate(retrieval.hits, start=1):
        blocks.append(f"[{n}] {hit.title} ({hit.source or 'unknown source'}, {hit.published_at or 'undated'})\n{hit.text}")
    context = f"Today is {retrieval.as_of.isoformat()}."
    return [
        {"role": "system", "content": _SYSTEM},
        {"role": "user", "content": f"{context}\n\nPassages:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}"},
    ]


def generative_answer(retrieval: Retrieval, evidence: Evidence, extractive: Answer, *, generator: Any, retriever: Retriever) -> Answer:
    """The model's answer with valid citations only, or `extractive` with a note saying why not.

    `evidence` is the retrieval's `assess`ed sentences, the ones `extractive` chose from: each
    cited passage is quoted by its best sentence.
    """
    from retrieval.answer import abstention, freshness_notes, newest_date
    from retrieval.doubts import doubt_notes

    try:
        text = generator.complete(build_messages(retrieval.question, retrieval))
    except GenerationError as exc:
        return _fallback(extractive, f"Generative answer unavailable ({exc}); this is the extractive answer.")
    if text.strip().rstrip(".").upper() == NO_ANSWER:
        answer = abstention(retrieval, notes=list(retrieval.notes) + doubt_notes(retrieval, evidence))
        answer.mode = "generative"
        return answer

    hits = retrieval.hits
    order: list[int] = []

    def renumber(match: re.Match[str]) -> str:
        kept = []
        for part in match.group(1).split(","):
            n = int(part)
            if 1 <= n <= len(hits):
                if n not in order:
                    order.append(n)
                kept.append(order.index(n) + 1)
        return "".join(f"[{m}]" for m in dict.fromkeys(kept))

    cleaned = _MARKER.sub(renumber, text)
    cleaned = re.sub(r"[ \t]+([.,;:])", r"\1", re.sub(r"[ \t]{2,}", " ", cleaned)).strip()
    if not order:
        return _fallback(extractive, "The generated answer cited none of the passages; this is the extractive answer.")

    best_sentence = {}
    for item in evidence.sentences:
        best_sentence.setdefault(item.hit_rank, item.sentence)
    citations = []
    for new_n, old_n in enumerate(order, start=1):
        hit = hits[old_n - 1]
        sentence = best_sentence.get(old_n - 1)
        if sentence is None:
            body, sentences = retriever.article_sentences(hit.article_id)
            sentence = next((s for s in sentences if s.end > hit.start and s.start < hit.end), None)
        quote, start, end = (sentence.text, sentence.start, sentence.end) if sentence else (hit.text, hit.start, hit.end)
        citations.append(
            Citation(
                n=new_n, article_id=hit.article_id, title=hit.title, source=hit.source, published_at=hit.published_at,
                url=hit.url, passage=hit.text, quote=quote, quote_start=start, quote_end=end, outlets=list(hit.outlets),
            )
        )
    as_of = newest_date(citations)
    notes = list(retrieval.notes) + doubt_notes(retrieval, evidence)
    notes += freshness_notes(retrieval, as_of, stale_after_days=retriever.settings.stale_after_days)
    return Answer(answer=cleaned, abstained=False, citations=citations, as_of=as_of, notes=notes, mode="generative")


def _fallback(extractive: Answer, note: str) -> Answer:
    extractive.notes = list(extractive.notes) + [note]
    extractive.mode = "extractive"
    return extractive
