"""Faults answer properly (issue 14, requirement 7).

With PostgreSQL unreachable, a signed-in user's requests failed in the session lookup, which runs
before any route and so outside the 503 handler: a bare text 500. A full disk gave a bare 500
too. Both now answer 503 in the error shape (JSON for the API, the error page for pages) and the
next request after the fault clears succeeds, with no restart.

- PostgreSQL: the application reaches the server through a TCP relay on loopback that the test
  stops (connections cut, port refusing) and starts again; a real server, a real outage.
- SQLite: `PRAGMA max_page_count` caps the file at its current size on every connection, so
  writes that need a new page fail with SQLITE_FULL, exactly as on a full file system.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func
from sqlalchemy import select as sa_select
from sqlalchemy.engine import make_url
from tests.actors import SYSTEM
from tests.samples import PROFILE

from regionvisa.applications.models import Application
from regionvisa.db import make_engine, session_scope

PASSWORD = "correct-horse-battery"


def _user(engine, username: str, role: str, region: str | None) -> None:
    from regionvisa.accounts import service

    with session_scope(engine=engine) as session:
        service.create_user(
            session=session,
            actor=SYSTEM,
            username=username,
            display_name=username,
            role=role,
            region=region,
            password=PASSWORD,
        )


def _signed_in(app, username: str, test_data) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)
    client.__enter__()
    form = client.get("/login")
    answer = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": test_data.csrf_from(form.text), "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:300]
    client.headers["X-CSRF-Token"] = test_data.csrf_from(client.get("/account").text)
    return client


def assert_api_503(response, code: str) -> None:
    assert response.status_code == 503, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert set(error["message"]) == {"ko", "en"} and all(error["message"].values())
    assert int(response.headers["Retry-After"]) > 0
    assert "Traceback" not in response.text and "SQL" not in response.text


def assert_page_503(response, words: str) -> None:
    assert response.status_code == 503, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text and "503" in response.text and words in response.text
    assert int(response.headers["Retry-After"]) > 0
    assert "Traceback" not in response.text and "Internal Server Error" not in response.text


# --------------------------------------------------------------------------- PostgreSQL down


class Relay:
    """A TCP relay on loopback to the database server that can be cut and restored."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.listener: socket.socket | None = None
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        """The server is gone: the port refuses, and every open connection is cut."""
        listener, self.listener = self.listener, None
        if listener is not None:
            with contextlib.suppress(OSError):  # wakes the accepting thread (close alone would not)
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for a, b in pairs:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            with self.lock:
                self.pairs.append((client, server))
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        try:
            while True:
                ready, _, _ = select.select([a, b], [], [], 1.0)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    peers[s].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.close()


@pytest.mark.postgres
def test_signed_in_users_get_503_while_postgres_is_down_then_recover(engine, test_data, tmp_path, monkeypatch):
    from regionvisa.app import create_app

    url = make_url(engine.url.render_as_string(hide_password=False))
    relay = Relay((url.host or "127.0.0.1", url.port or 5432))
    relay.up()
    proxied = make_engine(url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False))
    try:
        test_data.publish_busan(engine)
        _user(engine, "f.busan", "regional_official", "26")
        app = create_app(engine=proxied)
        client = _signed_in(app, "f.busan", test_data)
        assert client.get("/api/v1/applications").status_code == 200
        assert client.get("/applications").status_code == 200

        relay.down()
        for _ in range(2):  # the session lookup fails first; it must keep answering so
            assert_api_503(client.get("/api/v1/applications"), "database_unavailable")
            page = client.get("/applications?lang=en")
            assert_page_503(page, "the database is unavailable")
            assert_page_503(client.get("/applications?lang=ko"), "데이터베이스에 연결할 수 없습니다")
            assert_api_503(client.get("/api/v1/health"), "database_unavailable")
            sent = client.post("/api/v1/applications", json=_submission("PG0000001"))
            assert_api_503(sent, "database_unavailable")

        relay.up()  # back: the very next requests succeed, the session still valid
        assert client.get("/api/v1/applications").status_code == 200
        assert client.get("/applications").status_code == 200
        created = client.post("/api/v1/applications", json=_submission("PG0000002"))
        assert created.status_code == 201, created.text[:300]
        client.__exit__(None, None, None)
    finally:
        relay.down()
        proxied.dispose()


