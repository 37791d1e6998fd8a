"""The FastAPI application: one place maps Privet's errors to HTTP, nothing else leaks."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from privet.api.routes import consents, public, requests
from privet.consent import ConsentService
from privet.datamap import load_map
from privet.errors import PrivetError
from privet.retention import retention_due
from privet.service import InProcessRunner, RequestService
from privet.service.jobs import register_jobs
from privet.service.runner import make_runner
from privet.settings import Settings
from privet.state import open_state
from privet.web import consent_pages, pages

MAX_BODY = 64 * 1024


class BodyLimit:
    """Request bodies over ``limit`` bytes are answered 413 ``{"error": "BadInput", "message"}``.

    A plain ASGI middleware: it costs one scan of the headers per request (``@app.middleware``
    would run every request through a task and a memory stream, on the check's hot path too). A
    declared ``Content-Length`` over the limit is refused before anything is read; a body without
    one (chunked) is counted as it arrives, and once past the limit the app is told the client
    left and its answer is replaced by the 413.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit
        self.refusal = JSONResponse(
            {"error": "BadInput", "message": f"body over {limit} bytes"}, status_code=413
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                if value.isdigit() and int(value) > self.limit:
                    await self.refusal(scope, receive, send)
                    return
                break
            if name == b"transfer-encoding":
                chunked = True
        if not chunked:
            await self.app(scope, receive, send)
            return
        seen = 0
        over = started = refused = False

        async def counted() -> Message:
            nonlocal seen, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            nonlocal started, refused
            if refused:
                return
            if over and not started:  # the app's answer to a body it could not read: ours instead
                if message["type"] == "http.response.start":
                    refused = True
                    await self.refusal(scope, receive, send)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted, guarded)


def create_app(settings: Settings) -> FastAPI:
    settings.ensure_home()
    dm = load_map(settings.map)
    state = open_state(settings.resolved_state_url)
    runner = make_runner(settings)
    service = RequestService(settings, dm, state, runner)
    register_jobs(runner, service)
    stop = threading.Event()

    def periodic() -> None:
        """The in-process worker's clock: housekeeping hourly, and the retention rules when
        ``PRIVET_RETENTION_DAILY`` is set and the last run is a day old (restarts do not skip
        it). With Celery, ``privet worker --beat`` keeps this schedule instead."""
        while True:
            runner.submit("housekeeping")
            if settings.retention_daily and retention_due(state):
                runner.submit("retention.run")
            if stop.wait(3600):
                return

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        clock = None
        if isinstance(runner, InProcessRunner):
            service.resume_open()  # jobs queued in a process that stopped are not lost
            clock = threading.Thread(target=periodic, name="privet-clock", daemon=True)
            clock.start()
        yield
        stop.set()
        if clock is not None:
            clock.join(timeout=5)
        runner.close()
        state.dispose()

    app = FastAPI(
        title="Privet", version="1", description="GDPR engine: requests, consent, proof.", lifespan=lifespan
    )
    app.state.settings = settings
    app.state.state_db = state
    app.state.runner = runner
    app.state.principals = {}
    app.state.requests = service
    app.state.consent = ConsentService(state, dm, settings.master_key())

    @app.exception_handler(PrivetError)
    async def privet_error(request: Request, exc: PrivetError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.http_status)

    @app.exception_handler(RequestValidationError)
    async def bad_body(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"where": ".".join(str(x) for x in e["loc"]), "problem": e["msg"]} for e in exc.errors()]
        return JSONResponse(
            {"error": "BadInput", "message": "the request body is not valid", "errors": errors},
            status_code=422,
        )

    app.add_middleware(consents.CheckFirst)  # innermost: errors and CORS are as for any route
    app.add_middleware(BodyLimit, limit=MAX_BODY)

    # The embeddable consent dialog calls /v1/public/* from the company's own pages.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "Sec-GPC", "Authorization"],
    )

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"ok": True}

    app.include_router(consents.router)  # first: the consent check is the route asked most often
    app.include_router(requests.router)
    app.include_router(public.router)
    app.include_router(pages.router)
    app.include_router(consent_pages.router)
    return app


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> None:
    import uvicorn

    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", access_log=False)
