"""log-in lock-out per account name: login_lock (failures in a row and the lock, for any name)

An unknown name now locks like an existing account. The failures and locks kept on app_user
move here (by the SHA-256 of the name); app_user.failed_logins and locked_until are left unused.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import datetime as dt
import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

MEMORY = dt.timedelta(hours=24)  # the default of REGIONVISA_LOGIN_FAILURE_MEMORY_HOURS


def upgrade() -> None:
    op.create_table(
        "login_lock",
        sa.Column("name_hash", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name_hash", name=op.f("pk_login_lock")),
    )
    with op.batch_alter_table("login_lock", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_lock_expires_at"), ["expires_at"], unique=False)

    bind = op.get_bind()
    stamp = sa.DateTime(timezone=True)
    users = sa.table(
        "app_user",
        sa.column("username", sa.String),
        sa.column("failed_logins", sa.Integer),
        sa.column("locked_until", stamp),
    )
    locks = sa.table(
        "login_lock",
        sa.column("name_hash", sa.String),
        sa.column("failures", sa.Integer),
        sa.column("locked_until", stamp),
        sa.column("expires_at", sa.BigInteger),
    )
    now = dt.datetime.now(dt.UTC)
    rows = []
    for name, failures, locked_until in bind.execute(
        sa.select(users.c.username, users.c.failed_logins, users.c.locked_until).where(
            sa.or_(users.c.failed_logins > 0, users.c.locked_until.is_not(None))
        )
    ):
        if locked_until is not None and locked_until.tzinfo is None:
            locked_until = locked_until.replace(tzinfo=dt.UTC)
        if locked_until is not None and locked_until <= now:
            locked_until = None
        if not failures and locked_until is None:
            continue
        until = max(locked_until or now, now) + MEMORY
        rows.append(
            {
                "name_hash": hashlib.sha256(name.encode("utf-8")).hexdigest(),
                "failures": int(failures or 0),
                "locked_until": locked_until,
                "expires_at": int(until.timestamp()),
            }
        )
    if rows:
        bind.execute(locks.insert(), rows)
    bind.execute(users.update().values(failed_logins=0, locked_until=None))


def downgrade() -> None:
    with op.batch_alter_table("login_lock", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_lock_expires_at"))
    op.drop_table("login_lock")
