"""Regional visa programmes / 지역 특화형 비자 프로그램: server-rendered pages (thin: calls programs.service).

The programme list and page (criteria in plain Korean and English, guardrails, quota, versions and a
diff), the draft editor for regional officials (own region only; YAML, validated on save, with live
validation as an enhancement when JavaScript runs) and the public eligibility check.
"""

from __future__ import annotations

import datetime as dt
import re

import yaml
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from regionvisa.accounts import nav
from regionvisa.accounts.policy import PUBLIC_ROUTES, Actor, can
from regionvisa.accounts.ratelimit import limit_match
from regionvisa.config import get_settings
from regionvisa.core.errors import DomainError, Forbidden, NotFound
from regionvisa.core.paging import Page
from regionvisa.db import session_scope
from regionvisa.policyfiles import PolicyError
from regionvisa.programs import design_form, designs, samples, screening, service, simulation, views
from regionvisa.programs.lifecycle import EDIT, PROGRAMME_VERSIONS
from regionvisa.programs.problems import localised
from regionvisa.programs.subjects import read_region, readable
from regionvisa.regions.service import region_names
from regionvisa.rules import FIELDS
from regionvisa.rules.fields import VALUE_CONTEXT, VALUE_LABELS
from regionvisa.web import forms
from regionvisa.web.deps import check_csrf, require
from regionvisa.web.i18n import current_language, translate
from regionvisa.web.labels import N_
from regionvisa.web.templating import render

router = APIRouter(include_in_schema=False)

nav.register(N_("Programmes"), "/programs", action="programs.read", order=20)
nav.register(N_("Eligibility check"), "/match", order=25)

FLASH = {
    "saved": N_("The draft was saved."),
    "submitted": N_("The draft was saved and submitted for approval."),
    "submit": N_("The version was submitted for approval."),
    "approve": N_("The version was approved."),
    "publish": N_("The version was published and is now in force."),
    "retire": N_("The version was retired."),
    "reopen": N_("The version was returned to draft."),
}
MOVE_LABELS = {
    "submit": N_("Submit for approval"),
    "reopen": N_("Return to draft"),
    "approve": N_("Approve"),
    "publish": N_("Publish"),
    "retire": N_("Retire"),
}
# move -> (policy action, state it starts from, button label); the first two from `programs.lifecycle`
MOVES = {
    m: (PROGRAMME_VERSIONS.action(m), PROGRAMME_VERSIONS.from_states(m)[0], label) for m, label in MOVE_LABELS.items()
}
STATUS_LABELS = {
    "draft": N_("draft"),
    "submitted": N_("submitted"),
    "approved": N_("approved"),
    "published": N_("published"),
    "retired": N_("retired"),
}
OUTCOME_LABELS = {
    "eligible": N_("eligible"),
    "ineligible": N_("ineligible"),
    "incomplete": N_("incomplete"),
}
MATCH_FIELDS = [name for name in FIELDS if name != "applicant_id"]


def public(path: str) -> list:
    """Public when accounts.policy.PUBLIC_ROUTES lists the path; until then readers of programmes only."""
    if path in PUBLIC_ROUTES:
        return [Depends(check_csrf)]
    return [Depends(require("programs.read"))]


def _pop_flash(request: Request) -> str | None:
    key = request.session.pop("programs_flash", None) if "session" in request.scope else None
    return FLASH.get(key) if key else None


def _flash(request: Request, key: str) -> None:
    request.session["programs_flash"] = key


def _regions() -> dict[str, str]:
    return region_names(current_language.get())


# ------------------------------------------------------------------------------------ list


@router.get("/programs")
def program_list(
    request: Request, region: str | None = None, page: int = 1, user: Actor = Depends(require("programs.read"))
):
    region = read_region(user, region or None)
    with session_scope(engine=request.app.state.engine) as session:
        rows = [views.program_dict(p, v) for p, v in service.list_programs(session=session, region=region)]
    pager = Page(number=max(1, page), size=50, total=len(rows), base_path="/programs", query={"region": region or ""})
    return render(
        request,
        "programs_list.html",
        {
            "rows": pager.window(rows),
            "page": pager,
            "region": region,
            "names": _regions(),
            "status_labels": STATUS_LABELS,
            "can_edit": can(user, EDIT),  # only whether to show the editor link
            "choices": sorted(_regions().items()) if user.region is None else [],
            "flash": _pop_flash(request),
        },
    )


