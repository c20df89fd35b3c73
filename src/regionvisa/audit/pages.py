"""The auditor's page: the audit log with filters and pages, and the chain check (run as a job)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from regionvisa.accounts.policy import Actor
from regionvisa.audit import names, runs, service
from regionvisa.core.clock import KST
from regionvisa.core.errors import DomainError
from regionvisa.core.paging import Page, offset_of
from regionvisa.jobs.router import launch
from regionvisa.web import i18n
from regionvisa.web.deps import require
from regionvisa.web.params import page_number, query_date
from regionvisa.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(require("audit.read"))])
PAGE_SIZE = 50


def _read(read, problems: list[dict]):
    """The value `read()` gives, or None with its refusal kept for the error summary."""
    try:
        return read()
    except DomainError as exc:
        problems.append({"field": exc.field, "message": exc.ko if i18n.current_language.get() == "ko" else exc.en})
        return None


@router.get("/audit")
def audit_page(
    request: Request,
    actor: str = "",
    action: str = "",
    subject: str = "",
    date_from: str = "",
    date_to: str = "",
    page: str = "1",
):
    """Filter days are Korean calendar days, as every time on the page is shown in KST. A date or
    page number that cannot be read comes back on this page with its message, never ignored."""
    problems: list[dict] = []
    start = _read(lambda: query_date(date_from, field="date_from", label="From (KST)"), problems)
    end = _read(lambda: query_date(date_to, field="date_to", label="To (KST)"), problems)
    number = _read(lambda: page_number(page), problems) or 1
    query = {"actor": actor, "action": action, "subject": subject, "date_from": date_from, "date_to": date_to}
    if problems:
        empty = Page(number=1, size=PAGE_SIZE, total=0)
        return render(
            request, "audit.html", {"items": [], "form": query, "problems": problems, "page": empty}, status_code=422
        )
    subject_type, _, subject_id = subject.strip().partition(":")
    filters = service.Filters(
        actor=actor.strip() or None,
        action=action.strip() or None,
        subject_type=subject_type or None,
        subject_id=subject_id or None,
        date_from=start,
        date_to=end,
        zone=KST,
    )
    with Session(request.app.state.engine) as session:
        total, items = service.search(
            session=session, filters=filters, offset=offset_of(number, PAGE_SIZE), limit=PAGE_SIZE
        )
    pager = Page(
        number=number, size=PAGE_SIZE, total=total, base_path="/audit", query={k: v for k, v in query.items() if v}
    )
    for item in items:
        item["action_name"] = names.canonical(item["action"])
    return render(request, "audit.html", {"items": items, "form": query, "problems": [], "page": pager})


@router.get("/audit/verify")
def audit_verify_page(request: Request):
    """The newest chain check's result (a full walk runs as a job, started by the form here); 409
    while that result is a broken chain, as before."""
    engine = request.app.state.engine
    with Session(engine) as session:
        last = runs.last_check(session=session, engine=engine)
        active = runs.active_check(session=session)
    broken = last is not None and not last.result["ok"]
    return render(
        request,
        "audit_verify.html",
        {"last": last, "result": last.result if last else None, "active": active},
        status_code=409 if broken else 200,
    )


@router.post("/audit/verify")
def audit_verify_start(request: Request, user: Actor = Depends(require("audit.read"))):
    """Start a full chain check as a job (or follow the one already queued or running)."""
    with Session(request.app.state.engine) as session:
        active = runs.active_check(session=session)
    if active is None:
        active = launch(request, actor=user, kind=runs.KIND, params={}).id
    return RedirectResponse(f"/jobs/{active}", status_code=303)


@router.get("/audit/actions")
def audit_actions_page(request: Request):
    """Every action name the log holds, with the older names a filter also finds."""
    rows = [{"name": n, "what": w, "older": sorted(names.older_names(n))} for n, w in sorted(names.ACTIONS.items())]
    return render(request, "audit_actions.html", {"rows": rows})
