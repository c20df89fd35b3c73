"""Employer concentration (issue 19): per employer, the programme E-7 holders among its foreign
staff on the run's date, their share, the declared threshold that flags it, the findings on the
holders there, and the employers page, API and export for each reader's region."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.actors import SYSTEM

from regionvisa.compliance import cases, engine
from regionvisa.compliance.models import ComplianceCase
from regionvisa.compliance.rules import compliance_rules
from regionvisa.records.frames import SCHEMAS

ON = dt.date(2025, 12, 31)


def _ulsan_holder(records, person, start="2025-05-01", granted="2025-05-01", employer="EMP-U", region="31"):
    records.status(person, granted, "2027-04-30", program_id="ulsan-e7", visa="E-7", region="31")
    records.address(person, "31110", granted)
    records.job(person, region, start, employer_id=employer)


def _concentrated(records):
    """EMP-U (Ulsan): 6 holders of 8 foreign staff (75 %, flagged). EMP-S: 2 of 2 (100 %, too few
    holders). EMP-C: 5 of 11 (45 %, below the share). Ended jobs, a D-2 programme holder and an
    E-7 holder of no programme count as staff, not holders."""
    for i in range(6):
        _ulsan_holder(records, f"U{i}", start="2025-04-01" if i == 0 else "2025-06-01")
    records.status("W1", "2024-01-01", "2027-01-01", visa="E-7", region="31").job(
        "W1", "31", "2024-02-01", employer_id="EMP-U"
    )
    records.status("W2", "2025-03-01", "2027-02-28", program_id="busan-d2", visa="D-2").job(
        "W2", "31", "2025-07-01", employer_id="EMP-U"
    )
    # an ended job neither counts as staff nor as a holder there
    _ulsan_holder(records, "GONE")
    records.rows["employment"][-1]["end_date"] = dt.date(2025, 10, 31)
    for i in range(2):
        _ulsan_holder(records, f"S{i}", employer="EMP-S")
    for i in range(5):
        _ulsan_holder(records, f"C{i}", employer="EMP-C")
    for i in range(6):
        records.status(f"CW{i}", "2024-01-01", "2027-01-01", visa="E-9", region="31").job(
            f"CW{i}", "31", "2024-03-01", employer_id="EMP-C"
        )
    return records


def test_shares_flags_and_findings_by_hand(kit, records):
    frames = _concentrated(records).frames()
    on = kit.settings(ON)
    table = engine.employer_table(frames, on)
    assert table.select("employer_id", "region", "holders", "foreign_staff", "flagged").rows() == [
        ("EMP-S", "31", 2, 2, False),
        ("EMP-U", "31", 6, 8, True),
        ("EMP-C", "31", 5, 11, False),
    ]
    assert table.filter(employer_id="EMP-U")["share"][0] == pytest.approx(0.75)
    progs = kit.programmes({"program_id": "ulsan-e7", "region": "31", "residence_area": ["31"]})
    found = engine.find_all(frames, progs, on).filter(rule="employer_concentration")
    assert kit.rows(found) == [
        ("U0", "employer_concentration", "ulsan-e7", "2025-05-01", None, 245),  # the grant came after the job
        *[(f"U{i}", "employer_concentration", "ulsan-e7", "2025-06-01", None, 214) for i in range(1, 6)],
    ]
    assert set(found["region"]) == {"31"} and set(found["severity"]) == {"low"}
    assert found["evidence"][0] == (
        "employer EMP-U: 6 of 8 foreign staff hold a programme E-7 status, above share 0.5 (at least 5); "
        "employment[EMP-U from 2025-05-01]"
    )
    # the declared values decide: a lower share flags EMP-C, fewer holders EMP-S
    looser = engine.employer_table(frames, dataclasses.replace(on, max_holder_share=0.4, min_holders=2))
    assert looser.filter("flagged")["employer_id"].sort().to_list() == ["EMP-C", "EMP-S", "EMP-U"]
    # before the jobs began there is nothing to count
    assert engine.employer_table(frames, kit.settings("2025-01-31")).height == 0


def test_evidence_reads_in_the_page_language():
    from regionvisa.compliance.wording import explain
    from regionvisa.web.i18n import current_language

    text = "employer EMP-U: 6 of 8 foreign staff hold a programme E-7 status, above share 0.5 (at least 5)"
    token = current_language.set("ko")
    try:
        assert explain(text) == (
            "고용주 EMP-U: 외국인 직원 8명 중 6명이 프로그램 E-7 자격 소지자로, 정해진 비율 50% 초과 (소지자 5명 이상)"
        )
    finally:
        current_language.reset(token)


def test_the_parameters_are_declared_and_dated():
    rules = compliance_rules()
    s = rules.settings_on(ON)
    assert (s.max_holder_share, s.min_holders) == (0.5, 5)
    spec = rules.spec.rules["employer_concentration"].parameters
    assert spec["max_holder_share"].unit == "share" and spec["min_holders"].unit == "people"


def test_a_share_outside_zero_to_one_is_refused(tmp_path):
    import yaml

    from regionvisa.compliance.rules import load_compliance_rules
    from regionvisa.config import PROJECT_ROOT
    from regionvisa.policyfiles import PolicyError

    data = yaml.safe_load((PROJECT_ROOT / "policy" / "national" / "compliance.yaml").read_text(encoding="utf-8"))
    data["rules"]["employer_concentration"]["parameters"]["max_holder_share"]["values"] = {"1992-01-01": 1.5}
    data["rules"]["employer_concentration"]["parameters"]["min_holders"]["values"] = {"1992-01-01": 2.5}
    path = tmp_path / "compliance.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        load_compliance_rules(path)
    text = " ".join(err.value.errors)
    assert "a share lies between 0 and 1" in text and "a number of people is a whole number" in text


JOB = st.tuples(
    st.integers(0, 11),  # person
    st.integers(0, 3),  # employer
    st.integers(0, 400),  # start, days after 2025-01-01
    st.one_of(st.none(), st.integers(0, 400)),  # length in days (none: open-ended)
)
STATUS = st.tuples(
    st.integers(0, 11),
    st.sampled_from(["E-7", "D-2", "E-9"]),
    st.booleans(),  # a programme's status?
    st.integers(0, 400),  # valid_from
    st.integers(1, 500),  # length
)


@settings(max_examples=60, deadline=None)
@given(jobs=st.lists(JOB, max_size=25), statuses=st.lists(STATUS, max_size=20), share=st.sampled_from([0.0, 0.3, 0.5]),
       least=st.integers(1, 3))  # fmt: skip
def test_counts_follow_the_definition(jobs, statuses, share, least):
    """The vectorised table against a plain reading of the definition over the same rows."""
    base, on = dt.date(2025, 1, 1), dt.date(2025, 9, 1)
    day = lambda n: base + dt.timedelta(days=n)  # noqa: E731
    job_rows = [
        {"person_id": f"P{p}", "employer_id": f"E{e}", "employer_region": "31", "start_date": day(s),
         "end_date": None if n is None else day(s + n)}
        for p, e, s, n in jobs
    ]  # fmt: skip
    status_rows = [
        {"person_id": f"P{p}", "visa": v, "subtype": None, "program_id": "x-e7" if prog else None, "region": "31",
         "valid_from": day(f), "valid_to": day(f + n), "granted_on": day(f)}
        for p, v, prog, f, n in statuses
    ]  # fmt: skip
    frames = {
        "employment": pl.DataFrame(job_rows, schema=SCHEMAS["employment"], orient="row"),
        "status_grant": pl.DataFrame(status_rows, schema=SCHEMAS["status_grant"], orient="row"),
    }
    s = dataclasses.replace(compliance_rules().settings_on(on), max_holder_share=share, min_holders=least)
    got = {r["employer_id"]: r for r in engine.employer_table(frames, s).iter_rows(named=True)}

    def covering(person):  # the status covering `on` that began last (ties: the later grant, then the last row)
        live = [r for r in status_rows if r["person_id"] == person and r["valid_from"] <= on <= r["valid_to"]]
        return max(live, key=lambda r: (r["valid_from"], r["granted_on"]), default=None)

    def holds(person):
        status = covering(person)
        return status is not None and status["visa"] == "E-7" and status["program_id"] is not None

    staff: dict[str, set[str]] = {}
    for r in job_rows:
        if r["start_date"] <= on and (r["end_date"] is None or r["end_date"] >= on):
            staff.setdefault(r["employer_id"], set()).add(r["person_id"])
    want = {}
    for employer, people in staff.items():
        holders = sum(holds(p) for p in people)
        if holders:
            want[employer] = (holders, len(people), holders / len(people) > share and holders >= least)
    # ties between statuses that begin and are granted on the same day may resolve either way: skip them
    tied = any(
        a is not b and a["person_id"] == b["person_id"] and a["valid_from"] == b["valid_from"]
        and a["granted_on"] == b["granted_on"] for a in status_rows for b in status_rows
    )  # fmt: skip
    if not tied:
        assert {e: (r["holders"], r["foreign_staff"], r["flagged"]) for e, r in got.items()} == want
    for r in got.values():
        assert r["share"] == pytest.approx(r["holders"] / r["foreign_staff"])


@pytest.fixture
def recorded(engine, records):
    """The hand-built employers stored and run; plus EMP-B in Busan with one holder of three staff."""
    _concentrated(records)
    _ulsan_holder(records, "B0", employer="EMP-B", region="26")
    for i in range(2):
        records.status(f"BW{i}", "2024-01-01", "2027-01-01", visa="E-9", region="26").job(
            f"BW{i}", "26", "2024-03-01", employer_id="EMP-B"
        )
    from tests.compliance.conftest import insert_records

    insert_records(engine, records.frames())
    return cases.record_run(engine=engine, on=ON, actor=SYSTEM)


def test_the_run_stores_employers_and_opens_cases_on_the_holders(engine, recorded):
    assert recorded.counts["employer_concentration"] == 6
    with Session(engine) as session:
        opened = session.scalars(select(ComplianceCase).where(ComplianceCase.rule == "employer_concentration")).all()
        assert sorted(c.person_id for c in opened) == [f"U{i}" for i in range(6)]
        assert {c.region for c in opened} == {"31"} and {c.severity for c in opened} == {"low"}
        listed = cases.list_employers(session=session, actor=SYSTEM)
    assert listed.run is not None and listed.run.id == recorded.run_id and listed.total == 4
    assert [(e["employer_id"], e["holders"], e["foreign_staff"], e["flagged"]) for e in listed.items] == [
        ("EMP-U", 6, 8, True),
        ("EMP-S", 2, 2, False),
        ("EMP-C", 5, 11, False),
        ("EMP-B", 1, 3, False),
    ]


def test_each_role_sees_its_region_on_the_page_and_the_api(client, login, role_users, recorded):
    login(client, role_users["regional_official"]["username"])  # Busan (26)
    answer = client.get("/api/v1/compliance/employers").json()
    assert answer["region"] == "26" and [e["employer_id"] for e in answer["items"]] == ["EMP-B"]
    assert client.get("/api/v1/compliance/employers?region=31").status_code == 403
    assert client.get("/compliance/employers?region=31").status_code == 403
    page = client.get("/compliance/employers")
    assert page.status_code == 200 and "EMP-B" in page.text and "EMP-U" not in page.text
    csv = client.get("/api/v1/compliance/employers/export?format=csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines() == ["employer_id,region,holders,foreign_staff,share,flagged",
                                     "EMP-B,26,1,3,0.3333333333333333,false"]  # fmt: skip

    login(client, role_users["ministry_officer"]["username"])
    answer = client.get("/api/v1/compliance/employers?flagged=true").json()
    assert answer["region"] is None and [e["employer_id"] for e in answer["items"]] == ["EMP-U"]
    assert client.get("/api/v1/compliance/employers?region=31").json()["total"] == 3
    page = client.get("/compliance/employers?flagged=yes", headers={"Accept-Language": "ko"})
    assert page.status_code == 200 and "EMP-U" in page.text and "EMP-C" not in page.text
    xlsx = client.get("/api/v1/compliance/employers/export?format=xlsx&region=31")
    assert xlsx.status_code == 200
    sheet = pl.read_excel(io.BytesIO(xlsx.content))
    assert sheet["employer_id"].to_list() == ["EMP-U", "EMP-S", "EMP-C"]
    assert client.get("/compliance/employers?flagged=maybe").status_code == 422


def test_without_a_run_the_page_says_so(client, login, role_users):
    login(client, role_users["ministry_officer"]["username"])
    page = client.get("/compliance/employers")
    assert page.status_code == 200 and 'id="employers-run"' in page.text
    assert client.get("/api/v1/compliance/employers").json()["items"] == []
