"""The generative path against a real OpenAI-compatible server on 127.0.0.1 (uvicorn, started here).

The server is a stand-in for Ollama/vLLM: it reads the numbered passages it is sent and writes
a reply whose behaviour the model name selects (cite well, cite a passage that does not exist,
be slow, fail, cite nothing, decline).
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from retrieval.generate import NO_ANSWER, ChatGenerator
from retrieval.search import Retriever

QUESTION = "Who called the letter a mistake?"
# The note `ask` adds when its evidence neither dates from nor mentions the time asked about.
DOUBTED = "None of the closest reports dates from or mentions the period asked about (in 2024)"


def _fake_llm() -> FastAPI:
    app = FastAPI()
    app.state.requests = []

    @app.post("/v1/chat/completions")
    async def complete(request: Request) -> JSONResponse:
        body = await request.json()
        app.state.requests.append({"body": body, "auth": request.headers.get("authorization")})
        model = body["model"]
        prompt = body["messages"][-1]["content"]
        if model == "broken":
            return JSONResponse({"error": "model crashed"}, status_code=500)
        if model == "slow":
            await asyncio.sleep(3)
        # The passage that mentions Milley, as a model that read them would find it.
        numbers = [int(n) for n in re.findall(r"^\[(\d+)\]", prompt, flags=re.M)]
        milley = next(n for n in numbers if "Milley" in prompt.split(f"[{n}]", 1)[1].split("\n[", 1)[0])
        content = {
            "cite": f"Gen Mark Milley called the letter a mistake [{milley}], a draft sent in error [{milley}, 42].",
            "bogus": "The letter was called a mistake by someone [42].",
            "nocite": "Gen Mark Milley called it a mistake.",
            "decline": NO_ANSWER,
        }.get(model, f"Milley [{milley}].")
        return JSONResponse({"id": "x", "object": "chat.completion", "model": model,
                             "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]})

    return app


@pytest.fixture(scope="module")
def llm_server() -> Iterator[tuple[str, FastAPI]]:
    app = _fake_llm()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the local model server did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/v1", app
    server.should_exit = True
    thread.join(timeout=10)


def _retriever(seed_retriever: Retriever, base_url: str, model: str, *, timeout: float = 5.0) -> Retriever:
    generator = ChatGenerator(base_url=base_url, model=model, api_key="test-key", timeout=timeout)
    return Retriever(seed_retriever.reader, seed_retriever.embedder, settings=seed_retriever.settings, generator=generator)


def test_generated_answer_keeps_only_citations_that_match_a_passage(seed_retriever: Retriever, seed_reader, llm_server) -> None:
    base_url, app = llm_server
    answer = _retriever(seed_retriever, base_url, "cite").ask(QUESTION)
    assert answer.mode == "generative" and not answer.abstained
    assert "[42]" not in answer.answer
    assert answer.answer == "Gen Mark Milley called the letter a mistake [1], a draft sent in error [1]."
    assert [c.n for c in answer.citations] == [1]
    cited = answer.citations[0]
    assert "Milley" in cited.passage
    assert seed_reader.article(cited.article_id).body[cited.quote_start : cited.quote_end] == cited.quote
    request = app.state.requests[-1]
    assert request["auth"] == "Bearer test-key"
    assert "[1]" in request["body"]["messages"][-1]["content"] and QUESTION in request["body"]["messages"][-1]["content"]


@pytest.mark.parametrize(
    ("model", "reason"),
    [("broken", "HTTP 500"), ("bogus", "cited none of the passages"), ("nocite", "cited none of the passages")],
)
def test_bad_replies_fall_back_to_the_extractive_answer(seed_retriever: Retriever, llm_server, model: str, reason: str) -> None:
    base_url, _ = llm_server
    answer = _retriever(seed_retriever, base_url, model).ask(QUESTION)
    assert answer.mode == "extractive"
    assert "Milley" in answer.answer and answer.citations
    assert any(reason in note for note in answer.notes), answer.notes


def test_timeout_falls_back_with_a_note(seed_retriever: Retriever, llm_server) -> None:
    base_url, _ = llm_server
    started = time.perf_counter()
    answer = _retriever(seed_retriever, base_url, "slow", timeout=0.5).ask(QUESTION)
    assert time.perf_counter() - started < 2.5
    assert answer.mode == "extractive" and "Milley" in answer.answer
    assert any("did not answer within 0.5 s" in note for note in answer.notes)


def test_unreachable_endpoint_falls_back(seed_retriever: Retriever) -> None:
    # Port 9 (discard) on loopback: nothing listens there, so the connection is refused at once.
    answer = _retriever(seed_retriever, "http://127.0.0.1:9/v1", "any").ask(QUESTION)
    assert answer.mode == "extractive" and any("could not be reached" in n for n in answer.notes)


def test_model_declining_means_abstention(seed_retriever: Retriever, llm_server) -> None:
    base_url, _ = llm_server
    answer = _retriever(seed_retriever, base_url, "decline").ask(QUESTION)
    assert answer.abstained and not answer.citations and answer.closest


def test_generator_options_are_validated() -> None:
    with pytest.raises(ValueError, match="model"):
        ChatGenerator(base_url="http://127.0.0.1:1/v1", model="")


def test_a_generated_answer_keeps_the_note_on_evidence_from_another_time(seed_retriever: Retriever, llm_server) -> None:
    # The seed letter is from January 2020. With a lenient threshold the extractive answer
    # stands, so the model writes one; the note on its evidence must survive.
    base_url, _ = llm_server
    settings = seed_retriever.settings.model_copy(update={"abstain_threshold": 0.2})
    lenient = Retriever(seed_retriever.reader, seed_retriever.embedder, settings=settings)
    # When the archive has nothing from the time at all, the search's note says it, once.
    nothing_then = lenient.ask("Who called the letter a mistake in 2016?").notes
    assert "The archive has no articles from the period asked about (in 2016)." in nothing_then
    assert not any(n.startswith("None of the closest reports") for n in nothing_then)
    # The fixture news is from 2024, so the archive has that year, but not the letter's story.
    question = "Who called the letter a mistake in 2024?"
    extractive = lenient.ask(question)
    assert not extractive.abstained and any(n.startswith(DOUBTED) for n in extractive.notes)
    generator = ChatGenerator(base_url=base_url, model="cite", api_key="test-key", timeout=5.0)
    answer = Retriever(lenient.reader, lenient.embedder, settings=settings, generator=generator).ask(question)
    assert answer.mode == "generative" and not answer.abstained
    assert any(n.startswith(DOUBTED) for n in answer.notes)
    generator = ChatGenerator(base_url=base_url, model="decline", api_key="test-key", timeout=5.0)
    declined = Retriever(lenient.reader, lenient.embedder, settings=settings, generator=generator).ask(question)
    assert declined.abstained and any(n.startswith(DOUBTED) for n in declined.notes)
