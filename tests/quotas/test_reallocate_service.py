"""Mid-year reallocation against the database (SQLite and PostgreSQL): the ledgers' state on the
date and their queues, the dry run that writes nothing, the audited apply through the ledger
adjustment use case, the refusals, and `regionvisa quotas reallocate`."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select, update
from tests.actors import ADMIN, BUSAN, OFFICER, SYSTEM

from regionvisa.applications.models import Application
from regionvisa.audit.models import AuditEntry
from regionvisa.core.errors import Conflict, Forbidden, Invalid
from regionvisa.db import session_scope, utcnow
from regionvisa.quotas import service
from regionvisa.quotas.models import QuotaLedger, QuotaMovement


def _period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The ledgers' period: `today` is its day 182 of 365."""
    start = today - dt.timedelta(days=181)
    return start, start + dt.timedelta(days=364)


@pytest.fixture
def today() -> dt.date:
    """The day the test runs, taken when it runs: a date taken when the module is imported is
    yesterday for a test that runs after midnight, while the movements it makes are dated today."""
    return utcnow().date()


def _open(session, program: str, region: str, allocated: int, today: dt.date) -> QuotaLedger:
    start, end = _period(today)
    return service.open_ledger(
        session=session,
        program_id=program,
        region=region,
        period="2026-pilot",
        start=start,
        end=end,
        allocated=allocated,
        actor=OFFICER,
        reason="allocation",
    )


def _take(session, ledger: QuotaLedger, reserved: int, used: int) -> None:
    for n in range(reserved + used):
        service.reserve(session=session, ledger=ledger, application_id=10_000 + ledger.id * 1000 + n, actor=BUSAN)
    for n in range(used):
        service.use(session=session, ledger=ledger, application_id=10_000 + ledger.id * 1000 + n, actor=OFFICER)


def _queue(session, program: str, region: str, count: int, status: str = "screened", *, on: dt.date) -> None:
    now = utcnow()
    for n in range(count):
        session.add(
            Application(
                program_id=program, region=region, status=status, applicant_name="x", passport_enc="x",
                passport_hash=f"{program}-{status}-{n}", nationality="VNM", profile={}, submitted_at=now,
                submitted_on=on, submitted_by="t", updated_at=now,
            )
        )  # fmt: skip
    session.flush()


@pytest.fixture
def ledgers(engine, today) -> dict[str, int]:
    """Ulsan has 440 places and has used 44 (queue 5); Gwangju has used 57 of 60 (queue 40); Busan has
    used 50 of 100 and has a queue of 10 (projected to use them all: neither gives nor wants)."""
    with session_scope(engine=engine) as session:
        ulsan, gwangju, busan = (
            _open(session, "ulsan-e7", "31", 440, today),
            _open(session, "gwangju-d2", "29", 60, today),
            _open(session, "busan-d2", "26", 100, today),
        )
        _take(session, ulsan, 10, 34)
        _take(session, gwangju, 5, 52)
        _take(session, busan, 20, 30)
        _queue(session, "ulsan-e7", "31", 5, on=today)
        _queue(session, "gwangju-d2", "29", 30, on=today)
        _queue(session, "gwangju-d2", "29", 10, status="submitted", on=today)
        _queue(session, "gwangju-d2", "29", 7, status="rejected", on=today)  # not waiting
        _queue(session, "busan-d2", "26", 10, on=today)
        return {"ulsan": ulsan.id, "gwangju": gwangju.id, "busan": busan.id}


def _state(engine) -> dict[int, tuple[int, int, int]]:
    with session_scope(engine=engine) as session:
        return {lg.id: (lg.capacity, lg.reserved, lg.used) for lg in session.scalars(select(QuotaLedger))}


def _audit(engine) -> list[tuple[str, str, str]]:
    with session_scope(engine=engine) as session:
        return [
            (e.action, e.subject_type, e.subject_id)
            for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
            if e.action.startswith("quota.")
        ]


