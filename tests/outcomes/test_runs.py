"""Stored pilot outcome runs (SQLite and PostgreSQL): a run keeps its parameters and canonical
JSON with its digest, is recomputed from the records byte for byte, is audited, and is scoped as
its result (a regional official stores and reads their own region's runs only)."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess

import pytest
from sqlalchemy import select
from tests.actors import AUDITOR, BUSAN, SYSTEM
from tests.jobs.support import follow, follow_page
from tests.outcomes.test_report import PERIOD, SEOUL_PILOT, seed

from regionvisa.audit.models import AuditEntry
from regionvisa.core.errors import Forbidden, NotFound
from regionvisa.db import session_scope
from regionvisa.outcomes import report, service
from regionvisa.outcomes.models import OutcomeRun

ON, SINCE = dt.date(2026, 6, 30), dt.date(2024, 1, 1)


@pytest.fixture
def seeded(engine, records, tmp_path):
    seed(engine, records, tmp_path)
    return engine


def _store(engine, actor, region=None) -> int:
    with session_scope(engine=engine) as session:
        return service.store_run(session=session, actor=actor, on=ON, since=SINCE, region=region).id


def test_a_stored_run_reproduces_byte_for_byte_and_is_audited(seeded):
    run_id = _store(seeded, SYSTEM)
    with session_scope(engine=seeded) as session:
        run = service.get_run(session=session, actor=AUDITOR, run_id=run_id)
        body = service.result_of(run)
        assert (body["since"], body["on"], body["region"]) == ("2024-01-01", "2026-06-30", None)
        programmes = {row[body["indicators"]["columns"].index("program_id")] for row in body["indicators"]["rows"]}
        assert {"busan-d2", SEOUL_PILOT} <= programmes
        check = service.reproduce_run(session=session, actor=AUDITOR, run_id=run_id)
        assert check["identical"] and check["stored_sha256"] == check["recomputed_sha256"] == run.result_sha256
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "outcomes.run")).one()
        assert entry.subject_id == str(run_id)


def test_a_regional_official_stores_and_reads_their_own_region_only(seeded):
    with pytest.raises(Forbidden):
        _store(seeded, BUSAN, region="11")
    own = _store(seeded, BUSAN)
    national = _store(seeded, SYSTEM)
    seoul = _store(seeded, SYSTEM, region="11")
    with session_scope(engine=seeded) as session:
        run = service.get_run(session=session, actor=BUSAN, run_id=own)
        assert run.region == "26" and SEOUL_PILOT not in run.result_json
        for other in (national, seoul):
            with pytest.raises(NotFound):
                service.get_run(session=session, actor=BUSAN, run_id=other)
            with pytest.raises(NotFound):
                service.reproduce_run(session=session, actor=BUSAN, run_id=other)
        assert [r.id for r in service.runs(session=session, actor=BUSAN)] == [own]
        assert {r.id for r in service.runs(session=session, actor=AUDITOR)} == {own, national, seoul}
        assert json.loads(run.params_json)["region"] == "26"


@pytest.mark.parametrize(
    ("lang", "words"),
    [("ko", ("시범사업 성과 보고서", "비교군", "부산")), ("en", ("Pilot outcome report", "Comparison group", "Busan"))],
)
def test_a_stored_run_renders_as_pdf_and_xlsx_in_either_language(seeded, tmp_path, lang, words):
    import openpyxl

    run_id = _store(seeded, SYSTEM)
    with session_scope(engine=seeded) as session:
        run = service.get_run(session=session, actor=AUDITOR, run_id=run_id)
        result, digest = service.result_of(run), run.result_sha256
    pdf = report.render(result, ".pdf", lang, run_id=run_id, sha256=digest)
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "outcomes.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert "Tagged:          yes" in info
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    for word in words:
        assert word in flat
    assert digest in text.replace("\n", "")
    # one take-up row per programme: busan-d2's latest month under a ledger (2 of 10 places by
    # 2025-12); the monthly rows are the workbook's
    assert "2025-12" in flat and "20.0%" in flat and "2024-05" not in flat
    xlsx = report.render(result, ".xlsx", lang)
    assert xlsx == report.render(result, ".xlsx", lang)  # the same run gives the same workbook
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    first = book.worksheets[0]
    heads = [c.value for c in first[1]]
    assert words[1] in {c.value for c in first["A"]}
    assert heads[heads.index("program_id") if "program_id" in heads else 1] != "program_id"


@pytest.mark.parametrize(("fmt", "lang"), [("pdf", "en"), ("xlsx", "ko")])
def test_the_report_runs_as_a_job_and_its_file_downloads(
    engine, records, tmp_path, client, login, role_users, fmt, lang
):
    seed(engine, records, tmp_path)
    csrf = login(client, "t.busan")
    started = client.post(
        "/api/v1/outcomes/reports", json={**PERIOD, "format": fmt, "lang": lang}, headers={"X-CSRF-Token": csrf}
    )
    job = follow(client, started, engine)
    assert job["state"] == "succeeded", job
    summary = job["result"]["summary"]
    assert summary["format"] == fmt and job["result"]["href"] == f"/api/v1/jobs/{job['id']}/file"
    download = client.get(job["result"]["href"])
    assert download.status_code == 200
    assert download.content.startswith(b"%PDF" if fmt == "pdf" else b"PK")
    run = client.get(f"/api/v1/outcomes/runs/{summary['run_id']}").json()
    assert run["region"] == "26" and run["result_sha256"] == summary["result_sha256"]
    assert client.get(f"/api/v1/outcomes/runs/{summary['run_id']}/reproduce").json()["identical"] is True
    refused = client.post("/api/v1/outcomes/reports", json={**PERIOD, "region": "11"}, headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 403
    national = _store(engine, SYSTEM)
    assert client.get(f"/api/v1/outcomes/runs/{national}").status_code == 404
    hidden = client.post("/api/v1/outcomes/reports", json={"run_id": national}, headers={"X-CSRF-Token": csrf})
    assert hidden.status_code == 404


def test_the_commands_store_reproduce_and_export_a_run(cli, engine, records, tmp_path):
    seed(engine, records, tmp_path)
    stored = cli("outcomes", "run", "--on", "2026-06-30", "--since", "2024-01-01", "--region", "26")
    assert stored.exit_code == 0, stored.output
    run_id = int(stored.stdout.split()[2])
    listed = cli("outcomes", "runs")
    assert listed.exit_code == 0 and max(len(line) for line in listed.stdout.splitlines()) <= 80
    again = cli("outcomes", "reproduce", str(run_id))
    assert again.exit_code == 0 and "identical" in again.stdout, again.output
    for name, lang in (("r.pdf", "ko"), ("r.xlsx", "en")):
        wrote = cli("outcomes", "export", str(run_id), str(tmp_path / name), "--lang", lang)
        assert wrote.exit_code == 0, wrote.output
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "r.xlsx").read_bytes().startswith(b"PK")
    assert cli("outcomes", "reproduce", "999999").exit_code == 1


def test_the_page_starts_the_report_job_for_the_period_shown(engine, records, tmp_path, client, login, role_users):
    """The /outcomes page hands the period on to a job (no JavaScript: a form, then the job's page
    that ends with a link to the file); a regional official's report is their own region's."""
    seed(engine, records, tmp_path)
    csrf = login(client, "t.busan")
    page = client.get("/outcomes", params=PERIOD)
    assert page.status_code == 200 and 'id="report-form"' in page.text
    assert f'name="on" value="{PERIOD["on"]}"' in page.text
    started = client.post(
        "/outcomes/reports", data={**PERIOD, "format": "pdf", "lang": "ko", "csrf_token": csrf}, follow_redirects=False
    )
    assert started.status_code == 303 and started.headers["location"].startswith("/jobs/")
    done = follow_page(client, started, engine)
    link = done.text.split('id="job-result" class="button primary" href="')[1].split('"')[0]
    assert client.get(link).content.startswith(b"%PDF")
    with session_scope(engine=engine) as session:
        assert [r.region for r in session.scalars(select(OutcomeRun)).all()] == ["26"]
    # another region, or a period that ends before it starts: the same page with the message, as typed
    other = client.post("/outcomes/reports", data={**PERIOD, "region": "11", "csrf_token": csrf})
    assert other.status_code == 403
    backwards = client.post(
        "/outcomes/reports?lang=en", data={"on": "2024-01-01", "since": "2026-06-30", "csrf_token": csrf}
    )
    assert backwards.status_code == 422 and 'id="form"' in backwards.text
    assert 'value="2026-06-30"' in backwards.text and "before the start of the period" in backwards.text


def test_the_pdf_takeup_is_the_latest_month_a_ledger_covers_per_programme():
    columns = ["program_id", "region", "visa", "month", "new_holders", "cumulative", "quota", "takeup",
               "comparison_new"]  # fmt: skip
    rows = [
        ["b-d2", "26", "D-2", "2025-01", 1, 1, 10, 0.1, 2],
        ["b-d2", "26", "D-2", "2025-02", 2, 3, 10, 0.3, 0],
        ["b-d2", "26", "D-2", "2025-03", 4, 7, None, None, 5],
        ["a-e7", "11", "E-7", "2025-01", 0, 0, None, None, 1],
        ["a-e7", "11", "E-7", "2025-02", 3, 3, None, None, 1],
    ]
    latest = report.latest_takeup({"columns": columns, "rows": rows})
    assert latest["columns"] == list(report.SUMMARY)
    assert latest["rows"] == [
        ["b-d2", "26", "D-2", "2025-02", 3, 10, 0.3, 2],  # comparison holders to that month
        ["a-e7", "11", "E-7", "2025-02", 3, None, None, 2],  # no ledger: the latest month
    ]
    assert report.latest_takeup({"columns": columns, "rows": []})["rows"] == []
