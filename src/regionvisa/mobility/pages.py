"""Movement and retention pages (§4.9): the flows between regions (a table per region and visa,
a tile map with the largest moves as arrows, the origin → destination table) and each
programme's retention by cohort (a chart and its data table). Thin: `mobility.service` does the
work; everything is drawn on the server and works without JavaScript (GET forms, SVG). The
tables download as XLSX or CSV through the API (`mobility.router`)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import polars as pl
from fastapi import APIRouter, Depends, Request

from regionvisa.accounts.nav import register
from regionvisa.accounts.policy import ALL, Actor, grant
from regionvisa.core.errors import DomainError, Invalid
from regionvisa.mobility import charts, compute, service
from regionvisa.regions.service import region_names
from regionvisa.regions.tilemap import tile_grid
from regionvisa.reports.locale import region_name
from regionvisa.stats.service import data_as_of, records_present
from regionvisa.web import forms
from regionvisa.web.deps import require
from regionvisa.web.i18n import current_language, gettext
from regionvisa.web.labels import N_
from regionvisa.web.templating import render

router = APIRouter(include_in_schema=False)

register(N_("Movement between regions"), "/mobility/flows", action=service.READ, order=11)
register(N_("Retention of holders"), "/mobility/retention", action=service.READ, order=12)

FLOW_LABELS = {"from": N_("First day"), "to": N_("Last day"), "region": N_("Region")}
RETENTION_LABELS = {"on": N_("Reference date"), "program_id": N_("Programme"), "region": N_("Region")}


def _national(user: Actor) -> bool:
    return grant(user, service.READ) == ALL


def _choices(user: Actor, names: dict[str, str]) -> list[tuple[str, str]]:
    """The region picker (display only: the reads scope themselves)."""
    if _national(user):
        return sorted(names.items())
    return [(user.region, names[user.region])] if user.region else []


def _date(values: dict, name: str, default: dt.date) -> dt.date:
    text = (values.get(name) or "").strip()
    if not text:
        return default
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise Invalid(
            code="invalid_date",
            field=name,
            ko=f"'{text}'은(는) 날짜(YYYY-MM-DD)가 아닙니다",
            en=f"{text!r} is not a date (YYYY-MM-DD)",
        ) from None


def _region(values: dict) -> str | None:
    return (values.get("region") or "").strip() or None


def _export_links(path: str, query: dict) -> dict[str, str]:
    kept = {k: v for k, v in query.items() if v not in (None, "", False)}
    return {fmt: f"{path}?{urlencode({**kept, 'format': fmt})}" for fmt in ("xlsx", "csv")}


@router.get("/mobility/flows")
def flows_page(request: Request, user: Actor = Depends(require(service.READ))):
    engine = request.app.state.engine
    values = dict(request.query_params)
    lang = current_language.get()
    names = region_names(lang)
    context: dict = {
        "form": values,
        "choices": _choices(user, names),
        "national": _national(user),
        "names": names,
        "has_records": records_present(engine=engine),
        "errors": None,
    }
    if not context["has_records"]:
        return render(request, "mobility_flows.html", context)
    latest = data_as_of(engine=engine)
    try:
        end = _date(values, "to", latest)
        start = _date(values, "from", end - dt.timedelta(days=364))
        holders = values.get("holders") in ("1", "on", "true")
        region = _region(values)
        table, pairs = service.cached_flows(
            engine=engine, actor=user, start=start, end=end, holders=holders, region=region
        )
    except DomainError as exc:
        errors = forms.errors_from(exc, labels=FLOW_LABELS)  # 401/403/404 are raised again
        context.update(errors=errors)
        return render(request, "mobility_flows.html", context, status_code=errors.status)
    region = region or (None if _national(user) else user.region)
    context.update(
        start=start,
        end=end,
        holders=holders,
        region=region,
        rows=table.to_dicts(),
        **_pair_view(pairs, names, lang, region),
        exports={
            "flows": _export_links(
                "/api/v1/mobility/flows", {"from": start, "to": end, "holders": holders and 1, "region": region}
            ),
            "pairs": _export_links(
                "/api/v1/mobility/pairs", {"from": start, "to": end, "holders": holders and 1, "region": region}
            ),
        },
    )
    return render(request, "mobility_flows.html", context)


def _pair_view(pairs: pl.DataFrame, names: dict[str, str], lang: str, region: str | None) -> dict:
    """The pairs over every visa (the table and the map), and the map of net moves per region."""
    total = (
        pairs.group_by("origin", "destination")
        .agg(pl.col("moves").sum())
        .sort(["moves", "origin", "destination"], descending=[True, False, False])
    )
    inflow = total.group_by(region="destination").agg(pl.col("moves").sum().alias("in"))
    outflow = total.group_by(region="origin").agg(pl.col("moves").sum().alias("out"))
    net = inflow.join(outflow, on="region", how="full", coalesce=True).fill_null(0)
    values = {r["region"]: float(r["in"] - r["out"]) for r in net.to_dicts()}
    if region is not None:  # a region's view: its own net, and the other ends of its moves left blank
        values = {region: values.get(region, 0.0)}
    short = {code: region_name(code, lang, short=True) for code in names}
    tiles, legend, width, height = tile_grid(values, short, names=names, lang=lang, fmt=lambda v: f"{v:+,.0f}")
    centres = {t.code: (t.x + t.size / 2, t.y + t.size / 2) for t in tiles}

    def title(origin: str, destination: str, moves: int) -> str:
        return gettext(
            "%(origin)s to %(destination)s: %(moves)s moves",
            origin=names.get(origin, origin),
            destination=names.get(destination, destination),
            moves=f"{moves:,}",
        )

    return {
        "pairs": total.to_dicts(),
        "tiles": tiles,
        "legend": legend,
        "width": width,
        "height": height,
        "arrows": charts.arrows(total.rows(), centres, title),
        "map_id": "flow-map",
        "map_title": gettext("Moves between regions"),
        "map_desc": gettext(
            "Tile map of the 17 regions: each tile shows the region's net moves (in minus out); "
            "arrows show the largest moves from one region to another, thicker for more moves. "
            "The table below lists every pair."
        ),
    }


@router.get("/mobility/retention")
def retention_page(request: Request, user: Actor = Depends(require(service.READ))):
    engine = request.app.state.engine
    values = dict(request.query_params)
    lang = current_language.get()
    names = region_names(lang)
    context: dict = {
        "form": values,
        "choices": _choices(user, names),
        "national": _national(user),
        "names": names,
        "has_records": records_present(engine=engine),
        "errors": None,
        "months": compute.RETENTION_MONTHS,
    }
    if not context["has_records"]:
        return render(request, "mobility_retention.html", context)
    try:
        on = _date(values, "on", data_as_of(engine=engine))
        program_id = (values.get("program_id") or "").strip() or None
        region = _region(values)
        table = service.cached_retention(engine=engine, actor=user, on=on, program_id=program_id, region=region)
    except DomainError as exc:
        errors = forms.errors_from(exc, labels=RETENTION_LABELS)
        context.update(errors=errors)
        return render(request, "mobility_retention.html", context, status_code=errors.status)
    region = region or (None if _national(user) else user.region)
    programmes = []
    for (pid,), rows in table.group_by(["program_id"], maintain_order=True):
        cohorts = rows["cohort"].to_list()
        series = [
            (
                gettext("%(n)s months after the grant", n=m),
                [
                    None if kept is None or not held else round(kept / held * 100, 1)
                    for kept, held in zip(rows[f"in_area_{m}m"].to_list(), rows["holders"].to_list(), strict=True)
                ],
            )
            for m in compute.RETENTION_MONTHS
        ]
        chart = charts.retention_chart(
            tuple(cohorts),
            tuple((label, tuple(v)) for label, v in series),
            ylabel=gettext("Holders in the programme's area (%)"),
            xlabel=gettext("Cohort (month of the grant)"),
            prefix=f"retention-{pid}",
        )
        programmes.append({"program_id": pid, "region": rows["region"][0], "rows": rows.to_dicts(), "chart": chart})
    context.update(
        on=on,
        region=region,
        program_id=program_id,
        programmes=programmes,
        exports=_export_links("/api/v1/mobility/retention", {"on": on, "program_id": program_id, "region": region}),
    )
    return render(request, "mobility_retention.html", context)
