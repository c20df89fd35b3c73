"""`regionvisa quotas allocate`: the §4.6 output columns, hand-computed shares, minimums and errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from tests.actors import SYSTEM
from typer.testing import CliRunner

from regionvisa.quotas import cli

runner = CliRunner()
CONTRACT = ["region", "program", "requested", "target", "granted"]

# Targets: 1000 × 1.15 = 1150, 500 × 0.85 = 425, 800. Σ = 2375 > 2000.
# Hamilton shares 2000·t/2375: 968.42, 357.89, 673.68 → 968 + 357 + 673 = 1998; the two places left go to
# the largest remainders (.89 Seoul, .68 Gyeonggi): 968, 358, 674.
REQUESTS = """region,program,requested,quota_change,score
26,busan-d2,1000,0.15,72
11,seoul-e7,500,-0.15,40
41,gyeonggi-e7,800,0,55
"""


def run(*args: str):
    return runner.invoke(cli.app, ["allocate", *args])


@pytest.fixture
def requests_csv(tmp_path) -> Path:
    path = tmp_path / "requests.csv"
    path.write_text(REQUESTS, encoding="utf-8")
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_csv_output_starts_with_the_contract_columns(tmp_path, requests_csv):
    out = tmp_path / "alloc.csv"
    res = run("--ceiling", "2000", "--requests", str(requests_csv), "--out", str(out))
    assert res.exit_code == 0, res.output
    with out.open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert header[:5] == CONTRACT
    rows = read_csv(out)
    assert [(r["region"], r["program"]) for r in rows] == [
        ("26", "busan-d2"),
        ("11", "seoul-e7"),
        ("41", "gyeonggi-e7"),
    ]
    assert [int(r["target"]) for r in rows] == [1150, 425, 800]
    assert [int(r["granted"]) for r in rows] == [968, 358, 674]
    assert [int(r["grade_effect"]) for r in rows] == [150, -75, 0]
    assert [int(r["ceiling_effect"]) for r in rows] == [-182, -67, -126]
    assert "Hamilton" in rows[0]["explanation_en"] and "해밀턴" in rows[0]["explanation_ko"]


def test_json_output_is_a_list_of_rows_with_the_contract_keys_first(tmp_path, requests_csv):
    out = tmp_path / "alloc.json"
    res = run("--ceiling", "2000", "--requests", str(requests_csv), "--method", "sainte-lague", "--out", str(out))
    assert res.exit_code == 0, res.output
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert all(list(r)[:5] == CONTRACT for r in rows)
    assert sum(r["granted"] for r in rows) == 2000
    assert all(r["granted"] <= r["target"] for r in rows)
    assert "Sainte-Laguë" in rows[0]["explanation_en"]


def test_targets_under_the_ceiling_are_granted_in_full(tmp_path, requests_csv):
    out = tmp_path / "alloc.csv"
    assert run("--ceiling", "5000", "--requests", str(requests_csv), "--out", str(out)).exit_code == 0
    rows = read_csv(out)
    assert [r["granted"] for r in rows] == [r["target"] for r in rows]
    assert all(r["ceiling_effect"] == "0" for r in rows)


def test_regional_minimum_is_a_floor(tmp_path, requests_csv):
    minimums = tmp_path / "min.csv"
    minimums.write_text("region,minimum\n11,420\n", encoding="utf-8")
    out = tmp_path / "alloc.csv"
    res = run("--ceiling", "2000", "--requests", str(requests_csv), "--minimums", str(minimums), "--out", str(out))
    assert res.exit_code == 0, res.output
    rows = {r["region"]: r for r in read_csv(out)}
    # Seoul's share 357.89 is below 420: raised to it. Busan's and Gyeonggi's integer parts 968 + 673 do not
    # fit in the 1,580 places left, so those two share the 1,580 by Hamilton: 931.79, 648.21 → 932, 648
    assert rows["11"]["granted"] == "420" and rows["11"]["minimum_part"] == "420"
    assert "raised to the regional minimum" in rows["11"]["explanation_en"]
    assert "지역 최소 배정으로 상향" in rows["11"]["explanation_ko"]
    assert [rows[r]["granted"] for r in ("26", "41")] == ["932", "648"]
    assert sum(int(r["granted"]) for r in rows.values()) == 2000


@pytest.mark.parametrize(
    ("method", "extra", "granted"),
    [
        # targets 1150, 425, 800 for 2000. D'Hondt: at λ = 1.1875 the quotients' integer parts give 1,998;
        # the next two divisors are Seoul's 425/358 = 1.18715 and Gyeonggi's 800/674 = 1.18694 (Busan's
        # 1150/969 = 1.18679 comes third)
        ("dhondt", [], ["968", "358", "674"]),
        ("huntington-hill", [], ["968", "358", "674"]),
        ("modified-sainte-lague", ["--first-divisor", "1.4"], ["968", "358", "674"]),
    ],
)
def test_the_other_methods(tmp_path, requests_csv, method, extra, granted):
    out = tmp_path / "alloc.csv"
    res = run("--ceiling", "2000", "--requests", str(requests_csv), "--method", method, *extra, "--out", str(out))
    assert res.exit_code == 0, res.output
    assert [r["granted"] for r in read_csv(out)] == granted


def test_bad_requests_file_names_line_field_and_value(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("region,program,requested\n26,busan-d2,1000\n11,seoul-e7,many\n", encoding="utf-8")
    out = tmp_path / "alloc.csv"
    res = run("--ceiling", "2000", "--requests", str(bad), "--out", str(out))
    assert res.exit_code == 1
    assert f"{bad}:3: field 'requested': value 'many' is not a whole number ≥ 0" in res.output
    assert not out.exists()


def test_bad_minimums_file_names_line_and_value(tmp_path, requests_csv):
    bad = tmp_path / "min.csv"
    bad.write_text("region,minimum\n11,100\n26,-5\n", encoding="utf-8")
    res = run(
        "--ceiling", "2000", "--requests", str(requests_csv), "--minimums", str(bad), "--out", str(tmp_path / "a.csv")
    )
    assert res.exit_code == 1
    assert f"{bad}:3: column 'minimum': value '-5' is not a whole number ≥ 0" in res.output


def test_minimums_above_the_ceiling_are_refused(tmp_path, requests_csv):
    minimums = tmp_path / "min.csv"
    minimums.write_text("region,minimum\n11,400\n26,1000\n", encoding="utf-8")
    res = run(
        "--ceiling",
        "1000",
        "--requests",
        str(requests_csv),
        "--minimums",
        str(minimums),
        "--out",
        str(tmp_path / "a.csv"),
    )
    assert res.exit_code == 1
    assert "more than the ceiling" in res.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "jefferson", "--out", "a.csv"], "--method must be one of hamilton, sainte-lague"),
        (["--method", "dhondt", "--first-divisor", "1.4", "--out", "a.csv"], "--first-divisor"),
        (["--method", "modified-sainte-lague", "--first-divisor", "4", "--out", "a.csv"], "between 1 and 3"),
        (["--out", "a.xlsx"], "unknown format '.xlsx'"),
        (["--ceiling", "-1", "--out", "a.csv"], ""),
    ],
)
def test_usage_errors_exit_2(tmp_path, monkeypatch, requests_csv, args, message):
    monkeypatch.chdir(tmp_path)
    full = ["--requests", str(requests_csv), *args]
    if "--ceiling" not in args:
        full = ["--ceiling", "2000", *full]
    res = run(*full)
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["requests.csv"]


def test_year_reads_the_ledgers_from_the_database(cli, engine, tmp_path):
    """Without a published evaluation every quota_change is 0: targets are the year's capacities."""
    import datetime as dt

    from regionvisa.db import session_scope
    from regionvisa.quotas.service import open_ledger

    with session_scope(engine=engine) as session:
        for program, region, allocated in (("busan-d2", "26", 1000), ("daegu-e7", "27", 100)):
            open_ledger(
                session=session,
                program_id=program,
                region=region,
                period="2025",
                start=dt.date(2025, 1, 1),
                end=dt.date(2025, 12, 31),
                allocated=allocated,
                actor=SYSTEM,
                reason="test ledger",
            )
    out = tmp_path / "alloc.csv"
    done = cli("quotas", "allocate", "--ceiling", "550", "--year", "2025", "--out", str(out))
    assert done.exit_code == 0, done.output
    rows = read_csv(out)
    assert [(r["program"], int(r["requested"]), int(r["granted"])) for r in rows] == [
        ("busan-d2", 1000, 500),
        ("daegu-e7", 100, 50),
    ]
    assert cli("quotas", "allocate", "--ceiling", "5", "--year", "2031", "--out", str(out)).exit_code == 1
    both = cli("quotas", "allocate", "--ceiling", "5", "--year", "2025", "--requests", str(out), "--out", str(out))
    assert both.exit_code == 2
