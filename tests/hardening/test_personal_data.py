"""Personal data (issue 9, requirement 2): passports encrypted at rest under rotatable keys and
looked up by keyed hash, masked in lists and exports, kept out of logs, audit entries and every
text column; and a scan of what the whole suite wrote."""

from __future__ import annotations

import base64
import datetime as dt
import io
import logging
import os

import polars as pl
import pytest
from sqlalchemy import inspect, select, text
from tests.actors import SYSTEM
from tests.samples import PROFILE
from typer.testing import CliRunner

from regionvisa import migrate
from regionvisa.applications import intake, views
from regionvisa.applications.models import Application
from regionvisa.audit.models import AuditEntry
from regionvisa.config import get_settings
from regionvisa.db import session_scope
from regionvisa.records import keys_cli, pii
from regionvisa.records.models import Person

from .pii_scan import Scanner, read_text

ON = dt.date(2025, 6, 2)
SEEDED = [f"X{1000000 + i}" for i in range(8)]  # tests/conftest.py seed_records


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def keys(monkeypatch):
    """keys("k2:…,k1:…") switches the configured data keys (settings and keyring caches reset)."""

    def use(value: str) -> None:
        monkeypatch.setenv("REGIONVISA_DATA_KEYS", value)
        pii.reset_keyring()

    yield use
    monkeypatch.delenv("REGIONVISA_DATA_KEYS", raising=False)
    pii.reset_keyring()


@pytest.fixture
def busan(engine, tmp_path, monkeypatch, test_data):
    monkeypatch.setenv("REGIONVISA_UPLOAD_DIR", str(tmp_path / "uploads"))
    get_settings.cache_clear()
    test_data.publish_busan(engine)
    yield "busan-d2"
    get_settings.cache_clear()


def submit(engine, passport: str, name: str = "Nguyen Van Test") -> int:
    with session_scope(engine=engine) as session:
        return intake.submit(
            session=session,
            program_id="busan-d2",
            applicant=dict(PROFILE),
            name=name,
            passport_no=passport,
            actor=SYSTEM,
            on=ON,
        ).id


def text_of_tables(engine, tables=("person", "application")) -> str:
    """Every column of the tables, as text: what someone reading the database file would see."""
    parts = []
    with engine.connect() as conn:
        for table in tables:
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                parts.append(" ".join(str(v) for v in row))
    return "\n".join(parts)


def keys_cli_run(*args: str):
    """The `regionvisa keys` app (mounted in regionvisa.cli as `keys`)."""
    return CliRunner().invoke(keys_cli.app, list(args))


# --------------------------------------------------------------------------- at rest


def test_application_passport_is_stored_encrypted_with_a_lookup_hash(engine, busan):
    app_id = submit(engine, "AB1234567")
    with session_scope(engine=engine) as session:
        app = session.get(Application, app_id)
        assert pii.key_id(app.passport_enc) == pii.keyring().current
        assert app.passport_hash == app.open_passport == pii.lookup_hash(["ab 1234567"])[0]
        assert views.passport_of(app) == "AB1234567"
    assert "AB1234567" not in text_of_tables(engine)
    columns = {c["name"] for c in inspect(engine).get_columns("application")}
    assert "passport_no" not in columns and {"passport_enc", "passport_hash"} <= columns


def test_migration_0009_encrypts_existing_applications_and_back(sqlite_engine):
    migrate.downgrade(engine=sqlite_engine, revision="0008")
    now = dt.datetime(2025, 6, 2, tzinfo=dt.UTC)
    with sqlite_engine.begin() as conn:
        for passport, open_ in (("MG1234567", True), ("MG7654321", False)):
            conn.execute(
                text(
                    "INSERT INTO application (program_id, region, status, applicant_name, passport_no, open_passport,"
                    " nationality, profile, submitted_at, submitted_on, submitted_by, channel, simplified, reserved,"
                    " updated_at) VALUES ('p', '26', :status, 'Name', :passport, :open, 'VNM', '{}', :now, :on, 't',"
                    " 'api', 0, 0, :now)"
                ),
                {
                    "status": "screened" if open_ else "withdrawn",
                    "passport": passport,
                    "open": passport if open_ else None,
                    "now": now,
                    "on": ON,
                },
            )
    migrate.upgrade(engine=sqlite_engine)
    with sqlite_engine.connect() as conn:
        rows = conn.execute(
            text("SELECT passport_enc, passport_hash, open_passport FROM application ORDER BY id")
        ).all()
    assert pii.decrypt([r[0] for r in rows]) == ["MG1234567", "MG7654321"]
    assert [r[1] for r in rows] == pii.lookup_hash(["MG1234567", "MG7654321"])
    assert [r[2] for r in rows] == [rows[0][1], None]
    assert "MG1234567" not in text_of_tables(sqlite_engine, ("application",))
    migrate.downgrade(engine=sqlite_engine, revision="0008")
    with sqlite_engine.connect() as conn:
        back = conn.execute(text("SELECT passport_no, open_passport FROM application ORDER BY id")).all()
    assert [tuple(r) for r in back] == [("MG1234567", "MG1234567"), ("MG7654321", None)]
    migrate.upgrade(engine=sqlite_engine)


