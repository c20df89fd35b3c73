"""Request parameter types stricter than Pydantic's lax defaults, and the readers of a page's
query values.

A query date must be written as the schema says (YYYY-MM-DD): lax parsing would also read `0`
as 1970-01-01 and `2025-01-01T00:00` as a date, answering a wrong question instead of a 422.
A page's query values (a date filter, a page number) are refused with a message that names the
field by its label and repeats the value, in both languages, never replaced by a default.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import BeforeValidator

from regionvisa.core.errors import Invalid
from regionvisa.web import i18n

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value):
    if isinstance(value, str) and not ISO_DATE.fullmatch(value):
        raise ValueError("a date must be written YYYY-MM-DD")
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("a date must be written YYYY-MM-DD")
    if isinstance(value, str):
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value} is not a date in the calendar") from None
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]


def _labels(label: str, context: str | None) -> tuple[str, str]:
    return i18n.translate("ko", label, context=context), i18n.translate("en", label, context=context)


def query_date(value: str | None, *, field: str, label: str, context: str | None = None) -> dt.date | None:
    """A date typed in a page's filter, or None when left empty. `label` is the field's message id
    (as the form shows it): a badly written or impossible date (2025-02-30) is refused with it."""
    text = (value or "").strip()
    if not text:
        return None
    ko_label, en_label = _labels(label, context)
    if not ISO_DATE.fullmatch(text):
        raise Invalid(
            code="invalid_date",
            field=field,
            ko=f"{ko_label}: ‘{text}’은(는) 날짜 형식이 아닙니다. 연-월-일(예: 2025-07-01)로 적으십시오.",
            en=f"{en_label}: ‘{text}’ is not a date. Write it as year-month-day, for example 2025-07-01.",
        )
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise Invalid(
            code="invalid_date",
            field=field,
            ko=f"{ko_label}: {text}은(는) 달력에 없는 날짜입니다. 월과 일을 확인하십시오.",
            en=f"{en_label}: {text} is not a real date. Check the month and the day.",
        ) from None


def page_number(value: str | int | None) -> int:
    """The `page` of a list page's address: a whole number from 1 (whether the list has that page
    is `core.paging.Page`'s check, once the total is known)."""
    text = str(value if value is not None else "").strip() or "1"
    if not (text.isascii() and text.isdecimal()) or int(text) < 1:
        raise Invalid(
            code="invalid_page",
            field="page",
            ko=f"쪽 번호: ‘{text}’은(는) 쪽 번호가 아닙니다. 1 이상의 정수로 적으십시오.",
            en=f"Page number: ‘{text}’ is not a page number. Use a whole number from 1.",
        )
    return int(text)
