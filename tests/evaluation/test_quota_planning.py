"""Next year's quotas take one path (`quotas.planning`) from the API and from `quotas allocate --year`;
publication's effects in other domains run in the order `evaluation.flows` declares."""

from __future__ import annotations

import json

from sqlalchemy import select
from tests.actors import SYSTEM

from regionvisa.audit.models import AuditEntry
from regionvisa.db import session_scope
from regionvisa.evaluation import flows, service
from regionvisa.evaluation.models import QuotaPlan
from regionvisa.quotas import planning

YEAR = 2025


def _publish(engine) -> int:
    with session_scope(engine=engine) as session:
        run = service.run_evaluation(session=session, year=YEAR, actor=SYSTEM, draws=20)
        flows.publish_evaluation(session=session, run_id=run.id, actor=SYSTEM)
        return run.id


def _plans(engine) -> list[QuotaPlan]:
    with session_scope(engine=engine) as session:
        rows = list(session.scalars(select(QuotaPlan).order_by(QuotaPlan.id)))
        session.expunge_all()
        return rows


def test_the_command_and_the_api_apportion_the_same_rows(engine, world, cli, tmp_path):
    _publish(engine)
    with session_scope(engine=engine) as session:
        plan = planning.propose_quotas(session=session, year=YEAR, ceiling=300, minimum=20, actor=SYSTEM)
        api_rows = planning.plan_rows(plan)
        unstored = planning.propose(session=session, year=YEAR, ceiling=300, minimum=20)
    assert unstored.plan is None and unstored.rows == api_rows
    assert any(r["grade_effect"] != 0 for r in api_rows)  # the published grades are in the requests

    floors = tmp_path / "minimums.csv"
    floors.write_text("region,minimum\n" + "".join(f"{r['region']},20\n" for r in api_rows), encoding="utf-8")
    out = tmp_path / "plan.json"
    done = cli(
        "quotas", "allocate", "--ceiling", "300", "--year", str(YEAR), "--minimums", str(floors), "--out", str(out)
    )
    assert done.exit_code == 0, done.output
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written == [{k: r[k] for k in written[0]} for r in api_rows]
    assert len(_plans(engine)) == 1  # without --store the command writes nothing to the database


def test_store_keeps_the_plan_as_the_api_does_and_the_output_is_unchanged(engine, world, cli, tmp_path):
    plain, stored = tmp_path / "plain.csv", tmp_path / "stored.csv"
    args = ("quotas", "allocate", "--ceiling", "300", "--year", str(YEAR))
    refused = cli(*args, "--store", "--out", str(stored))
    assert refused.exit_code == 1 and "published evaluation" in refused.output  # a plan cites a publication
    assert _plans(engine) == [] and not stored.exists()

    run_id = _publish(engine)
    assert cli(*args, "--out", str(plain)).exit_code == 0
    done = cli(*args, "--store", "--out", str(stored))
    assert done.exit_code == 0, done.output
    assert stored.read_bytes() == plain.read_bytes()
    [plan] = _plans(engine)
    assert (plan.run_id, plan.period, plan.ceiling, plan.method, plan.status) == (
        run_id,
        "2026",
        300,
        "hamilton",
        "proposed",
    )
    assert plan.created_by.startswith("system:cli")
    with session_scope(engine=engine) as session:
        audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "evaluation.quota_plan")).one()
        assert audited.subject_id == str(plan.id)
        assert (
            planning.plan_rows(planning.get_plan(session=session, plan_id=plan.id))
            == planning.propose(session=session, year=YEAR, ceiling=300).rows
        )

    for wrong in (("--requests", str(plain)), ("--minimums", str(plain))):
        usage = cli("quotas", "allocate", "--ceiling", "300", *wrong, "--store", "--out", str(stored))
        assert usage.exit_code == 2, usage.output
    assert len(_plans(engine)) == 1


def test_publication_sets_each_regions_flag_before_auditing_its_benefit(engine, world):
    run_id = _publish(engine)
    with session_scope(engine=engine) as session:
        entries = session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.action.in_(("applications.benefit.simplified", "evaluation.benefit", "evaluation.publish"))
            )
            .order_by(AuditEntry.id)
        ).all()
        regions = [e["region"] for e in service.result_of(service.get_run(session=session, run_id=run_id))["regions"]]
    expected = [
        step
        for region in regions
        for step in (("applications.benefit.simplified", region), ("evaluation.benefit", region))
    ]
    assert [(e.action, e.region) for e in entries] == [*expected, ("evaluation.publish", None)]
    assert entries[0].actor == flows.PUBLISH_ACTOR.username