def _submission(passport: str) -> dict:
    return {
        "program_id": "busan-d2",
        "name": "Fault Test",
        "passport_no": passport,
        "applicant": dict(PROFILE),
        "submitted_on": "2025-06-02",
    }


# --------------------------------------------------------------------------- SQLite disk full


@pytest.fixture
def full_disk(sqlite_engine):
    """disk["full"] = True caps the database at its current pages on every connection handed out."""
    disk = {"full": False}

    def cap(dbapi_connection, _record, _proxy) -> None:
        cursor = dbapi_connection.cursor()
        if disk["full"]:
            pages = cursor.execute("PRAGMA page_count").fetchone()[0]
            cursor.execute(f"PRAGMA max_page_count = {int(pages)}")
        else:
            cursor.execute("PRAGMA max_page_count = 1073741823")
        cursor.close()

    event.listen(sqlite_engine, "checkout", cap)
    yield disk
    event.remove(sqlite_engine, "checkout", cap)


def test_a_full_disk_answers_503_and_writes_resume_once_space_is_back(sqlite_engine, full_disk, test_data):
    from regionvisa.app import create_app

    test_data.publish_busan(sqlite_engine)
    _user(sqlite_engine, "f.busan", "regional_official", "26")
    app = create_app(engine=sqlite_engine)
    client = _signed_in(app, "f.busan", test_data)
    form = {
        "program_id": "busan-d2",
        "name": "Fault Page Test",
        "passport_no": "FD0000009",
        "submitted_on": "2025-06-02",
        "csrf_token": client.headers["X-CSRF-Token"],
        **{k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in PROFILE.items()},
    }

    with sqlite_engine.connect() as conn:  # no free pages left inside the file: the next write must grow it
        conn.exec_driver_sql("VACUUM")
    full_disk["full"] = True
    assert client.get("/api/v1/applications").status_code == 200  # reading still works
    assert_api_503(client.post("/api/v1/applications", json=_submission("FD0000001")), "storage_full")
    page = client.post("/applications/new?lang=en", data=form, follow_redirects=False)
    assert_page_503(page, "storage is full")
    with session_scope(engine=sqlite_engine) as session:  # nothing half-written
        assert session.scalar(sa_select(func.count()).select_from(Application)) == 0

    full_disk["full"] = False
    created = client.post("/api/v1/applications", json=_submission("FD0000001"))
    assert created.status_code == 201, created.text[:300]
    page = client.post("/applications/new", data=form, follow_redirects=False)
    assert page.status_code == 303, page.text[:300]
    with session_scope(engine=sqlite_engine) as session:
        assert session.scalar(sa_select(func.count()).select_from(Application)) == 2
    client.__exit__(None, None, None)


def test_sqlite_file_out_of_reach_in_the_session_lookup_is_a_503_then_recovers(sqlite_engine, test_data, tmp_path):
    """The database's folder goes away (an unmounted volume): the session lookup, before any route,
    cannot open the file. A 503 page and JSON error, not a bare 500; back once the folder is."""
    import shutil

    from regionvisa.app import create_app

    _user(sqlite_engine, "f.officer", "ministry_officer", None)
    sqlite_engine.dispose()
    folder = tmp_path / "volume"
    folder.mkdir()
    shutil.copy(sqlite_engine.url.database, folder / "db.sqlite3")
    engine = make_engine(f"sqlite:///{folder / 'db.sqlite3'}")
    try:
        app = create_app(engine=engine)
        client = _signed_in(app, "f.officer", test_data)
        engine.dispose()
        folder.rename(tmp_path / "unmounted")
        assert_page_503(client.get("/account?lang=en"), "the database is unavailable")
        assert_api_503(client.get("/api/v1/applications"), "database_unavailable")
        (tmp_path / "unmounted").rename(folder)
        assert client.get("/account").status_code == 200
        assert client.get("/api/v1/applications").status_code == 200
        client.__exit__(None, None, None)
    finally:
        engine.dispose()
