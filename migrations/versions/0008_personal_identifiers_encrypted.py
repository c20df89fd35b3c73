"""personal identifiers encrypted at rest: person.passport_no becomes passport_enc + passport_hash

Existing passport numbers are encrypted with the current data key (records.pii) in batches, in
the migration's transaction, before the clear column is dropped.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BATCH = 50_000


def upgrade() -> None:
    from regionvisa.records import pii

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("passport_enc", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("passport_hash", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    person = sa.table(
        "person",
        sa.column("person_id"),
        sa.column("passport_no"),
        sa.column("passport_enc"),
        sa.column("passport_hash"),
    )
    rows = conn.execute(sa.select(person.c.person_id, person.c.passport_no).order_by(person.c.person_id)).all()
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        clear = [r.passport_no for r in chunk]
        conn.execute(
            person.update().where(person.c.person_id == sa.bindparam("pid")),
            [
                {"pid": r.person_id, "passport_enc": e, "passport_hash": h}
                for r, e, h in zip(chunk, pii.encrypt(clear), pii.lookup_hash(clear), strict=True)
            ],
        )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.alter_column("passport_enc", existing_type=sa.String(length=128), nullable=False)
        batch_op.alter_column("passport_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index(batch_op.f("ix_person_passport_hash"), ["passport_hash"], unique=False)
        batch_op.drop_column("passport_no")


def downgrade() -> None:
    from regionvisa.records import pii

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("passport_no", sa.String(length=32), nullable=True))
    conn = op.get_bind()
    person = sa.table("person", sa.column("person_id"), sa.column("passport_no"), sa.column("passport_enc"))
    rows = conn.execute(sa.select(person.c.person_id, person.c.passport_enc)).all()
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        clear = pii.decrypt([r.passport_enc for r in chunk])
        conn.execute(
            person.update().where(person.c.person_id == sa.bindparam("pid")),
            [{"pid": r.person_id, "passport_no": c} for r, c in zip(chunk, clear, strict=True)],
        )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.alter_column("passport_no", existing_type=sa.String(length=32), nullable=False)
        batch_op.drop_index(batch_op.f("ix_person_passport_hash"))
        batch_op.drop_column("passport_hash")
        batch_op.drop_column("passport_enc")
