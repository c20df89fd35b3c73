"""Selection objects per region for the route walk (tests/accounts/routewalk.py).

One open round holds a proposal of Busan (26) and one of Seoul (11), each with an attachment.
Only the routes that name a region (a proposal, its scores, its attachment) get the round's id:
a round itself belongs to no region, so its other routes are walked with placeholders. Every
committee-member account sits on the committee (the first one chairs), so a member's requests
are judged by the policy and not refused for being an outsider.
"""

from __future__ import annotations

import copy
import datetime as dt

import yaml
from sqlalchemy import select
from tests.actors import SYSTEM

from regionvisa.accounts.models import User
from regionvisa.accounts.policy import Actor
from regionvisa.config import PROJECT_ROOT
from regionvisa.db import session_scope
from regionvisa.selection import committee, proposals, service
from regionvisa.selection.models import Attachment, Proposal, SelectionRound
from regionvisa.selection.schemas import DesignIn, MemberIn, ProposalIn, RoundIn

BUSAN_FILE = PROJECT_ROOT / "policy" / "programs" / "26" / "busan-d2.yaml"
WALK_YEAR = 2099
SEOUL_MARKER = "Seoul selection walk narrative"


def _design(region: str) -> dict:
    design = yaml.safe_load(BUSAN_FILE.read_text(encoding="utf-8"))
    if region != "26":
        design = copy.deepcopy(design)
        design.update(id=f"walk-{region}-d2", region=region, residence_area=[region])
        design["title"] = {"ko": f"{region} 경로 점검 설계", "en": f"Walk design {region}"}
    return design


def _round(session) -> int:
    found = session.scalar(select(SelectionRound.id).where(SelectionRound.year == WALK_YEAR))
    if found is not None:
        return found
    now = dt.datetime.now(dt.UTC)
    rnd = service.open_round(
        session=session,
        data=RoundIn(
            year=WALK_YEAR,
            window_opens_at=now - dt.timedelta(days=1),
            window_closes_at=now + dt.timedelta(days=1),
        ),
        actor=SYSTEM,
    )
    users = session.scalars(select(User).where(User.role == "committee_member").order_by(User.id)).all()
    for i, user in enumerate(users):
        role = "chair" if i == 0 else "expert"
        committee.add_member(
            session=session,
            rnd=rnd.id,
            data=MemberIn(username=user.username, role=role, affiliation="walk"),
            actor=SYSTEM,
        )
    return rnd.id


def _proposal_in(region: str) -> ProposalIn:
    narrative = SEOUL_MARKER if region == "11" else f"Walk narrative {region}"
    design = DesignIn(design=yaml.safe_dump(_design(region), allow_unicode=True))
    return ProposalIn(designs=[design], narrative=narrative)


def route_samples(engine, region: str) -> dict:
    official = Actor(id=None, username=f"test:walk:{region}", display_name="walk", role="regional_official",
                         region=region)  # fmt: skip
    with session_scope(engine=engine) as session:
        round_id = _round(session)
        proposals.submit_proposal(
            session=session,
            round_id=round_id,
            region=region,
            data=_proposal_in(region),
            actor=official,
            files=[("walk.txt", "text/plain", b"x")],
        )
    with session_scope(engine=engine) as session:
        attachment_id = session.scalar(
            select(Attachment.id)
            .join(Proposal, Proposal.id == Attachment.proposal_id)
            .where(Proposal.round_id == round_id, Proposal.region == region)
        )
    on_round = {"round_id": round_id}
    api = "/api/v1/selection/rounds/{round_id}/proposals/{region}"
    page = "/selection/rounds/{round_id}/proposals/{region}"
    body = _proposal_in(region).model_dump(mode="json")
    return {
        "route_params": {
            api: on_round,
            api + "/scores": on_round,
            page: on_round,
            "/selection/rounds/{round_id}/score/{region}": on_round,
            "/selection/rounds/{round_id}/attachments/{attachment_id}": on_round | {"attachment_id": attachment_id},
        },
        "bodies": {
            f"PUT {api}": {"json": body},
            f"POST {page}": {"data": {"narrative": body["narrative"], "design_1": body["designs"][0]["design"]}},
        },
        "markers": [SEOUL_MARKER, "walk-11-d2"] if region == "11" else [],
    }
