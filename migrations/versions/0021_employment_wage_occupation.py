"""employment reports keep the feed's optional columns: annual_wage_krw and occupation_code (DESIGN §4.7)

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("employment") as batch:
        batch.add_column(sa.Column("annual_wage_krw", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("occupation_code", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("employment") as batch:
        batch.drop_column("occupation_code")
        batch.drop_column("annual_wage_krw")
