"""The evaluation report's context: everything a reader needs from a §4.5 result, translated and
with the charts drawn.

`build_context(result, framework, lang)` is what every rendering lays out (HTML and PDF in
`evaluation_report`, XLSX in `evaluation_xlsx`, and the web result page with the
`reports/_evaluation_body.html` partial), so the files and the page cannot disagree. Nothing here
reads or writes files other than the packaged regions table and the font.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from markupsafe import Markup

from regionvisa.evaluation.compute import contributions
from regionvisa.evaluation.framework import Framework
from regionvisa.regions.tilemap import TILE_POSITIONS, tile_grid
from regionvisa.reports import charts
from regionvisa.reports.locale import language, num, pct, region_name
from regionvisa.web import i18n
from regionvisa.web.i18n import gettext as _

# --------------------------------------------------------------------------------------------
# Texts generated from the framework


def _benefit_parts(benefit: Mapping[str, Any]) -> list[str]:
    parts = [_("Quota %(change)s", change=pct(benefit["quota_change"], signed=True))]
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
        return _("Goalposts %(low)s to %(high)s: a fixed scale, clipped to 0–100", low=num(low, 0), high=num(high, 0))
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
    return [f"{g} {pct(probabilities[g])}" for g in order if probabilities.get(g)]


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
            "weight_share_text": pct(ind.weight / total_weight),
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
        low = num(band.min_score, 0)
        bands.append(
            {
                "grade": band.grade,
                "grade_class": _grade_class(framework, band.grade),
                "min_score": band.min_score,
                "range_text": _("%(low)s or more", low=low)
                if upper is None
                else _("%(low)s to under %(high)s", low=low, high=num(upper, 0)),
                "quota_change": benefit.quota_change,
                "quota_change_text": pct(benefit.quota_change, signed=True),
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
            draws=num(draws, 0),
            seed=seed,
            noise=pct(noise),
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
                score=num(best["score"]),
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
            draws=num(sensitivity["draws"], 0),
            noise=pct(sensitivity["weight_noise"]),
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
