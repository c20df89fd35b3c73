"""The annual evaluation report: one context, rendered as HTML, PDF (WeasyPrint) and XLSX.

`build_context(result, framework, lang)` turns a §4.5 result (as returned by
`evaluation.compute.evaluate`) into everything a reader needs, already translated and with the
charts drawn; `render_html`, `render_pdf` and `render_xlsx` only lay it out, so the three files
and the web page (which reuses `build_context` and the `reports/_evaluation_body.html` partial)
cannot disagree.

The templates are rendered by a small Jinja2 environment of this module rather than the web
one: it offers the same `_`, `number`, `percent` and `local`, and it finds the shared
`_tilemap.html`, but it does not import FastAPI, which would add a second to every CLI run.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.numbers import format_decimal, format_percent
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from regionvisa.evaluation.compute import contributions, dumps
from regionvisa.evaluation.framework import Framework
from regionvisa.regions.tilemap import TILE_POSITIONS, tile_grid
from regionvisa.reports import charts, fonts
from regionvisa.reports.files import write_atomic
from regionvisa.web import i18n
from regionvisa.web.i18n import gettext as _

PACKAGE_DIR = Path(__file__).resolve().parents[1]
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
REGIONS_CSV = PACKAGE_DIR / "regions" / "data" / "regions.csv"
FORMATS = (".json", ".html", ".pdf", ".xlsx")

# The usual two-syllable short forms, for tiles and chart axes where full names do not fit.
SHORT_KO = {
    "11": "서울", "26": "부산", "27": "대구", "28": "인천", "29": "광주", "30": "대전", "31": "울산",
    "36": "세종", "41": "경기", "43": "충북", "44": "충남", "46": "전남", "47": "경북", "48": "경남",
    "50": "제주", "51": "강원", "52": "전북",
}  # fmt: skip


# --------------------------------------------------------------------------------------------
# Language, names and number formats


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


def _num(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    fmt = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=fmt, locale=i18n.current_language.get())


def _pct(fraction: float, digits: int = 0, *, signed: bool = False) -> str:
    body = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    fmt = f"+{body};-{body}" if signed else body
    text = format_percent(fraction, format=fmt, locale=i18n.current_language.get())
    return "±0%" if signed and fraction == 0 else text.replace("-", "−")


# --------------------------------------------------------------------------------------------
# Texts generated from the framework


def _benefit_parts(benefit: Mapping[str, Any]) -> list[str]:
    parts = [_("Quota %(change)s", change=_pct(benefit["quota_change"], signed=True))]
    if benefit.get("simplified_procedure"):
        parts.append(_("simplified procedure"))
    if benefit.get("warning"):
        parts.append(_("warning"))
    if benefit.get("withdraw_designation"):
        parts.append(_("withdrawal of designation proposed"))
    return parts


def _benefit_text(benefit: Mapping[str, Any]) -> str:
    return " · ".join(_benefit_parts(benefit))


def _normalise_text(method: str, low: float | None = None, high: float | None = None) -> str:
    if method == "minmax":
        return _("Min–max over the evaluated regions: worst 0, best 100")
    if method == "goalposts":
        return _("Goalposts %(low)s to %(high)s: a fixed scale, clipped to 0–100", low=_num(low, 0), high=_num(high, 0))
    if method == "zscore":
        return _("z-score: 50 + 10 × standardised value (not clipped)")
    if method == "rank":
        return _("Rank: share of the other regions with a worse value, 0–100")
    return method


def _method_name(method: str) -> str:
    names = {"minmax": _("min–max"), "goalposts": _("goalposts"), "zscore": _("z-score"), "rank": _("rank")}
    return names.get(method, method)


def _aggregation_text(method: str) -> str:
    if method == "geometric":
        return _(
            "Weighted geometric mean of the normalised values, Π max(nᵢ, 1)^(wᵢ/Σw): a weak indicator "
            "is only partly made up for by a strong one."
        )
    return _(
        "Weighted arithmetic mean of the normalised values, Σ wᵢ·nᵢ / Σ wᵢ: each indicator adds its "
        "weight share of its normalised value."
    )


def _missing_text(policy: str) -> str:
    if policy == "exclude":
        return _("A region with a missing indicator value is left out of the evaluation: no score, rank or grade.")
    return _(
        "A missing indicator value is dropped for that region only, and its other indicators' weights are "
        "rescaled so that they keep their proportions. Such regions are marked † in the ranking."
    )


def _grade_probability_parts(probabilities: Mapping[str, float], order: list[str]) -> list[str]:
    return [f"{g} {_pct(probabilities[g])}" for g in order if probabilities.get(g)]


# --------------------------------------------------------------------------------------------
# Context


def build_context(result: Mapping[str, Any], framework: Framework, lang: str = "ko") -> dict[str, Any]:
    """Everything the report shows, translated into `lang`, with charts as inline SVG (Markup).

    Public because the web result page renders the same context with the same partial template.
    Keys: lang, title, subtitle, year, framework, summary, how_to_read, rows (ranked regions with
    their indicators, contributions and card chart), excluded, indicators, grade_order, bands,
    aggregation, ranking_rule, grade_rule, missing, sensitivity, run, maps, charts.
    """
    with language(lang) as lang:
        labels = {ind.id: ind.label_in(lang) for ind in framework.indicators}
        missing_regions: Mapping[str, Any] = result.get("missing", {}).get("regions", {})
        indicators = _indicator_entries(framework, lang)
        rows = _ranked_rows(result, framework, lang, labels, missing_regions)
        bands = _bands(framework, rows)
        sensitivity = _sensitivity(result, framework, rows, labels)
        excluded = [
            {
                "code": code,
                "name": region_name(code, lang),
                "indicators": [labels.get(i, i) for i in info["indicators"]],
            }
            for code, info in sorted(missing_regions.items())
            if info.get("action") == "excluded"
        ]
        missing_actions = [
            {
                "name": region_name(code, lang),
                "action": _("reweighted") if info.get("action") == "reweighted" else _("excluded"),
                "indicators": ", ".join(labels.get(i, i) for i in info.get("indicators", [])),
            }
            for code, info in sorted(missing_regions.items())
        ]
        year = result.get("year", framework.year)
        return {
            "lang": lang,
            "title": _("Region-led visa pilot: regional evaluation %(year)s", year=year),
            "subtitle": i18n.local(framework.title.model_dump(), lang) if framework.title else "",
            "year": year,
            "framework": {
                "id": framework.id,
                "year": framework.year,
                "notes": i18n.local(framework.notes.model_dump(), lang) if framework.notes else "",
                "references": list(framework.references),
            },
            "summary": _summary(framework, rows, bands, excluded, sensitivity),
            "how_to_read": _how_to_read(len(indicators), sensitivity),
            "rows": rows,
            "excluded": excluded,
            "indicators": indicators,
            "grade_order": [g.grade for g in framework.grades],
            "bands": bands,
            "aggregation": {
                "method": framework.aggregate.method,
                "text": _aggregation_text(framework.aggregate.method),
            },
            "ranking_rule": _("Rank 1 is the best score; equal scores share the better rank (1, 2, 2, 4)."),
            "grade_rule": _("A region's grade is the first band, from the top, whose lower bound its score reaches."),
            "missing": {
                "policy": framework.missing.policy,
                "text": _missing_text(framework.missing.policy),
                "actions": missing_actions,
            },
            "sensitivity": sensitivity,
            "run": _run_digest(result, framework, len(rows)),
            "maps": _maps(rows, indicators, lang),
            "charts": _charts(rows, indicators, sensitivity),
        }


def _grade_class(framework: Framework, grade: str) -> str:
    """CSS class by band position (best = 0), so any grade names get the same colour scale."""
    names = [g.grade for g in framework.grades]
    return f"grade-{min(names.index(grade), 4)}" if grade in names else "grade-4"


def _indicator_entries(framework: Framework, lang: str) -> list[dict[str, Any]]:
    total_weight = sum(ind.weight for ind in framework.indicators)
    return [
        {
            "id": ind.id,
            "label": ind.label_in(lang),
            "colour": charts.colour(i),
            "source": ind.source,
            "source_text": _("Committee score") if ind.source == "committee" else _("Computed from the records"),
            "direction": ind.direction,
            "direction_text": _("Higher is better") if ind.direction == 1 else _("Lower is better"),
            "weight": ind.weight,
            "weight_share": ind.weight / total_weight,
            "weight_share_text": _pct(ind.weight / total_weight),
            "normalise": ind.normalise.method,
            "normalise_text": _normalise_text(ind.normalise.method, ind.normalise.low, ind.normalise.high),
            "rationale": i18n.local(ind.rationale.model_dump(), lang) if ind.rationale else "",
        }
        for i, ind in enumerate(framework.indicators)
    ]


def _ranked_rows(
    result: Mapping[str, Any],
    framework: Framework,
    lang: str,
    labels: Mapping[str, str],
    missing_regions: Mapping[str, Any],
) -> list[dict[str, Any]]:
    grade_order = [g.grade for g in framework.grades]
    rows = []
    for e in result["regions"]:
        code = e["region"]
        parts = contributions(framework, e)
        gaps = missing_regions.get(code, {})
        probabilities = e["grade_probability"]
        rows.append(
            {
                "rank": e["rank"],
                "code": code,
                "name": region_name(code, lang),
                "short": region_name(code, lang, short=True),
                "score": e["score"],
                "grade": e["grade"],
                "grade_class": _grade_class(framework, e["grade"]),
                "rank_interval": list(e["rank_interval"]),
                "median_rank": e["median_rank"],
                "grade_probability": [(g, probabilities[g]) for g in grade_order if probabilities.get(g)],
                "grade_probability_parts": _grade_probability_parts(probabilities, grade_order),
                "grade_probability_text": " · ".join(_grade_probability_parts(probabilities, grade_order)),
                "benefit": dict(e["benefit"]),
                "benefit_parts": _benefit_parts(e["benefit"]),
                "benefit_text": _benefit_text(e["benefit"]),
                "reweighted": gaps.get("action") == "reweighted",
                "missing_indicators": [labels.get(i, i) for i in gaps.get("indicators", [])],
                "indicators": [
                    {
                        "id": ind.id,
                        "label": labels[ind.id],
                        "raw": e["indicators"][ind.id]["raw"],
                        "normalised": e["indicators"][ind.id]["normalised"],
                        "contribution": parts[ind.id],
                    }
                    for ind in framework.indicators
                ],
            }
        )
    return rows


def _bands(framework: Framework, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Grade bands with their benefits and the regions that fell in each."""
    bands = []
    for i, band in enumerate(framework.grades):
        upper = framework.grades[i - 1].min_score if i else None
        benefit = framework.benefits[band.grade]
        members = [r["name"] for r in rows if r["grade"] == band.grade]
        low = _num(band.min_score, 0)
        bands.append(
            {
                "grade": band.grade,
                "grade_class": _grade_class(framework, band.grade),
                "min_score": band.min_score,
                "range_text": _("%(low)s or more", low=low)
                if upper is None
                else _("%(low)s to under %(high)s", low=low, high=_num(upper, 0)),
                "quota_change": benefit.quota_change,
                "quota_change_text": _pct(benefit.quota_change, signed=True),
                "simplified_procedure": benefit.simplified_procedure,
                "warning": benefit.warning,
                "withdraw_designation": benefit.withdraw_designation,
                "benefit_text": _benefit_text(benefit.as_result()),
                "count": len(members),
                "regions": ", ".join(members),
            }
        )
    return bands


