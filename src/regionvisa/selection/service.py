"""Selection rounds: proposals, committee, scoring with recusal and quorum, decisions, outcome.

The phases of a round follow from its status and the clock: proposals are taken while the
submission window is open; once it has closed the committee scores; the ministry then closes
scoring, which is when members first see each other's scores; the chair confirms the decisions,
which approves the selected designs, opens their quota ledgers and publishes the results. The
moves between phases, their actions and reason rules are the table of `selection.lifecycle`.

Every state change is written to the audit log in the same transaction.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from regionvisa.accounts.models import User
from regionvisa.accounts.policy import Principal, authorize, grant
from regionvisa.audit.service import record
from regionvisa.core.errors import Conflict, Forbidden, Invalid, NotFound
from regionvisa.db import utcnow
from regionvisa.policyfiles import PolicyError
from regionvisa.programs.files import LoadedProgram, parse_design
from regionvisa.programs.models import Program
from regionvisa.regions.service import region_codes
from regionvisa.selection.lifecycle import SELECTION_ROUNDS
from regionvisa.selection.models import (
    Attachment,
    CommitteeMember,
    ConflictDeclaration,
    Decision,
    Proposal,
    ProposalVersion,
    Score,
    SelectionRound,
)
from regionvisa.selection.schemas import (
    ConflictsIn,
    DecisionIn,
    MemberIn,
    ProposalIn,
    RoundIn,
    ScoresIn,
    parse_quorum,
)

KST = ZoneInfo("Asia/Seoul")
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
READ = "selection.read"
MANAGE = "selection.manage"
SUBMIT = "proposals.submit"
SCORE = "committee.score"


class InvalidProposal(Invalid):
    """A proposal that cannot be submitted; `details` lists every problem (`design[i]:key.path: message`)."""

    def __init__(self, *, details: list[str]):
        super().__init__(
            code="invalid_proposal",
            ko="제안서를 제출할 수 없습니다: 아래 오류를 고치십시오 (" + str(len(details)) + "건)",
            en=f"the proposal cannot be submitted: fix the {len(details)} problem(s) listed",
            field="designs",
        )
        self.details = details

    def body(self) -> dict:
        body = super().body()
        body["error"]["details"] = self.details
        return body


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def aware(value: dt.datetime) -> dt.datetime:
    """An input time without a zone is Korean time (the ministry's clock)."""
    return value.replace(tzinfo=KST) if value.tzinfo is None else value


def _actor_name(actor: Any) -> str:
    return str(getattr(actor, "username", actor))


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


# --------------------------------------------------------------------------- rounds


def phase(rnd: SelectionRound, now: dt.datetime | None = None) -> str:
    """before | submission | scoring | scoring_closed | decided."""
    now = now or utcnow()
    if rnd.status == "decided":
        return "decided"
    if rnd.status == "scoring_closed":
        return "scoring_closed"
    if now < as_utc(rnd.window_opens_at):
        return "before"
    if now < as_utc(rnd.window_closes_at):
        return "submission"
    return "scoring"


def open_round(session: Session, data: RoundIn, *, actor: Any) -> SelectionRound:
    rnd = SelectionRound(
        year=data.year,
        title_ko=data.title_ko,
        title_en=data.title_en,
        window_opens_at=aware(data.window_opens_at).astimezone(dt.UTC),
        window_closes_at=aware(data.window_closes_at).astimezone(dt.UTC),
        rubric=[c.model_dump() for c in data.rubric],
        quorum=data.quorum,
        threshold=data.threshold,
        max_selected=data.max_selected,
        trim=data.trim,
        quota_ceiling=data.quota_ceiling,
        period=data.period,
        period_start=data.period_start,
        period_end=data.period_end,
        status="open",
        created_by=_actor_name(actor),
        created_at=utcnow(),
    )
    session.add(rnd)
    session.flush()
    record(
        session,
        actor=actor,
        action="selection.round.open",
        subject=("selection_round", rnd.id),
        reason=f"selection round {data.year} opened",
        inputs=data.model_dump(mode="json"),
    )
    return rnd


def get_round(session: Session, round_id: int) -> SelectionRound:
    rnd = session.get(SelectionRound, round_id)
    if rnd is None:
        raise NotFound(what=f"selection round {round_id}")
    return rnd


def list_rounds(session: Session) -> list[SelectionRound]:
    return list(session.scalars(select(SelectionRound).order_by(SelectionRound.year.desc(), SelectionRound.id.desc())))


def close_window(session: Session, round_id: int, *, actor: Any, reason: str, now: dt.datetime | None = None):
    """End the submission window now (it otherwise ends at its set time)."""
    now = now or utcnow()
    rnd = get_round(session, round_id)
    SELECTION_ROUNDS.edge("close_window", phase(rnd, now))
    SELECTION_ROUNDS.reason("close_window", reason)
    before = as_utc(rnd.window_closes_at)
    rnd.window_closes_at = now
    if as_utc(rnd.window_opens_at) >= now:
        rnd.window_opens_at = now - dt.timedelta(seconds=1)
    record(
        session,
        actor=actor,
        action="selection.window.close",
        subject=("selection_round", rnd.id),
        reason=reason,
        inputs={"planned_close": before, "closed_at": now},
    )
    return rnd


def close_scoring(session: Session, round_id: int, *, actor: Any, now: dt.datetime | None = None) -> SelectionRound:
    now = now or utcnow()
    rnd = get_round(session, round_id)
    SELECTION_ROUNDS.edge("close_scoring", phase(rnd, now))
    rnd.status = "scoring_closed"
    rnd.scoring_closed_at = now
    tallies = tally(session, rnd)
    record(
        session,
        actor=actor,
        action="selection.scoring.close",
        subject=("selection_round", rnd.id),
        reason="scoring closed; scores become visible to the committee",
        inputs={
            "proposals": {
                t.region: {"scorers": len(t.scorers), "eligible": t.eligible, "quorum": t.quorum_met} for t in tallies
            }
        },
    )
    return rnd


def reopen_scoring(session: Session, round_id: int, *, actor: Any, reason: str) -> SelectionRound:
    """Back to scoring (e.g. after a refusal below quorum), before any decision; needs a reason."""
    rnd = get_round(session, round_id)
    SELECTION_ROUNDS.edge("reopen_scoring", phase(rnd))
    reason = SELECTION_ROUNDS.reason("reopen_scoring", reason)
    rnd.status = "open"
    rnd.scoring_closed_at = None
    record(
        session,
        actor=actor,
        action="selection.scoring.reopen",
        subject=("selection_round", rnd.id),
        reason=reason,
        inputs={"round_id": rnd.id},
    )
    return rnd


# --------------------------------------------------------------------------- committee


def _user_by_name(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound(what=f"user {username!r}")
    return user


def members(session: Session, round_id: int) -> list[CommitteeMember]:
    return list(
        session.scalars(
            select(CommitteeMember).where(CommitteeMember.round_id == round_id).order_by(CommitteeMember.id)
        )
    )


def member_names(session: Session, round_id: int) -> dict[int, str]:
    rows = session.execute(
        select(CommitteeMember.id, User.display_name, User.username)
        .join(User, User.id == CommitteeMember.user_id)
        .where(CommitteeMember.round_id == round_id)
    )
    return {mid: name or username for mid, name, username in rows}


def add_member(session: Session, round_id: int, data: MemberIn, *, actor: Any) -> CommitteeMember:
    rnd = get_round(session, round_id)
    if rnd.status != "open":
        raise Conflict(
            code="round_closed", ko="채점이 마감된 회차에는 위원을 추가할 수 없습니다", en="scoring is closed"
        )
    user = _user_by_name(session, data.username)
    if user.role != "committee_member" or not user.is_active:
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
    if data.role == "chair" and any(m.role == "chair" for m in members(session, round_id)):
        raise Conflict(code="chair_exists", ko="위원장은 한 명입니다", en="the round already has a chair", field="role")
    member = CommitteeMember(
        round_id=round_id,
        user_id=user.id,
        role=data.role,
        affiliation=data.affiliation,
        affiliation_region=data.affiliation_region,
        added_by=_actor_name(actor),
        added_at=utcnow(),
    )
    session.add(member)
    session.flush()
    record(
        session,
        actor=actor,
        action="selection.member.add",
        subject=("selection_member", member.id),
        reason=f"committee member added to round {round_id}",
        inputs={
            "round_id": round_id,
            "user": user.username,
            "role": data.role,
            "affiliation": data.affiliation,
            "affiliation_region": data.affiliation_region,
        },
    )
    if data.affiliation_region:
        _add_conflict(
            session,
            member,
            data.affiliation_region,
            source="affiliation",
            reason=f"{data.affiliation} ({data.affiliation_region})",
            actor=actor,
        )
    return member


def _add_conflict(session, member: CommitteeMember, region: str, *, source: str, reason: str, actor: Any) -> bool:
    exists = session.scalar(
        select(ConflictDeclaration).where(
            ConflictDeclaration.member_id == member.id, ConflictDeclaration.region == region
        )
    )
    if exists is not None:
        return False
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
    record(
        session,
        actor=actor,
        action="selection.recusal",
        subject=("selection_member", member.id),
        region=region,
        reason=reason,
        inputs={"round_id": member.round_id, "region": region, "source": source, "scores_withdrawn": len(dropped)},
    )
    return True


def member_of(session: Session, rnd: SelectionRound, user: Principal) -> CommitteeMember:
    member = session.scalar(
        select(CommitteeMember).where(CommitteeMember.round_id == rnd.id, CommitteeMember.user_id == user.id)
    )
    if member is None:
        raise Forbidden(en="you are not a member of this round's committee", ko="이 회차의 심사위원이 아닙니다")
    return member


def maybe_member(session: Session, rnd: SelectionRound, user: Principal | None) -> CommitteeMember | None:
    if user is None or user.id is None:
        return None
    return session.scalar(
        select(CommitteeMember).where(CommitteeMember.round_id == rnd.id, CommitteeMember.user_id == user.id)
    )


def recused_regions(session: Session, member: CommitteeMember) -> set[str]:
    return set(session.scalars(select(ConflictDeclaration.region).where(ConflictDeclaration.member_id == member.id)))


def conflicts(session: Session, round_id: int) -> list[ConflictDeclaration]:
    return list(
        session.scalars(
            select(ConflictDeclaration)
            .join(CommitteeMember, CommitteeMember.id == ConflictDeclaration.member_id)
            .where(CommitteeMember.round_id == round_id)
            .order_by(ConflictDeclaration.member_id, ConflictDeclaration.region)
        )
    )


def declare_conflicts(
    session: Session, round_id: int, data: ConflictsIn, *, user: Principal, now: dt.datetime | None = None
) -> CommitteeMember:
    """The member's declaration (possibly of no conflict); it must come before their first score."""
    rnd = get_round(session, round_id)
    member = member_of(session, rnd, user)
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
        _add_conflict(session, member, region, source="declared", reason=data.reason.strip(), actor=user)
    member.declared_at = now or utcnow()
    record(
        session,
        actor=user,
        action="selection.conflicts.declare",
        subject=("selection_member", member.id),
        reason=data.reason.strip() or "no conflict of interest declared",
        inputs={"round_id": round_id, "regions": sorted(set(data.regions))},
    )
    return member


# --------------------------------------------------------------------------- proposals


def _parse_design_input(raw: Any, source: str) -> tuple[LoadedProgram | None, list[str]]:
    if isinstance(raw, str):
        try:
            raw = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{source}:{mark.line + 1}" if mark else source
            return None, [f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})"]
    try:
        return parse_design(raw, source), []
    except PolicyError as exc:
        return None, list(exc.errors)


def _attachment_rows(
    session, proposal: Proposal, files: list[tuple[str, str, bytes]], *, actor: Any
) -> tuple[list[int], list[str]]:
    ids, errors = [], []
    for i, (name, ctype, content) in enumerate(files):
        name = (name or "").replace("\\", "/").split("/")[-1].strip()[:200]
        if not name:
            errors.append(f"attachments[{i}]: a file name is required")
            continue
        if len(content) > MAX_ATTACHMENT_BYTES:
            errors.append(f"attachments[{i}] {name}: {len(content):,} bytes is more than the 10 MB limit")
            continue
        row = Attachment(
            proposal_id=proposal.id,
            filename=name,
            content_type=(ctype or "application/octet-stream")[:100],
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            content=content,
            uploaded_by=_actor_name(actor),
            uploaded_at=utcnow(),
        )
        session.add(row)
        session.flush()
        ids.append(row.id)
    return ids, errors


def decode_attachments(data: ProposalIn) -> list[tuple[str, str, bytes]]:
    files = []
    for i, att in enumerate(data.attachments):
        try:
            files.append((att.filename, att.content_type, base64.b64decode(att.content_base64, validate=True)))
        except (binascii.Error, ValueError) as exc:
            raise Invalid(
                code="invalid_attachment",
                ko="첨부파일이 base64 형식이 아닙니다",
                en=f"attachments[{i}].content_base64: not valid base64",
                field=f"attachments[{i}]",
            ) from exc
    return files


def submit_proposal(
    session: Session,
    round_id: int,
    region: str,
    data: ProposalIn,
    *,
    user: Principal,
    files: list[tuple[str, str, bytes]] | None = None,
    now: dt.datetime | None = None,
) -> ProposalVersion:
    """Submit (or revise) the region's proposal. Every design is checked against the national
    guardrails first; one invalid design and nothing is stored. Each call adds a version."""
    authorize(user, SUBMIT, region)
    now = now or utcnow()
    rnd = get_round(session, round_id)
    if phase(rnd, now) != "submission":
        raise Conflict(
            code="window_closed",
            ko="제출 기간이 아닙니다 (제출 기간: "
            f"{local_time(rnd.window_opens_at)} ~ {local_time(rnd.window_closes_at)} KST)",
            en=f"proposals are taken only within the submission window "
            f"({local_time(rnd.window_opens_at)} to {local_time(rnd.window_closes_at)} KST)",
        )
    errors: list[str] = []
    designs: list[dict] = []
    seen: set[str] = set()
    for i, item in enumerate(data.designs):
        source = f"design[{i + 1}]"
        lp, errs = _parse_design_input(item.design, source)
        errors.extend(errs)
        if lp is None:
            continue
        if lp.spec.region != region:
            errors.append(f"{source}:region: the design is for region {lp.spec.region}, the proposal for {region}")
        if lp.spec.id in seen:
            errors.append(f"{source}:id: programme {lp.spec.id!r} appears twice in the proposal")
        owner = session.get(Program, lp.spec.id)
        if owner is not None and (owner.region, owner.base_visa) != (lp.spec.region, lp.spec.base_visa):
            errors.append(
                f"{source}:id: programme id {lp.spec.id!r} is taken by region {owner.region} ({owner.base_visa}); "
                "choose another id"
            )
        seen.add(lp.spec.id)
        requested = lp.spec.quota if item.requested_quota is None else item.requested_quota
        design = lp.as_dict()
        designs.append({"design": design, "requested_quota": requested, "digest": _digest(design)})
    if not data.narrative.strip():
        errors.append("narrative: the plan narrative is required")
    if errors:
        raise InvalidProposal(details=errors)

    proposal = session.scalar(select(Proposal).where(Proposal.round_id == round_id, Proposal.region == region))
    if proposal is None:
        proposal = Proposal(round_id=round_id, region=region, current_version=0, submitted_at=now, updated_at=now)
        session.add(proposal)
        session.flush()
        kept: list[int] = []
    else:
        kept = list(current_version(session, proposal).attachments) if data.keep_attachments else []
    new_ids, att_errors = _attachment_rows(session, proposal, files or [], actor=user)
    if att_errors:
        raise InvalidProposal(details=att_errors)
    version = ProposalVersion(
        proposal_id=proposal.id,
        version=proposal.current_version + 1,
        designs=designs,
        narrative=data.narrative.strip(),
        attachments=kept + new_ids,
        digest=_digest({"designs": designs, "narrative": data.narrative.strip(), "attachments": kept + new_ids}),
        submitted_by=_actor_name(user),
        submitted_at=now,
    )
    session.add(version)
    proposal.current_version = version.version
    proposal.updated_at = now
    session.flush()
    record(
        session,
        actor=user,
        action="selection.proposal.submit" if version.version == 1 else "selection.proposal.revise",
        subject=("selection_proposal", proposal.id),
        region=region,
        reason=f"proposal for round {round_id}, version {version.version}",
        inputs={
            "round_id": round_id,
            "version": version.version,
            "designs": [{"id": d["design"]["id"], "requested_quota": d["requested_quota"]} for d in designs],
            "digest": version.digest,
            "attachments": kept + new_ids,
        },
    )
    return version


def get_proposal(session: Session, round_id: int, region: str) -> Proposal:
    proposal = session.scalar(select(Proposal).where(Proposal.round_id == round_id, Proposal.region == region))
    if proposal is None:
        raise NotFound(what=f"proposal of region {region} in round {round_id}")
    return proposal


def current_version(session: Session, proposal: Proposal) -> ProposalVersion:
    return session.scalar(
        select(ProposalVersion).where(
            ProposalVersion.proposal_id == proposal.id, ProposalVersion.version == proposal.current_version
        )
    )


def versions(session: Session, proposal: Proposal) -> list[ProposalVersion]:
    return list(
        session.scalars(
            select(ProposalVersion).where(ProposalVersion.proposal_id == proposal.id).order_by(ProposalVersion.version)
        )
    )


def proposals(session: Session, round_id: int) -> list[Proposal]:
    return list(session.scalars(select(Proposal).where(Proposal.round_id == round_id).order_by(Proposal.region)))


def attachments(session: Session, ids: list[int]) -> list[Attachment]:
    if not ids:
        return []
    rows = {a.id: a for a in session.scalars(select(Attachment).where(Attachment.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]


def get_attachment(session: Session, round_id: int, attachment_id: int, *, user: Principal) -> Attachment:
    att = session.get(Attachment, attachment_id)
    proposal = session.get(Proposal, att.proposal_id) if att else None
    if att is None or proposal is None or proposal.round_id != round_id:
        raise NotFound(what="attachment")
    check_can_view_proposal(session, get_round(session, round_id), proposal.region, user=user)
    return att


def check_can_view_proposal(session: Session, rnd: SelectionRound, region: str, *, user: Principal) -> None:
    """Regions see their own; a member recused from the region does not see it; ministry sees all."""
    authorize(user, READ, region)
    if user.role == "committee_member":
        member = member_of(session, rnd, user)
        if region in recused_regions(session, member):
            raise Forbidden(
                en=f"you are recused from region {region} (conflict of interest)",
                ko=f"이해충돌로 {region} 지역 심사에서 제척되었습니다",
            )


def visible_regions(session: Session, rnd: SelectionRound, user: Principal) -> list[str]:
    """The regions whose proposals `user` may open in this round."""
    regions = [p.region for p in proposals(session, rnd.id)]
    if grant(user, READ) == "own_region":
        return [r for r in regions if r == user.region]
    if user.role == "committee_member":
        member = maybe_member(session, rnd, user)
        if member is None:
            return []
        recused = recused_regions(session, member)
        return [r for r in regions if r not in recused]
    return regions


# --------------------------------------------------------------------------- scores


def save_scores(
    session: Session, round_id: int, region: str, data: ScoresIn, *, user: Principal, now: dt.datetime | None = None
) -> list[Score]:
    """A member's scores for one proposal: every rubric criterion, 0–100, each with a comment."""
    now = now or utcnow()
    rnd = get_round(session, round_id)
    proposal = get_proposal(session, round_id, region)
    member = member_of(session, rnd, user)
    if region in recused_regions(session, member):
        raise Forbidden(
            en=f"you are recused from region {region} (conflict of interest) and cannot score it",
            ko=f"이해충돌로 {region} 지역에서 제척되어 채점할 수 없습니다",
        )
    current = phase(rnd, now)
    if current != "scoring":
        raise Conflict(
            code="not_scoring",
            ko="채점 기간이 아닙니다 (제출 기간 종료 후 채점 마감 전까지)",
            en=f"scores are taken after the submission window closes and until scoring is closed (now: {current})",
        )
    if member.declared_at is None:
        raise Conflict(
            code="declaration_required",
            ko="채점 전에 이해충돌 여부를 먼저 신고하십시오",
            en="declare your conflicts of interest (or that you have none) before scoring",
        )
    ids = [c["id"] for c in rnd.rubric]
    missing = [i for i in ids if i not in data.scores]
    unknown = [k for k in data.scores if k not in ids]
    if missing or unknown:
        raise Invalid(
            code="incomplete_scores",
            ko=f"모든 평가 항목을 채점하십시오 (누락: {', '.join(missing) or '없음'}; "
            f"알 수 없음: {', '.join(unknown) or '없음'})",
            en=f"score every rubric criterion (missing: {', '.join(missing) or 'none'}; "
            f"unknown: {', '.join(unknown) or 'none'})",
            field="scores",
        )
    existing = {
        s.criterion: s
        for s in session.scalars(select(Score).where(Score.proposal_id == proposal.id, Score.member_id == member.id))
    }
    rows = []
    for cid in ids:
        given = data.scores[cid]
        row = existing.get(cid)
        if row is None:
            row = Score(proposal_id=proposal.id, member_id=member.id, criterion=cid)
            session.add(row)
        row.score, row.comment = given.score, given.comment.strip()
        row.proposal_version, row.scored_at = proposal.current_version, now
        rows.append(row)
    session.flush()
    record(
        session,
        actor=user,
        action="selection.score",
        subject=("selection_proposal", proposal.id),
        region=region,
        reason=f"committee score for round {round_id}",
        inputs={
            "round_id": round_id,
            "member_id": member.id,
            "proposal_version": proposal.current_version,
            "scores": {cid: data.scores[cid].score for cid in ids},
            "comments": {cid: data.scores[cid].comment.strip() for cid in ids},
        },
    )
    return rows


def scores_visible_to(session: Session, rnd: SelectionRound, user: Principal) -> list[dict]:
    """Until scoring closes a member sees only their own scores; afterwards every score of the
    regions they are not recused from. The ministry and auditors see every score once scoring is
    closed. A region sees its own proposal's scores once the results are published, never before
    (scoring can still reopen) and never another region's."""
    closed = rnd.status in ("scoring_closed", "decided")
    member = maybe_member(session, rnd, user)
    query = (
        select(Score, Proposal.region)
        .join(Proposal, Proposal.id == Score.proposal_id)
        .where(Proposal.round_id == rnd.id)
        .order_by(Proposal.region, Score.member_id, Score.criterion)
    )
    scope = grant(user, READ)
    if scope is None:
        return []
    if scope == "own_region":
        if rnd.status != "decided" or not user.region:
            return []
        query = query.where(Proposal.region == user.region)
    elif user.role == "committee_member":
        if member is None:
            return []
        if not closed:
            query = query.where(Score.member_id == member.id)
        recused = recused_regions(session, member)
        if recused:
            query = query.where(Proposal.region.not_in(recused))
    elif not closed:
        return []
    names = member_names(session, rnd.id)
    return [
        {
            "region": region,
            "member_id": s.member_id,
            "member": names.get(s.member_id, ""),
            "criterion": s.criterion,
            "score": s.score,
            "comment": s.comment,
            "proposal_version": s.proposal_version,
        }
        for s, region in session.execute(query)
    ]


# --------------------------------------------------------------------------- tally


@dataclass
class Tally:
    """The figures for one proposal: who could score, who did, the aggregate and the quorum."""

    proposal_id: int
    region: str
    eligible: int
    recused: list[int]
    scorers: list[int]
    member_totals: dict[int, float]
    matrix: dict[int, dict[str, int]]
    criterion_means: dict[str, float]
    trimmed: list[int]
    aggregate: float | None
    quorum_required: int
    quorum_met: bool
    rank: int | None = None
    recommended: bool = False
    designs: list[dict] = field(default_factory=list)  # program_id, title, requested, recommended

    def as_dict(self) -> dict:
        return {
            "region": self.region,
            "eligible": self.eligible,
            "recused": self.recused,
            "scorers": self.scorers,
            "member_totals": {str(k): round(v, 2) for k, v in self.member_totals.items()},
            "criterion_means": {k: round(v, 2) for k, v in self.criterion_means.items()},
            "trimmed": self.trimmed,
            "aggregate": None if self.aggregate is None else round(self.aggregate, 2),
            "quorum_required": self.quorum_required,
            "quorum_met": self.quorum_met,
            "rank": self.rank,
            "recommended": self.recommended,
            "designs": self.designs,
        }


def _ceil_fraction(frac, n: int) -> int:
    return -(-frac.numerator * n // frac.denominator)


def tally(session: Session, rnd: SelectionRound) -> list[Tally]:
    """Aggregate = mean over non-recused members of each member's weighted total; with trimming,
    the highest and the lowest member totals are left out once five or more members scored."""
    from regionvisa.quotas.apportion import apportion

    rubric = rnd.rubric
    ids = [c["id"] for c in rubric]
    weights = np.array([float(c["weight"]) for c in rubric])
    weights = weights / weights.sum()
    quorum = parse_quorum(rnd.quorum)
    all_members = members(session, rnd.id)
    recusals: dict[int, set[str]] = {}
    for c in conflicts(session, rnd.id):
        recusals.setdefault(c.member_id, set()).add(c.region)
    score_rows = session.execute(
        select(Score.proposal_id, Score.member_id, Score.criterion, Score.score)
        .join(Proposal, Proposal.id == Score.proposal_id)
        .where(Proposal.round_id == rnd.id)
    ).all()
    by_proposal: dict[int, dict[int, dict[str, int]]] = {}
    for pid, mid, cid, value in score_rows:
        by_proposal.setdefault(pid, {}).setdefault(mid, {})[cid] = value
    out: list[Tally] = []
    for proposal in proposals(session, rnd.id):
        recused = [m.id for m in all_members if proposal.region in recusals.get(m.id, set())]
        eligible_ids = [m.id for m in all_members if m.id not in recused]
        given = by_proposal.get(proposal.id, {})
        scorers = [mid for mid in eligible_ids if mid in given and all(c in given[mid] for c in ids)]
        matrix = {mid: given[mid] for mid in scorers}
        totals: dict[int, float] = {}
        means: dict[str, float] = {}
        trimmed: list[int] = []
        aggregate = None
        if scorers:
            grid = np.array([[given[mid][c] for c in ids] for mid in scorers], dtype=float)
            member_totals = grid @ weights
            totals = {mid: float(t) for mid, t in zip(scorers, member_totals, strict=True)}
            means = {c: float(v) for c, v in zip(ids, grid.mean(axis=0), strict=True)}
            keep = np.ones(len(scorers), dtype=bool)
            if rnd.trim and len(scorers) >= 5:
                order = sorted(range(len(scorers)), key=lambda k: (member_totals[k], scorers[k]))
                keep[order[0]] = keep[order[-1]] = False
                trimmed = [scorers[order[0]], scorers[order[-1]]]
            aggregate = float(member_totals[keep].mean())
        required = _ceil_fraction(quorum, len(eligible_ids))
        design_rows = []
        version = current_version(session, proposal)
        for d in version.designs:
            design_rows.append(
                {
                    "program_id": d["design"]["id"],
                    "base_visa": d["design"]["base_visa"],
                    "title": d["design"]["title"],
                    "requested": d["requested_quota"],
                    "recommended": 0,
                }
            )
        out.append(
            Tally(
                proposal_id=proposal.id,
                region=proposal.region,
                eligible=len(eligible_ids),
                recused=recused,
                scorers=scorers,
                member_totals=totals,
                matrix=matrix,
                criterion_means=means,
                trimmed=trimmed,
                aggregate=aggregate,
                quorum_required=required,
                quorum_met=bool(eligible_ids) and len(scorers) >= required,
                designs=design_rows,
            )
        )
    ranked = sorted((t for t in out if t.quorum_met), key=lambda t: (-(t.aggregate or 0.0), t.region))
    passing = 0
    for place, t in enumerate(ranked, start=1):
        t.rank = place
        if t.aggregate is not None and t.aggregate >= rnd.threshold - 1e-9:
            passing += 1
            t.recommended = rnd.max_selected is None or passing <= rnd.max_selected
    requests = [
        {"region": t.region, "program": d["program_id"], "requested": d["requested"], "score": t.aggregate}
        for t in out
        if t.recommended
        for d in t.designs
    ]
    if requests:
        ceiling = rnd.quota_ceiling if rnd.quota_ceiling is not None else sum(r["requested"] for r in requests)
        granted = {(r["region"], r["program"]): r["granted"] for r in apportion(requests, ceiling)}
        for t in out:
            for d in t.designs:
                d["recommended"] = granted.get((t.region, d["program_id"]), 0)
    return out


def tally_visible(session: Session, rnd: SelectionRound, user: Principal) -> list[Tally]:
    """The ministry follows progress throughout (the router hides scores until scoring closes);
    members see the aggregates once scoring is closed, minus their recused regions; a region sees
    its own figures once the results are published."""
    if grant(user, MANAGE) is not None:
        return tally(session, rnd)
    if user.role == "committee_member" or grant(user, READ) == "all":
        if rnd.status == "open":
            raise Conflict(code="scoring_open", ko="심사가 마감된 뒤에 공개됩니다", en="shown once scoring is closed")
        tallies = tally(session, rnd)
        if user.role == "committee_member":
            recused = recused_regions(session, member_of(session, rnd, user))
            tallies = [t for t in tallies if t.region not in recused]
        return tallies
    if rnd.status != "decided":
        raise Conflict(code="not_decided", ko="아직 결과가 발표되지 않았습니다", en="the results are not published yet")
    return [t for t in tally(session, rnd) if t.region == user.region]


# --------------------------------------------------------------------------- decision


def _chair(session: Session, rnd: SelectionRound, user: Principal) -> CommitteeMember:
    member = member_of(session, rnd, user)
    if member.role != "chair":
        raise Forbidden(en="only the chair confirms the decisions", ko="위원장만 결정을 확정할 수 있습니다")
    return member


def is_chair(session: Session, rnd: SelectionRound, user: Principal | None) -> bool:
    member = maybe_member(session, rnd, user)
    return member is not None and member.role == "chair"


def confirm_decisions(
    session: Session, round_id: int, data: DecisionIn, *, user: Principal, now: dt.datetime | None = None
) -> list[Decision]:
    """The chair confirms the recommendation, adjusting quotas with reasons. Refused below quorum.

    Selected designs become approved programmes (with the confirmed quota), each confirmed
    quota opens the programme's ledger for the round's period, and the results are published.
    """
    from regionvisa.quotas import service as quotas
    from regionvisa.quotas.models import QuotaLedger

    now = now or utcnow()
    rnd = get_round(session, round_id)
    _chair(session, rnd, user)
    SELECTION_ROUNDS.edge("decide", phase(rnd, now))
    tallies = tally(session, rnd)
    if not tallies:
        raise Conflict(code="no_proposals", ko="제출된 제안서가 없습니다", en="no proposals were submitted")
    short = [t for t in tallies if not t.quorum_met]
    if short:
        detail = ", ".join(f"{t.region} ({len(t.scorers)}/{t.quorum_required})" for t in short)
        raise Conflict(
            code="below_quorum",
            ko=f"의결정족수 미달로 결정할 수 없습니다: {detail} (채점 위원 수/필요 수)",
            en=f"no decision below quorum: {detail} (members who scored / needed)",
        )
    known = {d["program_id"]: t for t in tallies for d in t.designs}
    problems = []
    for pid, adj in data.adjustments.items():
        t = known.get(pid)
        if t is None:
            problems.append(f"adjustments.{pid}: no such design in this round")
        elif not t.recommended:
            problems.append(f"adjustments.{pid}: the design's region is not selected")
        else:
            recommended = next(d["recommended"] for d in t.designs if d["program_id"] == pid)
            if adj.quota != recommended and not adj.reason.strip():
                problems.append(f"adjustments.{pid}: a reason is required to change {recommended} to {adj.quota}")
    if problems:
        raise Invalid(
            code="invalid_adjustment",
            ko="정원 조정을 확인하십시오: " + "; ".join(problems),
            en="check the quota adjustments: " + "; ".join(problems),
            field="adjustments",
        )
    names = member_names(session, rnd.id)
    decisions = []
    for t in tallies:
        quotas_rows = []
        for d in t.designs:
            adj = data.adjustments.get(d["program_id"])
            confirmed = d["recommended"] if adj is None else adj.quota
            reason = "" if adj is None or adj.quota == d["recommended"] else adj.reason.strip()
            quotas_rows.append(
                {
                    "program_id": d["program_id"],
                    "base_visa": d["base_visa"],
                    "title": d["title"],
                    "requested": d["requested"],
                    "recommended": d["recommended"],
                    "confirmed": confirmed if t.recommended else 0,
                    "reason": reason,
                }
            )
        summary = t.as_dict()
        summary["member_names"] = {str(k): names.get(k, "") for k in set(t.scorers) | set(t.recused)}
        summary["matrix"] = {str(k): v for k, v in t.matrix.items()}
        decision = Decision(
            proposal_id=t.proposal_id,
            selected=t.recommended,
            recommended=t.recommended,
            aggregate=t.aggregate,
            rank=t.rank,
            quotas=quotas_rows,
            summary=summary,
            confirmed_by=_actor_name(user),
            confirmed_at=now,
        )
        session.add(decision)
        decisions.append(decision)
        session.flush()
        record(
            session,
            actor=user,
            action="selection.decide",
            subject=("selection_proposal", t.proposal_id),
            region=t.region,
            reason=("selected" if t.recommended else "not selected")
            + f" in round {rnd.id} (aggregate {t.aggregate:.2f}, threshold {rnd.threshold:g})",
            inputs={
                "aggregate": t.aggregate,
                "rank": t.rank,
                "scorers": t.scorers,
                "recused": t.recused,
                "trimmed": t.trimmed,
                "quorum_required": t.quorum_required,
                "quotas": quotas_rows,
            },
        )
        if not t.recommended:
            continue
        proposal = session.get(Proposal, t.proposal_id)
        version = current_version(session, proposal)
        for d, q in zip(version.designs, quotas_rows, strict=True):
            design = {**d["design"], "quota": q["confirmed"]}
            program_version = _approve_design(session, design, actor=user, round_id=rnd.id)
            q["program_version"] = program_version
            if q["confirmed"] <= 0:
                continue
            existing = session.scalar(
                select(QuotaLedger).where(QuotaLedger.program_id == q["program_id"], QuotaLedger.period == rnd.period)
            )
            if existing is not None:
                q["ledger_id"] = existing.id
                q["ledger_existing"] = True
                continue
            ledger = quotas.open_ledger(
                session,
                program_id=q["program_id"],
                region=t.region,
                period=rnd.period,
                start=rnd.period_start,
                end=rnd.period_end,
                allocated=q["confirmed"],
                actor=_actor_name(user),
                reason=f"initial quota confirmed by the selection committee, round {rnd.id}",
            )
            q["ledger_id"] = ledger.id
        decision.quotas = [dict(q) for q in quotas_rows]
    rnd.status = "decided"
    rnd.decided_at = now
    rnd.decided_by = _actor_name(user)
    rnd.meeting_on = data.meeting_on or now.astimezone(KST).date()
    session.flush()
    record(
        session,
        actor=user,
        action="selection.round.decide",
        subject=("selection_round", rnd.id),
        reason=f"decisions confirmed and results published for round {rnd.id}",
        inputs={
            "selected": sorted(t.region for t in tallies if t.recommended),
            "not_selected": sorted(t.region for t in tallies if not t.recommended),
            "adjustments": {k: v.model_dump() for k, v in data.adjustments.items()},
        },
    )
    return decisions


def _approve_design(session: Session, design: dict, *, actor: Any, round_id: int) -> int:
    """Store the selected design as an approved programme version; returns the version number."""
    from regionvisa.programs import service as programs
    from regionvisa.programs.models import ProgramVersion

    reason = f"selected by the selection committee, round {round_id}"
    lp = parse_design(design, source=f"selection:{round_id}")
    existing = session.scalar(
        select(ProgramVersion).where(ProgramVersion.program_id == lp.spec.id, ProgramVersion.version == lp.spec.version)
    )
    if existing is not None and existing.digest != programs.design_digest(lp.as_dict()) and existing.status != "draft":
        latest = max(v.version for v in programs.versions(session, lp.spec.id))
        lp = parse_design({**design, "version": latest + 1}, source=f"selection:{round_id}")
    stored = programs.store(session, lp, actor=actor, reason=reason, status="approved")
    if stored.status == "draft":
        programs.transition(session, stored.program_id, stored.version, "submit", actor=actor, reason=reason)
    if stored.status == "submitted":
        programs.transition(session, stored.program_id, stored.version, "approve", actor=actor, reason=reason)
    return stored.version


def decisions(session: Session, round_id: int) -> list[tuple[Proposal, Decision]]:
    return list(
        session.execute(
            select(Proposal, Decision)
            .join(Decision, Decision.proposal_id == Proposal.id)
            .where(Proposal.round_id == round_id)
            .order_by(Decision.rank.is_(None), Decision.rank, Proposal.region)
        ).all()
    )


def results(session: Session, round_id: int, *, user: Principal) -> list[dict]:
    """Published results: every region sees the outcome of every region once decided."""
    authorize(user, READ)
    rnd = get_round(session, round_id)
    if rnd.status != "decided":
        raise Conflict(code="not_decided", ko="아직 결과가 발표되지 않았습니다", en="the results are not published yet")
    return [
        {
            "region": p.region,
            "selected": d.selected,
            "aggregate": None if d.aggregate is None else round(d.aggregate, 2),
            "rank": d.rank,
            "quotas": [
                {k: q.get(k) for k in ("program_id", "base_visa", "requested", "confirmed", "reason")} for q in d.quotas
            ],
        }
        for p, d in decisions(session, round_id)
    ]


# --------------------------------------------------------------------------- display helpers


def local_time(value: dt.datetime | None) -> str:
    if value is None:
        return "–"
    return as_utc(value).astimezone(KST).strftime("%Y-%m-%d %H:%M")


def round_dict(rnd: SelectionRound, now: dt.datetime | None = None) -> dict:
    return {
        "id": rnd.id,
        "year": rnd.year,
        "title": {"ko": rnd.title_ko, "en": rnd.title_en},
        "window_opens_at": as_utc(rnd.window_opens_at),
        "window_closes_at": as_utc(rnd.window_closes_at),
        "rubric": rnd.rubric,
        "quorum": rnd.quorum,
        "threshold": rnd.threshold,
        "max_selected": rnd.max_selected,
        "trim": rnd.trim,
        "quota_ceiling": rnd.quota_ceiling,
        "period": rnd.period,
        "period_start": rnd.period_start,
        "period_end": rnd.period_end,
        "status": rnd.status,
        "phase": phase(rnd, now),
        "decided_at": as_utc(rnd.decided_at),
    }


def version_dict(session: Session, version: ProposalVersion) -> dict:
    return {
        "version": version.version,
        "designs": version.designs,
        "narrative": version.narrative,
        "attachments": [
            {"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size, "sha256": a.sha256}
            for a in attachments(session, version.attachments)
        ],
        "digest": version.digest,
        "submitted_by": version.submitted_by,
        "submitted_at": as_utc(version.submitted_at),
    }


def plain_design(design: dict, lang: str) -> dict:
    """A design in plain language: title, quota, area, obligations, parameters and each criterion."""
    from regionvisa.rules.text import format_value, render

    lp = parse_design(design, source="design")
    checked = lp.checked
    fixed = set(lp.fixed_ids)
    criteria = [
        {
            "id": c.criterion.id,
            "label": c.criterion.label_for(lang),
            "rule": render(c.node, lang),
            "national": c.criterion.id in fixed,
        }
        for c in checked.criteria
    ]
    params = []
    for name, values in sorted(lp.rules.parameters.items()):
        if name in lp.defaults_taken:
            continue
        for start, value in sorted(values.items()):
            params.append({"name": name, "from": start.isoformat(), "value": format_value(value, lang)})
    spec = lp.spec
    return {
        "id": spec.id,
        "version": spec.version,
        "base_visa": spec.base_visa,
        "title": spec.title.ko if lang == "ko" else spec.title.en,
        "valid_from": spec.valid_from.isoformat(),
        "valid_to": spec.valid_to.isoformat(),
        "quota": spec.quota,
        "residence_area": ", ".join(spec.residence_area),
        "obligation_months": spec.obligation_months,
        "kiip_deadline_months": spec.kiip_deadline_months,
        "parameters": params,
        "defaults_taken": lp.defaults_taken,
        "criteria": criteria,
        "points": [{"id": p.id, "points": p.points} for p in lp.rules.points],
    }
