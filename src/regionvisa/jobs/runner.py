"""Running one job: claim it, do its kind's work in its starter's name, record how it ended.

Used by both workers (`jobs.worker`: the in-process thread on SQLite, procrastinate's worker on
PostgreSQL). Progress goes to the job's row at most every `WRITE_EVERY` seconds, with a
heartbeat; the same write reads the cancel flag, so a cancelled job stops at its next report.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from regionvisa.accounts.policy import can
from regionvisa.core.actor import Actor
from regionvisa.core.errors import DomainError
from regionvisa.db import session_scope, utcnow
from regionvisa.jobs import kinds, service
from regionvisa.jobs.models import Job, JobFile

log = logging.getLogger(__name__)

WRITE_EVERY = 0.5  # seconds between progress writes of one job
# job id -> (progress, message ko, message en) of the jobs this process is running now
LIVE: dict[int, tuple[float, str, str]] = {}


class JobCancelled(Exception):
    """Raised inside a job's work when its cancellation was asked for."""


@dataclass
class Work:
    """What a kind's function gets: the job's parameters, its actor, and the progress reporter."""

    engine: Engine
    job_id: int
    actor: Actor
    params: dict
    worker: str
    _written: float = field(default=0.0)
    _last: tuple[float, str, str] = field(default=(0.0, "", ""))

    def progress(self, fraction: float, *, ko: str = "", en: str = "") -> None:
        """Report progress (0–1) and a short message; stops the work when a cancellation was asked."""
        fraction = min(max(float(fraction), 0.0), 0.999)
        self._last = (fraction, ko or self._last[1], en or self._last[2])
        LIVE[self.job_id] = self._last
        now = time.monotonic()
        if now - self._written < WRITE_EVERY:
            return
        self._written = now
        if self._write_progress():
            raise JobCancelled

    def _write_progress(self) -> bool:
        """Write the progress and heartbeat; True when the job was cancelled meanwhile."""
        fraction, ko, en = self._last
        try:
            with self.engine.begin() as conn:
                if conn.dialect.name == "sqlite":
                    # The work itself may hold SQLite's write lock for minutes: never wait for it
                    # here (the page reads this process's LIVE progress meanwhile).
                    conn.exec_driver_sql("PRAGMA busy_timeout=50")
                try:
                    conn.execute(
                        update(Job)
                        .where(Job.id == self.job_id)
                        .values(progress=fraction, message_ko=ko[:500], message_en=en[:500], heartbeat_at=utcnow())
                    )
                finally:
                    if conn.dialect.name == "sqlite":
                        conn.exec_driver_sql("PRAGMA busy_timeout=30000")
        except OperationalError:
            pass  # locked: the next report writes
        with self.engine.connect() as conn:
            return bool(conn.scalar(select(Job.cancel_requested).where(Job.id == self.job_id)))

    def input_file(self) -> tuple[str, bytes]:
        with session_scope(engine=self.engine) as session:
            row = session.scalar(select(JobFile).where(JobFile.job_id == self.job_id, JobFile.role == "input"))
            if row is None:
                raise RuntimeError(f"job {self.job_id} has no input file")
            return row.name, row.data

    def save_output(self, *, name: str, media_type: str, data: bytes) -> None:
        with session_scope(engine=self.engine) as session:
            session.add(
                JobFile(
                    job_id=self.job_id, role="output", name=name, media_type=media_type, data=data, created_at=utcnow()
                )
            )


def claim(*, engine: Engine, job_id: int, worker: str) -> bool:
    """Take a queued job for `worker`; False when it is no longer queued (cancelled, or taken)."""
    with engine.begin() as conn:
        taken = conn.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == "queued", Job.cancel_requested.is_(False))
            .values(
                state="running",
                started_at=utcnow(),
                heartbeat_at=utcnow(),
                worker=worker[:200],
                attempts=Job.attempts + 1,
                message_ko="실행 중",
                message_en="running",
            )
        )
        return taken.rowcount == 1


def run(*, engine: Engine, job_id: int, worker: str) -> str | None:
    """Claim and run one job to its end; returns the state it ended in (None: not claimed)."""
    if not claim(engine=engine, job_id=job_id, worker=worker):
        return None
    with session_scope(engine=engine) as session:
        job = session.get(Job, job_id)
        assert job is not None
        actor, params, kind = service.actor_of(job), dict(job.params), kinds.kind_of(job.kind)
    work = Work(engine=engine, job_id=job_id, actor=actor, params=params, worker=worker)
    log.info("job %s (%s) started by %s", job_id, kind.name, worker)
    try:
        result = kind.run(work)
        state, message = "succeeded", ("완료", "done")
    except JobCancelled:
        state, result, message = "cancelled", None, ("취소됨", "cancelled")
    except DomainError as exc:
        state, result = "failed", {"error": exc.body()["error"]}
        message = (exc.ko[:500], exc.en[:500])
    except Exception as exc:  # the reason is logged by type only: values may hold personal data
        log.error("job %s (%s) failed: %s", job_id, kind.name, type(exc).__name__)
        state, result = (
            "failed",
            {"error": {"code": "job_error", "message": {"ko": "작업 중 오류", "en": "internal error"}}},
        )
        message = ("작업 중 오류가 발생했습니다", f"the work stopped on an internal error ({type(exc).__name__})")
    finally:
        LIVE.pop(job_id, None)
    with session_scope(engine=engine) as session:
        service.finish(session=session, job=job_id, actor=_recorder(actor), state=state, result=result, message=message)
    log.info("job %s (%s) %s", job_id, kind.name, state)
    return state


def _recorder(actor: Actor) -> Actor:
    """Who records the end: the starter, or the job system when the starter may no longer act."""

    return actor if can(actor, "jobs.read") else service.REAPER
