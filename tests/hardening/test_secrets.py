"""Secrets and personal data (issue 14, requirement 6).

- `serve` started silently with the development secret, and the data keys derived from it, so
  passports decrypted straight from the database file. Now the server, its workers and every
  command that reads or writes personal data refuse to run without configured keys, naming the
  variables and `regionvisa keys new`; the demo makes random keys of its own (var/, mode 0600).
- A 500's traceback logged the statement's parameters: names, birth dates, passport ciphertext
  and hash. Engines now hide parameters; a real server's log is searched for them.
- A response carrying a whole passport number is never cached.
"""

from __future__ import annotations

import base64
import os
import re
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from tests.actors import SYSTEM

from regionvisa.accounts.policy import POLICY
from regionvisa.config import KeysNotConfigured, get_settings, key_problems, require_keys
from regionvisa.records import pii

KEY_VARIABLES = ("REGIONVISA_SECRET_KEY", "REGIONVISA_DATA_KEYS", "REGIONVISA_LOOKUP_KEY")
CLI = Path(sys.executable).parent / "regionvisa"


def _b64(n: int = 32) -> str:
    return base64.b64encode(os.urandom(n)).decode()


@pytest.fixture
def no_keys(tmp_path):
    """The environment of a fresh installation: no keys, no .env, an empty demo keys file location."""
    patch = pytest.MonkeyPatch()
    for name in KEY_VARIABLES:
        patch.delenv(name, raising=False)
    patch.setenv("REGIONVISA_DEMO_KEYS_FILE", str(tmp_path / "var" / "demo-keys.json"))
    patch.chdir(tmp_path)
    pii.reset_keyring()
    yield patch
    patch.undo()
    pii.reset_keyring()


def _env_without_keys(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in KEY_VARIABLES}
    env["REGIONVISA_DEMO_KEYS_FILE"] = str(tmp_path / "var" / "demo-keys.json")
    env.update(extra)
    return env


def assert_names_the_keys(message: str) -> None:
    for name in KEY_VARIABLES:
        assert name in message
    assert "regionvisa keys new" in message
    assert "키" in message and "설정" in message  # Korean as well as English


# --------------------------------------------------------------------------- refusing to start


def test_the_application_refuses_to_start_without_keys(engine, no_keys):
    from regionvisa.app import create_app

    with pytest.raises(KeysNotConfigured) as refused:
        create_app(engine=engine)
    assert_names_the_keys(str(refused.value))
    with pytest.raises(KeysNotConfigured):  # and nothing personal is encrypted or looked up either
        pii.protect("AB1234567")


def test_weak_former_default_or_malformed_keys_are_refused(no_keys):
    good = {"REGIONVISA_SECRET_KEY": "s" * 40, "REGIONVISA_DATA_KEYS": f"k1:{_b64()}", "REGIONVISA_LOOKUP_KEY": _b64()}
    bad = {
        "REGIONVISA_SECRET_KEY": ["dev-only-change-me", "short-secret"],
        "REGIONVISA_DATA_KEYS": ["k1:not-base64!", f"k1:{_b64(16)}", " "],
        "REGIONVISA_LOOKUP_KEY": [_b64(8), "%%%"],
    }
    for name, value in good.items():
        no_keys.setenv(name, value)
    get_settings.cache_clear()
    assert key_problems(get_settings()) == []
    for name, values in bad.items():
        for value in values:
            no_keys.setenv(name, value)
            get_settings.cache_clear()
            problems = key_problems(get_settings())
            assert len(problems) == 1 and problems[0].startswith(name), (name, value, problems)
            assert value.strip() == "" or value not in problems[0]  # a key's value is never shown
        no_keys.setenv(name, good[name])
    get_settings.cache_clear()


def test_commands_that_touch_personal_data_refuse_before_doing_anything(engine, cli, no_keys, tmp_path):
    people = tmp_path / "people.csv"
    people.write_text("person_id,name,nationality,birth_date,sex,passport_no\nP1,Kim,VNM,1990-01-01,M,X1234567\n")
    for args in (
        ["serve"],
        ["synth", "--residents", "100"],
        ["records", "import", "people", str(people)],
        ["applications", "show", "1"],
        ["compliance", "run", "--on", "2025-06-30"],
        ["keys", "status"],
        ["keys", "rotate"],
    ):
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert_names_the_keys(result.output)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM person")).scalar_one() == 0
    assert cli("serve", "--help").exit_code == 0  # help is not refused
    assert cli("records", "import", "--help").exit_code == 0
    assert cli("stats", "--help").exit_code == 0

    generated = cli("keys", "new", "--env")  # the command the message names
    assert generated.exit_code == 0, generated.output
    lines = dict(line.split("=", 1) for line in generated.output.strip().splitlines())
    assert set(KEY_VARIABLES) <= set(lines)
    for name, value in lines.items():
        no_keys.setenv(name, value)
    pii.reset_keyring()
    assert require_keys(get_settings())
    again = dict(line.split("=", 1) for line in cli("keys", "new", "--env").output.strip().splitlines())
    assert all(again[name] != lines[name] for name in KEY_VARIABLES)  # random every time
    imported = cli("records", "import", "people", str(people))
    assert imported.exit_code == 0, imported.output


