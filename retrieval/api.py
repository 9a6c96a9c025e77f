"""The HTTP service: `create_app(settings)` builds the FastAPI app `newsbot serve` runs.

The model and the index load once, in the lifespan (in a worker thread, so `/healthz` answers
while they load and `/readyz` says when they have). Requests reach them through the
`snapshot` dependency, which hands out the index generation being served and keeps it open
until the request is done; admin writes, reloads and CLI rebuilds swap in a new one meanwhile.

    uvicorn --factory 'retrieval.api:app_from_env'      # or: newsbot serve
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path as PathParam, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from newsbot.settings import Settings
from retrieval.api_models import (
    AS_OF_HELP,
    MAX_BATCH,
    AdminIngestResponse,
    AnswerOut,
    ArticleIn,
    ArticleOut,
    AskRequest,
    DeleteResponse,
    ErrorOut,
    HealthOut,
    LatestResponse,
    ReadyOut,
    ReloadResponse,
    SearchResponse,
    SourcesResponse,
    NO_NUL_PATTERN,
    URL_PATTERN,
    trimmed_text,
)
from retrieval.http_guards import BodyLimitMiddleware, RateLimitMiddleware, TokenBuckets
from retrieval.http_metrics import MetricsMiddleware, ServiceMetrics
from retrieval.live_index import LiveIndex, NotReadyError, Snapshot
from retrieval.types import Filters, Turn

__all__ = ["app_from_env", "create_app"]

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")

#: Uploaded files one admin request may carry.
_MAX_FILES = 20

_ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    500: "internal",
    503: "unavailable",
}


# --- state ----------------------------------------------------------------------------------------


@dataclass
class Service:
    """Everything the routes share; made by `create_app`, filled in by the lifespan."""

    settings: Settings
    metrics: ServiceMetrics
    embedder: Any = None
    live: LiveIndex | None = None
    loading: str | None = "loading the model"
    started_at: float = field(default_factory=time.time)


def _service(request: Request) -> Service:
    return request.app.state.service


def _unavailable(detail: str) -> HTTPException:
    return HTTPException(503, detail=detail, headers={"Retry-After": "5"})


def _make_live(service: Service) -> LiveIndex:
    from index.store import IndexReader

    embedder = service.embedder
    settings = service.settings

    def open_reader(index_dir: Path) -> Any:
        reader = IndexReader.open(index_dir)
        try:
            reader.check_model(embedder)
        except BaseException:
            reader.close()
            raise
        return reader

    def make_retriever(reader: Any) -> Any:
        from retrieval.search import Retriever

        retriever = Retriever(reader, embedder, settings=settings)
        retriever.preload()
        return retriever

    def on_swap(snap: Snapshot) -> None:
        service.metrics.index_served(snap.stats)

    return LiveIndex(settings.index_dir, open_reader=open_reader, make_retriever=make_retriever, on_swap=on_swap)


async def _load(service: Service) -> None:
    """Load the model (unless given) and the index, off the event loop."""
    from index.errors import NewsbotIndexError

    try:
        if service.embedder is None:
            from index.embed import load_embedder

            service.embedder = await run_in_threadpool(
                partial(load_embedder, service.settings.model, backend=service.settings.embed_backend, cache_dir=service.settings.model_cache_dir)
            )
        live = _make_live(service)
        service.live = live
        service.loading = None
        try:
            await run_in_threadpool(live.load)
        except NewsbotIndexError as exc:
            # Not fatal: an admin ingest or a CLI build can still create the index.
            live.fail(str(exc))
            log.warning("no index served yet", extra={"reason": str(exc)})
    except Exception as exc:  # the service stays up to say why on /readyz
        log.exception("loading failed")
        service.loading = f"loading failed: {exc}"


async def snapshot(request: Request, response: Response) -> AsyncIterator[Snapshot]:
    """The index generation this request reads, held open until the request ends."""
    service = _service(request)
    live = service.live
    if live is None:
        raise _unavailable(service.loading or "starting")
    # A CLI rebuild switches CURRENT; one stat per request notices it.
    if live.pointer_changed():
        await run_in_threadpool(live.refresh_if_changed)
    try:
        snap = live.acquire()
    except NotReadyError as exc:
        raise _unavailable(f"no index is served: {exc}") from None
    # Which generation answered: lets a client (and the swap tests) tell answers apart.
    response.headers["X-Index-Generation"] = snap.generation
    try:
        yield snap
    finally:
        live.release(snap)


_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <NEWSBOT_ADMIN_TOKEN>`")


async def require_admin(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]) -> None:
    """Admin endpoints need the configured bearer token, compared in constant time."""
    token = _service(request).settings.admin_token
    if not token:
        raise HTTPException(403, detail="admin endpoints are disabled: set NEWSBOT_ADMIN_TOKEN to enable them")
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise HTTPException(401, detail="admin endpoints need Authorization: Bearer <NEWSBOT_ADMIN_TOKEN>", headers=challenge)
    # Header values arrive decoded as latin-1; comparing bytes keeps compare_digest total.
    given = credentials.credentials.encode("latin-1", errors="replace")
    if not hmac.compare_digest(given, token.encode("utf-8")):
        raise HTTPException(401, detail="wrong admin token", headers=challenge)


# --- query models -------------------------------------------------------------------------------

_QueryText = trimmed_text(500)
_NameText = trimmed_text(200)


class SearchQuery(BaseModel):
    """Query parameters of GET /v1/search."""

    model_config = ConfigDict(extra="forbid")

    q: _QueryText = Field(description="What to look for.", examples=["Milley letter Iraq"])
    top_k: int = Field(5, ge=1, le=50, description="Passages to return.")
    source: list[_NameText] = Field(default_factory=list, max_length=50, description="Only these outlets (repeat the parameter).")
    since: date | None = Field(None, description="Only articles published on or after this day.")
    until: date | None = Field(None, description="Only articles published on or before this day.")
    as_of: date | None = Field(None, description=AS_OF_HELP)

    @field_validator("until")
    @classmethod
    def _range_in_order(cls, until: date | None, info: ValidationInfo) -> date | None:
        since = info.data.get("since")
        if until is not None and since is not None and until < since:
            raise ValueError(f"must not be before since ({since.isoformat()})")
        return until


class LatestQuery(BaseModel):
    """Query parameters of GET /v1/latest."""

    model_config = ConfigDict(extra="forbid")

    topic: _NameText | None = Field(None, description="Only articles about this (a word or a phrase).", examples=["Iraq"])
    limit: int = Field(5, ge=1, le=50, description="Articles to return, newest first.")


ArticleId = Annotated[str, PathParam(min_length=1, max_length=200, description="An article id, as in citations.")]


# --- errors -------------------------------------------------------------------------------------------


def _error(status: int, detail: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": _ERROR_CODES.get(status, "error"), "detail": detail}, status_code=status, headers=headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return _error(exc.status_code, exc.detail, exc.headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        # ["body", "question"] -> "question"; ["query", "top_k"] -> "top_k"
        name = ".".join(loc[1:]) if len(loc) > 1 and loc[0] in ("body", "query", "path", "header") else ".".join(loc)
        errors.append({"field": name or "body", "loc": loc, "msg": str(err.get("msg", "")), "type": str(err.get("type", ""))})
    message = "; ".join(f"{e['field']}: {e['msg']}" for e in errors)
    return JSONResponse({"error": "invalid_request", "message": message, "detail": errors}, status_code=422)


async def _unexpected(request: Request, exc: Exception) -> Response:
    # A last resort: every known failure is mapped to a 4xx/503 where it happens.
    log.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
    return _error(500, "internal error; the server log has the details")


_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorOut, "description": "A field is invalid; `detail[].field` names it."},
    503: {"model": ErrorOut, "description": "The model or the index is not loaded (yet)."},
}
_ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Missing or wrong admin token."},
    403: {"model": ErrorOut, "description": "Admin endpoints are disabled (no NEWSBOT_ADMIN_TOKEN)."},
    **_ERRORS,
}

_INGEST_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "anyOf": [
                    {"$ref": "#/components/schemas/ArticleIn"},
                    {"type": "array", "items": {"$ref": "#/components/schemas/ArticleIn"}, "minItems": 1, "maxItems": MAX_BATCH},
                ]
            },
            "examples": {
                "one": {
                    "summary": "One article",
                    "value": {
                        "title": "Council approves new cycle lanes",
                        "body": "The city council voted on Tuesday to build twelve kilometres of protected cycle lanes.",
                        "source": "Example Gazette",
                        "published_at": "2024-05-14",
                    },
                }
            },
        },
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "array",
                        "items": {"type": "string", "format": "binary"},
                        "minItems": 1,
                        "maxItems": _MAX_FILES,
                        "description": "HTML pages or text files.",
                    },
                    "source": {"type": "string", "maxLength": 200, "pattern": NO_NUL_PATTERN, "description": "Outlet name for the uploaded files."},
                    "url": {"type": "string", "maxLength": 2048, "pattern": URL_PATTERN, "description": "Link of the uploaded page."},
                    "published_at": {"type": "string", "format": "date", "description": "Publication date of the uploaded files."},
                },
            }
        },
    },
}


# --- the app ------------------------------------------------------------------------------------------


def create_app(settings: Settings, *, embedder: Any = None) -> FastAPI:
    """The NewsBot HTTP service. `embedder` (already loaded) skips loading the model in the lifespan."""
    metrics = ServiceMetrics()
    service = Service(settings=settings, metrics=metrics, embedder=embedder)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loader = asyncio.create_task(_load(service))
        app.state.loader = loader
        try:
            yield
        finally:
            if not loader.done():
                loader.cancel()
            if service.live is not None:
                service.live.close()

    app = FastAPI(
        title="NewsBot",
        version="0.1.0",
        summary="Questions over a news archive, answered with a citation for every claim.",
        lifespan=lifespan,
        responses={429: {"model": ErrorOut, "description": "Rate limited; see Retry-After."}},
    )
    app.state.service = service
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)

    # Added innermost first: metrics sees everything, then guards refuse floods and big bodies.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.rate_limit_per_minute > 0:
        app.add_middleware(RateLimitMiddleware, buckets=TokenBuckets(settings.rate_limit_per_minute))
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["Retry-After"],
            max_age=600,
        )
    app.add_middleware(MetricsMiddleware, metrics=metrics, routes_of=app)

    _add_public_routes(app)
    _add_admin_routes(app)
    _add_ops_routes(app)
    _document_ingest_models(app)
    if (STATIC_DIR / "index.html").exists():
        from fastapi.staticfiles import StaticFiles

        # Mounted last: "/" would otherwise shadow the API.
        app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="static")
    else:

        @app.get("/", include_in_schema=False)
        async def root() -> dict[str, str]:
            return {"service": "newsbot", "docs": "/docs"}

    return app


def _document_ingest_models(app: FastAPI) -> None:
    """Put `ArticleIn` into the schema's components: the ingest route reads its body by hand
    (JSON or multipart), so FastAPI would not list the model its `$ref`s point at."""
    make_schema = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = make_schema()
            schemas = spec.setdefault("components", {}).setdefault("schemas", {})
            schemas["ArticleIn"] = ArticleIn.model_json_schema(ref_template="#/components/schemas/{model}")
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def app_from_env() -> FastAPI:
    """`create_app` with settings from the environment (for `uvicorn --factory`)."""
    return create_app(Settings())


SnapshotDep = Annotated[Snapshot, Depends(snapshot)]


def _add_public_routes(app: FastAPI) -> None:
    @app.post("/v1/ask", response_model=AnswerOut, responses=_ERRORS, tags=["questions"])
    async def ask(body: AskRequest, snap: SnapshotDep, request: Request) -> Any:
        """Answer a question from the archive; every claim carries a `[n]` citation, or the answer abstains."""
        filters = Filters(sources=tuple(body.sources or ()), since=body.since, until=body.until)
        history = [Turn(question=t.question, answer=t.answer) for t in body.history or []]
        started = time.perf_counter()
        answer = await run_in_threadpool(
            partial(snap.retriever.ask, body.question, top_k=body.top_k, filters=filters, history=history or None, as_of=body.as_of)
        )
        payload = answer.to_dict()
        if not payload.get("took_ms"):
            payload["took_ms"] = round((time.perf_counter() - started) * 1000, 2)
        metrics = _service(request).metrics
        metrics.asks.inc()
        if answer.abstained:
            metrics.abstentions.inc()
        return payload

    @app.get("/v1/search", response_model=SearchResponse, responses=_ERRORS, tags=["questions"])
    async def search(params: Annotated[SearchQuery, Query()], snap: SnapshotDep) -> Any:
        """Ranked passages for a query (dense and keyword search fused), filters applied inside the search."""
        filters = Filters(sources=tuple(params.source), since=params.since, until=params.until)
        started = time.perf_counter()
        hits = await run_in_threadpool(partial(snap.retriever.search, params.q, top_k=params.top_k, filters=filters, as_of=params.as_of))
        return {"hits": [h.to_dict() for h in hits], "took_ms": round((time.perf_counter() - started) * 1000, 2)}

    @app.get(
        "/v1/articles/{article_id}",
        response_model=ArticleOut,
        responses={404: {"model": ErrorOut, "description": "No article with this id."}, **_ERRORS},
        tags=["archive"],
    )
    async def get_article(article_id: ArticleId, snap: SnapshotDep) -> Any:
        """One article: full text, metadata and the other outlets that carried it."""
        article = await run_in_threadpool(snap.reader.article, article_id)
        if article is None:
            raise HTTPException(404, detail=f"no article with id {article_id!r}")
        return article.to_dict()

    @app.get("/v1/sources", response_model=SourcesResponse, responses=_ERRORS, tags=["archive"])
    async def sources(snap: SnapshotDep) -> Any:
        """The outlets in the archive, with article counts and first and last dates."""
        found = await run_in_threadpool(snap.retriever.sources)
        return {"sources": [s.to_dict() for s in found]}

    @app.get("/v1/latest", response_model=LatestResponse, responses=_ERRORS, tags=["archive"])
    async def latest(params: Annotated[LatestQuery, Query()], snap: SnapshotDep) -> Any:
        """The newest articles, optionally about a topic."""
        found = await run_in_threadpool(partial(snap.retriever.latest, topic=params.topic, limit=params.limit))
        return {"articles": [a.to_dict() for a in found]}

    @app.get("/v1/stats", response_model=dict[str, Any], responses=_ERRORS, tags=["archive"])
    async def stats(snap: SnapshotDep) -> Any:
        """Articles, passages, sources, date range, model and index generation (as `newsbot index stats`)."""
        return await run_in_threadpool(snap.reader.stats)


def _add_admin_routes(app: FastAPI) -> None:
    from index.errors import ModelMismatchError, NewsbotIndexError

    def index_error(exc: NewsbotIndexError) -> HTTPException:
        return HTTPException(409 if isinstance(exc, ModelMismatchError) else 503, detail=str(exc))

    def writer(request: Request) -> tuple[Service, LiveIndex]:
        service = _service(request)
        if service.live is None:
            raise _unavailable(service.loading or "starting")
        return service, service.live

    def write(service: Service, live: LiveIndex, *, articles: list[Any], remove: list[str]) -> Any:
        """Write a new generation and serve it (blocking: runs in a worker thread)."""
        from index.build import update_index

        with live.write_lock:
            # Which ids exist before the write, to tell "added" from "updated" afterwards.
            existed: set[str] = set()
            if articles and live.current is not None:
                with live.use() as snap:
                    existed = {a.id for a in articles if snap.reader.article(a.id) is not None}
            report = update_index(
                service.settings.index_dir,
                embedder=service.embedder,
                settings=service.settings,
                articles=articles,
                mode="add",
                remove=remove,
            )
            if report.published or live.current is None:
                live.load()
        return report, existed

    @app.post(
        "/v1/articles",
        response_model=AdminIngestResponse,
        dependencies=[Depends(require_admin)],
        openapi_extra={"requestBody": _INGEST_BODY},
        responses={
            400: {"model": AdminIngestResponse, "description": "Some items were refused (`problems`); the others were ingested."},
            409: {"model": ErrorOut, "description": "The index was built with another model."},
            415: {"model": ErrorOut, "description": "Neither JSON nor multipart/form-data."},
            **_ADMIN_ERRORS,
        },
        tags=["admin"],
    )
    async def ingest(request: Request) -> Any:
        """Add or update articles in the live index (JSON records or uploaded HTML/text files); no restart needed.

        Every item is checked on its own: refused items are listed under `problems` (status 400)
        while the others are still ingested and listed under `ingested`.
        """
        from index.models import Article

        from retrieval.api_ingest import ProblemItem, article_from_upload, articles_from_json

        service, live = writer(request)
        content_type = request.headers.get("content-type", "").lower()
        items: list[tuple[int | str, Any]]
        if content_type.startswith("multipart/form-data"):
            items = await _read_uploads(request, article_from_upload)
        elif not content_type or "json" in content_type:
            items = await _read_json_items(request, articles_from_json)
        else:
            raise HTTPException(415, detail="send application/json (an article or a list) or multipart/form-data (files)")

        problems: list[ProblemItem] = []
        accepted: list[tuple[int | str, Article]] = []
        for item, result in items:
            if isinstance(result, Article):
                accepted.append((item, result))
            else:
                problems.extend(result)

        ingested: list[dict[str, Any]] = []
        chunks = 0
        generation = live.current.generation if live.current else None
        if accepted:
            try:
                report, existed = await run_in_threadpool(partial(write, service, live, articles=[a for _, a in accepted], remove=[]))
            except NewsbotIndexError as exc:
                raise index_error(exc) from None
            generation = report.generation
            chunks = report.chunks_embedded + report.chunks_cached
            changed = set(report.article_ids)
            # Origins are unique per item ("api[3]", "upload:0:page.html"), ids are not: the
            # same story twice in one batch is one article and one duplicate.
            duplicates = {d.get("origin") for d in report.duplicates if isinstance(d, dict)}
            skipped = {p.origin: p.reason for p in report.problems}
            for item, article in accepted:
                if article.origin in skipped:
                    problems.append(ProblemItem(item, skipped[article.origin]))
                    continue
                if article.origin in duplicates:
                    status = "duplicate"
                elif article.id in changed:
                    status = "updated" if article.id in existed else "added"
                else:
                    status = "unchanged"
                ingested.append({"item": item, "id": article.id, "title": article.title, "status": status})
        body = {"ingested": ingested, "problems": [p.to_dict() for p in problems], "generation": generation, "chunks": chunks}
        return JSONResponse(body, status_code=400 if problems else 200)

    @app.delete(
        "/v1/articles/{article_id}",
        response_model=DeleteResponse,
        dependencies=[Depends(require_admin)],
        responses={404: {"model": ErrorOut, "description": "No article with this id."}, 409: {"model": ErrorOut}, **_ADMIN_ERRORS},
        tags=["admin"],
    )
    async def delete_article(article_id: ArticleId, request: Request) -> Any:
        """Remove an article and its passages from the live index."""
        service, live = writer(request)
        if live.current is None:
            raise HTTPException(404, detail=f"no article with id {article_id!r}")
        try:
            report, _ = await run_in_threadpool(partial(write, service, live, articles=[], remove=[article_id]))
        except NewsbotIndexError as exc:
            raise index_error(exc) from None
        if article_id in report.missing_ids or not report.removed:
            raise HTTPException(404, detail=f"no article with id {article_id!r}")
        return {"removed": article_id, "generation": report.generation}

    @app.post(
        "/v1/index/reload",
        response_model=ReloadResponse,
        dependencies=[Depends(require_admin)],
        responses={409: {"model": ErrorOut}, **_ADMIN_ERRORS},
        tags=["admin"],
    )
    async def reload(request: Request) -> Any:
        """Serve the generation CURRENT names now (after a CLI rebuild); requests in flight finish on the old one."""
        _, live = writer(request)
        previous = live.current.generation if live.current else None
        try:
            snap = await run_in_threadpool(live.load)
        except NewsbotIndexError as exc:
            raise index_error(exc) from None
        return {"generation": snap.generation, "previous": previous, "changed": snap.generation != previous}


async def _read_json_items(request: Request, convert: Any) -> list[tuple[int | str, Any]]:
    raw = await request.body()
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise RequestValidationError([{"loc": ("body",), "msg": f"not valid JSON: {exc}", "type": "json_invalid"}]) from None
    if isinstance(payload, list):
        if not 1 <= len(payload) <= MAX_BATCH:
            raise RequestValidationError(
                [{"loc": ("body",), "msg": f"send 1 to {MAX_BATCH} articles, got {len(payload)}", "type": "too_long" if payload else "too_short"}]
            )
    elif not isinstance(payload, dict):
        raise RequestValidationError([{"loc": ("body",), "msg": "send an article (JSON object) or a list of them", "type": "model_type"}])
    return convert(payload, origin="api")


async def _read_uploads(request: Request, convert: Any) -> list[tuple[int | str, Any]]:
    form = await request.form(max_files=_MAX_FILES, max_fields=20)
    try:
        files = [v for k, v in form.multi_items() if k == "file" and not isinstance(v, str)]
        if not files:
            raise RequestValidationError([{"loc": ("body", "file"), "msg": "upload at least one file in the field 'file'", "type": "missing"}])
        overrides: dict[str, str] = {}
        for name in ("source", "url", "published_at"):
            value = form.get(name)
            if isinstance(value, str) and value.strip():
                overrides[name] = value.strip()
        items: list[tuple[int | str, Any]] = []
        for position, upload in enumerate(files):
            data = await upload.read()
            label = f"{position}:{upload.filename or 'file'}"
            items.append((label, convert(data, name=label, content_type=upload.content_type or "", overrides=overrides)))
        return items
    finally:
        await form.close()


def _add_ops_routes(app: FastAPI) -> None:
    @app.get("/healthz", response_model=HealthOut, tags=["ops"])
    async def healthz() -> Any:
        """The process is up and answering (even while the model loads or asks run)."""
        return {"status": "ok"}

    @app.get("/readyz", response_model=ReadyOut, responses={503: {"model": ReadyOut}}, tags=["ops"])
    async def readyz(request: Request) -> Any:
        """200 once the model and an index are loaded; 503 (with the reason) before that."""
        service = _service(request)
        live = service.live
        if live is not None and live.pointer_changed():
            await run_in_threadpool(live.refresh_if_changed)
        if live is not None and live.current is not None:
            return {"status": "ready", "generation": live.current.generation}
        if live is None and service.loading and not service.loading.startswith("loading failed"):
            return JSONResponse({"status": "loading", "detail": service.loading}, status_code=503)
        detail = service.loading if live is None else live.problem
        return JSONResponse({"status": "unavailable", "detail": detail}, status_code=503)

    @app.get("/metrics", tags=["ops"], response_class=Response, responses={200: {"content": {"text/plain": {}}}})
    async def metrics(request: Request) -> Response:
        """Prometheus metrics: requests and latency by route, index size, asks and abstentions."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(_service(request).metrics.registry), media_type=CONTENT_TYPE_LATEST)
