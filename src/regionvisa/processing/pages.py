"""/processing: the processing-times dashboard (thin: calls processing.service). Works without
JavaScript: the filters are a GET form, the tables are the figures, the export is a link."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request

from regionvisa.accounts.nav import register
from regionvisa.accounts.policy import ALL, Actor, grant
from regionvisa.applications.lifecycle import status_name
from regionvisa.core.paging import Page
from regionvisa.db import session_scope
from regionvisa.processing import service, views
from regionvisa.regions.service import region_codes
from regionvisa.reports.locale import region_name
from regionvisa.web.deps import require
from regionvisa.web.i18n import current_language
from regionvisa.web.labels import N_
from regionvisa.web.params import page_number, query_date
from regionvisa.web.templating import render

router = APIRouter(include_in_schema=False)
RISK_PAGE = 50

register(N_("Processing times"), "/processing", action=service.PERMISSION, order=33)


@router.get("/processing")
def dashboard(
    request: Request,
    region: str = "",
    program_id: str = "",
    at: str = "",
    page: str = "1",
    user: Actor = Depends(require(service.PERMISSION)),
):
    lang = current_language.get()
    day = query_date(at or None, field="at", label=N_("As of"))
    number = page_number(page)
    with session_scope(engine=request.app.state.engine) as session:
        view = service.processing_view(
            session=session,
            actor=user,
            region=region or None,
            program_id=program_id or None,
            now=views.reference_instant(day),
        )
        national = grant(user, service.PERMISSION) == ALL
        regions = region_codes() if national else [user.region]
    query = {k: v for k, v in {"region": region, "program_id": program_id, "at": at}.items() if v}
    risk = Page(number=number, size=RISK_PAGE, total=view.at_risk.height, base_path="/processing", query=query)
    programs = sorted(set(view.states["program_id"].to_list()) | set(view.backlog["program_id"].to_list()))
    backlog: dict[tuple[str, str], dict[str, int]] = {}
    for row in view.backlog.to_dicts():
        backlog.setdefault((row["program_id"], row["region"]), {})[row["band"]] = row["applications"]
    return render(
        request,
        "processing.html",
        {
            "view": view,
            "lang": lang,
            "national": national,
            "regions": [(c, region_name(c, lang)) for c in regions],
            "region": view.region or "",
            "program_id": program_id,
            "programs": programs,
            "at": at,
            "states": view.states.to_dicts(),
            "totals": view.totals.to_dicts(),
            "backlog": backlog,
            "risk_rows": risk.window(view.at_risk).to_dicts(),
            "page": risk,
            "expected": {r["program_id"]: r for r in view.expected.to_dicts()},
            "region_name": lambda code: region_name(code, lang),
            "status_name": lambda state: status_name(state, lang),
            "export_query": urlencode(query),
        },
    )
