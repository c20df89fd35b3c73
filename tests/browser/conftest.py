"""A real uvicorn server on a free loopback port, a seeded test database, and Debian's Chromium.

The server runs in a thread of the test process with its own SQLite database (migrated,
reference data, a few imported records and one account per role), whatever database the rest
of the suite uses. Without /usr/bin/chromium the tests fail with the remedy (tests/conftest.py).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from tests.actors import SYSTEM

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(config, items):
    """Every test here is a browser test. The modules that declare DATABASE_INDEPENDENT (the page
    crawl and the screenshots: their server has its own SQLite database) run on the SQLite pass of
    `make test` only, and are deselected (not skipped) when the suite runs on PostgreSQL."""
    here = Path(__file__).parent
    on_postgres = bool(os.environ.get("REGIONVISA_TEST_DATABASE_URL", "").strip())
    keep, once = [], []
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            if on_postgres and getattr(item.module, "DATABASE_INDEPENDENT", False):
                once.append(item)
                continue
        keep.append(item)
    if once:
        config.hook.pytest_deselected(items=once)
        items[:] = keep


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory, _sqlite_template, test_data):
    """Base URL of a running server, and the accounts on it (role -> (username, password))."""
    import uvicorn

    from regionvisa.app import create_app
    from regionvisa.db import make_engine

    accounts, password = test_data.ROLE_ACCOUNTS, test_data.TEST_PASSWORD

    folder = tmp_path_factory.mktemp("browser")
    path = folder / "browser.sqlite3"
    shutil.copy(_sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    test_data.seed_records(engine, folder / "feeds")
    from regionvisa.accounts import service
    from regionvisa.db import session_scope

    with session_scope(engine=engine) as session:
        for role, (username, region) in accounts.items():
            service.create_user(
                session=session,
                actor=SYSTEM,
                username=username,
                display_name=f"Browser {role}",
                role=role,
                region=region,
                password=password,
            )
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(engine=engine), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield {
        "url": f"http://127.0.0.1:{port}",
        "accounts": {role: (username, password) for role, (username, _) in accounts.items()},
        "engine": engine,
    }
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture(scope="module")
def busan_site(site, test_data):
    """The module's site with the busan-d2 programme published (the forms' and workflows' subject)."""
    test_data.publish_busan(site["engine"])
    return site


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, site):
    context = browser.new_context(base_url=site["url"], viewport={"width": 1280, "height": 900}, locale="ko-KR")
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


@pytest.fixture
def shots(artifacts_dir):
    folder = artifacts_dir / "browser"
    folder.mkdir(parents=True, exist_ok=True)

    def shot(page, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        return path

    if shutil.which("git") and (artifacts_dir.parent / ".git").exists():
        ignored = subprocess.run(
            ["git", "check-ignore", "-q", str(folder / "probe.png")], cwd=artifacts_dir.parent, check=False
        )
        assert ignored.returncode == 0, "test-artifacts/ must be git-ignored"

    return shot
