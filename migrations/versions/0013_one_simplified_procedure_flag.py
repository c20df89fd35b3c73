"""one simplified-procedure flag: region_benefit.source; program.simplified_procedure dropped

The flag was stored on the region (region_benefit), on every programme of the region (program)
and in each year's published benefits. region_benefit is now the one flag in force; it records
whether a published evaluation set it or a ministry administrator overrode it. Rows the
publication wrote (set by the system actor of evaluation publication) become 'evaluation', the
others 'override'. The programme reads the region's flag, so its column goes; a downgrade
writes it back from region_benefit.

On SQLite the programme's column is dropped and added with ALTER TABLE, never by a batch copy of
the table: dropping the old copy of `program` would cascade to program_version (foreign keys are
on), so the downgrade leaves the column's server default (false) in place there.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

PUBLISH_ACTOR = "system:evaluation-publication"  # evaluation.service.PUBLISH_ACTOR when this was written


def upgrade() -> None:
    with op.batch_alter_table("region_benefit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=16), nullable=True))
    benefit = sa.table("region_benefit", sa.column("set_by", sa.String), sa.column("source", sa.String))
    op.execute(
        benefit.update().values(source=sa.case((benefit.c.set_by == PUBLISH_ACTOR, "evaluation"), else_="override"))
    )
    with op.batch_alter_table("region_benefit", schema=None) as batch_op:
        batch_op.alter_column("source", existing_type=sa.String(length=16), nullable=False)
        batch_op.create_check_constraint(op.f("ck_region_benefit_source"), "source IN ('evaluation', 'override')")
    op.drop_column("program", "simplified_procedure")


def downgrade() -> None:
    op.add_column("program", sa.Column("simplified_procedure", sa.Boolean(), nullable=False, server_default=sa.false()))
    program = sa.table("program", sa.column("region", sa.String), sa.column("simplified_procedure", sa.Boolean))
    benefit = sa.table("region_benefit", sa.column("region", sa.String), sa.column("simplified_procedure", sa.Boolean))
    flag = sa.select(benefit.c.simplified_procedure).where(benefit.c.region == program.c.region).scalar_subquery()
    op.execute(program.update().values(simplified_procedure=sa.func.coalesce(flag, sa.false())))
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("program", "simplified_procedure", existing_type=sa.Boolean(), server_default=None)
    with op.batch_alter_table("region_benefit", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_region_benefit_source"), type_="check")
        batch_op.drop_column("source")
