"""Concurrent requests do not run out of pooled connections: the failure under load was
"QueuePool limit of size 5 overflow 10 reached" while 20 users each held a session and a reader."""

from __future__ import annotations

import threading

from sqlalchemy import text


def test_fifteen_concurrent_readers_holding_two_connections_each_get_them(engine):
    holders, barrier, errors = 15, threading.Barrier(15, timeout=60), []

    def request() -> None:
        try:
            with engine.connect() as session_conn, engine.connect() as reader:
                session_conn.execute(text("SELECT 1"))
                barrier.wait()  # every thread holds both connections at the same moment
                reader.execute(text("SELECT 1"))
        except Exception as exc:  # the test reports what failed
            errors.append(repr(exc))

    threads = [threading.Thread(target=request) for _ in range(holders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert errors == []
    assert engine.pool.size() >= 10
