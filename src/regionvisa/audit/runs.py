"""The audit chain check as long work: a full walk of the chain runs as a job (`audit_verify`,
DESIGN.md §4.10), and the page and the API show the result of the newest finished check (stored
with its job) with how many entries were written after it, instead of walking millions of
entries inside a request."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from regionvisa.audit import service
from regionvisa.jobs import service as jobs
from regionvisa.jobs.models import ACTIVE_STATES

KIND = "audit_verify"


@dataclass(frozen=True)
class LastCheck:
    job_id: int
    result: dict  # VerifyResult.as_dict() of that walk
    checked_at: dt.datetime
    checked_by: str
    since: int  # entries the log gained after the walk reached its head


def last_check(*, session: Session, engine: Engine) -> LastCheck | None:
    """The newest finished chain check, or None when none has run on this database."""
    job = jobs.latest(session=session, kind=KIND, states=("succeeded",))
    if job is None or not (job.result or {}).get("summary"):
        return None
    summary = dict(job.result["summary"])
    at = dt.datetime.fromisoformat(summary.pop("checked_at"))
    head_seq = int(summary.pop("head_seq", 0))
    result = {k: summary.get(k) for k in ("ok", "entries", "head_hash", "problem", "legacy_entries")}
    since = max(service.head_entries(engine=engine) - head_seq, 0) if result["ok"] else 0
    return LastCheck(job_id=job.id, result=result, checked_at=at, checked_by=job.actor, since=since)


def active_check(*, session: Session) -> int | None:
    """The id of a chain check that is queued or running, if any (a second one is not queued beside it)."""
    job = jobs.latest(session=session, kind=KIND, states=tuple(ACTIVE_STATES))
    return job.id if job is not None else None
