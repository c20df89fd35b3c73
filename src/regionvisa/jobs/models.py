"""Jobs / 작업: one row per piece of long work, and the files it takes in or hands back.

The row is what users and the API see (state, progress, message, result); the queue that hands
jobs to workers is procrastinate's on PostgreSQL (`jobs.queue`) and this table itself on SQLite.
Files live in the database too, so a worker on another machine can read an upload and hand a
report back without a shared disk.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from regionvisa.db import Base

STATES = ("queued", "running", "succeeded", "failed", "cancelled")
ACTIVE_STATES = ("queued", "running")
FINAL_STATES = ("succeeded", "failed", "cancelled")


class Job(Base):
    """One piece of long work: who asked for it, what it is, how far it got and what came of it."""

    __tablename__ = "job"
    __table_args__ = (
        CheckConstraint("state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')", name="state"),
        Index("ix_job_state_created", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    state: Mapped[str] = mapped_column(String(12), default="queued")
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message_ko: Mapped[str] = mapped_column(String(500), default="")
    message_en: Mapped[str] = mapped_column(String(500), default="")
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # who started it, enough to act in their name in the worker (never a password or token)
    actor: Mapped[str] = mapped_column(String(120))
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor_role: Mapped[str | None] = mapped_column(String(40), nullable=True)
    actor_region: Mapped[str | None] = mapped_column(String(2), nullable=True)
    actor_via: Mapped[str] = mapped_column(String(20), default="session")
    # who may see it: those holding `view_action` for `region` (None: a national result)
    view_action: Mapped[str] = mapped_column(String(60))
    region: Mapped[str | None] = mapped_column(String(2), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=2)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    queue_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # procrastinate's job id


class JobFile(Base):
    """A file a job reads (an uploaded feed) or writes (a rendered report)."""

    __tablename__ = "job_file"
    __table_args__ = (CheckConstraint("role IN ('input', 'output')", name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(120))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
