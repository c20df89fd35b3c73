"""A lost database connection is the server's trouble, not the user's: a clean 503 in the one
error shape, and the pool is invalidated so that the next request reconnects (pool_pre_ping
then checks every connection it hands out)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from sqlalchemy.exc import DBAPIError, OperationalError

from regionvisa.web.errors import AppError

log = logging.getLogger("regionvisa.ops")


class DatabaseUnavailable(AppError):
    def __init__(self) -> None:
        super().__init__(
            503,
            "database_unavailable",
            "데이터베이스에 연결할 수 없습니다. 잠시 후 다시 시도하십시오.",
            "the database is unavailable; please try again shortly",
            headers={"Retry-After": "5"},
        )


def is_disconnect(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError):
        text = str(exc.orig or exc).lower()
        return any(
            marker in text
            for marker in (
                "server closed the connection",
                "connection refused",
                "terminating connection",
                "connection is closed",
                "could not connect",
                "consuming input failed",
                "unable to open database",
                "disk i/o error",
                "the connection is lost",
            )
        )
    return False


def install(app: FastAPI) -> None:
    async def database_error(request: Request, exc: DBAPIError):
        if not is_disconnect(exc):
            raise exc
        log.warning("database connection lost during %s %s; pool reset", request.method, request.url.path)
        request.app.state.engine.dispose()
        unavailable = DatabaseUnavailable()
        handler = app.exception_handlers[AppError]
        return await handler(request, unavailable)

    app.add_exception_handler(DBAPIError, database_error)
