"""The queue on PostgreSQL: procrastinate (`SELECT … FOR UPDATE SKIP LOCKED`, LISTEN/NOTIFY,
worker heartbeats), in its own schema `procrastinate` (migration 0015).

The job row (`jobs.models.Job`) stays the one record users and the API see; procrastinate only
hands job ids to workers. One task, `regionvisa.run_job(job_id)`, runs `jobs.runner.run`. A worker
also runs the reaper: jobs whose worker stopped sending heartbeats (killed, machine lost) are
queued again while they have attempts left, and failed otherwise (`jobs.service.worker_lost`).
"""

from __future__ import annotations

import asyncio
import logging
import threading

import procrastinate
from procrastinate.jobs import Status
from sqlalchemy.engine import Engine

from regionvisa.jobs import runner, service
from regionvisa.jobs.worker import JobSettings, wake_local, worker_name

log = logging.getLogger(__name__)

SCHEMA = "procrastinate"
QUEUE = "regionvisa"
TASK = "regionvisa.run_job"


def pool_args(*, engine: Engine, max_size: int = 4) -> dict:
    """libpq connection arguments of `engine`'s database, with procrastinate's schema first on the path."""
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    return {
        "conninfo": url,
        "kwargs": {"options": f"-c search_path={SCHEMA}", "application_name": "regionvisa-jobs"},
        "min_size": 1,
        "max_size": max_size,
    }


_DEFER_APPS: dict[str, procrastinate.App] = {}
_DEFER_LOCK = threading.Lock()


def _defer_app(engine: Engine) -> procrastinate.App:
    key = engine.url.render_as_string(hide_password=True)
    with _DEFER_LOCK:
        app = _DEFER_APPS.get(key)
        if app is None:
            app = procrastinate.App(
                connector=procrastinate.SyncPsycopgConnector(**pool_args(engine=engine, max_size=2))
            )
            app.open()
            _DEFER_APPS[key] = app
        return app


def forget_connections() -> None:
    """Close this process's deferral connections. Their connections know the queue's composite
    types by the OIDs they had when the connection was made; a migration that drops and recreates
    the queue's schema (a downgrade below 0015 and back) gives them new OIDs, and a stale
    connection would then fail with "cache lookup failed for type"."""
    with _DEFER_LOCK:
        apps = list(_DEFER_APPS.values())
        _DEFER_APPS.clear()
    for app in apps:
        app.close()


def enqueue(*, engine: Engine, job_id: int) -> None:
    """Hand a committed job to the workers: procrastinate's queue on PostgreSQL, the local worker on SQLite."""
    if engine.dialect.name != "postgresql":
        wake_local(engine=engine)
        return
    queue_id = _defer_app(engine).configure_task(name=TASK, queue=QUEUE).defer(job_id=job_id)
    service.set_queue_id(engine=engine, job_id=job_id, queue_id=queue_id)


def cancel(*, engine: Engine, queue_id: int | None) -> None:
    """Take a cancelled job out of procrastinate's queue (a running one stops through its row's flag)."""
    if engine.dialect.name != "postgresql" or queue_id is None:
        return
    _defer_app(engine).job_manager.cancel_job_by_id(queue_id)


def worker_app(*, engine: Engine, name: str) -> procrastinate.App:
    """An app whose one task runs our jobs on `engine` under the worker name `name`."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(**pool_args(engine=engine)))

    @app.task(name=TASK, queue=QUEUE)
    def run_job(job_id: int) -> None:  # a sync task: procrastinate runs it in a thread
        runner.run(engine=engine, job_id=job_id, worker=name)

    return app


async def reap_stalled(app: procrastinate.App, *, engine: Engine, stalled: float) -> list[tuple[int, str]]:
    """Jobs of workers silent for `stalled` seconds: queue again (attempts left) or fail them."""
    out = []
    for job in await app.job_manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=stalled):
        ours = job.task_kwargs.get("job_id")
        if ours is None:
            continue
        state = await asyncio.to_thread(
            service.lost, engine=engine, job_id=int(ours), worker=f"procrastinate worker {job.worker_id}"
        )
        if state is None:  # another sweep reaped it first and has already retried or finished it
            continue
        if state == "queued":
            await app.job_manager.retry_job(job)
        else:
            end = {"succeeded": Status.SUCCEEDED, "cancelled": Status.ABORTED}.get(state, Status.FAILED)
            await app.job_manager.finish_job_by_id_async(job.id, status=end, delete_job=False)
        log.warning("job %s: its worker stopped; the job is now %s", ours, state)
        out.append((int(ours), state))
    return out


async def _reaper(app: procrastinate.App, *, engine: Engine, stalled: float, every: float) -> None:
    while True:
        try:
            await reap_stalled(app, engine=engine, stalled=stalled)
        except Exception as exc:  # one failed sweep is retried at the next
            log.error("reaping stalled jobs failed: %s", type(exc).__name__)
        await asyncio.sleep(every)


async def work(
    *,
    engine: Engine,
    name: str | None = None,
    concurrency: int = 1,
    wait: bool = True,
    settings: JobSettings | None = None,
    install_signal_handlers: bool = True,
) -> None:
    """One procrastinate worker with its reaper, until stopped (or, with wait=False, until the queue is empty)."""
    settings = settings or JobSettings()
    name = name or worker_name()
    app = worker_app(engine=engine, name=name)
    async with app.open_async():
        if not wait:  # before the periodic sweep starts, so that the two never reap the same job at once
            await reap_stalled(app, engine=engine, stalled=settings.stalled_seconds)
        reaper = asyncio.create_task(
            _reaper(app, engine=engine, stalled=settings.stalled_seconds, every=max(settings.heartbeat_seconds, 1.0))
        )
        try:
            await app.run_worker_async(
                queues=[QUEUE],
                name=name,
                concurrency=concurrency,
                wait=wait,
                install_signal_handlers=install_signal_handlers,
                update_heartbeat_interval=settings.heartbeat_seconds,
                stalled_worker_timeout=settings.stalled_seconds,
                fetch_job_polling_interval=settings.poll_seconds * 5,
                abort_job_polling_interval=settings.poll_seconds * 5,
                shutdown_graceful_timeout=60,
            )
        finally:
            reaper.cancel()


def drain(*, engine: Engine) -> None:
    """Run every queued job through the queue, then return (tests, one-off operator runs)."""
    asyncio.run(work(engine=engine, wait=False, install_signal_handlers=False))


class ThreadWorker:
    """A procrastinate worker on its own event loop in a thread of the server process."""

    def __init__(self, *, engine: Engine) -> None:
        self.engine = engine
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="regionvisa-jobs", daemon=True)

    def start(self) -> ThreadWorker:
        self._thread.start()
        self._ready.wait(10)
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._task = loop.create_task(work(engine=self.engine, install_signal_handlers=False))
        self._ready.set()
        try:
            loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        except Exception as exc:
            log.error("in-process job worker stopped: %s", type(exc).__name__)
        finally:
            loop.close()

    def stop(self, timeout: float = 30.0) -> None:
        if self._loop is not None and self._task is not None and not self._task.done():
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(timeout=timeout)
