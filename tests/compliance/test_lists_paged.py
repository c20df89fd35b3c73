"""The compliance dashboard's at-risk list and the case queue are paged, filterable and sortable
through query parameters (no JavaScript), and bad query values are said, not replaced by defaults."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.actors import SYSTEM

from regionvisa.compliance import cases
from regionvisa.compliance import pages as compliance_pages

ON = dt.date(2025, 12, 31)
RULES = ("illegal_stay", "residence_obligation")


@pytest.fixture
def many_at_risk(engine, kit, monkeypatch):
    """A real run, and 120 at-risk holders added to its dashboard (rules alternate, days left 0..119)."""
    r = kit.Records()
    r.status("H1", "2025-03-01", "2027-02-28", program_id="busan-d2", region="26")
    r.address("H1", "26110", "2025-03-01", "2025-03-02").address("H1", "26110", "2025-11-01")  # reports: no warning
    kit.insert(engine, r.frames())
    cases.record_run(engine=engine, on=ON, actor=SYSTEM)
    real = cases.dashboard
    extra = [
        {
            "person_id": f"P{i:03d}",
            "rule": RULES[i % 2],
            "program_id": "busan-d2",
            "region": "26",
            "days_left": 119 - i,
            "limit_date": None,
            "detail": "",
        }
        for i in range(120)
    ]

    def dashboard(**kwargs):
        board = real(**kwargs)
        return {**board, "at_risk": board["at_risk"] + extra}

    monkeypatch.setattr(compliance_pages.cases, "dashboard", dashboard)
    assert set(RULES) <= set(compliance_pages.RULES)


def _people(html: str) -> list[str]:
    table = html.split('<table id="at-risk">', 1)[1].split("</table>", 1)[0]
    return [cell.split("<")[0] for cell in table.split('<th scope="row">')[1:]]


def test_the_at_risk_list_is_paged_filtered_and_sorted(client, login, role_users, many_at_risk):
    login(client, role_users["ministry_officer"]["username"])
    first = client.get("/compliance", params={"lang": "en"})
    assert first.status_code == 200
    people = _people(first.text)
    assert len(people) == 50 and people[0] == "P119"  # fewest days left first
    assert 'rel="next"' in first.text
    third = client.get("/compliance", params={"lang": "en", "page": 3})
    assert len(_people(third.text)) == 20
    one_rule = client.get("/compliance", params={"lang": "en", "rule": "residence_obligation", "sort": "-days_left"})
    chosen = _people(one_rule.text)
    assert chosen[0] == "P001" and all(int(p[1:]) % 2 == 1 for p in chosen)
    assert "60 holders" in one_rule.text
    by_person = client.get("/compliance", params={"lang": "ko", "sort": "person"})
    assert _people(by_person.text)[:2] == ["P000", "P001"] and "120명" in by_person.text


@pytest.mark.parametrize(
    ("path", "params", "status", "words"),
    [
        ("/compliance/cases", {"status": "lost"}, 422, "status=lost"),
        ("/compliance/cases", {"rule": "nope"}, 422, "rule=nope"),
        ("/compliance/cases", {"region": "99"}, 422, "region=99"),
        ("/compliance/cases", {"page": 9999}, 404, "9999"),
        ("/compliance", {"sort": "colour"}, 422, "sort=colour"),
        ("/compliance", {"rule": "nope"}, 422, "rule=nope"),
        ("/compliance", {"page": 9999}, 404, "9999"),
    ],
)
def test_bad_query_values_are_said(client, login, role_users, many_at_risk, path, params, status, words):
    login(client, role_users["ministry_officer"]["username"])
    answer = client.get(path, params={"lang": "en", **params})
    assert answer.status_code == status and words in answer.text
