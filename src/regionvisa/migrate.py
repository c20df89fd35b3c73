"""Runs Alembic from inside the package, so `regionvisa db upgrade` works from any directory."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from regionvisa.config import PROJECT_ROOT


def alembic_config(*, engine: Engine | None = None) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def upgrade(*, engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config(engine=engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    _schema_changed(engine)


def downgrade(*, engine: Engine, revision: str) -> None:
    cfg = alembic_config(engine=engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
    _schema_changed(engine)


def _schema_changed(engine: Engine) -> None:
    """What this process keeps about the schema is dropped: the job queue's connections (see
    `jobs.queue.forget_connections`)."""
    if engine.dialect.name == "postgresql":
        from regionvisa.jobs import queue

        queue.forget_connections()


def current_revision(*, engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
