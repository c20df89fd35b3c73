"""Compliance / 체류 준수: dashboards, the case queue and case pages (thin: calls compliance.cases).

Everything works without JavaScript: the charts are SVG drawn on the server, filters are GET
forms, and case actions are POST forms carrying the CSRF token.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from regionvisa.accounts.nav import register
from regionvisa.accounts.policy import ALL, Actor, can, grant
from regionvisa.compliance import cases, service, wording
from regionvisa.compliance.models import CASE_STATUSES, OUTCOMES
from regionvisa.compliance.rules import RULES, compliance_rules
from regionvisa.compliance.service import programme_obligations
from regionvisa.core.errors import DomainError, Invalid
from regionvisa.core.paging import Page, offset_of
from regionvisa.db import session_scope
from regionvisa.jobs.router import launch
from regionvisa.regions.service import region_codes, region_names
from regionvisa.web import forms
from regionvisa.web.deps import require
from regionvisa.web.i18n import current_language, gettext
from regionvisa.web.labels import N_
from regionvisa.web.places import region_label
from regionvisa.web.templating import render

router = APIRouter(include_in_schema=False)

STATUS_LABELS = {
    "open": N_("Open"),
    "under_review": N_("Under review"),
    "resolved": N_("Resolved"),
    "closed": N_("Closed"),
    "active": N_("Open or under review"),
}
OUTCOME_LABELS = {
    "justified": N_("Justified"),
    "warning": N_("Warning"),
    "status_cancelled": N_("Status cancelled"),
}
SEVERITY_LABELS = {"high": N_("High"), "medium": N_("Medium"), "low": N_("Low")}
LANE_LABELS = {
    "status_grant": N_("Statuses"),
    "address_report": N_("Addresses"),
    "movement": N_("Movements"),
    "kiip_record": N_("KIIP"),
    "employment": N_("Employment"),
}
EVENT_LABELS = {
    "opened": N_("Case opened"),
    "status": N_("Status changed"),
    "note": N_("Note added"),
    "finding_changed": N_("Finding changed"),
    "finding_back": N_("Finding found again"),
    "finding_gone": N_("Finding no longer found"),
}
COLOURS = {"status": "#2b6cb0", "programme": "#805ad5", "inside": "#2f855a", "outside": "#c53030", "other": "#718096"}


def _dashboard_href(user: Actor | None) -> str:
    return f"/compliance?region={user.region}" if user and user.region else "/compliance"


register(N_("Compliance"), _dashboard_href, action="compliance.read", order=50)
register(N_("Enforcement cases"), "/compliance/cases", action="compliance.read", order=51)
register(N_("Employers of E-7 holders"), "/compliance/employers", action="compliance.read", order=52)


def _rule_labels() -> dict[str, str]:
    rules, lang = compliance_rules(), current_language.get()
    return {r: rules.label(r, "ko" if lang == "ko" else "en") for r in RULES}


def _national(user: Actor) -> bool:
    """Whether to show the national view's links and the region picker (display only: the reads
    themselves are scoped by `compliance.subjects`)."""
    return grant(user, "compliance.read") == ALL


def _region_choices(user: Actor) -> list[tuple[str, str]]:
    names = region_names(current_language.get())
    if _national(user):
        return sorted(names.items())
    return [(user.region, names[user.region])] if user.region else []


def trend_chart(trend: dict, width: int = 720, height: int = 180) -> dict:
    """Bars of findings started per month (all rules), as SVG geometry."""
    months = trend["months"]
    totals = [sum(series[i] for series in trend["series"].values()) for i in range(len(months))]
    top = max(totals or [0]) or 1
    slot = width / max(len(months), 1)
    bars = []
    for i, (month, n) in enumerate(zip(months, totals, strict=True)):
        h = round((height - 30) * n / top, 1)
        bars.append(
            {
                "x": round(i * slot + 4, 1),
                "y": round(height - 20 - h, 1),
                "w": round(slot - 8, 1),
                "h": h,
                "n": n,
                "label": month[:7],
                "tx": round(i * slot + slot / 2, 1),
            }
        )
    return {"width": width, "height": height, "bars": bars, "base": height - 20}


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def timeline_chart(timeline: dict, case, area: list[str] | None = None, width: int = 900) -> dict:
    """The person's records as lanes of bars and ticks on one date axis (SVG geometry).

    `area` is the programme's residence area (region or district codes); by default the
    case's region.
    """
    area = area or ([case.region] if case.region else [])
    spans: list[tuple[str, dt.date, dt.date | None, str, str]] = []  # lane, start, end, colour, title
    for s in timeline["status_grant"]:
        colour = COLOURS["programme"] if s["program_id"] else COLOURS["status"]
        title = f"{s['visa']} {s['program_id'] or ''} {s['valid_from']}..{s['valid_to']}"
        spans.append(("status_grant", _date(s["valid_from"]), _date(s["valid_to"]), colour, title))
    reports = timeline["address_report"]
    for i, a in enumerate(reports):
        end = _date(reports[i + 1]["effective_date"]) if i + 1 < len(reports) else None
        inside = any(a["area_code"].startswith(code) for code in area)
        colour = COLOURS["inside"] if inside else COLOURS["outside"]
        title = gettext(
            "%(area)s from %(effective)s (reported on %(reported)s)",
            area=region_label(a["area_code"]),
            effective=a["effective_date"],
            reported=a["reported_date"],
        )
        spans.append(("address_report", _date(a["effective_date"]), end, colour, title))
    for k in timeline["kiip_record"]:
        title = f"KIIP {k['level']} {k['enrolled_on']}..{k['completed_on'] or ''}"
        spans.append(("kiip_record", _date(k["enrolled_on"]), _date(k["completed_on"]), COLOURS["inside"], title))
    for j in timeline["employment"]:
        inside = any((j["employer_region"] or "").startswith(code) for code in area)
        colour = COLOURS["inside"] if inside else COLOURS["outside"]
        title = f"{j['employer_id']} ({j['employer_region']}) {j['start_date']}..{j['end_date'] or ''}"
        spans.append(("employment", _date(j["start_date"]), _date(j["end_date"]), colour, title))
    ticks = [(_date(m["date"]), m["direction"]) for m in timeline["movement"]]
    days = [d for _, s, e, _, _ in spans for d in (s, e) if d] + [d for d, _ in ticks if d]
    days += [case.finding_start, case.last_run_on]
    first, last = min(days), max(days) + dt.timedelta(days=1)
    left, right = 110, width - 10
    scale = (right - left) / max((last - first).days, 1)

    def x(day: dt.date) -> float:
        return round(left + (day - first).days * scale, 1)

    lanes = list(LANE_LABELS)
    lane_y = {lane: 20 + i * 30 for i, lane in enumerate(lanes)}
    bars = [
        {"x": x(s), "w": max(x(e or last) - x(s), 1.5), "y": lane_y[lane], "fill": colour, "title": title}
        for lane, s, e, colour, title in spans
        if s
    ]
    marks = [
        {
            "x": x(d),
            "y": lane_y["movement"],
            "fill": COLOURS["inside"] if k == "entry" else COLOURS["outside"],
            "title": gettext("Entry on %(date)s", date=d) if k == "entry" else gettext("Exit on %(date)s", date=d),
        }
        for d, k in ticks
        if d
    ]
    years = []
    for year in range(first.year, last.year + 1):
        day = dt.date(year, 1, 1)
        if first <= day <= last:
            years.append({"x": x(day), "label": str(year)})
    height = 20 + len(lanes) * 30 + 20
    return {
        "width": width,
        "height": height,
        "lanes": [{"key": lane, "y": lane_y[lane]} for lane in lanes],
        "bars": bars,
        "marks": marks,
        "years": years,
        "finding": {
            "x": x(case.finding_start),
            "title": gettext("The finding starts on %(date)s", date=case.finding_start),
        },
        "first": first.isoformat(),
        "last": (last - dt.timedelta(days=1)).isoformat(),
    }


def _residence_area(engine, program_id: str | None) -> list[str]:
    """The residence area of the programme's latest design version (empty when unknown)."""
    if not program_id:
        return []

    progs = programme_obligations(engine=engine).filter(program_id=program_id).sort("version")
    return progs["residence_area"].to_list()[-1] if progs.height else []


