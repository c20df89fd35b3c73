"""Selection rounds / 선정 심사: server-rendered pages (thin: calls selection.service).

Forms post back with the session's CSRF token and redirect (303) on success; a refused form comes
back in the pattern of `web.forms` (selection.page_forms words its refusals): an error summary
linking to the fields, each message beside its field with the field's label (every guardrail line
of a design beside its slot), the typed values kept and the refusal's status.
"""

from __future__ import annotations

import datetime as dt

import yaml
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from regionvisa.accounts.nav import register
from regionvisa.accounts.policy import Actor, can
from regionvisa.core.errors import DomainError, Invalid
from regionvisa.core.paging import Page
from regionvisa.db import session_scope
from regionvisa.regions.service import region_names
from regionvisa.selection import committee, minutes, page_forms, proposals, round_form, rounds, service
from regionvisa.selection.labels import PHASE_LABELS, ROLE_LABELS, SOURCE_LABELS
from regionvisa.selection.schemas import (
    ConflictsIn,
    DesignIn,
    MemberIn,
    ProposalIn,
)
from regionvisa.web import forms
from regionvisa.web.deps import require
from regionvisa.web.i18n import current_language
from regionvisa.web.labels import N_
from regionvisa.web.templating import render

ROUNDS_PER_PAGE = 20

router = APIRouter(include_in_schema=False)
register(N_("Selection"), "/selection", action="selection.read", order=30)

DESIGN_SLOTS = 3
FLASH = {
    "round_opened": N_("The round was opened."),
    "window_closed": N_("The submission window was closed."),
    "scoring_closed": N_("Scoring was closed: members now see every score."),
    "scoring_reopened": N_("Scoring was reopened."),
    "member_added": N_("The member was added."),
    "proposal_saved": N_("The proposal was submitted. Earlier versions are kept."),
    "declared": N_("Your declaration was recorded."),
    "scored": N_("Your scores were saved."),
    "decided": N_("The decisions were confirmed and the results published."),
}


def _engine(request: Request):
    return request.app.state.engine


def _lang() -> str:
    return current_language.get()


def _flash(request: Request, key: str) -> None:
    request.session["selection_flash"] = key


def _pop_flash(request: Request) -> str | None:
    key = request.session.pop("selection_flash", None) if "session" in request.scope else None
    return FLASH.get(key) if key else None


# The forms' fields by the names the schemas give them: a refused value is named by its label.
FIELD_LABELS = {
    "year": N_("Year"),
    "window_opens_at": N_("Submissions open on"),
    "window_closes_at": N_("Submissions close at the end of"),
    "threshold": N_("Selection threshold (aggregate score, 0–100)"),
    "quorum": N_("Quorum (share of the members who are not recused)"),
    "max_selected": N_("Most regions selected (optional)"),
    "quota_ceiling": N_("National quota ceiling (optional)"),
    "rubric": N_("Rubric (YAML: id, weight, label and description in Korean and English)"),
    "weight": N_("Weight"),
    "meeting_on": N_("Meeting date"),
    "narrative": N_("Plan narrative"),
    "designs": N_("Programme design (YAML)"),
    "design": N_("Programme design (YAML)"),
    "requested_quota": N_("Requested quota"),
    "attachments": N_("Attachments"),
    "score": N_("Score"),
    "comment": N_("Comment"),
    "username": N_("User name (a committee-member account)"),
    "role": N_("Role"),
    "affiliation": N_("Affiliation"),
    "affiliation_region": N_("Affiliated with a region (declared as a conflict automatically)"),
    "reason": N_("Reason"),
}


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


# --------------------------------------------------------------------------- rounds


