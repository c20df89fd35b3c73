"""selection rounds, proposals, committee and decisions

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "selection_round",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("title_ko", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("window_opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rubric", sa.JSON(), nullable=False),
        sa.Column("quorum", sa.String(length=16), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("max_selected", sa.Integer(), nullable=True),
        sa.Column("trim", sa.Boolean(), nullable=False),
        sa.Column("quota_ceiling", sa.Integer(), nullable=True),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scoring_closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("meeting_on", sa.Date(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'scoring_closed', 'decided')", name=op.f("ck_selection_round_status")),
        sa.CheckConstraint("threshold >= 0 AND threshold <= 100", name=op.f("ck_selection_round_threshold")),
        sa.CheckConstraint("window_closes_at > window_opens_at", name=op.f("ck_selection_round_window")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_selection_round")),
    )
    with op.batch_alter_table("selection_round", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_selection_round_year"), ["year"], unique=False)

    op.create_table(
        "selection_proposal",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["selection_round.id"],
            name=op.f("fk_selection_proposal_round_id_selection_round"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_selection_proposal")),
        sa.UniqueConstraint("round_id", "region", name=op.f("uq_selection_proposal_round_id_region")),
    )
    with op.batch_alter_table("selection_proposal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_selection_proposal_round_id"), ["round_id"], unique=False)

    op.create_table(
        "selection_attachment",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["selection_proposal.id"],
            name=op.f("fk_selection_attachment_proposal_id_selection_proposal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_selection_attachment")),
    )
    with op.batch_alter_table("selection_attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_selection_attachment_proposal_id"), ["proposal_id"], unique=False)

    op.create_table(
        "selection_decision",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("selected", sa.Boolean(), nullable=False),
        sa.Column("recommended", sa.Boolean(), nullable=False),
        sa.Column("aggregate", sa.Float(), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("quotas", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("confirmed_by", sa.String(length=64), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["selection_proposal.id"],
            name=op.f("fk_selection_decision_proposal_id_selection_proposal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_selection_decision")),
        sa.UniqueConstraint("proposal_id", name=op.f("uq_selection_decision_proposal_id")),
    )
    op.create_table(
        "selection_member",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("affiliation", sa.String(length=200), nullable=False),
        sa.Column("affiliation_region", sa.String(length=2), nullable=True),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('chair', 'official', 'expert')", name=op.f("ck_selection_member_role")),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["selection_round.id"],
            name=op.f("fk_selection_member_round_id_selection_round"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_selection_member_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_selection_member")),
        sa.UniqueConstraint("round_id", "user_id", name=op.f("uq_selection_member_round_id_user_id")),
    )
    with op.batch_alter_table("selection_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_selection_member_round_id"), ["round_id"], unique=False)

    op.create_table(
        "selection_proposal_version",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("designs", sa.JSON(), nullable=False),
        sa.Column("narrative", sa.Text(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("submitted_by", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["selection_proposal.id"],
            name=op.f("fk_selection_proposal_version_proposal_id_selection_proposal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_selection_proposal_version")),
        sa.UniqueConstraint("proposal_id", "version", name=op.f("uq_selection_proposal_version_proposal_id_version")),
    )
    with op.batch_alter_table("selection_proposal_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_selection_proposal_version_proposal_id"), ["proposal_id"], unique=False)

    op.create_table(
        "selection_conflict",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("source IN ('affiliation', 'declared')", name=op.f("ck_selection_conflict_source")),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["selection_member.id"],
            name=op.f("fk_selection_conflict_member_id_selection_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_selection_conflict")),
        sa.UniqueConstraint("member_id", "region", name=op.f("uq_selection_conflict_member_id_region")),
    )
    with op.batch_alter_table("selection_conflict", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_selection_conflict_member_id"), ["member_id"], unique=False)

    op.create_table(
        "selection_score",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("criterion", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("proposal_version", sa.Integer(), nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("score >= 0 AND score <= 100", name=op.f("ck_selection_score_range")),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["selection_member.id"],
            name=op.f("fk_selection_score_member_id_selection_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["selection_proposal.id"],
            name=op.f("fk_selection_score_proposal_id_selection_proposal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_selection_score")),
        sa.UniqueConstraint(
            "proposal_id", "member_id", "criterion", name=op.f("uq_selection_score_proposal_id_member_id_criterion")
        ),
    )
    with op.batch_alter_table("selection_score", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_selection_score_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_selection_score_proposal_id"), ["proposal_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("selection_score", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_selection_score_proposal_id"))
        batch_op.drop_index(batch_op.f("ix_selection_score_member_id"))

    op.drop_table("selection_score")
    with op.batch_alter_table("selection_conflict", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_selection_conflict_member_id"))

    op.drop_table("selection_conflict")
    with op.batch_alter_table("selection_proposal_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_selection_proposal_version_proposal_id"))

    op.drop_table("selection_proposal_version")
    with op.batch_alter_table("selection_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_selection_member_round_id"))

    op.drop_table("selection_member")
    op.drop_table("selection_decision")
    with op.batch_alter_table("selection_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_selection_attachment_proposal_id"))

    op.drop_table("selection_attachment")
    with op.batch_alter_table("selection_proposal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_selection_proposal_round_id"))

    op.drop_table("selection_proposal")
    with op.batch_alter_table("selection_round", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_selection_round_year"))

    op.drop_table("selection_round")
