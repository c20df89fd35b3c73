"""Plausibility of applicant profiles (issue 17, req 1 and 2): the catalogue's bounds refused by the
form (same page, error summary, labels, typed values kept), the API and the file import."""

from __future__ import annotations

import re

import polars as pl
import pytest
from fastapi.testclient import TestClient
from tests.actors import BUSAN

from regionvisa.applications import bulk_intake, intake
from regionvisa.core.errors import Invalid
from regionvisa.db import session_scope
from regionvisa.rules import FIELDS

from .conftest import ON, eligible_busan
from .test_pages import FORM


def test_the_catalogue_declares_the_bounds():
    assert (FIELDS["birth_date"].age_min, FIELDS["birth_date"].age_max) == (0, 120)
    assert FIELDS["passport_valid_until"].after == "birth_date"
    assert (FIELDS["topik_level"].minimum, FIELDS["topik_level"].maximum) == (0, 6)
    assert FIELDS["birth_date"].to_dict()["age"] == {"minimum": 0, "maximum": 120}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"birth_date": "2090-01-01"}, "birth_date"),
        ({"birth_date": "1890-01-01"}, "birth_date"),
        ({"passport_valid_until": "1999-01-01"}, "passport_valid_until"),
        ({"topik_level": 9}, "topik_level"),
        ({"bank_balance_krw": -5}, "bank_balance_krw"),
    ],
)
def test_service_refuses_implausible_profiles(engine, busan, overrides, field):
    with session_scope(engine=engine) as session, pytest.raises(Invalid) as info:
        intake.submit(
            session=session,
            program_id="busan-d2",
            applicant=eligible_busan(**overrides),
            name="Kim",
            passport_no="PLA000001",
            actor=BUSAN,
            on=ON,
        )
    assert info.value.field == field
    assert field not in info.value.en and field not in info.value.ko  # worded with the label


def test_all_bad_fields_are_reported_at_once(engine, busan):
    with session_scope(engine=engine) as session, pytest.raises(intake.ProfileInvalid) as info:
        intake.submit(
            session=session,
            program_id="busan-d2",
            applicant=eligible_busan(birth_date="2090-01-01", topik_level=9),
            name="Kim",
            passport_no="PLA000002",
            actor=BUSAN,
            on=ON,
        )
    assert [e["field"] for e in info.value.field_errors] == ["birth_date", "passport_valid_until", "topik_level"]
    assert "2090-01-01" in info.value.field_errors[0]["en"] and "0 to 120" in info.value.field_errors[0]["en"]
    assert "생년월일" in info.value.field_errors[0]["ko"]


def test_a_birthday_today_is_age_zero_and_accepted(engine, busan):
    with session_scope(engine=engine) as session:
        app = intake.submit(
            session=session,
            program_id="busan-d2",
            applicant=eligible_busan(birth_date=ON.isoformat()),
            name="Kim",
            passport_no="PLA000003",
            actor=BUSAN,
            on=ON,
        )
        assert app.birth_date == ON


@pytest.fixture
def client(app, role_users, login):
    with TestClient(app) as c:
        token = login(c, role_users["regional_official"]["username"])
        c.headers["X-CSRF-Token"] = token
        yield c, token


def test_api_refuses_a_birth_date_in_the_future(client, busan):
    c, _ = client
    r = c.post(
        "/api/v1/applications",
        json={
            "program_id": "busan-d2",
            "name": "Kim",
            "passport_no": "PLA000010",
            "applicant": eligible_busan(birth_date="2090-01-01"),
            "submitted_on": ON.isoformat(),
        },
    )
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["field"] == "birth_date"
    assert "date of birth" in err["message"]["en"].lower() and "생년월일" in err["message"]["ko"]
    assert [d["field"] for d in err["details"]] == ["birth_date", "passport_valid_until"]


def test_file_import_rejects_the_implausible_rows(engine, busan):
    rows = [
        {"name": "A", "passport_no": "IMP000001", **eligible_busan(0)},
        {"name": "B", "passport_no": "IMP000002", **eligible_busan(1, birth_date="2090-01-01")},
        {"name": "C", "passport_no": "IMP000003", **eligible_busan(2, passport_valid_until="1990-01-01")},
    ]
    frame = pl.DataFrame([{k: (str(v) if v is not None else None) for k, v in r.items()} for r in rows])
    with session_scope(engine=engine) as session:
        result = bulk_intake.import_applications(
            session=session, program_id="busan-d2", source=frame, actor=BUSAN, on=ON
        )
    assert result.inserted == 1 and result.rejected_rows == 2
    rejects = result.rejects.sort("line", "field")
    assert rejects.select("line", "field").rows() == [
        (3, "birth_date"),
        (3, "passport_valid_until"),  # a passport that expired before the holder's birth
        (4, "passport_valid_until"),
    ]
    assert "0 to 120" in rejects["reason_en"][0]


