"""Quota ledger operations. Each one is a single conditional UPDATE, so concurrent callers can
never over-issue: the database decides, row by row, who got the last place.

`open_ledger`, `adjust` and `close_ledger` are declared use cases (`core.usecase`, action `quotas.adjust`, for
the ledger's region): the wrapper writes their audit entry after the ledger write. `reallocate`
(action `quotas.reallocate`, national) carries out a mid-year reallocation (`quotas.reallocation`)
as one `adjust` effect per ledger it changes, then its own entry. `reserve`,
`release`, `use` and `unuse` are no use cases of their own but effects of an application's move
(`applications.flows`), authorised and audited as that move; they only record the movement.

The UPDATE locks the ledger row until the caller commits. In the one lock order of
`regionvisa.locking` the ledger comes after the application row and before the audit head:
the use cases record their audit entry after the ledger write, and the application moves call
`reserve`, `release`, `use` and `unuse` after locking the application and before recording
theirs. A lost race the database reports is a 409 `concurrent_change`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from regionvisa.applications.models import STATUSES, Application
from regionvisa.config import get_settings
from regionvisa.core.actor import Actor, ensure_actor
from regionvisa.core.errors import Conflict, Invalid, NotFound
from regionvisa.core.usecase import Done, use_case
from regionvisa.db import utcnow
from regionvisa.locking import answers_conflicts
from regionvisa.quotas.models import QuotaLedger, QuotaMovement
from regionvisa.quotas.reallocation import INPUT_SCHEMA, Proposal, ReallocationRules, load_rules, propose
from regionvisa.quotas.subjects import LEDGER


class LedgerClosed(Conflict):
    """A closed ledger takes no new reservation and no adjustment: its period's places are settled."""

    def __init__(self, *, ledger: QuotaLedger):
        super().__init__(
            code="ledger_closed",
            ko=f"마감된 정원 원장입니다 ({ledger.program_id} {ledger.period})",
            en=f"the quota ledger {ledger.program_id} {ledger.period} is closed",
        )


class QuotaExhausted(Conflict):
    def __init__(self, *, ledger: QuotaLedger):
        super().__init__(
            code="quota_exhausted",
            ko=f"정원이 소진되었습니다 ({ledger.program_id} {ledger.period}: 배정 {ledger.capacity}, "
            f"예약 {ledger.reserved}, 사용 {ledger.used})",
            en=f"quota exhausted for {ledger.program_id} {ledger.period}: capacity {ledger.capacity}, "
            f"reserved {ledger.reserved}, used {ledger.used}",
        )


@dataclass(frozen=True)
class LedgerView:
    program_id: str
    region: str
    period: str
    allocated: int
    adjustments: int
    reserved: int
    used: int
    remaining: int
    fill_rate: float | None

    @classmethod
    def of(cls, ledger: QuotaLedger) -> LedgerView:
        return cls(
            program_id=ledger.program_id,
            region=ledger.region,
            period=ledger.period,
            allocated=ledger.allocated,
            adjustments=ledger.adjustments,
            reserved=ledger.reserved,
            used=ledger.used,
            remaining=ledger.remaining,
            fill_rate=None if ledger.fill_rate is None else round(ledger.fill_rate, 4),
        )


def _movement(
    session: Session,
    ledger: QuotaLedger,
    kind: str,
    amount: int,
    *,
    actor: Actor,
    reason: str,
    application_id: int | None = None,
) -> QuotaMovement:
    session.refresh(ledger)
    move = QuotaMovement(
        ledger_id=ledger.id,
        kind=kind,
        amount=amount,
        application_id=application_id,
        reason=reason,
        actor=ensure_actor(actor).username,  # a plain name moves no place
        at=utcnow(),
        reserved_after=ledger.reserved,
        used_after=ledger.used,
        capacity_after=ledger.capacity,
    )
    session.add(move)
    session.flush()
    return move


