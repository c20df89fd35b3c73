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

import numpy as np
from markupsafe import Markup

from regionvisa.evaluation.compute import COVERAGE_REASON, contributions, effective_shares, tree
from regionvisa.evaluation.framework import Framework
from regionvisa.regions.tilemap import TILE_POSITIONS, tile_grid
from regionvisa.reports import charts, evaluation_charts
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
    aggregation, ranking_rule, grade_rule, missing, sensitivity, run, maps, charts; with groups
    also `groups` (structure, group table, charts) and each row's `groups`; with treatment
    `treatment` (coverage, imputed values, transforms) — both None otherwise.
    """
    with language(lang) as lang:
        labels = {ind.id: ind.label_in(lang) for ind in framework.indicators}
        group_labels = {g.id: g.label_in(lang) for g in framework.groups}
        missing_regions: Mapping[str, Any] = result.get("missing", {}).get("regions", {})
        indicators = _indicator_entries(framework, lang)
        rows = _ranked_rows(result, framework, lang, labels, missing_regions)
        bands = _bands(framework, rows)
        sensitivity = _sensitivity(result, framework, rows, {**labels, **group_labels})
        excluded = [
            {
                "code": code,
                "name": region_name(code, lang),
                "indicators": [labels.get(i, i) for i in info["indicators"]],
                "reason": _excluded_reason(info),
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
            "groups": _groups(framework, rows, lang),
            "treatment": _treatment(result, framework, labels, lang),
        }


# --------------------------------------------------------------------------------------------
# Groups and treatment (§4.5 "Groups and transforms")


def _excluded_reason(info: Mapping[str, Any]) -> str:
    if info.get("reason") == COVERAGE_REASON:
        return _(
            "data coverage %(coverage)s is below the threshold of %(threshold)s",
            coverage=pct(info["coverage"]),
            threshold=pct(info["threshold"]),
        )
    if info.get("reason") == "no indicator values":
        return _("no indicator values")
    return _("missing values")


def _share_text(share: float) -> str:
    return _("%(share)s of the score", share=pct(share))


def _aggregation_name(method: str) -> str:
    return _("geometric mean") if method == "geometric" else _("arithmetic mean")


def _nodes(framework: Framework, lang: str) -> list[dict[str, Any]]:
    """The framework's tree depth-first from the top: each indicator and group with its depth,
    its weight share among its siblings and its share of the composite score."""
    n_ind = len(framework.indicators)
    order, top = tree(framework)
    members = dict(order)
    weights = [ind.weight for ind in framework.indicators] + [g.weight for g in framework.groups]
    nodes: list[dict[str, Any]] = []

    def walk(items: list[int], depth: int, share: float) -> None:
        total = sum(weights[m] for m in items)
        for m in items:
            sibling = weights[m] / total
            if m < n_ind:
                ind = framework.indicators[m]
                nodes.append(
                    {"id": ind.id, "label": ind.label_in(lang), "depth": depth, "group": False, "sibling": sibling,
                     "share": share * sibling}
                )  # fmt: skip
                continue
            g = framework.groups[m - n_ind]
            nodes.append(
                {"id": g.id, "label": g.label_in(lang), "depth": depth, "group": True, "sibling": sibling,
                 "share": share * sibling, "method": g.aggregate.method}
            )  # fmt: skip
            walk(members[m], depth + 1, share * sibling)

    walk(top, 0, 1.0)
    return nodes


def _node_lines(nodes: list[dict[str, Any]]) -> list[tuple[str, int, str, bool]]:
    return [(n["label"], n["depth"], f"{pct(n['sibling'])} · {_share_text(n['share'])}", n["group"]) for n in nodes]


def _groups(framework: Framework, rows: list[dict[str, Any]], lang: str) -> dict[str, Any] | None:
    """The structure (depth-first, each node's weight share among its siblings and of the score),
    one line per group, and the charts: the tree and every region's group scores."""
    if not framework.groups:
        return None
    n_ind = len(framework.indicators)
    members = dict(tree(framework)[0])
    nodes = _nodes(framework, lang)
    by_id = {n["id"]: n for n in nodes if n["group"]}
    labels = {g.id: g.label_in(lang) for g in framework.groups}
    entries = []
    for j, g in enumerate(framework.groups):
        node = by_id[g.id]
        entries.append(
            {
                "id": g.id,
                "label": labels[g.id],
                "parent": labels[g.parent] if g.parent else _("top level"),
                "weight": g.weight,
                "sibling_share_text": pct(node["sibling"]),
                "share_text": pct(node["share"]),
                "method_text": _aggregation_name(g.aggregate.method),
                "members": ", ".join(
                    framework.indicators[m].label_in(lang) if m < n_ind else framework.groups[m - n_ind].label_in(lang)
                    for m in members[n_ind + j]
                ),
                "rationale": i18n.local(g.rationale.model_dump(), lang) if g.rationale else "",
            }
        )
    columns = [labels[g.id] for g in framework.groups]
    structure = evaluation_charts.structure_chart(
        _node_lines(nodes),
        title=_("Composite score (%(method)s)", method=_aggregation_name(framework.aggregate.method)),
    )
    scores = evaluation_charts.group_scores_chart(
        [r["short"] for r in rows],
        [*columns, _("Score")],
        [[g["score"] for g in r["groups"]] + [r["score"]] for r in rows],
        missing_text=_("no value"),
    )
    return {
        "entries": entries,
        "columns": columns,
        "text": _(
            "Indicators are arranged in groups. A group's score is its own mean (arithmetic or geometric) of its "
            "members' normalised values or scores, with the members' weights relative to each other; the "
            "composite score combines the top-level members the same way. A member without a value is left out "
            "and its siblings' weights rescaled."
        ),
        "structure_chart": Markup(structure),
        "scores_chart": Markup(scores),
    }


def region_groups(entry: Mapping[str, Any], framework: Framework, lang: str = "ko") -> dict[str, Any] | None:
    """One region's place in a hierarchical framework, for its evaluation page: the tree with the
    region's normalised values and group scores, and its group scores as rows."""
    if not framework.groups:
        return None
    with language(lang) as lang:
        nodes = _nodes(framework, lang)
        groups = entry.get("groups", {})
        values = [
            groups.get(n["id"], {}).get("score") if n["group"] else entry["indicators"][n["id"]]["normalised"]
            for n in nodes
        ]
        chart = evaluation_charts.structure_chart(
            _node_lines(nodes),
            title=_("Composite score (%(method)s)", method=_aggregation_name(framework.aggregate.method))
            + f" {num(entry['score'], 1)}",
            values=values,
            missing_text=_("no value"),
            prefix=f"structure-{entry.get('region', 'region')}",
        )
        return {
            "chart": Markup(chart),
            "rows": [
                {"id": g.id, "label": g.label_in(lang), "score": groups.get(g.id, {}).get("score")}
                for g in framework.groups
            ],
        }


def _transform_text(record: Mapping[str, Any]) -> str:
    if record["method"] == "log":
        return _("Natural logarithm of the raw values; the goalposts are transformed the same way.")
    settings = record["settings"]
    base = _(
        "Winsorisation (COINr's rule): while the absolute skewness is at least %(skew)s and the kurtosis at least "
        "%(kurt)s, the most extreme value takes the next one, up to %(winmax)s points.",
        skew=num(settings["skewness"], 1),
        kurt=num(settings["kurtosis"], 1),
        winmax=settings["winmax"],
    )
    outcome = record.get("outcome", "")
    if outcome == "passed":
        return base + " " + _("The values passed the test; nothing was changed.")
    if outcome == "too few values":
        return base + " " + _("Too few values to test; nothing was changed.")
    if outcome.startswith("log_CT"):
        return (
            base
            + " "
            + _(
                "Winsorisation did not bring them within the limits, so ln(x − min + 0.01·(max − min)) replaced "
                "the original values."
            )
        )
    if outcome == "winsorised, did not pass":
        return base + " " + _("%(n)s point(s) were winsorised without reaching the limits.", n=record.get("points", 0))
    return base + " " + _("%(n)s point(s) were winsorised.", n=record.get("points", 0))


def _treatment(
    result: Mapping[str, Any], framework: Framework, labels: Mapping[str, str], lang: str
) -> dict[str, Any] | None:
    """What the run's data treatment changed, region by region, for the method section."""
    treatment = result.get("treatment")
    missing = framework.missing
    if treatment is None and missing.coverage <= 0:
        return None
    treatment = treatment or {}
    method_names = {"group_mean": _("group mean"), "previous_year": _("previous year's value")}
    imputed = [
        {
            "name": region_name(code, lang),
            "indicator": labels.get(ind, ind),
            "method": method_names.get(cell["method"], cell["method"]),
            "value": cell["value"],
        }
        for code, cells in sorted(treatment.get("imputed", {}).items())
        for ind, cell in cells.items()
    ]
    transforms = []
    for ind in framework.indicators:
        record = treatment.get("transforms", {}).get(ind.id)
        if record is None:
            continue
        transforms.append(
            {
                "indicator": labels[ind.id],
                "text": _transform_text(record),
                "points": [
                    {"name": region_name(code, lang), "from": moved["from"], "to": moved["to"]}
                    for code, moved in sorted(record.get("regions", {}).items())
                ],
            }
        )
    impute_text = {
        "none": _("Missing values are not imputed."),
        "group_mean": _("A missing value is imputed with the indicator's mean over the other regions of its group."),
        "previous_year": _("A missing value is imputed with the region's value of the year before, where it has one."),
    }[missing.impute]
    coverage_text = (
        _(
            "A region with values for fewer than %(threshold)s of the indicators is not ranked.",
            threshold=pct(missing.coverage),
        )
        if missing.coverage > 0
        else ""
    )
    return {"coverage_text": coverage_text, "impute_text": impute_text, "imputed": imputed, "transforms": transforms}


def _grade_class(framework: Framework, grade: str) -> str:
    """CSS class by band position (best = 0), so any grade names get the same colour scale."""
    names = [g.grade for g in framework.grades]
    return f"grade-{min(names.index(grade), 4)}" if grade in names else "grade-4"


def _indicator_entries(framework: Framework, lang: str) -> list[dict[str, Any]]:
    """The indicators; with groups the weight share is the indicator's share of the composite
    (its share among its siblings times its group's, up to the top)."""
    total_weight = sum(ind.weight for ind in framework.indicators)
    shares = (
        effective_shares(framework, np.ones(len(framework.indicators), dtype=bool)).tolist()
        if framework.groups
        else [ind.weight / total_weight for ind in framework.indicators]
    )
    groups = {g.id: g.label_in(lang) for g in framework.groups}
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
            "weight_share": shares[i],
            "weight_share_text": pct(shares[i]),
            "group": groups.get(ind.group, "") if ind.group else "",
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
                "groups": [
                    {"id": g.id, "label": g.label_in(lang), "score": e.get("groups", {}).get(g.id, {}).get("score")}
                    for g in framework.groups
                ],
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
    most_group = sens.get("most_sensitive_group")
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
        "most_sensitive_group": factor_label.get(most_group, most_group) if most_group else None,
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
        tiles, legend, width, height = tile_grid(values, tile_labels, lang=lang)
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
