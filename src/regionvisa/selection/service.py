"""Selection rounds: the round's moves, scoring with recusal and quorum, the tally and the decision.

The phases of a round follow from its status and the clock: proposals are taken while the
submission window is open; once it has closed the committee scores; the ministry then closes
scoring, which is when members first see each other's scores; the chair confirms the decisions,
which approves the selected designs, opens their quota ledgers and publishes the results. The
moves between phases, their actions and reason rules are the table of `selection.lifecycle`;
what a decision sets off in other domains is `selection.flows`; the arithmetic of the tally is
the pure `selection.compute`. The round's record and clock are in `selection.rounds`, the
committee in `selection.committee`, the proposals in `selection.proposals`.

Every state change is a declared use case (`core.usecase`): it is authorised for the actor's
role against the permission table, and its audit entry is written from what it returns, in the
same transaction. What a round and a proposal are, and their region rules, is `selection.subjects`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from regionvisa.accounts.policy import Actor, grant
from regionvisa.audit.service import record
from regionvisa.core.errors import Conflict, Forbidden, Invalid
from regionvisa.core.usecase import Done, use_case
from regionvisa.db import utcnow
from regionvisa.selection import flows
from regionvisa.selection.committee import (
    conflicts,
    maybe_member,
    member_names,
    member_of,
    members,
    recused_regions,
    require_chair,
)
from regionvisa.selection.compute import Candidate, Rules, Tally, tally_round
from regionvisa.selection.lifecycle import SELECTION_ROUNDS
from regionvisa.selection.models import Decision, Proposal, Score, SelectionRound
from regionvisa.selection.proposals import current_version, get_proposal, list_proposals
from regionvisa.selection.rounds import KST, as_utc, aware, get_round, phase
from regionvisa.selection.schemas import DecisionIn, RoundIn, ScoresIn, parse_quorum
from regionvisa.selection.subjects import MANAGE, PROPOSAL, READ, ROUND, SCORE, read_scope, sees_as_member


@use_case(action=MANAGE, audit="selection.round.open")
def open_round(*, session: Session, data: RoundIn, actor: Actor) -> Done:
    """A new round, open for proposals within its submission window."""
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
        created_by=actor.username,
        created_at=utcnow(),
    )
    session.add(rnd)
    session.flush()
    return Done(
        value=rnd,
        subject=(ROUND.kind, rnd.id),
        reason=f"selection round {data.year} opened",
        inputs=data.model_dump(mode="json"),
    )


@use_case(action=SELECTION_ROUNDS.action("close_window"), subject=ROUND, audit="selection.window.close")
def close_window(
    *, session: Session, rnd: SelectionRound, actor: Actor, reason: str, now: dt.datetime | None = None
) -> Done:
    """End the submission window now (it otherwise ends at its set time)."""
    now = now or utcnow()
    SELECTION_ROUNDS.edge("close_window", phase(rnd, now))
    SELECTION_ROUNDS.reason("close_window", reason)
    before = as_utc(rnd.window_closes_at)
    rnd.window_closes_at = now
    if as_utc(rnd.window_opens_at) >= now:
        rnd.window_opens_at = now - dt.timedelta(seconds=1)
    return Done(value=rnd, reason=reason, inputs={"planned_close": before, "closed_at": now})


@use_case(action=SELECTION_ROUNDS.action("close_scoring"), subject=ROUND, audit="selection.scoring.close")
def close_scoring(*, session: Session, rnd: SelectionRound, actor: Actor, now: dt.datetime | None = None) -> Done:
    """End scoring: members then see each other's scores, and the chair may decide."""
    now = now or utcnow()
    SELECTION_ROUNDS.edge("close_scoring", phase(rnd, now))
    rnd.status = "scoring_closed"
    rnd.scoring_closed_at = now
    tallies = tally(session=session, rnd=rnd)
    return Done(
        value=rnd,
        reason="scoring closed; scores become visible to the committee",
        inputs={
            "proposals": {
                t.region: {"scorers": len(t.scorers), "eligible": t.eligible, "quorum": t.quorum_met} for t in tallies
            }
        },
    )


