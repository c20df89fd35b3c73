"""Selection rounds / 선정 심사: REST API under /api/v1 (thin: calls selection.service)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from regionvisa.accounts.policy import Actor
from regionvisa.core.paging import Page
from regionvisa.db import session_scope
from regionvisa.selection import committee, minutes, proposals, rounds, service
from regionvisa.selection.schemas import ConflictsIn, DecisionIn, MemberIn, ProposalIn, RoundIn, ScoresIn
from regionvisa.web.deps import require
from regionvisa.web.errors import ERROR_RESPONSES

router = APIRouter(prefix="/selection", tags=["selection"], responses=ERROR_RESPONSES)


def _engine(request: Request):
    return request.app.state.engine


PAGE = Query(1, ge=1)
PAGE_SIZE = Query(50, ge=1, le=500)


def _paged(items: list, page: int, page_size: int, **extra) -> dict:
    pager = Page(number=page, size=page_size, total=len(items))
    return {**extra, **pager.meta(), "items": pager.window(items)}


@router.get("/rounds")
def list_rounds(
    request: Request, page: int = PAGE, page_size: int = PAGE_SIZE, user: Actor = Depends(require("selection.read"))
):
    with session_scope(engine=_engine(request)) as session:
        return _paged([rounds.round_dict(r) for r in rounds.list_rounds(session=session)], page, page_size)


@router.post("/rounds", status_code=201)
def open_round(request: Request, body: RoundIn, user: Actor = Depends(require("selection.manage"))):
    with session_scope(engine=_engine(request)) as session:
        rnd = service.open_round(session=session, data=body, actor=user)
        return rounds.round_dict(rnd)


@router.get("/rounds/{round_id}")
def get_round(request: Request, round_id: int, user: Actor = Depends(require("selection.read"))):
    with session_scope(engine=_engine(request)) as session:
        rnd = rounds.get_round(session=session, round_id=round_id)
        data = rounds.round_dict(rnd)
        data["members"] = [
            {"id": m.id, "name": name, "role": m.role, "affiliation": m.affiliation}
            for m, name in (
                (m, committee.member_names(session=session, round_id=round_id).get(m.id, ""))
                for m in committee.members(session=session, round_id=round_id)
            )
        ]
        data["proposals"] = proposals.visible_regions(session=session, rnd=rnd, actor=user)
        return data


@router.post("/rounds/{round_id}/close-window")
def close_window(
    request: Request, round_id: int, reason: str = Query(...), user: Actor = Depends(require("selection.manage"))
):
    with session_scope(engine=_engine(request)) as session:
        return rounds.round_dict(service.close_window(session=session, rnd=round_id, actor=user, reason=reason))


@router.post("/rounds/{round_id}/close-scoring")
def close_scoring(request: Request, round_id: int, user: Actor = Depends(require("selection.manage"))):
    with session_scope(engine=_engine(request)) as session:
        return rounds.round_dict(service.close_scoring(session=session, rnd=round_id, actor=user))


@router.post("/rounds/{round_id}/reopen-scoring")
def reopen_scoring(
    request: Request, round_id: int, reason: str = Query(...), user: Actor = Depends(require("selection.manage"))
):
    with session_scope(engine=_engine(request)) as session:
        return rounds.round_dict(service.reopen_scoring(session=session, rnd=round_id, actor=user, reason=reason))


@router.post("/rounds/{round_id}/members", status_code=201)
def add_member(request: Request, round_id: int, body: MemberIn, user: Actor = Depends(require("selection.manage"))):
    with session_scope(engine=_engine(request)) as session:
        member = committee.add_member(session=session, rnd=round_id, data=body, actor=user)
        return {
            "id": member.id,
            "role": member.role,
            "affiliation": member.affiliation,
            "recused_regions": sorted(committee.recused_regions(session=session, member=member)),
        }


@router.post("/rounds/{round_id}/conflicts")
def declare_conflicts(
    request: Request, round_id: int, body: ConflictsIn, user: Actor = Depends(require("committee.score"))
):
    with session_scope(engine=_engine(request)) as session:
        member = committee.declare_conflicts(session=session, rnd=round_id, data=body, actor=user)
        return {
            "member_id": member.id,
            "recused_regions": sorted(committee.recused_regions(session=session, member=member)),
        }


@router.get("/rounds/{round_id}/proposals")
def list_proposals(
    request: Request,
    round_id: int,
    page: int = PAGE,
    page_size: int = PAGE_SIZE,
    user: Actor = Depends(require("selection.read")),
):
    with session_scope(engine=_engine(request)) as session:
        rnd = rounds.get_round(session=session, round_id=round_id)
        regions = set(proposals.visible_regions(session=session, rnd=rnd, actor=user))
        items = [
            {"region": p.region, "version": p.current_version, "updated_at": rounds.as_utc(p.updated_at)}
            for p in proposals.list_proposals(session=session, round_id=round_id)
            if p.region in regions
        ]
        return _paged(items, page, page_size)


@router.put("/rounds/{round_id}/proposals/{region}", status_code=201)
def submit_proposal(
    request: Request,
    round_id: int,
    region: str,
    body: ProposalIn,
    user: Actor = Depends(require("proposals.submit")),
):
    with session_scope(engine=_engine(request)) as session:
        version = proposals.submit_proposal(session=session, round_id=round_id, region=region, data=body, actor=user)
        return proposals.version_dict(session=session, version=version)


@router.get("/rounds/{round_id}/proposals/{region}")
def get_proposal(request: Request, round_id: int, region: str, user: Actor = Depends(require("selection.read"))):
    with session_scope(engine=_engine(request)) as session:
        proposals.viewable_round(session=session, round_id=round_id, region=region, actor=user)
        proposal = proposals.get_proposal(session=session, round_id=round_id, region=region)
        return {
            "region": region,
            "current_version": proposal.current_version,
            "versions": [
                proposals.version_dict(session=session, version=v)
                for v in proposals.versions(session=session, proposal=proposal)
            ],
        }


@router.put("/rounds/{round_id}/proposals/{region}/scores")
def save_scores(
    request: Request,
    round_id: int,
    region: str,
    body: ScoresIn,
    user: Actor = Depends(require("committee.score")),
):
    with session_scope(engine=_engine(request)) as session:
        rows = service.save_scores(session=session, rnd=round_id, region=region, data=body, actor=user)
        return {"region": region, "scores": {r.criterion: {"score": r.score, "comment": r.comment} for r in rows}}


@router.get("/rounds/{round_id}/scores")
def list_scores(
    request: Request,
    round_id: int,
    page: int = PAGE,
    page_size: int = PAGE_SIZE,
    user: Actor = Depends(require("selection.read")),
):
    with session_scope(engine=_engine(request)) as session:
        rnd = rounds.get_round(session=session, round_id=round_id)
        return _paged(
            service.scores_visible_to(session=session, rnd=rnd, actor=user),
            page,
            page_size,
            closed=rnd.status != "open",
        )


@router.get("/rounds/{round_id}/tally")
def get_tally(
    request: Request,
    round_id: int,
    page: int = PAGE,
    page_size: int = PAGE_SIZE,
    user: Actor = Depends(require("selection.read")),
):
    with session_scope(engine=_engine(request)) as session:
        rnd = rounds.get_round(session=session, round_id=round_id)
        tallies = service.tally_visible(session=session, rnd=rnd, actor=user)
        hide_scores = rnd.status == "open"
        items = []
        for t in tallies:
            row = t.as_dict()
            if hide_scores:  # progress only, until scoring closes
                row = {k: row[k] for k in ("region", "eligible", "recused", "scorers", "quorum_required", "quorum_met")}
            items.append(row)
        return _paged(items, page, page_size, status=rnd.status)


@router.post("/rounds/{round_id}/decision")
def confirm_decision(
    request: Request, round_id: int, body: DecisionIn, user: Actor = Depends(require("committee.score"))
):
    with session_scope(engine=_engine(request)) as session:
        service.confirm_decisions(session=session, rnd=round_id, data=body, actor=user)
        results = service.results(session=session, round_id=round_id, actor=user)
        return _paged(results, 1, max(len(results), 1))


@router.get("/rounds/{round_id}/results")
def get_results(
    request: Request,
    round_id: int,
    page: int = PAGE,
    page_size: int = PAGE_SIZE,
    user: Actor = Depends(require("selection.read")),
):
    with session_scope(engine=_engine(request)) as session:
        return _paged(service.results(session=session, round_id=round_id, actor=user), page, page_size)


MINUTES_RESPONSES: dict = {
    200: {
        "description": "The committee's minutes (HTML or PDF); a region's copy leaves out the members' "
        "scores of other regions' proposals",
        "content": {"text/html": {"schema": {"type": "string"}}, "application/pdf": {"schema": {"type": "string"}}},
    }
}


@router.get("/rounds/{round_id}/minutes", response_class=Response, responses=MINUTES_RESPONSES)
def get_minutes(
    request: Request,
    round_id: int,
    language: str = Query("ko", description="ko or en"),
    format: str = Query("html", description="html or pdf"),
    user: Actor = Depends(require("selection.read")),
):
    with session_scope(engine=_engine(request)) as session:
        data = minutes.render(session=session, round_id=round_id, actor=user, lang=language, fmt=format)
    media = "application/pdf" if format == "pdf" else "text/html; charset=utf-8"
    name = f"selection-{round_id}-minutes-{language}.{format}"
    return Response(data, media_type=media, headers={"Content-Disposition": f'inline; filename="{name}"'})
