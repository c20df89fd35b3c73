"""Following a job the way a client does: 202, Location, then GET until it ends.

`follow` also runs the queue once (`run_queue`) so that a test needs no long-running worker: on
SQLite the jobs are run in this thread from the job table, on PostgreSQL through procrastinate's
queue by a worker that stops when the queue is empty.
"""

from __future__ import annotations

import time

from sqlalchemy import text

FINAL = ("succeeded", "failed", "cancelled")


def run_queue(engine) -> None:
    if engine.dialect.name == "postgresql":
        from regionvisa.jobs import queue

        queue.drain(engine=engine)
    else:
        from regionvisa.jobs import worker

        worker.drain_local(engine=engine)


def follow(client, response, engine, *, headers=None, timeout: float = 120.0) -> dict:
    """The finished job a start answer points to (asserting the 202 and its Location)."""
    assert response.status_code == 202, response.text[:1000]
    location = response.headers["location"]
    assert location == f"/api/v1/jobs/{response.json()['id']}"
    deadline = time.monotonic() + timeout
    while True:
        run_queue(engine)
        job = client.get(location, headers=headers or {}).json()
        if job["state"] in FINAL:
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def follow_page(client, response, engine, *, timeout: float = 120.0):
    """A form's 303 to the job page, followed ("Check again") until the job ends; returns the last page."""
    assert response.status_code == 303, response.text[:1000]
    location = response.headers["location"]
    assert location.startswith("/jobs/")
    deadline = time.monotonic() + timeout
    while True:
        run_queue(engine)
        page = client.get(location)
        assert page.status_code == 200
        assert 'http-equiv="refresh"' not in page.text  # the page never reloads itself
        if 'id="job-check-again"' not in page.text:
            return page
        assert time.monotonic() < deadline
        time.sleep(0.1)


def clear_queue(engine) -> None:
    """procrastinate's tables are not the models' (the suite's truncation leaves them): empty them."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(
                text(
                    "TRUNCATE procrastinate.procrastinate_jobs, procrastinate.procrastinate_workers, "
                    "procrastinate.procrastinate_events RESTART IDENTITY CASCADE"
                )
            )