@use_case(action=SELECTION_ROUNDS.action("reopen_scoring"), subject=ROUND, audit="selection.scoring.reopen")
def reopen_scoring(*, session: Session, rnd: SelectionRound, actor: Actor, reason: str) -> Done:
    """Back to scoring (e.g. after a refusal below quorum), before any decision; needs a reason."""
    SELECTION_ROUNDS.edge("reopen_scoring", phase(rnd))
    reason = SELECTION_ROUNDS.reason("reopen_scoring", reason)
    rnd.status = "open"
    rnd.scoring_closed_at = None
    return Done(value=rnd, reason=reason, inputs={"round_id": rnd.id})


@use_case(action=SCORE, subject=ROUND, audit="selection.score")
def save_scores(
    *,
    session: Session,
    rnd: SelectionRound,
    region: str,
    data: ScoresIn,
    actor: Actor,
    now: dt.datetime | None = None,
) -> Done:
    """A member's scores for one proposal: every rubric criterion, 0–100, each with a comment."""
    now = now or utcnow()
    round_id = rnd.id
    proposal = get_proposal(session=session, round_id=round_id, region=region)
    member = member_of(session=session, rnd=rnd, actor=actor)
    if region in recused_regions(session=session, member=member):
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
    return Done(
        value=rows,
        subject=(PROPOSAL.kind, proposal.id),
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


def scores_visible_to(*, session: Session, rnd: SelectionRound, actor: Actor) -> list[dict]:
    """Until scoring closes a member sees only their own scores; afterwards every score of the
    regions they are not recused from. The ministry and auditors see every score once scoring is
    closed. A region sees its own proposal's scores once the results are published, never before
    (scoring can still reopen) and never another region's."""
    closed = rnd.status in ("scoring_closed", "decided")
    member = maybe_member(session=session, rnd=rnd, actor=actor)
    query = (
        select(Score, Proposal.region)
        .join(Proposal, Proposal.id == Score.proposal_id)
        .where(Proposal.round_id == rnd.id)
        .order_by(Proposal.region, Score.member_id, Score.criterion)
    )
    scope = grant(actor, READ)
    if scope is None:
        return []
    if scope == "own_region":
        if rnd.status != "decided" or not actor.region:
            return []
        query = query.where(Proposal.region == actor.region)
    elif sees_as_member(actor):
        if member is None:
            return []
        if not closed:
            query = query.where(Score.member_id == member.id)
        recused = recused_regions(session=session, member=member)
        if recused:
            query = query.where(Proposal.region.not_in(recused))
    elif not closed:
        return []
    names = member_names(session=session, round_id=rnd.id)
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


def tally(*, session: Session, rnd: SelectionRound) -> list[Tally]:
    """The round's tally (`selection.compute.tally_round`) over what is stored now: the committee
    in seating order, its recusals, every score given and each proposal's current designs."""
    recusals: dict[int, set[str]] = {}
    for c in conflicts(session=session, round_id=rnd.id):
        recusals.setdefault(c.member_id, set()).add(c.region)
    score_rows = session.execute(
        select(Score.proposal_id, Score.member_id, Score.criterion, Score.score)
        .join(Proposal, Proposal.id == Score.proposal_id)
        .where(Proposal.round_id == rnd.id)
    ).all()
    candidates = [
        Candidate(
            proposal_id=proposal.id,
            region=proposal.region,
            designs=[
                {
                    "program_id": d["design"]["id"],
                    "base_visa": d["design"]["base_visa"],
                    "title": d["design"]["title"],
                    "requested": d["requested_quota"],
                }
                for d in current_version(session=session, proposal=proposal).designs
            ],
        )
        for proposal in list_proposals(session=session, round_id=rnd.id)
    ]
    rules = Rules(
        rubric=rnd.rubric,
        quorum=parse_quorum(rnd.quorum),
        trim=rnd.trim,
        threshold=rnd.threshold,
        max_selected=rnd.max_selected,
        quota_ceiling=rnd.quota_ceiling,
    )
    return tally_round(
        rules=rules,
        member_ids=[m.id for m in members(session=session, round_id=rnd.id)],
        recusals=recusals,
        scores=[tuple(row) for row in score_rows],
        candidates=candidates,
    )


def progress_visible(*, session: Session, rnd: SelectionRound, actor: Actor) -> list[Tally]:
    """The round's progress as the ministry follows it on the round's page; nothing for anyone else."""
    return tally(session=session, rnd=rnd) if grant(actor, MANAGE) is not None else []


def tally_visible(*, session: Session, rnd: SelectionRound, actor: Actor) -> list[Tally]:
    """The ministry follows progress throughout (the router hides scores until scoring closes);
    members see the aggregates once scoring is closed, minus their recused regions; a region sees
    its own figures once the results are published."""
    if grant(actor, MANAGE) is not None:
        return tally(session=session, rnd=rnd)
    region = read_scope(actor)
    if region is None:  # every region: the committee and auditors
        if rnd.status == "open":
            raise Conflict(code="scoring_open", ko="심사가 마감된 뒤에 공개됩니다", en="shown once scoring is closed")
        tallies = tally(session=session, rnd=rnd)
        if sees_as_member(actor):
            recused = recused_regions(session=session, member=member_of(session=session, rnd=rnd, actor=actor))
            tallies = [t for t in tallies if t.region not in recused]
        return tallies
    if rnd.status != "decided":
        raise Conflict(code="not_decided", ko="아직 결과가 발표되지 않았습니다", en="the results are not published yet")
    return [t for t in tally(session=session, rnd=rnd) if t.region == region]


@use_case(action=SELECTION_ROUNDS.action("decide"), subject=ROUND, audit="selection.round.decide")
def confirm_decisions(
    *, session: Session, rnd: SelectionRound, data: DecisionIn, actor: Actor, now: dt.datetime | None = None
) -> Done:
    """The chair confirms the recommendation, adjusting quotas with reasons. Refused below quorum.

    Each proposal's decision is stored and audited (`selection.decide`); for a selected region
    `selection.flows` approves its designs and opens their quota ledgers; then the results are
    published, the round's own entry last.
    """
    now = now or utcnow()
    require_chair(session=session, rnd=rnd, actor=actor)
    SELECTION_ROUNDS.edge("decide", phase(rnd, now))
    tallies = tally(session=session, rnd=rnd)
    _check_decidable(tallies, data)
    names = member_names(session=session, round_id=rnd.id)
    made = []
    for t in tallies:
        quota_rows = _quota_rows(t, data)
        decision = _record_decision(session, rnd, t, quota_rows, names=names, actor=actor, now=now)
        made.append(decision)
        if not t.recommended:
            continue
        flows.region_selected(
            session=session, rnd=rnd, proposal_id=t.proposal_id, region=t.region, quota_rows=quota_rows, actor=actor
        )
        decision.quotas = [dict(q) for q in quota_rows]
    return _publish(session, rnd, tallies, data, made=made, actor=actor, now=now)


def _check_decidable(tallies: list[Tally], data: DecisionIn) -> None:
    """Refuse a decision without proposals, below quorum, or with an adjustment that does not fit."""
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
    problems = []  # (field, ko, en), each beside the adjustment it is about
    for pid, adj in data.adjustments.items():
        t = known.get(pid)
        if t is None:
            problems.append((f"adjustments.{pid}.quota", "이 회차에 없는 설계입니다", "no such design in this round"))
        elif not t.recommended:
            problems.append(
                (f"adjustments.{pid}.quota", "선정되지 않은 지역의 설계입니다", "the design's region is not selected")
            )
        else:
            recommended = next(d["recommended"] for d in t.designs if d["program_id"] == pid)
            if adj.quota != recommended and not adj.reason.strip():
                problems.append(
                    (
                        f"adjustments.{pid}.reason",
                        f"{recommended}에서 {adj.quota}(으)로 바꾸려면 사유가 필요합니다",
                        f"a reason is required to change {recommended} to {adj.quota}",
                    )
                )
    if problems:
        refused = Invalid(
            code="invalid_adjustment",
            ko="정원 조정을 확인하십시오: " + "; ".join(f"{f}: {ko}" for f, ko, _en in problems),
            en="check the quota adjustments: " + "; ".join(f"{f}: {en}" for f, _ko, en in problems),
            field="adjustments",
        )
        refused.field_errors = [{"field": f, "ko": ko, "en": en} for f, ko, en in problems]
        raise refused


def _quota_rows(t: Tally, data: DecisionIn) -> list[dict]:
    """Each design's requested, recommended and confirmed quota (0 when the region is not selected)."""
    rows = []
    for d in t.designs:
        adj = data.adjustments.get(d["program_id"])
        confirmed = d["recommended"] if adj is None else adj.quota
        reason = "" if adj is None or adj.quota == d["recommended"] else adj.reason.strip()
        rows.append(
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
    return rows


def _record_decision(
    session: Session,
    rnd: SelectionRound,
    t: Tally,
    quota_rows: list[dict],
    *,
    names: dict[int, str],
    actor: Actor,
    now: dt.datetime,
) -> Decision:
    """Store one proposal's decision with the figures the minutes are printed from, and audit it.

    Its entry (`selection.decide`) stays here: each proposal's decision is recorded before the
    programme and quota entries its selection sets off, and the round's entry comes last."""
    summary = t.as_dict()
    summary["member_names"] = {str(k): names.get(k, "") for k in set(t.scorers) | set(t.recused)}
    summary["matrix"] = {str(k): v for k, v in t.matrix.items()}
    decision = Decision(
        proposal_id=t.proposal_id,
        selected=t.recommended,
        recommended=t.recommended,
        aggregate=t.aggregate,
        rank=t.rank,
        quotas=quota_rows,
        summary=summary,
        confirmed_by=actor.username,
        confirmed_at=now,
    )
    session.add(decision)
    session.flush()
    record(
        session=session,
        actor=actor,
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
            "quotas": quota_rows,
        },
    )
    return decision


def _publish(
    session: Session,
    rnd: SelectionRound,
    tallies: list[Tally],
    data: DecisionIn,
    *,
    made: list[Decision],
    actor: Actor,
    now: dt.datetime,
) -> Done:
    """The round is decided: its results are published from now on."""
    rnd.status = "decided"
    rnd.decided_at = now
    rnd.decided_by = actor.username
    rnd.meeting_on = data.meeting_on or now.astimezone(KST).date()
    session.flush()
    return Done(
        value=made,
        reason=f"decisions confirmed and results published for round {rnd.id}",
        inputs={
            "selected": sorted(t.region for t in tallies if t.recommended),
            "not_selected": sorted(t.region for t in tallies if not t.recommended),
            "adjustments": {k: v.model_dump() for k, v in data.adjustments.items()},
        },
    )


def decisions(*, session: Session, round_id: int) -> list[tuple[Proposal, Decision]]:
    return list(
        session.execute(
            select(Proposal, Decision)
            .join(Decision, Decision.proposal_id == Proposal.id)
            .where(Proposal.round_id == round_id)
            .order_by(Decision.rank.is_(None), Decision.rank, Proposal.region)
        ).all()
    )


def results(*, session: Session, round_id: int, actor: Actor) -> list[dict]:
    """Published results: every region sees the outcome of every region once decided."""
    read_scope(actor)  # any scope of `selection.read` will do: the results are published to all
    rnd = get_round(session=session, round_id=round_id)
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
        for p, d in decisions(session=session, round_id=round_id)
    ]