def _rounds_page(
    request: Request,
    user: Actor,
    *,
    errors: forms.FormErrors | None = None,
    form: dict | None = None,
    status_code=200,
    page=1,
):
    with session_scope(engine=_engine(request)) as session:
        every = rounds.list_rounds(session=session)
        pager = Page(number=page, size=ROUNDS_PER_PAGE, total=len(every), base_path="/selection")
        listed = [rounds.round_dict(r) for r in pager.window(every)]
    form = form or round_form.initial_values(dt.date.today())
    return render(
        request,
        "selection_rounds.html",
        {
            "rounds": listed,
            "page": pager,
            "phase_labels": PHASE_LABELS,
            "can_manage": can(user, "selection.manage"),  # shows the form that opens a round
            "errors": errors,
            "form": form,
            "criteria_rows": list(range(1, round_form.row_count(form) + 1)),
            "flash": _pop_flash(request),
        },
        status_code=errors.status if errors else status_code,
    )


@router.get("/selection")
def rounds_page(request: Request, page: int = Query(1, ge=1), user: Actor = Depends(require("selection.read"))):
    return _rounds_page(request, user, page=page)


@router.post("/selection/rounds")
async def open_round(request: Request, user: Actor = Depends(require("selection.manage"))):
    values = await forms.values(request)
    if values.get("add_criterion"):  # one more empty row, nothing stored (works without JavaScript)
        return _rounds_page(request, user, form=values)
    parsed = round_form.parse(values)
    if parsed.errors:
        return _rounds_page(request, user, errors=parsed.errors, form=values)
    with session_scope(engine=_engine(request)) as session:
        rnd = service.open_round(session=session, data=parsed.data, actor=user)
        round_id = rnd.id
    _flash(request, "round_opened")
    return _redirect(f"/selection/rounds/{round_id}")


def _round_page(request: Request, user: Actor, round_id: int, *, errors=None, form=None):
    lang = _lang()
    with session_scope(engine=_engine(request)) as session:
        rnd = rounds.get_round(session=session, round_id=round_id)
        names = committee.member_names(session=session, round_id=round_id)
        recusals: dict[int, list[str]] = {}
        for c in committee.conflicts(session=session, round_id=round_id):
            recusals.setdefault(c.member_id, []).append(c.region)
        members = [
            {
                "id": m.id,
                "name": names.get(m.id, ""),
                "role": m.role,
                "affiliation": m.affiliation,
                "declared": m.declared_at is not None,
                "recused": sorted(recusals.get(m.id, [])),
            }
            for m in committee.members(session=session, round_id=round_id)
        ]
        visible = set(proposals.visible_regions(session=session, rnd=rnd, actor=user))
        proposal_rows = [
            {"region": p.region, "version": p.current_version, "updated": rounds.local_time(p.updated_at)}
            for p in proposals.list_proposals(session=session, round_id=round_id)
            if p.region in visible
        ]
        progress = [t.as_dict() for t in service.progress_visible(session=session, rnd=rnd, actor=user)]
        results = service.results(session=session, round_id=round_id, actor=user) if rnd.status == "decided" else []
        me = committee.maybe_member(session=session, rnd=rnd, actor=user)
        ctx = {
            "round": rounds.round_dict(rnd),
            "rubric": rnd.rubric,
            "window": (rounds.local_time(rnd.window_opens_at), rounds.local_time(rnd.window_closes_at)),
            "members": members,
            "proposals": proposal_rows,
            "progress": progress,
            "results": results,
            "region_names": region_names(lang),
            "phase_labels": PHASE_LABELS,
            "role_labels": ROLE_LABELS,
            # `can` only decides which buttons and links show; each move is authorised by its use case
            "can_manage": can(user, "selection.manage"),
            "can_submit": can(user, "proposals.submit"),
            "own_region": user.region,
            "is_member": me is not None,
            "is_chair": me is not None and me.role == "chair",
            "errors": errors,
            "form": form or {},
            "flash": _pop_flash(request),
        }
    return render(request, "selection_round.html", ctx, status_code=errors.status if errors else 200)


@router.get("/selection/rounds/{round_id}")
def round_page(request: Request, round_id: int, user: Actor = Depends(require("selection.read"))):
    return _round_page(request, user, round_id)


