"""The pilot outcome report as files, laid out from a stored run's result (`service.result_of`):
PDF (WeasyPrint, NanumGothic embedded, tagged, as the evaluation report) and XLSX, in Korean or
English. Column names and groups are translated through the gettext catalogue (outcomes.po),
numbers formatted as the reports do.

The XLSX holds the whole result (the indicators and the take-up of every programme month). The
PDF stays a few pages whatever the period: the indicators, and one take-up row per programme (the
latest month a ledger covers, as the page shows it); laying out hundreds of monthly rows took
WeasyPrint most of the report's time."""

from __future__ import annotations

import io
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl
from jinja2 import ChoiceLoader, Environment, FileSystemLoader
from markupsafe import Markup

from regionvisa.reports import fonts
from regionvisa.reports.evaluation_report import TEMPLATE_DIR, environment, report_css
from regionvisa.reports.locale import language, num, pct, region_name
from regionvisa.web.i18n import gettext as _

FORMATS = (".pdf", ".xlsx")
MONTHS = (6, 12, 24)
HERE = Path(__file__).resolve().parent
SUMMARY = ("program_id", "region", "visa", "month", "cumulative", "quota", "takeup", "comparison_new")
SHARES = {f"retention_{m}m" for m in MONTHS} | {"kiip_participation", "employed_share", "below_floor_share", "takeup"}


def _heads() -> dict[str, str]:
    """Column -> its translated heading (called inside `language`)."""
    heads = {
        "group": _("Group"),
        "program_id": _("Programme"),
        "region": _("Region"),
        "visa": _("Visa"),
        "holders": _("Holders"),
        "kiip_participation": _("KIIP participation"),
        "employed_share": _("Employed on the reference date"),
        "median_wage_krw": _("Median annual wage"),
        "below_floor_share": _("Wages below the floor"),
        "month": _("Month"),
        "new_holders": _("New pilot holders"),
        "cumulative": _("Running total"),
        "quota": _("Quota"),
        "takeup": _("Take-up against quota"),
        "comparison_new": _("New comparison holders"),
    }
    for m in MONTHS:
        heads[f"retention_{m}m"] = _("In the region after %(n)s months", n=m)
        heads[f"eligible_{m}m"] = _("Eligible after %(n)s months", n=m)
    return heads


def _text(name: str, value: Any, lang: str) -> str:
    if value is None:
        return "–"
    if name == "group":
        return _("Pilot holders") if value == "pilot" else _("Comparison group")
    if name == "region":
        return region_name(value, lang)
    if name in SHARES:
        return pct(value, 1)
    if name == "median_wage_krw":
        return _("%(amount)s KRW", amount=num(value, 0))
    if isinstance(value, int | float):
        return num(value, 0)
    return str(value)


def _table(part: Mapping[str, Any], lang: str, *, skip: tuple[str, ...] = ()) -> tuple[list[str], list[list[str]]]:
    heads = _heads()
    columns = [c for c in part["columns"] if c not in skip]
    index = [part["columns"].index(c) for c in columns]
    rows = [[_text(c, row[i], lang) for c, i in zip(columns, index, strict=True)] for row in part["rows"]]
    return [heads.get(c, c) for c in columns], rows


def latest_takeup(part: Mapping[str, Any]) -> dict:
    """One take-up row per programme, in the result's order: the latest month a ledger covers
    (else the latest month), with the running totals of pilot and comparison holders to it."""
    if not part["rows"]:
        return {"columns": list(SUMMARY), "rows": []}
    frame = pl.DataFrame(part["rows"], schema=part["columns"], orient="row", infer_schema_length=None)
    latest = (
        frame.with_columns(
            pl.col("comparison_new").cum_sum().over("program_id"),
            covered=pl.col("quota").is_not_null(),
            order=pl.int_range(pl.len()),
        )
        .sort("program_id", "covered", "month")
        .group_by("program_id", maintain_order=True)
        .last()
        .sort(pl.col("order"))
        .select(SUMMARY)
    )
    return {"columns": list(SUMMARY), "rows": [list(row) for row in latest.iter_rows()]}


