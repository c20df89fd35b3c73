"""The batch read session returns exactly the frames the generic reader returns.

On PostgreSQL `records.columnar.batch_reads` reads through the ADBC driver (Arrow columns from a
binary COPY); elsewhere through the driver's cursor. Either way a frame must equal, value for
value and type for type, what `records.bulk.read_table` (Polars over the SQLAlchemy connection)
returns for the same query: nulls stay nulls, empty strings stay empty strings, dates stay dates.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from sqlalchemy import text

from regionvisa.records import columnar
from regionvisa.records.bulk import read_table
from regionvisa.records.frames import SCHEMAS, read_known, read_records

SCRATCH = "rv_test_batch_reads"
SCHEMA = {"k": pl.Int64, "s": pl.String, "d": pl.Date, "n": pl.Int64, "t": pl.String}

# Any text PostgreSQL can store (no NUL, no lone surrogates), within the column's length.
texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
rows = st.lists(
    st.fixed_dictionaries(
        {
            "s": st.none() | texts,
            "d": st.none() | st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)),
            "n": st.none() | st.integers(-(2**31), 2**31 - 1),
            "t": st.sampled_from(["", " ", "entry", "서울", "a,b", '"q"', "\\N", "NULL", "line\nbreak"]),
        }
    ),
    max_size=30,
)


@pytest.fixture
def scratch(engine):
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {SCRATCH}"))
        conn.execute(
            text(f"CREATE TABLE {SCRATCH} (k INTEGER PRIMARY KEY, s VARCHAR(64), d DATE, n INTEGER, t VARCHAR(16))")
        )
    yield engine
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {SCRATCH}"))


def _store(engine, values: list[dict]) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {SCRATCH}"))
        if values:
            conn.execute(
                text(f"INSERT INTO {SCRATCH} (k, s, d, n, t) VALUES (:k, :s, :d, :n, :t)"),
                [{"k": i, **v} for i, v in enumerate(values)],
            )


def _generic(engine, sql: str, schema: dict) -> pl.DataFrame:
    with engine.connect() as conn:
        df = read_table(conn=conn, sql=sql, schema=schema)
    if df.height == 0:
        return pl.DataFrame(schema=schema)
    return df.select([pl.col(c).cast(t) for c, t in schema.items()])


def test_the_session_is_arrow_on_postgresql_and_the_cursor_elsewhere(engine, database_kind):
    with columnar.batch_reads(engine=engine) as reads:
        expected = columnar.ArrowReads if database_kind == "postgresql" else columnar.DriverReads
        assert type(reads) is expected
        assert reads.dialect == database_kind


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=rows)
def test_any_values_come_back_exactly_as_the_generic_reader_returns_them(scratch, values):
    _store(scratch, values)
    sql = f"SELECT k, s, d, n, t FROM {SCRATCH} ORDER BY k"
    with columnar.batch_reads(engine=scratch) as reads:
        got = reads.frame(sql, SCHEMA)
    expected = _generic(scratch, sql, SCHEMA)
    assert got.schema == expected.schema == pl.Schema(SCHEMA)
    assert_frame_equal(got, expected)
    # and the values are the ones stored: nulls as nulls, empty strings as empty strings
    assert got.drop("k").to_dicts() == values


def test_an_empty_result_is_typed_by_the_schema(scratch):
    _store(scratch, [])
    with columnar.batch_reads(engine=scratch) as reads:
        got = reads.frame(f"SELECT k, s, d, n, t FROM {SCRATCH}", SCHEMA)
    assert got.height == 0 and got.schema == pl.Schema(SCHEMA)


def test_statements_share_one_session_and_one_snapshot(scratch):
    """Temporary tables live across statements, and a commit made meanwhile stays unseen."""
    _store(scratch, [{"s": "a", "d": None, "n": 1, "t": ""}])
    with columnar.batch_reads(engine=scratch) as reads:
        reads.execute(f"CREATE TEMPORARY TABLE rv_test_picked AS SELECT k FROM {SCRATCH}")
        first = reads.one(f"SELECT COUNT(*) FROM {SCRATCH}")
        with scratch.begin() as conn:  # another session commits a row
            conn.execute(text(f"INSERT INTO {SCRATCH} (k, s, d, n, t) VALUES (99, 'b', NULL, 2, '')"))
        again = reads.one(f"SELECT COUNT(*) FROM {SCRATCH} WHERE k IN (SELECT k FROM rv_test_picked)")
        later = reads.one(f"SELECT COUNT(*) FROM {SCRATCH}")
    assert first == again == later == (1,)
    with columnar.batch_reads(engine=scratch) as reads:
        assert reads.one(f"SELECT COUNT(*) FROM {SCRATCH}") == (2,)


def test_a_failed_statement_raises_and_the_session_ends(scratch):
    with pytest.raises(Exception, match="rv_test_missing"), columnar.batch_reads(engine=scratch) as reads:
        reads.frame("SELECT k FROM rv_test_missing", {"k": pl.Int64})
    with columnar.batch_reads(engine=scratch) as reads:  # the database is usable afterwards
        assert reads.one(f"SELECT COUNT(*) FROM {SCRATCH}") == (0,)


PEOPLE = [
    "person_id,name,nationality,birth_date,sex,passport_no",
    "P1,Person One,VNM,1990-01-01,F,M0000001",
    "P2,Person Two,KOR,1985-06-30,M,M0000002",
    "P3,Person Three,NPL,2001-12-31,X,M0000003",
]
RECORDS = {
    "status_grant": [
        ("P1", "E-9", None, None, "41", "2024-01-01", "2026-12-31", "2023-12-20"),
        ("P2", "D-2", "", "busan-d2", "26", "2023-03-01", "2025-02-28", "2023-02-01"),
        ("P3", "F-2", "F-2-R", "gyeongbuk", "47", "2026-01-01", "2028-12-31", "2026-01-02"),  # not yet known
    ],
    "address_report": [("P1", "41110", "2024-01-05", "2024-01-06"), ("P2", "26110", "2025-12-30", "2026-01-03")],
    "movement": [("P1", "entry", "2024-01-02", "ICN"), ("P2", "exit", "2025-07-01", "")],
    "kiip_record": [("P1", 0, "2024-02-01", None), ("P2", 5, "2023-03-01", "2024-01-31")],
    "employment": [
        ("P1", "EMP-1", "41", "2024-01-10", None, 30_000_000, "2223"),
        ("P3", "EMP-2", "47", "2025-01-01", "2025-06-30", None, None),
    ],
}


@pytest.mark.parametrize("table", list(SCHEMAS))
def test_records_tables_read_as_read_records_reads_them(engine, tmp_path, table):
    """Every records table, nullable columns set and unset, as known on a date."""
    from tests.actors import SYSTEM

    from regionvisa.records.bulk import bulk_insert
    from regionvisa.records.service import import_file

    feed = tmp_path / "people.csv"
    feed.write_text("\n".join(PEOPLE) + "\n", encoding="utf-8")
    summary, _ = import_file(engine=engine, kind="people", path=feed, actor=SYSTEM)
    assert summary.outcome == "committed", summary
    with engine.begin() as conn:
        for name, values in RECORDS.items():
            schema = SCHEMAS[name]
            frame = pl.DataFrame(values, schema=list(schema), orient="row")
            frame = frame.with_columns(pl.col(c).str.to_date() for c, t in schema.items() if t == pl.Date)
            bulk_insert(conn=conn, table=name, df=frame.cast(schema))
    on = dt.date(2025, 12, 31)
    with engine.connect() as conn:
        expected = read_records(conn=conn, table=table, as_of=on)
    with columnar.batch_reads(engine=engine) as reads:
        got = read_known(reads=reads, table=table, as_of=on)
    assert got.height == {"person": 3, "address_report": 1}.get(table, 2)  # one grant, one report later
    assert got.schema == expected.schema == pl.Schema(SCHEMAS[table])
    assert_frame_equal(got.sort(got.columns), expected.sort(expected.columns))


def test_residents_counted_from_columns_equal_the_sql_count(engine, tmp_path):
    """On either database the column path of `residents_by_region` counts as the SQL does."""
    from tests.actors import SYSTEM

    from regionvisa.records.counts import residents_by_region, residents_by_region_sql
    from regionvisa.records.service import import_file

    feeds = {
        "people": PEOPLE,
        "statuses": [
            "person_id,visa,subtype,program_id,region,valid_from,valid_to,granted_on",
            "P1,E-9,,,41,2024-01-01,2026-12-31,2023-12-20",
            "P2,D-2,,,26,2023-03-01,2025-02-28,2023-02-01",
            "P3,F-2,,,47,2026-01-01,2028-12-31,2026-01-02",  # granted after the date
        ],
        "addresses": ["person_id,area_code,effective_date,reported_date", "P1,11110,2024-01-05,2024-01-06"],
        "movements": ["person_id,direction,date,port", "P2,exit,2025-03-01,ICN"],
    }
    for kind, lines in feeds.items():
        path = tmp_path / f"{kind}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        summary, _ = import_file(engine=engine, kind=kind, path=path, actor=SYSTEM)
        assert summary.outcome == "committed", summary
    on = dt.date(2025, 12, 31)
    assert columnar.has_column_reads(engine=engine)
    assert residents_by_region(engine=engine, on=on) == residents_by_region_sql(engine=engine, on=on) == {"11": 1}