@router.post("/selection/rounds/{round_id}/close-window")
async def close_window(request: Request, round_id: int, user: Actor = Depends(require("selection.manage"))):
    form = await forms.values(request)
    try:
        with session_scope(engine=_engine(request)) as session:
            service.close_window(session=session, rnd=round_id, actor=user, reason=form.get("reason") or "")
    except DomainError as exc:
        ids, form_id = page_forms.CLOSE_WINDOW_IDS, page_forms.CLOSE_WINDOW_FORM
        errors = page_forms.refused(exc, labels=page_forms.REASON_LABELS, ids=ids, form_id=form_id)
        return _round_page(request, user, round_id, errors=errors, form=form)
    _flash(request, "window_closed")
    return _redirect(f"/selection/rounds/{round_id}")


@router.post("/selection/rounds/{round_id}/close-scoring")
def close_scoring(request: Request, round_id: int, user: Actor = Depends(require("selection.manage"))):
    try:
        with session_scope(engine=_engine(request)) as session:
            service.close_scoring(session=session, rnd=round_id, actor=user)
    except DomainError as exc:
        errors = page_forms.refused(exc, labels={}, form_id=page_forms.CLOSE_SCORING_FORM)
        return _round_page(request, user, round_id, errors=errors)
    _flash(request, "scoring_closed")
    return _redirect(f"/selection/rounds/{round_id}")


@router.post("/selection/rounds/{round_id}/reopen-scoring")
async def reopen_scoring(request: Request, round_id: int, user: Actor = Depends(require("selection.manage"))):
    form = await forms.values(request)
    try:
        with session_scope(engine=_engine(request)) as session:
            service.reopen_scoring(session=session, rnd=round_id, actor=user, reason=form.get("reason") or "")
    except DomainError as exc:
        ids, form_id = page_forms.REOPEN_IDS, page_forms.REOPEN_FORM
        errors = page_forms.refused(exc, labels=page_forms.REASON_LABELS, ids=ids, form_id=form_id)
        return _round_page(request, user, round_id, errors=errors, form=form)
    _flash(request, "scoring_reopened")
    return _redirect(f"/selection/rounds/{round_id}")


@router.post("/selection/rounds/{round_id}/members")
async def add_member(request: Request, round_id: int, user: Actor = Depends(require("selection.manage"))):
    form = await forms.values(request)
    with session_scope(engine=_engine(request)) as session:
        rounds.get_round(session=session, round_id=round_id)  # an unknown round is a 404 page
    try:
        data = MemberIn(
            username=form.get("username") or "",
            role=form.get("role") or "",
            affiliation=form.get("affiliation") or "",
            affiliation_region=form.get("affiliation_region") or None,
        )
        with session_scope(engine=_engine(request)) as session:
            committee.add_member(session=session, rnd=round_id, data=data, actor=user)
    except (ValidationError, DomainError) as exc:
        if isinstance(exc, DomainError) and exc.status == 404:  # an unknown user name, not an unknown page
            name = form.get("username") or ""
            exc = Invalid(
                code="unknown_user",
                ko="이 이름의 사용자 계정이 없습니다",
                en=f"no user account is named {name!r}",
                field="username",
            )
        ids, form_id = page_forms.MEMBER_IDS, page_forms.MEMBER_FORM
        errors = page_forms.refused(exc, labels=page_forms.MEMBER_LABELS, ids=ids, form_id=form_id)
        return _round_page(request, user, round_id, errors=errors, form=form)
    _flash(request, "member_added")
    return _redirect(f"/selection/rounds/{round_id}")


# --------------------------------------------------------------------------- proposals


def _design_yaml(design: dict) -> str:
    return yaml.safe_dump(design, allow_unicode=True, sort_keys=False)


