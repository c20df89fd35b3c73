"""The audit log: an append-only table of entries chained by a keyed MAC, and the chain head.

Each entry's `hash` is an HMAC-SHA256, under the audit key named by `key_id`, of its content and
the previous entry's `hash`, so editing, deleting, reordering or forging entries breaks the chain
unless one holds the key, which lives outside the database. Entries written before the MAC
(migration 0011) have no `key_id` and a plain SHA-256 `hash`; the first MAC entry after them
anchors them. The single `audit_head` row holds the count and MAC of the newest entry, with a MAC
of its own, and is the lock that serialises appends. Database triggers refuse UPDATE and DELETE
(migration 0002) and, on SQLite, INSERT OR REPLACE (migration 0011).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from regionvisa.db import Base


class AuditEntry(Base):
    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(96))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[str] = mapped_column(String(128))
    region: Mapped[str | None] = mapped_column(String(2))
    reason: Mapped[str] = mapped_column(Text)
    inputs_digest: Mapped[str] = mapped_column(String(64))
    inputs: Mapped[dict] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_id: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        Index("ix_audit_entry_at", "at"),
        Index("ix_audit_entry_actor", "actor", "at"),
        Index("ix_audit_entry_action", "action", "at"),
        Index("ix_audit_entry_subject", "subject_type", "subject_id"),
    )


class AuditHead(Base):
    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entries: Mapped[int] = mapped_column(Integer)
    last_entry_id: Mapped[int | None] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(32))
    mac: Mapped[str | None] = mapped_column(String(64))