@answers_conflicts
@use_case(action="quotas.adjust", audit="quota.allocate")
def open_ledger(
    *,
    session: Session,
    program_id: str,
    region: str,
    period: str,
    start: dt.date,
    end: dt.date,
    allocated: int,
    actor: Actor,
    reason: str,
) -> Done:
    """Open a programme's ledger for a period with its allocation, in the programme's `region`
    (a committee decision opens one as its effect: `open_ledger.effect`, from `selection.flows`)."""
    if allocated < 0:
        raise Invalid(
            code="invalid",
            ko="배정 인원은 0 이상이어야 합니다",
            en="allocation must be zero or more",
            field="allocated",
        )
    existing = session.scalar(
        select(QuotaLedger).where(QuotaLedger.program_id == program_id, QuotaLedger.period == period)
    )
    if existing is not None:
        raise Conflict(
            code="ledger_exists", ko="이미 개설된 정원 원장입니다", en=f"a ledger for {program_id} {period} exists"
        )
    ledger = QuotaLedger(
        program_id=program_id,
        region=region,
        period=period,
        period_start=start,
        period_end=end,
        allocated=allocated,
        adjustments=0,
        reserved=0,
        used=0,
    )
    session.add(ledger)
    session.flush()
    _movement(session, ledger, "allocation", allocated, actor=actor, reason=reason)
    return Done(
        value=ledger,
        subject=("quota_ledger", str(ledger.id)),
        reason=reason,
        inputs={"program_id": program_id, "period": period, "allocated": allocated},
    )


def get_ledger(*, session: Session, ledger_id: int) -> QuotaLedger:
    ledger = session.get(QuotaLedger, ledger_id)
    if ledger is None:
        raise NotFound(what="quota ledger")
    return ledger


def ledger_for(*, session: Session, program_id: str, on: dt.date) -> QuotaLedger:
    ledger = session.scalar(
        select(QuotaLedger).where(
            QuotaLedger.program_id == program_id, QuotaLedger.period_start <= on, QuotaLedger.period_end >= on
        )
    )
    if ledger is None:
        raise NotFound(what=f"quota ledger for {program_id} on {on}")
    return ledger


@answers_conflicts
@use_case(action="quotas.adjust", subject=LEDGER, audit="quota.adjust")
def adjust(*, session: Session, ledger: QuotaLedger, amount: int, actor: Actor, reason: str) -> Done:
    """A top-up (positive) or cut (negative); a cut below what is already reserved or used is refused.
    Locks: the ledger row (the conditional UPDATE), then the audit head."""
    if not reason.strip():
        raise Invalid(
            code="reason_required", ko="조정 사유가 필요합니다", en="an adjustment needs a reason", field="reason"
        )
    if amount == 0:
        raise Invalid(
            code="invalid", ko="조정 인원은 0이 아니어야 합니다", en="the adjustment must not be zero", field="amount"
        )
    result = session.execute(
        update(QuotaLedger)
        .where(
            QuotaLedger.id == ledger.id,
            QuotaLedger.closed_at.is_(None),
            QuotaLedger.reserved + QuotaLedger.used <= QuotaLedger.allocated + QuotaLedger.adjustments + amount,
        )
        .values(adjustments=QuotaLedger.adjustments + amount)
    )
    if result.rowcount != 1:
        session.refresh(ledger)
        if ledger.closed_at is not None:
            raise LedgerClosed(ledger=ledger)
        raise Conflict(
            code="adjustment_below_commitments",
            ko="예약·사용 인원보다 적게 줄일 수 없습니다",
            en=f"cannot cut below the {ledger.reserved + ledger.used} places already reserved or used",
        )
    _movement(session, ledger, "adjustment", amount, actor=actor, reason=reason)
    return Done(value=ledger, reason=reason, inputs={"amount": amount})


