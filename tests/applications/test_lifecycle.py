"""The life cycle through the service layer: every allowed move, refusals (409), the audit trail,
screening with the programme version, re-screening, issuance into the records."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from tests.actors import BUSAN, OFFICER, SYSTEM

from regionvisa.applications import intake, moves, service, views
from regionvisa.applications.models import Application, ApplicationEvent, Screening
from regionvisa.audit.models import AuditEntry
from regionvisa.core.errors import Conflict, DomainError
from regionvisa.db import session_scope
from regionvisa.quotas import service as quotas
from regionvisa.records import pii
from regionvisa.records.models import Person, StatusGrant

from .conftest import ON, eligible_busan


def ledger(session):
    return quotas.find_ledger(session=session, program_id="busan-d2", period="2025")


def test_submission_is_screened_with_the_version_and_explanation(engine, busan, submit):
    app_id = submit(0)
    with session_scope(engine=engine) as session:
        app = service.get(session=session, application_id=app_id)
        assert (app.status, app.outcome, app.program_version) == ("screened", "eligible", 1)
        scr = service.latest_screening(session=session, app=app)
        assert scr.program_version == 1 and scr.screened_on == ON and len(scr.program_digest) == 64
        ids = [c["id"] for c in scr.explanation["criteria"]]
        assert ids[0] == "passport-valid" and "financial-proof" in ids
        assert all(c["result"] == "pass" for c in scr.explanation["criteria"])
        assert scr.explanation["criteria"][ids.index("financial-proof")]["message"]["ko"].startswith("재정능력")
        moves = [(e.from_status, e.to_status) for e in service.events(session=session, app=app)]
        assert moves == [(None, "submitted"), ("submitted", "screened")]
        actions = session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.subject_type == "application", AuditEntry.subject_id == str(app_id)
            )
        ).all()
        assert actions == ["application.submit", "application.screen"]


def test_ineligible_screening_names_the_failed_criterion(engine, busan, submit):
    app_id = submit(0, bank_balance_krw=1_000)
    with session_scope(engine=engine) as session:
        app = service.get(session=session, application_id=app_id)
        assert app.outcome == "ineligible"
        exp = service.latest_screening(session=session, app=app).explanation
        assert exp["failed"] == ["financial-proof"]
        with pytest.raises(Conflict) as err:
            moves.recommend(session=session, app=app_id, actor=SYSTEM)
        assert err.value.code == "not_eligible"


def test_whole_path_to_issuance_writes_the_records_and_uses_a_place(engine, busan, submit, attach):
    app_id = submit(1)
    attach(app_id)
    with session_scope(engine=engine) as session:
        moves.recommend(session=session, app=app_id, actor=BUSAN, reason="strong candidate")
        assert ledger(session).reserved == 1
    with session_scope(engine=engine) as session:
        moves.approve(session=session, app=app_id, actor=OFFICER, reason="documents complete")
    with session_scope(engine=engine) as session:
        app = moves.issue(session=session, app=app_id, actor=OFFICER, on=dt.date(2025, 7, 1))
        assert app.status == "issued" and app.visa_number == f"RV202526{app_id:08d}"
        grant = session.get(StatusGrant, app.status_grant_id)
        assert (grant.visa, grant.program_id, grant.region, grant.valid_from) == (
            "D-2",
            "busan-d2",
            "26",
            dt.date(2025, 7, 1),
        )
        assert grant.valid_to == dt.date(2027, 6, 30)  # 24 months of obligation
        person = session.get(Person, app.person_id)
        assert person.nationality == app.nationality and person.passport_hash == app.passport_hash
        assert pii.reveal(person.passport_enc) == views.passport_of(app)
        led = ledger(session)
        assert (led.reserved, led.used, led.remaining) == (0, 1, 9)
        entries = session.execute(
            select(AuditEntry.action, AuditEntry.actor, AuditEntry.reason, AuditEntry.inputs)
            .where(AuditEntry.subject_type == "application", AuditEntry.subject_id == str(app_id))
            .order_by(AuditEntry.seq)
        ).all()
        assert [e.action for e in entries].count("application.document") == 8  # the checklist, uploaded
        entries = [e for e in entries if e.action != "application.document"]
        assert [e.action for e in entries] == [
            "application.submit",
            "application.screen",
            "application.recommend",
            "application.approve",
            "application.issue",
        ]
        recommend = entries[2]
        assert (recommend.actor, recommend.reason) == ("t.busan", "strong candidate")
        relied = recommend.inputs["explanation"]
        assert relied["outcome"] == "eligible" and relied["program_version"] == 1
        assert relied["criteria"]["financial-proof"] == "pass"
        assert entries[4].inputs["visa_number"] == app.visa_number
        # personal data never reaches the audit log unredacted
        assert views.passport_of(app) not in str([e.inputs for e in entries])
    with session_scope(engine=engine) as session:
        moves.cancel(session=session, app=app_id, actor=OFFICER, reason="fraud found", on=dt.date(2025, 8, 1))
        app = service.get(session=session, application_id=app_id)
        assert app.status == "cancelled"
        assert session.get(StatusGrant, app.status_grant_id).valid_to == dt.date(2025, 8, 1)
        assert ledger(session).used == 0


@pytest.mark.parametrize(
    ("path", "move"),
    [
        ([], "approve"),
        ([], "issue"),
        (["recommend"], "recommend"),
        (["recommend"], "return"),
        (["recommend", "approve"], "reject"),
        (["recommend", "reject"], "withdraw"),
        (["return"], "recommend"),
        (["recommend", "approve", "issue"], "withdraw"),
    ],
)
def test_other_moves_are_refused_with_a_bilingual_409(engine, busan, submit, attach, path, move):
    app_id = submit(0)
    attach(app_id)
    for step in path:
        with session_scope(engine=engine) as session:
            moves.act(session=session, application_id=app_id, move=step, actor=SYSTEM, reason="step")
    with session_scope(engine=engine) as session:
        before = service.get(session=session, application_id=app_id).status
        with pytest.raises(Conflict) as err:
            moves.act(session=session, application_id=app_id, move=move, actor=SYSTEM, reason="try")
        assert err.value.status == 409 and err.value.code == "invalid_transition"
        assert f"it is {before}" in err.value.en and "상태이므로" in err.value.ko
    with session_scope(engine=engine) as session:
        assert service.get(session=session, application_id=app_id).status == before


def test_rejection_and_withdrawal_release_the_reservation(engine, busan, submit):
    a, b = submit(0), submit(1)
    with session_scope(engine=engine) as session:
        moves.recommend(session=session, app=a, actor=BUSAN)
        moves.recommend(session=session, app=b, actor=BUSAN)
        assert ledger(session).reserved == 2
    with session_scope(engine=engine) as session:
        moves.reject(session=session, app=a, actor=OFFICER, reason="forged bank statement")
        moves.withdraw(session=session, app=b, actor=BUSAN, reason="applicant withdrew")
        led = ledger(session)
        assert (led.reserved, led.used) == (0, 0)
        kinds = [m.kind for m in quotas.history(session=session, ledger=led)]
        assert kinds == ["allocation", "reserve", "reserve", "release", "release"]
        with pytest.raises(DomainError) as err:
            moves.reject(session=session, app=a, actor=OFFICER, reason="")
        assert err.value.code in ("reason_required", "invalid_transition")


def test_reasons_are_required_where_a_person_must_explain(engine, busan, submit):
    app_id = submit(0)
    with pytest.raises(DomainError) as err, session_scope(engine=engine) as session:
        moves.return_(session=session, app=app_id, actor=BUSAN, reason="  ")
    assert (err.value.status, err.value.field) == (422, "reason")


def test_a_programme_change_never_rewrites_a_past_screening_and_rescreen_is_explicit(engine, busan, submit):
    from regionvisa.config import get_settings
    from regionvisa.policyfiles import read_yaml

    from .conftest import publish_design

    app_id = submit(0, bank_balance_krw=9_000_000)
    design = read_yaml(get_settings().policy_dir / "programs" / "26" / "busan-d2.yaml")
    design["version"] = 2
    design["parameters"]["bank_balance_krw"] = {"2025-04-02": 10_000_000}
    with session_scope(engine=engine) as session:
        publish_design(session, design)
    with session_scope(engine=engine) as session:
        app = service.get(session=session, application_id=app_id)
        first = service.latest_screening(session=session, app=app)
        assert (app.outcome, app.program_version, first.program_version) == ("eligible", 1, 1)
        with pytest.raises(DomainError):
            moves.rescreen(session=session, app=app_id, actor=OFFICER, reason="")
        second = moves.rescreen(session=session, app=app_id, actor=OFFICER, reason="programme v2 published", on=ON)
        assert (second.program_version, second.outcome, second.kind) == (2, "ineligible", "rescreen")
    with session_scope(engine=engine) as session:
        rows = session.scalars(select(Screening).where(Screening.application_id == app_id).order_by(Screening.id)).all()
        assert [(s.program_version, s.outcome) for s in rows] == [(1, "eligible"), (2, "ineligible")]
        assert rows[0].explanation["outcome"] == "eligible"  # the stored past decision is untouched
        app = service.get(session=session, application_id=app_id)
        assert (app.outcome, app.program_version) == ("ineligible", 2)
        event = session.scalars(select(ApplicationEvent).where(ApplicationEvent.move == "rescreen")).one()
        assert event.screening_id == second.id and event.reason == "programme v2 published"


def test_duplicate_open_application_is_refused_until_the_first_closes(engine, busan, submit):
    submit(0, passport="DUP123456")
    with pytest.raises(Conflict) as err:
        submit(1, passport="DUP123456")
    assert err.value.code == "duplicate_application"
    with session_scope(engine=engine) as session:
        [digest] = pii.lookup_hash(["DUP123456"])
        first = session.scalars(select(Application).where(Application.passport_hash == digest)).one()
        assert first.open_passport == digest and "DUP123456" not in (first.passport_enc, first.passport_hash)
        moves.withdraw(session=session, app=first.id, actor=BUSAN, reason="applicant withdrew")
    second = submit(1, passport="DUP123456")
    with session_scope(engine=engine) as session:
        assert service.get(session=session, application_id=second).status == "screened"
        assert (
            service.get(session=session, application_id=first.id).open_passport is None
        )  # closed: no longer in the guard


def test_bad_profile_value_is_refused_naming_the_field(engine, busan):
    with pytest.raises(DomainError) as err, session_scope(engine=engine) as session:
        intake.submit(
            session=session,
            program_id="busan-d2",
            applicant=eligible_busan(0, topik_level="seven"),
            name="X",
            passport_no="AB12345",
            actor=SYSTEM,
            on=ON,
        )
    assert (err.value.status, err.value.field) == (422, "topik_level")
    assert "seven" in err.value.en and "seven" in err.value.ko
