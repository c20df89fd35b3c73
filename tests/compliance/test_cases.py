"""Enforcement cases: opened from findings on holders, never duplicated, noted when a finding
disappears, moved through their life cycle with an audit entry for every action."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from tests.actors import NAMED_OFFICER, SYSTEM

from regionvisa.audit.models import AuditEntry
from regionvisa.compliance import cases
from regionvisa.compliance.models import ComplianceCase, ComplianceCaseEvent
from regionvisa.core.errors import Conflict, DomainError
from regionvisa.db import session_scope

ON = dt.date(2025, 12, 31)


def scenario(kit):
    r = kit.Records()
    # Busan holder: moved to Seoul on 1 May and reported it late
    r.status("H1", "2025-03-01", "2027-02-28", program_id="busan-d2", region="26")
    r.address("H1", "26110", "2025-03-01", "2025-03-02").address("H1", "11", "2025-05-01", "2025-05-31")
    # Gyeonggi E-7 holder who never enrolled in KIIP (deadline 12 months)
    r.status("H2", "2024-06-01", "2026-05-31", program_id="gyeonggi-e7", region="41", visa="E-7")
    r.address("H2", "41135", "2024-06-01").job("H2", "41", "2024-06-01")
    # Busan holder 80 days outside so far and still outside: at risk, 10 days left
    r.status("H3", "2025-06-01", "2027-05-31", program_id="busan-d2", region="26")
    r.address("H3", "26110", "2025-06-01").address("H3", "11", "2025-10-13").kiip("H3", "2025-07-01")
    # not a holder: an overstay is a finding but opens no case
    r.status("A", "2024-01-01", "2025-09-30", region="26").move("A", "entry", "2024-01-03")
    return r


def counts(engine) -> dict[str, int]:
    with Session(engine) as s:
        return dict(s.execute(select(ComplianceCase.rule, func.count()).group_by(ComplianceCase.rule)).all())


def audit_actions(engine, case_id: int) -> list[str]:
    with Session(engine) as s:
        return list(
            s.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.subject_type == "compliance_case", AuditEntry.subject_id == str(case_id))
                .order_by(AuditEntry.seq)
            )
        )


def test_findings_on_holders_open_cases_in_their_region(engine, kit):
    kit.insert(engine, scenario(kit).frames())
    result = cases.record_run(engine=engine, on=ON, actor=SYSTEM)
    assert result.findings == 4 and result.holder_findings == 3 and result.cases_opened == 3
    with Session(engine) as s:
        rows = {(c.person_id, c.rule): c for c in s.scalars(select(ComplianceCase))}
        assert set(rows) == {
            ("H1", "late_address_report"),
            ("H1", "residence_obligation"),
            ("H2", "integration_obligation"),
        }
        assert rows["H1", "residence_obligation"].region == "26"
        assert rows["H2", "integration_obligation"].region == "41"
        assert all(c.status == "open" and c.finding_present for c in rows.values())
        # the region queue holds its own; the ministry queue holds every region
        assert cases.list_cases(session=s, actor=SYSTEM, region="26").total == 2
        assert cases.list_cases(session=s, actor=SYSTEM, region="41").total == 1
        assert cases.list_cases(session=s, actor=SYSTEM).total == 3
        # highest severity first
        assert cases.list_cases(session=s, actor=SYSTEM).items[0].severity == "high"
    case_id = rows["H1", "residence_obligation"].id
    assert audit_actions(engine, case_id) == ["compliance.case_open"]


def test_rerunning_never_duplicates_an_open_case(engine, kit):
    kit.insert(engine, scenario(kit).frames())
    cases.record_run(engine=engine, on=ON, actor=SYSTEM)
    again = cases.record_run(engine=engine, on=ON, actor=SYSTEM)
    later = cases.record_run(engine=engine, on=dt.date(2026, 1, 5), actor=SYSTEM)
    assert (again.cases_opened, again.cases_updated) == (0, 3)
    assert later.cases_opened == 0
    assert counts(engine) == {"late_address_report": 1, "residence_obligation": 1, "integration_obligation": 1}
    with Session(engine) as s:
        # the unique active key is the database's own guarantee
        c = s.scalars(select(ComplianceCase).where(ComplianceCase.rule == "residence_obligation")).one()
        clone = ComplianceCase(**{col.key: getattr(c, col.key) for col in c.__table__.columns if col.key != "id"})
        s.add(clone)
        with pytest.raises(IntegrityError):
            s.flush()


def test_a_vanished_finding_is_noted_on_its_case(engine, kit):
    kit.insert(engine, scenario(kit).frames())
    cases.record_run(engine=engine, on=ON, actor=SYSTEM)
    # a report arrives late, showing H1 moved back to Busan the day after leaving
    later = kit.Records()
    later.address("H1", "26110", "2025-05-02", "2026-01-05")
    frames = later.frames()
    frames["person"] = frames["person"].filter(pl.lit(False))
    kit.insert(engine, frames)
    result = cases.record_run(engine=engine, on=dt.date(2026, 1, 10), actor=SYSTEM)
    assert result.cases_gone == 1
    with Session(engine) as s:
        case = s.scalars(select(ComplianceCase).where(ComplianceCase.rule == "residence_obligation")).one()
        assert not case.finding_present and case.status == "open"  # noted, not closed
        notes = s.scalars(
            select(ComplianceCaseEvent).where(ComplianceCaseEvent.case_id == case.id).order_by(ComplianceCaseEvent.id)
        ).all()
        assert [e.kind for e in notes] == ["opened", "finding_gone"]
        # the run's notes are language-neutral records, worded for the reader by the pages
        assert notes[0].note == f"opened[run {notes[0].run_id} as of {ON}]"
        assert notes[-1].note.startswith(f"finding_gone[run {notes[-1].run_id} as of 2026-01-10]: ")
        late = s.scalars(select(ComplianceCase).where(ComplianceCase.rule == "late_address_report")).all()
        # the first late report still stands, and the new report was itself late: its own case
        assert sorted(c.finding_start.isoformat() for c in late) == ["2025-05-16", "2025-05-17"]
        assert all(c.finding_present for c in late)
    assert audit_actions(engine, case.id) == ["compliance.case_open", "compliance.case_finding_gone"]
    # a run as of an earlier date reproduces the past and leaves the cases alone
    past = cases.record_run(engine=engine, on=dt.date(2025, 12, 31), actor=SYSTEM)
    assert not past.cases_synced
    with Session(engine) as s:
        assert not s.get(ComplianceCase, case.id).finding_present


def test_case_life_cycle_is_checked_and_audited(engine, kit):
    kit.insert(engine, scenario(kit).frames())
    cases.record_run(engine=engine, on=ON, actor=SYSTEM)
    with Session(engine) as s:
        case_id = s.scalars(select(ComplianceCase.id).where(ComplianceCase.rule == "residence_obligation")).one()
    with session_scope(engine=engine) as s:
        with pytest.raises(DomainError) as err:
            cases.act(session=s, case=case_id, action="review", actor=NAMED_OFFICER, reason="  ")
        assert err.value.code == "reason_required"
    with session_scope(engine=engine) as s:
        cases.act(session=s, case=case_id, action="review", actor=NAMED_OFFICER, reason="checking the address reports")
    with session_scope(engine=engine) as s:
        with pytest.raises(DomainError) as err:
            cases.act(session=s, case=case_id, action="resolve", actor=NAMED_OFFICER, reason="done")
        assert err.value.code == "outcome_required"
    with session_scope(engine=engine) as s:
        cases.act(
            session=s, case=case_id, action="resolve", actor=NAMED_OFFICER, reason="moved for a job", outcome="warning"
        )
    with session_scope(engine=engine) as s, pytest.raises(Conflict):
        cases.act(session=s, case=case_id, action="review", actor=NAMED_OFFICER, reason="again")
    with Session(engine) as s:
        case = s.get(ComplianceCase, case_id)
        assert (case.status, case.outcome, case.assignee, case.active_key) == ("resolved", "warning", "officer", None)
    # the finding persists, but its case was resolved: no new case
    assert cases.record_run(engine=engine, on=dt.date(2026, 1, 5), actor=SYSTEM).cases_opened == 0
    assert counts(engine)["residence_obligation"] == 1
    with session_scope(engine=engine) as s:
        cases.act(session=s, case=case_id, action="close", actor=NAMED_OFFICER, reason="warning letter sent")
        cases.act(session=s, case=case_id, action="note", actor=NAMED_OFFICER, reason="holder acknowledged")
    assert audit_actions(engine, case_id) == [
        "compliance.case_open",
        "compliance.case_review",
        "compliance.case_resolve",
        "compliance.case_close",
        "compliance.case_note",
    ]
    with Session(engine) as s:
        assert [e["kind"] for e in cases.events(session=s, case_id=case_id)] == [
            "opened",
            "status",
            "status",
            "status",
            "note",
        ]


def test_dashboard_counts_trend_and_holders_at_risk(engine, kit):
    kit.insert(engine, scenario(kit).frames())
    cases.record_run(engine=engine, on=ON, actor=SYSTEM)
    with Session(engine) as s:
        busan = cases.dashboard(session=s, actor=SYSTEM, region="26")
        nation = cases.dashboard(session=s, actor=SYSTEM)
    by_rule = {r["rule"]: r for r in busan["by_rule"]}
    assert by_rule["residence_obligation"]["findings"] == 1
    assert by_rule["late_address_report"]["findings"] == 1
    assert by_rule["illegal_stay"] == {"rule": "illegal_stay", "findings": 1, "ongoing": 1, "holder_findings": 0}
    assert by_rule["integration_obligation"]["findings"] == 0  # Gyeonggi's, not Busan's
    assert busan["trend"]["months"][-1] == "2025-12-01" and len(busan["trend"]["months"]) == 12
    months = busan["trend"]["months"]
    assert busan["trend"]["series"]["residence_obligation"][months.index("2025-07-01")] == 1
    assert busan["trend"]["series"]["illegal_stay"][months.index("2025-10-01")] == 1
    assert busan["at_risk"] == [
        {
            "person_id": "H3",
            "rule": "residence_obligation",
            "program_id": "busan-d2",
            "region": "26",
            "days_left": 10,
            "limit_date": "2026-01-11",
            "detail": busan["at_risk"][0]["detail"],
        }
    ]
    assert "80 of 90 days outside 26" in busan["at_risk"][0]["detail"]
    assert busan["cases"] == {"open": 2, "under_review": 0, "resolved": 0, "closed": 0}
    assert sum(r["findings"] for r in nation["by_rule"]) == 4
    assert busan["by_region"] == []  # only the nation's view compares regions
    regions = {r["region"]: r for r in nation["by_region"]}
    assert set(regions) == {"26", "41"}
    assert (regions["26"]["illegal_stay"], regions["41"]["integration_obligation"]) == (1, 1)


def test_demo_step_records_a_run_and_cases_in_every_state(engine, kit):
    from regionvisa.compliance.demo import demo_step
    from regionvisa.stats import summary

    kit.insert(engine, scenario(kit).frames())
    with engine.begin() as conn:  # rows inserted past the import paths: the statistics follow them
        summary.rebuild(conn=conn)
    demo_step(engine=engine)
    with Session(engine) as s:
        run = cases.latest_run(session=s)
        assert run.as_of == dt.date(2025, 10, 13)  # the latest report date in the records
        assert cases.queue_counts(session=s, actor=SYSTEM) == {"open": 0, "under_review": 1, "resolved": 1, "closed": 1}
