"""compliance runs keep, per employer with a programme E-7 holder, its holders, foreign staff,
share and whether it was flagged for concentration (issue 19)

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compliance_employer",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("compliance_run.id", ondelete="CASCADE"), nullable=False),
        sa.Column("employer_id", sa.String(32), nullable=False),
        sa.Column("region", sa.String(2), nullable=True),
        sa.Column("holders", sa.Integer(), nullable=False),
        sa.Column("foreign_staff", sa.Integer(), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_compliance_employer_run_region", "compliance_employer", ["run_id", "region", "flagged"])


def downgrade() -> None:
    op.drop_index("ix_compliance_employer_run_region", table_name="compliance_employer")
    op.drop_table("compliance_employer")
