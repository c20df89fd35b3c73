"""The auditor's page: the audit log with filters and pages, and a chain check."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from regionvisa.audit import service
from regionvisa.core.paging import Page, offset_of
from regionvisa.web.deps import require
from regionvisa.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(require("audit.read"))])
PAGE_SIZE = 50


def _date(value: str | None) -> tuple[dt.date | None, bool]:
    if not value:
        return None, True
    try:
        return dt.date.fromisoformat(value), True
    except ValueError:
        return None, False


@router.get("/audit")
def audit_page(
    request: Request,
    actor: str = "",
    action: str = "",
    subject: str = "",
    date_from: str = "",
    date_to: str = "",
    page: int = 1,
):
    start, ok_from = _date(date_from)
    end, ok_to = _date(date_to)
    subject_type, _, subject_id = subject.strip().partition(":")
    filters = service.Filters(
        actor=actor.strip() or None,
        action=action.strip() or None,
        subject_type=subject_type or None,
        subject_id=subject_id or None,
        date_from=start,
        date_to=end,
    )
    page = max(page, 1)
    with Session(request.app.state.engine) as session:
        total, items = service.search(
            session=session, filters=filters, offset=offset_of(page, PAGE_SIZE), limit=PAGE_SIZE
        )
    query = {"actor": actor, "action": action, "subject": subject, "date_from": date_from, "date_to": date_to}
    return render(
        request,
        "audit.html",
        {
            "items": items,
            "form": query,
            "bad_dates": not (ok_from and ok_to),
            "page": Page(
                number=page,
                size=PAGE_SIZE,
                total=total,
                base_path="/audit",
                query={k: v for k, v in query.items() if v},
            ),
        },
    )


@router.get("/audit/verify")
def audit_verify_page(request: Request):
    result = service.verify(engine=request.app.state.engine)
    return render(request, "audit_verify.html", {"result": result}, status_code=200 if result.ok else 409)
