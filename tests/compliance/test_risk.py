"""Programme versions, finding regions, the employment extension and holders at risk."""

from __future__ import annotations

import datetime as dt

import polars as pl

from regionvisa.compliance import engine
from regionvisa.compliance.risk import at_risk

WITHIN = {"residence_obligation": 20, "integration_obligation": 20, "illegal_stay": 20}


def test_the_version_in_force_on_the_grant_date_governs(kit, records):
    v1 = {**kit.BUSAN, "version": 1, "valid_from": dt.date(2025, 1, 1), "valid_to": dt.date(2025, 12, 31)}
    v2 = {
        **kit.BUSAN,
        "version": 2,
        "residence_area": ["26", "11"],  # version 2 lets holders live in Seoul too
        "valid_from": dt.date(2026, 1, 1),
        "valid_to": dt.date(2026, 12, 31),
    }
    progs = kit.programmes(v1, v2)
    records.status("OLD", "2025-03-01", "2027-02-28", program_id="busan-d2").address("OLD", "11", "2025-03-01")
    records.status("NEW", "2026-01-05", "2027-12-31", program_id="busan-d2").address("NEW", "11", "2026-01-05")
    found = engine.find_all(records.frames(), progs, kit.settings("2026-06-30"))
    assert kit.rows(found, "residence_obligation") == [
        ("OLD", "residence_obligation", "busan-d2", "2025-05-30", None, 397)
    ]


def test_findings_carry_the_region_of_their_queue(kit, records):
    records.status("H", "2025-03-01", "2027-02-28", program_id="busan-d2", region="11")
    records.address("H", "11", "2025-03-01")
    records.status("A", "2024-01-01", "2025-09-30", region="41").move("A", "entry", "2024-01-03")
    found = engine.find_all(records.frames(), kit.programmes(kit.BUSAN), kit.settings("2025-12-31"))
    regions = dict(zip(found["rule"], found["region"], strict=True))
    assert regions == {"residence_obligation": "26", "illegal_stay": "41"}  # programme's region wins


def test_employment_outside_counts_for_e7_style_programmes(kit, records):
    e7 = {**kit.BUSAN, "program_id": "busan-e7", "includes_employment": True}
    records.status("W", "2025-03-01", "2027-02-28", program_id="busan-e7", visa="E-7")
    records.address("W", "26110", "2025-03-01").job("W", "11", "2025-03-01")  # lives in Busan, works in Seoul
    found = engine.find_all(records.frames(), kit.programmes(e7), kit.settings("2025-12-31"))
    assert kit.rows(found, "residence_obligation") == [
        ("W", "residence_obligation", "busan-e7", "2025-05-30", None, 216)
    ]
    assert "employment[EMP-1 in 11 from 2025-03-01]" in found["evidence"][0]


def test_holders_at_risk(kit, records):
    progs = kit.programmes({**kit.BUSAN, "kiip_deadline_months": 12})
    # 75 days outside so far and outside now: 15 days left, limit reached on DATE + 16
    records.status("R", "2025-06-01", "2027-05-31", program_id="busan-d2").kiip("R", "2025-06-10")
    records.address("R", "26110", "2025-06-01").address("R", "11", "2025-10-18")
    # 60 days outside, back in Busan: 30 days left, not at risk
    records.status("S", "2025-06-01", "2027-05-31", program_id="busan-d2").kiip("S", "2025-06-10")
    records.address("S", "11", "2025-06-01").address("S", "26110", "2025-07-31")
    # KIIP deadline 2026-01-10, 10 days away, no enrolment
    records.status("K", "2025-01-10", "2027-01-09", program_id="busan-d2").address("K", "26110", "2025-01-10")
    # status ends in 5 days, nothing after it
    records.status("E", "2024-01-06", "2026-01-05", program_id="busan-d2", granted_on="2024-01-06")
    records.address("E", "26110", "2024-01-06").kiip("E", "2024-02-01")
    # not a holder: never listed
    records.status("N", "2024-01-01", "2026-01-03")
    risk = at_risk(records.frames(), progs, kit.settings("2025-12-31"), WITHIN)
    assert risk.select("person_id", "rule", "days_left", "limit_date").rows() == [
        ("E", "illegal_stay", 5, dt.date(2026, 1, 6)),
        ("K", "integration_obligation", 10, dt.date(2026, 1, 11)),
        ("R", "residence_obligation", 15, dt.date(2026, 1, 16)),
        # early warnings: E and K have reported no address for more than 180 days
        ("E", "residence_obligation", 90, None),
        ("K", "residence_obligation", 90, None),
    ]
    assert set(risk["region"]) == {"26"}
    assert "75 of 90 days outside 26" in risk.filter(person_id="R")["detail"][0]
    # the day the limit is passed, the finding starts exactly then
    found = engine.find_all(records.frames(), progs, kit.settings("2026-01-16"))
    assert kit.rows(found.filter(person_id="R"), "residence_obligation") == [
        ("R", "residence_obligation", "busan-d2", "2026-01-16", None, 1)
    ]