RISK_PAGE_SIZE = 50  # at-risk holders per page of the dashboard
RISK_SORTS = {"days_left": "days_left", "person": "person_id", "rule": "rule", "programme": "program_id"}


def _bad_query(name: str, value: str, *, ko: str, en: str) -> Invalid:
    """A query value a list cannot answer is said (422), not replaced by a default or an empty table."""
    return Invalid(code="invalid_query", field=name, ko=f"{name}={value}: {ko}", en=f"{name}={value}: {en}")


def _check_rule(rule: str) -> None:
    if rule and rule not in RULES:
        raise _bad_query(
            "rule", rule, ko=f"규칙은 {', '.join(RULES)} 중 하나입니다", en=f"rule is one of {', '.join(RULES)}"
        )


def _check_region(region: str) -> None:
    if region and region not in region_codes():
        raise _bad_query("region", region, ko="없는 지역 코드입니다", en="no region has that code")


def _sorted_risk(rows: list[dict], sort: str) -> list[dict]:
    """The at-risk rows in the order asked (`days_left`, `-days_left`, `person`, …)."""
    key = sort.lstrip("-") or "days_left"
    if key not in RISK_SORTS:
        raise _bad_query(
            "sort",
            sort,
            ko=f"정렬 기준은 {', '.join(RISK_SORTS)} 중 하나입니다",
            en=f"sort by one of {', '.join(RISK_SORTS)}",
        )
    column = RISK_SORTS[key]
    return sorted(
        rows,
        key=lambda r: (r[column] is None, r[column] or 0 if column == "days_left" else r[column] or ""),
        reverse=sort.startswith("-"),
    )