# --------------------------------------------------------------------------- rotation


def test_rotation_moves_every_value_to_the_new_key(engine, busan, records, keys, cli):
    k1, k2 = f"k1:{_key()}", f"k2:{_key()}"
    seeded = pii.keyring()  # the suite's keys, which the records were seeded under
    keys(k1)
    with session_scope(engine=engine) as session:  # re-write the seeded people under k1
        for person in session.scalars(select(Person)):
            person.passport_enc = pii.encrypt(pii.decrypt([person.passport_enc], seeded))[0]
    app_ids = [submit(engine, f"RT{i:07d}", name=f"Rotation {i}") for i in range(3)]
    clear_before = _clear_values(engine)
    assert {k for _t, k, _n, _c in pii.key_status(engine=engine)} == {"k1"}

    keys(f"{k2},{k1}")
    status = keys_cli_run("status")
    assert status.exit_code == 0, status.output
    assert "k1" in status.output and "current key: k2" in status.output
    result = keys_cli_run("rotate", "--batch", "2")  # several batches per table
    assert result.exit_code == 0, result.output
    assert "person: 8 values re-encrypted with k2" in result.output
    assert "application: 3 values re-encrypted with k2" in result.output
    assert [(t, k, n) for t, k, n, _c in pii.key_status(engine=engine)] == [
        ("person", "k2", 8),
        ("application", "k2", 3),
    ]
    assert _clear_values(engine) == clear_before
    with session_scope(engine=engine) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "records.keys.rotate")).all()
        assert sorted(e.subject_id for e in entries) == ["application", "person"]
        assert all(e.inputs["key_id"] == "k2" for e in entries)
    from regionvisa.audit.service import verify

    assert verify(engine=engine).ok

    keys(k2)  # k1 retired: everything still reads, lookups unchanged
    assert _clear_values(engine) == clear_before
    with session_scope(engine=engine) as session:
        app = session.get(Application, app_ids[0])
        assert app.open_passport == pii.lookup_hash(["RT0000000"])[0]

    keys(f"k3:{_key()}")  # a key no longer configured: a clear error naming it, nothing changed
    with pytest.raises(pii.KeyError_, match=r"'k2'.*REGIONVISA_DATA_KEYS"):
        _clear_values(engine)
    failed = keys_cli_run("rotate")
    assert failed.exit_code == 1
    assert "k2" in failed.output and "REGIONVISA_DATA_KEYS" in failed.output
    assert {k for _t, k, _n, _c in pii.key_status(engine=engine)} == {"k2"}


def _clear_values(engine) -> dict[str, list[str]]:
    with engine.connect() as conn:
        person = conn.execute(text("SELECT passport_enc FROM person ORDER BY person_id")).scalars().all()
        app = conn.execute(text("SELECT passport_enc FROM application ORDER BY id")).scalars().all()
    return {"person": pii.decrypt(person), "application": pii.decrypt(app)}


def test_keys_new_prints_a_usable_key(keys):
    result = keys_cli_run("new", "--id", "k7")
    assert result.exit_code == 0
    entry = result.output.strip()
    assert entry.startswith("k7:") and len(base64.b64decode(entry[3:])) == 32
    keys(entry)
    assert pii.key_id(pii.encrypt(["AB1234567"])[0]) == "k7"


# --------------------------------------------------------------------------- masking


