"""audit MAC chain: audit_entry.key_id; audit_head.key_id and mac; INSERT OR REPLACE refused on SQLite

Entries written before this revision keep key_id NULL and their plain SHA-256 hash: they are
never rewritten, and the first entry written after it (any decision, or `regionvisa audit
anchor`) anchors them, since its MAC covers the last plain hash. `regionvisa audit verify`
reports them until then.

On SQLite a REPLACE conflict deletes the old row without firing DELETE triggers, so a BEFORE
INSERT trigger refuses an insert whose id, seq or hash already exists. (PostgreSQL's TRUNCATE
fires no row triggers either; it is left to the MAC chain and signed checkpoints to reveal, as
resetting a whole database by TRUNCATE is how test and staging databases are emptied.)

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

APPEND_ONLY = "audit_entry is append-only"


def upgrade() -> None:
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=32), nullable=True))
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("mac", sa.String(length=64), nullable=True))
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_update_delete_triggers()  # in case the batch operation rebuilt the table
        op.execute(
            "CREATE TRIGGER audit_entry_no_replace BEFORE INSERT ON audit_entry "
            "WHEN EXISTS (SELECT 1 FROM audit_entry WHERE id = NEW.id) "
            "OR EXISTS (SELECT 1 FROM audit_entry WHERE seq = NEW.seq) "
            "OR EXISTS (SELECT 1 FROM audit_entry WHERE hash = NEW.hash) "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_entry_no_replace")
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.drop_column("mac")
        batch_op.drop_column("key_id")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_column("key_id")
    if dialect == "sqlite":
        _sqlite_update_delete_triggers()  # dropping a column rebuilds the table without its triggers


def _sqlite_update_delete_triggers() -> None:
    for event in ("UPDATE", "DELETE"):
        op.execute(f"DROP TRIGGER IF EXISTS audit_entry_no_{event.lower()}")
        op.execute(
            f"CREATE TRIGGER audit_entry_no_{event.lower()} BEFORE {event} ON audit_entry "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
        )
