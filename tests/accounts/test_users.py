"""User administration through the API, the pages and the command line; demo accounts."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from tests.actors import SYSTEM
from typer.testing import CliRunner

from regionvisa.accounts import service
from regionvisa.accounts.models import User
from regionvisa.audit.service import verify
from regionvisa.db import session_scope


@pytest.fixture
def admin_api(client, engine, role_users):
    with session_scope(engine=engine) as session:
        _, plain = service.create_token(
            session=session,
            actor=SYSTEM,
            user=service.get_user(session=session, user_id=role_users["ministry_admin"]["id"]),
            name="admin",
        )
    client.headers["Authorization"] = f"Bearer {plain}"
    return client


def test_create_list_update_users_through_the_api(admin_api, engine):
    created = admin_api.post(
        "/api/v1/users",
        json={
            "username": "Kim.Busan",
            "display_name": "김부산",
            "role": "regional_official",
            "region": "26",
            "password": "a-long-password-1",
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["username"], body["region"], body["is_active"]) == ("kim.busan", "26", True)
    assert "password" not in body and "password_hash" not in body
    page = admin_api.get("/api/v1/users?page=1&page_size=2").json()
    assert (page["page"], page["page_size"], page["total"]) == (1, 2, 6)
    assert len(page["items"]) == 2 and page["pages"] == 3
    changed = admin_api.patch(f"/api/v1/users/{body['id']}", json={"role": "ministry_officer", "region": None})
    assert changed.status_code == 200 and changed.json()["region"] is None
    disabled = admin_api.patch(f"/api/v1/users/{body['id']}", json={"is_active": False, "reason": "left the job"})
    assert disabled.json()["is_active"] is False
    assert (
        admin_api.put(f"/api/v1/users/{body['id']}/password", json={"password": "yet-another-pass"}).status_code == 204
    )
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT action, actor, reason, inputs FROM audit_entry WHERE subject_id = 'kim.busan' ORDER BY id")
        ).all()
    assert [r[0] for r in rows] == ["users.create", "users.update", "users.disable", "users.set_password"]
    assert {r[1] for r in rows} == {"t.admin"}
    assert rows[2][2] == "left the job"
    assert "김부산" not in str(rows[0][3])  # names are digested in the audit log
    assert verify(engine=engine).ok


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"role": "regional_official"}, 422, "region_required", "region"),
        ({"role": "auditor", "region": "26"}, 422, "region_not_allowed", "region"),
        ({"role": "regional_official", "region": "99"}, 422, "invalid_region", "region"),
        ({"role": "king"}, 422, "invalid_role", "role"),
        ({"password": "short"}, 422, "weak_password", "password"),
        ({"password": "aaaaaaaaaaaa"}, 422, "weak_password", "password"),
        ({"username": "Bad Name!"}, 422, "invalid_username", "username"),
        ({"username": "t.officer"}, 409, "username_taken", "username"),
        ({"extra": 1}, 422, "invalid", "extra"),
    ],
)
def test_bad_user_input_gets_the_one_error_shape(admin_api, body, status, code, field):
    base = {"username": "new.one", "display_name": "New", "role": "auditor", "password": "a-long-password-1"}
    response = admin_api.post("/api/v1/users", json={**base, **body})
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["field"] == field
    assert error["message"]["ko"] and error["message"]["en"]


def test_not_found_and_self_disable(admin_api, role_users):
    missing = admin_api.get("/api/v1/users/99999")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    me = role_users["ministry_admin"]["id"]
    refused = admin_api.patch(f"/api/v1/users/{me}", json={"is_active": False})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "cannot_disable_self"


def test_user_pages(client, login, engine, role_users):
    csrf = login(client, "t.admin")
    listing = client.get("/admin/users")
    assert listing.status_code == 200 and "t.busan" in listing.text
    bad = client.post(
        "/admin/users",
        data={
            "username": "p.one",
            "display_name": "P",
            "role": "regional_official",
            "region": "",
            "password": "a-long-password-1",
            "csrf_token": csrf,
        },
    )
    assert bad.status_code == 422 and '<a href="#new-region">' in bad.text and 'value="p.one"' in bad.text
    made = client.post(
        "/admin/users",
        data={
            "username": "p.one",
            "display_name": "P",
            "role": "regional_official",
            "region": "48",
            "password": "a-long-password-1",
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    detail = client.get(made.headers["location"])
    assert "p.one" in detail.text and 'role="status"' in detail.text  # the confirmation
    user_id = int(made.headers["location"].rsplit("/", 1)[1])
    off = client.post(
        f"/admin/users/{user_id}/active",
        data={"active": "0", "confirm": "1", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert off.status_code == 303
    with session_scope(engine=engine) as session:
        assert session.scalar(select(User.is_active).where(User.id == user_id)) is False


def test_cli_create_list_disable_set_password(cli, engine):
    result = cli(
        "users",
        "create",
        "cli.user",
        "--role",
        "regional_official",
        "--region",
        "26",
        "--name",
        "CLI",
        input="cli-password-123\ncli-password-123\n",
    )
    assert result.exit_code == 0, result.output
    assert "cli-password-123" not in result.output
    result = cli("users", "list")
    assert result.exit_code == 0 and "cli.user" in result.output and "regional_official" in result.output
    assert cli("users", "disable", "cli.user").exit_code == 0
    result = cli("users", "set-password", "cli.user", "--password-stdin", input="new-cli-password-9\n")
    assert result.exit_code == 0 and "new-cli-password-9" not in result.output
    with session_scope(engine=engine) as session:
        user = session.scalar(select(User).where(User.username == "cli.user"))
        assert not user.is_active
        assert service.check_password(user.password_hash, "new-cli-password-9")
    with engine.connect() as conn:
        actors = {r[0] for r in conn.execute(text("SELECT actor FROM audit_entry WHERE subject_id = 'cli.user'"))}
    assert len(actors) == 1 and actors.pop().startswith("system:cli:")


def test_cli_errors_and_the_as_option(cli, role_users):
    weak = cli("users", "create", "weak.user", "--role", "auditor", "--password-stdin", input="short\n")
    assert weak.exit_code == 1 and "at least" in weak.output
    # --as checks the same policy as the API and the pages
    refused = cli(
        "users",
        "create",
        "x.user",
        "--role",
        "auditor",
        "--password-stdin",
        "--as",
        "t.officer",
        input="a-long-password-1\n",
    )
    assert refused.exit_code == 1 and "may not" in refused.output
    allowed = cli(
        "users",
        "create",
        "x.user",
        "--role",
        "auditor",
        "--password-stdin",
        "--as",
        "t.admin",
        input="a-long-password-1\n",
    )
    assert allowed.exit_code == 0, allowed.output
    token = cli("users", "create-token", "t.officer", "--name", "script", "--as", "t.officer")
    assert token.exit_code == 0 and "rvt_" in token.output
    other = cli("users", "create-token", "t.auditor", "--name", "script", "--as", "t.officer")
    assert other.exit_code == 1


def test_cli_tokens_and_audit_verify(cli, client, engine, role_users):
    result = cli("users", "create-token", "t.auditor", "--name", "nightly")
    plain = next(line for line in result.output.splitlines() if line.startswith("rvt_"))
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    with engine.connect() as conn:
        token_id = conn.execute(text("SELECT id FROM api_token WHERE name = 'nightly'")).scalar_one()
    assert cli("users", "revoke-token", str(token_id)).exit_code == 0
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).status_code == 401
    ok = cli("audit", "verify")
    assert ok.exit_code == 0 and "intact" in ok.output


def test_demo_accounts_and_their_log_ins(engine, client, cli):
    from regionvisa import flows
    from regionvisa.accounts.demo import DEMO_ACCOUNTS, create_demo_accounts

    step = next(step for name, step in flows.DEMO_STEPS if "demo accounts" in name)
    step(engine)  # what `regionvisa demo` runs
    assert create_demo_accounts(engine=engine) == 0  # re-running adds nothing
    roles = {a["role"]: a for a in DEMO_ACCOUNTS}
    assert set(roles) == {"ministry_admin", "ministry_officer", "regional_official", "committee_member", "auditor"}
    assert roles["regional_official"]["region"] == "26"
    printed = cli("users", "demo-logins")
    assert printed.exit_code == 0
    for account in DEMO_ACCOUNTS:
        assert account["username"] in printed.output and account["password"] in printed.output
        page = client.get("/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        response = client.post(
            "/login",
            data={"username": account["username"], "password": account["password"], "csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 303, account["username"]
        assert client.get("/api/v1/me").json()["role"] == account["role"]
        client.cookies.clear()


def test_cli_help_lists_the_commands():
    from regionvisa.cli import app

    result = CliRunner().invoke(app, ["users", "--help"])
    for command in ("create", "list", "disable", "set-password", "demo-logins"):
        assert command in result.output
    assert "verify" in CliRunner().invoke(app, ["audit", "--help"]).output


def test_make_run_prints_the_demo_log_ins_before_serving():
    import shutil
    import subprocess
    from pathlib import Path

    assert shutil.which("make"), "make is not installed (apt-get install make)"
    root = Path(__file__).resolve().parents[2]
    plan = subprocess.run(["make", "-n", "run"], cwd=root, capture_output=True, text=True, check=True).stdout
    lines = plan.splitlines()
    demo = next(i for i, line in enumerate(lines) if "regionvisa demo" in line)
    logins = next(i for i, line in enumerate(lines) if "regionvisa users demo-logins" in line)
    serve = next(i for i, line in enumerate(lines) if "regionvisa serve" in line)
    assert demo < logins < serve


def test_passwords_are_argon2id_hashes_and_the_database_binds_regions(engine, role_users):
    import sqlalchemy.exc

    with engine.connect() as conn:
        hashes = dict(conn.execute(text("SELECT username, password_hash FROM app_user")).all())
    assert len(hashes) == 5
    for username, value in hashes.items():
        assert value.startswith("$argon2id$v=19$"), username
        assert "correct-horse-battery" not in value
    assert len(set(hashes.values())) == 5  # salted: the same password, different hashes
    # the table itself refuses a regional official without a region, or anyone else with one
    for role, region in (("regional_official", None), ("auditor", "26")):
        with pytest.raises(sqlalchemy.exc.IntegrityError), engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO app_user (username, display_name, role, region, password_hash, is_active, "
                    "failed_logins, created_at, password_changed_at) "
                    "VALUES (:u, 'x', :role, :region, 'x', true, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"u": f"raw.{role}", "role": role, "region": region},
            )