@pytest.mark.parametrize(
    ("lang", "summary", "label"),
    [("ko", "입력 내용을 확인해 주세요", "생년월일"), ("en", "There is a problem", "Date of birth")],
)
def test_form_comes_back_with_the_summary_and_the_typed_values(client, busan, lang, summary, label):
    c, token = client
    c.cookies.set("lang", lang)
    data = {**FORM, "birth_date": "2090-01-01", "topik_level": "9", "csrf_token": token, "lang": lang}
    r = c.post(f"/applications/new?lang={lang}", data=data, follow_redirects=False)
    assert r.status_code == 422, r.text[:300]
    html = r.text
    assert summary in html
    assert 'href="#f-birth_date"' in html and 'href="#f-topik_level"' in html
    assert 'id="f-birth_date-error"' in html and label in html
    assert 'value="2090-01-01"' in html and 'value="Tran Thi B"' in html and 'value="9"' in html
    assert 'value="PG1234567"' in html
    summary_box = re.search(r'<div class="error-box error-summary".*?</div>', html, re.S).group(0)
    assert "birth_date" not in summary_box.replace("#f-birth_date", "")
    assert "topik_level" not in summary_box.replace("#f-topik_level", "")


def test_form_enum_values_are_translated_in_korean(client, busan):
    c, _ = client
    c.cookies.set("lang", "ko")
    html = c.get("/applications/new?lang=ko").text
    assert ">고등학교<" in html and ">학위 과정<" in html
    assert ">high_school<" not in html and ">degree<" not in html


def test_form_date_default_falls_inside_the_ledger(client, busan):
    c, _ = client
    html = c.get("/applications/new").text
    default = re.search(r'id="submitted-on" name="submitted_on" value="([0-9-]+)"', html).group(1)
    assert default.startswith("2025-")  # the only ledger is 2025's
    assert 'id="no-ledger"' not in html


def _approved(engine, attach) -> int:
    from tests.actors import OFFICER

    from regionvisa.applications import moves

    with session_scope(engine=engine) as session:
        app = intake.submit(
            session=session,
            program_id="busan-d2",
            applicant=eligible_busan(),
            name="Kim",
            passport_no="CAN000001",
            actor=BUSAN,
            on=ON,
        )
        app_id = app.id
    attach(app_id)
    with session_scope(engine=engine) as session:
        moves.recommend(session=session, app=app_id, actor=BUSAN)
    with session_scope(engine=engine) as session:
        if moves.get(session=session, application_id=app_id).status == "recommended":
            moves.approve(session=session, app=app_id, actor=OFFICER, reason="ok")
    return app_id


@pytest.mark.parametrize(("lang", "text"), [("ko", "확인란을 선택해 주세요"), ("en", "Tick the box")])
def test_cancel_asks_for_confirmation(app, role_users, login, engine, busan, attach, lang, text):
    app_id = _approved(engine, attach)
    with TestClient(app) as c:
        token = login(c, role_users["ministry_officer"]["username"])
        c.cookies.set("lang", lang)
        page = c.get(f"/applications/{app_id}/cancel?lang={lang}")
        assert page.status_code == 200 and 'name="confirm"' in page.text
        r = c.post(
            f"/applications/{app_id}/cancel?lang={lang}",
            data={"csrf_token": token, "reason": "fraud found"},
            follow_redirects=False,
        )
        assert r.status_code == 422 and text in r.text and 'href="#confirm"' in r.text
        assert 'value="fraud found"' in r.text  # the typed reason is kept
        assert "승인" in c.get(f"/applications/{app_id}?lang=ko").text  # still approved
        r = c.post(
            f"/applications/{app_id}/cancel",
            data={"csrf_token": token, "reason": "fraud found", "confirm": "yes"},
            follow_redirects=False,
        )
        assert r.status_code == 303


@pytest.mark.parametrize(("lang", "text"), [("ko", "열린 정원 원장이 없어"), ("en", "No quota ledger is open")])
def test_form_says_when_no_ledger_is_open(app, role_users, login, engine, lang, text):
    import copy

    from regionvisa.config import get_settings
    from regionvisa.policyfiles import read_yaml

    from .conftest import publish_design

    design = copy.deepcopy(read_yaml(get_settings().policy_dir / "programs" / "26" / "busan-d2.yaml"))
    with session_scope(engine=engine) as session:
        publish_design(session, design)  # published, but no ledger opened
    with TestClient(app) as c:
        login(c, role_users["regional_official"]["username"])
        html = c.get(f"/applications/new?lang={lang}").text
    assert 'id="no-ledger"' in html and text in html and 'href="/quotas"' in html


@pytest.mark.parametrize(("lang", "summary"), [("ko", "입력 내용을 확인해 주세요"), ("en", "There is a problem")])
def test_refused_upload_and_move_come_back_on_the_application_page(client, engine, busan, lang, summary):
    c, token = client
    with session_scope(engine=engine) as session:
        app_id = intake.submit(
            session=session,
            program_id="busan-d2",
            applicant=eligible_busan(),
            name="Kim",
            passport_no="UPL000001",
            actor=BUSAN,
            on=ON,
        ).id
    r = c.post(
        f"/applications/{app_id}/documents?lang={lang}",
        data={"csrf_token": token, "doc_type": "passport"},
        files={"file": ("notes.txt", b"plain text", "text/plain")},
    )
    assert r.status_code in (415, 422), r.text[:300]
    assert summary in r.text and 'href="#doc-file"' in r.text and 'id="application-facts"' in r.text
    r = c.post(f"/applications/{app_id}/withdraw?lang={lang}", data={"csrf_token": token, "reason": ""})
    assert r.status_code == 422 and summary in r.text and f'href="#reason-withdraw-{app_id}"' in r.text
