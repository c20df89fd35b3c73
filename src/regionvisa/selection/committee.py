"""Selection committee: the members of a round, their declared conflicts and the recusals they imply.

A member recused from a region (declared, or from the affiliation given when seated) neither sees
nor scores that region's proposal; scores given before the recusal are withdrawn. Seating a member
and a member's declaration are declared use cases (`core.usecase`) on the round.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from regionvisa.accounts.models import User
from regionvisa.accounts.policy import Actor, grant
from regionvisa.accounts.service import principal_of
from regionvisa.audit.service import record
from regionvisa.core.errors import Conflict, Forbidden, Invalid, NotFound
from regionvisa.core.usecase import Done, use_case
from regionvisa.db import utcnow
from regionvisa.regions.service import region_codes
from regionvisa.selection.models import CommitteeMember, ConflictDeclaration, Proposal, Score, SelectionRound
from regionvisa.selection.rounds import phase
from regionvisa.selection.schemas import ConflictsIn, MemberIn
from regionvisa.selection.subjects import MANAGE, MEMBER, ROUND, SCORE


def _user_by_name(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound(what=f"user {username!r}")
    return user


def members(*, session: Session, round_id: int) -> list[CommitteeMember]:
    return list(
        session.scalars(
            select(CommitteeMember).where(CommitteeMember.round_id == round_id).order_by(CommitteeMember.id)
        )
    )


def member_names(*, session: Session, round_id: int) -> dict[int, str]:
    rows = session.execute(
        select(CommitteeMember.id, User.display_name, User.username)
        .join(User, User.id == CommitteeMember.user_id)
        .where(CommitteeMember.round_id == round_id)
    )
    return {mid: name or username for mid, name, username in rows}


@use_case(action=MANAGE, subject=ROUND, audit="selection.member.add")
def add_member(*, session: Session, rnd: SelectionRound, data: MemberIn, actor: Actor) -> Done:
    """Seat a member on the round's committee. Only an active account that may score can sit; an
    affiliation with a region recuses the member from it, recorded after the seating."""
    round_id = rnd.id
    if rnd.status != "open":
        raise Conflict(
            code="round_closed", ko="채점이 마감된 회차에는 위원을 추가할 수 없습니다", en="scoring is closed"
        )
    user = _user_by_name(session, data.username)
    if grant(principal_of(user), SCORE) is None or not user.is_active:
        raise Invalid(
            code="not_committee_user",
            ko="위원은 활성 상태의 심사위원 계정이어야 합니다",
            en=f"{data.username} is not an active committee-member account",
            field="username",
        )
    existing = session.scalar(
        select(CommitteeMember).where(CommitteeMember.round_id == round_id, CommitteeMember.user_id == user.id)
    )
    if existing is not None:
        raise Conflict(
            code="member_exists", ko="이미 위원입니다", en=f"{user.username} is already a member", field="username"
        )
    if data.role == "chair" and any(m.role == "chair" for m in members(session=session, round_id=round_id)):
        raise Conflict(code="chair_exists", ko="위원장은 한 명입니다", en="the round already has a chair", field="role")
    member = CommitteeMember(
        round_id=round_id,
        user_id=user.id,
        role=data.role,
        affiliation=data.affiliation,
        affiliation_region=data.affiliation_region,
        added_by=actor.username,
        added_at=utcnow(),
    )
    session.add(member)
    session.flush()
    recusal = None
    if data.affiliation_region:
        recusal = _add_conflict(
            session,
            member,
            data.affiliation_region,
            source="affiliation",
            reason=f"{data.affiliation} ({data.affiliation_region})",
            actor=actor,
        )
    return Done(
        value=member,
        subject=(MEMBER.kind, member.id),
        reason=f"committee member added to round {round_id}",
        inputs={
            "round_id": round_id,
            "user": user.username,
            "role": data.role,
            "affiliation": data.affiliation,
            "affiliation_region": data.affiliation_region,
        },
        then=(recusal,) if recusal else (),  # the recusal follows the seating in the log
    )


def _add_conflict(
    session, member: CommitteeMember, region: str, *, source: str, reason: str, actor: Any
) -> dict[str, Any] | None:
    """Recuse `member` from `region` and withdraw the scores they gave it; returns the recusal's
    audit entry (the keyword arguments of `audit.service.record`), None when already recused."""
    exists = session.scalar(
        select(ConflictDeclaration).where(
            ConflictDeclaration.member_id == member.id, ConflictDeclaration.region == region
        )
    )
    if exists is not None:
        return None
    session.add(
        ConflictDeclaration(member_id=member.id, region=region, source=source, reason=reason, declared_at=utcnow())
    )
    # Scores already given for the region no longer count: the member is recused from it.
    dropped = [
        s.id
        for s in session.scalars(
            select(Score)
            .join(Proposal, Proposal.id == Score.proposal_id)
            .where(Score.member_id == member.id, Proposal.region == region, Proposal.round_id == member.round_id)
        )
    ]
    for score_id in dropped:
        session.delete(session.get(Score, score_id))
    session.flush()
    return {
        "actor": actor,
        "action": "selection.recusal",
        "subject": (MEMBER.kind, member.id),
        "region": region,
        "reason": reason,
        "inputs": {"round_id": member.round_id, "region": region, "source": source, "scores_withdrawn": len(dropped)},
    }


def member_of(*, session: Session, rnd: SelectionRound, actor: Actor) -> CommitteeMember:
    member = session.scalar(
        select(CommitteeMember).where(CommitteeMember.round_id == rnd.id, CommitteeMember.user_id == actor.id)
    )
    if member is None:
        raise Forbidden(en="you are not a member of this round's committee", ko="이 회차의 심사위원이 아닙니다")
    return member


def maybe_member(*, session: Session, rnd: SelectionRound, actor: Actor | None) -> CommitteeMember | None:
    if actor is None or actor.id is None:
        return None
    return session.scalar(
        select(CommitteeMember).where(CommitteeMember.round_id == rnd.id, CommitteeMember.user_id == actor.id)
    )


def recused_regions(*, session: Session, member: CommitteeMember) -> set[str]:
    return set(session.scalars(select(ConflictDeclaration.region).where(ConflictDeclaration.member_id == member.id)))


def conflicts(*, session: Session, round_id: int) -> list[ConflictDeclaration]:
    return list(
        session.scalars(
            select(ConflictDeclaration)
            .join(CommitteeMember, CommitteeMember.id == ConflictDeclaration.member_id)
            .where(CommitteeMember.round_id == round_id)
            .order_by(ConflictDeclaration.member_id, ConflictDeclaration.region)
        )
    )


def require_chair(*, session: Session, rnd: SelectionRound, actor: Actor) -> CommitteeMember:
    member = member_of(session=session, rnd=rnd, actor=actor)
    if member.role != "chair":
        raise Forbidden(en="only the chair confirms the decisions", ko="위원장만 결정을 확정할 수 있습니다")
    return member


@use_case(action=SCORE, subject=ROUND, audit="selection.conflicts.declare")
def declare_conflicts(
    *, session: Session, rnd: SelectionRound, data: ConflictsIn, actor: Actor, now: dt.datetime | None = None
) -> Done:
    """The member's declaration (possibly of no conflict); it must come before their first score.
    Each new recusal is recorded as it is made, the declaration itself last."""
    round_id = rnd.id
    member = member_of(session=session, rnd=rnd, actor=actor)
    if phase(rnd, now) in ("scoring_closed", "decided"):
        raise Conflict(code="round_closed", ko="채점이 마감되었습니다", en="scoring is closed")
    known = set(region_codes())
    bad = [r for r in data.regions if r not in known]
    if bad:
        raise Invalid(
            code="unknown_region", ko="알 수 없는 지역 코드입니다", en=f"unknown region code(s): {bad}", field="regions"
        )
    if data.regions and not data.reason.strip():
        raise Invalid(
            code="reason_required",
            ko="이해충돌 사유를 적으십시오",
            en="give the reason for the conflict",
            field="reason",
        )
    for region in sorted(set(data.regions)):
        recusal = _add_conflict(session, member, region, source="declared", reason=data.reason.strip(), actor=actor)
        if recusal:
            record(session=session, **recusal)
    member.declared_at = now or utcnow()
    return Done(
        value=member,
        subject=(MEMBER.kind, member.id),
        reason=data.reason.strip() or "no conflict of interest declared",
        inputs={"round_id": round_id, "regions": sorted(set(data.regions))},
    )
