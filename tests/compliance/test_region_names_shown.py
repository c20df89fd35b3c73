"""Region and nationality codes are shown with their names: the compliance evidence and at-risk
details, the case and queue pages, and the statistics pages' nationalities, in each page's language."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.actors import SYSTEM

from regionvisa.compliance import cases, wording
from regionvisa.stats import service, summary
from regionvisa.web.i18n import current_language
from regionvisa.web.places import country_label, region_label

ON = dt.date(2025, 12, 31)


@pytest.fixture
def seeded(engine, kit, role_users):
    r = kit.Records()
    # H1 (Busan's programme) lives in Seoul from May: a residence-obligation finding
    r.status("H1", "2025-03-01", "2027-02-28", program_id="busan-d2", region="26")
    r.address("H1", "26110", "2025-03-01", "2025-03-02").address("H1", "11010", "2025-05-01", "2025-05-31")
    r.move("H1", "entry", "2025-02-27").kiip("H1", "2025-04-01")
    # H3 has lived 78 of the 90 days outside Busan: at risk
    r.status("H3", "2025-09-01", "2027-08-31", program_id="busan-d2", region="26")
    r.address("H3", "26110", "2025-09-01").address("H3", "11010", "2025-10-15").kiip("H3", "2025-09-10")
    kit.insert(engine, r.frames())
    with engine.begin() as conn:
        summary.rebuild(conn=conn)
    service.clear_overview_cache()
    cases.record_run(engine=engine, on=ON, actor=SYSTEM)
    return engine


def test_the_helpers_name_regions_and_countries():
    assert region_label("26", "ko") == "부산광역시(26)" and region_label("26", "en") == "Busan (26)"
    assert region_label("11010", "ko") == "서울특별시(11010)" and region_label("", "ko") == "–"
    assert region_label("99", "en") == "99"  # no such region: the code as it is
    assert country_label("VNM", "ko") == "베트남(VNM)" and country_label("VNM", "en") == "Vietnam (VNM)"
    assert country_label("XYZ", "ko") == "XYZ"


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "78 of 90 days outside Busan (26); address in Seoul (11010) from 2025-10-15, reported on 2025-10-15"),
        ("ko", "부산광역시(26) 밖 체류 78일 (한도 90일); 체류지 서울특별시(11010), 2025-10-15부터 (2025-10-15 신고)"),
    ],
)
def test_a_detail_is_explained_with_region_names(lang, said):
    token = current_language.set(lang)
    try:
        detail = "78 of 90 days outside 26; address_report[11010 effective 2025-10-15 reported 2025-10-15]"
        assert wording.explain(detail) == said
        assert wording.explain("something new; 26") == "something new; 26"  # unknown parts as written
    finally:
        current_language.reset(token)


def test_compliance_pages_name_the_regions(client, login, role_users, seeded):
    login(client, role_users["ministry_officer"]["username"])
    board = client.get("/compliance").text
    assert "부산광역시(26) 밖 체류 78일 (한도 90일)" in board and "서울특별시(11010)" in board
    assert "days outside 26" not in board and "address_report[" not in board
    queue = client.get("/compliance/cases?region=26").text
    assert "부산광역시(26)" in queue
    case_id = next(c["id"] for c in client.get("/api/v1/compliance/cases").json()["items"] if c["person_id"] == "H1")
    page = client.get(f"/compliance/cases/{case_id}").text
    assert "부산광역시(26) 밖: 체류지 서울특별시(11010)" in page  # the evidence, regions named
    assert "<td>서울특별시(11010)</td>" in page and "outside 26" not in page
    # the API keeps the machine evidence as it is
    assert "outside 26: address_report[11010" in client.get(f"/api/v1/compliance/cases/{case_id}").json()["evidence"]
    english = client.get("/compliance?lang=en").text  # the language switch sticks from here on
    assert "78 of 90 days outside Busan (26)" in english
    assert "outside Busan (26): address in Seoul (11010)" in client.get(f"/compliance/cases/{case_id}").text


def test_statistics_pages_name_the_nationalities(client, login, role_users, seeded):
    login(client, role_users["ministry_officer"]["username"])
    page = client.get("/regions/11", params={"at": ON.isoformat()}).text
    assert "베트남(VNM)" in page and ">VNM<" not in page
    english = client.get("/regions/11", params={"at": ON.isoformat(), "lang": "en"}).text
    assert "Vietnam (VNM)" in english
