"""A `person_id` given with an application must be the applicant and a person the actor may act on.

The attack: a Busan official submitted an application naming a Gyeonggi resident's person id; once
issued, that person gained a Busan status grant. Now the person record must match the applicant
(passport number, name and date of birth), and a regional official may link only people of their
own region or people the records place in no region yet; the ministry may link anyone. Checked
through the service for every role and the system actor, through the API, and in bulk intake.
"""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from tests.actors import SYSTEM
from tests.jobs.support import follow

from regionvisa.accounts import service as accounts
from regionvisa.accounts.policy import Actor
from regionvisa.applications import bulk_intake, intake, moves, service
from regionvisa.applications.models import Application
from regionvisa.core.errors import DomainError
from regionvisa.db import session_scope
from regionvisa.records import pii
from regionvisa.records.models import Person, StatusGrant

from .conftest import ON, eligible_busan

# tests/conftest.py seeds person i as "Test Person i", born 199i-01-0(i+1), passport X(1000000+i)
BUSAN_PERSON = ("P10000001", "Test Person 0", "X1000000", "1990-01-01")
GYEONGGI_PERSON = ("P10000007", "Test Person 6", "X1000006", "1996-01-07")
NO_REGION_PERSON = ("P20000001", "Kim Minh", "N2000001", "1999-05-05")


def principal(role: str, region: str | None = None) -> Actor:
    return Actor(id=None, username=f"t.{role}", display_name=role, role=role, region=region)


ROLES = {
    "regional_official": principal("regional_official", "26"),
    "ministry_officer": principal("ministry_officer"),
    "ministry_admin": principal("ministry_admin"),
    "committee_member": principal("committee_member"),
    "auditor": principal("auditor"),
}


@pytest.fixture
def people(engine, busan, records):
    """Seeded residents of Busan (26), Seoul (11) and Gyeonggi (41), plus a person with no region."""
    person_id, name, passport, birth = NO_REGION_PERSON
    enc, digest = pii.protect(passport)
    with session_scope(engine=engine) as session:
        session.add(
            Person(
                person_id=person_id,
                name=name,
                nationality="VNM",
                birth_date=dt.date.fromisoformat(birth),
                sex="F",
                passport_enc=enc,
                passport_hash=digest,
            )
        )
        assert intake.person_region(session=session, person_id=BUSAN_PERSON[0]) == "26"
        assert intake.person_region(session=session, person_id=GYEONGGI_PERSON[0]) == "41"
        assert intake.person_region(session=session, person_id=person_id) is None
    return records


def submit_as(engine, actor, person, *, name=None, passport=None, birth=None, n=0):
    person_id, p_name, p_passport, p_birth = person
    with session_scope(engine=engine) as session:
        app = intake.submit(
            session=session,
            program_id="busan-d2",
            applicant=eligible_busan(n, birth_date=birth or p_birth),
            name=name or p_name,
            passport_no=passport or p_passport,
            person_id=person_id,
            actor=actor,
            on=ON,
        )
        return app.id


def applications(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Application)).scalar_one()


