"""application passports encrypted at rest: passport_no becomes passport_enc + passport_hash

`open_passport` keeps its role in the duplicate guard (unique per programme while the application
is open) but holds the keyed lookup hash instead of the number. Existing rows are converted with
the current data key (records.pii) in batches, in the migration's transaction, before the clear
column is dropped.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BATCH = 50_000


def _table():
    return sa.table(
        "application",
        sa.column("id"),
        sa.column("passport_no"),
        sa.column("open_passport"),
        sa.column("passport_enc"),
        sa.column("passport_hash"),
    )


def upgrade() -> None:
    from regionvisa.records import pii

    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.add_column(sa.Column("passport_enc", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("passport_hash", sa.String(length=64), nullable=True))
        batch_op.alter_column("open_passport", existing_type=sa.String(length=32), type_=sa.String(length=64))
    conn = op.get_bind()
    app = _table()
    rows = conn.execute(sa.select(app.c.id, app.c.passport_no, app.c.open_passport).order_by(app.c.id)).all()
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        clear = [r.passport_no for r in chunk]
        conn.execute(
            app.update().where(app.c.id == sa.bindparam("aid")),
            [
                {"aid": r.id, "passport_enc": e, "passport_hash": h, "open_passport": h if r.open_passport else None}
                for r, e, h in zip(chunk, pii.encrypt(clear), pii.lookup_hash(clear), strict=True)
            ],
        )
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.alter_column("passport_enc", existing_type=sa.String(length=128), nullable=False)
        batch_op.alter_column("passport_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index(batch_op.f("ix_application_passport_hash"), ["passport_hash"], unique=False)
        batch_op.drop_column("passport_no")


def downgrade() -> None:
    from regionvisa.records import pii

    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.add_column(sa.Column("passport_no", sa.String(length=32), nullable=True))
    conn = op.get_bind()
    app = _table()
    rows = conn.execute(sa.select(app.c.id, app.c.passport_enc, app.c.open_passport).order_by(app.c.id)).all()
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        clear = pii.decrypt([r.passport_enc for r in chunk])
        conn.execute(
            app.update().where(app.c.id == sa.bindparam("aid")),
            [
                {"aid": r.id, "passport_no": c, "open_passport": c if r.open_passport else None}
                for r, c in zip(chunk, clear, strict=True)
            ],
        )
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.alter_column("passport_no", existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column("open_passport", existing_type=sa.String(length=64), type_=sa.String(length=32))
        batch_op.drop_index(batch_op.f("ix_application_passport_hash"))
        batch_op.drop_column("passport_hash")
        batch_op.drop_column("passport_enc")