# ------------------------------------------------------------------------------------ draft editor

TEMPLATE_DESIGN = """id: {slug}
version: 1
region: "{region}"
base_visa: D-2
title: {{ko: 새 광역형 비자, en: New region-led visa}}
valid_from: {today}
valid_to: {end}
quota: 100
residence_area: ["{region}"]
obligation_months: 24
parameters:
  bank_balance_krw: {{{today}: 8000000}}
criteria:
  - id: financial-proof
    label: {{ko: 재정능력 입증, en: Proof of funds}}
    reference: "regional design"
    rule: {{">=": [{{var: bank_balance_krw}}, {{param: bank_balance_krw}}]}}
"""


def _page_errors(exc: PolicyError) -> list[str]:
    """A refused design's lines in the page's language (the English lines are the CLI's and the API's)."""
    return localised(exc.errors, getattr(exc, "problems", None), current_language.get())


def _editor(request: Request, user: Actor, *, text: str, reason: str = "", errors=None, status_code: int = 200):
    """The YAML editor; a refused design's lines are the summary's items, each linked to the editor."""
    label = forms.label_text(N_("Design (YAML)"), "yaml")
    refused = forms.FormErrors(
        items=[forms.FormError("yaml", "draft-yaml", label, line) for line in errors or []], status=status_code
    )
    return render(
        request,
        "programs_editor.html",
        {"text": text, "reason": reason, "errors": refused or None, "region": user.region},
        status_code=status_code,
    )


@router.get("/program-drafts")
def draft_editor(request: Request, program: str | None = None, user: Actor = Depends(require("programs.edit_draft"))):
    return _editor(request, user, text=_draft_text(request, program, user))


def _draft_text(request: Request, program: str | None, user: Actor) -> str:
    """The YAML a new draft starts from: the latest version (numbered after it unless a draft) or the template."""
    if program:
        with session_scope(engine=request.app.state.engine) as session:
            readable(user, service.get_program(session=session, program_id=program), action=EDIT)
            latest = service.get_version(session=session, program_id=program)
            design = dict(latest.design)
            if latest.status != "draft":
                design["version"] = latest.version + 1
        text = designs.design_yaml(design)
    else:
        today = dt.date.today()
        region = user.region or "26"
        text = TEMPLATE_DESIGN.format(
            slug=f"region{region}-draft", region=region, today=today.isoformat(), end=f"{today.year + 1}-12-31"
        )
    return text


@router.post("/program-drafts")
def draft_save(
    request: Request,
    yaml_text: str = Form("", alias="yaml", max_length=200_000),
    reason: str = Form("", max_length=500),
    then: str = Form("save"),
    user: Actor = Depends(require("programs.edit_draft")),
):
    try:
        design = designs.design_from_text(yaml_text)
        service.parse_design(design, source="draft")  # 422 in the editor before anything is stored
    except PolicyError as exc:
        return _editor(request, user, text=yaml_text, reason=reason, errors=_page_errors(exc), status_code=422)
    reason = reason.strip() or "draft saved in the editor"
    with session_scope(engine=request.app.state.engine) as session:
        try:  # the use cases authorise the design's region and its programme's
            row = service.save_draft(session=session, design=design, actor=user, reason=reason)
            if then == "submit":
                service.transition(
                    session=session,
                    program=row.program_id,
                    version=row.version,
                    move="submit",
                    actor=user,
                    reason=reason,
                )
        except Forbidden:
            raise  # the error page, as for any refusal, not the editor
        except PolicyError as exc:
            session.rollback()
            return _editor(request, user, text=yaml_text, reason=reason, errors=_page_errors(exc), status_code=422)
        except DomainError as exc:
            session.rollback()
            text = exc.ko if current_language.get() == "ko" else exc.en
            return _editor(request, user, text=yaml_text, reason=reason, errors=[text], status_code=exc.status)
        program_id = row.program_id
    _flash(request, "submitted" if then == "submit" else "saved")
    return RedirectResponse(f"/programs/{program_id}", status_code=303)


