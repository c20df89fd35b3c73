"""Calendar-month periods: the one definition of an obligation period, for one date and for a column.

A programme's obligation runs for `obligation_months` calendar months from the grant
(DESIGN §4.8): the period is [start, end) with `end` the same day `months` months later, or
the last day of that month when it is shorter (31 January + 1 month = 28 or 29 February).
Issuance reads the scalar form (a status is valid up to the day before the end) and the
compliance engine the column form; `tests/rules/test_periods.py` checks they agree.
"""

from __future__ import annotations

import calendar
import datetime as dt

import polars as pl


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by whole calendar months, clamped to the last day of the month reached."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_months_expr(day: pl.Expr, months: pl.Expr | int) -> pl.Expr:
    """`add_months` over a date column and a column (or constant) of month counts."""
    step = pl.format("{}mo", months) if isinstance(months, pl.Expr) else pl.lit(f"{int(months)}mo")
    return day.dt.offset_by(step)


def obligation_period(start: dt.date, months: int) -> tuple[dt.date, dt.date]:
    """The half-open period [start, end) of `months` calendar months from `start`."""
    return start, add_months(start, months)


def obligation_period_end(start: pl.Expr, months: pl.Expr | int) -> pl.Expr:
    """The exclusive end of `obligation_period` for every row: a column next to `start`."""
    return add_months_expr(start, months)