def _proposal_page(
    request: Request,
    user: Actor,
    round_id: int,
    region: str,
    *,
    form=None,
    errors: forms.FormErrors | None = None,
):
    lang = _lang()
    with session_scope(engine=_engine(request)) as session:
        rnd = proposals.viewable_round(session=session, round_id=round_id, region=region, actor=user)
        proposal = None
        history = []
        current = None
        try:
            proposal = proposals.get_proposal(session=session, round_id=round_id, region=region)
        except DomainError:
            proposal = None
        if proposal is not None:
            history = [
                proposals.version_dict(session=session, version=v)
                for v in proposals.versions(session=session, proposal=proposal)
            ]
            current = history[-1]
            for d in current["designs"]:
                d["plain"] = proposals.plain_design(d["design"], lang)
        result = None
        if rnd.status == "decided":
            result = next(
                (r for r in service.results(session=session, round_id=round_id, actor=user) if r["region"] == region),
                None,
            )
        phase = rounds.phase(rnd)
        may_submit = can(user, "proposals.submit", region) and phase == "submission"  # shows the form only
        if form is None:
            form = {"narrative": current["narrative"] if current else ""}
            for i in range(DESIGN_SLOTS):
                d = current["designs"][i] if current and i < len(current["designs"]) else None
                form[f"design_{i + 1}"] = _design_yaml(d["design"]) if d else ""
                form[f"quota_{i + 1}"] = str(d["requested_quota"]) if d else ""
        saved = proposals.saved_designs(session=session, region=region) if may_submit else []
        ctx = {
            "saved_designs": saved,
            "round": rounds.round_dict(rnd),
            "region": region,
            "region_name": region_names(lang).get(region, region),
            "current": current,
            "history": history,
            "result": result,
            "phase_labels": PHASE_LABELS,
            "may_submit": may_submit,
            "window": (rounds.local_time(rnd.window_opens_at), rounds.local_time(rnd.window_closes_at)),
            "slots": list(range(1, DESIGN_SLOTS + 1)),
            "form": form,
            "errors": errors,
            "flash": _pop_flash(request),
        }
    return render(request, "selection_proposal.html", ctx, status_code=errors.status if errors else 200)


def _refused_upload(request: Request, errors: forms.FormErrors, values: dict[str, str]):
    """The proposal page again, the refused upload's message beside the attachments field (the
    form as last submitted when the refused body was never read)."""
    params = request.path_params
    return _proposal_page(
        request, request.state.user, int(params["round_id"]), params["region"], errors=errors, form=values or None
    )


PROPOSAL_FORM = forms.UploadForm(
    render=_refused_upload, file_field="attachments", labels={"attachments": N_("Attachments")}
)


def _chosen_designs(*, session, region: str, values: dict[str, str]) -> list[tuple]:
    """Each filled slot's number, design and requested quota; a design is pasted as YAML or chosen
    from the region's saved designs (not both)."""
    designs = []
    for i in range(1, DESIGN_SLOTS + 1):
        text = (values.get(f"design_{i}") or "").strip()
        choice = (values.get(f"saved_{i}") or "").strip()
        if choice and text:
            raise Invalid(
                code="two_designs",
                ko="저장된 설계를 고르거나 YAML을 붙여 넣으세요. 둘 다 할 수는 없습니다",
                en="choose a saved design or paste YAML, not both",
                field=f"saved_{i}",
            )
        design = (
            proposals.saved_design(session=session, region=region, choice=choice, field=f"saved_{i}")
            if choice
            else text
        )
        if design:
            designs.append((i, design, (values.get(f"quota_{i}") or "").strip()))
    return designs


@router.get("/selection/rounds/{round_id}/proposals/{region}")
def proposal_page(request: Request, round_id: int, region: str, user: Actor = Depends(require("selection.read"))):
    return _proposal_page(request, user, round_id, region)


