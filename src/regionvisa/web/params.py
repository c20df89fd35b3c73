"""Request parameter types stricter than Pydantic's lax defaults.

A query date must be written as the schema says (YYYY-MM-DD): lax parsing would also read `0`
as 1970-01-01 and `2025-01-01T00:00` as a date, answering a wrong question instead of a 422.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import BeforeValidator

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value):
    if isinstance(value, str) and not ISO_DATE.fullmatch(value):
        raise ValueError("a date must be written YYYY-MM-DD")
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("a date must be written YYYY-MM-DD")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
