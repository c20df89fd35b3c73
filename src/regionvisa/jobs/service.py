"""Jobs / 작업: start, follow, cancel and finish long work (DESIGN.md §4.10).

Starting a job is a declared use case authorised with the action of the work itself (a
compliance run needs `cases.act`), in the region the result belongs to, so a request that could
not do the work cannot queue it either; the worker then does the work in the starter's name
through the same domain functions the command line calls, which authorise it again. A job is
seen only by those who may see its result (`jobs.subjects`). Its rows live in the database, so
any worker on any machine can take it (`jobs.queue`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from regionvisa.accounts.policy import authorize, can, system_actor
from regionvisa.core.actor import Actor
from regionvisa.core.errors import Conflict, NotFound
from regionvisa.core.usecase import Done, use_case
from regionvisa.db import session_scope, utcnow
from regionvisa.jobs import kinds, runner
from regionvisa.jobs.models import ACTIVE_STATES, FINAL_STATES, STATES, Job, JobFile
from regionvisa.jobs.subjects import JOB, may_see, visible

REAPER = system_actor("jobs")
QUEUED = ("작업 대기 중", "waiting for a worker")


def _start_action(actor: Actor, subject: Any, kwargs: dict) -> str:
    return kinds.kind_of(kwargs["kind"]).start_action


@use_case(action=_start_action, audit="jobs.start")
def start(
    *,
    session: Session,
    actor: Actor,
    kind: str,
    params: dict,
    region: str | None = None,
    upload: tuple[str, str, bytes] | None = None,
) -> Done:
    """Queue one job of `kind` (the caller hands it to the queue after the commit: `jobs.queue.enqueue`).

    `region` is the region the result belongs to (None: national); `upload` is (name, media type,
    bytes) of a file the job reads.
    """
    spec = kinds.kind_of(kind)
    now = utcnow()
    job = Job(
        kind=kind,
        state="queued",
        params=params,
        progress=0.0,
        message_ko=QUEUED[0],
        message_en=QUEUED[1],
        actor=actor.username,
        actor_id=actor.id,
        actor_role=actor.role,
        actor_region=actor.region,
        actor_via=actor.via,
        view_action=spec.view_action,
        region=region,
        created_at=now,
        attempts=0,
        max_attempts=spec.max_attempts,
        cancel_requested=False,
    )
    session.add(job)
    session.flush()
    if upload is not None:
        name, media, data = upload
        session.add(JobFile(job_id=job.id, role="input", name=name, media_type=media, data=data, created_at=now))
    return Done(
        value=job,
        subject=("job", job.id),
        reason=f"{spec.en} queued",
        inputs={"kind": kind, **{k: v for k, v in params.items() if k != "source_name"}},
        region=region,
    )


def actor_of(job: Job) -> Actor:
    """The actor the job acts as: whoever started it, with the role and region they had then."""
    if job.actor_via == "system":
        name, _, detail = job.actor.removeprefix("system:").partition(":")
        return system_actor(name, detail=detail or None)
    return Actor(
        id=job.actor_id,
        username=job.actor,
        display_name=job.actor,
        role=job.actor_role,
        region=job.actor_region,
        via=job.actor_via,
    )


def read_job(*, session: Session, job_id: int, actor: Actor) -> Job:
    """One job, for those who may see its result; anyone else gets 404 (its existence is not theirs)."""
    authorize(actor, "jobs.read")
    job = session.get(Job, job_id)
    if job is None or not may_see(actor, job):
        raise NotFound(what=f"job {job_id}")
    return job


def list_jobs(
    *,
    session: Session,
    actor: Actor,
    state: str | None = None,
    kind: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[int, list[Job]]:
    """The jobs `actor` may see, newest first, and how many there are."""
    authorize(actor, "jobs.read")
    where = [visible(actor, kinds.view_actions())]
    if state in STATES:
        where.append(Job.state == state)
    if kind in kinds.KINDS:
        where.append(Job.kind == kind)
    total = session.scalar(select(func.count()).select_from(Job).where(*where)) or 0
    rows = session.scalars(select(Job).where(*where).order_by(Job.id.desc()).offset(offset).limit(limit))
    return total, list(rows)


def latest(*, session: Session, kind: str, states: tuple[str, ...]) -> Job | None:
    """The newest job of `kind` in one of `states` (a kind whose last result a page shows, such as
    the audit chain check); the caller has authorised the reader for that kind's result."""
    return session.scalar(select(Job).where(Job.kind == kind, Job.state.in_(states)).order_by(Job.id.desc()).limit(1))


def output_file(*, session: Session, job_id: int, actor: Actor) -> JobFile:
    job = read_job(session=session, job_id=job_id, actor=actor)
    row = session.scalar(select(JobFile).where(JobFile.job_id == job.id, JobFile.role == "output"))
    if row is None:
        raise NotFound(what=f"file of job {job_id}")
    return row


