"""Applications / 신청: server-rendered pages (thin: calls applications.service).

The regional official's queue (recommend or return), the ministry officer's queue (approve, reject,
issue), the application page with its explanation criterion by criterion, intake and documents.
Every form works without JavaScript and carries the CSRF token.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import UploadFile

from regionvisa.accounts.nav import register
from regionvisa.accounts.policy import Actor, can
from regionvisa.applications import documents, intake, moves, service, views
from regionvisa.applications.lifecycle import STATUS_LABELS
from regionvisa.applications.models import OPEN_STATUSES
from regionvisa.core.errors import DomainError, Invalid
from regionvisa.core.paging import Page
from regionvisa.db import session_scope
from regionvisa.programs import service as programs
from regionvisa.programs import views as program_views
from regionvisa.regions.service import region_codes, region_names
from regionvisa.rules import FIELDS
from regionvisa.web import forms
from regionvisa.web.deps import require
from regionvisa.web.i18n import current_language, pgettext
from regionvisa.web.labels import N_, NP_
from regionvisa.web.templating import render

router = APIRouter(include_in_schema=False)

register(N_("Applications"), "/applications", action="applications.read", order=30)
register(N_("Recommendation queue"), "/applications/queue/region", action="applications.recommend", order=31)
register(N_("Screening queue"), "/applications/queue/ministry", action="applications.decide", order=32)

OUTCOME_LABELS = {"eligible": N_("eligible"), "ineligible": N_("ineligible"), "incomplete": N_("incomplete")}
RESULT_LABELS = {"pass": N_("pass"), "fail": N_("fail"), "missing": N_("missing")}
MOVE_LABELS = {
    "recommend": N_("Recommend"),
    "return": N_("Return to applicant"),
    "approve": N_("Approve"),
    "reject": N_("Reject"),
    "issue": N_("Issue the visa"),
    "withdraw": N_("Withdraw"),
    "cancel": N_("Cancel"),
    "rescreen": N_("Re-screen"),
}
MESSAGES = {
    "submitted": N_("The application was received and screened."),
    "recommend": N_("The application was recommended."),
    "return": N_("The application was returned to the applicant."),
    "approve": N_("The application was approved."),
    "reject": N_("The application was rejected."),
    "issue": N_("The visa was issued."),
    "withdraw": N_("The application was withdrawn."),
    "cancel": N_("The application was cancelled."),
    "rescreen": N_("The application was screened again."),
    "document": N_("The document was uploaded."),
    "benefit": N_("The simplified procedure setting was saved."),
}
# Profile fields the intake form asks for (the rest may come through the API or bulk intake).
# Every applicant field of the catalogue (rules.fields), declared once; the id is the application's own.
FORM_FIELDS = tuple(name for name in FIELDS if name != "applicant_id")


def _labels() -> dict:
    return {
        "status_labels": STATUS_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "result_labels": RESULT_LABELS,
        "move_labels": MOVE_LABELS,
        "region_names": region_names(current_language.get()),
        "doc_labels": documents.document_labels(),
    }


def _message(request: Request) -> str | None:
    return MESSAGES.get(request.query_params.get("done", ""))


def _moves_for(user: Actor, app) -> list[str]:
    """The move buttons to show: `can` decides only what is shown; the move's use case decides."""
    out = []
    for move, (froms, _to, action) in moves.MOVES.items():
        if move == "screen" or app.status not in froms:
            continue
        if can(user, action, app.region):
            out.append(move)
    return out