@answers_conflicts
@use_case(action="quotas.adjust", subject=LEDGER, audit="quotas.close")
def close_ledger(*, session: Session, ledger: QuotaLedger, actor: Actor, reason: str) -> Done:
    """Close a ledger at the end of its period (or when the programme stops): it takes no new
    reservation or adjustment, while places already reserved can still be issued or released, so
    no application in progress is stranded. Closing twice is a 409."""
    if not reason.strip():
        raise Invalid(code="reason_required", ko="마감 사유가 필요합니다", en="closing needs a reason", field="reason")
    result = session.execute(
        update(QuotaLedger)
        .where(QuotaLedger.id == ledger.id, QuotaLedger.closed_at.is_(None))
        .values(closed_at=utcnow(), closed_reason=reason.strip())
    )
    session.refresh(ledger)
    if result.rowcount != 1:
        raise LedgerClosed(ledger=ledger)
    return Done(value=ledger, reason=reason.strip(), inputs={"reserved": ledger.reserved, "used": ledger.used})


@answers_conflicts
def reserve(*, session: Session, ledger: QuotaLedger, application_id: int, actor: Actor, reason: str = "") -> None:
    """Take one place for a recommended application, or raise QuotaExhausted (409)."""
    result = session.execute(
        update(QuotaLedger)
        .where(
            QuotaLedger.id == ledger.id,
            QuotaLedger.closed_at.is_(None),
            QuotaLedger.reserved + QuotaLedger.used + 1 <= QuotaLedger.allocated + QuotaLedger.adjustments,
        )
        .values(reserved=QuotaLedger.reserved + 1)
    )
    if result.rowcount != 1:
        session.refresh(ledger)
        if ledger.closed_at is not None:
            raise LedgerClosed(ledger=ledger)
        raise QuotaExhausted(ledger=ledger)
    _movement(session, ledger, "reserve", 1, actor=actor, reason=reason, application_id=application_id)


@answers_conflicts
def release(*, session: Session, ledger: QuotaLedger, application_id: int, actor: Actor, reason: str) -> None:
    """Give back a reservation (rejection, withdrawal, return)."""
    result = session.execute(
        update(QuotaLedger)
        .where(QuotaLedger.id == ledger.id, QuotaLedger.reserved >= 1)
        .values(reserved=QuotaLedger.reserved - 1)
    )
    if result.rowcount != 1:
        raise Conflict(code="nothing_reserved", ko="해제할 예약이 없습니다", en="no reservation to release")
    _movement(session, ledger, "release", -1, actor=actor, reason=reason, application_id=application_id)


@answers_conflicts
def use(*, session: Session, ledger: QuotaLedger, application_id: int, actor: Actor, reason: str = "") -> None:
    """Issuance turns the application's reservation into a used place."""
    result = session.execute(
        update(QuotaLedger)
        .where(QuotaLedger.id == ledger.id, QuotaLedger.reserved >= 1)
        .values(reserved=QuotaLedger.reserved - 1, used=QuotaLedger.used + 1)
    )
    if result.rowcount != 1:
        raise Conflict(code="nothing_reserved", ko="발급할 예약이 없습니다", en="issuance needs a reservation")
    _movement(session, ledger, "use", 1, actor=actor, reason=reason, application_id=application_id)


def history(*, session: Session, ledger: QuotaLedger) -> list[QuotaMovement]:
    return list(
        session.scalars(select(QuotaMovement).where(QuotaMovement.ledger_id == ledger.id).order_by(QuotaMovement.id))
    )


@answers_conflicts
def unuse(*, session: Session, ledger: QuotaLedger, application_id: int, actor: Actor, reason: str) -> None:
    """A cancelled visa gives its used place back."""
    result = session.execute(
        update(QuotaLedger).where(QuotaLedger.id == ledger.id, QuotaLedger.used >= 1).values(used=QuotaLedger.used - 1)
    )
    if result.rowcount != 1:
        raise Conflict(code="nothing_used", ko="되돌릴 사용 인원이 없습니다", en="no used place to give back")
    _movement(session, ledger, "unuse", -1, actor=actor, reason=reason, application_id=application_id)


