"""Quotas / 쿼터: server-rendered pages (thin: calls quotas.service).

A programme's ledger: allocation, adjustments, reserved, used, remaining and fill rate, with every
movement in order; the ministry tops up or cuts it with a reason. The mid-year reallocation: a
date, the proposal as a table, then apply with a reason and a confirmation (`service.reallocate`)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field, ValidationError

from regionvisa.accounts.nav import register
from regionvisa.accounts.policy import Actor, can
from regionvisa.core.errors import DomainError, Invalid, NotFound
from regionvisa.core.paging import Page
from regionvisa.db import session_scope
from regionvisa.policyfiles import PolicyError
from regionvisa.programs import service as programs
from regionvisa.quotas import service
from regionvisa.quotas.subjects import read_region, readable
from regionvisa.regions.service import region_names
from regionvisa.web import forms
from regionvisa.web.deps import require
from regionvisa.web.i18n import current_language, gettext
from regionvisa.web.labels import N_
from regionvisa.web.params import IsoDate
from regionvisa.web.templating import render

PAGE_SIZE = 50  # ledgers per page

router = APIRouter(include_in_schema=False)

register(N_("Quotas"), "/quotas", action="quotas.read", order=35)
register(N_("Mid-year reallocation"), "/quotas/reallocate", action="quotas.reallocate", order=36)

KIND_LABELS = {
    "allocation": N_("allocation"),
    "adjustment": N_("adjustment"),
    "reserve": N_("reservation"),
    "release": N_("release"),
    "use": N_("issuance"),
    "unuse": N_("cancelled issuance"),
}


OPEN_LABELS = {
    "program_id": N_("Programme"),
    "period": N_("Period"),
    "start": N_("First day"),
    "end": N_("Last day"),
    "allocated": N_("Allocated places"),
    "reason": N_("Reason"),
}
OPEN_IDS = {k: f"open-{k}" for k in OPEN_LABELS}
ADJUST_LABELS = {"amount": N_("Places (negative to cut)"), "reason": N_("Reason")}
ADJUST_IDS = {"amount": "adj-amount", "reason": "adj-reason"}
CLOSE_LABELS = {"reason": N_("Reason for closing"), "confirm": N_("Confirmation")}
CLOSE_IDS = {"reason": "close-reason", "confirm": "close-confirm"}
SORTS = {"period": "period", "program": "program_id", "region": "region", "used": "used", "remaining": "remaining"}
PERIOD_PATTERN = r"^\d{4}(-[A-Za-z0-9]+)?$"


class OpenIn(BaseModel):
    program_id: str = Field(min_length=1)
    period: str = Field(pattern=PERIOD_PATTERN)
    start: IsoDate
    end: IsoDate
    allocated: int = Field(ge=0)
    reason: str = Field(min_length=1, max_length=2000)


class AdjustIn(BaseModel):
    amount: int
    reason: str = Field(min_length=1, max_length=2000)


class CloseIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    confirm: Literal["yes"]


def _bad_query(name: str, value: str, *, ko: str, en: str) -> Invalid:
    """A query value the list cannot answer (an unknown sort, a malformed period): said, not ignored."""
    return Invalid(code="invalid_query", field=name, ko=f"{name}={value}: {ko}", en=f"{name}={value}: {en}")


def _list_context(session, user: Actor, *, period: str, sort: str, page: int, query: dict) -> dict:
    if period and not re.match(PERIOD_PATTERN, period):
        raise _bad_query("period", period, ko="기간은 2026처럼 씁니다", en="a period reads like 2026")
    key, _, direction = sort.partition(":") if sort else ("period", "", "desc")
    if key not in SORTS or direction not in ("", "asc", "desc"):
        raise _bad_query(
            "sort", sort, ko=f"정렬 기준은 {', '.join(SORTS)} 중 하나입니다", en=f"sort by one of {', '.join(SORTS)}"
        )
    ledgers = service.list_ledgers(session=session, region=read_region(user), period=period or None)
    rows_all = [service.ledger_dict(session=session, ledger=r) for r in ledgers]
    rows_all.sort(key=lambda r: (r[SORTS[key]], r["id"]), reverse=direction == "desc")
    pager = Page(number=page, size=PAGE_SIZE, total=len(rows_all), base_path="/quotas", query=query)
    can_open = can(user, "quotas.adjust")
    programmes = []
    if can_open:
        programmes = [p.id for p, _ in programs.list_programs(session=session, region=read_region(user))]
    return {
        "rows": pager.window(rows_all),
        "page": pager,
        "period": period,
        "sort": sort,
        "sort_key": key,
        "sort_dir": direction or "asc",
        "can_open": can_open,
        "programmes": programmes,
        "region_names": region_names(current_language.get()),
    }


def _list_page(request: Request, user: Actor, *, errors=None, form=None, status: int = 200, **q):
    period, sort, page = q.get("period", ""), q.get("sort", ""), q.get("page", 1)
    query = {k: v for k, v in (("period", period), ("sort", sort)) if v}
    with session_scope(engine=request.app.state.engine) as session:
        context = _list_context(session, user, period=period, sort=sort, page=page, query=query)
    context.update(errors=errors, form=form or {}, done=request.query_params.get("done", ""))
    return render(request, "quotas_list.html", context, status_code=status)


@router.get("/quotas")
def ledgers_page(
    request: Request,
    period: str = "",
    sort: str = "",
    page: int = Query(1, ge=1),
    user: Actor = Depends(require("quotas.read")),
):
    return _list_page(request, user, period=period, sort=sort, page=page)


@router.post("/quotas/open")
async def open_ledger(request: Request, user: Actor = Depends(require("quotas.adjust"))):
    """Open a programme's ledger for a period from the web (the same use case as the API)."""
    values = await forms.values(request)
    try:
        data = OpenIn.model_validate({k: values.get(k, "") for k in OPEN_LABELS})
        if data.end < data.start:
            raise Invalid(
                code="invalid",
                field="end",
                ko="마지막 날은 첫날 이후여야 합니다",
                en="the last day must not be before the first",
            )
        with session_scope(engine=request.app.state.engine) as session:
            program = programs.get_program(session=session, program_id=data.program_id)
            ledger = service.open_ledger(
                session=session,
                program_id=program.id,
                region=program.region,
                period=data.period,
                start=data.start,
                end=data.end,
                allocated=data.allocated,
                actor=user,
                reason=data.reason,
            )
            ledger_id = ledger.id
    except (ValidationError, DomainError) as exc:
        if isinstance(exc, NotFound):
            exc = Invalid(
                code="unknown_programme", field="program_id", ko="없는 프로그램입니다", en="no such programme"
            )
        errors = forms.errors_from(exc, labels=OPEN_LABELS, ids=OPEN_IDS, form_id="open-form", order=OPEN_LABELS)
        return _list_page(request, user, errors=errors, form=values, status=errors.status)
    return RedirectResponse(f"/quotas/{ledger_id}?done=opened", status_code=303)