def grants_of(engine, person_id: str) -> list[tuple[str, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(StatusGrant.region, StatusGrant.program_id).where(StatusGrant.person_id == person_id)
        )
        return [tuple(r) for r in rows]


def refusal(engine, actor, person, **kwargs) -> DomainError:
    before = applications(engine)
    with pytest.raises(DomainError) as err:
        submit_as(engine, actor, person, **kwargs)
    assert applications(engine) == before  # nothing stored
    assert err.value.ko and err.value.en and err.value.ko != err.value.en
    return err.value


def issue_all_the_way(engine, app_id: int, attach) -> Application:
    attach(app_id)  # the checklist complete, so approve and issue go ahead
    with session_scope(engine=engine) as session:
        moves.recommend(session=session, app=app_id, actor=SYSTEM)
        moves.approve(session=session, app=app_id, actor=SYSTEM)
        return moves.issue(session=session, app=app_id, actor=SYSTEM, on=dt.date(2025, 7, 1))


# ------------------------------------------------------------------------------------- the attack


def test_a_regional_official_cannot_link_another_regions_resident(engine, people):
    err = refusal(engine, ROLES["regional_official"], GYEONGGI_PERSON)
    assert (err.status, err.code) == (403, "forbidden")
    assert "another region" in err.en and "다른 지역" in err.ko
    assert "41" not in err.en  # the other region is not named
    assert grants_of(engine, GYEONGGI_PERSON[0]) == [("41", None)]  # no Busan status grant


def test_the_out_of_scope_refusal_comes_before_the_identity_check(engine, people):
    """A wrong name for another region's person is still a 403: the answer reveals nothing about them."""
    err = refusal(engine, ROLES["regional_official"], GYEONGGI_PERSON, name="Somebody Else")
    assert err.status == 403


def test_a_regional_official_links_own_region_and_no_region_people(engine, people, attach):
    official = ROLES["regional_official"]
    own = submit_as(engine, official, BUSAN_PERSON, name="  test   PERSON 0 ")  # spacing and case do not matter
    fresh = submit_as(engine, official, NO_REGION_PERSON, n=1)
    app = issue_all_the_way(engine, own, attach)
    assert app.person_id == BUSAN_PERSON[0]
    assert ("26", "busan-d2") in grants_of(engine, BUSAN_PERSON[0])
    assert issue_all_the_way(engine, fresh, attach).person_id == NO_REGION_PERSON[0]
    assert grants_of(engine, NO_REGION_PERSON[0]) == [("26", "busan-d2")]


@pytest.mark.parametrize(
    "wrong",
    [{"name": "Test Person 9"}, {"passport": "X9999999"}, {"birth": "1990-01-02"}],
    ids=["name", "passport", "birth_date"],
)
@pytest.mark.parametrize("role", ["regional_official", "ministry_officer", "ministry_admin"])
def test_the_person_record_must_be_the_applicant(engine, people, role, wrong):
    err = refusal(engine, ROLES[role], BUSAN_PERSON, **wrong)
    assert (err.status, err.code, err.field) == (422, "person_mismatch", "person_id")
    assert "passport number, name and date of birth" in err.en and "여권번호, 이름, 생년월일" in err.ko


def test_a_birth_date_is_needed_to_link_a_person(engine, people):
    person_id, name, passport, _birth = BUSAN_PERSON
    profile = eligible_busan(0)
    profile.pop("birth_date")
    with pytest.raises(DomainError) as err, session_scope(engine=engine) as session:
        intake.submit(
            session=session,
            program_id="busan-d2",
            applicant=profile,
            name=name,
            passport_no=passport,
            person_id=person_id,
            actor=ROLES["regional_official"],
            on=ON,
        )
    assert err.value.code == "person_mismatch"


@pytest.mark.parametrize("role", list(ROLES))
def test_an_unknown_person_id_is_refused_for_every_role(engine, people, role):
    err = refusal(engine, ROLES[role], ("P99999999", "Nobody", "Z0000000", "1990-01-01"))
    if role in ("committee_member", "auditor"):
        assert err.status == 403  # these roles take no applications at all
    else:
        assert (err.status, err.code, err.field) == (422, "unknown_person", "person_id")


@pytest.mark.parametrize("role", ["ministry_officer", "ministry_admin"])
def test_the_ministry_links_a_resident_of_any_region(engine, people, role, attach):
    """A Gyeonggi resident applying to Busan's programme is an ordinary case for the ministry."""
    app_id = submit_as(engine, ROLES[role], GYEONGGI_PERSON)
    assert issue_all_the_way(engine, app_id, attach).person_id == GYEONGGI_PERSON[0]
    assert ("26", "busan-d2") in grants_of(engine, GYEONGGI_PERSON[0])


@pytest.mark.parametrize("role", ["committee_member", "auditor"])
def test_roles_without_intake_cannot_submit_with_any_person(engine, people, role):
    for person in (BUSAN_PERSON, GYEONGGI_PERSON, NO_REGION_PERSON):
        assert refusal(engine, ROLES[role], person).status == 403


def test_the_command_line_links_anyone_who_is_the_applicant(engine, people):
    app_id = submit_as(engine, SYSTEM, GYEONGGI_PERSON)
    with session_scope(engine=engine) as session:
        assert service.get(session=session, application_id=app_id).person_id == GYEONGGI_PERSON[0]
    assert refusal(engine, SYSTEM, GYEONGGI_PERSON, name="Test Person 5").code == "person_mismatch"


def test_issuance_checks_the_link_again(engine, people, attach):
    """A link that no longer matches (written before these checks, or changed since) stops issuance."""
    app_id = submit_as(engine, ROLES["regional_official"], BUSAN_PERSON)
    attach(app_id)
    with session_scope(engine=engine) as session:
        session.execute(update(Application).where(Application.id == app_id).values(person_id=GYEONGGI_PERSON[0]))
        moves.recommend(session=session, app=app_id, actor=SYSTEM)
        moves.approve(session=session, app=app_id, actor=SYSTEM)
    with pytest.raises(DomainError) as err, session_scope(engine=engine) as session:
        moves.issue(session=session, app=app_id, actor=ROLES["ministry_officer"], on=dt.date(2025, 7, 1))
    assert (err.value.status, err.value.code) == (409, "person_mismatch")
    assert grants_of(engine, GYEONGGI_PERSON[0]) == [("41", None)]
    with session_scope(engine=engine) as session:
        assert service.get(session=session, application_id=app_id).status == "approved"


# ------------------------------------------------------------------------------------- the API


@pytest.fixture
def bearer(engine, role_users):
    out = {}
    with session_scope(engine=engine) as session:
        for role, info in role_users.items():
            _, plain = accounts.create_token(
                session=session, actor=SYSTEM, user=accounts.get_user(session=session, user_id=info["id"]), name="t"
            )
            out[role] = {"Authorization": f"Bearer {plain}"}
    return out


def body(person, *, name=None, passport=None, birth=None) -> dict:
    person_id, p_name, p_passport, p_birth = person
    return {
        "program_id": "busan-d2",
        "name": name or p_name,
        "passport_no": passport or p_passport,
        "person_id": person_id,
        "applicant": eligible_busan(0, birth_date=birth or p_birth),
        "submitted_on": ON.isoformat(),
    }


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"]["ko"] and error["message"]["en"]
    assert error.get("field") == field
    return error


def test_the_api_for_every_role(app, engine, people, bearer):
    with TestClient(app) as client:
        post = client.post
        region = bearer["regional_official"]
        error = assert_error(post("/api/v1/applications", json=body(GYEONGGI_PERSON), headers=region), 403, "forbidden")
        assert "another region" in error["message"]["en"]
        assert_error(
            post("/api/v1/applications", json=body(BUSAN_PERSON, birth="1991-01-01"), headers=region),
            422,
            "person_mismatch",
            "person_id",
        )
        unknown = ("P00000000", "A", "A1234567", "1990-01-01")
        assert_error(
            post("/api/v1/applications", json=body(unknown), headers=region), 422, "unknown_person", "person_id"
        )
        for person in (BUSAN_PERSON, NO_REGION_PERSON):
            created = post("/api/v1/applications", json=body(person), headers=region)
            assert created.status_code == 201, created.text
            assert created.json()["person_id"] == person[0]
        # the other roles take no applications through the API, whoever the person is
        for role in ("ministry_officer", "ministry_admin", "committee_member", "auditor"):
            for person in (BUSAN_PERSON, GYEONGGI_PERSON):
                assert_error(post("/api/v1/applications", json=body(person), headers=bearer[role]), 403, "forbidden")
    assert grants_of(engine, GYEONGGI_PERSON[0]) == [("41", None)]


HEADER = (
    "passport_no,name,nationality,birth_date,passport_valid_until,entry_ban,criminal_record,prior_illegal_stay,"
    "course_type,bank_balance_krw,university_region,topik_level,person_id\n"
)


def row(passport: str, name: str, birth: str, person_id: str = "") -> str:
    return f"{passport},{name},VNM,{birth},2030-01-01,false,false,false,degree,9000000,26,4,{person_id}\n"


def test_bulk_intake_rejects_the_rows_whose_person_is_not_theirs(app, engine, people, bearer):
    csv = (
        HEADER
        + row("X1000000", "Test Person 0", "1990-01-01", BUSAN_PERSON[0])  # line 2: own region, the applicant
        + row("X1000006", "Test Person 6", "1996-01-07", GYEONGGI_PERSON[0])  # 3: another region
        + row("X1000001", "Test Person 1", "1991-01-02", BUSAN_PERSON[0])  # 4: not the applicant
        + row("Q1000001", "No Link", "1995-02-02")  # 5: no link at all
        + row("N2000001", "kim  minh", "1999-05-05", f" {NO_REGION_PERSON[0]} ")  # 6: no region yet
        + row("Z1000001", "Ghost", "1995-02-02", "P77777777")  # 7: unknown
    )
    with TestClient(app) as client:
        r = client.post(
            "/api/v1/applications/imports",
            data={"program_id": "busan-d2", "submitted_on": ON.isoformat()},
            files={"file": ("intake.csv", csv.encode(), "text/csv")},
            headers=bearer["regional_official"],
        )
        job = follow(client, r, engine, headers=bearer["regional_official"])
    assert job["state"] == "succeeded", job
    result = job["result"]["summary"]
    assert (result["inserted"], result["rejected_rows"]) == (3, 3)
    problems = {p["line"]: p for p in result["problems"]}
    assert set(problems) == {3, 4, 7}
    assert all(p["field"] == "person_id" for p in problems.values())
    assert "another region" in problems[3]["reason_en"] and "다른 지역" in problems[3]["reason_ko"]
    assert "not the applicant" in problems[4]["reason_en"]
    assert "no person" in problems[7]["reason_en"]
    with engine.connect() as conn:
        linked = sorted(
            conn.execute(select(Application.person_id).where(Application.channel == "import")).scalars(), key=str
        )
    assert linked == sorted([BUSAN_PERSON[0], NO_REGION_PERSON[0], None], key=str)


def test_bulk_intake_from_the_command_line_links_any_region_but_only_the_applicant(engine, people):
    import polars as pl

    csv = HEADER + row("X1000006", "Test Person 6", "1996-01-07", GYEONGGI_PERSON[0])
    csv += row("X1000007", "Test Person 6", "1996-01-07", GYEONGGI_PERSON[0])
    frame = pl.read_csv(csv.encode(), infer_schema=False)
    with session_scope(engine=engine) as session:
        result = bulk_intake.import_applications(
            session=session, program_id="busan-d2", source=frame, actor=SYSTEM, on=ON
        )
    assert (result.inserted, result.rejected_rows) == (1, 1)
    assert result.rejects.row(0, named=True)["line"] == 3