def list_ledgers(
    *, session: Session, region: str | None = None, program_id: str | None = None, period: str | None = None
) -> list[QuotaLedger]:
    query = select(QuotaLedger).order_by(QuotaLedger.period.desc(), QuotaLedger.region, QuotaLedger.program_id)
    if region:
        query = query.where(QuotaLedger.region == region)
    if program_id:
        query = query.where(QuotaLedger.program_id == program_id)
    if period:
        query = query.where(QuotaLedger.period == period)
    return list(session.scalars(query))


def find_ledger(*, session: Session, program_id: str, period: str) -> QuotaLedger:
    ledger = session.scalar(
        select(QuotaLedger).where(QuotaLedger.program_id == program_id, QuotaLedger.period == period)
    )
    if ledger is None:
        raise NotFound(what=f"quota ledger {program_id} {period}")
    return ledger


def ledger_dict(*, session: Session, ledger: QuotaLedger, with_history: bool = False) -> dict:
    """The ledger view: allocation, adjustments, reserved, used, remaining, fill rate (and history)."""
    out = {"id": ledger.id, **LedgerView.of(ledger).__dict__, "capacity": ledger.capacity}
    out["period_start"], out["period_end"] = ledger.period_start.isoformat(), ledger.period_end.isoformat()
    out["closed"] = ledger.closed_at is not None
    out["closed_at"] = ledger.closed_at.isoformat() if ledger.closed_at else None
    out["closed_reason"] = ledger.closed_reason
    if with_history:
        out["history"] = [
            {
                "at": m.at.isoformat(),
                "kind": m.kind,
                "amount": m.amount,
                "application_id": m.application_id,
                "reason": m.reason,
                "actor": m.actor,
                "reserved_after": m.reserved_after,
                "used_after": m.used_after,
                "capacity_after": m.capacity_after,
            }
            for m in history(session=session, ledger=ledger)
        ]
    return out


# ----------------------------------------------------------------------------- mid-year reallocation
# The database side of `quotas.reallocation` (pure): each ledger in force on the date as it stood at
# the end of that day (its last movement by then) and as it stands now, and its queue; then the
# proposal, and applying it as one declared use case whose ledger adjustments are `adjust` effects.


def reallocation_rules(*, path: Path | None = None) -> ReallocationRules:
    """The rule file: `path`, or the policy directory's quotas/reallocation.yaml."""
    return load_rules(path or get_settings().policy_dir / "quotas" / "reallocation.yaml")


