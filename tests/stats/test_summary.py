"""The statistics summaries agree exactly with a full recomputation from the records, after any
sequence of imports, on every date (the property), on SQLite and on PostgreSQL (the `engine`).

The reference is `records.frames.residents_on`, the definition every statistic had before the
summaries: it reads all records as known on the date and counts them.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regionvisa.records.counts import maintained_residents_by_region, residents_by_region_sql
from regionvisa.records.frames import residents_frame, residents_on
from regionvisa.records.service import import_frame
from regionvisa.stats import summary, timeline

BASE = dt.date(2024, 1, 1)
PEOPLE = ["P1", "P2", "P3", "P4", "P5"]
AREAS = ["11010", "26110", "41110", "26440"]
REGIONS = ["11", "26", "41"]
VISAS = ["E-9", "D-2", "F-5"]
NATIONALITY = {"P1": "VNM", "P2": "CHN", "P3": "NPL", "P4": "VNM", "P5": "PHL"}


def day(n: int) -> dt.date:
    return BASE + dt.timedelta(days=n)


# Ties the definition leaves open (two statuses of one person from the same day) are not drawn:
# one status per person and start day.
statuses = st.lists(
    st.tuples(
        st.sampled_from(PEOPLE),
        st.sampled_from(VISAS),
        st.sampled_from(REGIONS),
        st.integers(0, 90),
        st.integers(0, 60),
        st.integers(-10, 20),
    ),
    max_size=8,
    unique_by=lambda s: (s[0], s[3]),
)
movements = st.lists(
    st.tuples(st.sampled_from(PEOPLE), st.sampled_from(["entry", "exit"]), st.integers(0, 150)),
    max_size=8,
    unique_by=lambda m: m,
)
addresses = st.lists(
    st.tuples(st.sampled_from(PEOPLE), st.sampled_from(AREAS), st.integers(0, 150), st.integers(0, 30)),
    max_size=8,
    unique_by=lambda a: (a[0], a[2]),
)


def feeds(s, m, a) -> dict[str, pl.DataFrame]:
    return {
        "statuses": pl.DataFrame(
            {
                "person_id": [r[0] for r in s],
                "visa": [r[1] for r in s],
                "subtype": [""] * len(s),
                "program_id": [""] * len(s),
                "region": [r[2] for r in s],
                "valid_from": [day(r[3]).isoformat() for r in s],
                "valid_to": [day(r[3] + r[4]).isoformat() for r in s],
                "granted_on": [day(r[3] + r[5]).isoformat() for r in s],
            },
            schema={
                c: pl.String
                for c in (
                    "person_id",
                    "visa",
                    "subtype",
                    "program_id",
                    "region",
                    "valid_from",
                    "valid_to",
                    "granted_on",
                )
            },
        ),
        "movements": pl.DataFrame(
            {
                "person_id": [r[0] for r in m],
                "direction": [r[1] for r in m],
                "date": [day(r[2]).isoformat() for r in m],
                "port": ["ICN"] * len(m),
            },
            schema={c: pl.String for c in ("person_id", "direction", "date", "port")},
        ),
        "addresses": pl.DataFrame(
            {
                "person_id": [r[0] for r in a],
                "area_code": [r[1] for r in a],
                "effective_date": [day(r[2]).isoformat() for r in a],
                "reported_date": [day(r[2] + r[3]).isoformat() for r in a],
            },
            schema={c: pl.String for c in ("person_id", "area_code", "effective_date", "reported_date")},
        ),
    }


def people_feed() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "person_id": PEOPLE,
            "name": [f"Synthetic {p}" for p in PEOPLE],
            "nationality": [NATIONALITY[p] for p in PEOPLE],
            "birth_date": ["1990-01-01"] * len(PEOPLE),
            "sex": ["F"] * len(PEOPLE),
            "passport_no": [f"M{i:08d}" for i in range(len(PEOPLE))],
        }
    )


CHECK_DAYS = [day(n) for n in (-1, 0, 5, 17, 30, 31, 45, 59, 60, 75, 90, 120, 151, 200, 400)]


def expected(engine, on: dt.date) -> dict[tuple[str, str, str], int]:
    with engine.connect() as conn:
        frame = residents_on(conn=conn, on=on)
    out: dict[tuple[str, str, str], int] = {}
    for kind, column in (("s", "status"), ("n", "nationality")):
        for row in frame.group_by("region", column).len().iter_rows():
            out[(kind, row[0], row[1])] = row[2]
    return out


def maintained(engine, on: dt.date) -> dict[tuple[str, str, str], int]:
    with engine.connect() as conn:
        out = {}
        for kind in timeline.KINDS:
            for region, value, n in summary.counts_on(conn=conn, on=on, kind=kind).iter_rows():
                out[(kind, region, value)] = n
    return out


def residents_listed(engine, on: dt.date) -> list[dict]:
    with engine.connect() as conn:
        return summary.residents_page(conn=conn, region=None, on=on, offset=0, limit=1000)


def reference_listed(engine, on: dt.date) -> list[dict]:
    with engine.connect() as conn:
        return residents_on(conn=conn, on=on).select("person_id", "nationality", "region", "status").to_dicts()


@pytest.fixture
def people(engine):
    with engine.begin() as conn:
        summary_, problems = import_frame(conn=conn, kind="people", raw=people_feed(), source="test")
        assert summary_.outcome == "committed", problems
    return engine


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(s=statuses, m=movements, a=addresses, cuts=st.lists(st.integers(0, 2), min_size=24, max_size=24))
def test_summaries_agree_with_a_full_recount_after_any_import_sequence(people, s, m, a, cuts):
    engine = people
    with engine.begin() as conn:  # each example starts from the people alone
        for table in ("status_grant", "movement", "address_report"):
            conn.exec_driver_sql(f"DELETE FROM {table}")
        summary.rebuild(conn=conn)
    data = feeds(s, m, a)
    # the records arrive in three imports; each feed's rows are dealt over them by `cuts`
    for step in range(3):
        with engine.begin() as conn:
            for kind, frame in data.items():
                picks = [cuts[i % len(cuts)] == step for i in range(frame.height)]
                part = frame.filter(pl.Series(picks, dtype=pl.Boolean)) if frame.height else frame
                if part.height:
                    done, problems = import_frame(conn=conn, kind=kind, raw=part, source="test")
                    assert done.rejected_rows == 0, problems
        for on in CHECK_DAYS:
            assert maintained(engine, on) == expected(engine, on), on
            assert residents_listed(engine, on) == reference_listed(engine, on), on


def test_a_repeated_import_changes_nothing_and_rebuild_agrees(people):
    engine = people
    data = feeds(
        [("P1", "E-9", "41", 0, 60, -5), ("P2", "D-2", "26", 10, 60, 0)],
        [("P1", "exit", 40), ("P1", "entry", 50)],
        [("P1", "26110", 5, 20), ("P2", "11010", 12, 1)],
    )
    for _ in range(2):
        with engine.begin() as conn:
            for kind, frame in data.items():
                import_frame(conn=conn, kind=kind, raw=frame, source="test")
    after_imports = {on: maintained(engine, on) for on in CHECK_DAYS}
    assert after_imports[day(30)] == {("s", "26", "E-9"): 1, ("n", "26", "VNM"): 1, ("s", "11", "D-2"): 1,
                                      ("n", "11", "CHN"): 1}  # fmt: skip
    assert after_imports[day(45)] == {("s", "11", "D-2"): 1, ("n", "11", "CHN"): 1}  # P1 left on day 40
    with engine.begin() as conn:
        summary.rebuild(conn=conn, chunk=2)  # in steps of two people, as a national rebuild goes
    assert {on: maintained(engine, on) for on in CHECK_DAYS} == after_imports
    with engine.connect() as conn:
        assert summary.state(conn=conn)[1] == day(25)  # the latest reported date


def test_spans_match_the_definition_on_every_day():
    """The pure part: spans evaluated day by day equal `residents_frame` on hand-built frames."""
    people = pl.DataFrame({"person_id": ["A", "B"], "nationality": ["VNM", "CHN"], "birth_date": [BASE] * 2,
                           "sex": ["F", "M"]})  # fmt: skip
    statuses = pl.DataFrame(
        {
            "person_id": ["A", "A", "B"],
            "visa": ["E-9", "F-5", "D-2"],
            "subtype": [None] * 3,
            "program_id": [None] * 3,
            "region": ["41", "11", "26"],
            "valid_from": [day(0), day(20), day(5)],
            "valid_to": [day(10), day(40), day(8)],
            "granted_on": [day(0), day(25), day(1)],
        }
    )
    movements = pl.DataFrame({"person_id": ["B"], "direction": ["exit"], "date": [day(30)], "port": ["ICN"]})
    addresses = pl.DataFrame(
        {
            "person_id": ["A", "A"],
            "area_code": ["26110", "11010"],
            "effective_date": [day(2), day(1)],
            "reported_date": [day(3), day(15)],
        }
    )
    spans = timeline.spans(people, statuses, movements, addresses)
    for n in range(-2, 50):
        on = day(n)
        ref = residents_frame(
            people,
            statuses.filter(pl.col("granted_on") <= on),
            movements.filter(pl.col("date") <= on),
            addresses.filter((pl.col("reported_date") <= on) & (pl.col("effective_date") <= on)),
            on,
        )
        live = spans.filter((pl.col("start_date") <= on) & (pl.col("end_date").is_null() | (pl.col("end_date") > on)))
        got = sorted(live.select("person_id", "nationality", "region", "status").iter_rows())
        assert got == sorted(ref.iter_rows()), on


def test_a_synthetic_load_leaves_the_summaries_equal_to_a_recount(engine):
    """The bulk path (`regionvisa synth`, the demo) rebuilds the summaries in its transaction."""
    from regionvisa.synth.service import write_dataset

    write_dataset(engine=engine, residents=3000, seed=7, replace=True, progress=False)
    with engine.connect() as conn:
        latest = summary.state(conn=conn)[1]
    assert latest is not None
    for on in (latest, latest - dt.timedelta(days=200), dt.date(latest.year - 2, 6, 30)):
        assert maintained(engine, on) == expected(engine, on), on
        # the evaluation's resident count (records.counts) reads the summaries and agrees with the recount
        assert maintained_residents_by_region(engine=engine, on=on) == residents_by_region_sql(engine=engine, on=on)
