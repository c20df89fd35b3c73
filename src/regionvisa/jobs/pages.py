"""Jobs / 작업: the page that follows one job, the list of one's jobs, and the cancel form.

While a job is queued or running the pages show its progress as it was when they were loaded and
a "Check again" link (the same page, same query: no JavaScript needed). The reader may tick
"Refresh automatically" (static/jobs-follow.js, remembered in the browser): the script then reads
the same page again every few seconds, puts its new state in place and says what changed in a
polite live region. Nothing reloads the page on its own (no `<meta http-equiv="refresh">`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from regionvisa.accounts.nav import register
from regionvisa.accounts.policy import Actor
from regionvisa.core.paging import offset_of
from regionvisa.db import session_scope
from regionvisa.jobs import kinds, queue, service
from regionvisa.jobs.models import ACTIVE_STATES
from regionvisa.web.deps import require
from regionvisa.web.i18n import current_language
from regionvisa.web.labels import N_
from regionvisa.web.templating import render

router = APIRouter(include_in_schema=False)
REFRESH_SECONDS = 2
PAGE_SIZE = 50

STATE_LABELS = {
    "queued": N_("Queued"),
    "running": N_("Running"),
    "succeeded": N_("Succeeded"),
    "failed": N_("Failed"),
    "cancelled": N_("Cancelled"),
}

register(N_("Jobs"), "/jobs", action="jobs.read", order=90)


def _here(request: Request) -> str:
    """The page's own address with its query: where "Check again" leads."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _view(job, user: Actor) -> dict:
    lang = current_language.get()
    out = service.job_dict(job)
    out["kind_label"] = kinds.describe(job.kind)["ko" if lang == "ko" else "en"]
    out["state_label"] = STATE_LABELS[job.state]
    out["percent"] = round(out["progress"] * 100)
    out["text"] = out["message"]["ko" if lang == "ko" else "en"]
    out["active"] = job.state in ACTIVE_STATES
    out["href"] = (job.result or {}).get("href")
    out["can_cancel"] = service.can_cancel(user, job)  # whether to show the cancel form
    return out


@router.get("/jobs")
def jobs_page(request: Request, page: int = 1, user: Actor = Depends(require("jobs.read"))):
    page = max(page, 1)
    with session_scope(engine=request.app.state.engine) as session:
        total, rows = service.list_jobs(session=session, actor=user, offset=offset_of(page, PAGE_SIZE), limit=PAGE_SIZE)
        items = [_view(j, user) for j in rows]
    active = any(i["active"] for i in items)
    return render(
        request,
        "jobs_list.html",
        {
            "items": items,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "active": active,
            "running": sum(1 for i in items if i["active"]),
            "refresh": REFRESH_SECONDS * 2,
            "here": _here(request),
        },
    )


@router.get("/jobs/{job_id}")
def job_page(request: Request, job_id: int, user: Actor = Depends(require("jobs.read"))):
    with session_scope(engine=request.app.state.engine) as session:
        job = _view(service.read_job(session=session, job_id=job_id, actor=user), user)
    return render(request, "jobs_job.html", {"job": job, "refresh": REFRESH_SECONDS, "here": _here(request)})


@router.post("/jobs/{job_id}/cancel")
def cancel_form(request: Request, job_id: int, user: Actor = Depends(require("jobs.cancel"))):
    engine = request.app.state.engine
    with session_scope(engine=engine) as session:
        job = service.cancel(session=session, job=job_id, actor=user)
        queue_id, state = job.queue_id, job.state
    if state == "cancelled":
        queue.cancel(engine=engine, queue_id=queue_id)
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)