def context(result: Mapping[str, Any], lang: str, *, run_id: int | None = None, sha256: str = "") -> dict[str, Any]:
    """Everything the PDF lays out, already translated (the eligible counts and the monthly
    take-up are left to the XLSX)."""
    with language(lang) as lang:
        eligible = tuple(f"eligible_{m}m" for m in MONTHS)
        indicator_heads, indicator_rows = _table(result["indicators"], lang, skip=eligible)
        takeup_heads, takeup_rows = _table(latest_takeup(result["takeup"]), lang)
        region = result.get("region")
        return {
            "lang": lang,
            "title": _("Pilot outcome report"),
            "since": result["since"],
            "on": result["on"],
            "region": region_name(region, lang) if region else _("All regions"),
            "run_id": run_id,
            "sha256": sha256,
            "indicator_heads": indicator_heads,
            "indicator_rows": indicator_rows,
            "takeup_heads": takeup_heads,
            "takeup_rows": takeup_rows,
        }


@lru_cache
def _environment() -> Environment:
    """The reports' environment, finding this package's PDF template first."""
    shared = environment()
    return shared.overlay(loader=ChoiceLoader([FileSystemLoader(str(HERE / "templates")), shared.loader]))


def render_pdf(result: Mapping[str, Any], lang: str = "ko", *, run_id: int | None = None, sha256: str = "") -> bytes:
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    ctx = context(result, lang, run_id=run_id, sha256=sha256)
    with language(ctx["lang"]):
        html = (
            _environment()
            .get_template("outcomes_pdf.html")
            .render(
                {
                    **ctx,
                    "css": Markup(report_css()),
                    "font_face": Markup(fonts.font_face_css()),
                    "font_stack": Markup(fonts.CSS_STACK),
                }
            )
        )
    return HTML(string=html, base_url=str(TEMPLATE_DIR)).write_pdf(font_config=FontConfiguration(), pdf_tags=True)


def render_xlsx(result: Mapping[str, Any], lang: str = "ko") -> bytes:
    """Two sheets, indicators and take-up by month, with translated headings; numbers stay numbers."""
    import xlsxwriter

    from regionvisa.reports.files import FORMULA_PREFIXES

    buffer = io.BytesIO()
    with language(lang) as lang, xlsxwriter.Workbook(buffer, {"in_memory": True}) as book:
        book.set_properties({"created": None})  # the same run gives the same workbook
        heads = _heads()
        head = book.add_format({"bold": True})
        for sheet_name, part in ((_("Indicators"), result["indicators"]), (_("Take-up by month"), result["takeup"])):
            sheet = book.add_worksheet(sheet_name[:31])
            for j, column in enumerate(part["columns"]):
                sheet.write_string(0, j, heads.get(column, column), head)
                sheet.set_column(j, j, 16)
            for i, row in enumerate(part["rows"], start=1):
                for j, (column, value) in enumerate(zip(part["columns"], row, strict=True)):
                    if value is None:
                        continue
                    if isinstance(value, int | float) and not isinstance(value, bool):
                        sheet.write_number(i, j, value)
                        continue
                    text = _text(column, value, lang) if column in ("group", "region") else str(value)
                    sheet.write_string(i, j, "'" + text if text.startswith(FORMULA_PREFIXES) else text)
    return buffer.getvalue()


def render(
    result: Mapping[str, Any], fmt: str, lang: str = "ko", *, run_id: int | None = None, sha256: str = ""
) -> bytes:
    fmt = fmt.lower()
    if fmt == ".pdf":
        return render_pdf(result, lang, run_id=run_id, sha256=sha256)
    if fmt == ".xlsx":
        return render_xlsx(result, lang)
    raise ValueError(f"unknown report format {fmt!r} (expected one of {', '.join(FORMATS)})")