def test_lists_and_exports_mask_only_the_ministry_sees_one_application_in_full(
    engine, busan, client, role_users, login
):
    app_id = submit(engine, "MK1234567", name="Masked Person")
    login(client, "t.busan")
    listed = client.get("/api/v1/applications").json()["items"]
    assert listed[0]["passport_masked"] == "•••••••67" and "passport_no" not in listed[0]
    detail = client.get(f"/api/v1/applications/{app_id}").json()
    assert "passport_no" not in detail and "MK1234567" not in str(detail)
    page = client.get(f"/applications/{app_id}").text
    assert "•••••••67" in page and "MK1234567" not in page
    listing = client.get("/applications").text
    # The region's official is granted `applications.search`: the name shows on the page, the
    # passport stays masked.
    assert "•••••••67" in listing and "MK1234567" not in listing and "Masked Person" in listing
    csv = client.get("/api/v1/applications/export?format=csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    frame = pl.read_csv(io.BytesIO(csv.content))
    assert frame["passport_masked"].to_list() == ["•••••••67"]
    assert "MK1234567" not in csv.text and "Masked Person" not in csv.text
    xlsx = client.get("/api/v1/applications/export?format=xlsx")
    assert xlsx.status_code == 200
    sheet = pl.read_excel(io.BytesIO(xlsx.content))
    assert sheet["passport_masked"].to_list() == ["•••••••67"] and "applicant_name" not in sheet.columns
    client.post("/logout", data={"csrf_token": client.cookies.get("csrf_token", "")})

    officer = client.__class__(client.app)
    login(officer, "t.officer")
    assert officer.get(f"/api/v1/applications/{app_id}").json()["passport_no"] == "MK1234567"
    assert "MK1234567" in officer.get(f"/applications/{app_id}").text
    assert "MK1234567" not in str(officer.get("/api/v1/applications").json())
    assert "MK1234567" not in officer.get("/applications").text
    assert "MK1234567" not in officer.get("/api/v1/applications/export?format=csv").text
    officer.post("/logout", data={"csrf_token": officer.cookies.get("csrf_token", "")})

    auditor = client.__class__(client.app)
    login(auditor, "t.auditor")
    audited = auditor.get("/applications")
    assert audited.status_code == 200 and "Masked Person" not in audited.text and "MK1234567" not in audited.text


# --------------------------------------------------------------------------- nothing leaks


def test_no_clear_passport_or_name_in_logs_audit_exports_or_tables(
    engine, sqlite_engine, busan, records, cli, tmp_path, caplog, artifacts_dir
):
    """Records import, synth write, submission, bulk intake with rejects, exports and the audit log,
    with logging at DEBUG: clear passports and names appear in none of them, nor passports in the
    tables' text."""
    from regionvisa.synth import service as synth

    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)  # echo off, as in production
    names = ["Leak Check One", "Leak Check Two"]
    passports = ["LK1234567", "LK7654321"]
    submit(engine, passports[0], name=names[0])
    intake = tmp_path / "intake.csv"
    header = (
        "passport_no,name,nationality,birth_date,passport_valid_until,entry_ban,criminal_record,prior_illegal_stay,"
        "course_type,bank_balance_krw,university_region,topik_level,kiip_level,sex"
    )
    good = "{p},{n},VNM,2001-02-03,2030-01-01,false,false,false,degree,9000000,26,4,1,F"
    lines = [header, good.format(p=passports[1], n=names[1]), good.format(p=passports[0], n=names[0])]
    intake.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rejects = tmp_path / "intake-rejects.csv"
    args = ["applications", "import", str(intake), "--program", "busan-d2", "--on", ON.isoformat()]
    result = cli(*args, "--rejects", str(rejects))
    assert result.exit_code == 0, result.output
    assert "•••••••67" in rejects.read_text(encoding="utf-8")  # the open duplicate, reported masked
    export_csv = tmp_path / "applications-export.csv"
    export_xlsx = artifacts_dir / "personal-data-applications-export.xlsx"
    for target in (export_csv, export_xlsx):
        result = cli("applications", "export", str(target))
        assert result.exit_code == 0, result.output
        assert "2 applications" in result.output

    synth.write_dataset(engine=sqlite_engine, residents=200, seed=11, progress=False)
    with sqlite_engine.connect() as conn:
        synth_clear = pii.decrypt(conn.execute(text("SELECT passport_enc FROM person")).scalars().all())
    assert len(synth_clear) >= 200  # residents, plus people who have left

    with session_scope(engine=engine) as session:
        audit = "\n".join(
            f"{e.action} {e.reason} {e.inputs}" for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        )
    assert "application.import" in audit and "application.submit" in audit
    exports = "\n".join(read_text(p) for p in (export_csv, export_xlsx, rejects))
    assert "•••••••21" in exports  # the exports do hold the (masked) applications
    logs = caplog.text
    clear = passports + SEEDED + synth_clear
    for where, body in (("logs", logs), ("audit", audit), ("exports", exports)):
        assert not [p for p in clear if p in body], f"clear passport in {where}"
        assert not [n for n in names if n in body], f"applicant name in {where}"
    stored = text_of_tables(engine) + text_of_tables(sqlite_engine, ("person",))
    assert not [p for p in clear if p in stored]
    assert pii.lookup_hash([passports[1]])[0] in stored  # the scan did read the rows


def test_the_scan_finds_a_clear_passport(tmp_path):
    """The suite scan recognises the synth shape and any identifier the suite stored, and reports masked."""
    scanner = Scanner(started=0)
    scanner.remember("WALK260001")
    assert scanner.leaks_in_text("ok RV202526000000001 P10000001 k1:abc") == []
    assert scanner.leaks_in_text("user AB1234567 and WALK260001 x") == ["AB1234567", "WALK260001"]
    assert scanner.leaks_in_text("•••••••67 and ab1234567") == []


def test_suite_outputs_hold_no_clear_identifiers(request):
    """Run last (the pii_scan plugin moves it there): logs and exports of the whole run so far."""
    try:
        scanner = request.getfixturevalue("pii_scanner")
    except pytest.FixtureLookupError:
        pytest.fail("the pii_scan plugin is not loaded (pytest_plugins in tests/conftest.py)")
    findings = scanner.scan()
    assert scanner.log_path is not None and scanner.log_path.exists()
    assert not findings, f"clear passport numbers (shown masked) in: {findings}"