def _sensitivity(
    result: Mapping[str, Any], framework: Framework, rows: list[dict[str, Any]], labels: Mapping[str, str]
) -> dict[str, Any]:
    """The settings actually used (from the run record, else the framework) and the Sobol results."""
    sens = result.get("sensitivity", {})
    step = next((s for s in result.get("run", {}).get("steps", []) if s.get("step") == "sensitivity"), {})
    settings = framework.sensitivity
    draws = step.get("draws", sens.get("draws", settings.draws))
    seed = step.get("seed", settings.seed)
    noise = step.get("weight_noise", settings.weight_noise)
    methods = [_method_name(m) for m in step.get("normalise_alternatives", settings.normalise_alternatives)]
    factor_label = {**labels, "normalise_method": _("Normalisation method")}
    ranking = sens.get("ranking", {})
    most = sens.get("most_sensitive_indicator")
    per_region = sens.get("regions", {})
    return {
        "draws": draws,
        "seed": seed,
        "weight_noise": noise,
        "alternatives": methods,
        "text": _(
            "Monte Carlo with %(draws)s draws (seed %(seed)s): each weight is drawn as w·(1 + u) with u uniform "
            "in ±%(noise)s, and one normalisation method, used for every indicator, is drawn from: %(methods)s. "
            "The rank interval is the 5th to 95th percentile of a region's rank over the draws; the grade "
            "probability is the share of draws giving each grade. First-order and total Sobol indices "
            "(Saltelli design) say how much of the variation in the ranks each uncertain choice explains.",
            draws=_num(draws, 0),
            seed=seed,
            noise=_pct(noise),
            methods=", ".join(methods),
        ),
        "sobol": [
            {
                "factor": f,
                "label": factor_label.get(f, f),
                "first_order": ranking.get("first_order", {}).get(f),
                "total_order": ranking.get("total_order", {}).get(f),
            }
            for f in sens.get("factors", [])
        ],
        "most_sensitive": factor_label.get(most, most) if most else None,
        "per_region": [
            {
                "name": r["name"],
                "most_sensitive": factor_label.get(m, m)
                if (m := per_region.get(r["code"], {}).get("most_sensitive_indicator"))
                else "–",
            }
            for r in rows
        ],
    }


