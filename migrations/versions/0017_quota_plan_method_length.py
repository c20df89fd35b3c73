"""quota plans name any apportionment method: evaluation_quota_plan.method widened to 32 characters
("modified-sainte-lague" has 21; PostgreSQL refused it in a 16-character column)

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evaluation_quota_plan", schema=None) as batch_op:
        batch_op.alter_column("method", existing_type=sa.String(16), type_=sa.String(32), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("evaluation_quota_plan", schema=None) as batch_op:
        batch_op.alter_column("method", existing_type=sa.String(32), type_=sa.String(16), existing_nullable=False)
