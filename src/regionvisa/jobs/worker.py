"""Workers: who takes queued jobs and runs them.

- SQLite (the embedded demo): a thread inside the server process (`install`), or the
  `regionvisa worker` command in the foreground; the job table is the queue. A running job
  names its worker as host:pid:tag, and a worker starting up, then every few seconds, gives
  back (or fails) the jobs of workers on this machine whose process is gone.
- PostgreSQL: procrastinate's worker (`jobs.queue`), any number, on any machine.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import Engine

from regionvisa.db import session_scope
from regionvisa.jobs import runner, service

log = logging.getLogger(__name__)
HOST = socket.gethostname()


class JobSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REGIONVISA_JOBS_", env_file=".env", extra="ignore")

    in_process: str = Field(
        default="auto",
        description="run a job worker thread inside each server process: auto (SQLite only), on, off",
    )
    heartbeat_seconds: float = Field(default=5.0, gt=0, description="PostgreSQL workers' heartbeat interval")
    stalled_seconds: float = Field(default=30.0, gt=0, description="a worker silent this long is taken as dead")
    poll_seconds: float = Field(default=1.0, gt=0, description="how often an idle worker looks for jobs")


def worker_name(tag: str | None = None) -> str:
    return f"{HOST}:{os.getpid()}:{tag or uuid.uuid4().hex[:8]}"


_ALIVE: set[str] = set()  # names of the local workers running in this process


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():  # a killed child its parent has not reaped yet is a zombie: dead all the same
        try:
            return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except (OSError, IndexError):
            return True
    return True


def _gone(worker: str | None) -> bool:
    """Whether the named local worker is certainly dead (only workers of this machine can be told)."""
    if not worker:
        return True
    host, _, rest = worker.partition(":")
    pid_text, _, _tag = rest.partition(":")
    if host != HOST or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return worker not in _ALIVE
    return not _process_alive(pid)


def reap_local(*, engine: Engine) -> list[tuple[int, str]]:
    """Give back or fail the running jobs whose local worker process is gone; returns (job, new state)."""
    with session_scope(engine=engine) as session:
        running = service.running_jobs(session=session)
    out = []
    for job_id, worker in running:
        if _gone(worker):
            state = service.lost(engine=engine, job_id=job_id, worker=worker)
            if state is None:  # another worker reaped it first
                continue
            log.warning("job %s: worker %s is gone; job is now %s", job_id, worker, state)
            out.append((job_id, state))
    return out


def drain_local(*, engine: Engine, worker: str | None = None) -> int:
    """Give back the jobs of dead workers, then run queued jobs in this thread until none is left
    (SQLite); returns how many ran."""
    name = worker or worker_name("drain")
    _ALIVE.add(name)
    ran = 0
    try:
        reap_local(engine=engine)
        while True:
            with session_scope(engine=engine) as session:
                job_id = service.next_queued(session=session)
            if job_id is None:
                return ran
            if runner.run(engine=engine, job_id=job_id, worker=name) is not None:
                ran += 1
    finally:
        _ALIVE.discard(name)


class LocalWorker:
    """A worker thread over the job table (SQLite): one job at a time, oldest first."""

    def __init__(self, *, engine: Engine, poll: float | None = None) -> None:
        self.engine = engine
        self.poll = poll or JobSettings().poll_seconds
        self.name = worker_name()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="regionvisa-jobs", daemon=True)

    def start(self) -> LocalWorker:
        _ALIVE.add(self.name)
        _LOCAL[_key(self.engine)] = self
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=timeout)
        _ALIVE.discard(self.name)
        if _LOCAL.get(_key(self.engine)) is self:
            del _LOCAL[_key(self.engine)]

    def wake(self) -> None:
        self._wake.set()

    def run_forever(self) -> None:
        """The `regionvisa worker` command on SQLite: this thread is the worker."""
        _ALIVE.add(self.name)
        _LOCAL[_key(self.engine)] = self
        try:
            self._loop()
        finally:
            _ALIVE.discard(self.name)

    def _loop(self) -> None:
        reaped_at = 0.0

        while not self._stop.is_set():
            try:
                if time.monotonic() - reaped_at > max(self.poll * 5, 2.0):
                    reap_local(engine=self.engine)
                    reaped_at = time.monotonic()
                with session_scope(engine=self.engine) as session:
                    job_id = service.next_queued(session=session)
                if job_id is not None:
                    runner.run(engine=self.engine, job_id=job_id, worker=self.name)
                    continue
            except Exception as exc:  # the loop outlives one bad turn (a locked database, a lost connection)
                log.error("job worker turn failed: %s", type(exc).__name__)
            self._wake.wait(self.poll)
            self._wake.clear()


_LOCAL: dict[str, LocalWorker] = {}


def _key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def wake_local(*, engine: Engine) -> None:
    worker = _LOCAL.get(_key(engine))
    if worker is not None:
        worker.wake()


def wants_in_process(*, engine: Engine, settings: JobSettings | None = None) -> bool:
    mode = (settings or JobSettings()).in_process.strip().lower()
    if mode in ("on", "1", "true", "yes"):
        return True
    if mode in ("off", "0", "false", "no"):
        return False
    return engine.dialect.name == "sqlite"


def install(app) -> None:
    """Run a worker thread inside the server process while it serves (the embedded demo).

    On PostgreSQL the thread takes jobs from procrastinate's queue like any `regionvisa worker`.
    """
    previous = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_):
        engine = app_.state.engine
        started = None
        if wants_in_process(engine=engine):
            started = start_in_process(engine=engine)
        try:
            async with previous(app_) as state:
                yield state
        finally:
            if started is not None:
                started.stop()

    app.router.lifespan_context = lifespan


def start_in_process(*, engine: Engine):
    if engine.dialect.name == "sqlite":
        return LocalWorker(engine=engine).start()
    from regionvisa.jobs import queue

    return queue.ThreadWorker(engine=engine).start()