# ------------------------------------------------------------------------------------ form editor

FORM_LABELS = {
    "meta-id": N_("Programme id"),
    "meta-version": N_("Version"),
    "meta-region": N_("Region code"),
    "meta-base_visa": N_("Base visa"),
    "meta-valid_from": N_("Valid from"),
    "meta-valid_to": N_("Valid to"),
    "meta-quota": N_("Quota (places)"),
    "meta-obligation_months": N_("Residence obligation (months)"),
    "meta-kiip_deadline_months": N_("KIIP deadline (months)"),
    "title_ko": N_("Name (Korean)"),
    "title_en": N_("Name (English)"),
    "param": N_("Dated parameter value"),
    "rule": N_("Criterion rule"),
    "extra": N_("Other parts of the design (YAML)"),
    "area": N_("Residence area"),
}
BASE_VISAS = ("D-2", "E-7")  # the two visas the pilot's designs build on (DESIGN §4.1 base_visa)
OP_LABELS = {
    "==": N_("equals"),
    "!=": N_("differs from"),
    "<": N_("less than"),
    "<=": N_("at most"),
    ">": N_("more than"),
    ">=": N_("at least"),
}


def _form_field(path: str, form: design_form.DesignForm) -> tuple[str, str]:
    """(form field name, label key) a validation path `criteria[1].rule` or `parameters.x.2025-01-01` is about."""
    if m := re.match(r"criteria\[(\d+)\]", path):
        return f"rule-{m.group(1)}-value", "rule"
    if m := re.match(r"parameters\.([^.]+)(?:\.(.+))?", path):
        for i, row in enumerate(form.params):
            if row["name"].strip() == m.group(1) and (m.group(2) is None or row["date"].strip() == m.group(2)):
                return f"param-{i}-value", "param"
    top = re.split(r"[.\[]", path)[0]
    if f"meta-{top}" in FORM_LABELS:
        return f"meta-{top}", f"meta-{top}"
    if top == "title":
        return "title_ko", "title_ko"
    if top == "residence_area":
        return "area", "area"
    return "extra", "extra"


def _form_errors(messages: list[str], form: design_form.DesignForm) -> forms.FormErrors:
    """The validator's `draft:path: message` lines as the form pattern's items, beside their fields."""
    lang = current_language.get()
    items = []
    for text in messages:
        where, _, message = text.partition(": ")
        name, label_key = _form_field(where.split(":", 1)[-1], form)
        label = translate(lang, FORM_LABELS[label_key])
        items.append(forms.FormError(field=name, id=name, label=label, message=f"{label}: {message or where}"))
    return forms.FormErrors(items=items, status=422)


RESULT_LABELS = {"pass": N_("pass"), "fail": N_("fail"), "missing": N_("missing")}  # as the explanation pages


def _preview(program) -> dict:
    """The sample applicants of the design's base visa screened against it (nothing is stored)."""
    profiles = samples.load_samples(get_settings().policy_dir / samples.SAMPLES_FILE)
    on = samples.preview_day(program=program, today=dt.date.today())
    rows = samples.preview(program=program, samples=profiles, on=on)
    criteria = [(c.id, c.label) for c in rows[0].explanation.criteria] if rows else []
    return {"on": on, "visa": program.spec.base_visa, "rows": rows, "criteria": criteria}


