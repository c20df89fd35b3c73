"""Nationality cap, ranking when oversubscribed, simplified procedure, documents, bulk intake."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from sqlalchemy import select
from tests.actors import BUSAN, SYSTEM

from regionvisa.accounts.policy import Actor
from regionvisa.applications import bulk_intake, documents, moves, service, views
from regionvisa.applications.models import Application, ApplicationDocument
from regionvisa.audit.models import AuditEntry
from regionvisa.config import get_settings
from regionvisa.core.errors import Conflict, DomainError, Forbidden
from regionvisa.db import session_scope
from regionvisa.programs import service as programs
from regionvisa.quotas import service as quotas
from regionvisa.records import pii

from .conftest import ON

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_nationality_cap_refuses_past_thirty_percent_with_the_share_shown(engine, capped, submit):
    # 7 others and 3 VNM recommended: VNM holds 3 of 10 (30%)
    others = [submit(1, program=capped, nationality=n) for n in ("CHN", "UZB", "MNG", "NPL", "CHN", "UZB", "MNG")]
    vnm = [submit(0, program=capped, nationality="VNM") for _ in range(4)]
    with session_scope(engine=engine) as session:
        for app_id in others + vnm[:3]:
            moves.recommend(session=session, app=app_id, actor=BUSAN)
    with pytest.raises(Conflict) as err, session_scope(engine=engine) as session:
        moves.recommend(session=session, app=vnm[3], actor=BUSAN)
    assert err.value.code == "nationality_cap"
    assert "3 of 10 recommendations (30.0%)" in err.value.en and "4 of 11 (36.4%)" in err.value.en
    assert "3/10명 (30.0%)" in err.value.ko
    with session_scope(engine=engine) as session:
        assert service.get(session=session, application_id=vnm[3]).status == "screened"
        ledger = quotas.find_ledger(session=session, program_id=capped, period="2025")
        assert ledger.reserved == 10  # the refused reservation was rolled back with the refusal
    # another nationality still gets in, after which VNM fits again (4 of 12 = 33% > 30%: still refused)
    extra = submit(1, program=capped, nationality="NPL")
    with session_scope(engine=engine) as session:
        moves.recommend(session=session, app=extra, actor=BUSAN)
        same, total = moves.nationality_share(session=session, ledger_id=ledger.id, nationality="VNM")
        assert (same, total) == (3, 11)


def test_queue_ranks_by_points_then_submission_time_and_explains_standing(engine, busan, submit):
    # topik 3 + kiip 0 -> 0 points; topik 4 -> 10; topik 5 + kiip 4 -> 20
    low = submit(0, topik_level=3, kiip_level=0)
    high_late = submit(0, topik_level=4, kiip_level=4)
    mid = submit(0, topik_level=4, kiip_level=0)
    high_early_bad = submit(0, topik_level=4, kiip_level=4, bank_balance_krw=1)
    high_later = submit(0, topik_level=5, kiip_level=4)
    with session_scope(engine=engine) as session:
        q = views.queue(session=session, program_id=busan)
        ranked = q.frame.filter(pl.col("rank").is_not_null())
        assert ranked["id"].to_list() == [high_late, high_later, mid, low]
        assert ranked["points"].to_list() == [20, 20, 10, 0]
        assert ranked["rank"].to_list() == [1, 2, 3, 4]
        assert q.frame.filter(pl.col("id") == high_early_bad)["rank"].item() is None  # ineligible: unranked
        assert q.remaining == 10 and ranked["within_places"].all()
        app = service.get(session=session, application_id=high_later)
        why = views.standing(app, service.latest_screening(session=session, app=app), 2, q.remaining)
        assert {p["id"] for p in why["earned"]} == {"topik-4", "kiip-4"}
        assert "submission time" in why["rule"]["en"]


def test_oversubscribed_queue_marks_who_is_within_the_remaining_places(engine, busan, submit):
    ids = [submit(i) for i in range(12)]
    with session_scope(engine=engine) as session:
        q = views.queue(session=session, program_id=busan)
        ranked = q.frame.filter(pl.col("rank").is_not_null())
        assert ranked.height == 12 and ranked["within_places"].sum() == 10
        assert ranked.filter(~pl.col("within_places"))["rank"].to_list() == [11, 12]
        assert set(ranked["id"]) == set(ids)


def test_simplified_procedure_approves_automatically_and_reduces_documents(engine, busan, submit, attach):
    officer = Actor(id=2, username="t.officer", display_name="o", role="ministry_officer")
    admin = Actor(id=1, username="t.admin", display_name="a", role="ministry_admin")
    with pytest.raises(Forbidden), session_scope(engine=engine) as session:
        service.set_simplified(session=session, region="26", enabled=True, actor=officer, reason="grade A")
    with session_scope(engine=engine) as session:
        service.set_simplified(
            session=session, region="26", enabled=True, actor=admin, reason="2025 evaluation grade A"
        )
    app_id = submit(0)
    incomplete = submit(1, topik_level=None)
    with session_scope(engine=engine) as session:
        app = service.get(session=session, application_id=app_id)
        assert app.simplified
        # the list Busan's design declares under documents.simplified (policy/programs/26/busan-d2.yaml)
        assert [d["id"] for d in documents.checklist(session=session, app=app)] == [
            "passport",
            "admission_letter",
            "recommendation_letter",
        ]
        standard = documents.document_list(
            programs.get_version(session=session, program_id="busan-d2", version=1).design, "D-2", False
        )
        assert len(standard) == 8 and "recommendation_letter" in standard
    assert attach(app_id) == ["passport", "admission_letter", "recommendation_letter"]
    with session_scope(engine=engine) as session:
        moves.recommend(session=session, app=app_id, actor=BUSAN)
        assert service.get(session=session, application_id=app_id).status == "approved"
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "application.approve.automatic")).one()
        assert entry.actor == moves.SYSTEM_SIMPLIFIED.username and "simplified procedure" in entry.reason
        assert entry.inputs["benefit"] == "simplified_procedure"
        assert entry.inputs["explanation"]["outcome"] == "eligible"
        flag = session.scalars(select(AuditEntry).where(AuditEntry.action == "applications.benefit.simplified")).one()
        assert flag.actor == "t.admin"
        # an applicant who does not pass every criterion is not recommended, let alone approved
        assert service.get(session=session, application_id=incomplete).outcome == "incomplete"
    with session_scope(engine=engine) as session:
        service.set_simplified(session=session, region="26", enabled=False, actor=admin, reason="benefit withdrawn")
    standard = submit(2)
    with session_scope(engine=engine) as session:
        assert (
            len(documents.checklist(session=session, app=service.get(session=session, application_id=standard))) == 8
        )  # Busan declares eight documents
        moves.recommend(session=session, app=standard, actor=BUSAN)
        assert service.get(session=session, application_id=standard).status == "recommended"


def test_documents_are_checked_hashed_and_stored_on_disk(engine, busan, submit):
    app_id = submit(0)
    with session_scope(engine=engine) as session:
        doc = documents.upload_document(
            session=session,
            app=app_id,
            doc_type="passport",
            filename="../../pass.pdf",
            content=PDF,
            content_type="application/pdf",
            actor=BUSAN,
        )
        assert doc.size == len(PDF) and len(doc.sha256) == 64 and doc.filename == "pass.pdf"
        path = documents.document_path(doc)
        assert path.read_bytes() != PDF and str(path).startswith(str(get_settings().upload_dir))  # encrypted
        assert documents.read_clear(doc.stored_path, size=doc.size, sha256=doc.sha256) == PDF
        missing = documents.missing_documents(session=session, app=service.get(session=session, application_id=app_id))
        assert "passport" not in missing and "admission_letter" in missing
    cases = [
        ("passport", b"not a pdf", "application/pdf", 415, "file_content"),
        ("passport", PDF, "text/html", 415, "file_type"),
        ("passport", b"", "application/pdf", 422, "empty_file"),
        ("visa_photo_x", PDF, "application/pdf", 422, "unknown_document"),
        ("passport", b"%PDF-" + b"0" * documents.MAX_UPLOAD_BYTES, "application/pdf", 413, "file_too_large"),
    ]
    for doc_type, content, ctype, status, code in cases:
        with pytest.raises(DomainError) as err, session_scope(engine=engine) as session:
            documents.upload_document(
                session=session,
                app=app_id,
                doc_type=doc_type,
                filename="f",
                content=content,
                content_type=ctype,
                actor=SYSTEM,
            )
        assert (err.value.status, err.value.code) == (status, code)
    with session_scope(engine=engine) as session:
        assert session.scalars(select(ApplicationDocument)).all().__len__() == 1


def intake_csv(tmp_path, rows: list[str]):
    header = (
        "passport_no,name,nationality,birth_date,passport_valid_until,entry_ban,criminal_record,prior_illegal_stay,"
        "course_type,bank_balance_krw,university_region,topik_level,kiip_level,sex"
    )
    path = tmp_path / "intake.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


GOOD = "{p},Name {p},VNM,2001-02-03,2030-01-01,false,false,false,degree,9000000,26,{t},1,F"


def test_bulk_intake_keeps_good_rows_and_reports_bad_ones(engine, busan, submit, tmp_path):
    submit(0, passport="OPEN00001")
    rows = [
        GOOD.format(p="IMP000001", t=4),
        GOOD.format(p="IMP000002", t=3).replace("9000000", "100"),  # ineligible, still imported
        GOOD.format(p="IMP000003", t="nine"),  # bad integer
        GOOD.format(p="IMP000001", t=5),  # duplicate in file
        GOOD.format(p="OPEN00001", t=5),  # already open
        GOOD.format(p="IMP000006", t=4).replace("VNM", "vn"),  # bad nationality
        GOOD.format(p="", t=4),  # no passport
        GOOD.format(p="IMP000008", t=2).replace("2001-02-03", "2001-13-45"),  # bad date
    ]
    path = intake_csv(tmp_path, rows)
    with session_scope(engine=engine) as session:
        result = bulk_intake.import_applications(session=session, program_id=busan, source=path, actor=SYSTEM, on=ON)
    assert (result.rows_read, result.inserted, result.rejected_rows) == (8, 2, 6)
    assert result.outcome == "committed_with_rejects"
    assert result.outcomes == {"eligible": 1, "ineligible": 1}
    rejects = result.rejects.select("line", "field").rows()
    assert (4, "topik_level") in rejects and (5, "passport_no") in rejects and (6, "passport_no") in rejects
    assert (7, "nationality") in rejects and (8, "passport_no") in rejects and (9, "birth_date") in rejects
    assert result.rejects.filter(pl.col("line") == 4)["value"].item() == "nine"
    assert result.rejects["reason_ko"].str.len_chars().min() > 0
    # the reject report is an export: passports in it are masked
    passport_values = result.rejects.filter(pl.col("field") == "passport_no")["value"].to_list()
    assert "•••••••01" in passport_values and "OPEN00001" not in result.rejects.write_csv()
    with session_scope(engine=engine) as session:
        imported = session.scalars(select(Application).where(Application.channel == "import").order_by(Application.id))
        imported = list(imported)
        assert [views.passport_of(a) for a in imported] == ["IMP000001", "IMP000002"]
        assert [a.open_passport for a in imported] == pii.lookup_hash(["IMP000001", "IMP000002"])
        first = imported[0]
        assert (first.status, first.outcome, first.points) == ("screened", "eligible", 10)
        assert first.birth_date == dt.date(2001, 2, 3) and first.profile["sex"] == "F"
        scr = service.latest_screening(session=session, app=first)
        assert scr.explanation["detail"] == "batch"
        full = views.full_explanation(session=session, screening=scr)
        assert full["outcome"] == "eligible" and full["expanded_from_batch"]
        assert [c["result"] for c in full["criteria"]] == [c["result"] for c in scr.explanation["criteria"]]
        assert [e.move for e in service.events(session=session, app=first)] == ["submit", "screen"]
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "application.import")).one()
        assert entry.inputs["inserted"] == 2 and entry.inputs["rejected_rows"] == 6
        pinned = entry.inputs["applications"]
        assert (pinned["first_id"], pinned["last_id"]) == (imported[0].id, imported[1].id)
        assert len(pinned["sha256"]) == 64
        # the imported application goes on through the same life cycle
        moves.recommend(session=session, app=first.id, actor=BUSAN)


def test_bulk_intake_with_only_bad_rows_writes_nothing(engine, busan, tmp_path):
    path = intake_csv(tmp_path, [GOOD.format(p="", t=4)])
    with session_scope(engine=engine) as session:
        result = bulk_intake.import_applications(session=session, program_id=busan, source=path, actor=SYSTEM, on=ON)
    assert (result.inserted, result.outcome) == (0, "rolled_back")
    with session_scope(engine=engine) as session:
        assert session.scalars(select(Application)).all() == []


def test_bulk_intake_reads_xlsx_and_refuses_missing_columns(engine, busan, tmp_path):
    frame = pl.read_csv(intake_csv(tmp_path, [GOOD.format(p="XLS000001", t=4)]), infer_schema=False)
    xlsx = tmp_path / "intake.xlsx"
    frame.write_excel(xlsx)
    with session_scope(engine=engine) as session:
        result = bulk_intake.import_applications(session=session, program_id=busan, source=xlsx, actor=SYSTEM, on=ON)
    assert (result.inserted, result.outcome) == (1, "committed")
    with pytest.raises(DomainError) as err, session_scope(engine=engine) as session:
        bulk_intake.import_applications(
            session=session, program_id=busan, source=frame.drop("name"), actor=SYSTEM, on=ON
        )
    assert err.value.field == "name" and "name" in err.value.ko


def test_regional_official_acts_only_in_their_region(engine, busan, submit):
    app_id = submit(0)
    seoul = Actor(id=9, username="t.seoul", display_name="s", role="regional_official", region="11")
    busan_official = Actor(id=8, username="t.busan", display_name="b", role="regional_official", region="26")
    with session_scope(engine=engine) as session:
        with pytest.raises(Forbidden):
            moves.recommend(session=session, app=app_id, actor=seoul)
        with pytest.raises(Forbidden):
            service.get(session=session, application_id=app_id, actor=seoul)
        with pytest.raises(Forbidden):  # a region cannot approve
            moves.approve(session=session, app=app_id, actor=busan_official)
        moves.recommend(session=session, app=app_id, actor=busan_official)
