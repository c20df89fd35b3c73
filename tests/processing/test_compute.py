"""Processing times over columns: spells, medians, backlog bands and the at-risk rule, by hand and
against an independent computation (Hypothesis)."""

from __future__ import annotations

import datetime as dt
import itertools
import statistics

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from regionvisa.processing import compute

T0 = dt.datetime(2026, 1, 1)
NOW = dt.datetime(2026, 2, 1)


def at(days: float) -> dt.datetime:
    return T0 + dt.timedelta(days=days)


def frames(histories: dict[int, list[tuple[str, float]]], program: str = "busan-d2"):
    events = pl.DataFrame(
        [(app, state, at(day)) for app, steps in histories.items() for state, day in steps],
        schema=compute.EVENT_SCHEMA,
        orient="row",
    )
    apps = pl.DataFrame(
        [(app, program, "26", steps[-1][0], at(steps[0][1])) for app, steps in histories.items()],
        schema=compute.APPLICATION_SCHEMA,
        orient="row",
    )
    return events, apps


def test_time_in_each_state_counts_closed_stays_and_reports_open_ones():
    events, apps = frames(
        {
            1: [("submitted", 0), ("screened", 0), ("recommended", 4), ("approved", 9), ("issued", 11)],
            2: [("submitted", 1), ("screened", 1), ("recommended", 19)],
        }
    )
    summary = {r["state"]: r for r in compute.state_summary(compute.spells(events, now=NOW), apps).to_dicts()}
    assert summary["screened"]["spells"] == 2 and summary["screened"]["median_days"] == 11.0  # 4 and 18
    assert summary["recommended"]["spells"] == 1 and summary["recommended"]["median_days"] == 5.0
    assert summary["recommended"]["open"] == 1  # application 2 waits there now
    assert summary["approved"]["median_days"] == 2.0
    assert "issued" not in summary  # a final state has no stay
    totals = compute.total_summary(compute.totals(events, apps, now=NOW)).to_dicts()
    assert totals == [{"program_id": "busan-d2", "region": "26", "issued": 1, "median_days": 11.0, "p90_days": 11.0}]


def test_history_after_the_reference_instant_is_not_counted():
    events, _apps = frames({1: [("submitted", 0), ("screened", 0), ("recommended", 40)]})
    spells = compute.spells(events, now=NOW)
    screened = spells.filter(pl.col("state") == "screened").row(0, named=True)
    assert screened["open"] and screened["days"] == 31.0  # 1 January to 1 February, still screened then


def test_backlog_has_every_band_and_counts_open_applications_by_age():
    _events, apps = frames(
        {
            1: [("submitted", 30), ("screened", 30)],  # 1 day old
            2: [("submitted", 20), ("screened", 20)],  # 11 days
            3: [("submitted", 0), ("screened", 0), ("issued", 3)],  # issued: not open
        }
    )
    rows = compute.backlog(compute.open_applications(apps, now=NOW), bands=[7, 14, 30]).to_dicts()
    assert [(r["band"], r["applications"]) for r in rows] == [("0-6", 1), ("7-13", 1), ("14-29", 0), ("30+", 0)]


def test_at_risk_when_the_expected_issue_falls_after_the_declared_date():
    events, apps = frames(
        {
            1: [("submitted", 0), ("screened", 0)],  # expected 31 Jan: after 20 Jan, missed already
            2: [("submitted", 25), ("screened", 25)],  # 26 January: expected 25 February, in time
            3: [("submitted", 29), ("screened", 29)],  # 30 January: expected 1 March, in time
            4: [("submitted", 31), ("screened", 31)],  # 1 February: expected 3 March, a day late
        }
    )
    declared = pl.DataFrame(
        [("busan-d2", dt.date(2026, 1, 20), "개강", "term"), ("busan-d2", dt.date(2026, 3, 2), "개강", "term")],
        schema=compute.DECLARED_SCHEMA,
        orient="row",
    )
    expected = compute.expected_days(
        compute.totals(events, apps, now=NOW), programs=["busan-d2"], default=30, minimum_sample=20
    )
    assert expected.row(0, named=True) == {"program_id": "busan-d2", "expected_days": 30.0, "from_sample": False}
    risk = compute.at_risk(compute.open_applications(apps, now=NOW), expected, declared, now=NOW)
    assert risk.select("application_id", "late_days", "missed").rows() == [(1, 11, True), (4, 1, False)]


def test_a_programme_without_declared_dates_has_none_at_risk():
    events, apps = frames({1: [("submitted", 0), ("screened", 0)]}, program="ulsan-e7")
    declared = pl.DataFrame([("busan-d2", dt.date(2026, 1, 2), "a", "a")], schema=compute.DECLARED_SCHEMA, orient="row")
    expected = compute.expected_days(
        compute.totals(events, apps, now=NOW), programs=["ulsan-e7"], default=5, minimum_sample=1
    )
    assert compute.at_risk(compute.open_applications(apps, now=NOW), expected, declared, now=NOW).is_empty()


def test_band_labels():
    assert compute.band_labels([7, 14, 30, 60, 90]) == ["0-6", "7-13", "14-29", "30-59", "60-89", "90+"]


STATES = ["screened", "recommended", "returned", "approved"]


@st.composite
def histories(draw):
    """Applications that end issued, each step a whole number of hours after the previous one."""
    out = {}
    for app in range(1, draw(st.integers(1, 12)) + 1):
        day = draw(st.integers(0, 20)) / 1.0
        steps = [("submitted", day)]
        for state in draw(st.lists(st.sampled_from(STATES), min_size=1, max_size=5)):
            day += draw(st.integers(0, 96)) / 24
            steps.append((state, day))
        day += draw(st.integers(0, 96)) / 24
        steps.append(("issued", day))
        out[app] = steps
    return out


@settings(max_examples=60, deadline=None)
@given(histories())
def test_stays_add_up_to_the_total_and_medians_agree_with_the_standard_library(history):
    events, apps = frames(history)
    now = at(60)
    spells = compute.spells(events, now=now)
    per_app = spells.group_by("application_id").agg(pl.col("days").sum()).sort("application_id")
    totals = compute.totals(events, apps, now=now).sort("application_id")
    assert per_app["application_id"].to_list() == totals["application_id"].to_list() == sorted(history)
    for spent, total in zip(per_app["days"].to_list(), totals["total_days"].to_list(), strict=True):
        assert abs(spent - total) < 1e-6
    assert not spells["open"].any()  # every application ended issued before `now`
    summary = {r["state"]: r for r in compute.state_summary(spells, apps).to_dicts()}
    for state in {s for steps in history.values() for s, _ in steps if s != "issued"}:
        lengths = []
        for steps in history.values():
            for (s, start), (_, end) in itertools.pairwise(steps):
                if s == state:
                    lengths.append(end - start)
        assert summary[state]["spells"] == len(lengths)
        assert abs(summary[state]["median_days"] - statistics.median(lengths)) < 1e-6
