"""A lost database connection gives a clean 503 in the error shape, and the next request recovers."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError


def test_lost_connection_gives_503_then_recovers(app, client, engine):
    broken = {"on": True}

    def drop_connection(conn, cursor, statement, parameters, context, executemany):
        if broken["on"] and "SELECT 1" in statement:
            broken["on"] = False
            raise OperationalError(statement, parameters, Exception("server closed the connection unexpectedly"))

    event.listen(engine, "before_cursor_execute", drop_connection)
    try:
        first = client.get("/api/v1/health")
        assert first.status_code == 503
        body = first.json()
        assert body["error"]["code"] == "database_unavailable"
        assert set(body["error"]["message"]) == {"ko", "en"}
        assert "Traceback" not in first.text and "server closed" not in first.text
        assert first.headers["Retry-After"] == "5"
        second = client.get("/api/v1/health")
        assert second.status_code == 200 and second.json()["status"] == "ok"
    finally:
        event.remove(engine, "before_cursor_execute", drop_connection)


@pytest.mark.postgres
def test_server_side_disconnect_on_postgres_recovers(app, client, engine):
    """The server itself kills the session's backend; the request gets 503 or succeeds after pre-ping."""
    from sqlalchemy import text

    assert client.get("/api/v1/health").status_code == 200
    with engine.connect() as admin:
        admin.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    outcomes = [client.get("/api/v1/health").status_code for _ in range(2)]
    assert outcomes[-1] == 200
    assert all(code in (200, 503) for code in outcomes)
