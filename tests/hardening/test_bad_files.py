"""Bad files get a clear error, never a 500 or silent acceptance (issue 14, requirement 8).

Every kind of bad file is sent to every upload endpoint (records import, screening a file,
applications import): each answers 422 in the one error shape, in Korean and English, naming the
file as it was sent and never a path on the server. The same files fail the same way through
`regionvisa records import`. CSV and XLSX outputs neutralise spreadsheet formulas (OWASP).
"""

from __future__ import annotations

import io
import json
import tempfile

import openpyxl
import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.jobs.support import follow

from regionvisa.reports.files import neutralise_formulas, write_csv_safe, write_xlsx_safe
from regionvisa.tabular import TableFileError, find_lone_surrogate, open_table

from .uploads_support import BAD_CASES, ON, UPLOAD_IDS, UPLOADS, bad_file, publish_busan, tokens_for


@pytest.fixture
def setup(engine, role_users, records, tmp_path, monkeypatch):
    """busan-d2 published, a few people in the records, tokens per role, uploads kept under tmp."""
    from regionvisa.config import get_settings

    monkeypatch.setenv("REGIONVISA_UPLOAD_DIR", str(tmp_path / "uploads"))
    get_settings.cache_clear()
    publish_busan(engine)
    yield tokens_for(engine, role_users)
    get_settings.cache_clear()


@pytest.fixture
def api(app):
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def refusal(api, response, headers: dict) -> tuple[int, dict]:
    """The status and error of a refused upload: the answer itself, or, for an upload that runs as a
    job (a records import reads its rows there), the failed job's error, with the 422 it stands for."""
    if response.status_code != 202:
        return response.status_code, response.json()["error"]
    job = follow(api, response, api.app.state.engine, headers=headers)
    assert job["state"] == "failed", job
    return 422, job["result"]["error"]


def assert_clear_error(response, status: int, code: str, file_name: str, *, api=None, headers=None) -> dict:
    got, error = refusal(api, response, headers) if api is not None else (response.status_code, None)
    assert got == status, response.text[:1000]
    error = error or response.json()["error"]
    assert error["code"] == code, error
    ko, en = error["message"]["ko"], error["message"]["en"]
    assert ko and en and ko != en
    assert any("\uac00" <= ch <= "\ud7a3" for ch in ko), ko  # Korean text in the Korean message
    assert file_name in en and file_name in ko, error
    for secret in (tempfile.gettempdir(), "upload-", "/var/", "/work/", ".venv"):
        assert secret not in response.text, (secret, response.text)
    return error


def count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


@pytest.mark.parametrize("case", sorted(BAD_CASES))
@pytest.mark.parametrize("upload", UPLOADS, ids=UPLOAD_IDS)
def test_every_bad_file_gets_a_clear_error_on_every_upload_endpoint(api, setup, engine, upload, case):
    """Was: 500 for an empty CSV, a Parquet list column, a broken XLSX and a lone surrogate; a
    duplicated header column was accepted; errors showed the server's temporary path."""
    fmt, code = BAD_CASES[case]
    name, content = bad_file(case, upload)
    if fmt not in upload.formats:
        code = "unsupported_file"  # a clear refusal of the type, before the content is read
    before = (count(engine, "address_report"), count(engine, "application"))
    response = api.post(upload.path, data=upload.data, files={"file": (name, content)}, headers=setup[upload.role])
    error = assert_clear_error(response, 422, code, name, api=api, headers=setup[upload.role])
    assert error["field"] == "file"
    assert (count(engine, "address_report"), count(engine, "application")) == before, "nothing is written"


@pytest.mark.parametrize("upload", UPLOADS, ids=UPLOAD_IDS)
def test_a_good_file_is_still_accepted_by_every_endpoint(api, setup, upload):
    """The control of the test above: the same endpoints accept a plain good CSV (200, or a job that succeeds)."""
    headers = setup[upload.role]
    response = api.post(upload.path, data=upload.data, files={"file": ("good.csv", upload.good_csv())}, headers=headers)
    if response.status_code == 202:  # a records import runs as a job: it must succeed
        assert follow(api, response, api.app.state.engine, headers=headers)["state"] == "succeeded"
    else:
        assert response.status_code == 200, response.text


def test_duplicate_header_names_the_repeated_column(api, setup):
    upload = UPLOADS[0]
    name, content = bad_file("duplicate_header_csv", upload)
    response = api.post(upload.path, files={"file": (name, content)}, headers=setup[upload.role])
    error = assert_clear_error(response, 422, "duplicate_columns", name)
    assert "area_code" in error["message"]["en"] and "area_code" in error["message"]["ko"]


