"""Database faults are the server's trouble, not the user's: a clean 503 in the one error shape
(JSON for the API, the error page for pages), with Retry-After, and recovery without a restart.

- A lost or refused connection (server down, backend terminated, too many clients) invalidates
  the pool, so the next request reconnects (pool_pre_ping then checks every connection it hands
  out). A full disk (SQLite's SQLITE_FULL, PostgreSQL's disk_full) answers 503 too; nothing is
  half-written, since the failed transaction is rolled back, and writes succeed again once space
  is freed.
- Two places catch them: an exception handler for faults raised by the routes, and an ASGI
  middleware outside the session and authentication middlewares, whose session lookup (and its
  `last_seen_at` write) runs before any route and any exception handler.
- What is logged names the fault and the request's method and path, never the error's text,
  the statement's parameters or the request's body; the tracebacks the server logs for other
  errors lose the lines in which a database quotes data (PostgreSQL's DETAIL, parameters).
"""

from __future__ import annotations

import logging
import re
import sqlite3
import traceback

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.types import ASGIApp, Receive, Scope, Send

from regionvisa.accounts.nav import build_nav
from regionvisa.core.errors import DomainError
from regionvisa.web import i18n
from regionvisa.web.errors import _page, _wants_json

log = logging.getLogger("regionvisa.ops")


class DatabaseUnavailable(DomainError):
    def __init__(self) -> None:
        super().__init__(
            status=503,
            code="database_unavailable",
            ko="데이터베이스에 연결할 수 없습니다. 잠시 후 다시 시도하십시오.",
            en="the database is unavailable; please try again shortly",
            headers={"Retry-After": "5"},
        )


class StorageFull(DomainError):
    def __init__(self) -> None:
        super().__init__(
            status=503,
            code="storage_full",
            ko="서버의 저장 공간이 가득 차서 저장할 수 없습니다. 아무것도 저장되지 않았으니 잠시 후 다시 시도하십시오.",
            en="the server's storage is full, so nothing was saved; please try again later",
            headers={"Retry-After": "30"},
        )


# SQLite primary result codes (sqlite3.Error.sqlite_errorcode & 0xff) that are the machine's trouble.
SQLITE_FULL = 13
SQLITE_UNAVAILABLE = {8: "readonly", 10: "ioerr", 14: "cantopen"}
# PostgreSQL SQLSTATEs: class 08 (connection), operator intervention, insufficient resources, I/O.
PG_FULL = {"53100"}
PG_UNAVAILABLE_PREFIXES = ("08", "57P01", "57P02", "57P03", "53200", "53300", "58030")
DISCONNECT_MARKERS = (
    "server closed the connection",
    "connection refused",
    "terminating connection",
    "connection is closed",
    "could not connect",
    "consuming input failed",
    "unable to open database",
    "disk i/o error",
    "the connection is lost",
    "the database system is",
)


def fault_of(exc: BaseException) -> str | None:
    """`"unavailable"`, `"full"` or None (not a fault of the database's machine: a bug, a 500)."""
    if isinstance(exc, PoolTimeout):
        return "unavailable"  # every connection busy for pool_timeout seconds
    if not isinstance(exc, DBAPIError):
        return None
    if exc.connection_invalidated:
        return "unavailable"
    orig = exc.orig
    if isinstance(orig, sqlite3.Error):
        code = (getattr(orig, "sqlite_errorcode", None) or 0) & 0xFF
        if code == SQLITE_FULL:
            return "full"
        if code in SQLITE_UNAVAILABLE:
            return "unavailable"
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate:
        if sqlstate in PG_FULL:
            return "full"
        if sqlstate.startswith(PG_UNAVAILABLE_PREFIXES):
            return "unavailable"
        return None
    if type(orig).__module__.startswith("psycopg") and type(orig).__name__ == "OperationalError":
        return "unavailable"  # a connection-level failure: psycopg gives it no SQLSTATE
    text = str(orig or "").lower()
    if "database or disk is full" in text or "no space left on device" in text:
        return "full"
    if any(marker in text for marker in DISCONNECT_MARKERS):
        return "unavailable"
    return None


def _describe(exc: BaseException) -> str:
    """The fault's kind without its text (which can quote the statement or the data)."""
    orig = getattr(exc, "orig", None) or exc
    detail = getattr(orig, "sqlite_errorname", None) or getattr(orig, "sqlstate", None) or ""
    return f"{type(orig).__module__}.{type(orig).__name__}{f' {detail}' if detail else ''}"


def _error_for(fault: str, exc: BaseException, request_line: str, engine) -> DomainError:
    if fault == "full":
        log.error("database storage full during %s (%s); answered 503", request_line, _describe(exc))
        return StorageFull()
    log.warning("database unavailable during %s (%s); pool reset, answered 503", request_line, _describe(exc))
    if engine is not None:
        engine.dispose()
    return DatabaseUnavailable()


def respond(request: Request, error: DomainError):
    """The error shape: JSON for the API (and JSON clients), the error page otherwise; headers kept."""
    if _wants_json(request):
        return JSONResponse(error.body(), status_code=error.status, headers=error.headers)
    response = _page(request, error.status, error.ko, error.en)
    for name, value in (error.headers or {}).items():
        response.headers[name] = value
    return response


class FaultGuard:
    """Answers 503 in the error shape for a database fault raised outside the routes (the session
    lookup of the authentication middleware), where no exception handler runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            fault = fault_of(exc)
            if fault is None or started:
                raise
            request = Request(scope)
            error = _error_for(fault, exc, f"{scope['method']} {scope['path']}", scope["app"].state.engine)
            response = _fault_page(request, error)
            await response(scope, receive, send)


def _fault_page(request: Request, error: DomainError):
    """The error page as the page middlewares would have prepared it: language, no user, public nav."""
    state = request.scope.setdefault("state", {})
    state.setdefault("user", None)
    state.setdefault("csrf_token", "")
    state.setdefault("nav", build_nav(None, request.url.path))
    token = i18n.current_language.set(
        i18n.pick_language(request.query_params.get("lang") or request.cookies.get("lang"))
    )
    try:
        return respond(request, error)
    finally:
        i18n.current_language.reset(token)


# What a database error can quote of the data: PostgreSQL's DETAIL (`Key (x)=(value) already exists`)
# and the statement's parameters (hidden by db.make_engine; withheld here too, for any other engine).
QUOTING_DATA = re.compile(r"^(\s*)(DETAIL:|\[parameters:).*$", re.MULTILINE)


class WithholdQuotedData(logging.Filter):
    """Logged tracebacks keep the error and the statement, never the values a database error quotes."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            rendered = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_text = QUOTING_DATA.sub(r"\1\2 (withheld: it may quote personal data)", rendered)
        return True


def withhold_quoted_data(*logger_names: str) -> None:
    """Add the filter to the loggers that print tracebacks of failed requests (once each)."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, WithholdQuotedData) for f in logger.filters):
            logger.addFilter(WithholdQuotedData())


def install(app: FastAPI) -> None:
    """Call after the authentication middleware is added, so that the guard wraps it."""
    withhold_quoted_data("uvicorn.error", "uvicorn.asgi", "regionvisa")

    async def database_error(request: Request, exc: Exception):
        fault = fault_of(exc)
        if fault is None:
            raise exc
        error = _error_for(fault, exc, f"{request.method} {request.url.path}", request.app.state.engine)
        return respond(request, error)

    app.add_exception_handler(DBAPIError, database_error)
    app.add_exception_handler(PoolTimeout, database_error)
    app.add_middleware(FaultGuard)
