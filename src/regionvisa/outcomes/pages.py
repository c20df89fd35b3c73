"""The pilot outcome report page (`/outcomes`): a table per programme and region, the pilot
holders beside the comparison group of non-pilot holders of the same base visa in the same
region (docs/indicators.md), and each programme's take-up against its quota by month. Thin:
`outcomes.service` does the work; a GET form, no JavaScript; the XLSX comes from the API, and the
report to hand on (PDF or XLSX, Korean or English, from a stored run) is rendered by a job."""

from __future__ import annotations

from urllib.parse import urlencode

import polars as pl
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from regionvisa.accounts.nav import register
from regionvisa.accounts.policy import ALL, Actor, grant
from regionvisa.core.errors import DomainError, Invalid
from regionvisa.jobs.router import launch
from regionvisa.outcomes import compute, service
from regionvisa.outcomes.subjects import read_region
from regionvisa.regions.service import region_names
from regionvisa.stats.service import data_as_of, records_present
from regionvisa.web import forms
from regionvisa.web.deps import require
from regionvisa.web.i18n import current_language
from regionvisa.web.labels import N_
from regionvisa.web.params import query_date
from regionvisa.web.templating import render

router = APIRouter(include_in_schema=False)

register(N_("Pilot outcomes"), "/outcomes", action=service.READ, order=13)

LABELS = {"on": N_("Reference date"), "since": N_("Start of the period"), "region": N_("Region")}


def _national(user: Actor) -> bool:
    return grant(user, service.READ) == ALL


def _choices(user: Actor, names: dict[str, str]) -> list[tuple[str, str]]:
    """The region picker (display only: the report scopes itself)."""
    if _national(user):
        return sorted(names.items())
    return [(user.region, names[user.region])] if user.region else []


def groups(result: service.Outcomes) -> list[dict]:
    """One entry per pilot group (programme × region × visa): its indicators, those of the
    comparison group of the same region and visa (None when there is none), its months of
    take-up and the latest of them a ledger covers (else the latest month)."""
    table = result.indicators
    comparison = {(r["region"], r["visa"]): r for r in table.filter(pl.col("group") == "comparison").to_dicts()}
    months = result.takeup
    found = []
    for pilot in table.filter(pl.col("group") == "pilot").to_dicts():
        mine = months.filter(
            (pl.col("program_id") == pilot["program_id"])
            & (pl.col("region") == pilot["region"])
            & (pl.col("visa") == pilot["visa"])
        ).to_dicts()
        found.append(
            {
                "pilot": pilot,
                "comparison": comparison.get((pilot["region"], pilot["visa"])),
                "latest": next((m for m in reversed(mine) if m["quota"] is not None), mine[-1] if mine else None),
                "months": mine,
            }
        )
    return found


def _context(request: Request, user: Actor, values: dict, errors: forms.FormErrors | None = None) -> dict:
    """What the page shows before a report is computed: the form as typed and the region picker."""
    names = region_names(current_language.get())
    return {
        "form": values,
        "choices": _choices(user, names),
        "national": _national(user),
        "names": names,
        "has_records": records_present(engine=request.app.state.engine),
        "errors": errors,
        "months": compute.MONTHS,
    }


@router.get("/outcomes")
def outcomes_page(request: Request, user: Actor = Depends(require(service.READ))):
    engine = request.app.state.engine
    values = dict(request.query_params)
    context = _context(request, user, values)
    if not context["has_records"]:
        return render(request, "outcomes.html", context)
    try:
        on = query_date(values.get("on"), field="on", label=LABELS["on"]) or data_as_of(engine=engine)
        since = query_date(values.get("since"), field="since", label=LABELS["since"]) or service.default_since(on)
        region = (values.get("region") or "").strip() or None
        result = service.report(engine=engine, actor=user, on=on, since=since, region=region)
    except DomainError as exc:
        errors = forms.errors_from(exc, labels=LABELS)  # 401/403/404 are raised again
        context.update(errors=errors)
        return render(request, "outcomes.html", context, status_code=errors.status)
    region = region or (None if _national(user) else user.region)
    kept = {k: v for k, v in {"on": on, "since": since, "region": region}.items() if v}
    context.update(
        on=on,
        since=since,
        region=region,
        groups=groups(result),
        export=f"/api/v1/outcomes/export.xlsx?{urlencode(kept)}",
    )
    return render(request, "outcomes.html", context)


REPORT_FORMATS = ("pdf", "xlsx")


@router.post("/outcomes/reports")
def report_form(
    request: Request,
    on: str = Form(""),
    since: str = Form(""),
    region: str = Form(""),
    format: str = Form("pdf"),
    lang: str = Form("ko"),
    user: Actor = Depends(require(service.READ)),
):
    """The report of the period shown, stored as a run and rendered by a job; the job's page
    follows it and links to the file (the same job as POST /api/v1/outcomes/reports)."""
    engine = request.app.state.engine
    try:
        if format not in REPORT_FORMATS or lang not in ("ko", "en"):
            raise Invalid(
                code="bad_report", ko="보고서 형식이나 언어가 올바르지 않습니다", en="unknown report format or language"
            )
        when = query_date(on or None, field="on", label=LABELS["on"]) or data_as_of(engine=engine)
        start = query_date(since or None, field="since", label=LABELS["since"]) or service.default_since(when)
        service.check_period(since=start, on=when)
        scoped = read_region(user, region.strip() or None)
    except DomainError as exc:
        errors = forms.errors_from(exc, labels=LABELS)  # 401/403/404 are raised again
        context = _context(request, user, {"on": on, "since": since, "region": region}, errors)
        return render(request, "outcomes.html", context, status_code=errors.status)
    params = {"format": format, "lang": lang, "on": when.isoformat(), "since": start.isoformat(), "region": scoped}
    job = launch(request, actor=user, kind="outcomes_report", params=params, region=scoped)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)
