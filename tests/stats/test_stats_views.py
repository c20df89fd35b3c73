"""Statistics through the CLI, the API and the home page, from imported records."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from regionvisa.records import pii
from regionvisa.records.bulk import bulk_insert
from regionvisa.stats import service, summary


@pytest.fixture
def records(engine):
    d = dt.date
    people = pl.DataFrame(
        {
            "person_id": ["A", "B", "C", "D"],
            "name": ["Synthetic One", "Synthetic Two", "Synthetic Three", "Synthetic Four"],
            "nationality": ["VNM", "CHN", "CHN", "NPL"],
            "birth_date": [d(1990, 1, 1)] * 4,
            "sex": ["F", "M", "F", "M"],
            "passport_no": ["C1234567", "E1234567", "E7654321", "N1234567"],
        }
    )
    people = pii.protect_frame(people)  # stored as ciphertext and lookup hash, as every writer does
    statuses = pl.DataFrame(
        {
            "person_id": ["A", "B", "C", "D"],
            "visa": ["D-2", "E-9", "E-9", "E-7"],
            "subtype": [None, None, None, "E-7-1"],
            "program_id": ["busan-d2", None, None, None],
            "region": ["26", "41", "41", "11"],
            "valid_from": [d(2025, 3, 1), d(2024, 1, 1), d(2022, 1, 1), d(2025, 1, 1)],
            "valid_to": [d(2027, 2, 28), d(2026, 12, 31), d(2024, 12, 31), d(2027, 12, 31)],
            "granted_on": [d(2025, 2, 20), d(2023, 12, 20), d(2021, 12, 20), d(2024, 12, 20)],
        }
    )
    addresses = pl.DataFrame(
        {
            "person_id": ["A", "B", "C", "D"],
            "area_code": ["26110", "41135", "41135", "11680"],
            "effective_date": [d(2025, 3, 5), d(2024, 1, 5), d(2022, 1, 5), d(2025, 1, 5)],
            "reported_date": [d(2025, 3, 6), d(2024, 1, 6), d(2022, 1, 6), d(2025, 6, 30)],
        }
    )
    with engine.begin() as conn:
        bulk_insert(conn=conn, table="person", df=people)
        bulk_insert(conn=conn, table="status_grant", df=statuses)
        bulk_insert(conn=conn, table="address_report", df=addresses)
        summary.rebuild(conn=conn)  # a bulk load rebuilds the statistics summaries in its transaction
    service.clear_overview_cache()
    return engine


def test_stats_by_status_and_nationality(records):
    at = dt.date(2025, 6, 30)
    by_status = {
        r["status"]: r["residents"] for r in service.resident_stats(engine=records, by="status", at=at).to_dicts()
    }
    assert by_status == {"D-2": 1, "E-9": 1, "illegal": 1, "E-7": 1}
    by_nat = {
        r["nationality"]: r["residents"]
        for r in service.resident_stats(engine=records, by="nationality", at=at).to_dicts()
    }
    assert by_nat == {"CHN": 2, "VNM": 1, "NPL": 1}
    months = service.resident_stats(engine=records, by="month", at=at)
    assert months["month"].to_list()[-1] == "2025-06" and months["residents"].to_list()[-1] == 4
    # July 2024: only B and C hold statuses granted by then (D is granted in Dec 2024, A in Feb 2025).
    assert months["month"].to_list()[0] == "2024-07" and months["residents"].to_list()[0] == 2


def test_api_returns_rows_and_rejects_bad_input(records):
    client = TestClient(__import__("regionvisa.app", fromlist=["create_app"]).create_app(engine=records))
    response = client.get("/api/v1/stats/residents", params={"by": "region", "at": "2025-06-30"})
    assert response.status_code == 200
    rows = {r["region"]: r for r in response.json()["rows"]}
    assert rows["41"]["residents"] == 2 and rows["41"]["illegal"] == 1 and rows["41"]["E-9"] == 1
    bad = client.get("/api/v1/stats/residents", params={"by": "planet"})
    assert bad.status_code == 422
    assert set(bad.json()["error"]["message"]) == {"ko", "en"}
    bad_date = client.get("/api/v1/stats/residents", params={"at": "2025-02-30"})
    assert bad_date.status_code == 422 and bad_date.json()["error"]["field"] == "at"


def test_home_page_shows_the_region_table_in_both_languages(records):
    from regionvisa.app import create_app

    client = TestClient(create_app(engine=records))
    ko = client.get("/", params={"at": "2025-06-30"})
    assert ko.status_code == 200
    assert "전국 현황" in ko.text and "<svg" in ko.text and 'data-region="41"' in ko.text
    assert "경기도" in ko.text
    en = client.get("/", params={"at": "2025-06-30", "lang": "en"})
    assert "National overview" in en.text and "Gyeonggi" in en.text
    assert en.cookies.get("lang") == "en" or "lang=en" in en.headers.get("set-cookie", "")


def test_cli_exports_csv_and_xlsx(records, tmp_path, monkeypatch):
    from regionvisa import cli, db

    url = records.url.render_as_string(hide_password=False)
    monkeypatch.setenv("REGIONVISA_DATABASE_URL", url)
    from regionvisa.config import get_settings

    get_settings.cache_clear()
    db.get_engine.cache_clear()
    try:
        runner = CliRunner()
        out = tmp_path / "by-status.csv"
        result = runner.invoke(cli.app, ["stats", "--by", "status", "--at", "2025-06-30", "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert pl.read_csv(out)["residents"].sum() == 4
        xlsx = tmp_path / "by-region.xlsx"
        result = runner.invoke(cli.app, ["stats", "--by", "region", "--at", "2025-06-30", "--out", str(xlsx)])
        assert result.exit_code == 0, result.output
        assert pl.read_excel(xlsx).height == 17
        bad = runner.invoke(cli.app, ["stats", "--by", "planet"])
        assert bad.exit_code == 2
    finally:
        get_settings.cache_clear()
        db.get_engine.cache_clear()
