"""Movement and retention from the database, on SQLite and PostgreSQL: one person moves from Busan
to Seoul; the ministry sees both ends, Busan's official only Busan's rows, and the command line
writes the §4.9 columns."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from tests.actors import BUSAN, OFFICER

from regionvisa.core.errors import Forbidden, Invalid
from regionvisa.mobility import compute, service

YEAR = (dt.date(2025, 2, 1), dt.date(2025, 12, 31))  # every seeded person has reported by the start


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


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


@pytest.mark.parametrize("holders", [False, True])
def test_the_database_reads_the_rows_the_polars_filters_keep(engine, moved, holders):
    """The SQL of the flow and retention reads against the same conditions in Polars over whole tables."""
    from regionvisa.records.columnar import batch_reads
    from regionvisa.records.frames import read_known_all

    with batch_reads(engine=engine) as reads:
        full = read_known_all(reads=reads, tables={"status_grant": None, "address_report": None})
    start, end = dt.date(2025, 3, 1), dt.date(2025, 9, 30)
    read = service._flow_records(engine, start, end, holders)
    kept = service.flow_filters(full["status_grant"], full["address_report"], start=start, end=end, holders=holders)
    assert read[1].height > 0 and read[1]["area_code"].str.len_chars().max() == 2
    for got, want in zip(read, kept, strict=True):
        assert _sorted(got).equals(_sorted(want))
    for program in (None, "busan-d2"):
        read = service._retention_records(engine, end, program)
        kept = service.retention_filters(full["status_grant"], full["address_report"], on=end, program_id=program)
        for got, want in zip(read, kept, strict=True):
            assert _sorted(got).equals(_sorted(want))