@router.get("/compliance")
def dashboard_page(
    request: Request,
    region: str = "",
    run: int | None = None,
    rule: str = "",
    sort: str = "days_left",
    page: int = 1,
    user: Actor = Depends(require("compliance.read")),
):
    _check_region(region)
    _check_rule(rule)
    with Session(request.app.state.engine) as session:
        board = cases.dashboard(session=session, actor=user, region=region or None, run_id=run)
    scoped = board["region"]
    names = region_names(current_language.get())
    risk = [r for r in board["at_risk"] if not rule or r["rule"] == rule]
    risk = _sorted_risk(risk, sort)
    query = {k: v for k, v in {"region": scoped or "", "run": run or "", "rule": rule, "sort": sort}.items() if v}
    risk_page = Page(number=page, size=RISK_PAGE_SIZE, total=len(risk), base_path="/compliance", query=query)
    board = {**board, "at_risk": risk_page.window(risk), "at_risk_total": len(risk)}
    return render(
        request,
        "compliance_dashboard.html",
        {
            "board": board,
            "region": scoped,
            "region_name": names.get(scoped or "", ""),
            "region_names": names,
            "choices": _region_choices(user),
            "national": _national(user),
            "rule_labels": _rule_labels(),
            "status_labels": STATUS_LABELS,
            "chart": trend_chart(board["trend"]) if board["run"] else None,
            "can_run": can(user, "cases.act"),  # whether to show the run form; the run authorises itself
            "today": dt.date.today().isoformat(),
            "page": risk_page,
            "rule": rule,
            "sort": sort,
            "run_id": run,  # the run being viewed, kept by the at-risk filter
            "risk_query": {k: v for k, v in query.items() if k != "sort"},
            "explain": wording.explain,  # the at-risk details in the reader's language, regions named
        },
    )


@router.post("/compliance/runs")
def run_form(request: Request, on: str = Form(...), user: Actor = Depends(require("cases.act"))):
    when = _date(on)
    if when is None:
        raise DomainError(
            status=400,
            code="bad_date",
            ko="날짜 형식이 아닙니다 (YYYY-MM-DD)",
            en=f"{on!r} is not a date (YYYY-MM-DD)",
            field="on",
        )
    service.settings_in_force(compliance_rules(), when)  # a date before the rules: the error page now
    job = launch(request, actor=user, kind="compliance_run", params={"on": when.isoformat(), "sync_cases": True})
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@router.get("/compliance/cases")
def queue_page(
    request: Request,
    region: str = "",
    status: str = "active",
    rule: str = "",
    page: int = 1,
    user: Actor = Depends(require("compliance.read")),
):
    if status not in (*CASE_STATUSES, "active", ""):
        raise _bad_query(
            "status",
            status,
            ko=f"상태는 {', '.join((*CASE_STATUSES, 'active'))} 중 하나입니다",
            en=f"status is one of {', '.join((*CASE_STATUSES, 'active'))}",
        )
    _check_rule(rule)
    _check_region(region)
    size = 50
    with Session(request.app.state.engine) as session:
        queue = cases.list_cases(
            session=session,
            actor=user,
            region=region or None,
            status=status or None,
            rule=rule or None,
            offset=offset_of(page, size),
            limit=size,
        )
        rows = [cases.case_dict(c) for c in queue.items]
    scoped, total, counts = queue.region, queue.total, queue.counts
    query = {k: v for k, v in {"region": scoped or "", "status": status, "rule": rule}.items() if v}
    return render(
        request,
        "compliance_queue.html",
        {
            "items": rows,
            "counts": counts,
            "region": scoped,
            "status": status,
            "rule": rule,
            "choices": _region_choices(user),
            "national": _national(user),
            "rule_labels": _rule_labels(),
            "status_labels": STATUS_LABELS,
            "outcome_labels": OUTCOME_LABELS,
            "severity_labels": SEVERITY_LABELS,
            "page": Page(number=page, size=size, total=total, base_path="/compliance/cases", query=query),
        },
    )


EMPLOYER_PAGE_SIZE = 50
FLAGGED_CHOICES = {"": None, "yes": True, "no": False}


