"""stored pilot outcome runs: parameters, canonical result JSON and its SHA-256 (issue 19)

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outcome_run",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("region", sa.String(2), nullable=True),
        sa.Column("params_json", sa.Text(), nullable=False),
        sa.Column("result_json", sa.Text(), nullable=False),
        sa.Column("result_sha256", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_outcome_run_region", "outcome_run", ["region", "on"])


def downgrade() -> None:
    op.drop_index("ix_outcome_run_region", table_name="outcome_run")
    op.drop_table("outcome_run")
