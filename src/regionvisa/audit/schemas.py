"""API shapes for the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel


class AuditEntryOut(BaseModel):
    id: int
    seq: int
    at: dt.datetime
    actor: str
    action: str
    subject_type: str
    subject_id: str
    region: str | None
    reason: str
    inputs_digest: str
    inputs: dict[str, Any]
    prev_hash: str
    hash: str
    key_id: str | None = None


class AuditPage(BaseModel):
    page: int
    page_size: int
    total: int
    pages: int
    items: list[AuditEntryOut]


class VerifyProblem(BaseModel):
    kind: str
    entry_id: int | None
    seq: int | None
    message: str


class VerifyOut(BaseModel):
    ok: bool
    entries: int
    head_hash: str
    problem: VerifyProblem | None
    legacy_entries: int = 0
    checked_at: dt.datetime | None = None  # when the check (a job) walked the chain
    job_id: int | None = None  # that job (GET /api/v1/jobs/{id})
    entries_since: int = 0  # entries written after the check reached the head