def _stamp(value: dt.datetime | None) -> str | None:
    """RFC 3339 with its offset (SQLite hands stored UTC times back without one)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat()


def job_dict(job: Job) -> dict:
    """The §4.10 fields of a job, as the API returns them."""
    live = _live_progress(job)
    return {
        "id": job.id,
        "kind": job.kind,
        "state": job.state,
        "progress": round(live[0] if live else job.progress, 4),
        "message": {"ko": live[1] if live else job.message_ko, "en": live[2] if live else job.message_en},
        "result": job.result,
        "actor": job.actor,
        "created_at": _stamp(job.created_at),
        "started_at": _stamp(job.started_at),
        "finished_at": _stamp(job.finished_at),
    }


def _live_progress(job: Job) -> tuple[float, str, str] | None:
    """Progress a worker of this process holds but may not have written yet (SQLite, long write locks)."""
    if job.state != "running":
        return None

    return runner.LIVE.get(job.id)


def can_cancel(actor: Actor, job: Job) -> bool:
    """Whether the actor may cancel this (active) job: `jobs.cancel` in the job's region; who may
    see it is `may_see`'s question."""
    return job.state in ACTIVE_STATES and can(actor, "jobs.cancel", job.region)


@use_case(action="jobs.cancel", subject=JOB, lock=True, audit="jobs.cancel")
def cancel(*, session: Session, job: Job, actor: Actor, reason: str = "") -> Done:
    """Cancel a queued job at once; ask a running one to stop at its next progress report.

    A cancelled job leaves no partial result: each kind's work commits in one transaction at its
    end, and a stop before that rolls it back.
    """
    if not may_see(actor, job):
        raise NotFound(what=f"job {job.id}")
    if job.state in FINAL_STATES:
        raise Conflict(
            code="job_finished",
            ko="이미 끝난 작업은 취소할 수 없습니다",
            en=f"the job has already ended ({job.state}); there is nothing to cancel",
        )
    job.cancel_requested = True
    if job.state == "queued":
        job.state, job.finished_at = "cancelled", utcnow()
        job.message_ko, job.message_en = "취소됨", "cancelled"
    return Done(
        value=job,
        reason=reason or f"{kinds.kind_of(job.kind).en} cancelled",
        inputs={"kind": job.kind, "state": job.state},
    )


@use_case(action="jobs.read", subject=JOB, lock=True, audit="jobs.finish")
def finish(
    *,
    session: Session,
    job: Job,
    actor: Actor,
    state: str,
    result: dict | None,
    message: tuple[str, str],
) -> Done:
    """Record how a job ended (succeeded, failed, cancelled) with its result or its reason.

    The entry's action names the outcome: `jobs.succeeded`, `jobs.failed`, `jobs.cancelled`.
    """
    assert state in FINAL_STATES, state
    job.state, job.finished_at, job.result = state, utcnow(), result
    job.message_ko, job.message_en = message
    if state == "succeeded":
        job.progress = 1.0
    return Done(
        value=job,
        action=f"jobs.{state}",
        reason=f"{kinds.kind_of(job.kind).en} {state}: {message[1]}"[:500],
        inputs={"kind": job.kind, "attempts": job.attempts, "worker": job.worker},
    )


@use_case(action="jobs.read", subject=JOB, lock=True, audit="jobs.retry")
def worker_lost(*, session: Session, job: Job, actor: Actor, worker: str | None) -> Done:
    """A job whose worker died: queued again while it has attempts left, otherwise failed. The
    value is the new state, or None when the job was no longer running: another reaper (two sweeps
    of one worker, or two workers) got there first and has already handed it on."""
    if job.state != "running":
        return Done(value=None, reason="job no longer running", changed=False)
    if job.cancel_requested:
        job.state, job.finished_at = "cancelled", utcnow()
        job.message_ko, job.message_en = "취소됨 (작업자 중단)", "cancelled (its worker stopped)"
        action = "jobs.cancelled"
    elif job.attempts < job.max_attempts:
        job.state, job.worker, job.heartbeat_at = "queued", None, None
        job.message_ko = "작업자가 멈추어 다시 실행합니다"
        job.message_en = "its worker stopped; the job runs again"
        action = "jobs.retry"
    else:
        job.state, job.finished_at = "failed", utcnow()
        job.message_ko = "작업자가 멈추었고 재시도 횟수를 모두 썼습니다"
        job.message_en = "its worker stopped and the job has used all its attempts"
        action = "jobs.failed"
    return Done(
        value=job.state,
        action=action,
        reason=f"{kinds.kind_of(job.kind).en}: {job.message_en}",
        inputs={"kind": job.kind, "attempts": job.attempts, "worker": worker},
    )


def lost(*, engine: Engine, job_id: int, worker: str | None) -> str | None:
    """`worker_lost` in its own transaction, as the job system's own actor; returns the new state
    (None: someone else had already reaped it)."""
    with session_scope(engine=engine) as session:
        return worker_lost(session=session, job=job_id, actor=REAPER, worker=worker)


def next_queued(*, session: Session) -> int | None:
    """The oldest queued job (the local worker's queue on SQLite)."""
    return session.scalar(
        select(Job.id).where(Job.state == "queued", Job.cancel_requested.is_(False)).order_by(Job.id).limit(1)
    )


def running_jobs(*, session: Session) -> list[tuple[int, str | None]]:
    return [(r[0], r[1]) for r in session.execute(select(Job.id, Job.worker).where(Job.state == "running"))]


def set_queue_id(*, engine: Engine, job_id: int, queue_id: int | None) -> None:
    with engine.begin() as conn:
        conn.execute(update(Job).where(Job.id == job_id).values(queue_id=queue_id))