def test_the_dry_run_reads_state_and_queues_and_writes_nothing(engine, ledgers, today):
    before, audit_before = _state(engine), _audit(engine)
    with session_scope(engine=engine) as session:
        proposal = service.propose_reallocation(session=session, on=today)
    rows = {r["ledger_id"]: r for r in proposal.records()}
    ulsan, gwangju, busan = (rows[ledgers[k]] for k in ("ulsan", "gwangju", "busan"))
    assert (ulsan["use"], ulsan["queue"], ulsan["projected_use"], ulsan["projected_unused"]) == (44, 5, 89, 351)
    assert (gwangju["queue"], gwangju["remaining"], gwangju["demand"]) == (40, 3, 37)
    assert (busan["release"], busan["grant"]) == (0, 0)
    assert (ulsan["adjustment"], gwangju["adjustment"]) == (-37, 37)
    assert (proposal.pool, proposal.granted) == (175, 37)
    assert _state(engine) == before and _audit(engine) == audit_before


def test_apply_writes_audited_adjustments_through_the_ledger_use_case(engine, ledgers, today):
    with session_scope(engine=engine) as session:
        shown = service.propose_reallocation(session=session, on=today)
    audit_before = _audit(engine)
    with session_scope(engine=engine) as session:
        done = service.reallocate(
            session=session, on=today, reason="Ulsan is far behind its pace", expected=shown.digest, actor=ADMIN
        )
    assert sorted(done.adjusted) == sorted([ledgers["ulsan"], ledgers["gwangju"]])
    state = _state(engine)
    assert state[ledgers["ulsan"]][0] == 403 and state[ledgers["gwangju"]][0] == 97
    assert state[ledgers["busan"]][0] == 100
    entries = _audit(engine)[len(audit_before) :]
    # one ledger adjustment per changed ledger, in ledger order, then the reallocation itself
    assert entries == [
        ("quota.adjust", "quota_ledger", str(ledgers["ulsan"])),
        ("quota.adjust", "quota_ledger", str(ledgers["gwangju"])),
        ("quota.reallocate", "quota_reallocation", today.isoformat()),
    ]
    with session_scope(engine=engine) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "quota.reallocate")).one()
        assert entry.actor == "t.admin" and entry.reason == "Ulsan is far behind its pace"
        assert entry.inputs["adjustments"] == {str(ledgers["ulsan"]): -37, str(ledgers["gwangju"]): 37}
        assert entry.inputs["method"] == "hamilton" and entry.inputs["digest"] == shown.digest
        move = session.scalars(
            select(QuotaMovement).where(
                QuotaMovement.ledger_id == ledgers["gwangju"], QuotaMovement.kind == "adjustment"
            )
        ).one()
        assert move.amount == 37 and move.reason.startswith(f"mid-year reallocation on {today}: Ulsan is far behind")
        assert "queue 40 > remaining 3" in move.reason
    # run again: Gwangju's demand is met, nothing moves and nothing is recorded
    with session_scope(engine=engine) as session:
        again = service.reallocate(session=session, on=today, reason="again", actor=ADMIN)
    assert again.adjusted == [] and len(_audit(engine)) == len(audit_before) + 3


def test_refusals_change_nothing(engine, ledgers, today):
    before, audit_before = _state(engine), _audit(engine)
    with session_scope(engine=engine) as session:
        shown = service.propose_reallocation(session=session, on=today)
    with session_scope(engine=engine) as session:
        _queue(session, "gwangju-d2", "29", 1, on=today)  # the queue grew since the dry run
    with pytest.raises(Conflict) as info, session_scope(engine=engine) as session:
        service.reallocate(session=session, on=today, reason="r", expected=shown.digest, actor=OFFICER)
    assert info.value.code == "reallocation_changed" and "다시 확인" in info.value.ko
    with pytest.raises(Invalid) as info, session_scope(engine=engine) as session:
        service.reallocate(session=session, on=today, reason="  ", actor=OFFICER)
    assert info.value.field == "reason"
    with pytest.raises(Forbidden), session_scope(engine=engine) as session:
        service.reallocate(session=session, on=today, reason="mine", actor=BUSAN)
    with pytest.raises(Forbidden), session_scope(engine=engine) as session:
        service.reallocate(session=session, on=today, reason="as a name", actor="t.admin")
    assert _state(engine) == before and _audit(engine) == audit_before


