"""The evaluation on the database: committee scores and recusal, indicators from the records and the
quota ledger, stored runs reproduced byte for byte, publication, what-if and next year's quotas."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from tests.actors import SYSTEM

from regionvisa.accounts import service as accounts
from regionvisa.audit.models import AuditEntry
from regionvisa.core.errors import Conflict, DomainError
from regionvisa.db import session_scope
from regionvisa.evaluation import compute, flows, service
from regionvisa.evaluation.models import CommitteeScore
from regionvisa.quotas import planning

YEAR = 2025


def _member(session, user_id):
    return accounts.principal_of(accounts.get_user(session=session, user_id=user_id))


def _actions(session, action):
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_committee_value_is_the_mean_of_non_recused_members(engine, world):
    with session_scope(engine=engine) as session:
        values = service.committee_values(session=session, year=YEAR, indicator="integration_policy")
    # Busan: c.busan is recused automatically, so only c.one and c.two count.
    assert values["26"] == {"value": 85.0, "members": 2, "recused": 0}
    assert values["11"]["value"] == pytest.approx((60 + 70 + 65) / 3) and values["11"]["members"] == 3
    assert values["41"]["value"] == pytest.approx(45.0)


def test_member_of_the_regions_government_is_refused_and_audited_scores_are_kept(engine, world):
    with session_scope(engine=engine) as session:
        member = _member(session, world["c.busan"])
        with pytest.raises(Conflict) as err:
            service.enter_score(session=session, actor=member, year=YEAR, region="26", score=5, justification="x" * 20)
        assert err.value.code == "recused"
        entries = _actions(session, "evaluation.committee_score")
        assert len(entries) == 8  # every accepted score, none for the refused one
        assert all(e.region in ("26", "11", "41") for e in entries)


def test_affiliation_recorded_after_scoring_still_recuses(engine, world):
    with session_scope(engine=engine) as session:
        service.set_member(session=session, actor=SYSTEM, user_id=world["c.one"], region="11", affiliation="Seoul city")
        values = service.committee_values(session=session, year=YEAR, indicator="integration_policy")
    assert values["11"]["value"] == pytest.approx((70 + 65) / 2)
    assert values["11"]["recused"] == 1


def test_declared_recusal_and_validation(engine, world):
    with session_scope(engine=engine) as session:
        member = _member(session, world["c.two"])
        service.enter_score(
            session=session, actor=member, year=YEAR, region="41", score=None, justification="", recuse=True
        )
        values = service.committee_values(session=session, year=YEAR, indicator="integration_policy")
        assert values["41"]["value"] == pytest.approx((40 + 45) / 2)
        for score, justification, field in ((101, "long enough text", "score"), (50, "short", "justification")):
            with pytest.raises(DomainError) as err:
                service.enter_score(
                    session=session, actor=member, year=YEAR, region="11", score=score, justification=justification
                )
            assert err.value.field == field
        with pytest.raises(DomainError):
            service.enter_score(session=session, actor=member, year=YEAR, region="99", score=50, justification="x" * 12)
        officer = accounts.principal_of(
            accounts.create_user(
                session=session,
                actor=SYSTEM,
                username="t.off",
                display_name="o",
                role="ministry_officer",
                password="correct-horse-battery",
            )
        )
        with pytest.raises(DomainError) as err:
            service.enter_score(
                session=session, actor=officer, year=YEAR, region="11", score=50, justification="x" * 12
            )
        assert err.value.status == 403


def test_indicator_table_from_records_ledger_and_committee(engine, world):
    from regionvisa.compliance.indicators import for_framework
    from regionvisa.compliance.service import compute_indicators

    framework = service.framework_for()
    with session_scope(engine=engine) as session:
        table = service.indicator_table(session=session, year=YEAR, framework=framework)
    assert sorted(table) == ["11", "26", "41"]
    assert table["26"]["quota_fill_rate"] == pytest.approx(0.9)
    assert table["11"]["quota_fill_rate"] == pytest.approx(0.5)
    assert table["26"]["integration_policy"] == 85.0
    records = for_framework(compute_indicators(engine=engine, year=YEAR))
    for code in table:
        for ind in ("illegal_stay_rate", "integration_participation_rate", "foreign_resident_share"):
            assert table[code][ind] == records[code][ind]
    assert table["26"]["foreign_resident_share"] > 0


def test_stored_run_reproduces_byte_for_byte_and_publication_applies_benefits(engine, world):
    from regionvisa.programs.models import Program

    with session_scope(engine=engine) as session:
        session.add(Program(id="busan-d2", region="26", base_visa="D-2", title_ko="부산", title_en="Busan"))
        session.add(Program(id="gyeonggi-e7", region="41", base_visa="E-7", title_ko="경기", title_en="Gyeonggi"))
    with session_scope(engine=engine) as session:
        run = service.run_evaluation(session=session, year=YEAR, actor=SYSTEM, draws=200)
        run_id = run.id
        assert run.status == "draft"
        assert service.reproduce_run(session=session, run_id=run_id)["identical"] is True
        result = service.result_of(run)
        assert result["regions"][0]["rank"] == 1 and len(result["regions"]) == 3
        assert result["run"]["inputs"]["indicators"]["26"]["quota_fill_rate"] == pytest.approx(0.9)
    with session_scope(engine=engine) as session:
        flows.publish_evaluation(session=session, run_id=run_id, actor=SYSTEM, reason="annual publication")
        by_region = {
            e["region"]: e for e in service.result_of(service.get_run(session=session, run_id=run_id))["regions"]
        }
        for code, entry in by_region.items():
            benefit = service.region_benefit(session=session, region=code, year=YEAR)
            assert benefit.grade == entry["grade"]
            assert benefit.simplified_procedure == bool(entry["benefit"].get("simplified_procedure"))
            assert service.simplified_procedure(session=session, region=code) == benefit.simplified_procedure
        assert session.get(Program, "busan-d2").simplified_procedure == service.simplified_procedure(
            session=session, region="26"
        )
        from regionvisa.applications.service import simplified_for

        for code in by_region:
            assert simplified_for(session=session, region=code) == service.simplified_procedure(
                session=session, region=code
            )
        assert len(_actions(session, "evaluation.publish")) == 1
        assert {e.region for e in _actions(session, "evaluation.benefit")} == {"11", "26", "41"}
        with pytest.raises(Conflict):
            flows.publish_evaluation(session=session, run_id=run_id, actor=SYSTEM)
        # a second publication supersedes the first
        again = service.run_evaluation(session=session, year=YEAR, actor=SYSTEM, draws=50)
        flows.publish_evaluation(session=session, run_id=again.id, actor=SYSTEM)
        assert service.get_run(session=session, run_id=run_id).status == "superseded"
        assert service.published_run(session=session, year=YEAR).id == again.id
        # scores are closed once published
        member = _member(session, world["c.one"])
        with pytest.raises(Conflict):
            service.enter_score(session=session, actor=member, year=YEAR, region="11", score=1, justification="x" * 12)


def test_reproduce_detects_a_changed_stored_result(engine, world):
    with session_scope(engine=engine) as session:
        run = service.run_evaluation(session=session, year=YEAR, actor=SYSTEM, draws=20)
        data = json.loads(run.result_json)
        data["regions"][0]["score"] += 1
        run.result_json = compute.dumps(data)
        assert service.reproduce_run(session=session, run_id=run.id)["identical"] is False


def test_region_view_and_what_if_against_the_published_result(engine, world):
    with session_scope(engine=engine) as session:
        run = service.run_evaluation(session=session, year=YEAR, actor=SYSTEM, draws=100)
        flows.publish_evaluation(session=session, run_id=run.id, actor=SYSTEM)
        view = service.region_view(session=session, actor=SYSTEM, region="41")
        assert view["grade"] and view["rank"] >= 1
        assert sum(v for v in view["contributions"].values() if v is not None) == pytest.approx(view["score"])
        same = service.what_if(session=session, actor=SYSTEM, region="41", changes={})
        assert same["what_if"]["score"] == view["score"]
        better = service.what_if(session=session, actor=SYSTEM, region="41", changes={"integration_policy": 100.0})
        assert better["what_if"]["score"] > view["score"]
        assert better["what_if"]["rank"] <= view["rank"]
        with pytest.raises(DomainError):
            service.what_if(session=session, actor=SYSTEM, region="41", changes={"nonsense": 1.0})


def test_quota_plan_from_the_published_grades_opens_next_years_ledgers(engine, world):
    from regionvisa.quotas.models import QuotaLedger

    with session_scope(engine=engine) as session:
        run = service.run_evaluation(session=session, year=YEAR, actor=SYSTEM, draws=50)
        flows.publish_evaluation(session=session, run_id=run.id, actor=SYSTEM)
        grades = {b.region: b for b in service.benefits(session=session, year=YEAR)}
        requests = planning.quota_requests(session=session, year=YEAR)
        assert {(r["region"], r["program"], r["requested"]) for r in requests} == {
            ("26", "busan-d2", 100),
            ("11", "seoul-e7", 200),
            ("41", "gyeonggi-e7", 50),
        }
        plan = planning.propose_quotas(session=session, year=YEAR, ceiling=300, method="hamilton", actor=SYSTEM)
        rows = planning.plan_rows(plan)
        assert sum(r["granted"] for r in rows) <= 300
        for r in rows:
            from regionvisa.quotas.apportion import target

            assert r["target"] == target(r["requested"], repr(grades[r["region"]].quota_change))
            assert r["grade_effect"] == r["target"] - r["requested"]
            assert r["ceiling_effect"] == r["granted"] - r["target"]
        planning.confirm_quotas(session=session, plan_id=plan.id, actor=SYSTEM)
        opened = {
            (lg.program_id, lg.allocated)
            for lg in session.scalars(select(QuotaLedger).where(QuotaLedger.period == "2026"))
        }
        assert opened == {(r["program"], r["granted"]) for r in rows}
        with pytest.raises(Conflict):
            planning.confirm_quotas(session=session, plan_id=plan.id, actor=SYSTEM)


def test_committee_score_range_is_a_database_constraint(engine, world):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), session_scope(engine=engine) as session:
        row = session.scalars(select(CommitteeScore)).first()
        row.score = 150.0
        session.flush()


def test_holder_and_resident_fast_path_equals_the_compliance_computation(engine, tmp_path):
    """Holders' records alone plus residents counted in SQL give exactly compliance's indicators."""
    from regionvisa.compliance.indicators import for_framework
    from regionvisa.compliance.service import compute_indicators
    from regionvisa.records.service import import_file

    feeds = {
        "people": ["person_id,name,nationality,birth_date,sex,passport_no"],
        "statuses": ["person_id,visa,subtype,program_id,region,valid_from,valid_to,granted_on"],
        "addresses": ["person_id,area_code,effective_date,reported_date"],
        "movements": ["person_id,direction,date,port"],
        "kiip": ["person_id,level,enrolled_on,completed_on"],
    }
    for i in range(12):
        pid = f"Q{i:08d}"
        region, program = (("26", "busan-d2"), ("41", "gyeonggi-e7"), ("11", ""))[i % 3]
        feeds["people"].append(f"{pid},Person {i},VNM,1995-01-01,F,X{i:07d}")
        valid_to = "2025-06-30" if i % 4 == 0 else "2027-12-31"  # some overstay
        feeds["statuses"].append(
            f"{pid},{'D-2' if i % 2 else 'E-7'},,{program},{region},2024-03-01,{valid_to},2024-02-20"
        )
        feeds["addresses"].append(f"{pid},{('26' if i % 5 else '11')}110,2024-03-05,2024-03-06")
        feeds["movements"].append(f"{pid},entry,2024-03-02,ICN")
        if i % 6 == 5:
            feeds["movements"].append(f"{pid},exit,2025-08-01,ICN")
        if i % 2:
            feeds["kiip"].append(f"{pid},1,2024-09-01,")
    for kind, lines in feeds.items():
        path = tmp_path / f"{kind}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        summary, _ = import_file(engine=engine, kind=kind, path=path, actor=SYSTEM)
        assert summary.outcome == "committed", summary
    wanted = {"illegal_stay_rate", "integration_participation_rate", "foreign_resident_share", "retention_rate"}
    fast = service.computed_from_records(engine=engine, year=YEAR, ids=wanted)
    full = for_framework(compute_indicators(engine=engine, year=YEAR))
    assert {code: {k: full[code][k] for k in wanted} for code in full} == fast
    assert fast["26"]["illegal_stay_rate"] > 0 and fast["26"]["integration_participation_rate"] > 0
    assert fast["26"]["foreign_resident_share"] > 0 and fast["11"]["illegal_stay_rate"] is None