# ----------------------------------------------------------------------------- mid-year reallocation
# Declared before /quotas/{ledger_id}, whose integer parameter would otherwise claim the path.


REALLOCATE_LABELS = {"on": N_("Reallocation date"), "reason": N_("Reason"), "confirm": N_("Confirmation")}
REALLOCATE_IDS = {"on": "realloc-on", "reason": "realloc-reason", "confirm": "realloc-confirm"}


def _date_error() -> forms.FormErrors:
    label = forms.label_text(REALLOCATE_LABELS["on"], "on")
    return forms.FormErrors(
        items=[
            forms.FormError(
                "on", REALLOCATE_IDS["on"], label, gettext("%(label)s: give the date as YYYY-MM-DD.", label=label)
            )
        ]
    )


def _reallocation_context(session, *, on: str) -> dict:
    """The page's proposal for the date `on` (text from the form), or why there is none."""
    context: dict = {"on": on, "proposal": None, "rows": [], "rule": None, "changes": 0, "errors": None}
    if not on:
        return context
    try:
        day = dt.date.fromisoformat(on)
    except ValueError:
        context["errors"] = _date_error()
        return context
    try:
        proposal = service.propose_reallocation(session=session, on=day)
    except PolicyError as exc:
        exc = Invalid(code="invalid_rules", field="on", ko="; ".join(exc.errors), en="; ".join(exc.errors))
        context["errors"] = _reallocation_errors(exc)
        return context
    except DomainError as exc:  # a date before the rules: said beside the date (the page had no status of its own)
        context.update(errors=_reallocation_errors(exc), status=exc.status)
        return context
    rows = proposal.records()
    changes = sum(1 for r in rows if r["adjustment"])
    context.update(proposal=proposal, rows=rows, rule=proposal.rule.as_inputs(), changes=changes)
    return context


def _reallocation_errors(exc: DomainError) -> forms.FormErrors:
    found = forms.errors_from(exc, labels=REALLOCATE_LABELS, ids=REALLOCATE_IDS, form_id="reallocation-apply")
    return forms.labelled(found)


