"""The national overview: the home page every user sees first."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse

from regionvisa.accounts.policy import ALL, Actor, grant
from regionvisa.core.errors import DomainError
from regionvisa.core.paging import Page, offset_of
from regionvisa.jobs.router import launch
from regionvisa.regions.service import region_names
from regionvisa.regions.tilemap import tile_grid
from regionvisa.reports.locale import region_name
from regionvisa.stats import monthly, regional, service
from regionvisa.web import forms
from regionvisa.web.deps import require
from regionvisa.web.i18n import current_language, gettext
from regionvisa.web.labels import N_
from regionvisa.web.templating import render

router = APIRouter()
RESIDENTS_PAGE = 50


@router.get("/", include_in_schema=False)  # public (accounts.policy.PUBLIC_ROUTES): aggregates only
def overview(request: Request, at: dt.date | None = Query(None)):
    engine = request.app.state.engine
    has_records = service.records_present(engine=engine)
    context: dict = {"has_records": has_records, "status_columns": [*service.MAIN_STATUSES, "other", "illegal"]}
    if has_records:
        at, table = service.national_overview(engine=engine, at=at)
        lang = current_language.get()
        rows = table.to_dicts()
        names = {r["region"]: r["name_ko" if lang == "ko" else "name_en"] for r in rows}
        short = {code: region_name(code, lang, short=True) for code in names}
        tiles, legend, width, height = tile_grid(
            {r["region"]: r["share_pct"] for r in rows}, short, names=names, suffix="%", lang=lang, min_decimals=1
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


@router.get("/regions", include_in_schema=False)
def regions_index(request: Request, code: str = "", user: Actor = Depends(require("stats.read"))):
    """The region picker's target; a regional official always lands on their own region."""
    return RedirectResponse(f"/regions/{service.landing_region(actor=user, requested=code)}", status_code=303)


@router.get("/regions/{code}", include_in_schema=False)
def region_page(
    request: Request,
    code: str,
    at: str = "",
    page: int = 1,
    after: str = Query("", max_length=32),
    user: Actor = Depends(require("stats.read")),
):
    """One region's residents by status and nationality, and (with records.read) its residents.

    The residents list pages by key: "Next" carries `after`, the last person shown, so a page
    deep in a region of hundreds of thousands seeks through the index instead of skipping rows
    (OFFSET reads every row it skips); `page` then only numbers the page shown. A numbered
    address without `after` (page 2, a bookmark) is still answered by its offset."""
    service.readable_region(user, code)
    engine = request.app.state.engine
    try:
        when = dt.date.fromisoformat(at) if at else None
    except ValueError:
        when = None
    has_records = service.records_present(engine=engine)
    when = when or service.data_as_of(engine=engine)
    lang = current_language.get()
    names = region_names(lang)
    # the region picker shows every region to a national reader (display only: each region's page scopes itself)
    choices = sorted(names.items()) if grant(user, "stats.read") == ALL else [(code, names[code])]
    context: dict = {"code": code, "name": names[code], "choices": choices, "has_records": has_records, "at": when}
    if has_records:
        context["detail"] = regional.region_detail(engine=engine, region=code, at=when)
        size, page, key = RESIDENTS_PAGE, max(page, 1), after.strip() or None
        found = service.region_residents(
            engine=engine,
            actor=user,
            code=code,
            at=when,
            offset=0 if key else offset_of(page, size),
            limit=size + 1,  # one more than shown: whether a next page exists
            after=key,
        )
        if found is not None:
            total, people = found
            more, people = len(people) > size, people[:size]
            pages = max(1, -(-total // size))
            number = min(page, pages) if key else page  # by key, the number only labels the page
            query = {"at": when.isoformat()}
            context["people"] = people
            context["page"] = Page(number=number, size=size, total=total, base_path=f"/regions/{code}", query=query)
            context["first_url"] = f"/regions/{code}?{urlencode(query)}" if number > 1 or key else None
            context["next_url"] = (
                f"/regions/{code}?{urlencode({**query, 'after': people[-1]['person_id'], 'page': number + 1})}"
                if more and people
                else None
            )
    return render(request, "region.html", context)


@router.get("/statistics/monthly", include_in_schema=False)
def monthly_form(request: Request, user: Actor = Depends(require("stats.read"))):
    """The form that starts the monthly statistics workbook (a job: its page links to the file)."""
    today = dt.date.today()
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    return render(request, "monthly.html", {"values": {"month": last_month, "lang": current_language.get()}})


@router.post("/statistics/monthly", include_in_schema=False)
async def monthly_start(request: Request, user: Actor = Depends(require("stats.read"))):
    form = await request.form()
    values = {"month": str(form.get("month", "")).strip(), "lang": str(form.get("lang", current_language.get()))}
    try:
        month = monthly.parse_month(values["month"])
        lang = values["lang"] if values["lang"] in ("ko", "en") else "ko"
        job = launch(
            request,
            actor=user,
            kind="monthly_statistics",
            params={"month": month, "lang": lang},
            region=monthly.job_region(user),
        )
    except DomainError as exc:
        errors = forms.errors_from(exc, labels={"month": N_("Month")})
        return render(request, "monthly.html", {"values": values, "errors": errors}, status_code=exc.status)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)
