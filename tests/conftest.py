"""Test databases: SQLite always; PostgreSQL when REGIONVISA_TEST_DATABASE_URL names a server.

`make test` (scripts/test) runs the whole suite twice: on SQLite, with the PostgreSQL-only tests
deselected (`-m "not postgres"`), and on a throwaway PostgreSQL cluster with every test. Nothing
is ever skipped: a test that needs something this machine lacks (a PostgreSQL server, Chromium,
poppler) fails with what is missing and how to get it, and a `pytest.skip` anywhere counts as a
failure (see `pytest_runtest_makereport`).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

# Cheap argon2 parameters for the suite (production keeps RFC 9106's low-memory profile); set
# before any settings are read. Hashes carry their parameters, so verification is unaffected.
os.environ.setdefault("REGIONVISA_ARGON2_TIME_COST", "1")
os.environ.setdefault("REGIONVISA_ARGON2_MEMORY_KIB", "1024")
os.environ.setdefault("REGIONVISA_ARGON2_PARALLELISM", "1")
# Explicit keys for the suite: the application refuses to run without them. Test values only.
os.environ.setdefault("REGIONVISA_SECRET_KEY", "test-suite-secret-key-for-tests-only-0123456789")
os.environ.setdefault("REGIONVISA_DATA_KEYS", "test:cmVnaW9udmlzYS10ZXN0LXN1aXRlLWRhdGEta2V5ISE=")
os.environ.setdefault("REGIONVISA_LOOKUP_KEY", "cmVnaW9udmlzYS10ZXN0LXN1aXRlLWxvb2t1cC1rZXk=")

import pytest
from sqlalchemy import text
from tests.actors import SYSTEM

from regionvisa import migrate
from regionvisa.core.actor import Actor
from regionvisa.db import Base, make_engine

# Scans the logs and exports the suite writes for clear passport numbers (issue: personal data).
pytest_plugins = ["tests.hardening.pii_scan"]

PG_URL = os.environ.get("REGIONVISA_TEST_DATABASE_URL", "").strip()
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def pytest_report_header(config):
    return (
        f"database: {'PostgreSQL ' + PG_URL.split('@')[-1] if PG_URL else 'SQLite (no REGIONVISA_TEST_DATABASE_URL)'}"
    )


CHROMIUM = Path("/usr/bin/chromium")


def require_tool(name: str, package: str) -> str:
    """The path of a command the test needs; a clear failure (never a skip) when it is missing."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} is not installed: `make test` installs it (scripts/system-deps), or apt-get install {package}"
        )
    return path