def test_a_header_only_csv_is_an_empty_table_not_an_error(api, setup):
    """A header and no rows is a valid table of zero rows: screened as zero applicants, imported as nothing."""
    officer = setup["ministry_officer"]
    screen = api.post(
        "/api/v1/programs/busan-d2/screen/file",
        data={"on": ON},
        files={"file": ("none.csv", b"applicant_id,topik_level\n")},
        headers=officer,
    )
    assert screen.status_code == 200, screen.text
    assert screen.json()["summary"]["applicants"] == 0 and screen.json()["rows"] == []
    imported = api.post(
        "/api/v1/records/addresses/imports",
        files={"file": ("none.csv", b"person_id,area_code,effective_date,reported_date\n")},
        headers=officer,
    )
    job = follow(api, imported, api.app.state.engine, headers=officer)  # the import runs as a job
    assert job["state"] == "succeeded", job
    summary = job["result"]["summary"]
    assert (summary["rows_read"], summary["outcome"]) == (0, "committed")


def test_a_lone_surrogate_in_a_json_body_is_refused(api, setup):
    """Was: 500 (the applicants were re-encoded as UTF-8 text). Escaped or raw, it is no character."""
    officer = setup["ministry_officer"]
    for body in (
        b'{"on": "2025-06-01", "applicants": [{"applicant_id": "\\ud800"}]}',
        b'{"on": "2025-06-01", "applicants": [{"applicant_id": "\\udc00"}]}',
        b'{"on": "2025-06-01", "applicants": [{"applicant_id": "\xed\xa0\x80"}]}',
    ):
        response = api.post(
            "/api/v1/programs/busan-d2/screen",
            content=body,
            headers={**officer, "Content-Type": "application/json"},
        )
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "invalid_text"
    pair = b'{"on": "2025-06-01", "applicants": [{"applicant_id": "\\ud83d\\ude00 \\\\ud800"}]}'
    response = api.post(
        "/api/v1/programs/busan-d2/screen", content=pair, headers={**officer, "Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text  # a surrogate pair is a character; \\ud800 is text
    assert response.json()["rows"][0]["applicant_id"] == "\U0001f600 \\ud800"


def test_the_surrogate_scanner_tells_pairs_from_lone_halves():
    assert find_lone_surrogate(b'"\\ud800"') == 1
    assert find_lone_surrogate(b'"\\uDFFF"') == 1
    assert find_lone_surrogate(b'"\\ud83d\\ude00"') is None
    assert find_lone_surrogate(b'"\\\\ud800"') is None  # an escaped backslash, then text
    assert find_lone_surrogate(b'"\\\\\\ud800"') is not None
    assert find_lone_surrogate("한국어 \U0001f600".encode()) is None


def test_the_cli_import_reports_bad_files_without_a_traceback(cli, records, tmp_path):
    for case in ("empty_csv", "duplicate_header_csv", "list_parquet", "broken_xlsx", "cp949_csv"):
        name, content = bad_file(case, UPLOADS[0])
        path = tmp_path / name
        path.write_bytes(content)
        result = cli("records", "import", "addresses", str(path))
        assert result.exit_code == 2, (case, result.output)
        assert name in result.output and "Traceback" not in result.output, result.output
        assert isinstance(result.exception, SystemExit), result.exception


def test_one_reader_checks_every_file_before_its_rows(tmp_path):
    path = tmp_path / "twice.csv"
    path.write_bytes(b"a,b,a\n1,2,3\n")
    with pytest.raises(TableFileError) as caught:
        open_table(path, name="../../etc/their name.csv")
    assert caught.value.code == "duplicate_columns" and caught.value.name == "their name.csv"
    good = tmp_path / "good.csv"
    good.write_bytes(b"a,b\n" + b"".join(f"{i},x\n".encode() for i in range(10)))
    table = open_table(good)
    assert [b.height for b in table.batches(4)] == [4, 4, 2]
    assert table.read()["a"].to_list() == [str(i) for i in range(10)]


# --------------------------------------------------------------------------------- formulas


RISKY = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def test_formulas_are_neutralised_in_text_cells_only():
    frame = pl.DataFrame(
        {
            "text": [*RISKY, "plain", None, "-5"],
            "number": [-1, -2, -3, -4, -5, -6, 7, 8, -9],
            "ratio": [-0.5] * 9,
            "code": pl.Series(["-x"] * 9, dtype=pl.Enum(["-x"])),
        }
    )
    out = neutralise_formulas(frame)
    assert out["text"].to_list() == [f"'{v}" for v in RISKY] + ["plain", None, "'-5"]
    assert out["number"].to_list() == frame["number"].to_list() and out.schema["number"] == pl.Int64
    assert out["ratio"].to_list() == [-0.5] * 9
    assert out["code"].to_list() == ["'-x"] * 9


def test_csv_and_xlsx_writers_keep_numbers_and_neutralise_text(tmp_path):
    frame = pl.DataFrame({"who": ["=cmd|' /C calc'!A0", "ok"], "balance": [-1500, 20]})
    csv_text = write_csv_safe(frame)
    assert csv_text.splitlines()[1:] == ["'=cmd|' /C calc'!A0,-1500", "ok,20"]
    path = tmp_path / "out.xlsx"
    write_xlsx_safe(frame, path)
    sheet = openpyxl.load_workbook(path).active
    cells = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert cells == [["'=cmd|' /C calc'!A0", -1500], ["ok", 20]]
    assert sheet["B2"].data_type == "n" and sheet["A2"].data_type == "s"


def test_the_rejects_file_neutralises_formulas(cli, records, tmp_path):
    path = tmp_path / "addresses.csv"
    path.write_text(
        "person_id,area_code,effective_date,reported_date\n"
        "P10000001,=1+2,2025-03-01,2025-03-02\n"
        "P10000001,-26110,2025-03-05,2025-03-06\n",
        encoding="utf-8",
    )
    rejects = tmp_path / "rejects.csv"
    result = cli("records", "import", "addresses", str(path), "--rejects", str(rejects))
    assert result.exit_code == 0, result.output
    written = pl.read_csv(rejects, infer_schema=False)
    assert written["value"].to_list() == ["'=1+2", "'-26110"]
    assert written["line"].to_list() == ["2", "3"]  # numbers stay bare


def test_screening_csv_neutralises_formulas(api, setup):
    officer = setup["ministry_officer"]
    content = b"applicant_id,topik_level\n=HYPERLINK(1),3\n@x,2\nA-1,1\n"
    response = api.post(
        "/api/v1/programs/busan-d2/screen/file?format=csv",
        data={"on": ON},
        files={"file": ("risky.csv", content)},
        headers=officer,
    )
    assert response.status_code == 200, response.text
    ids = [line.split(",")[0] for line in response.text.splitlines()[1:]]
    assert ids == ["'=HYPERLINK(1)", "'@x", "A-1"]
    body = {"on": ON, "applicants": [{"applicant_id": "+1"}, {"applicant_id": "B1"}]}
    response = api.post("/api/v1/programs/busan-d2/screen?format=csv", json=body, headers=officer)
    assert [line.split(",")[0] for line in response.text.splitlines()[1:]] == ["'+1", "B1"]


def test_application_exports_neutralise_formulas(api, setup, engine):
    region = setup["regional_official"]
    csv = (
        "passport_no,name,nationality,birth_date,passport_valid_until,entry_ban,criminal_record,prior_illegal_stay,"
        "course_type,bank_balance_krw,university_region,topik_level\n"
        "CSV000001,=A,CHN,2000-01-01,2030-01-01,false,false,false,degree,9000000,26,4\n"
    )
    response = api.post(
        "/api/v1/applications/imports",
        data={"program_id": "busan-d2", "submitted_on": "2025-06-03"},
        files={"file": ("intake.csv", csv.encode())},
        headers=region,
    )
    job = follow(api, response, engine, headers=region)  # the intake runs as a job
    assert job["state"] == "succeeded" and job["result"]["summary"]["inserted"] == 1, job
    with engine.begin() as conn:  # a value a spreadsheet would run, as a later import could store it
        conn.execute(text("UPDATE application SET outcome = '=1+1'"))
    exported = api.get("/api/v1/applications/export?format=csv", headers=region)
    assert exported.status_code == 200, exported.text
    assert "'=1+1" in exported.text and ",=1+1" not in exported.text
    book = api.get("/api/v1/applications/export?format=xlsx", headers=region)
    sheet = openpyxl.load_workbook(io.BytesIO(book.content)).active
    values = [c.value for row in sheet.iter_rows(min_row=2) for c in row]
    assert "'=1+1" in values and "=1+1" not in values


def test_problem_messages_carry_no_server_paths(api, setup):
    """The unreadable-file message keeps the reader's reason but never where the file was kept."""
    upload = UPLOADS[1]
    name, content = bad_file("ragged_csv", upload)
    response = api.post(upload.path, data=upload.data, files={"file": (name, content)}, headers=setup[upload.role])
    error = assert_clear_error(response, 422, "unreadable_file", name)
    assert json.dumps(error).count("/") <= 2, error  # at most a date or a ratio, never a path
