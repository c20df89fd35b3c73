"""long work as jobs: the job table, the files jobs read and write, and (PostgreSQL) the queue

On PostgreSQL the queue is procrastinate's schema (tables, functions, triggers), created in a
schema of its own, `procrastinate`, so that it never mixes with the application's tables; the
workers and the web processes reach it with that schema first on their search path
(`regionvisa.jobs.queue`). Upgrading procrastinate later means applying its own migration files
to that schema in a new revision. SQLite has no such queue: the job table is the queue there.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

STAMP = sa.DateTime(timezone=True)
QUEUE_SCHEMA = "procrastinate"


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("message_ko", sa.String(length=500), nullable=False),
        sa.Column("message_en", sa.String(length=500), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=40), nullable=True),
        sa.Column("actor_region", sa.String(length=2), nullable=True),
        sa.Column("actor_via", sa.String(length=20), nullable=False),
        sa.Column("view_action", sa.String(length=60), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=True),
        sa.Column("created_at", STAMP, nullable=False),
        sa.Column("started_at", STAMP, nullable=True),
        sa.Column("finished_at", STAMP, nullable=True),
        sa.Column("heartbeat_at", STAMP, nullable=True),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')", name=op.f("ck_job_state")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
    )
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_kind"), ["kind"], unique=False)
        batch_op.create_index("ix_job_state_created", ["state", "created_at"], unique=False)
    op.create_table(
        "job_file",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=120), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
        sa.CheckConstraint("role IN ('input', 'output')", name=op.f("ck_job_file_role")),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], name=op.f("fk_job_file_job_id_job"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_file")),
    )
    with op.batch_alter_table("job_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_file_job_id"), ["job_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        _create_queue()


def _create_queue() -> None:
    """procrastinate's schema, as the pinned version ships it, in the schema `procrastinate`."""
    from procrastinate.schema import SchemaManager

    bind = op.get_bind()
    saved = bind.exec_driver_sql("SELECT current_setting('search_path')").scalar()
    raw = bind.connection.driver_connection
    raw.execute(f"DROP SCHEMA IF EXISTS {QUEUE_SCHEMA} CASCADE")  # a queue left by an older database
    raw.execute(f"CREATE SCHEMA {QUEUE_SCHEMA}")
    raw.execute(f"SET search_path TO {QUEUE_SCHEMA}")
    try:
        raw.execute(SchemaManager.get_schema())
    finally:
        raw.execute("SELECT set_config('search_path', %s, false)", (saved,))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP SCHEMA IF EXISTS {QUEUE_SCHEMA} CASCADE")
    with op.batch_alter_table("job_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_file_job_id"))
    op.drop_table("job_file")
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_index("ix_job_state_created")
        batch_op.drop_index(batch_op.f("ix_job_kind"))
    op.drop_table("job")