def _run_digest(result: Mapping[str, Any], framework: Framework, n_rows: int) -> dict[str, Any]:
    """What identifies the run: framework and input hashes, format and software versions."""
    run = result.get("run", {})
    fw_run = run.get("framework", {})
    inputs = run.get("inputs", {})
    source = fw_run.get("source") or framework.source or {}
    return {
        "format": run.get("format", ""),
        "framework_id": framework.id,
        "framework_sha256": fw_run.get("sha256") or framework.digest(),
        "framework_file": source.get("file", ""),
        "framework_file_sha256": source.get("sha256", ""),
        "inputs_sha256": inputs.get("sha256", ""),
        "regions": len(inputs.get("regions", [])) or n_rows,
        "software": ", ".join(f"{k} {v}" for k, v in run.get("software", {}).items()),
    }


def _charts(
    rows: list[dict[str, Any]], indicators: list[dict[str, Any]], sensitivity: dict[str, Any]
) -> dict[str, Any]:
    """The report-wide charts; also puts each region's own breakdown chart on its row (`chart`)."""
    breakdown = charts.breakdown_chart(
        [(r["short"], [p["contribution"] for p in r["indicators"]], r["score"]) for r in rows],
        [i["label"] for i in indicators],
        xlabel=_("Score (0–100): each segment is one indicator's contribution"),
    )
    rank_interval = charts.rank_interval_chart(
        [(r["short"], r["rank"], r["median_rank"], *r["rank_interval"]) for r in rows],
        max(len(rows), 1),
        xlabel=_("Rank (1 = best)"),
        interval_label=_("Rank interval (5th–95th percentile)"),
        median_label=_("Median rank"),
        rank_label=_("Published rank"),
    )
    sobol = sensitivity["sobol"]
    sobol_svg = (
        charts.sensitivity_chart(
            [s["label"] for s in sobol],
            [s["first_order"] for s in sobol],
            [s["total_order"] for s in sobol],
            first_label=_("First-order index"),
            total_label=_("Total index"),
            xlabel=_("Share of the variance of the ranks"),
        )
        if sobol
        else None
    )
    maxima = [100.0 * i["weight_share"] for i in indicators]
    for r in rows:
        svg = charts.region_chart(
            [p["contribution"] for p in r["indicators"]],
            maxima,
            missing_text=_("no value"),
            prefix=f"region-{r['code']}",
        )
        r["chart"] = Markup(svg)
    return {
        "breakdown": Markup(breakdown),
        "rank_interval": Markup(rank_interval),
        "sensitivity": Markup(sobol_svg) if sobol_svg else None,
    }