def test_keys_new_keeps_the_keys_an_older_installation_derived_from_its_secret(cli, no_keys):
    """Data written by versions that derived the keys from REGIONVISA_SECRET_KEY stays readable."""
    former = "an-older-installation-secret-of-some-length"
    legacy = pii.Keyring({"dev": pii._derive(former, "data")}, pii._derive(former, "lookup"))
    stored = pii.encrypt(["OL1234567"], legacy)[0]
    result = cli("keys", "new", "--env", "--legacy-secret", input=former + "\n")
    assert result.exit_code == 0, result.output
    for line in result.output.strip().splitlines():
        name, value = line.split("=", 1)
        no_keys.setenv(name, value)
    pii.reset_keyring()
    assert pii.keyring().current == "k1" and "dev" in pii.keyring().keys
    assert pii.decrypt([stored]) == ["OL1234567"]
    assert pii.lookup_hash(["OL1234567"]) == pii.lookup_hash(["OL1234567"], legacy)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_refuses_to_start_in_a_real_process(tmp_path):
    port = _free_port()
    env = _env_without_keys(tmp_path, REGIONVISA_DATABASE_URL=f"sqlite:///{tmp_path}/fresh.sqlite3")
    done = subprocess.run(
        [str(CLI), "serve", "--port", str(port)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert_names_the_keys(done.stderr)
    assert "Traceback" not in done.stderr
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # never listened


# --------------------------------------------------------------------------- the demo's own keys


def _run(args: list[str], env: dict, cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run([str(CLI), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, (args, done.stdout[-1500:], done.stderr[-3000:])
    return done


def _key_ids(database: Path) -> set[str]:
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT DISTINCT substr(passport_enc, 1, instr(passport_enc, ':') - 1) FROM person")
        return {r[0] for r in rows}


def test_the_demo_makes_random_keys_once_keeps_them_private_and_serve_uses_them(tmp_path):
    import json

    database = tmp_path / "var" / "demo.sqlite3"
    keys_file = tmp_path / "var" / "demo-keys.json"
    url = f"sqlite:///{database}"
    with_suite_keys = {**os.environ, "REGIONVISA_DATABASE_URL": url, "REGIONVISA_DEMO_KEYS_FILE": str(keys_file)}
    _run(["demo", "--residents", "100"], with_suite_keys, tmp_path)  # configured keys: used, nothing written
    assert not keys_file.exists() and _key_ids(database) == {pii.keyring().current}

    env = _env_without_keys(tmp_path, REGIONVISA_DATABASE_URL=url)
    first = _run(["demo", "--residents", "100"], env, tmp_path)
    assert "demo keys created" in first.stderr and "afresh" in first.stderr  # the old rows were unreadable
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    written = keys_file.read_bytes()
    entry = next(iter(json.loads(written)["databases"].values()))
    data_id = entry["REGIONVISA_DATA_KEYS"].split(":")[0]
    assert _key_ids(database) == {data_id} and data_id.startswith("demo-")
    ring = pii.Keyring(pii.parse_keys(entry["REGIONVISA_DATA_KEYS"]), base64.b64decode(entry["REGIONVISA_LOOKUP_KEY"]))
    with sqlite3.connect(database) as conn:
        sample = conn.execute("SELECT passport_enc FROM person LIMIT 1").fetchone()[0]
    assert re.fullmatch(r"[A-Z]{1,2}[0-9]{7}", pii.decrypt([sample], ring)[0])
    derived = pii.Keyring({data_id: pii._derive(entry["REGIONVISA_SECRET_KEY"], "data")}, b"")
    with pytest.raises(pii.KeyError_):  # nothing derives from a secret any more
        pii.decrypt([sample], derived)

    second = _run(["demo", "--residents", "100"], env, tmp_path)
    assert "demo keys reused" in second.stderr and "reusing" in second.stderr
    assert keys_file.read_bytes() == written  # created once, then reused

    port = _free_port()
    server = subprocess.Popen(
        [str(CLI), "serve", "--port", str(port)], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(base, server, lambda: server.stderr.read().decode())
        with httpx.Client(base_url=base, timeout=10) as client:
            form = client.get("/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
            signed = client.post(
                "/login",
                data={"username": "officer", "password": "demo-officer-2025", "csrf_token": token, "next": "/"},
            )
            assert signed.status_code in (200, 303), signed.text[:300]
            listed = client.get("/api/v1/applications", params={"page_size": 1}).json()["items"]
            detail = client.get(f"/api/v1/applications/{listed[0]['id']}").json()
            assert re.fullmatch(r"[A-Z0-9]{6,12}", detail["passport_no"])  # decrypted with the demo's keys
    finally:
        server.terminate()
        server.wait(timeout=30)

    other = _env_without_keys(tmp_path, REGIONVISA_DATABASE_URL=f"sqlite:///{tmp_path}/var/other.sqlite3")
    refused = subprocess.run([str(CLI), "serve"], env=other, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "REGIONVISA_DATA_KEYS" in refused.stderr  # another database: no demo keys


def _wait_for(base: str, server: subprocess.Popen, output) -> None:
    deadline = time.monotonic() + 120
    while True:
        assert server.poll() is None, output()[-3000:]
        try:
            if httpx.get(base + "/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.2)


# --------------------------------------------------------------------------- no parameters in logs


def test_a_500_on_a_real_server_logs_no_statement_parameters(engine, test_data, make_user, tmp_path):
    """An INSERT of an application fails in the database (a trigger refers to a missing table):
    the traceback the server logs names the statement but none of the personal values bound to it."""
    test_data.publish_busan(engine)
    make_user("t.leak", "regional_official", "26")
    name, birth, passport = "Leak Probe Person", "1987-06-05", "LK7654321"
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        if postgres:
            conn.execute(
                text(
                    "CREATE FUNCTION leak_probe() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'leak probe' USING ERRCODE = 'XX000', "
                    "DETAIL = 'refused: ' || NEW.applicant_name || ' ' || NEW.passport_hash; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER leak_probe BEFORE INSERT ON application FOR EACH ROW EXECUTE FUNCTION leak_probe()"
                )
            )
        else:
            conn.execute(
                text("CREATE TRIGGER leak_probe BEFORE INSERT ON application BEGIN INSERT INTO nowhere VALUES (1); END")
            )
    port = _free_port()
    log = tmp_path / "server.log"
    env = {**os.environ, "REGIONVISA_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    try:
        with open(log, "wb") as out:
            server = subprocess.Popen(
                [str(CLI), "serve", "--port", str(port)], env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT
            )
            try:
                base = f"http://127.0.0.1:{port}"
                _wait_for(base, server, lambda: log.read_text())
                with httpx.Client(base_url=base, timeout=10) as client:
                    form = client.get("/login").text
                    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
                    client.post(
                        "/login",
                        data={
                            "username": "t.leak",
                            "password": test_data.TEST_PASSWORD,
                            "csrf_token": token,
                            "next": "/",
                        },
                    )
                    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/account").text).group(1)
                    profile = {
                        "nationality": "VNM", "birth_date": birth, "passport_valid_until": "2030-01-01",
                        "entry_ban": False, "criminal_record": False, "prior_illegal_stay": False,
                        "course_type": "degree", "bank_balance_krw": 9_000_000, "university_region": "26",
                        "topik_level": 4, "kiip_level": 1, "education_level": "high_school",
                    }  # fmt: skip
                    answer = client.post(
                        "/api/v1/applications",
                        json={"program_id": "busan-d2", "name": name, "passport_no": passport, "applicant": profile},
                        headers={"X-CSRF-Token": token},
                    )
                    assert answer.status_code == 500, answer.text[:300]
            finally:
                server.terminate()
                server.wait(timeout=30)
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TRIGGER IF EXISTS leak_probe" + (" ON application" if postgres else "")))
            if postgres:
                conn.execute(text("DROP FUNCTION IF EXISTS leak_probe()"))
    written = log.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" in written and "INSERT INTO application" in written  # the failure was logged
    current = pii.keyring().current
    for secret in (name, birth, passport, pii.lookup_hash([passport])[0], "Leak Probe"):
        assert secret not in written, secret
    assert not re.search(rf"{re.escape(current)}:[A-Za-z0-9+/]{{16,}}", written)  # no passport ciphertext
    assert "parameters hidden" in written


# --------------------------------------------------------------------------- no-store


def test_responses_with_a_whole_passport_number_are_never_cached(engine, test_data, app, role_users, login):
    from fastapi.testclient import TestClient

    from regionvisa.applications import intake
    from regionvisa.db import session_scope

    test_data.publish_busan(engine)
    profile = {
        "nationality": "VNM", "birth_date": "2001-03-04", "passport_valid_until": "2030-01-01", "entry_ban": False,
        "criminal_record": False, "prior_illegal_stay": False, "course_type": "degree",
        "bank_balance_krw": 9_000_000, "university_region": "26", "topik_level": 4, "kiip_level": 1,
        "education_level": "high_school",
    }  # fmt: skip
    with session_scope(engine=engine) as session:
        app_id = intake.submit(
            session=session, program_id="busan-d2", applicant=profile, name="Cache Person", passport_no="NS1234567",
            actor=SYSTEM,
        ).id  # fmt: skip
    full = sorted(POLICY["applications.passport"])
    assert full == ["ministry_admin", "ministry_officer"]
    for role in full:
        client = TestClient(app)
        login(client, role_users[role]["username"])
        api = client.get(f"/api/v1/applications/{app_id}")
        page = client.get(f"/applications/{app_id}")
        assert api.json()["passport_no"] == "NS1234567" and "NS1234567" in page.text
        assert api.headers["cache-control"] == "no-store", role
        assert page.headers["cache-control"] == "no-store", role
    busan = TestClient(app)
    login(busan, "t.busan")
    masked = busan.get(f"/api/v1/applications/{app_id}")
    assert "passport_no" not in masked.json() and "NS1234567" not in masked.text
