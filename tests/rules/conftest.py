"""Shared helpers for the rule-language tests, handed out as fixtures (the suite imports by importlib)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from regionvisa.rules import FIELDS, Criterion, PointsRule, RuleProgram

ON = dt.date(2025, 6, 1)


def _program_of(*rules, points=(), params=None, national=None) -> RuleProgram:
    """A programme with criteria c0, c1, … built from bare rules."""
    return RuleProgram(
        id="t",
        criteria=[Criterion(id=f"c{i}", rule=r, label={"en": f"C{i}", "ko": f"기준{i}"}) for i, r in enumerate(rules)],
        points=[PointsRule(id=f"p{i}", when=w, points=p) for i, (w, p) in enumerate(points)],
        parameters=params or {},
        national_parameters=national or {},
    )


def _frame(rows: list[dict], columns=None) -> pl.DataFrame:
    """Typed applicant frame; `columns` limits which catalogue columns exist at all."""
    names = list(columns) if columns is not None else list(FIELDS)
    schema = {n: FIELDS[n].dtype for n in names}
    return pl.DataFrame([{n: r.get(n) for n in names} for r in rows], schema=schema)


@pytest.fixture(scope="session")
def program_of():
    return _program_of


@pytest.fixture(scope="session")
def frame():
    return _frame


@pytest.fixture(scope="session")
def on() -> dt.date:
    return ON
