"""The evaluation report as an XLSX workbook, laid out from `evaluation_context.build_context`.

One function per sheet: ranking, indicators (raw, normalised, contribution), sensitivity,
benefits and method. The cell formats are made once per workbook, always in the same order, so
the same context gives the same sheets.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from regionvisa.reports.locale import language
from regionvisa.web.i18n import gettext as _

if TYPE_CHECKING:
    from xlsxwriter.format import Format
    from xlsxwriter.workbook import Workbook
    from xlsxwriter.worksheet import Worksheet


@dataclass(frozen=True)
class Styles:
    """The workbook's cell formats."""

    head: Format
    num1: Format
    num3: Format
    num4: Format
    pct: Format
    signed_pct: Format
    wrap: Format
    title: Format


def render_xlsx(context: Mapping[str, Any]) -> bytes:
    """Workbook: ranking, indicators (raw, normalised, contribution), sensitivity, benefits, method;
    with groups a group-score sheet and with data treatment a sheet of what it changed."""
    import xlsxwriter

    buf = io.BytesIO()
    with language(context["lang"]):
        wb = xlsxwriter.Workbook(buf, {"in_memory": True})
        wb.set_properties({"title": context["title"], "subject": context["framework"]["id"]})
        styles = _styles(wb)
        _ranking_sheet(wb, context, styles)
        _indicators_sheet(wb, context, styles)
        _sensitivity_sheet(wb, context, styles)
        _benefits_sheet(wb, context, styles)
        _method_sheet(wb, context, styles)
        if context.get("groups"):
            _groups_sheet(wb, context, styles)
        if context.get("treatment"):
            _treatment_sheet(wb, context, styles)
        wb.close()
    return buf.getvalue()


def _styles(wb: Workbook) -> Styles:
    """The formats, added to the workbook in this order (keyword arguments are evaluated in order)."""
    return Styles(
        head=wb.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1, "text_wrap": True, "valign": "top"}),
        num1=wb.add_format({"num_format": "0.0"}),
        num3=wb.add_format({"num_format": "0.000"}),
        num4=wb.add_format({"num_format": "0.0000"}),
        pct=wb.add_format({"num_format": "0%"}),
        signed_pct=wb.add_format({"num_format": "+0%;-0%;0%"}),
        wrap=wb.add_format({"text_wrap": True, "valign": "top"}),
        title=wb.add_format({"bold": True, "font_size": 14}),
    )


def _header(ws: Worksheet, row: int, names: list[str], styles: Styles) -> None:
    for col, name in enumerate(names):
        ws.write(row, col, name, styles.head)


def _ranking_sheet(wb: Workbook, context: Mapping[str, Any], styles: Styles) -> None:
    rows = context["rows"]
    grades = context["grade_order"]
    ws = wb.add_worksheet(_("Ranking"))
    _header(
        ws,
        0,
        [_("Rank"), _("Code"), _("Region"), _("Score"), _("Grade"), _("Rank interval 5%"), _("Rank interval 95%"),
         _("Median rank")]
        + [_("P(grade %(grade)s)", grade=g) for g in grades]
        + [_("Quota change"), _("Simplified procedure"), _("Warning"), _("Withdrawal of designation proposed"),
           _("Missing indicators")],
        styles,
    )  # fmt: skip
    for i, r in enumerate(rows, start=1):
        probs = dict(r["grade_probability"])
        values = [r["rank"], r["code"], r["name"], r["score"], r["grade"], *r["rank_interval"], r["median_rank"]]
        ws.write_row(i, 0, values)
        ws.write_number(i, 3, r["score"], styles.num1)
        for j, g in enumerate(grades):
            ws.write_number(i, 8 + j, probs.get(g, 0.0), styles.pct)
        col = 8 + len(grades)
        b = r["benefit"]
        ws.write_number(i, col, b["quota_change"], styles.signed_pct)
        ws.write_boolean(i, col + 1, bool(b.get("simplified_procedure")))
        ws.write_boolean(i, col + 2, bool(b.get("warning")))
        ws.write_boolean(i, col + 3, bool(b.get("withdraw_designation")))
        ws.write(i, col + 4, ", ".join(r["missing_indicators"]))
    ws.freeze_panes(1, 3)
    ws.set_column(0, 1, 6)
    ws.set_column(2, 2, 26)
    ws.set_column(3, 8 + len(grades) + 4, 12)
    ws.autofilter(0, 0, max(len(rows), 1), 8 + len(grades) + 4)
    if context["excluded"]:
        at = len(rows) + 2
        ws.write(at, 0, _("Left out for missing values"), styles.head)
        for k, e in enumerate(context["excluded"], start=1):
            ws.write_row(at + k, 0, [e["code"], e["name"], ", ".join(e["indicators"])])


