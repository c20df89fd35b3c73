"""The one migration chain builds exactly the models' schema, on SQLite and on PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from regionvisa import migrate
from regionvisa.db import Base


def test_migrated_schema_matches_the_models(engine):
    import regionvisa.models  # noqa: F401

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], diff
    assert migrate.current_revision(engine=engine) == migrate.head_revision()


def test_downgrade_to_base_and_upgrade_again(engine):
    migrate.downgrade(engine=engine, revision="base")
    assert migrate.current_revision(engine=engine) is None
    with engine.connect() as conn:
        assert "person" not in engine.dialect.get_table_names(conn)
    migrate.upgrade(engine=engine)
    assert migrate.current_revision(engine=engine) == migrate.head_revision()
