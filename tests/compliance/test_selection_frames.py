"""The two ways of picking the people a compliance run reads pick exactly the same people.

`select_people` asks the database (SQLite's path); `selected_people` works on the statuses and
movements read whole as Arrow columns (PostgreSQL's path). Random records, on the test database,
with dates packed around the reference date, its cut-off and each other, so ties (an exit and an
entry on one day, a status ending on the date) come up often.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from regionvisa.compliance import engine as eng
from regionvisa.compliance import service
from regionvisa.compliance.rules import compliance_rules
from regionvisa.records import columnar

ON = dt.date(2025, 12, 31)
RULES = dataclasses.replace(compliance_rules().settings_on(ON), max_days_abroad=5)
CUT = ON - dt.timedelta(days=RULES.max_days_abroad)
DAYS = st.sampled_from([CUT - dt.timedelta(days=2), CUT - dt.timedelta(days=1), CUT, ON - dt.timedelta(days=1), ON,
                        ON + dt.timedelta(days=1)])  # fmt: skip
PEOPLE = [f"S{i}" for i in range(6)]


@st.composite
def records(draw):
    statuses, moves = [], set()
    for person in PEOPLE:
        for k in range(draw(st.integers(0, 2))):
            start = draw(DAYS) - dt.timedelta(days=30 * k)
            end = start + dt.timedelta(days=draw(st.sampled_from([0, 1, 3, 10])))
            granted = start - dt.timedelta(days=draw(st.sampled_from([-2, 0, 5])))
            program = draw(st.sampled_from([None, None, "busan-d2"]))
            statuses.append((person, f"V-{k}", program, "26", start, end, granted))
        for _ in range(draw(st.integers(0, 3))):
            moves.add((person, draw(st.sampled_from(["entry", "exit"])), draw(DAYS)))
    return statuses, sorted(moves)


def _store(engine, statuses, moves) -> None:
    with engine.begin() as conn:
        for table in ("status_grant", "movement"):
            conn.execute(text(f"DELETE FROM {table}"))
        if statuses:
            conn.execute(
                text(
                    "INSERT INTO status_grant (person_id, visa, program_id, region, valid_from, valid_to, granted_on) "
                    "VALUES (:p, :v, :g, :r, :f, :t, :o)"
                ),
                [dict(zip("pvgrfto", s, strict=True)) for s in statuses],
            )
        if moves:
            conn.execute(
                text("INSERT INTO movement (person_id, direction, date, port) VALUES (:p, :d, :t, 'ICN')"),
                [dict(zip("pdt", m, strict=True)) for m in moves],
            )


def _people_frames(kit) -> dict[str, pl.DataFrame]:
    r = kit.Records()
    for person in PEOPLE:
        r._person(person)
    return r.frames()


def _by_sql(engine) -> pl.DataFrame:
    with columnar.batch_reads(engine=engine) as reads:
        # always the database's own selection here, whichever path run_compliance takes
        service.select_people(reads=reads, settings=RULES)
        return reads.frame(
            f"SELECT person_id, holder FROM {service.PEOPLE}", {"person_id": pl.String, "holder": pl.Int64}
        )


def _by_frames(engine) -> pl.DataFrame:
    with columnar.batch_reads(engine=engine) as reads:
        statuses = reads.frame(service._select("status_grant", ON, "1 = 1"), eng.INPUT_SCHEMAS["status_grant"])
        movements = reads.frame(service._select("movement", ON, "1 = 1"), eng.INPUT_SCHEMAS["movement"])
    return service.selected_people(statuses=statuses, movements=movements, settings=RULES)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=records())
def test_the_frame_selection_picks_exactly_whom_the_database_picks(engine, kit, drawn):
    if not _has_people(engine):  # once per test database: the examples share it
        kit.insert(engine, _people_frames(kit))
    _store(engine, *drawn)
    by_sql, by_frames = _by_sql(engine).sort("person_id"), _by_frames(engine).sort("person_id")
    assert by_frames.schema == by_sql.schema
    assert by_frames.to_dicts() == by_sql.to_dicts()


def _has_people(engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("SELECT COUNT(*) FROM person")).scalar_one() == len(PEOPLE)


def test_the_selection_on_hand_built_records(engine, kit):
    """Each condition once: a holder, an overstayer, one gone after overstaying, one abroad too
    long with a running status, one who came in again on the day they left (the exit still counts
    as last), and an ordinary resident."""
    r = kit.Records()
    r.status("H", "2025-01-01", "2026-12-31", program_id="busan-d2")
    r.status("O", "2024-01-01", "2025-06-30").move("O", "entry", "2024-01-02")
    r.status("G", "2024-01-01", "2025-06-30").move("G", "entry", "2024-01-02").move("G", "exit", "2025-07-01")
    r.status("A", "2025-01-01", "2026-12-31").move("A", "exit", "2025-12-01")
    r.status("B", "2025-01-01", "2026-12-31").move("B", "exit", "2025-12-01").move("B", "entry", "2025-12-01")
    r.status("R", "2025-01-01", "2026-12-31").move("R", "entry", "2025-01-02")
    kit.insert(engine, r.frames())
    expected = [{"person_id": p, "holder": int(p == "H")} for p in ("A", "B", "H", "O")]
    assert _by_sql(engine).sort("person_id").to_dicts() == expected
    assert _by_frames(engine).sort("person_id").to_dicts() == expected