@router.post("/selection/rounds/{round_id}/proposals/{region}")
@forms.upload_form(PROPOSAL_FORM)
async def submit_proposal(
    request: Request, round_id: int, region: str, user: Actor = Depends(require("proposals.submit"))
):
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    files = []
    for upload in form.getlist("attachments"):
        if isinstance(upload, UploadFile) and upload.filename:
            files.append((upload.filename, upload.content_type or "application/octet-stream", await upload.read()))
    slots: list[int] = []
    try:
        with session_scope(engine=_engine(request)) as session:
            designs = _chosen_designs(session=session, region=region, values=values)
        slots = [i for i, _t, _q in designs]
        bad_quota = [(i, q) for i, _t, q in designs if q and not q.isdigit()]
        if bad_quota:
            raise Invalid(
                code="invalid_quota",
                ko=f"0 이상의 정수로 입력해 주세요: {bad_quota[0][1]}",
                en=f"must be a whole number, 0 or more: {bad_quota[0][1]!r}",
                field=f"quota_{bad_quota[0][0]}",
            )
        data = ProposalIn(
            designs=[DesignIn(design=t, requested_quota=int(q) if q else None) for _i, t, q in designs],
            narrative=values.get("narrative") or "",
            keep_attachments=values.get("drop_attachments") != "on",
        )
        with session_scope(engine=_engine(request)) as session:
            proposals.submit_proposal(
                session=session, round_id=round_id, region=region, data=data, actor=user, files=files
            )
    except ValidationError as exc:
        errors = page_forms.proposal_schema_errors(exc, slots)
        return _proposal_page(request, user, round_id, region, errors=errors, form=values)
    except proposals.InvalidProposal as exc:  # every guardrail line beside its slot's design
        errors = page_forms.proposal_detail_errors(exc.lines(_lang()), slots)
        return _proposal_page(request, user, round_id, region, errors=errors, form=values)
    except DomainError as exc:
        labels, ids = page_forms.proposal_labels(), page_forms.PROPOSAL_IDS
        errors = page_forms.refused(exc, labels=labels, ids=ids, form_id=page_forms.PROPOSAL_FORM)
        return _proposal_page(request, user, round_id, region, errors=errors, form=values)
    _flash(request, "proposal_saved")
    return _redirect(f"/selection/rounds/{round_id}/proposals/{region}")


@router.get("/selection/rounds/{round_id}/attachments/{attachment_id}")
def attachment(request: Request, round_id: int, attachment_id: int, user: Actor = Depends(require("selection.read"))):
    with session_scope(engine=_engine(request)) as session:
        att = proposals.get_attachment(session=session, round_id=round_id, attachment_id=attachment_id, actor=user)
        content, ctype, name = att.content, att.content_type, att.filename
    safe = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in name)
    return Response(content, media_type=ctype, headers={"Content-Disposition": f'attachment; filename="{safe}"'})


# --------------------------------------------------------------------------- scoring


def _score_list_page(request: Request, user: Actor, round_id: int, *, errors=None, form=None):
    lang = _lang()
    with session_scope(engine=_engine(request)) as session:
        rnd = rounds.get_round(session=session, round_id=round_id)
        member = committee.member_of(session=session, rnd=rnd, actor=user)
        recused = committee.recused_regions(session=session, member=member)
        mine = service.scores_visible_to(session=session, rnd=rnd, actor=user)
        done = {s["region"] for s in mine if s["member_id"] == member.id}
        regions = [p.region for p in proposals.list_proposals(session=session, round_id=round_id)]
        conflicts = [
            {"region": c.region, "source": c.source, "reason": c.reason}
            for c in committee.conflicts(session=session, round_id=round_id)
            if c.member_id == member.id
        ]
        ctx = {
            "round": rounds.round_dict(rnd),
            "member": {"role": member.role, "affiliation": member.affiliation, "declared": member.declared_at},
            "proposals": [{"region": r, "scored": r in done} for r in regions if r not in recused],
            "recused": sorted(recused & set(regions)),
            "conflicts": conflicts,
            "region_names": region_names(lang),
            "all_regions": sorted(region_names(lang).items()),
            "phase_labels": PHASE_LABELS,
            "role_labels": ROLE_LABELS,
            "source_labels": SOURCE_LABELS,
            "errors": errors,
            "form": form or {"regions": [], "reason": ""},
            "flash": _pop_flash(request),
        }
    return render(request, "selection_score_list.html", ctx, status_code=errors.status if errors else 200)