def _maps(rows: list[dict[str, Any]], indicators: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """One tile map per indicator, of normalised values: the direction is already applied, so darker
    is better on every map. Regions not in the result show as empty tiles."""
    tile_labels = {code: region_name(code, lang, short=True) for code in TILE_POSITIONS}
    maps = []
    for k, ind in enumerate(indicators):
        values = {r["code"]: r["indicators"][k]["normalised"] for r in rows}
        tiles, legend, width, height = tile_grid(values, tile_labels, fmt=lambda v: f"{v:.0f}")
        maps.append(
            {
                "map_id": f"map-{ind['id']}",
                "map_title": ind["label"],
                "map_desc": _(
                    "Tile map of the 17 regions: normalised %(indicator)s, 0–100; darker is better.",
                    indicator=ind["label"],
                ),
                "tiles": tiles,
                "legend": legend,
                "width": width,
                "height": height,
                "direction_text": ind["direction_text"],
            }
        )
    return maps


def _summary(
    framework: Framework,
    rows: list[dict[str, Any]],
    bands: list[dict[str, Any]],
    excluded: list[dict[str, Any]],
    sensitivity: dict[str, Any],
) -> list[str]:
    """The handful of facts a minister needs first."""
    lines = [
        _("%(n)s regions evaluated with framework %(framework)s.", n=len(rows), framework=framework.id),
        _("Grades: %(grades)s.", grades=", ".join(f"{b['grade']} {b['count']}" for b in bands)),
    ]
    if rows:
        best = rows[0]
        lines.append(
            _(
                "Highest score: %(region)s, %(score)s (grade %(grade)s).",
                region=best["name"],
                score=_num(best["score"]),
                grade=best["grade"],
            )
        )
    warned = [r["name"] for r in rows if r["benefit"].get("warning") or r["benefit"].get("withdraw_designation")]
    lines.append(
        _("Regions with a warning: %(regions)s.", regions=", ".join(warned))
        if warned
        else _("No region has a warning.")
    )
    if sensitivity["most_sensitive"]:
        lines.append(
            _(
                "Among the indicators, the ranking is most sensitive to %(indicator)s.",
                indicator=sensitivity["most_sensitive"],
            )
        )
    if excluded:
        lines.append(_("Left out for missing values: %(regions)s.", regions=", ".join(e["name"] for e in excluded)))
    return lines


def _how_to_read(n_indicators: int, sensitivity: dict[str, Any]) -> list[str]:
    return [
        _(
            "The score runs from 0 to 100. Each of the %(n)s indicators is first put on a 0–100 scale, where "
            "100 is best whatever the indicator's direction, and the scores combine them with the weights "
            "shown in the method section.",
            n=n_indicators,
        ),
        _(
            "The grade follows from the score through fixed bands, and the grade decides the benefit: a larger "
            "or smaller quota, the simplified procedure, or a warning."
        ),
        _(
            "The weights are a proposal, not a fixed rule. The rank interval shows where a region lands in nine "
            "out of ten of %(draws)s re-runs with the weights moved by up to ±%(noise)s and other normalisation "
            "methods. A narrow interval means a robust rank; when two regions' intervals overlap, the evaluation "
            "cannot honestly tell them apart.",
            draws=_num(sensitivity["draws"], 0),
            noise=_pct(sensitivity["weight_noise"]),
        ),
        _(
            "The grade probability says how often those re-runs gave each grade. A region whose own grade has "
            "a low probability sits close to a band boundary."
        ),
        _(
            "The score breakdown shows what each indicator contributed, and the maps show each indicator "
            "region by region: they point to what a region can improve."
        ),
        _(
            "The method section lists every setting, and the run digest identifies the framework and the "
            "input data, so anyone can reproduce the result exactly."
        ),
    ]


# --------------------------------------------------------------------------------------------
# HTML and PDF


def _number_filter(value, digits: int = 0) -> str:
    return _num(value, digits)


def _percent_filter(value, digits: int = 1) -> str:
    """`value` is already in percent (5.17 → 5.2%), as the web filter of the same name."""
    return "–" if value is None else _pct(value / 100, digits)


@lru_cache
def environment() -> Environment:
    """Report templates first, then the shared web templates (for `_tilemap.html`)."""
    dirs = [str(TEMPLATE_DIR), str(PACKAGE_DIR / "web" / "templates")]
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(dirs)]),
        autoescape=select_autoescape(["html", "svg", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
    env.filters["number"] = _number_filter
    env.filters["percent"] = _percent_filter
    env.filters["local"] = i18n.local
    return env


def report_css() -> str:
    return (TEMPLATE_DIR / "reports" / "report.css").read_text(encoding="utf-8")


def render_body(context: Mapping[str, Any]) -> str:
    """The report's sections without <html>/<head>, for embedding in a web page."""
    with language(context["lang"]):
        return environment().get_template("reports/_evaluation_body.html").render(context)


def render_html(context: Mapping[str, Any]) -> str:
    """A self-contained HTML document: inline CSS and SVG; the Korean font is referenced by file:// URL."""
    with language(context["lang"]):
        return (
            environment()
            .get_template("reports/evaluation.html")
            .render(
                {
                    **context,
                    "css": Markup(report_css()),
                    "font_face": Markup(fonts.font_face_css()),
                    "font_stack": Markup(fonts.CSS_STACK),
                }
            )
        )


def render_pdf(context: Mapping[str, Any]) -> bytes:
    """The same HTML laid out on A4 pages by WeasyPrint, with NanumGothic embedded."""
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    font_config = FontConfiguration()
    html = render_html(context)
    return HTML(string=html, base_url=str(TEMPLATE_DIR)).write_pdf(font_config=font_config)


# --------------------------------------------------------------------------------------------
# XLSX


def render_xlsx(context: Mapping[str, Any]) -> bytes:
    """Workbook: ranking, indicators (raw, normalised, contribution), sensitivity, benefits, method."""
    import xlsxwriter

    buf = io.BytesIO()
    with language(context["lang"]):
        wb = xlsxwriter.Workbook(buf, {"in_memory": True})
        wb.set_properties({"title": context["title"], "subject": context["framework"]["id"]})
        head = wb.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1, "text_wrap": True, "valign": "top"})
        num1 = wb.add_format({"num_format": "0.0"})
        num3 = wb.add_format({"num_format": "0.000"})
        num4 = wb.add_format({"num_format": "0.0000"})
        pct = wb.add_format({"num_format": "0%"})
        signed_pct = wb.add_format({"num_format": "+0%;-0%;0%"})
        wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        title_fmt = wb.add_format({"bold": True, "font_size": 14})
        rows = context["rows"]
        grades = context["grade_order"]

        def header(ws, row: int, names: list[str]) -> None:
            for col, name in enumerate(names):
                ws.write(row, col, name, head)

        ws = wb.add_worksheet(_("Ranking"))
        header(
            ws,
            0,
            [_("Rank"), _("Code"), _("Region"), _("Score"), _("Grade"), _("Rank interval 5%"), _("Rank interval 95%"),
             _("Median rank")]
            + [_("P(grade %(grade)s)", grade=g) for g in grades]
            + [_("Quota change"), _("Simplified procedure"), _("Warning"), _("Withdrawal of designation proposed"),
               _("Missing indicators")],
        )  # fmt: skip
        for i, r in enumerate(rows, start=1):
            probs = dict(r["grade_probability"])
            values = [r["rank"], r["code"], r["name"], r["score"], r["grade"], *r["rank_interval"], r["median_rank"]]
            ws.write_row(i, 0, values)
            ws.write_number(i, 3, r["score"], num1)
            for j, g in enumerate(grades):
                ws.write_number(i, 8 + j, probs.get(g, 0.0), pct)
            col = 8 + len(grades)
            b = r["benefit"]
            ws.write_number(i, col, b["quota_change"], signed_pct)
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
            ws.write(at, 0, _("Left out for missing values"), head)
            for k, e in enumerate(context["excluded"], start=1):
                ws.write_row(at + k, 0, [e["code"], e["name"], ", ".join(e["indicators"])])

        ws = wb.add_worksheet(_("Indicators"))
        ws.write_row(1, 0, [_("Rank"), _("Code"), _("Region")], head)
        ws.write(0, 0, "", head)
        ws.merge_range(0, 0, 0, 2, "", head)
        for j, ind in enumerate(context["indicators"]):
            c = 3 + 3 * j
            ws.merge_range(0, c, 0, c + 2, f"{ind['label']} ({ind['id']})", head)
            ws.write_row(1, c, [_("Raw value"), _("Normalised (0–100)"), _("Contribution to score")], head)
        for i, r in enumerate(rows, start=2):
            ws.write_row(i, 0, [r["rank"], r["code"], r["name"]])
            for j, p in enumerate(r["indicators"]):
                c = 3 + 3 * j
                for k, (value, fmt) in enumerate(
                    ((p["raw"], num4), (p["normalised"], num3), (p["contribution"], num3))
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

        ws = wb.add_worksheet(_("Sensitivity"))
        sens = context["sensitivity"]
        ws.write(0, 0, _("Uncertainty and sensitivity analysis"), title_fmt)
        ws.merge_range(1, 0, 1, 6, sens["text"], wrap)
        ws.set_row(1, 90)
        header(ws, 3, [_("Factor"), _("First-order index"), _("Total index")])
        for i, s in enumerate(sens["sobol"], start=4):
            ws.write(i, 0, s["label"])
            for k, key in enumerate(("first_order", "total_order"), start=1):
                if s[key] is None:
                    ws.write_blank(i, k, None)
                else:
                    ws.write_number(i, k, s[key], num4)
        at = 5 + len(sens["sobol"])
        header(ws, at, [_("Rank"), _("Region"), _("Rank interval 5%"), _("Rank interval 95%"), _("Median rank"),
                        _("Grade probability"), _("Most sensitive to")])  # fmt: skip
        for i, (r, pr) in enumerate(zip(rows, sens["per_region"], strict=True), start=at + 1):
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

        ws = wb.add_worksheet(_("Benefits"))
        header(ws, 0, [_("Grade"), _("Score band"), _("Quota change"), _("Simplified procedure"), _("Warning"),
                       _("Withdrawal of designation proposed"), _("Regions"), _("Number of regions")])  # fmt: skip
        for i, b in enumerate(context["bands"], start=1):
            ws.write_row(i, 0, [b["grade"], b["range_text"]])
            ws.write_number(i, 2, b["quota_change"], signed_pct)
            ws.write_row(
                i, 3, [b["simplified_procedure"], b["warning"], b["withdraw_designation"], b["regions"], b["count"]]
            )
        ws.set_column(0, 0, 8)
        ws.set_column(1, 5, 16)
        ws.set_column(6, 6, 60)

        ws = wb.add_worksheet(_("Method"))
        ws.write(0, 0, context["title"], title_fmt)
        run = context["run"]
        facts = [
            (_("Framework"), f"{context['framework']['id']} ({context['subtitle']})"),
            (_("Evaluation year"), context["year"]),
            (_("Aggregation"), context["aggregation"]["text"]),
            (_("Ranking"), context["ranking_rule"]),
            (_("Grades"), context["grade_rule"]),
            (_("Missing data"), context["missing"]["text"]),
            (_("Sensitivity"), sens["text"]),
            (_("Framework SHA-256"), run["framework_sha256"]),
            (_("Framework file"), f"{run['framework_file']} {run['framework_file_sha256']}".strip()),
            (_("Input data SHA-256"), run["inputs_sha256"]),
            (_("Run record format"), run["format"]),
            (_("Software"), run["software"]),
            (_("Notes"), context["framework"]["notes"]),
        ]
        for i, (key, value) in enumerate(facts, start=2):
            ws.write(i, 0, key, head)
            ws.write(i, 1, value, wrap)
        at = len(facts) + 3
        header(ws, at, [_("Indicator"), _("Source"), _("Direction"), _("Weight"), _("Weight share"), _("Normalisation"),
                        _("Rationale")])  # fmt: skip
        for i, ind in enumerate(context["indicators"], start=at + 1):
            ws.write_row(i, 0, [ind["label"], ind["source_text"], ind["direction_text"], ind["weight"]])
            ws.write_number(i, 4, ind["weight_share"], pct)
            ws.write(i, 5, ind["normalise_text"], wrap)
            ws.write(i, 6, ind["rationale"], wrap)
        ws.set_column(0, 0, 28)
        ws.set_column(1, 1, 70)
        ws.set_column(2, 5, 18)
        ws.set_column(6, 6, 80)
        wb.close()
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# Files


def render(result: Mapping[str, Any], framework: Framework, fmt: str, lang: str = "ko") -> bytes:
    """The report in one of FORMATS ('.json', '.html', '.pdf', '.xlsx') as bytes."""
    fmt = fmt.lower()
    if fmt == ".json":
        return (dumps(result) + "\n").encode("utf-8")
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r} (expected one of {', '.join(FORMATS)})")
    context = build_context(result, framework, lang)
    if fmt == ".html":
        return render_html(context).encode("utf-8")
    if fmt == ".pdf":
        return render_pdf(context)
    return render_xlsx(context)


def write_report(result: Mapping[str, Any], framework: Framework, path: str | Path, lang: str = "ko") -> Path:
    """Render the report in the format named by the file's suffix and write it atomically."""
    path = Path(path)
    return write_atomic(path, render(result, framework, path.suffix, lang))