def _list_page(request: Request, user: Actor, *, status: str, program_id: str, page: int, search: dict | None):
    """The list; roles holding `applications.search` also see names and may search by name or whole
    passport number. A search is posted, so the terms stay out of addresses and access logs, and
    each one is an audit entry holding keyed digests, never the terms."""
    size = 50
    names = service.sees_names(user)
    errors = None
    with session_scope(engine=request.app.state.engine) as session:
        common = {
            "session": session,
            "actor": user,
            "program_id": program_id or None,
            "status": status or None,
            "offset": (max(page, 1) - 1) * size,
            "limit": size,
        }
        listing = None
        if search is not None:
            try:
                listing = service.search_applications(name=search["q"], passport_no=search["passport_no"], **common)
            except DomainError as exc:
                errors = forms.errors_from(
                    exc, labels={"q": N_("Applicant's name"), "passport_no": N_("Passport number (whole)")}
                )
        if listing is None:
            listing = service.list_applications(**common)
        rows = listing.rows
        pager = Page(
            number=max(page, 1),
            size=size,
            total=listing.total,
            base_path="/applications",
            query={"status": status, "program_id": program_id},
        )
        response = render(
            request,
            "applications_list.html",
            {
                "rows": rows,
                "passports": {a.id: views.masked_passport(a) for a in rows},
                "page": pager,
                "status": status,
                "program_id": program_id,
                "search": search,
                "sees_names": names,
                "errors": errors,
                "statuses": list(STATUS_LABELS),
                "can_submit": can(user, "applications.recommend"),  # shows the link only
                "message": _message(request),
                **_labels(),
            },
            status_code=errors.status if errors else 200,
        )
    if names:  # names on the page: kept out of every cache
        response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/applications")
def applications_index(
    request: Request,
    status: str = "",
    program_id: str = "",
    page: int = 1,
    user: Actor = Depends(require("applications.read")),
):
    return _list_page(request, user, status=status, program_id=program_id, page=page, search=None)


@router.post("/applications/search")
async def search_applications(request: Request, user: Actor = Depends(require("applications.search"))):
    values = await forms.values(request)
    search = {"q": values.get("q", ""), "passport_no": values.get("passport_no", "")}
    return _list_page(
        request, user, status=values.get("status", ""), program_id=values.get("program_id", ""), page=1, search=search
    )


# Enum values and units as the form shows them (the stored value stays the catalogue's code).
VALUE_LABELS = {
    "none": NP_("applicant value", "none"),
    "high_school": NP_("applicant value", "high school"),
    "associate": NP_("applicant value", "associate degree"),
    "bachelor": NP_("applicant value", "bachelor's degree"),
    "master": NP_("applicant value", "master's degree"),
    "doctorate": NP_("applicant value", "doctorate"),
    "degree": NP_("applicant value", "degree course"),
    "language": NP_("applicant value", "language course"),
    "exchange": NP_("applicant value", "exchange programme"),
}
UNIT_LABELS = {
    "level": NP_("unit", "level"),
    "KRW": NP_("unit", "KRW"),
    "years": NP_("unit", "years"),
    "ratio": NP_("unit", "share, 0 to 1"),
}
# The form's own fields: their labels (message ids) and element ids, for the error summary.
IDENTITY_LABELS = {
    "program_id": N_("Programme"),
    "name": N_("Applicant's name"),
    "passport_no": N_("Passport number"),
    "submitted_on": N_("Submission date"),
}
IDENTITY_IDS = {"program_id": "program", "name": "name", "passport_no": "passport", "submitted_on": "submitted-on"}


def _form_labels() -> dict:
    return {
        **IDENTITY_LABELS,
        "nationality": {"ko": FIELDS["nationality"].label_ko, "en": FIELDS["nationality"].label_en},
        **{n: {"ko": FIELDS[n].label_ko, "en": FIELDS[n].label_en} for n in FORM_FIELDS},
    }


def _form_ids() -> dict:
    return {**IDENTITY_IDS, **{n: f"f-{n}" for n in FORM_FIELDS}}


def _value_label(value: str) -> str:
    return pgettext("applicant value", VALUE_LABELS[value]) if value in VALUE_LABELS else value


def _field_inputs() -> list[dict]:
    lang = current_language.get()
    out = []
    for name in FORM_FIELDS:
        f = FIELDS[name]
        out.append(
            {
                "name": name,
                "id": f"f-{name}",
                "label": f.label_ko if lang == "ko" else f.label_en,
                "type": f.type,
                "choices": [(v, _value_label(v)) for v in f.values],
                "unit": pgettext("unit", UNIT_LABELS[f.unit]) if f.unit in UNIT_LABELS else f.unit,
                "min": f.minimum,
                "max": f.maximum,
            }
        )
    return out