def test_the_state_on_a_past_date_comes_from_the_movements(engine, ledgers, today):
    """Movements after the date do not count in the pace, but the ledger as it stands bounds the release."""
    on = today - dt.timedelta(days=30)
    with session_scope(engine=engine) as session:
        # the allocations were made long before; Ulsan's movements since are all after `on`
        session.execute(
            update(QuotaMovement).where(QuotaMovement.kind == "allocation").values(at=utcnow() - dt.timedelta(days=170))
        )
        session.execute(
            update(QuotaMovement)
            .where(QuotaMovement.kind != "allocation", QuotaMovement.ledger_id != ledgers["ulsan"])
            .values(at=utcnow() - dt.timedelta(days=40))
        )  # fmt: skip
        session.execute(update(Application).values(submitted_on=on - dt.timedelta(days=1)))  # queued by then
        proposal = service.propose_reallocation(session=session, on=on)
    rows = {r["ledger_id"]: r for r in proposal.records()}
    ulsan = rows[ledgers["ulsan"]]
    assert (ulsan["capacity"], ulsan["use"], ulsan["committed_now"]) == (440, 0, 44)
    assert ulsan["elapsed_days"] == 152
    # nothing used by then: projected use 0, all 440 unused, half offered; Gwangju's demand is 37
    assert ulsan["release"] == 37 and rows[ledgers["gwangju"]]["grant"] == 37


def test_ledgers_not_in_force_take_no_part(engine, ledgers, today):
    with session_scope(engine=engine) as session:
        proposal = service.propose_reallocation(session=session, on=_period(today)[1] + dt.timedelta(days=1))
    assert proposal.rows.height == 0 and proposal.pool == 0


# -- the command line ---------------------------------------------------------------------------


def test_cli_dry_run_then_apply(cli, engine, ledgers, tmp_path, today):
    res = cli("quotas", "reallocate", "--on", today.isoformat(), "--json")
    assert res.exit_code == 0, res.output
    shown = json.loads(res.stdout)
    assert shown["applied"] is False and shown["pool"] == 175 and shown["granted"] == 37
    assert _state(engine)[ledgers["gwangju"]][0] == 60
    res = cli("quotas", "reallocate", "--on", today.isoformat(), "--apply")
    assert res.exit_code == 2 and "--reason" in res.output
    res = cli(
        "quotas", "reallocate", "--on", today.isoformat(), "--apply", "--reason", "mid-year review",
        "--expect", shown["digest"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "applied" in res.output and _state(engine)[ledgers["gwangju"]][0] == 97
    with session_scope(engine=engine) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "quota.reallocate")).one()
        assert entry.actor.startswith("system:cli")


def test_cli_refuses_a_bad_rule_file_and_a_bad_date(cli, engine, ledgers, tmp_path, today):
    bad = tmp_path / "rule.yaml"
    bad.write_text("reference: x\nparameters: {}\n", encoding="utf-8")
    res = cli("quotas", "reallocate", "--on", today.isoformat(), "--rule", str(bad))
    assert res.exit_code == 1
    assert "rule.yaml:parameters.release_share: required" in res.output
    assert cli("quotas", "reallocate", "--on", "1 July").exit_code == 2
    with session_scope(engine=engine) as session:
        assert (
            session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "quota.reallocate"))
            == 0
        )


def test_the_reallocation_is_a_declared_use_case():
    from regionvisa.core.usecase import USE_CASES

    declared = USE_CASES["quotas.service.reallocate"]
    assert (declared.action, declared.subject, declared.audit_action) == ("quotas.reallocate", None, "quota.reallocate")
    assert SYSTEM.username.startswith("system:cli")
