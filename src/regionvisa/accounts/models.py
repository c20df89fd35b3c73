"""Users, their log-in sessions and their API tokens."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from regionvisa.db import Base

ROLE_CHECK = "role IN ('ministry_admin', 'ministry_officer', 'regional_official', 'committee_member', 'auditor')"


class User(Base):
    """An account. A regional official is bound to exactly one region; no other role has one."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(ForeignKey("region.code"))
    password_hash: Mapped[str] = mapped_column(String(256))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # No longer used: failures and lock-outs are kept per account name in LoginLock (migration 0012
    # moved them there). The columns stay because dropping one rebuilds this table on SQLite.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(ROLE_CHECK, name="role"),
        CheckConstraint(
            "(role = 'regional_official' AND region IS NOT NULL) OR (role <> 'regional_official' AND region IS NULL)",
            name="region_scope",
        ),
    )


class UserSession(Base):
    """A log-in. The signed cookie carries a random key; only its SHA-256 is stored, so the
    table cannot be used to hijack sessions, and a log-out or a disabled account ends it.
    It also ends at `expires_at` (absolute) or when `last_seen_at` is older than the idle timeout."""

    __tablename__ = "user_session"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class RateLimitHit(Base):
    """Requests counted in one fixed window of one rate-limit rule for one client. `bucket` is the
    rule name and a hash of the client (address or account name), never the address itself; rows
    are deleted once their window has passed. Shared by every server process through the database."""

    __tablename__ = "rate_limit_hit"

    bucket: Mapped[str] = mapped_column(String(96), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)  # epoch seconds: window_start + window


class LoginLock(Base):
    """Wrong passwords in a row for one account name, and the lock they led to, kept whether or not
    an account has that name: an unknown name locks like an existing one, so the log-in form does
    not tell which accounts exist. `name_hash` is the SHA-256 of the normalised name (the name
    itself is not stored); a row is forgotten after `expires_at` (epoch seconds)."""

    __tablename__ = "login_lock"

    name_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)


class ApiToken(Base):
    """A bearer token for the API: stored as SHA-256, shown in plain text once at creation."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(64))
