"""The pilot outcome report as users get it (SQLite and PostgreSQL): the command, the API and
its XLSX, and the page in both languages; every role's scope (a regional official reads their
own region's rows only) and bad dates refused.

The world: the seeded residents (tests/conftest.py), Busan's two busan-d2 holders of the mobility
seed (one of whom moved to Seoul, one enrolled in KIIP) with a 2025 ledger of 10 places beside a
Busan D-2 holder of no programme, and a Seoul E-7 pilot holder beside a Seoul E-7 holder of no
programme, each employed."""

from __future__ import annotations

import datetime as dt
import io
import json

import polars as pl
import pytest
from tests.actors import SYSTEM
from tests.conftest import publish_busan
from tests.mobility.conftest import seed_moves

from regionvisa.accounts.policy import system_actor
from regionvisa.core.errors import Forbidden, Invalid
from regionvisa.outcomes import service
from regionvisa.records.service import import_file

PERIOD = {"since": "2024-01-01", "on": "2026-06-30"}
SEOUL_PILOT = "seoul-outcome-e7"


def seed(engine, records, folder) -> None:
    seed_moves(engine, records, folder / "moves")
    publish_busan(engine)
    busan, seoul = records["26"], records["11"]
    feeds = {
        "statuses": [
            "person_id,visa,subtype,program_id,region,valid_from,valid_to,granted_on",
            f"{busan[2]},D-2,,,26,2025-04-01,2027-12-31,2025-04-01",  # Busan's D-2 comparison
            f"{seoul[1]},E-7,,{SEOUL_PILOT},11,2025-03-01,2027-12-31,2025-03-01",
            f"{seoul[2]},E-7,,,11,2025-03-10,2027-12-31,2025-03-10",  # Seoul's E-7 comparison
        ],
        "employment": [
            "person_id,employer_id,employer_region,start_date,end_date,annual_wage_krw,occupation_code",
            f"{seoul[1]},W1,11,2025-03-05,,31000000,",
            f"{seoul[2]},W2,11,2025-03-15,,45000000,",
        ],
        "kiip": ["person_id,level,enrolled_on,completed_on", f"{busan[0]},1,2025-04-01,"],
    }
    for kind, lines in feeds.items():
        path = folder / f"{kind}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        summary, _ = import_file(engine=engine, kind=kind, path=path, actor=SYSTEM)
        assert summary.outcome == "committed", summary


@pytest.fixture
def world(engine, records, tmp_path, role_users, client, login):
    seed(engine, records, tmp_path)

    def as_role(role: str):
        client.cookies.clear()
        login(client, role_users[role]["username"])
        return client

    return as_role


def _pilot(rows: list[dict], program_id: str) -> dict:
    (row,) = [r for r in rows if r["program_id"] == program_id]
    return row


def test_the_service_scopes_and_refuses(engine, records, tmp_path):
    seed(engine, records, tmp_path)
    on, since = dt.date(2026, 6, 30), dt.date(2024, 1, 1)
    with pytest.raises(Forbidden):
        service.report(engine=engine, actor=system_actor("synth"), on=on, since=since)
    with pytest.raises(Invalid) as refused:
        service.report(engine=engine, actor=SYSTEM, on=since, since=on)
    assert refused.value.field == "on"
    whole = service.report(engine=engine, actor=SYSTEM, on=on, since=since, region="26")
    assert set(whole.indicators["region"]) == {"26"} and set(whole.takeup["region"]) == {"26"}


@pytest.mark.parametrize("role", ["ministry_admin", "ministry_officer", "committee_member", "auditor"])
def test_national_readers_get_every_region_beside_its_comparison(world, role):
    answer = world(role).get("/api/v1/outcomes", params=PERIOD)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["since"], body["on"]) == ("2024-01-01", "2026-06-30")
    rows = body["indicators"]["rows"]
    assert {r["region"] for r in rows} >= {"11", "26"}
    busan = _pilot(rows, "busan-d2")
    assert (busan["group"], busan["region"], busan["visa"], busan["holders"]) == ("pilot", "26", "D-2", 2)
    assert busan["retention_6m"] == 0.5  # the mover lives in Seoul
    comparison = [r for r in rows if r["group"] == "comparison" and (r["region"], r["visa"]) == ("26", "D-2")]
    assert len(comparison) == 1 and comparison[0]["program_id"] is None and comparison[0]["holders"] >= 1
    assert busan["kiip_participation"] == 0.5 and comparison[0]["kiip_participation"] == 0.0
    seoul = _pilot(rows, SEOUL_PILOT)
    assert (seoul["region"], seoul["visa"], seoul["employed_share"], seoul["median_wage_krw"]) == (
        "11",
        "E-7",
        1.0,
        31_000_000,
    )
    (beside,) = [r for r in rows if r["group"] == "comparison" and (r["region"], r["visa"]) == ("11", "E-7")]
    assert beside["median_wage_krw"] == 45_000_000
    months = {r["month"]: r for r in body["takeup"]["rows"] if r["program_id"] == "busan-d2"}
    assert (months["2025-02"]["cumulative"], months["2025-02"]["quota"]) == (2, 10)
    assert months["2025-02"]["takeup"] == pytest.approx(0.2)


