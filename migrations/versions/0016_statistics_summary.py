"""statistics maintained as records are imported: resident_span, resident_count, stats_state

Each person's residence spans and the resident count changes per day, month and year (by status
and by nationality, per region), built here from the records already stored, then kept up to
date by every writer of records in its own transaction (`regionvisa.stats.summary`).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resident_span",
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("nationality", sa.String(length=3), nullable=False),
        sa.PrimaryKeyConstraint("person_id", "start_date", name=op.f("pk_resident_span")),
    )
    with op.batch_alter_table("resident_span", schema=None) as batch_op:
        batch_op.create_index("ix_resident_span_region_person", ["region", "person_id"], unique=False)
    op.create_table(
        "resident_count",
        sa.Column("grain", sa.String(length=1), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("kind", sa.String(length=1), nullable=False),
        sa.Column("value", sa.String(length=8), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("grain", "period", "region", "kind", "value", name=op.f("pk_resident_count")),
    )
    op.create_table(
        "stats_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("max_reported", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_state")),
    )
    from regionvisa.stats import summary

    summary.rebuild(conn=op.get_bind())


def downgrade() -> None:
    op.drop_table("stats_state")
    with op.batch_alter_table("resident_span", schema=None) as batch_op:
        batch_op.drop_index("ix_resident_span_region_person")
    op.drop_table("resident_span")
    op.drop_table("resident_count")
