"""Illegal stays by region: one figure, the same number on every page and API that shows it.

The records below make the old definitions disagree: the statistics counted a resident whose only
status had not begun yet as an illegal stay, and the compliance dashboard counted an overstayer in
the region of their status, not where they live. One definition now (`stats.service.
illegal_stays_by_region`, docs/indicators.md) gives Seoul 1 and Busan 1 on every page, and the
dashboard's findings per queue region carry their own label.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from tests.actors import SYSTEM

from regionvisa.compliance import cases
from regionvisa.compliance.service import compute_indicators
from regionvisa.stats import service, summary

ON = dt.date(2025, 12, 31)
EXPECTED = {"11": 1, "26": 1}


@pytest.fixture
def figures(engine, kit, role_users):
    r = kit.Records()
    # X1 overstays a Seoul status but lives in Busan: an illegal stay in Busan (its finding is Seoul's queue)
    r.status("X1", "2022-01-01", "2024-12-31", visa="E-9", region="11").address("X1", "26110", "2022-01-05")
    r.move("X1", "entry", "2022-01-01")
    # X2 overstays in Seoul and lives there, with no movement on record
    r.status("X2", "2023-01-01", "2025-06-30", visa="E-9", region="11").address("X2", "11010", "2023-01-05")
    # X3 holds only a status granted ahead of its start: a resident, not an illegal stay
    r.status("X3", "2026-01-15", "2027-01-14", granted_on="2025-12-01", visa="D-2", region="11")
    r.address("X3", "11010", "2025-12-10")
    # X4 left after their status ended; X5 holds a status covering the date
    r.status("X4", "2023-01-01", "2025-01-31", visa="E-9", region="41").move("X4", "exit", "2025-02-01")
    r.status("X5", "2025-01-01", "2026-12-31", visa="E-9", region="41").address("X5", "41135", "2025-01-05")
    kit.insert(engine, r.frames())
    with engine.begin() as conn:
        summary.rebuild(conn=conn)  # a bulk load rebuilds the statistics summaries
    service.clear_overview_cache()
    cases.record_run(engine=engine, on=ON, actor=SYSTEM)
    return engine


def _cell(html: str, pattern: str) -> int:
    found = re.search(pattern, html, re.S)
    assert found, pattern
    return int(found.group(1).replace(",", ""))


def test_every_page_shows_the_same_illegal_stays_per_region(figures, client, login, role_users):
    assert service.illegal_stays_by_region(engine=figures, at=ON) == EXPECTED
    # the statistics API and the evaluation indicators (residents in illegal stay on 31 December)
    rows = client.get("/api/v1/stats/residents", params={"by": "region", "at": ON.isoformat()}).json()["rows"]
    assert {r["region"]: r["illegal"] for r in rows if r["illegal"]} == EXPECTED
    indicators = compute_indicators(engine=figures, year=2025)
    assert {r["region"]: r["residents_illegal"] for r in indicators.to_dicts() if r["residents_illegal"]} == EXPECTED
    # the national overview
    home = client.get("/", params={"at": ON.isoformat()}).text
    for code in ("11", "26", "41"):
        shown = _cell(home, rf'<tr data-region="{code}">.*?data-status="illegal">([\d,]+)<')
        assert shown == EXPECTED.get(code, 0), code
    # the region pages and their API
    login(client, role_users["ministry_officer"]["username"])
    for code in ("11", "26"):
        page = client.get(f"/regions/{code}", params={"at": ON.isoformat()}).text
        assert _cell(page, r'<tr data-status="illegal">.*?<td class="num">([\d,]+)<') == EXPECTED[code]
        api = client.get(f"/api/v1/stats/regions/{code}", params={"at": ON.isoformat()}).json()
        assert {r["status"]: r["residents"] for r in api["by_status"]}["illegal"] == EXPECTED[code]
    seoul = client.get("/regions/11", params={"at": ON.isoformat()}).text
    assert 'data-status="pending"' in seoul  # X3 is shown as not yet in force, not as illegal
    # the compliance dashboard, page and API, as of its run's date
    board = client.get("/api/v1/compliance/dashboard").json()
    assert board["run"]["as_of"] == ON.isoformat()
    assert {r["region"]: r["illegal_stays"] for r in board["by_region"] if r["illegal_stays"]} == EXPECTED
    assert board["illegal_stays"] == sum(EXPECTED.values())
    # the findings per queue region are a different figure: X1's finding is in Seoul's queue
    assert {r["region"]: r["illegal_stay"] for r in board["by_region"] if r["illegal_stay"]} == {"11": 2}
    page = client.get("/compliance").text
    for code in ("11", "26"):
        assert _cell(page, rf'data-illegal-stays="{code}">([\d,]+)<') == EXPECTED[code]
    assert "불법체류 (거주 지역 기준)" in page and "위반 사항: 불법체류" in page  # the two figures, named apart
    assert 'id="by-region-note"' in page


def test_a_regional_dashboard_shows_its_region_figure(figures, client, login, role_users):
    login(client, role_users["regional_official"]["username"])  # Busan (26)
    board = client.get("/api/v1/compliance/dashboard").json()
    assert board["region"] == "26" and board["illegal_stays"] == EXPECTED["26"]
    page = client.get("/compliance?region=26").text
    assert re.search(r'id="illegal-stays">2025-12-31 [^<]*: 1명 ', page)
    stats = client.get("/api/v1/stats/regions/26", params={"at": ON.isoformat()}).json()
    assert {r["status"]: r["residents"] for r in stats["by_status"]}["illegal"] == board["illegal_stays"]