def _new_page(request: Request, user: Actor, *, form: dict | None = None, errors=None, status: int = 200):
    today = dt.date.today()
    with session_scope(engine=request.app.state.engine) as session:
        versions = views.programmes_in_force(session=session, actor=user, on=today)
        default = views.intake_date_default(session=session, program_ids=[v.program_id for v in versions], today=today)
    return render(
        request,
        "applications_new.html",
        {
            "versions": versions,
            "fields": _field_inputs(),
            "today": default or today,
            "no_ledger": bool(versions) and default is None,
            "can_open_ledger": can(user, "quotas.adjust"),  # shows the link's wording only
            "form": form or {},
            "errors": errors,
            **_labels(),
        },
        status_code=status,
    )


@router.get("/applications/new")
def new_application(request: Request, user: Actor = Depends(require("applications.recommend"))):
    return _new_page(request, user)


@router.post("/applications/new")
async def submit_application(request: Request, user: Actor = Depends(require("applications.recommend"))):
    """The refused form comes back with the error summary and every typed value (web/forms.py)."""
    values = await forms.values(request)
    profile = {name: values[name].strip() for name in FORM_FIELDS if values.get(name, "").strip() != ""}
    on_text = values.get("submitted_on", "").strip()
    try:
        try:
            on = dt.date.fromisoformat(on_text) if on_text else None
        except ValueError:
            raise Invalid(
                code="invalid",
                ko=f"접수일 {on_text!r}은(는) 날짜(YYYY-MM-DD)가 아닙니다",
                en=f"Submission date {on_text!r} is not a date (YYYY-MM-DD)",
                field="submitted_on",
            ) from None
        with session_scope(engine=request.app.state.engine) as session:
            app = intake.submit(
                session=session,
                program_id=values.get("program_id", ""),
                applicant=profile,
                name=values.get("name", ""),
                passport_no=values.get("passport_no", ""),
                actor=user,
                on=on,
                channel="web",
            )
            app_id = app.id
    except DomainError as exc:
        if exc.status in (401, 403):
            raise
        if exc.status == 404:  # an unknown programme, or none in force on that date: the form's fault
            exc = Invalid(code="invalid", ko=exc.ko, en=exc.en, field="program_id")
        errors = forms.errors_from(
            exc, labels=_form_labels(), ids=_form_ids(), form_id="application-form", order=_form_ids()
        )
        return _new_page(request, user, form=values, errors=errors, status=errors.status)
    return RedirectResponse(f"/applications/{app_id}?done=submitted", status_code=303)


@router.get("/applications/queue/region")
def region_queue(
    request: Request, program_id: str = "", page: int = 1, user: Actor = Depends(require("applications.recommend"))
):
    with session_scope(engine=request.app.state.engine) as session:
        choices = views.queue_programmes(session=session, actor=user)
        chosen = program_id or (choices[0].id if choices else "")
        data, pager = None, None
        if chosen:
            data = views.queue_page(
                session=session,
                actor=user,
                program_id=chosen,
                page=max(page, 1),
                page_size=50,
                action="applications.recommend",
            )
            pager = Page(
                number=max(page, 1),
                size=50,
                total=data["total"],
                base_path="/applications/queue/region",
                query={"program_id": chosen},
            )
        return render(
            request,
            "applications_region_queue.html",
            {
                "choices": choices,
                "chosen": chosen,
                "data": data,
                "page": pager,
                "message": _message(request),
                **_labels(),
            },
        )