def _form_page(
    request: Request, user: Actor, form: design_form.DesignForm, *, errors=None, checked=False, preview=None
):
    reason = str(getattr(request.state, "design_reason", ""))
    lang = current_language.get()
    fields = [(name, f.label(lang), f.type) for name, f in FIELDS.items() if name != "applicant_id"]
    names = _regions()
    choices = sorted(names.items()) if user.region is None else [(user.region, names.get(user.region, user.region))]
    return render(
        request,
        "programs_design_form.html",
        {
            "form": form,
            "meta_keys": list(design_form.META),
            "meta_types": {k: {dt.date: "date", int: "int"}.get(t, "text") for k, t in design_form.META.items()},
            "region_choices": choices,
            "region_codes": [code for code, _ in choices],
            # the area is the programme's region (or its districts, written in the YAML block)
            "area_choices": [
                (c, names.get(c, c)) for c in sorted({*form.area, form.meta.get("region") or user.region or ""} - {""})
            ],
            "base_visas": BASE_VISAS,
            "labels": FORM_LABELS,
            "fields": fields,
            "types": {name: kind for name, _, kind in fields},
            "ops": OP_LABELS,
            "errors": errors,
            "checked": checked,
            "preview": preview,
            "outcome_labels": OUTCOME_LABELS,
            "result_labels": RESULT_LABELS,
            "reason": reason,
            "region": user.region,
        },
        status_code=errors.status if errors else 200,
    )


@router.get("/program-drafts/form")
def draft_form(request: Request, program: str | None = None, user: Actor = Depends(require("programs.edit_draft"))):
    text = _draft_text(request, program, user)
    return _form_page(request, user, design_form.from_design(designs.design_from_text(text)))


def _form_act(form: design_form.DesignForm, act: str) -> bool:
    """Add or remove a row (True: the form comes back as typed, nothing checked)."""
    if act == "add-rule":
        design_form.add_rule(form)
    elif act == "add-param":
        design_form.add_param(form)
    elif m := re.fullmatch(r"remove-(rule|param)-(\d+)", act):
        rows = form.rules if m.group(1) == "rule" else form.params
        if int(m.group(2)) < len(rows):
            del rows[int(m.group(2))]
    else:
        return False
    return True


@router.post("/program-drafts/form")
async def draft_form_post(request: Request, user: Actor = Depends(require("programs.edit_draft"))):
    values = await forms.values(request)
    request.state.design_reason = values.get("reason", "")[:500]
    form = design_form.from_fields(values)
    act = values.get("act", "check")
    if _form_act(form, act):
        return _form_page(request, user, form)
    try:
        design = design_form.to_design(form)
        program = service.parse_design(design, source="draft")
    except yaml.YAMLError as exc:
        return _form_page(request, user, form, errors=_form_errors([f"draft:extra: {exc}"], form))
    except PolicyError as exc:
        return _form_page(request, user, form, errors=_form_errors(_page_errors(exc), form))
    if act == "preview":  # the same checks as Check, then the samples screened; nothing is written
        return _form_page(request, user, form, checked=True, preview=_preview(program))
    if act != "save":
        return _form_page(request, user, form, checked=True)
    with session_scope(engine=request.app.state.engine) as session:
        try:  # the same use case as the YAML editor: the design's region and its programme's authorised
            row = service.save_draft(
                session=session,
                design=design,
                actor=user,
                reason=values.get("reason", "").strip()[:500] or "draft saved in the form editor",
            )
        except PolicyError as exc:
            session.rollback()
            return _form_page(request, user, form, errors=_form_errors(_page_errors(exc), form))
        except DomainError as exc:
            if isinstance(exc, Forbidden):
                raise
            session.rollback()
            text = exc.ko if current_language.get() == "ko" else exc.en
            return _form_page(request, user, form, errors=_form_errors([f"draft:extra: {text}"], form))
        program_id = row.program_id
    _flash(request, "saved")
    return RedirectResponse(f"/programs/{program_id}", status_code=303)


# ------------------------------------------------------------------------------------ eligibility check


def _match_page(request: Request, *, values: dict, on: dt.date, result=None, status_code: int = 200):
    lang = current_language.get()
    fields = [
        {
            "name": name,
            "type": FIELDS[name].type,
            "label": FIELDS[name].label(lang),
            "values": [
                (v, translate(lang, VALUE_LABELS.get(v, v), context=VALUE_CONTEXT)) for v in FIELDS[name].values
            ],
            "unit": FIELDS[name].unit,
            "value": values.get(name, ""),
        }
        for name in MATCH_FIELDS
    ]
    return render(
        request,
        "programs_match.html",
        {
            "fields": fields,
            "on": on,
            "result": result,
            "outcome_labels": OUTCOME_LABELS,
            "names": _regions(),
        },
        status_code=status_code,
    )