@router.get("/compliance/employers")
def employers_page(
    request: Request,
    region: str = "",
    flagged: str = "",
    run: int | None = None,
    page: int = 1,
    user: Actor = Depends(require("compliance.read")),
):
    """Employers of programme E-7 holders in the latest recorded run (or `run`): holders, foreign
    staff, share and whether the employer is flagged for concentration, for the reader's region."""
    _check_region(region)
    if flagged not in FLAGGED_CHOICES:
        raise _bad_query("flagged", flagged, ko="yes 또는 no입니다", en="flagged is yes or no")
    with Session(request.app.state.engine) as session:
        listed = cases.list_employers(
            session=session,
            actor=user,
            region=region or None,
            flagged=FLAGGED_CHOICES[flagged],
            run_id=run,
            offset=offset_of(page, EMPLOYER_PAGE_SIZE),
            limit=EMPLOYER_PAGE_SIZE,
        )
        run_row = cases.run_dict(listed.run) if listed.run else None
    query = {k: v for k, v in {"region": listed.region or "", "flagged": flagged, "run": run or ""}.items() if v}
    settings = service.settings_in_force(compliance_rules(), listed.run.as_of) if listed.run else None
    return render(
        request,
        "compliance_employers.html",
        {
            "items": listed.items,
            "run": run_row,
            "region": listed.region,
            "flagged": flagged,
            "choices": _region_choices(user),
            "national": _national(user),
            "settings": settings,
            "export_query": {k: v for k, v in query.items()},
            "page": Page(
                number=page, size=EMPLOYER_PAGE_SIZE, total=listed.total, base_path="/compliance/employers", query=query
            ),
        },
    )


ACTION_LABELS = {"action": N_("Action"), "outcome": N_("Outcome (when resolving)"), "reason": N_("Reason")}
ACTION_LABELS_CONFIRM = {**ACTION_LABELS, "confirm": N_("Confirmation")}


def _case_page(request: Request, user: Actor, case_id: int, *, errors=None, form=None, status: int = 200):
    engine = request.app.state.engine
    with Session(engine) as session:
        case = cases.read_case(session=session, case_id=case_id, actor=user)
        detail = cases.case_dict(case)
        history = cases.events(session=session, case_id=case_id)
        timeline = cases.person_timeline(engine=engine, person_id=case.person_id)
        chart = timeline_chart(timeline, case, _residence_area(engine, case.program_id))
    actions = [a for a, (starts, _) in cases.TRANSITIONS.items() if detail["status"] in starts]
    return render(
        request,
        "compliance_case.html",
        {
            "case": detail,
            "events": history,
            "timeline": timeline,
            "chart": chart,
            "lane_labels": LANE_LABELS,
            "rule_labels": _rule_labels(),
            "status_labels": STATUS_LABELS,
            "outcome_labels": OUTCOME_LABELS,
            "severity_labels": SEVERITY_LABELS,
            "outcomes": OUTCOMES,
            # whether to show the action forms; `cases.act` authorises each action itself
            "actions": actions if can(user, "cases.act") else [],
            "errors": errors,
            "form": form or {},
            "explain": wording.explain,  # the evidence in the reader's language, regions named
            "event_labels": EVENT_LABELS,
            "note": wording.case_note,  # the run's own notes in the reader's language
        },
        status_code=status,
    )


@router.get("/compliance/cases/{case_id}")
def case_page(request: Request, case_id: int, user: Actor = Depends(require("compliance.read"))):
    return _case_page(request, user, case_id)


def _destructive(action: str, outcome: str) -> bool:
    """Closing a case, or resolving it by cancelling the status, cannot be taken back: it asks first."""
    return action == "close" or (action == "resolve" and outcome == "status_cancelled")


@router.post("/compliance/cases/{case_id}/actions")
async def case_action_form(request: Request, case_id: int, user: Actor = Depends(require("cases.act"))):
    """A case action; a refusal (or a missing confirmation) gives the case page back with what was typed."""
    values = await forms.values(request)
    action, outcome, reason = values.get("action", ""), values.get("outcome", ""), values.get("reason", "")
    try:
        if _destructive(action, outcome):
            forms.confirmed(
                values,
                ko="이 조치는 되돌릴 수 없습니다. 확인란에 표시해 주세요",
                en="This cannot be undone: tick the box to confirm",
            )
        with session_scope(engine=request.app.state.engine) as session:
            cases.act(session=session, case=case_id, action=action, actor=user, reason=reason, outcome=outcome or None)
    except DomainError as exc:
        errors = forms.errors_from(
            exc, labels=ACTION_LABELS_CONFIRM, form_id="case-action", order=ACTION_LABELS_CONFIRM
        )
        return _case_page(request, user, case_id, errors=errors, form=values, status=errors.status)
    return RedirectResponse(f"/compliance/cases/{case_id}", status_code=303)
