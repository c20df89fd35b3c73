"""Round trip through the database (SQLite, and PostgreSQL when configured): the service reads
only what can produce a finding, yet finds exactly what the engine finds over every record."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from tests.actors import SYSTEM

from regionvisa.compliance import engine as eng
from regionvisa.compliance.rules import compliance_rules
from regionvisa.compliance.service import programme_obligations, run_compliance

ON = dt.date(2025, 12, 31)


def build(kit):
    r = kit.Records()
    # ordinary residents: covered, in the country, reporting on time, except 'O3' (15 days late)
    for i in range(20):
        p = f"O{i}"
        r.status(p, "2025-01-01", "2026-12-31", visa="E-9", region="41").move(p, "entry", "2025-01-03")
        r.address(p, "41135", "2025-01-05", "2025-01-10")
    r.address("O3", "41190", "2025-06-01", "2025-06-16")  # 15 days: late
    r.address("O4", "41190", "2025-06-01", "2025-06-15")  # 14 days: on time
    r.move("O5", "exit", "2025-12-01")  # abroad 30 days: not a departure yet
    # overstay; departed-and-gone; one who left after overstaying
    r.status("A", "2024-01-01", "2025-09-30").move("A", "entry", "2024-01-03")
    r.status("X", "2025-01-01", "2026-12-31").move("X", "entry", "2025-01-02").move("X", "exit", "2025-07-01")
    r.status("L", "2024-01-01", "2025-03-31").move("L", "entry", "2024-01-03").move("L", "exit", "2025-05-01")
    # left after the status ended, and had reported an address late: only the late report
    r.status("LL", "2024-01-01", "2025-03-31", region="44").move("LL", "entry", "2024-01-03")
    r.address("LL", "44133", "2024-02-01", "2024-03-01").move("LL", "exit", "2025-04-01")
    # programme holders: one outside too long, one late for KIIP, one compliant
    r.status("H1", "2025-03-01", "2027-02-28", program_id="busan-d2", region="26")
    r.address("H1", "26110", "2025-03-01", "2025-03-02").address("H1", "11", "2025-05-01", "2025-05-31")
    r.status("H2", "2024-06-01", "2026-05-31", program_id="gyeonggi-e7", region="41", visa="E-7")
    r.address("H2", "41135", "2024-06-01").kiip("H2", "2025-07-01")
    r.status("H3", "2024-06-01", "2026-05-31", program_id="busan-d2", region="26")
    r.address("H3", "26", "2024-06-01").kiip("H3", "2024-09-01", "2025-03-01", level=1).job("H3", "26", "2024-07-01")
    return r


def add_later_records(r) -> None:
    r.status("A", "2025-10-01", "2026-09-30", granted_on="2026-01-10")
    r.address("H3", "11", "2025-02-01", "2026-01-05")
    r.address("O1", "11", "2025-11-01", "2026-01-20")
    r.move("X", "entry", "2026-01-02").kiip("H1", "2026-01-03").job("H1", "11", "2026-01-04")


def test_database_run_equals_the_engine_over_all_records(engine, kit):
    r = build(kit)
    kit.insert(engine, r.frames())
    run = run_compliance(engine=engine, on=ON)
    progs = programme_obligations()
    expected = eng.find_all(r.frames(), progs, compliance_rules().settings_on(ON))
    assert run.findings.equals(expected)
    assert kit.rows(run.findings) == [
        ("A", "illegal_stay", None, "2025-10-01", None, 92),
        ("H1", "late_address_report", "busan-d2", "2025-05-16", "2025-05-31", 16),
        ("H1", "residence_obligation", "busan-d2", "2025-07-30", None, 155),
        ("H2", "integration_obligation", "gyeonggi-e7", "2025-06-02", None, 213),
        ("LL", "late_address_report", None, "2024-02-16", "2024-03-01", 15),
        ("O3", "late_address_report", None, "2025-06-16", "2025-06-16", 1),
        ("X", "unreported_departure", None, "2025-09-30", None, 93),
    ]
    # holders (3), the overstayer, the one gone with a status still running; not the 20
    # ordinary residents, nor L, who left after the status ended (no finding is possible)
    assert run.people_read == 5
    assert run.rows_read["address_report"] == 6  # the holders' four plus the late ones of O3 and LL
    assert run.unknown_programmes == []
    assert run.read_seconds > 0 and run.engine_seconds > 0


def test_records_arriving_later_leave_a_past_answer_unchanged(engine, kit):
    r = build(kit)
    kit.insert(engine, r.frames())
    before = run_compliance(engine=engine, on=ON).findings
    later = kit.Records()
    add_later_records(later)
    frames = later.frames()
    frames["person"] = frames["person"].filter(pl.lit(False))  # everyone exists already
    kit.insert(engine, frames)
    assert run_compliance(engine=engine, on=ON).findings.equals(before)
    # ...while a later date sees them, exactly as the engine does over all records
    add_later_records(r)
    day = dt.date(2026, 1, 31)
    now = run_compliance(engine=engine, on=day).findings
    assert now.equals(eng.find_all(r.frames(), programme_obligations(), compliance_rules().settings_on(day)))
    assert not now.equals(
        eng.find_all(build(kit).frames(), programme_obligations(), compliance_rules().settings_on(day))
    )


def test_unknown_programme_ids_are_reported(engine, kit):
    r = kit.Records()
    r.status("Z", "2025-01-01", "2026-12-31", program_id="atlantis-d2").address("Z", "11", "2025-01-01")
    kit.insert(engine, r.frames())
    run = run_compliance(engine=engine, on=ON)
    assert run.unknown_programmes == ["atlantis-d2"]
    assert run.findings.height == 0


@pytest.mark.parametrize("on", ["2025-03-31", "2025-06-15", "2025-09-30"])
def test_pushdown_is_exact_on_other_dates(engine, kit, on):
    r = build(kit)
    kit.insert(engine, r.frames())
    day = dt.date.fromisoformat(on)
    progs = programme_obligations()
    expected = eng.find_all(r.frames(), progs, compliance_rules().settings_on(day))
    assert run_compliance(engine=engine, on=day).findings.equals(expected)


def test_indicator_service_reads_the_year_as_it_stood(engine, kit):
    from regionvisa.compliance.indicators import indicators
    from regionvisa.compliance.service import compute_indicators
    from regionvisa.regions.service import regions_frame

    r = build(kit)
    kit.insert(engine, r.frames())
    got = compute_indicators(engine=engine, year=2025)
    assert got.height == 17
    assert got.equals(indicators(r.frames(), programme_obligations(), regions_frame(), 2025))
    busan = got.filter(region="26").row(0, named=True)
    assert (busan["holders"], busan["holders_in_kiip"]) == (2, 1)  # H1, H3; H3 enrolled in KIIP
    later = kit.Records()
    add_later_records(later)
    frames = later.frames()
    frames["person"] = frames["person"].filter(pl.lit(False))
    kit.insert(engine, frames)
    assert compute_indicators(engine=engine, year=2025).equals(got)


def test_published_designs_in_the_database_replace_the_files(engine, kit, tmp_path):
    """A version published through the system governs the holders granted while it is valid."""
    import yaml

    from regionvisa.config import PROJECT_ROOT
    from regionvisa.db import session_scope
    from regionvisa.programs import service as programs

    design = yaml.safe_load((PROJECT_ROOT / "policy/programs/26/busan-d2.yaml").read_text(encoding="utf-8"))
    design["residence_area"] = ["26110"]  # version stored in the database: one district only
    path = tmp_path / "busan-d2.yaml"
    path.write_text(yaml.safe_dump(design, allow_unicode=True), encoding="utf-8")
    r = kit.Records()
    r.status("H", "2025-05-01", "2027-04-30", program_id="busan-d2").address("H", "26440", "2025-05-01")
    kit.insert(engine, r.frames())
    assert run_compliance(engine=engine, on=ON).findings.height == 0  # files: all of Busan
    with session_scope(engine=engine) as session:
        programs.load_files(session=session, paths=[path], actor=SYSTEM, publish=True)
    progs = programme_obligations(engine=engine).filter(program_id="busan-d2")
    assert progs["residence_area"].to_list() == [["26110"]]
    assert kit.rows(run_compliance(engine=engine, on=ON).findings) == [
        ("H", "residence_obligation", "busan-d2", "2025-07-30", None, 155)
    ]
