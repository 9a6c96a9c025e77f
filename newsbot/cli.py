"""`newsbot`: the command line. Thin: each command parses options and calls a package function."""

from __future__ import annotations

import json
import sys
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
        embedder = load_embedder(settings.model, backend=settings.embed_backend)
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


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