def _indicators_sheet(wb: Workbook, context: Mapping[str, Any], styles: Styles) -> None:
    head = styles.head
    ws = wb.add_worksheet(_("Indicators"))
    ws.write_row(1, 0, [_("Rank"), _("Code"), _("Region")], head)
    ws.write(0, 0, "", head)
    ws.merge_range(0, 0, 0, 2, "", head)
    for j, ind in enumerate(context["indicators"]):
        c = 3 + 3 * j
        ws.merge_range(0, c, 0, c + 2, f"{ind['label']} ({ind['id']})", head)
        ws.write_row(1, c, [_("Raw value"), _("Normalised (0–100)"), _("Contribution to score")], head)
    for i, r in enumerate(context["rows"], start=2):
        ws.write_row(i, 0, [r["rank"], r["code"], r["name"]])
        for j, p in enumerate(r["indicators"]):
            c = 3 + 3 * j
            for k, (value, fmt) in enumerate(
                ((p["raw"], styles.num4), (p["normalised"], styles.num3), (p["contribution"], styles.num3))
            ):
                if value is None:
                    ws.write_blank(i, c + k, None)
                else:
                    ws.write_number(i, c + k, value, fmt)
    ws.freeze_panes(2, 3)
    ws.set_row(0, 32)
    ws.set_row(1, 32)
    ws.set_column(2, 2, 26)
    ws.set_column(3, 2 + 3 * len(context["indicators"]), 13)


def _sensitivity_sheet(wb: Workbook, context: Mapping[str, Any], styles: Styles) -> None:
    ws = wb.add_worksheet(_("Sensitivity"))
    sens = context["sensitivity"]
    ws.write(0, 0, _("Uncertainty and sensitivity analysis"), styles.title)
    ws.merge_range(1, 0, 1, 6, sens["text"], styles.wrap)
    ws.set_row(1, 90)
    _header(ws, 3, [_("Factor"), _("First-order index"), _("Total index")], styles)
    for i, s in enumerate(sens["sobol"], start=4):
        ws.write(i, 0, s["label"])
        for k, key in enumerate(("first_order", "total_order"), start=1):
            if s[key] is None:
                ws.write_blank(i, k, None)
            else:
                ws.write_number(i, k, s[key], styles.num4)
    at = 5 + len(sens["sobol"])
    _header(ws, at, [_("Rank"), _("Region"), _("Rank interval 5%"), _("Rank interval 95%"), _("Median rank"),
                     _("Grade probability"), _("Most sensitive to")], styles)  # fmt: skip
    for i, (r, pr) in enumerate(zip(context["rows"], sens["per_region"], strict=True), start=at + 1):
        ws.write_row(
            i,
            0,
            [
                r["rank"],
                r["name"],
                *r["rank_interval"],
                r["median_rank"],
                r["grade_probability_text"],
                pr["most_sensitive"],
            ],
        )
    ws.set_column(0, 0, 30)
    ws.set_column(1, 1, 24)
    ws.set_column(2, 4, 12)
    ws.set_column(5, 6, 28)


def _benefits_sheet(wb: Workbook, context: Mapping[str, Any], styles: Styles) -> None:
    ws = wb.add_worksheet(_("Benefits"))
    _header(ws, 0, [_("Grade"), _("Score band"), _("Quota change"), _("Simplified procedure"), _("Warning"),
                    _("Withdrawal of designation proposed"), _("Regions"), _("Number of regions")], styles)  # fmt: skip
    for i, b in enumerate(context["bands"], start=1):
        ws.write_row(i, 0, [b["grade"], b["range_text"]])
        ws.write_number(i, 2, b["quota_change"], styles.signed_pct)
        ws.write_row(
            i, 3, [b["simplified_procedure"], b["warning"], b["withdraw_designation"], b["regions"], b["count"]]
        )
    ws.set_column(0, 0, 8)
    ws.set_column(1, 5, 16)
    ws.set_column(6, 6, 60)