@router.get("/match", dependencies=public("/match"))
def match_form(request: Request):
    return _match_page(request, values={}, on=dt.date.today())


@router.post("/match", dependencies=[*public("/match"), Depends(limit_match)])
async def match_submit(request: Request):
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in MATCH_FIELDS}
    try:
        on = dt.date.fromisoformat(str(form.get("on", "")).strip())
    except ValueError:
        on = dt.date.today()
    applicant = {k: v for k, v in values.items() if v != ""}
    with session_scope(engine=request.app.state.engine) as session:
        result = screening.match(session=session, applicant=applicant, on=on)
    return _match_page(request, values=values, on=on, result=result)


# ------------------------------------------------------------------------------------ one programme


@router.get("/programs/{program_id}")
def program_page(
    request: Request,
    program_id: str,
    version: int | None = None,
    a: int | None = None,
    b: int | None = None,
    user: Actor = Depends(require("programs.read")),
):
    with session_scope(engine=request.app.state.engine) as session:
        program = readable(user, service.get_program(session=session, program_id=program_id))
        rows = service.versions(session=session, program_id=program_id)
        if not rows:
            raise NotFound(what=f"programme {program_id}")
        shown = next((r for r in rows if r.version == version), None) if version else rows[-1]
        if shown is None:
            raise NotFound(what=f"programme {program_id} version {version}")
        resolved = service.Resolved(service.loaded(shown), shown)
        spec = resolved.loaded.spec
        on = min(max(dt.date.today(), spec.valid_from), spec.valid_to)
        quota = simulation.quota_position(session=session, program=resolved, on=on)
        diff_lines = None
        if a and b:
            by_number = {r.version: r for r in rows}
            if a not in by_number or b not in by_number:
                raise NotFound(what=f"programme {program_id} version {a if a not in by_number else b}")
            diff_lines = service.diff(by_number[a], by_number[b])
        versions = [views.version_dict(r) for r in rows]
    actions = {}
    for row in versions:
        allowed = []
        for move, (action, before, label) in MOVES.items():
            if row["status"] == before and can(user, action, program.region):  # only which buttons to show
                allowed.append((move, label))
        actions[row["version"]] = allowed
    return render(
        request,
        "programs_detail.html",
        {
            "program": program,
            "spec": spec.model_dump(mode="json"),
            "shown": views.version_dict(shown),
            "criteria": views.criteria_view(resolved),
            "points": views.points_view(resolved),
            "parameters": views.parameters_view(resolved),
            "guardrails": views.guardrails_view(spec.base_visa),
            "quota": quota,
            "versions": versions,
            "actions": actions,
            "diff": diff_lines,
            "a": a,
            "b": b,
            "names": _regions(),
            "status_labels": STATUS_LABELS,
            "can_edit": can(user, EDIT, program.region),  # only whether to show the editor link
            "flash": _pop_flash(request),
        },
    )


def _move_route(move: str, action: str):
    def handler(
        request: Request,
        program_id: str,
        version: int,
        reason: str = Form("", max_length=500),
        user: Actor = Depends(require(action)),
    ):
        with session_scope(engine=request.app.state.engine) as session:  # the use case authorises the edge's action
            service.transition(
                session=session,
                program=program_id,
                version=version,
                move=move,
                actor=user,
                reason=reason.strip() or move,
            )
        _flash(request, move)
        return RedirectResponse(f"/programs/{program_id}", status_code=303)

    handler.__name__ = f"page_{move}_version"
    return handler


for _move, (_action, _before, _label) in MOVES.items():
    router.add_api_route(
        f"/programs/{{program_id}}/versions/{{version}}/{_move}", _move_route(_move, _action), methods=["POST"]
    )