@router.get("/quotas/reallocate")
def reallocate_page(request: Request, on: str = "", user: Actor = Depends(require("quotas.reallocate"))):
    with session_scope(engine=request.app.state.engine) as session:
        context = _reallocation_context(session, on=on)
    context.update(
        done=request.query_params.get("done") == "applied",
        form={},
        region_names=region_names(current_language.get()),
    )
    return render(request, "quotas_reallocate.html", context, status_code=context.get("status", 200))


@router.post("/quotas/reallocate")
async def reallocate_apply(request: Request, user: Actor = Depends(require("quotas.reallocate"))):
    """Apply the proposal the page showed (its digest), with a reason and the confirmation box."""
    values = await forms.values(request)
    on, expected = values.get("on", ""), values.get("expected", "")
    errors = None
    try:
        day = dt.date.fromisoformat(on)
    except ValueError:
        errors = _date_error()
    if errors is None:
        try:
            forms.confirmed(values, ko="재배분안을 확인했다고 표시하십시오", en="tick the box to confirm the proposal")
            with session_scope(engine=request.app.state.engine) as session:
                service.reallocate(
                    session=session, on=day, reason=values.get("reason", ""), expected=expected, actor=user
                )
        except DomainError as exc:
            errors = _reallocation_errors(exc)
    if errors is None:
        return RedirectResponse(f"/quotas/reallocate?on={day.isoformat()}&done=applied", status_code=303)
    with session_scope(engine=request.app.state.engine) as session:
        context = _reallocation_context(session, on=on)
    if not context["errors"]:  # the proposal itself could be shown: the refusal is the form's
        context["errors"] = errors
    context.update(done=False, form=values, region_names=region_names(current_language.get()))
    return render(request, "quotas_reallocate.html", context, status_code=context["errors"].status)


def _ledger_page(request: Request, user: Actor, ledger_id: int, *, errors=None, form=None, which="", status=200):
    with session_scope(engine=request.app.state.engine) as session:
        ledger = readable(user, service.get_ledger(session=session, ledger_id=ledger_id))
        return render(
            request,
            "quotas_ledger.html",
            {
                "ledger": service.ledger_dict(session=session, ledger=ledger, with_history=True),
                "kind_labels": KIND_LABELS,
                "can_adjust": can(user, "quotas.adjust"),  # only whether to show the forms
                "done": request.query_params.get("done", ""),
                "errors": errors,
                "which": which,
                "form": form or {},
                "region_names": region_names(current_language.get()),
            },
            status_code=status,
        )


@router.get("/quotas/{ledger_id}")
def ledger_page(request: Request, ledger_id: int, user: Actor = Depends(require("quotas.read"))):
    return _ledger_page(request, user, ledger_id)


@router.post("/quotas/{ledger_id}/adjust")
async def adjust(request: Request, ledger_id: int, user: Actor = Depends(require("quotas.adjust"))):
    """Top up (or cut) with a reason; a refusal gives the page back with what was typed."""
    values = await forms.values(request)
    try:
        data = AdjustIn.model_validate({k: values.get(k, "") for k in ADJUST_LABELS})
        with session_scope(engine=request.app.state.engine) as session:
            ledger = service.get_ledger(session=session, ledger_id=ledger_id)
            service.adjust(session=session, ledger=ledger, amount=data.amount, actor=user, reason=data.reason)
    except (ValidationError, DomainError) as exc:
        errors = forms.errors_from(exc, labels=ADJUST_LABELS, ids=ADJUST_IDS, form_id="adjust-form")
        return _ledger_page(request, user, ledger_id, errors=errors, form=values, which="adjust", status=errors.status)
    return RedirectResponse(f"/quotas/{ledger_id}?done=adjusted", status_code=303)


@router.post("/quotas/{ledger_id}/close")
async def close(request: Request, ledger_id: int, user: Actor = Depends(require("quotas.adjust"))):
    """Close a ledger: a reason and the confirmation box (a destructive step asks first, without JavaScript)."""
    values = await forms.values(request)
    try:
        forms.confirmed(
            values, ko="마감하려면 확인란에 표시해 주세요", en="Tick the box to confirm that the ledger is to be closed"
        )
        data = CloseIn.model_validate({"reason": values.get("reason", ""), "confirm": "yes"})
        with session_scope(engine=request.app.state.engine) as session:
            ledger = service.get_ledger(session=session, ledger_id=ledger_id)
            service.close_ledger(session=session, ledger=ledger, actor=user, reason=data.reason)
    except (ValidationError, DomainError) as exc:
        errors = forms.errors_from(exc, labels=CLOSE_LABELS, ids=CLOSE_IDS, form_id="close-form")
        return _ledger_page(request, user, ledger_id, errors=errors, form=values, which="close", status=errors.status)
    return RedirectResponse(f"/quotas/{ledger_id}?done=closed", status_code=303)
