"""`regionvisa worker` (take jobs and run them) and `regionvisa jobs …` (follow them).

The command line's own long work (`regionvisa compliance run`, `evaluate`, `records import`,
`synth`) still runs in the foreground with a progress bar; this is the worker the web and the
API hand their jobs to.
"""

from __future__ import annotations

import time

import typer
from rich.console import Console
from rich.table import Table

from regionvisa.clitable import WIDE, print_table

app = typer.Typer(help="Long work started from the web and the API: list, follow, cancel, check the workers.")
console = Console(stderr=True)


def worker_command(
    concurrency: int = typer.Option(1, "--concurrency", min=1, max=32, help="jobs run at once (PostgreSQL)"),
    once: bool = typer.Option(False, "--once", help="run what is queued now, then stop"),
) -> None:
    """Take queued jobs and run them until stopped (Ctrl+C or SIGTERM finish the running job first).

    PostgreSQL: start as many as the machines allow, on any machine that reaches the database.
    SQLite: `regionvisa serve` already runs one inside the server; this one is for work without a server.
    """
    import asyncio
    import logging

    from regionvisa.db import get_engine
    from regionvisa.jobs import worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    engine = get_engine()
    name = worker.worker_name()
    console.print(f"job worker {name} on {engine.dialect.name} / 작업자 시작", highlight=False)
    if engine.dialect.name == "postgresql":
        from regionvisa.jobs import queue

        asyncio.run(queue.work(engine=engine, name=name, concurrency=concurrency, wait=not once))
        return
    if once:
        worker.reap_local(engine=engine)
        worker.drain_local(engine=engine, worker=name)
        return
    local = worker.LocalWorker(engine=engine)
    local.name = name
    try:
        local.run_forever()
    except KeyboardInterrupt:
        console.print("stopped / 중지됨")


@app.command("list")
def list_command(
    state: str = typer.Option("", "--state", help="queued, running, succeeded, failed or cancelled"),
    limit: int = typer.Option(20, "--limit", min=1, max=500),
    wide: bool = WIDE,
) -> None:
    """The latest jobs (every job: the console holds every grant)."""
    from regionvisa.accounts.policy import system_actor
    from regionvisa.db import get_engine, session_scope
    from regionvisa.jobs import service

    with session_scope(engine=get_engine()) as session:
        _total, rows = service.list_jobs(session=session, actor=system_actor("cli"), state=state or None, limit=limit)
        table = Table("id", "kind", "state", "progress", "actor", "created", "finished")
        for job in rows:
            d = service.job_dict(job)
            table.add_row(
                str(d["id"]),
                d["kind"],
                d["state"],
                f"{d['progress']:.0%}",
                d["actor"],
                d["created_at"],
                d["finished_at"] or "",
            )
    print_table(table, wide=wide)


@app.command("cancel")
def cancel_command(job_id: int = typer.Argument(...)) -> None:
    """Cancel a queued job, or ask a running one to stop."""
    from regionvisa.accounts.policy import system_actor
    from regionvisa.db import get_engine, session_scope
    from regionvisa.jobs import queue, service

    engine = get_engine()
    with session_scope(engine=engine) as session:
        job = service.cancel(session=session, job=job_id, actor=system_actor("cli"))
        state, queue_id = job.state, job.queue_id
    if state == "cancelled":
        queue.cancel(engine=engine, queue_id=queue_id)
    console.print(f"job {job_id}: {state}")


@app.command("probe")
def probe_command(
    seconds: float = typer.Option(1.0, "--seconds", min=0.0, max=3600.0),
    wait: bool = typer.Option(True, "--wait/--no-wait", help="follow the job until it ends"),
) -> None:
    """Check that workers take jobs: queue one that waits SECONDS, and follow it."""
    from regionvisa.accounts.policy import system_actor
    from regionvisa.db import get_engine, session_scope
    from regionvisa.jobs import queue, service

    engine = get_engine()
    with session_scope(engine=engine) as session:
        job = service.start(session=session, actor=system_actor("cli"), kind="probe", params={"seconds": seconds})
        job_id = job.id
    queue.enqueue(engine=engine, job_id=job_id)
    console.print(f"job {job_id} queued")
    while wait:
        with session_scope(engine=engine) as session:
            d = service.job_dict(service.read_job(session=session, job_id=job_id, actor=system_actor("cli")))
        if d["state"] not in ("queued", "running"):
            console.print(f"job {job_id}: {d['state']} ({d['message']['en']})")
            if d["state"] != "succeeded":
                raise typer.Exit(1)
            return
        time.sleep(0.5)