@pytest.fixture(autouse=True)
def _required_capabilities(request):
    """PostgreSQL-only and browser tests fail, with the remedy, where their capability is missing."""
    if request.node.get_closest_marker("postgres") and not PG_URL:
        pytest.fail(
            "needs PostgreSQL: run `make test` (it starts a throwaway cluster), set "
            "REGIONVISA_TEST_DATABASE_URL=postgresql+psycopg://…, or deselect with -m 'not postgres'"
        )
    if request.node.get_closest_marker("browser") and not CHROMIUM.exists():
        pytest.fail("needs Debian's Chromium at /usr/bin/chromium: `make test` installs it (apt-get install chromium)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A skip is a failure: the suite promises that every test runs (expected failures stay allowed)."""
    report = yield
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped tests are not allowed in this suite: {reason}"
    return report


@pytest.fixture(scope="session")
def database_kind() -> str:
    return "postgresql" if PG_URL else "sqlite"


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine=engine)
    _load_reference(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _pg_migrated():
    if not PG_URL:
        return None
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    migrate.upgrade(engine=engine)
    engine.dispose()
    return PG_URL


def _load_reference(engine) -> None:
    from regionvisa.db import session_scope
    from regionvisa.regions.service import load_regions

    with session_scope(engine=engine) as session:
        load_regions(session=session)


def _truncate_all(engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture
def engine(request, tmp_path, _sqlite_template, _pg_migrated):
    """A migrated database with reference data and nothing else, fresh for each test."""
    import regionvisa.models  # noqa: F401

    if _pg_migrated:
        eng = make_engine(_pg_migrated)
        _truncate_all(eng)
        _load_reference(eng)
    else:
        path = tmp_path / "test.sqlite3"
        shutil.copy(_sqlite_template, path)
        eng = make_engine(f"sqlite:///{path}")
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path, _sqlite_template):
    """Always SQLite, for tests of SQLite-specific behaviour."""
    path = tmp_path / "sqlite-only.sqlite3"
    shutil.copy(_sqlite_template, path)
    eng = make_engine(f"sqlite:///{path}")
    yield eng
    eng.dispose()


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# --------------------------------------------------------------------------- accounts

# One account per role; the regional official is Busan's (26). Passwords follow the policy.
ROLE_ACCOUNTS = {
    "ministry_admin": ("t.admin", None),
    "ministry_officer": ("t.officer", None),
    "regional_official": ("t.busan", "26"),
    "committee_member": ("t.committee", None),
    "auditor": ("t.auditor", None),
}
TEST_PASSWORD = "correct-horse-battery"


@pytest.fixture
def make_user(engine):
    """make_user(username, role, region=None, password=TEST_PASSWORD) -> user id."""
    from regionvisa.accounts import service
    from regionvisa.db import session_scope

    def make(username: str, role: str, region: str | None = None, password: str = TEST_PASSWORD) -> int:
        with session_scope(engine=engine) as session:
            user = service.create_user(
                session=session,
                actor=SYSTEM,
                username=username,
                display_name=username,
                role=role,
                region=region,
                password=password,
            )
            return user.id

    return make


@pytest.fixture
def role_users(make_user) -> dict[str, dict]:
    """role -> {"id", "username", "password", "region"} for one user of each role."""
    return {
        role: {"id": make_user(name, role, region), "username": name, "password": TEST_PASSWORD, "region": region}
        for role, (name, region) in ROLE_ACCOUNTS.items()
    }


@pytest.fixture
def app(engine):
    from regionvisa.app import create_app

    return create_app(engine=engine)


@pytest.fixture
def client(app):
    """A browser-like client of the real ASGI app (cookies kept between requests)."""
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@pytest.fixture
def login():
    """login(client, username, password) -> the session's CSRF token after a successful log-in."""

    def do(client, username: str, password: str = TEST_PASSWORD) -> str:
        form = client.get("/login")
        response = client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": csrf_from(form.text), "next": "/account"},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text[:500]
        return csrf_from(client.get("/account").text)

    return do


# --------------------------------------------------------------------------- a few records

SEED_PEOPLE = [
    # person_id, nationality, region
    ("P10000001", "VNM", "26"),
    ("P10000002", "CHN", "26"),
    ("P10000003", "UZB", "26"),
    ("P10000004", "VNM", "11"),
    ("P10000005", "USA", "11"),
    ("P10000006", "NPL", "11"),
    ("P10000007", "PHL", "41"),
    ("P10000008", "THA", "41"),
]


def seed_records(engine, folder: Path) -> dict[str, list[str]]:
    """Import a few people with statuses and addresses in Busan, Seoul and Gyeonggi through
    the real import; returns region -> person ids."""
    from regionvisa.records.service import import_file

    folder.mkdir(parents=True, exist_ok=True)
    people = ["person_id,name,nationality,birth_date,sex,passport_no"]
    statuses = ["person_id,visa,subtype,program_id,region,valid_from,valid_to,granted_on"]
    addresses = ["person_id,area_code,effective_date,reported_date"]
    for i, (pid, nat, region) in enumerate(SEED_PEOPLE):
        people.append(f"{pid},Test Person {i},{nat},199{i}-01-0{i + 1},{'MF'[i % 2]},X{1000000 + i}")
        visa = ("D-2", "E-9", "F-6")[i % 3]
        statuses.append(f"{pid},{visa},,,{region},2025-01-01,2027-12-31,2024-12-20")
        addresses.append(f"{pid},{region}110,2025-01-02,2025-01-05")
    for kind, lines in (("people", people), ("statuses", statuses), ("addresses", addresses)):
        path = folder / f"{kind}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        summary, _ = import_file(engine=engine, kind=kind, path=path, actor=SYSTEM)
        assert summary.outcome == "committed", summary
    from regionvisa.stats import regional
    from regionvisa.stats.service import clear_overview_cache

    clear_overview_cache()
    regional.clear_cache()
    by_region: dict[str, list[str]] = {}
    for pid, _nat, region in SEED_PEOPLE:
        by_region.setdefault(region, []).append(pid)
    return by_region


@pytest.fixture
def records(engine, tmp_path) -> dict[str, list[str]]:
    return seed_records(engine, tmp_path / "feeds")


@pytest.fixture
def cli(engine, monkeypatch):
    """cli(*args, input=None) runs `regionvisa …` in-process against the test database."""
    from typer.testing import CliRunner

    from regionvisa import cli as cli_module
    from regionvisa.config import get_settings
    from regionvisa.db import get_engine

    monkeypatch.setenv("REGIONVISA_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    get_engine.cache_clear()
    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        return runner.invoke(cli_module.app, list(args), input=input)

    yield run
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    get_settings.cache_clear()


def publish_busan(engine, *, allocated: int = 10, actor: Actor = SYSTEM, reason: str = "test allocation") -> str:
    """busan-d2 published from its policy file, with a 2025 quota ledger of `allocated` places."""
    import datetime as dt

    from regionvisa.config import get_settings
    from regionvisa.db import session_scope
    from regionvisa.programs import service as programs
    from regionvisa.quotas import service as quotas

    with session_scope(engine=engine) as session:
        programs.load_files(
            session=session,
            paths=[get_settings().policy_dir / "programs" / "26" / "busan-d2.yaml"],
            actor=actor,
            publish=True,
        )
        quotas.open_ledger(
            session=session,
            program_id="busan-d2",
            region="26",
            period="2025",
            start=dt.date(2025, 1, 1),
            end=dt.date(2025, 12, 31),
            allocated=allocated,
            actor=actor,
            reason=reason,
        )
    return "busan-d2"


SCAN = b"%PDF-1.4\n% a scanned test document\n%%EOF\n"


def attach_documents(
    engine, app_id: int, *, only: tuple[str, ...] | None = None, skip: tuple[str, ...] = (), actor: Actor = SYSTEM
) -> list[str]:
    """Upload a small PDF for each document of the application's checklist (or `only` those, less
    `skip`), through the upload use case, so approve and issue find the checklist complete.
    Returns the document ids uploaded."""
    from regionvisa.applications import documents, service
    from regionvisa.db import session_scope

    with session_scope(engine=engine) as session:
        app = service.get(session=session, application_id=app_id)
        wanted = [item["id"] for item in documents.checklist(session=session, app=app) if item["document"] is None]
    wanted = [d for d in wanted if (only is None or d in only) and d not in skip]
    for doc_type in wanted:
        with session_scope(engine=engine) as session:
            documents.upload_document(
                session=session,
                app=app_id,
                doc_type=doc_type,
                filename=f"{doc_type}.pdf",
                content=SCAN,
                content_type="application/pdf",
                actor=actor,
            )
    return wanted


@pytest.fixture(scope="session")
def test_data():
    """The helpers above for fixtures in sub-folders (conftest modules are not importable)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        ROLE_ACCOUNTS=ROLE_ACCOUNTS,
        TEST_PASSWORD=TEST_PASSWORD,
        seed_records=seed_records,
        csrf_from=csrf_from,
        publish_busan=publish_busan,
        attach_documents=attach_documents,
    )
