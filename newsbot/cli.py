"""`newsbot`: the command line. Thin: each command parses options and calls a package function."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from newsbot.logs import configure_logging
from newsbot.settings import Settings

app = typer.Typer(help="NewsBot: ask questions of a news archive and get cited answers.", no_args_is_help=True, add_completion=False)
index_app = typer.Typer(help="Build and maintain the index.", no_args_is_help=True)
app.add_typer(index_app, name="index")


def _settings() -> Settings:
    settings = Settings()
    configure_logging(level=settings.log_level, json_lines=settings.log_json)
    return settings


def _fail(message: str, code: int = 1) -> None:
    """One line on stderr and a non-zero exit: what a user sees for a fatal error."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _echo_json(payload: object) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


# --- index ------------------------------------------------------------------------------------


@index_app.command("build")
def index_build(
    paths: Annotated[Optional[list[str]], typer.Argument(help="Files, folders, feed or page URLs (default: NEWSBOT_CORPUS_DIR).")] = None,
    field_map: Annotated[Optional[list[str]], typer.Option("--map", help="Map a field to another JSON key: body=story_text.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Build the index from scratch (unchanged passages come from the embedding cache)."""
    _run_update(paths or [str(_settings().corpus_dir)], mode="rebuild", field_map=field_map, quiet=quiet, as_json=as_json)


@index_app.command("add")
def index_add(
    paths: Annotated[Optional[list[str]], typer.Argument(help="Files, folders, feed or page URLs to add or update.")] = None,
    field_map: Annotated[Optional[list[str]], typer.Option("--map", help="Map a field to another JSON key: body=story_text.")] = None,
    watch: Annotated[bool, typer.Option("--watch", help="Keep adding: re-read the inputs every --every seconds.")] = False,
    every: Annotated[float, typer.Option("--every", help="Seconds between passes with --watch.")] = 900.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Add or update articles; unchanged ones are skipped, edited ones replace their passages."""
    if not paths:
        _fail("give at least one file, folder or URL to add")
    if not watch:
        _run_update(paths, mode="add", field_map=field_map, quiet=quiet, as_json=as_json)
        return
    import time

    while True:  # a long-running watcher ends with Ctrl-C
        _run_update(paths, mode="add", field_map=field_map, quiet=True, as_json=as_json, exit_on_success=False)
        time.sleep(every)


@index_app.command("remove")
def index_remove(
    ids: Annotated[list[str], typer.Argument(help="Article ids to remove.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Remove articles (and their passages) by id."""
    _run_update([], mode="add", remove=ids, quiet=True, as_json=as_json)


@index_app.command("stats")
def index_stats(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Articles, chunks, sources, date range, model, index type and size on disk."""
    from index.errors import NewsbotIndexError
    from index.store import IndexReader

    settings = _settings()
    try:
        reader = IndexReader.open(settings.index_dir)
    except NewsbotIndexError as exc:
        _fail(str(exc))
    stats = reader.stats()
    reader.close()
    if as_json:
        _echo_json(stats)
        return
    for key, value in stats.items():
        typer.echo(f"{key:>16}: {value}")


def _parse_map(field_map: list[str] | None) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in field_map or []:
        field, sep, key = item.partition("=")
        if not sep or not field.strip() or not key.strip():
            _fail(f"--map takes field=key, got {item!r}")
        mapping[field.strip().lower()] = key.strip()
    return mapping


def _run_update(
    inputs: list[str],
    *,
    mode: str,
    field_map: list[str] | None = None,
    remove: list[str] | None = None,
    quiet: bool,
    as_json: bool,
    exit_on_success: bool = True,
) -> None:
    from index.build import update_index
    from index.embed import load_embedder
    from index.errors import NewsbotIndexError

    settings = _settings()
    mapping = _parse_map(field_map)
    try:
        embedder = load_embedder(settings.model, backend=settings.embed_backend, cache_dir=settings.model_cache_dir)
        report = update_index(
            settings.index_dir,
            embedder=embedder,
            settings=settings,
            inputs=inputs,
            mode=mode,
            remove=remove or [],
            field_map=mapping,
            progress=not quiet and sys.stderr.isatty(),
        )
    except NewsbotIndexError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted: the previous index is still the one served", code=130)
    for problem in report.problems:
        typer.echo(f"skipped {problem}", err=True)
    if as_json:
        _echo_json(report.to_dict())
    else:
        typer.echo(report.summary())
    if report.missing_ids:
        _fail("no such article: " + ", ".join(report.missing_ids))


# --- ask, search, eval -------------------------------------------------------------------------


def _open_retriever(settings: Settings):  # -> retrieval.search.Retriever
    """The index, the model and the retriever over them; a missing index is a one-line error."""
    from index.embed import load_embedder
    from index.errors import NewsbotIndexError
    from index.store import IndexReader
    from retrieval.search import Retriever

    try:
        reader = IndexReader.open(settings.index_dir)
        embedder = load_embedder(settings.model, backend=settings.embed_backend, cache_dir=settings.model_cache_dir)
        reader.check_model(embedder)
    except NewsbotIndexError as exc:
        _fail(str(exc))
    generator = None
    if settings.llm_base_url:
        from retrieval.generate import ChatGenerator

        generator = ChatGenerator.from_settings(settings)
    return Retriever(reader, embedder, settings=settings, generator=generator)


def _parse_day(value: str | None, option: str):  # -> date | None
    from datetime import date

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"{option} takes a date as YYYY-MM-DD, got {value!r}")


@app.command("ask")
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    top_k: Annotated[Optional[int], typer.Option("--top-k", min=1, max=20, help="Passages to draw on (default NEWSBOT_TOP_K).")] = None,
    source: Annotated[Optional[list[str]], typer.Option("--source", help="Only this outlet (repeatable).")] = None,
    since: Annotated[Optional[str], typer.Option("--since", help="Only articles published on or after YYYY-MM-DD.")] = None,
    until: Annotated[Optional[str], typer.Option("--until", help="Only articles published on or before YYYY-MM-DD.")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Ask as of YYYY-MM-DD (for \"this week\", \"latest\"; default today).")] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the answer as JSON, the object POST /v1/ask returns: {answer, abstained, citations, took_ms, as_of, notes, closest, mode}."),
    ] = False,
) -> None:
    """Answer a question from the archive, with numbered sources and their quotes."""
    from retrieval.types import Filters

    if not question.strip():
        _fail("the question is empty: write it after `ask`, in quotes")
    settings = _settings()
    filters = Filters(sources=tuple(source or ()), since=_parse_day(since, "--since"), until=_parse_day(until, "--until"))
    retriever = _open_retriever(settings)
    answer = retriever.ask(question, top_k=top_k, filters=filters, as_of=_parse_day(as_of, "--as-of"))
    if as_json:
        # The HTTP service's payload, so a script gets the freshness notes and, on abstention,
        # the closest passages as well.
        _echo_json(answer.to_dict())
        return
    typer.echo(answer.answer)
    if answer.as_of:
        typer.echo(f"(as of {answer.as_of})")
    for note in answer.notes:
        typer.echo(f"note: {note}")
    if answer.citations:
        typer.echo("\nSources:")
    for c in answer.citations:
        outlets = f" (also: {', '.join(o for o in c.outlets if o != c.source)})" if len(c.outlets) > 1 else ""
        typer.echo(f"[{c.n}] {c.title} — {c.source or 'unknown source'}, {c.published_at or 'undated'}{outlets}")
        if c.url:
            typer.echo(f"    {c.url}")
        typer.echo(f"    “{c.quote}”")
    if answer.closest:
        typer.echo("\nClosest passages (not an answer):")
        for hit in answer.closest:
            typer.echo(f"- {hit.title} — {hit.source or 'unknown source'}, {hit.published_at or 'undated'}")
            typer.echo(f"    {hit.text[:200]}{'…' if len(hit.text) > 200 else ''}")


@app.command("search")
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=100, help="Passages to list.")] = 10,
    source: Annotated[Optional[list[str]], typer.Option("--source", help="Only this outlet (repeatable).")] = None,
    since: Annotated[Optional[str], typer.Option("--since", help="Only articles published on or after YYYY-MM-DD.")] = None,
    until: Annotated[Optional[str], typer.Option("--until", help="Only articles published on or before YYYY-MM-DD.")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Search as of YYYY-MM-DD (newer articles left out; default today).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print {hits: [...], took_ms} as JSON, as GET /v1/search returns it.")] = False,
) -> None:
    """Ranked passages for a query (hybrid dense + keyword search)."""
    from retrieval.types import Filters

    if not query.strip():
        _fail("the query is empty: write it after `search`, in quotes")
    settings = _settings()
    filters = Filters(sources=tuple(source or ()), since=_parse_day(since, "--since"), until=_parse_day(until, "--until"))
    retriever = _open_retriever(settings)
    started = time.perf_counter()
    hits = retriever.search(query, top_k=top_k, filters=filters, as_of=_parse_day(as_of, "--as-of"))
    if as_json:
        _echo_json({"hits": [h.to_dict() for h in hits], "took_ms": round((time.perf_counter() - started) * 1000, 2)})
        return
    for rank, hit in enumerate(hits, start=1):
        outlets = f" [{len(hit.outlets)} outlets]" if len(hit.outlets) > 1 else ""
        typer.echo(f"{rank:>2}. {hit.score:.4f}  {hit.title} — {hit.source or 'unknown source'}, {hit.published_at or 'undated'}{outlets}")
        typer.echo(f"    {' '.join(hit.text.split())[:240]}")


@app.command("eval")
def evaluate_command(
    questions: Annotated[Path, typer.Argument(help="Questions: NewsBot JSONL (../shared/eval format) or MultiHop-RAG JSON/JSONL.", exists=True, dir_okay=False)],
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="Passages retrieved per question for the retrieval metrics.")] = 10,
    out: Annotated[Optional[Path], typer.Option("--out", help="Where to write the JSON results (default: eval-<file stem>.json).")] = None,
    calibrate_abstention: Annotated[bool, typer.Option("--calibrate", help="Also suggest the abstention threshold for these questions.")] = False,
    baseline: Annotated[
        Optional[Path],
        typer.Option("--baseline", help="An earlier --out file: also print which metrics and which questions changed since.", dir_okay=False),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress line.")] = False,
) -> None:
    """Hits@k, MRR@10, answer recall and accuracy, abstention and latency, per question type."""
    from retrieval.eval_compare import compare, format_comparison, load_baseline
    from retrieval.evaluate import calibrate, evaluate, format_report, load_questions

    settings = _settings()
    try:
        items = load_questions(questions)
        # Read before the run, so a wrong path fails at once rather than after every question.
        earlier = load_baseline(baseline) if baseline is not None else None
    except (ValueError, OSError) as exc:
        _fail(str(exc))
    retriever = _open_retriever(settings)
    retriever.preload()

    def progress(done: int, total: int) -> None:
        if not quiet and sys.stderr.isatty():
            typer.echo(f"\r{done}/{total}", err=True, nl=done == total)

    report = evaluate(retriever, items, k=k, path=str(questions), progress=progress)
    if calibrate_abstention:
        report.calibration = calibrate(report.results)
    comparison = compare(report, earlier, baseline_path=str(baseline)) if earlier is not None else None
    if comparison is not None:
        report.comparison = comparison.to_dict()
    typer.echo(format_report(report))
    if comparison is not None:
        typer.echo("\n" + format_comparison(comparison))
    if report.calibration and report.calibration["best"]:
        best = report.calibration["best"]
        typer.echo(
            f"\nabstention threshold {best['threshold']}: answers {best['answered']:.0%} of answerable, "
            f"abstention precision {best['abstain_precision']:.2f} recall {best['abstain_recall']:.2f} "
            f"(current NEWSBOT_ABSTAIN_THRESHOLD={settings.abstain_threshold})"
        )
    target = out or Path(f"eval-{questions.stem}.json")
    target.write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    typer.echo(f"\nresults: {target}")


@app.command("serve")
def serve(
    host: Annotated[Optional[str], typer.Option("--host", help="Address to bind (default: NEWSBOT_HOST).")] = None,
    port: Annotated[Optional[int], typer.Option("--port", min=1, max=65535, help="Port to bind (default: NEWSBOT_PORT).")] = None,
    build_if_missing: Annotated[
        bool, typer.Option("--build-if-missing", help="When there is no index yet, index NEWSBOT_CORPUS_DIR first.")
    ] = False,
) -> None:
    """Serve the HTTP API and the chat page (uvicorn); the model and index load once, at start."""
    import uvicorn

    from index.errors import NewsbotIndexError
    from index.store import current_generation
    from retrieval.api import create_app

    settings = _settings()
    embedder = None
    if build_if_missing and current_generation(settings.index_dir) is None:
        from index.build import update_index
        from index.embed import load_embedder

        typer.echo(f"no index in {settings.index_dir}: indexing {settings.corpus_dir} first", err=True)
        try:
            # Loaded once: the build and the service share it.
            embedder = load_embedder(settings.model, backend=settings.embed_backend, cache_dir=settings.model_cache_dir)
            report = update_index(
                settings.index_dir,
                embedder=embedder,
                settings=settings,
                inputs=[str(settings.corpus_dir)],
                mode="rebuild",
                progress=sys.stderr.isatty(),
            )
        except NewsbotIndexError as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            _fail("interrupted before the first index was built", code=130)
        for problem in report.problems:
            typer.echo(f"skipped {problem}", err=True)
        typer.echo(report.summary(), err=True)
    bind_host, bind_port = host or settings.host, port or settings.port
    typer.echo(f"serving on http://{bind_host}:{bind_port} (API docs at /docs)", err=True)
    uvicorn.run(create_app(settings, embedder=embedder), host=bind_host, port=bind_port, log_level=settings.log_level.lower())


@app.command("bot")
def bot(
    api_url: Annotated[Optional[str], typer.Option("--api-url", help="Answer through a running `newsbot serve` at this URL instead of in-process.")] = None,
    webhook_url: Annotated[Optional[str], typer.Option("--webhook-url", help="Public HTTPS URL Telegram posts updates to (default: long polling).")] = None,
) -> None:
    """Run the Telegram bot (token from TELEGRAM_BOT_TOKEN)."""
    from bot.app import run_bot
    from bot.errors import BotError
    from index.errors import NewsbotIndexError

    settings = _settings()
    try:
        run_bot(settings, api_url=api_url, webhook_url=webhook_url)
    except (BotError, NewsbotIndexError) as exc:
        _fail(str(exc))


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