def test_early_warnings_before_the_residence_finding_starts(kit, records):
    """Issue 19: holders living outside the area now, whatever the days left, and holders who have
    reported no address for longer than `silent_days`, are listed for their region before the
    finding starts; a holder inside the area who reports is not."""
    progs = kit.programmes(kit.BUSAN)
    # moved to Seoul 10 days ago: 80 days left, listed now with the day the finding would start
    records.status("O", "2025-06-01", "2027-05-31", program_id="busan-d2").address("O", "26110", "2025-06-01")
    records.address("O", "11", "2025-12-22")
    # granted in March, never reported an address: 305 days silent
    records.status("Q", "2025-03-01", "2027-02-28", program_id="busan-d2")
    # last report in May (effective in May): 214 days silent
    records.status("M", "2025-03-01", "2027-02-28", program_id="busan-d2").address("M", "26110", "2025-05-31")
    # in Busan, reported in November: nothing to say
    records.status("F", "2025-03-01", "2027-02-28", program_id="busan-d2").address("F", "26110", "2025-11-20")
    risk = at_risk(records.frames(), progs, kit.settings("2025-12-31"), WITHIN)
    assert risk.select("person_id", "days_left", "limit_date", "detail").rows() == [
        (
            "O",
            80,
            dt.date(2026, 3, 22),
            "10 of 90 days outside 26; address_report[11 effective 2025-12-22 reported 2025-12-22]",
        ),
        ("M", 90, None, "no address report since 2025-05-31"),
        ("Q", 90, None, "no address report since grant 2025-03-01"),
    ]
    quiet = at_risk(records.frames(), progs, kit.settings("2025-12-31", silent_days=400), WITHIN)
    assert quiet["person_id"].to_list() == ["O"]  # the declared period decides


def test_early_warning_details_read_in_the_page_language():
    from regionvisa.compliance.wording import explain
    from regionvisa.web.i18n import current_language

    token = current_language.set("ko")
    try:
        assert explain("no address report since grant 2025-03-01") == "2025-03-01 자격 부여 이후 체류지 신고 없음"
        assert explain("no address report since 2025-05-31") == "2025-05-31 이후 체류지 신고 없음"
    finally:
        current_language.reset(token)


ULSAN = {
    "program_id": "ulsan-e7",
    "region": "31",
    "residence_area": ["31"],
    "obligation_months": 24,
    "includes_employment": True,
    "wage_floors": [
        {"since": dt.date(2025, 4, 2), "krw": 26_000_000},
        {"since": dt.date(2026, 1, 1), "krw": 28_000_000},
    ],
    "occupation_lists": [{"since": dt.date(2025, 4, 2), "codes": ["7430", "7521"]}],
}


def _job(records, person, start, wage=None, occupation=None, end=None):
    records.job(person, "31", start, end)
    records.rows["employment"][-1].update(annual_wage_krw=wage, occupation_code=occupation)


def test_employment_conditions_of_e7_holders(kit, records):
    """Issue 19: a job in force below the programme's wage floor in force, or in an occupation off
    its list, is a finding from the later of the job's start and the grant; a job without the
    value reported is not judged; an ended job is not either."""
    progs = kit.programmes(ULSAN)
    for person in ("LOW", "OFF", "FINE", "NONE", "ENDED", "RAISED"):
        records.status(person, "2025-05-01", "2027-04-30", program_id="ulsan-e7", visa="E-7").address(
            person, "31110", "2025-05-01", "2025-05-01"
        )
    _job(records, "LOW", "2025-04-01", wage=24_000_000, occupation="7430")  # started before the grant
    _job(records, "OFF", "2025-06-01", wage=30_000_000, occupation="9999")
    _job(records, "FINE", "2025-06-01", wage=30_000_000, occupation="7521")
    _job(records, "NONE", "2025-06-01")  # nothing reported: not judged
    _job(records, "ENDED", "2025-06-01", wage=1, occupation="0000", end="2025-09-30")
    _job(records, "RAISED", "2025-06-01", wage=27_000_000, occupation="7430")  # fine in 2025, below in 2026
    found = engine.find_all(records.frames(), progs, kit.settings("2025-12-31"))
    conditions = found.filter(pl.col("rule").is_in(["wage_below_floor", "occupation_not_listed"]))
    assert kit.rows(conditions) == [
        ("LOW", "wage_below_floor", "ulsan-e7", "2025-05-01", None, 245),
        ("OFF", "occupation_not_listed", "ulsan-e7", "2025-06-01", None, 214),
    ]
    assert set(conditions["region"]) == {"31"}
    assert "wage 24000000 below floor 26000000" in conditions.filter(person_id="LOW")["evidence"][0]
    later = engine.find_all(records.frames(), progs, kit.settings("2026-01-31")).filter(rule="wage_below_floor")
    assert sorted(later["person_id"].to_list()) == ["LOW", "RAISED"]  # the 2026 floor of 28M applies


def test_employment_condition_evidence_reads_in_the_page_language():
    from regionvisa.compliance.wording import explain
    from regionvisa.web.i18n import current_language

    token = current_language.set("ko")
    try:
        text = explain("wage 24000000 below floor 26000000; employment[EMP-1 from 2025-05-01]")
        assert text == "연간 임금 24,000,000원으로 임금 하한 26,000,000원 미만; 2025-05-01부터 EMP-1 근무"
        assert explain("occupation 9999 not listed for ulsan-e7") == "직종 9999은(는) ulsan-e7 허용 직종이 아님"
    finally:
        current_language.reset(token)