@router.get("/selection/rounds/{round_id}/score")
def score_list(request: Request, round_id: int, user: Actor = Depends(require("committee.score"))):
    return _score_list_page(request, user, round_id)


@router.post("/selection/rounds/{round_id}/conflicts")
async def declare(request: Request, round_id: int, user: Actor = Depends(require("committee.score"))):
    posted = await request.form()
    form = {"regions": [str(r) for r in posted.getlist("regions")], "reason": str(posted.get("reason") or "")}
    try:
        data = ConflictsIn(**form)
        with session_scope(engine=_engine(request)) as session:
            committee.declare_conflicts(session=session, rnd=round_id, data=data, actor=user)
    except (ValidationError, DomainError) as exc:
        labels, ids = page_forms.DECLARE_LABELS, page_forms.DECLARE_IDS
        errors = page_forms.refused(exc, labels=labels, ids=ids, form_id=page_forms.DECLARE_FORM)
        return _score_list_page(request, user, round_id, errors=errors, form=form)
    _flash(request, "declared")
    return _redirect(f"/selection/rounds/{round_id}/score")


def _score_page(request: Request, user: Actor, round_id: int, region: str, *, errors=None, form=None):
    lang = _lang()
    with session_scope(engine=_engine(request)) as session:
        rnd = rounds.get_round(session=session, round_id=round_id)
        member = committee.member_of(session=session, rnd=rnd, actor=user)
        proposals.check_can_view_proposal(session=session, rnd=rnd, region=region, actor=user)
        proposal = proposals.get_proposal(session=session, round_id=round_id, region=region)
        version = proposals.version_dict(
            session=session, version=proposals.current_version(session=session, proposal=proposal)
        )
        for d in version["designs"]:
            d["plain"] = proposals.plain_design(d["design"], lang)
        visible = [s for s in service.scores_visible_to(session=session, rnd=rnd, actor=user) if s["region"] == region]
        own = {s["criterion"]: s for s in visible if s["member_id"] == member.id}
        others = [s for s in visible if s["member_id"] != member.id]
        if form is None:
            form = {}
            for c in rnd.rubric:
                form[f"score_{c['id']}"] = str(own[c["id"]]["score"]) if c["id"] in own else ""
                form[f"comment_{c['id']}"] = own[c["id"]]["comment"] if c["id"] in own else ""
        tally = None
        if rnd.status != "open":
            tally = next((t.as_dict() for t in service.tally(session=session, rnd=rnd) if t.region == region), None)
        ctx = {
            "round": rounds.round_dict(rnd),
            "region": region,
            "region_name": region_names(lang).get(region, region),
            "version": version,
            "rubric": rnd.rubric,
            "form": form,
            "others": others,
            "tally": tally,
            "may_score": rounds.phase(rnd) == "scoring" and member.declared_at is not None,
            "declared": member.declared_at is not None,
            "phase_labels": PHASE_LABELS,
            "errors": errors,
            "flash": _pop_flash(request),
        }
    return render(request, "selection_score.html", ctx, status_code=errors.status if errors else 200)


@router.get("/selection/rounds/{round_id}/score/{region}")
def score_page(request: Request, round_id: int, region: str, user: Actor = Depends(require("committee.score"))):
    return _score_page(request, user, round_id, region)


