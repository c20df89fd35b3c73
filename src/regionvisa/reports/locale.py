"""Language, region names and number formats shared by the reports (the evaluation report and the
committee's minutes).

Region names come from the packaged regions table read with csv (not regions.service), so a
report needs no database stack; numbers are formatted with Babel in the current gettext language.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from babel.numbers import format_decimal, format_percent

from regionvisa.web import i18n

REGIONS_CSV = Path(__file__).resolve().parents[1] / "regions" / "data" / "regions.csv"

# The usual two-syllable short forms, for tiles and chart axes where full names do not fit.
SHORT_KO = {
    "11": "서울", "26": "부산", "27": "대구", "28": "인천", "29": "광주", "30": "대전", "31": "울산",
    "36": "세종", "41": "경기", "43": "충북", "44": "충남", "46": "전남", "47": "경북", "48": "경남",
    "50": "제주", "51": "강원", "52": "전북",
}  # fmt: skip


@contextmanager
def language(lang: str) -> Iterator[str]:
    """Run gettext in `lang` for the duration, restoring the caller's language afterwards."""
    token = i18n.current_language.set(i18n.pick_language(lang))
    try:
        yield i18n.current_language.get()
    finally:
        i18n.current_language.reset(token)


@lru_cache
def _region_rows() -> dict[str, dict[str, str]]:
    """The packaged regions table read with csv (not regions.service), so reports need no database stack."""
    with REGIONS_CSV.open(encoding="utf-8") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    return {row["code"]: row for row in csv.DictReader(lines)}


def region_name(code: str, lang: str, *, short: bool = False) -> str:
    row = _region_rows().get(code)
    if row is None:
        return code
    if short:
        return SHORT_KO.get(code, row["name_ko"]) if lang == "ko" else row["slug"].capitalize()
    return row["name_ko"] if lang == "ko" else row["name_en"]


def num(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    fmt = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=fmt, locale=i18n.current_language.get())


def pct(fraction: float, digits: int = 0, *, signed: bool = False) -> str:
    body = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    fmt = f"+{body};-{body}" if signed else body
    text = format_percent(fraction, format=fmt, locale=i18n.current_language.get())
    return "±0%" if signed and fraction == 0 else text.replace("-", "−")
