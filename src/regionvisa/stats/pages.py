"""The national overview: the home page every user sees first."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Query, Request

from regionvisa.regions.tilemap import tile_grid
from regionvisa.stats import service
from regionvisa.web.i18n import current_language, gettext
from regionvisa.web.templating import render

router = APIRouter()


@router.get("/", include_in_schema=False)
def overview(request: Request, at: dt.date | None = Query(None)):
    engine = request.app.state.engine
    has_records = service.records_present(engine)
    context: dict = {"has_records": has_records, "status_columns": [*service.MAIN_STATUSES, "other", "illegal"]}
    if has_records:
        at, table = service.national_overview(engine, at=at)
        lang = current_language.get()
        rows = table.to_dicts()
        names = {r["region"]: r["name_ko" if lang == "ko" else "name_en"] for r in rows}
        short = {code: name.split(" (")[0] for code, name in names.items()}
        tiles, legend, width, height = tile_grid(
            {r["region"]: r["share_pct"] for r in rows}, short, fmt=lambda v: f"{v:.1f}%"
        )
        totals = {
            "residents": int(table["residents"].sum()),
            "population": int(table["population_2024"].sum()),
            **{c: int(table[c].sum()) for c in context["status_columns"]},
        }
        totals["share_pct"] = round(totals["residents"] / totals["population"] * 100, 2)
        context.update(
            at=at,
            rows=rows,
            names=names,
            totals=totals,
            tiles=tiles,
            legend=legend,
            width=width,
            height=height,
            map_id="share-map",
            map_title=gettext("Foreign residents as a share of the population"),
            map_desc=gettext("Tile map of the 17 regions; darker tiles have a higher share of foreign residents."),
        )
    return render(request, "overview.html", context)