@router.get("/applications/queue/ministry")
def ministry_queue(
    request: Request,
    status: str = "recommended",
    page: int = 1,
    user: Actor = Depends(require("applications.decide")),
):
    status = status if status in ("recommended", "approved") else "recommended"
    size = 50
    with session_scope(engine=request.app.state.engine) as session:
        listing = service.list_applications(
            session=session, actor=user, status=status, offset=(max(page, 1) - 1) * size, limit=size
        )
        total = listing.total
        # the page's screenings and checklists in a few queries, not two or three per row
        latest = service.latest_screenings(session=session, apps=listing.rows)
        missing = documents.missing_documents_of(session=session, apps=listing.rows)
        items = [
            {
                "app": app,
                "failed": (scr.explanation or {}).get("failed", []) if (scr := latest.get(app.id)) else [],
                "missing_documents": missing[app.id],
            }
            for app in listing.rows
        ]
        pager = Page(
            number=max(page, 1),
            size=size,
            total=total,
            base_path="/applications/queue/ministry",
            query={"status": status},
        )
        return render(
            request,
            "applications_ministry_queue.html",
            {"items": items, "status": status, "page": pager, "message": _message(request), **_labels()},
        )


@router.get("/applications/benefits")
def benefits_page(request: Request, user: Actor = Depends(require("applications.read"))):
    with session_scope(engine=request.app.state.engine) as session:
        rows = {b.region: b for b in service.benefits(session=session)}
        return render(
            request,
            "applications_benefits.html",
            {
                "rows": rows,
                "codes": region_codes(),
                "can_set": can(user, "applications.benefit"),  # shows the form only
                "message": _message(request),
                **_labels(),
            },
        )


@router.post("/applications/benefits")
def set_benefit(
    request: Request,
    region: str = Form(...),
    enabled: str = Form(""),
    reason: str = Form(...),
    user: Actor = Depends(require("applications.benefit")),
):
    with session_scope(engine=request.app.state.engine) as session:
        service.set_simplified(session=session, region=region, enabled=enabled == "on", actor=user, reason=reason)
    return RedirectResponse("/applications/benefits?done=benefit", status_code=303)


def _references(session, app, data: dict) -> dict[str, dict[str, str]]:
    """Each criterion's reference in Korean and English, from the programme version screened against
    (the stored explanation keeps the one string the command line and the API show)."""
    number = (data["screening"] or {}).get("program_version") or app.program_version
    version = programs.get_version(session=session, program_id=app.program_id, version=number)
    return program_views.references_view(programs.Resolved(programs.loaded(version), version))


def _detail_page(request: Request, user: Actor, application_id: int, *, errors=None, form: dict | None = None):
    """The application's page; a refused move or upload comes back here with the error summary, and
    what was typed into a refused move's form (`form`, with the move's name under "move")."""
    lang = current_language.get()
    with session_scope(engine=request.app.state.engine) as session:
        app = service.get(session=session, application_id=application_id, actor=user)
        full = views.sees_full_passport(user)
        data = views.application_dict(session=session, app=app, detail=True, full_passport=full)
        program = programs.get_program(session=session, program_id=app.program_id)
        missing = [d["label"][lang] for d in data["documents"] if not d["uploaded"]]
        page = render(
            request,
            "applications_detail.html",
            {
                "app": app,
                "data": data,
                "program": program,
                "explanation": (data["screening"] or {}).get("explanation") or {},
                "references": _references(session, app, data),
                "moves": _moves_for(user, app),
                # shows the upload form only; the upload's use case decides
                "can_upload": app.status in OPEN_STATUSES and (can(user, "applications.recommend", app.region)),
                "message": _message(request),
                "errors": errors,
                "form": form or {},
                # approve and issue warn of these and ask for an override reason; the move's use case decides
                "missing_docs": missing,
                "override_min": moves.OVERRIDE_REASON_MIN,
                **_labels(),
            },
            status_code=errors.status if errors else 200,
        )
    if full:  # the whole passport number: kept out of every cache
        page.headers["Cache-Control"] = "no-store"
    return page


@router.get("/applications/{application_id}")
def application_page(request: Request, application_id: int, user: Actor = Depends(require("applications.read"))):
    return _detail_page(request, user, application_id)


def _refused_upload(request: Request, errors: forms.FormErrors, values: dict[str, str]):
    """The application's page again, the refused upload's message beside its file field."""
    user = request.state.user
    return _detail_page(request, user, int(request.path_params["application_id"]), errors=errors, form=values)


DOCUMENT_FORM = forms.UploadForm(
    render=_refused_upload,
    file_field="file",
    labels={"doc_type": N_("Document"), "file": N_("File (PDF, JPEG or PNG, at most 10 MB)")},
    ids={"doc_type": "doc-type", "file": "doc-file"},
    limit=documents.MAX_UPLOAD_BYTES,
)