@router.post("/selection/rounds/{round_id}/score/{region}")
async def score(request: Request, round_id: int, region: str, user: Actor = Depends(require("committee.score"))):
    form = await forms.values(request)
    with session_scope(engine=_engine(request)) as session:
        rubric = list(rounds.get_round(session=session, round_id=round_id).rubric)
    labels, ids = page_forms.score_labels(rubric), page_forms.score_ids(rubric)
    data, errors = page_forms.parse_scores(form, rubric)
    try:
        if errors:  # the service decides first whether this member may score this region at all
            with session_scope(engine=_engine(request)) as session:
                rnd = rounds.get_round(session=session, round_id=round_id)
                committee.member_of(session=session, rnd=rnd, actor=user)
                proposals.check_can_view_proposal(session=session, rnd=rnd, region=region, actor=user)
            return _score_page(request, user, round_id, region, errors=errors, form=form)
        with session_scope(engine=_engine(request)) as session:
            service.save_scores(session=session, rnd=round_id, region=region, data=data, actor=user)
    except DomainError as exc:
        errors = page_forms.refused(exc, labels=labels, ids=ids, form_id=page_forms.SCORE_FORM)
        return _score_page(request, user, round_id, region, errors=errors, form=form)
    _flash(request, "scored")
    return _redirect(f"/selection/rounds/{round_id}/score")


# --------------------------------------------------------------------------- the chair's decision


def _decision_page(request: Request, user: Actor, round_id: int, *, errors=None, form=None):
    lang = _lang()
    with session_scope(engine=_engine(request)) as session:
        rnd = rounds.get_round(session=session, round_id=round_id)
        committee.require_chair(session=session, rnd=rnd, actor=user)
        tallies = [t.as_dict() for t in service.tally(session=session, rnd=rnd)] if rnd.status != "open" else []
        tallies.sort(key=lambda t: (t["rank"] is None, t["rank"] or 0, t["region"]))
        short = [t for t in tallies if not t["quorum_met"]]
        results = service.results(session=session, round_id=round_id, actor=user) if rnd.status == "decided" else []
        ctx = {
            "round": rounds.round_dict(rnd),
            "rubric": rnd.rubric,
            "tallies": tallies,
            "short": short,
            "results": results,
            "region_names": region_names(lang),
            "phase_labels": PHASE_LABELS,
            "form": form or {},
            "today": dt.datetime.now(rounds.KST).date().isoformat(),
            "errors": errors,
            "flash": _pop_flash(request),
        }
    return render(request, "selection_decision.html", ctx, status_code=errors.status if errors else 200)


@router.get("/selection/rounds/{round_id}/decision")
def decision_page(request: Request, round_id: int, user: Actor = Depends(require("committee.score"))):
    return _decision_page(request, user, round_id)


@router.post("/selection/rounds/{round_id}/decision")
async def decide(request: Request, round_id: int, user: Actor = Depends(require("committee.score"))):
    form = await forms.values(request)
    data, errors = page_forms.parse_decision(form)
    if errors:
        return _decision_page(request, user, round_id, errors=errors, form=form)
    try:
        with session_scope(engine=_engine(request)) as session:
            service.confirm_decisions(session=session, rnd=round_id, data=data, actor=user)
    except DomainError as exc:
        labels, ids = page_forms.decision_labels(form), page_forms.decision_ids(form)
        errors = page_forms.refused(exc, labels=labels, ids=ids, form_id=page_forms.DECISION_FORM)
        return _decision_page(request, user, round_id, errors=errors, form=form)
    _flash(request, "decided")
    return _redirect(f"/selection/rounds/{round_id}")


@router.get("/selection/rounds/{round_id}/minutes")
def minutes_file(
    request: Request,
    round_id: int,
    language: str | None = None,
    format: str = "html",
    user: Actor = Depends(require("selection.read")),
):
    language = language or _lang()  # the page's language unless the link names one
    with session_scope(engine=_engine(request)) as session:
        data = minutes.render(session=session, round_id=round_id, actor=user, lang=language, fmt=format)
    if format == "pdf":
        name = f"selection-{round_id}-minutes-{language}.pdf"
        headers = {"Content-Disposition": f'inline; filename="{name}"'}
        return Response(data, media_type="application/pdf", headers=headers)
    return Response(data, media_type="text/html; charset=utf-8")
