"""evaluation runs and committee indicator scores

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evaluation_committee_member",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=True),
        sa.Column("affiliation", sa.String(length=200), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_evaluation_committee_member_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_evaluation_committee_member")),
    )
    op.create_table(
        "evaluation_committee_score",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("recused", sa.Boolean(), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "score IS NULL OR (score >= 0 AND score <= 100)", name=op.f("ck_evaluation_committee_score_score_range")
        ),
        sa.CheckConstraint("recused OR score IS NOT NULL", name=op.f("ck_evaluation_committee_score_score_or_recusal")),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["app_user.id"],
            name=op.f("fk_evaluation_committee_score_member_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_committee_score")),
        sa.UniqueConstraint(
            "year",
            "indicator",
            "region",
            "member_id",
            name=op.f("uq_evaluation_committee_score_year_indicator_region_member_id"),
        ),
    )
    with op.batch_alter_table("evaluation_committee_score", schema=None) as batch_op:
        batch_op.create_index("ix_evaluation_committee_score_year", ["year", "indicator", "region"], unique=False)

    op.create_table(
        "evaluation_run",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("framework_id", sa.String(length=64), nullable=False),
        sa.Column("framework_sha256", sa.String(length=64), nullable=False),
        sa.Column("inputs_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("result_json", sa.Text(), nullable=False),
        sa.Column("result_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=64), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('draft', 'published', 'superseded')", name=op.f("ck_evaluation_run_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_run")),
    )
    with op.batch_alter_table("evaluation_run", schema=None) as batch_op:
        batch_op.create_index("ix_evaluation_run_year", ["year", "status"], unique=False)

    op.create_table(
        "evaluation_benefit",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("quota_change", sa.Float(), nullable=False),
        sa.Column("simplified_procedure", sa.Boolean(), nullable=False),
        sa.Column("warning", sa.Boolean(), nullable=False),
        sa.Column("withdraw_designation", sa.Boolean(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["evaluation_run.id"], name=op.f("fk_evaluation_benefit_run_id_evaluation_run")
        ),
        sa.PrimaryKeyConstraint("year", "region", name=op.f("pk_evaluation_benefit")),
    )
    op.create_table(
        "evaluation_quota_plan",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("ceiling", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("minimum", sa.Integer(), nullable=False),
        sa.Column("rows_json", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by", sa.String(length=64), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('proposed', 'confirmed')", name=op.f("ck_evaluation_quota_plan_status")),
        sa.ForeignKeyConstraint(
            ["run_id"], ["evaluation_run.id"], name=op.f("fk_evaluation_quota_plan_run_id_evaluation_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_quota_plan")),
    )


def downgrade() -> None:
    op.drop_table("evaluation_quota_plan")
    op.drop_table("evaluation_benefit")
    with op.batch_alter_table("evaluation_run", schema=None) as batch_op:
        batch_op.drop_index("ix_evaluation_run_year")
    op.drop_table("evaluation_run")
    with op.batch_alter_table("evaluation_committee_score", schema=None) as batch_op:
        batch_op.drop_index("ix_evaluation_committee_score_year")
    op.drop_table("evaluation_committee_score")
    op.drop_table("evaluation_committee_member")
