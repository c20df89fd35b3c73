"""Engine, sessions and the declarative base.

SQLite is the embedded default; PostgreSQL is selected by URL. The same models and migrations
serve both, so nothing here may depend on one dialect except the connection pragmas.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy import types as sqltypes
from sqlalchemy.dialects.sqlite import DATETIME as SQLITE_DATETIME
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from regionvisa.config import get_settings
from regionvisa.core import clock

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Timezone-aware UTC now: every stored timestamp is in UTC, and both databases keep the offset.
    Inside `clock.replaying` it is the replayed instant (`core/clock.py`)."""
    return clock.now()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class _SqliteUtcDateTime(SQLITE_DATETIME):
    """SQLite has no time zones: a zoned column is stored as UTC text and read back aware in UTC,
    so both databases hand out the same kind of value and every instant leaves with its offset."""

    def bind_processor(self, dialect):
        inner = super().bind_processor(dialect)
        if not self.timezone:
            return inner

        def process(value):
            if isinstance(value, dt.datetime) and value.tzinfo is not None:
                value = value.astimezone(dt.UTC)
            return inner(value) if inner else value

        return process

    def result_processor(self, dialect, coltype):
        inner = super().result_processor(dialect, coltype)
        if not self.timezone:
            return inner

        def process(value):
            value = inner(value) if inner else value
            return value.replace(tzinfo=dt.UTC) if isinstance(value, dt.datetime) and value.tzinfo is None else value

        return process


# Connections per engine. A server process runs sync routes on a pool of 40 threads, and a request
# may hold two connections at once (a session and a column reader), so SQLite (connections cost a
# file handle) gets enough for every thread; PostgreSQL gets 40 per process, which keeps two
# workers under its default max_connections (100) and makes a 41st concurrent reader wait for a
# connection (up to pool_timeout) instead of failing with "QueuePool limit … reached".
SQLITE_POOL = {"pool_size": 40, "max_overflow": 40, "pool_timeout": 60}
POSTGRES_POOL = {"pool_size": 10, "max_overflow": 30, "pool_timeout": 60}


def _pool(url: str) -> dict:
    if url.startswith("sqlite") and ":memory:" not in url:
        return SQLITE_POOL
    if url.startswith("postgresql"):
        return POSTGRES_POOL
    return {}


def make_engine(url: str | None = None, *, echo: bool | None = None) -> Engine:
    """The one way engines are made, so every engine gets the pragmas and hides statement parameters."""
    settings = get_settings()
    url = url or settings.database_url
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        echo=settings.echo_sql if echo is None else echo,
        pool_pre_ping=True,
        **_pool(url),
        # Statement parameters hold names, birth dates and passport ciphertext and hashes: they never
        # appear in an error's text (and so in a logged traceback), nor in the SQL echo.
        hide_parameters=True,
        future=True,
    )
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        engine.dialect.colspecs = {**engine.dialect.colspecs, sqltypes.DateTime: _SqliteUtcDateTime}
    return engine


@lru_cache
def get_engine() -> Engine:
    return make_engine()


def session_factory(*, engine: Engine | None = None) -> sessionmaker[Session]:
    return sessionmaker(bind=engine or get_engine(), expire_on_commit=False)


@contextmanager
def session_scope(*, engine: Engine | None = None) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error, so nothing is half-written."""
    session = session_factory(engine=engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def is_postgres(*, engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
