"""applications, recommendations, decisions and issuance

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "region_benefit",
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("simplified_procedure", sa.Boolean(), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("region", name=op.f("pk_region_benefit")),
    )
    op.create_table(
        "application",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("applicant_name", sa.String(length=128), nullable=False),
        sa.Column("passport_no", sa.String(length=32), nullable=False),
        sa.Column("open_passport", sa.String(length=32), nullable=True),
        sa.Column("nationality", sa.String(length=3), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("person_id", sa.String(length=32), nullable=True),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.Column("submitted_by", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("points", sa.Float(), nullable=True),
        sa.Column("program_version", sa.Integer(), nullable=True),
        sa.Column("simplified", sa.Boolean(), nullable=False),
        sa.Column("ledger_id", sa.Integer(), nullable=True),
        sa.Column("reserved", sa.Boolean(), nullable=False),
        sa.Column("visa_number", sa.String(length=32), nullable=True),
        sa.Column("status_grant_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('submitted', 'screened', 'recommended', 'returned', 'approved', 'rejected', 'issued', 'withdrawn', 'cancelled')",
            name=op.f("ck_application_status"),
        ),
        sa.ForeignKeyConstraint(["ledger_id"], ["quota_ledger.id"], name=op.f("fk_application_ledger_id_quota_ledger")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application")),
        sa.UniqueConstraint("program_id", "open_passport", name=op.f("uq_application_program_id_open_passport")),
        sa.UniqueConstraint("visa_number", name=op.f("uq_application_visa_number")),
    )
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.create_index("ix_application_queue", ["program_id", "status", "submitted_at"], unique=False)
        batch_op.create_index("ix_application_region", ["region", "status"], unique=False)

    op.create_table(
        "application_document",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("doc_type", sa.String(length=48), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("stored_path", sa.String(length=512), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_application_document_application_id_application"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_document")),
    )
    with op.batch_alter_table("application_document", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_application_document_application_id"), ["application_id"], unique=False)

    op.create_table(
        "application_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("move", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("screening_id", sa.Integer(), nullable=True),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_application_event_application_id_application"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_event")),
    )
    with op.batch_alter_table("application_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_application_event_application_id"), ["application_id"], unique=False)

    op.create_table(
        "application_screening",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("program_version", sa.Integer(), nullable=False),
        sa.Column("program_digest", sa.String(length=64), nullable=False),
        sa.Column("screened_on", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("points", sa.Float(), nullable=True),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_application_screening_application_id_application"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_screening")),
    )
    with op.batch_alter_table("application_screening", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_application_screening_application_id"), ["application_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("application_screening", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_screening_application_id"))
    op.drop_table("application_screening")
    with op.batch_alter_table("application_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_event_application_id"))
    op.drop_table("application_event")
    with op.batch_alter_table("application_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_document_application_id"))
    op.drop_table("application_document")
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_index("ix_application_region")
        batch_op.drop_index("ix_application_queue")
    op.drop_table("application")
    op.drop_table("region_benefit")
