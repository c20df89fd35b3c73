"""Names and search (issue 17, req 8): names shown to roles holding `applications.search`, search
by name and by whole passport number through the keyed hash, each search audited without the terms."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.actors import BUSAN, OFFICER

from regionvisa.applications import bulk_intake, intake, service
from regionvisa.core.actor import Actor
from regionvisa.core.errors import Forbidden, Invalid
from regionvisa.db import session_scope

from .conftest import ON, eligible_busan


@pytest.fixture
def lodged(engine, busan):
    with session_scope(engine=engine) as session:
        for i, (name, passport) in enumerate([("Nguyen Van An", "SRC000001"), ("Tran Thi Binh", "SRC000002")]):
            intake.submit(
                session=session,
                program_id="busan-d2",
                applicant=eligible_busan(i),
                name=name,
                passport_no=passport,
                actor=BUSAN,
                on=ON,
            )


def _audit_rows(engine) -> list[str]:
    with engine.connect() as conn:
        return [
            json.dumps(list(r), default=str)
            for r in conn.execute(text("SELECT * FROM audit_entry WHERE action = 'applications.search'"))
        ]


def test_search_by_name_and_passport_is_audited_without_the_terms(engine, lodged):
    with session_scope(engine=engine) as session:
        by_name = service.search_applications(session=session, actor=OFFICER, name="  van   AN ")
        assert [a.applicant_name for a in by_name.rows] == ["Nguyen Van An"]
        by_passport = service.search_applications(session=session, actor=BUSAN, passport_no="src000002")
        assert [a.applicant_name for a in by_passport.rows] == ["Tran Thi Binh"]
        none = service.search_applications(session=session, actor=BUSAN, passport_no="SRC00000")
        assert none.total == 0  # the whole number, never a prefix
    rows = _audit_rows(engine)
    assert len(rows) == 3
    joined = " ".join(rows)
    assert "SRC000002" not in joined and "van an" not in joined.lower() and "src00000" not in joined.lower()
    assert "passport_digest" in joined and "name_digest" in joined


def test_search_needs_a_term_and_the_role(engine, lodged):
    with session_scope(engine=engine) as session:
        with pytest.raises(Invalid):
            service.search_applications(session=session, actor=OFFICER, name="  ")
        with pytest.raises(Invalid):
            service.search_applications(session=session, actor=OFFICER, passport_no="AB")
    auditor = Actor(id=None, username="t.auditor", display_name="Auditor", role="auditor")
    with session_scope(engine=engine) as session, pytest.raises(Forbidden):
        service.search_applications(session=session, actor=auditor, name="Nguyen")
    assert service.sees_names(OFFICER) and service.sees_names(BUSAN) and not service.sees_names(auditor)


@pytest.fixture
def as_role(app, role_users, login):
    clients = []

    def make(role: str) -> tuple[TestClient, str]:
        c = TestClient(app)
        c.__enter__()
        clients.append(c)
        return c, login(c, role_users[role]["username"])

    yield make
    for c in clients:
        c.__exit__(None, None, None)


@pytest.mark.parametrize(("lang", "label"), [("ko", "신청인 이름"), ("en", "Applicant's name")])
def test_list_shows_names_and_searches_by_post(as_role, lodged, lang, label):
    c, token = as_role("ministry_officer")
    page = c.get(f"/applications?lang={lang}")
    assert "Nguyen Van An" in page.text and "Tran Thi Binh" in page.text and label in page.text
    assert 'action="/applications/search"' in page.text  # posted: the terms stay out of addresses and logs

    def search(**data):
        return c.post(f"/applications/search?lang={lang}", data={"csrf_token": token, **data})

    found = search(passport_no="SRC000001")
    assert found.status_code == 200 and "Nguyen Van An" in found.text and "Tran Thi Binh" not in found.text
    assert found.headers["cache-control"] == "no-store"
    found = search(q="binh")
    assert "Tran Thi Binh" in found.text and "Nguyen Van An" not in found.text
    bad = search(passport_no="A-1")
    assert bad.status_code == 422 and 'href="#passport_no"' in bad.text and 'value="A-1"' in bad.text


def test_roles_without_the_grant_see_no_names_and_cannot_search(as_role, lodged):
    c, token = as_role("auditor")
    page = c.get("/applications")
    assert page.status_code == 200
    assert "Nguyen Van An" not in page.text and 'id="q"' not in page.text
    assert c.post("/applications/search", data={"csrf_token": token, "q": "Nguyen"}).status_code == 403


def test_region_queue_names_the_points_of_file_screened_applicants(as_role, engine, busan):
    """A file's screenings are stored short; the queue must not say "no points earned" of a
    15-point applicant (topik-4 + graduate-course)."""
    import polars as pl

    row = {"name": "File Applicant", "passport_no": "FIL000001", **eligible_busan(1, education_level="bachelor")}
    row["topik_level"] = 4
    row["kiip_level"] = 0
    frame = pl.DataFrame([{k: (str(v) if v is not None else None) for k, v in row.items()}])
    with session_scope(engine=engine) as session:
        result = bulk_intake.import_applications(
            session=session, program_id="busan-d2", source=frame, actor=BUSAN, on=ON
        )
        assert result.inserted == 1
    c, _ = as_role("regional_official")
    html = c.get("/applications/queue/region?program_id=busan-d2&lang=en").text
    assert ">15<" in html
    # each points rule by what it asks, in the page's language (never its id)
    assert "TOPIK level ≥ 4 (+10)" in html and "education level ≥ bachelor&#39;s degree (+5)" in html
    assert "topik-4" not in html
    assert "no points earned" not in html
