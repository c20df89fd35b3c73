"""compliance runs and enforcement cases

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compliance_run",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("holder_findings", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("cases_synced", sa.Boolean(), nullable=False),
        sa.Column("cases_opened", sa.Integer(), nullable=False),
        sa.Column("cases_gone", sa.Integer(), nullable=False),
        sa.Column("read_seconds", sa.Float(), nullable=False),
        sa.Column("engine_seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_run")),
    )
    with op.batch_alter_table("compliance_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_compliance_run_as_of"), ["as_of"], unique=False)

    op.create_table(
        "compliance_at_risk",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=True),
        sa.Column("region", sa.String(length=2), nullable=True),
        sa.Column("days_left", sa.Integer(), nullable=False),
        sa.Column("limit_date", sa.Date(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["compliance_run.id"],
            name=op.f("fk_compliance_at_risk_run_id_compliance_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_at_risk")),
    )
    with op.batch_alter_table("compliance_at_risk", schema=None) as batch_op:
        batch_op.create_index("ix_compliance_at_risk_run_region", ["run_id", "region"], unique=False)

    op.create_table(
        "compliance_case",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=True),
        sa.Column("region", sa.String(length=2), nullable=True),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("finding_start", sa.Date(), nullable=False),
        sa.Column("finding_end", sa.Date(), nullable=True),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("finding_present", sa.Boolean(), nullable=False),
        sa.Column("finding_key", sa.String(length=200), nullable=False),
        sa.Column("active_key", sa.String(length=200), nullable=True),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_run_id", sa.Integer(), nullable=True),
        sa.Column("last_run_on", sa.Date(), nullable=False),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('justified', 'warning', 'status_cancelled')",
            name=op.f("ck_compliance_case_outcome"),
        ),
        sa.CheckConstraint(
            "status <> 'resolved' OR outcome IS NOT NULL", name=op.f("ck_compliance_case_resolved_has_outcome")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'under_review', 'resolved', 'closed')", name=op.f("ck_compliance_case_status")
        ),
        sa.ForeignKeyConstraint(
            ["opened_run_id"],
            ["compliance_run.id"],
            name=op.f("fk_compliance_case_opened_run_id_compliance_run"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_case")),
        sa.UniqueConstraint("active_key", name=op.f("uq_compliance_case_active_key")),
    )
    with op.batch_alter_table("compliance_case", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_compliance_case_finding_key"), ["finding_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_compliance_case_person_id"), ["person_id"], unique=False)
        batch_op.create_index("ix_compliance_case_queue", ["region", "status"], unique=False)
        batch_op.create_index("ix_compliance_case_status", ["status", "severity"], unique=False)

    op.create_table(
        "compliance_run_count",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=True),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("ongoing", sa.Integer(), nullable=False),
        sa.Column("holder_findings", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["compliance_run.id"],
            name=op.f("fk_compliance_run_count_run_id_compliance_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_run_count")),
    )
    with op.batch_alter_table("compliance_run_count", schema=None) as batch_op:
        batch_op.create_index("ix_compliance_run_count_run_region", ["run_id", "region"], unique=False)

    op.create_table(
        "compliance_case_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["compliance_case.id"],
            name=op.f("fk_compliance_case_event_case_id_compliance_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_case_event")),
    )
    with op.batch_alter_table("compliance_case_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_compliance_case_event_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_table("compliance_case_event")
    op.drop_table("compliance_run_count")
    op.drop_table("compliance_case")
    op.drop_table("compliance_at_risk")
    op.drop_table("compliance_run")
