"""`regionvisa compliance run --on DATE [--out FILE.csv]`: the §4.8 CSV, exactly."""

from __future__ import annotations

import polars as pl
import pytest
from typer.testing import CliRunner

from regionvisa.compliance import cli

HEADER = "person_id,rule,program_id,start_date,end_date,days"


@pytest.fixture
def loaded(engine, kit, monkeypatch):
    r = kit.Records()
    r.status("A", "2024-01-01", "2025-09-30").move("A", "entry", "2024-01-03")
    r.status("H", "2025-03-01", "2027-02-28", program_id="busan-d2")
    r.address("H", "26110", "2025-03-01").address("H", "11", "2025-05-01", "2025-05-31")
    kit.insert(engine, r.frames())
    monkeypatch.setattr(cli, "get_engine", lambda: engine)
    return engine


def test_run_writes_the_contract_csv(loaded, tmp_path):
    out = tmp_path / "findings.csv"
    result = CliRunner().invoke(cli.app, ["run", "--on", "2025-12-31", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines == [
        HEADER,
        "A,illegal_stay,,2025-10-01,,92",
        "H,late_address_report,busan-d2,2025-05-16,2025-05-31,16",
        "H,residence_obligation,busan-d2,2025-07-30,,155",
    ]
    assert "illegal_stay" in result.stderr and "불법체류" in result.stderr


def test_run_without_out_prints_the_csv(loaded):
    result = CliRunner().invoke(cli.app, ["run", "--on", "2025-06-30"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [HEADER, "H,late_address_report,busan-d2,2025-05-16,2025-05-31,16"]


def test_details_append_after_the_contract_columns(loaded, tmp_path):
    out = tmp_path / "findings.csv"
    result = CliRunner().invoke(cli.app, ["run", "--on", "2025-12-31", "--out", str(out), "--details"])
    assert result.exit_code == 0, result.output
    table = pl.read_csv(out)
    assert table.columns == [*HEADER.split(","), "severity", "evidence"]
    assert table["severity"].to_list() == ["high", "low", "high"]


def test_bad_date_is_a_usage_error(loaded):
    result = CliRunner().invoke(cli.app, ["run", "--on", "31/12/2025"])
    assert result.exit_code == 2
    assert "is not a date" in result.stderr


def test_record_opens_cases_once(loaded, tmp_path):
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from regionvisa.compliance.models import ComplianceCase, ComplianceRun

    out = tmp_path / "findings.csv"
    for _ in range(2):
        result = CliRunner().invoke(cli.app, ["run", "--on", "2025-12-31", "--out", str(out), "--record"])
        assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").splitlines()[0] == HEADER  # the contract is unchanged
    assert "2 cases opened" not in result.stderr and "0 cases opened" in result.stderr
    with Session(loaded) as s:
        assert s.scalar(select(func.count()).select_from(ComplianceRun)) == 2
        assert s.scalar(select(func.count()).select_from(ComplianceCase)) == 2  # H's two findings, once each
