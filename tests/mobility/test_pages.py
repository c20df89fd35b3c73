"""The mobility pages and API (§4.9): the same columns as the commands, each role's scope (the
ministry sees every region, a regional official their region's flows in and out and their
programmes' retention), XLSX exports, and pages that work without JavaScript."""

from __future__ import annotations

import io

import polars as pl
import pytest
from tests.mobility.conftest import seed_moves

from regionvisa.mobility import compute

PERIOD = {"from": "2025-02-01", "to": "2025-12-31"}


@pytest.fixture
def world(engine, records, tmp_path, role_users, client, login):
    seed_moves(engine, records, tmp_path / "moves")

    def as_role(role: str):
        client.cookies.clear()
        login(client, role_users[role]["username"])
        return client

    return as_role


def test_the_ministry_gets_every_region_in_the_command_columns(world):
    client = world("ministry_officer")
    flows = client.get("/api/v1/mobility/flows", params=PERIOD)
    assert flows.status_code == 200, flows.text
    body = flows.json()
    assert body["columns"] == list(compute.FLOW_COLUMNS)
    assert {r["region"] for r in body["rows"]} == {"11", "26", "41"}
    pairs = client.get("/api/v1/mobility/pairs", params=PERIOD).json()
    assert pairs["columns"] == list(compute.OD_COLUMNS)
    assert pairs["rows"] == [{"origin": "26", "destination": "11", "visa": "D-2", "moves": 1}]
    kept = client.get("/api/v1/mobility/retention", params={"on": "2025-12-31"}).json()
    assert kept["columns"] == list(compute.RETENTION_COLUMNS)
    assert [(r["program_id"], r["cohort"], r["holders"], r["in_area_6m"]) for r in kept["rows"]] == [
        ("busan-d2", "2025-02", 2, 1)  # the mover left Busan in June; the other stayed
    ]


def test_a_regional_official_sees_their_region_only(world):
    busan = world("regional_official")
    rows = busan.get("/api/v1/mobility/flows", params=PERIOD).json()["rows"]
    assert rows and {r["region"] for r in rows} == {"26"}
    pairs = busan.get("/api/v1/mobility/pairs", params=PERIOD).json()["rows"]
    assert pairs == [{"origin": "26", "destination": "11", "visa": "D-2", "moves": 1}]  # the move out of Busan
    assert busan.get("/api/v1/mobility/flows", params={**PERIOD, "region": "11"}).status_code == 403
    assert busan.get("/api/v1/mobility/retention", params={"region": "11"}).status_code == 403
    assert [r["program_id"] for r in busan.get("/api/v1/mobility/retention").json()["rows"]] == ["busan-d2"]
    page = busan.get("/mobility/flows", params=PERIOD)
    assert page.status_code == 200 and 'data-region="26"' in page.text and 'data-region="11"><th' not in page.text
    assert busan.get("/mobility/flows", params={**PERIOD, "region": "11"}).status_code == 403


def test_another_regions_official_sees_none_of_busans_programmes(world, make_user, login, client):
    make_user("seoul.official", "regional_official", "11")
    client.cookies.clear()
    login(client, "seoul.official")
    assert client.get("/api/v1/mobility/retention").json()["rows"] == []
    pairs = client.get("/api/v1/mobility/pairs", params=PERIOD).json()["rows"]
    assert pairs == [{"origin": "26", "destination": "11", "visa": "D-2", "moves": 1}]  # the move into Seoul


@pytest.mark.parametrize("role", ["committee_member", "auditor", "ministry_admin"])
def test_national_readers_see_every_region(world, role):
    rows = world(role).get("/api/v1/mobility/flows", params=PERIOD).json()["rows"]
    assert {r["region"] for r in rows} == {"11", "26", "41"}


def test_without_signing_in_nothing_is_shown(client, records):
    assert client.get("/api/v1/mobility/flows").status_code == 401
    assert client.get("/mobility/flows", follow_redirects=False).status_code in (303, 401)


def test_exports_are_xlsx_and_csv_with_the_command_columns(world):
    client = world("ministry_officer")
    xlsx = client.get("/api/v1/mobility/flows", params={**PERIOD, "format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    frame = pl.read_excel(io.BytesIO(xlsx.content))
    assert frame.columns == list(compute.FLOW_COLUMNS) and frame["inflow"].sum() == 1
    csv = client.get("/api/v1/mobility/retention", params={"on": "2025-12-31", "format": "csv"})
    assert csv.text.splitlines()[0] == ",".join(compute.RETENTION_COLUMNS)


def test_the_pages_draw_the_map_the_chart_and_their_tables(world):
    client = world("ministry_officer")
    page = client.get("/mobility/flows", params={**PERIOD, "lang": "en"})
    assert page.status_code == 200
    assert 'class="flow" data-origin="26" data-destination="11"' in page.text  # the arrow
    assert 'id="pairs-table"' in page.text and 'id="flows-table"' in page.text
    assert "/api/v1/mobility/flows?" in page.text and "format=xlsx" in page.text
    kept = client.get("/mobility/retention", params={"on": "2025-12-31", "lang": "ko"})
    assert kept.status_code == 200 and "<svg" in kept.text and 'class="retention-table"' in kept.text
    assert "소지자 정착률" in kept.text  # the Korean catalogue


def test_a_refused_period_comes_back_with_the_form_error(world):
    client = world("ministry_officer")
    page = client.get("/mobility/flows", params={"from": "2025-12-31", "to": "2025-01-01", "lang": "en"})
    assert page.status_code == 422
    assert 'id="error-summary"' in page.text and 'href="#to"' in page.text
    assert 'value="2025-12-31"' in page.text  # the typed value kept
    bad = client.get("/mobility/retention", params={"on": "31/12/2025", "lang": "en"})
    assert bad.status_code == 422 and 'href="#on"' in bad.text