def _method_sheet(wb: Workbook, context: Mapping[str, Any], styles: Styles) -> None:
    ws = wb.add_worksheet(_("Method"))
    ws.write(0, 0, context["title"], styles.title)
    run = context["run"]
    facts = [
        (_("Framework"), f"{context['framework']['id']} ({context['subtitle']})"),
        (_("Evaluation year"), context["year"]),
        (_("Aggregation"), context["aggregation"]["text"]),
        (_("Ranking"), context["ranking_rule"]),
        (_("Grades"), context["grade_rule"]),
        (_("Missing data"), context["missing"]["text"]),
        (_("Sensitivity"), context["sensitivity"]["text"]),
        (_("Framework SHA-256"), run["framework_sha256"]),
        (_("Framework file"), f"{run['framework_file']} {run['framework_file_sha256']}".strip()),
        (_("Input data SHA-256"), run["inputs_sha256"]),
        (_("Run record format"), run["format"]),
        (_("Software"), run["software"]),
        (_("Notes"), context["framework"]["notes"]),
    ]
    for i, (key, value) in enumerate(facts, start=2):
        ws.write(i, 0, key, styles.head)
        ws.write(i, 1, value, styles.wrap)
    at = len(facts) + 3
    _header(ws, at, [_("Indicator"), _("Source"), _("Direction"), _("Weight"), _("Weight share"), _("Normalisation"),
                     _("Rationale")], styles)  # fmt: skip
    for i, ind in enumerate(context["indicators"], start=at + 1):
        ws.write_row(i, 0, [ind["label"], ind["source_text"], ind["direction_text"], ind["weight"]])
        ws.write_number(i, 4, ind["weight_share"], styles.pct)
        ws.write(i, 5, ind["normalise_text"], styles.wrap)
        ws.write(i, 6, ind["rationale"], styles.wrap)
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 70)
    ws.set_column(2, 5, 18)
    ws.set_column(6, 6, 80)


def _groups_sheet(wb: Workbook, context: Mapping[str, Any], styles: Styles) -> None:
    """Each region's group scores, then the groups: parent, weight, shares, aggregation, members."""
    groups = context["groups"]
    ws = wb.add_worksheet(_("Groups"))
    _header(ws, 0, [_("Rank"), _("Code"), _("Region"), *groups["columns"], _("Score")], styles)
    for i, r in enumerate(context["rows"], start=1):
        ws.write_row(i, 0, [r["rank"], r["code"], r["name"]])
        for j, g in enumerate(r["groups"]):
            if g["score"] is None:
                ws.write_blank(i, 3 + j, None)
            else:
                ws.write_number(i, 3 + j, g["score"], styles.num3)
        ws.write_number(i, 3 + len(r["groups"]), r["score"], styles.num3)
    at = len(context["rows"]) + 2
    _header(ws, at, [_("Group"), _("Part of"), _("Weight"), _("Share among siblings"), _("Share of the score"),
                     _("Aggregation"), _("Members")], styles)  # fmt: skip
    for i, g in enumerate(groups["entries"], start=at + 1):
        ws.write_row(
            i, 0, [g["label"], g["parent"], g["weight"], g["sibling_share_text"], g["share_text"], g["method_text"],
                   g["members"]]
        )  # fmt: skip
    ws.freeze_panes(1, 3)
    ws.set_column(0, 1, 18)
    ws.set_column(2, 2, 26)
    ws.set_column(3, 3 + len(groups["columns"]), 14)


def _treatment_sheet(wb: Workbook, context: Mapping[str, Any], styles: Styles) -> None:
    """What the data treatment changed: the rules, each imputed value, each transformed value."""
    t = context["treatment"]
    ws = wb.add_worksheet(_("Data treatment"))
    ws.write(0, 0, _("Data treatment"), styles.title)
    ws.merge_range(1, 0, 1, 4, f"{t['coverage_text']} {t['impute_text']}".strip(), styles.wrap)
    row = 3
    _header(ws, row, [_("Region"), _("Indicator"), _("Imputed by"), _("Value used")], styles)
    for c in t["imputed"]:
        row += 1
        ws.write_row(row, 0, [c["name"], c["indicator"], c["method"]])
        ws.write_number(row, 3, c["value"], styles.num4)
    row += 2
    _header(ws, row, [_("Indicator"), _("Region"), _("Raw value"), _("Value used"), _("Method")], styles)
    for tr in t["transforms"]:
        if not tr["points"]:
            row += 1
            ws.write_row(row, 0, [tr["indicator"], "", "", "", tr["text"]])
        for pt in tr["points"]:
            row += 1
            ws.write_row(row, 0, [tr["indicator"], pt["name"]])
            ws.write_number(row, 2, pt["from"], styles.num4)
            ws.write_number(row, 3, pt["to"], styles.num4)
            ws.write(row, 4, tr["text"], styles.wrap)
    ws.set_column(0, 1, 26)
    ws.set_column(2, 3, 14)
    ws.set_column(4, 4, 80)