@router.post("/applications/{application_id}/documents")
@forms.upload_form(DOCUMENT_FORM)
async def upload_document(
    request: Request, application_id: int, user: Actor = Depends(require("applications.recommend"))
):
    # Read here, not through Form()/File() parameters: a refusal then comes back as this form
    # (one over the body limit is answered by web.errors through DOCUMENT_FORM).
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise Invalid(code="missing_file", ko="보낼 파일을 골라 주세요", en="Choose a file to send", field="file")
        content = await upload.read(documents.MAX_UPLOAD_BYTES + 1)
        with session_scope(engine=request.app.state.engine) as session:
            documents.upload_document(
                session=session,
                app=application_id,
                doc_type=values.get("doc_type", ""),
                filename=upload.filename or "upload",
                content=content,
                content_type=upload.content_type or "",
                actor=user,
            )
    except DomainError as exc:
        return DOCUMENT_FORM.render(request, DOCUMENT_FORM.errors(exc), values)
    return RedirectResponse(f"/applications/{application_id}?done=document", status_code=303)


def _confirm_page(request: Request, user: Actor, application_id: int, move: str, *, reason: str, errors=None):
    """The confirmation a destructive move asks for (GOV.UK "confirm" pattern, no JavaScript)."""
    with session_scope(engine=request.app.state.engine) as session:
        app = service.get(session=session, application_id=application_id, actor=user)
        return render(
            request,
            "applications_confirm.html",
            {"app": app, "move": move, "reason": reason, "errors": errors, **_labels()},
            status_code=errors.status if errors else 200,
        )


CONFIRM_MOVES = ("cancel",)
OVERRIDE_LABEL = N_("Reason for going ahead without the missing documents")


def _page_move(move: str, action: str):
    async def handler(request: Request, application_id: int, user: Actor = Depends(require(action))):
        values = await forms.values(request)
        reason, back = values.get("reason", ""), values.get("back", "")
        if move in CONFIRM_MOVES and values.get("confirm") != "yes":
            errors = forms.single(
                "confirm",
                ko="취소하려면 확인란을 선택해 주세요",
                en="Tick the box to confirm the cancellation",
                label=N_("Confirmation"),
            )
            return _confirm_page(request, user, application_id, move, reason=reason, errors=errors)
        override = values.get("override_reason", "") if move in moves.DOCUMENT_GATED else ""
        try:
            with session_scope(engine=request.app.state.engine) as session:
                moves.act(
                    session=session,
                    application_id=application_id,
                    move=move,
                    actor=user,
                    reason=reason,
                    override_reason=override,
                )
        except DomainError as exc:  # the case's own page, with the refusal at its top and the typed text kept
            anchor = f"reason-{move}-{application_id}"
            errors = forms.errors_from(
                exc,
                labels={"reason": N_("Reason"), "override_reason": OVERRIDE_LABEL},
                ids={"reason": anchor, "override_reason": f"override-{move}-{application_id}"},
                form_id=anchor,
            )
            typed = {"move": move, "reason": reason, "override_reason": override}
            return _detail_page(request, user, application_id, errors=errors, form=typed)
        target = back if back.startswith(("/applications/queue/region", "/applications/queue/ministry")) else None
        if target:
            sep = "&" if "?" in target else "?"
            return RedirectResponse(f"{target}{sep}done={move}", status_code=303)
        return RedirectResponse(f"/applications/{application_id}?done={move}", status_code=303)

    handler.__name__ = f"page_{move}"
    return handler


@router.get("/applications/{application_id}/cancel")
def confirm_cancel(request: Request, application_id: int, user: Actor = Depends(require("applications.decide"))):
    return _confirm_page(request, user, application_id, "cancel", reason="")


for _move, (_froms, _to, _action) in moves.MOVES.items():
    if _move == "screen":
        continue
    router.add_api_route(f"/applications/{{application_id}}/{_move}", _page_move(_move, _action), methods=["POST"])