def test_a_regional_official_reads_their_own_region_only(world):
    busan = world("regional_official")
    body = busan.get("/api/v1/outcomes", params=PERIOD).json()
    assert body["indicators"]["rows"] and {r["region"] for r in body["indicators"]["rows"]} == {"26"}
    assert {r["region"] for r in body["takeup"]["rows"]} == {"26"}
    assert SEOUL_PILOT not in json.dumps(body)
    refused = busan.get("/api/v1/outcomes", params={**PERIOD, "region": "11"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert busan.get("/api/v1/outcomes/export.xlsx", params={**PERIOD, "region": "11"}).status_code == 403
    assert busan.get("/outcomes", params={**PERIOD, "region": "11"}).status_code == 403
    page = busan.get("/outcomes", params={**PERIOD, "lang": "en"})
    assert page.status_code == 200 and 'data-program="busan-d2"' in page.text and SEOUL_PILOT not in page.text


def test_without_signing_in_nothing_is_shown(client, records):
    assert client.get("/api/v1/outcomes").status_code == 401
    assert client.get("/api/v1/outcomes/export.xlsx").status_code == 401
    assert client.get("/outcomes", follow_redirects=False).status_code in (303, 401)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"on": "31/12/2025"}, "on"),
        ({"on": "2025-02-30"}, "on"),
        ({"since": "0"}, "since"),
        ({"since": "2026-01-01", "on": "2025-12-31"}, "on"),
    ],
)
def test_bad_dates_are_refused_with_a_clear_422(world, params, field):
    client = world("ministry_officer")
    answer = client.get("/api/v1/outcomes", params=params)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["message"]["ko"] and error["message"]["en"]
    assert field in (error.get("field") or "") or field in error["message"]["en"]
    page = client.get("/outcomes", params={**params, "lang": "en"})
    assert page.status_code == 422 and 'id="error-summary"' in page.text and f'href="#{field}"' in page.text


def test_the_xlsx_has_the_indicators_and_the_takeup(world):
    answer = world("auditor").get("/api/v1/outcomes/export.xlsx", params=PERIOD)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheets = pl.read_excel(io.BytesIO(answer.content), sheet_id=0)
    assert set(sheets) == {"indicators", "takeup"}
    assert "busan-d2" in sheets["indicators"]["program_id"].to_list()
    assert sheets["takeup"].columns[:4] == ["program_id", "region", "visa", "month"]


def test_the_page_in_both_languages(world):
    client = world("ministry_officer")
    english = client.get("/outcomes", params={**PERIOD, "lang": "en"})
    assert english.status_code == 200
    text = english.text
    assert 'id="comparison-definition"' in text and "non-pilot holders of the same base visa" in text
    assert 'data-program="busan-d2" data-region="26"' in text and f'data-program="{SEOUL_PILOT}"' in text
    assert "Pilot holders" in text and "Comparison group" in text
    assert "2 of 10 by 2025-12" in text  # the latest month a ledger covers
    assert "Median annual wage" in text and "31,000,000 KRW" in text and "45,000,000 KRW" in text
    assert "/api/v1/outcomes/export.xlsx?" in text
    assert 'href="/outcomes"' in text  # the navigation link
    korean = client.get("/outcomes", params={**PERIOD, "lang": "ko"})
    assert korean.status_code == 200
    assert "시범사업 성과" in korean.text and "비교군" in korean.text and "2025-12까지 10명 중 2명" in korean.text
    assert "31,000,000원" in korean.text and "Comparison group" not in korean.text


def test_the_navigation_links_the_page_for_every_reader(world):
    for role in ("ministry_admin", "regional_official", "committee_member", "auditor"):
        assert 'href="/outcomes"' in world(role).get("/account").text, role


def test_the_command_prints_tables_that_fit_80_columns(cli, engine, records, tmp_path):
    seed(engine, records, tmp_path)
    result = cli("outcomes", "report", "--on", "2026-06-30", "--since", "2024-01-01")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, "\n".join(lines)
    assert not any("more columns" in line for line in lines), "\n".join(lines)  # nothing left out
    # busan-d2: 2 holders, one of whom left before 6 months (6 m, 12 m), one enrolled in KIIP
    assert any("busan-d2" in line and line.count("50.0%") == 3 for line in lines), "\n".join(lines)
    assert any("comparison" in line for line in lines) and any("20.0%" in line for line in lines)  # 2 of 10


def test_the_command_writes_json_and_csv(cli, engine, records, tmp_path):
    seed(engine, records, tmp_path)
    result = cli("outcomes", "report", "--on", "2026-06-30", "--since", "2024-01-01", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert _pilot(body["indicators"], "busan-d2")["holders"] == 2
    assert {r["program_id"] for r in body["takeup"]} == {"busan-d2", SEOUL_PILOT}
    out = tmp_path / "report.csv"
    result = cli("outcomes", "report", "--on", "2026-06-30", "--since", "2024-01-01", "--csv", str(out))
    assert result.exit_code == 0, result.output
    table = pl.read_csv(out)
    assert table.height == len(body["indicators"]) and "retention_24m" in table.columns
    assert pl.read_csv(tmp_path / "report-takeup.csv")["quota"].max() == 10


@pytest.mark.parametrize(
    "args",
    [
        ("--on", "31/12/2025"),
        ("--on", "2026-06-30", "--since", "yesterday"),
    ],
)
def test_the_command_refuses_bad_dates(cli, records, args):
    result = cli("outcomes", "report", *args)
    assert result.exit_code == 2 and "is not a date" in result.output


def test_the_command_refuses_a_period_that_ends_before_it_starts(cli, records):
    result = cli("outcomes", "report", "--on", "2024-01-01", "--since", "2025-01-01")
    assert result.exit_code == 1 and "before the start of the period" in result.output
