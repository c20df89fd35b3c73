"""Movement and retention from the database, on SQLite and PostgreSQL: one person moves from Busan
to Seoul; the ministry sees both ends, Busan's official only Busan's rows, and the command line
writes the §4.9 columns."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from tests.actors import BUSAN, OFFICER, SYSTEM

from regionvisa.core.errors import Forbidden, Invalid
from regionvisa.mobility import compute, service
from regionvisa.records.service import import_file

YEAR = (dt.date(2025, 2, 1), dt.date(2025, 12, 31))  # every seeded person has reported by the start


@pytest.fixture
def moved(engine, records, tmp_path):
    person = records["26"][0]
    path = tmp_path / "move.csv"
    path.write_text(f"person_id,area_code,effective_date,reported_date\n{person},11110,2025-06-01,2025-06-03\n")
    summary, _ = import_file(engine=engine, kind="addresses", path=path, actor=SYSTEM)
    assert summary.outcome == "committed"
    return person


def test_the_ministry_sees_the_move_at_both_ends(engine, moved):
    table = service.flows(engine=engine, actor=OFFICER, start=YEAR[0], end=YEAR[1])
    assert table.columns == list(compute.FLOW_COLUMNS)
    rows = {(r["region"], r["visa"]): r for r in table.to_dicts()}
    assert rows[("11", "D-2")]["inflow"] == 1 and rows[("26", "D-2")]["outflow"] == 1
    assert table["inflow"].sum() == table["outflow"].sum() == 1
    assert rows[("11", "D-2")]["residents_end"] == rows[("11", "D-2")]["residents_start"] + 1


def test_a_regional_official_sees_only_their_region(engine, moved):
    table = service.flows(engine=engine, actor=BUSAN, start=YEAR[0], end=YEAR[1])
    assert table.height > 0 and set(table["region"]) == {"26"}
    assert table.filter(pl.col("visa") == "D-2")["outflow"].to_list() == [1]
    with pytest.raises(Forbidden):
        service.flows(engine=engine, actor=BUSAN, start=YEAR[0], end=YEAR[1], region="11")
    with pytest.raises(Forbidden):
        service.retention(engine=engine, actor=BUSAN, on=YEAR[1], region="11")


def test_a_period_that_ends_before_it_starts_is_refused(engine, records):
    with pytest.raises(Invalid) as refused:
        service.flows(engine=engine, actor=OFFICER, start=YEAR[1], end=YEAR[0])
    assert refused.value.field == "to"


def test_the_commands_write_the_contract_columns(cli, moved, tmp_path):
    flows = tmp_path / "flows.csv"
    done = cli("flows", "--from", "2025-01-01", "--to", "2025-12-31", "--out", str(flows))
    assert done.exit_code == 0, done.output
    written = pl.read_csv(flows, schema_overrides={"region": pl.String, "visa": pl.String})
    assert written.columns == list(compute.FLOW_COLUMNS) and written["inflow"].sum() == 1
    kept = tmp_path / "retention.csv"
    done = cli("retention", "--on", "2025-12-31", "--out", str(kept))
    assert done.exit_code == 0, done.output
    assert kept.read_text(encoding="utf-8").splitlines()[0] == ",".join(compute.RETENTION_COLUMNS)
    bad = cli("flows", "--from", "2025-12-31", "--to", "2025-01-01", "--out", str(flows))
    assert bad.exit_code == 1 and "before it starts" in bad.output
