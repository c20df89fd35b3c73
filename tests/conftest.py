"""Test databases: SQLite always; PostgreSQL when REGIONVISA_TEST_DATABASE_URL names a server.

`make test` runs the whole suite on whichever database that variable selects, so CI runs it
twice. Tests that only make sense on PostgreSQL are marked `postgres` and skipped, with the
reason shown, when no server is configured.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from regionvisa import migrate
from regionvisa.db import Base, make_engine

PG_URL = os.environ.get("REGIONVISA_TEST_DATABASE_URL", "").strip()
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def pytest_report_header(config):
    return (
        f"database: {'PostgreSQL ' + PG_URL.split('@')[-1] if PG_URL else 'SQLite (no REGIONVISA_TEST_DATABASE_URL)'}"
    )


def pytest_collection_modifyitems(config, items):
    if PG_URL:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set REGIONVISA_TEST_DATABASE_URL=postgresql+psycopg://…")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def database_kind() -> str:
    return "postgresql" if PG_URL else "sqlite"


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    _load_reference(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _pg_migrated():
    if not PG_URL:
        return None
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    migrate.upgrade(engine)
    engine.dispose()
    return PG_URL


def _load_reference(engine) -> None:
    from regionvisa.db import session_scope
    from regionvisa.regions.service import load_regions

    with session_scope(engine) as session:
        load_regions(session=session)


def _truncate_all(engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture
def engine(request, tmp_path, _sqlite_template, _pg_migrated):
    """A migrated database with reference data and nothing else, fresh for each test."""
    import regionvisa.models  # noqa: F401

    if _pg_migrated:
        eng = make_engine(_pg_migrated)
        _truncate_all(eng)
        _load_reference(eng)
    else:
        path = tmp_path / "test.sqlite3"
        shutil.copy(_sqlite_template, path)
        eng = make_engine(f"sqlite:///{path}")
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path, _sqlite_template):
    """Always SQLite, for tests of SQLite-specific behaviour."""
    path = tmp_path / "sqlite-only.sqlite3"
    shutil.copy(_sqlite_template, path)
    eng = make_engine(f"sqlite:///{path}")
    yield eng
    eng.dispose()


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
