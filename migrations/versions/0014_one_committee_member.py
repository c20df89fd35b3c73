"""one committee_member table: the selection rounds' seats and the evaluation committee's entries

Both tables said who a committee member is, which body they come from and which regional
government they belong to (the automatic recusal). selection_member rows move with their ids
(so selection_conflict and selection_score keep pointing at the same members); each
evaluation_committee_member row becomes an entry without a round (region -> affiliation_region,
updated_by/at -> added_by/at). The children's foreign keys move to committee_member before the
old tables go: on SQLite a table is dropped only once nothing refers to it, so no cascade runs.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

CHILDREN = ("selection_conflict", "selection_score")
STAMP = sa.DateTime(timezone=True)


def _point_children(old: str, new: str) -> None:
    for child in CHILDREN:
        with op.batch_alter_table(child, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"fk_{child}_member_id_{old}"), type_="foreignkey")
            batch_op.create_foreign_key(
                op.f(f"fk_{child}_member_id_{new}"), new, ["member_id"], ["id"], ondelete="CASCADE"
            )


def _restart_ids(table: str) -> None:
    """PostgreSQL: rows inserted with their ids leave the serial behind; move it past them."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1,"
            " false)"
        )


def upgrade() -> None:
    op.create_table(
        "committee_member",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("affiliation", sa.String(length=200), nullable=False),
        sa.Column("affiliation_region", sa.String(length=2), nullable=True),
        sa.Column("declared_at", STAMP, nullable=True),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("added_at", STAMP, nullable=False),
        sa.CheckConstraint(
            "(round_id IS NULL AND role IS NULL)"
            " OR (round_id IS NOT NULL AND role IS NOT NULL AND role IN ('chair', 'official', 'expert'))",
            name=op.f("ck_committee_member_role"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["selection_round.id"],
            name=op.f("fk_committee_member_round_id_selection_round"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_committee_member_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_committee_member")),
        sa.UniqueConstraint("round_id", "user_id", name=op.f("uq_committee_member_round_id_user_id")),
    )
    with op.batch_alter_table("committee_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_committee_member_round_id"), ["round_id"], unique=False)
        batch_op.create_index(
            "uq_committee_member_standing_user_id",
            ["user_id"],
            unique=True,
            sqlite_where=sa.text("round_id IS NULL"),
            postgresql_where=sa.text("round_id IS NULL"),
        )
    columns = "round_id, user_id, role, affiliation, affiliation_region, declared_at, added_by, added_at"
    op.execute(f"INSERT INTO committee_member (id, {columns}) SELECT id, {columns} FROM selection_member")
    _restart_ids("committee_member")
    op.execute(
        f"INSERT INTO committee_member ({columns}) SELECT NULL, user_id, NULL, affiliation, region, NULL,"
        " updated_by, updated_at FROM evaluation_committee_member ORDER BY user_id"
    )
    _point_children("selection_member", "committee_member")
    with op.batch_alter_table("selection_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_selection_member_round_id"))
    op.drop_table("selection_member")
    op.drop_table("evaluation_committee_member")


def downgrade() -> None:
    op.create_table(
        "evaluation_committee_member",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=True),
        sa.Column("affiliation", sa.String(length=200), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", STAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_evaluation_committee_member_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_evaluation_committee_member")),
    )
    op.create_table(
        "selection_member",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("affiliation", sa.String(length=200), nullable=False),
        sa.Column("affiliation_region", sa.String(length=2), nullable=True),
        sa.Column("declared_at", STAMP, nullable=True),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("added_at", STAMP, nullable=False),
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
    columns = "round_id, user_id, role, affiliation, affiliation_region, declared_at, added_by, added_at"
    op.execute(
        f"INSERT INTO selection_member (id, {columns}) SELECT id, {columns} FROM committee_member"
        " WHERE round_id IS NOT NULL"
    )
    _restart_ids("selection_member")
    op.execute(
        "INSERT INTO evaluation_committee_member (user_id, region, affiliation, updated_by, updated_at)"
        " SELECT user_id, affiliation_region, affiliation, added_by, added_at FROM committee_member"
        " WHERE round_id IS NULL"
    )
    _point_children("committee_member", "selection_member")
    with op.batch_alter_table("committee_member", schema=None) as batch_op:
        batch_op.drop_index("uq_committee_member_standing_user_id")
        batch_op.drop_index(batch_op.f("ix_committee_member_round_id"))
    op.drop_table("committee_member")