def reallocation_inputs(*, session: Session, on: dt.date, queue_statuses: tuple[str, ...]) -> pl.DataFrame:
    """One row per ledger in force on `on` (`reallocation.INPUT_SCHEMA`), read in two queries: the
    ledger with its state at the end of `on` (its last movement by then), and the queue lengths."""
    end_of_day = dt.datetime.combine(on + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    last = (
        select(QuotaMovement.ledger_id, func.max(QuotaMovement.id).label("movement_id"))
        .where(QuotaMovement.at < end_of_day)
        .group_by(QuotaMovement.ledger_id)
        .subquery()
    )
    stmt = (
        select(
            QuotaLedger.id,
            QuotaLedger.program_id,
            QuotaLedger.region,
            QuotaLedger.period,
            QuotaLedger.period_start,
            QuotaLedger.period_end,
            func.coalesce(QuotaMovement.capacity_after, 0),
            func.coalesce(QuotaMovement.reserved_after, 0),
            func.coalesce(QuotaMovement.used_after, 0),
            QuotaLedger.reserved + QuotaLedger.used,
            QuotaLedger.allocated + QuotaLedger.adjustments,
        )
        .outerjoin(last, last.c.ledger_id == QuotaLedger.id)
        .outerjoin(QuotaMovement, QuotaMovement.id == last.c.movement_id)
        .where(QuotaLedger.period_start <= on, QuotaLedger.period_end >= on)
        .order_by(QuotaLedger.id)
    )
    rows = session.execute(stmt).all()
    columns = [c for c in INPUT_SCHEMA if c != "queue"]
    frame = pl.DataFrame(
        [list(col) for col in zip(*rows, strict=True)] if rows else [[] for _ in columns],
        schema={c: INPUT_SCHEMA[c] for c in columns},
        orient="col",
    )
    queues = session.execute(
        select(Application.program_id, func.count())
        .where(Application.status.in_(queue_statuses), Application.submitted_on <= on)
        .group_by(Application.program_id)
    ).all()
    queue = pl.DataFrame(
        {"program_id": [q[0] for q in queues], "queue": [int(q[1]) for q in queues]},
        schema={"program_id": pl.String, "queue": pl.Int64},
    )
    return frame.join(queue, on="program_id", how="left").with_columns(pl.col("queue").fill_null(0))


def propose_reallocation(*, session: Session, on: dt.date, rules: ReallocationRules | None = None) -> Proposal:
    """The dry run: what a reallocation on `on` would do, changing nothing."""
    rules = rules or reallocation_rules()
    if on < rules.first_day:
        raise Invalid(
            code="before_reallocation_rules",
            field="on",
            ko=f"{on}에는 재배분 규칙이 없습니다: 규칙은 {rules.first_day}부터 적용됩니다",
            en=f"no reallocation rules are in force on {on}: they apply from {rules.first_day}",
        )
    rule = rules.on(on, statuses=STATUSES)
    return propose(reallocation_inputs(session=session, on=on, queue_statuses=rule.queue_statuses), rule)


class ReallocationChanged(Conflict):
    """The ledgers moved between the dry run and the apply: the proposal shown is not the one that would run."""

    def __init__(self, *, shown: str, now: str):
        super().__init__(
            code="reallocation_changed",
            ko="미리보기 이후 정원 원장이 바뀌었습니다. 재배분안을 다시 확인하십시오",
            en=f"the ledgers changed since the proposal {shown} was shown (now {now}); review it again",
        )


@dataclass(frozen=True)
class Reallocated:
    """An applied reallocation: the proposal it carried out and the ledgers it adjusted."""

    proposal: Proposal
    adjusted: list[int]


@answers_conflicts
@use_case(action="quotas.reallocate", audit="quota.reallocate")
def reallocate(
    *,
    session: Session,
    on: dt.date,
    reason: str,
    actor: Actor,
    rules: ReallocationRules | None = None,
    expected: str | None = None,
) -> Done:
    """Apply the reallocation on `on`: each ledger's share of the pool as an audited `adjust` (in
    ledger order, so two runs lock alike), then this entry. `expected` is the digest of the
    proposal the ministry saw; a different one now is a 409 and nothing changes."""
    if not reason.strip():
        raise Invalid(
            code="reason_required", ko="재배분 사유가 필요합니다", en="a reallocation needs a reason", field="reason"
        )
    proposal = propose_reallocation(session=session, on=on, rules=rules)
    if expected is not None and expected != proposal.digest:
        raise ReallocationChanged(shown=expected, now=proposal.digest)
    adjusted = []
    for row in proposal.records():
        if row["adjustment"]:
            adjust.effect(
                session=session,
                ledger=row["ledger_id"],
                amount=row["adjustment"],
                actor=actor,
                reason=f"mid-year reallocation on {on}: {reason.strip()} — {row['explanation_en']}",
            )
            adjusted.append(row["ledger_id"])
    return Done(
        value=Reallocated(proposal=proposal, adjusted=adjusted),
        subject=("quota_reallocation", on.isoformat()),
        reason=reason.strip(),
        inputs={
            **proposal.rule.as_inputs(),
            "digest": proposal.digest,
            "pool": proposal.pool,
            "granted": proposal.granted,
            "adjustments": {str(r["ledger_id"]): r["adjustment"] for r in proposal.records() if r["adjustment"]},
        },
        changed=bool(adjusted),
    )
