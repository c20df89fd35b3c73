"""Next year's quotas (DESIGN §4.6): the one path from the year's ledgers and published evaluation
to an apportionment, used by the API and pages (which store it as a plan) and by
`regionvisa quotas allocate --year` (which writes it to a file, and stores it with `--store`).

- `quota_requests`: each programme's capacity in the year as `requested`, with its region's quota
  change and score from the year's published evaluation (0 and none without one);
- `propose`: those requests apportioned under a national ceiling (`quotas.apportion`, pure); with
  `store=True` the result is kept as a proposed plan through `propose_quotas`;
- `propose_quotas` (a declared use case, `quotas.adjust`): the apportionment kept as a proposed
  plan citing the published run, and audited;
- `confirm_quotas` (a declared use case, `quotas.adjust`): the ministry confirms a plan and the
  next period's ledgers open with the granted places (`quotas.service.open_ledger`, audited per
  ledger before the confirmation). A plan is national: neither names a region.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from regionvisa.core.actor import Actor
from regionvisa.core.errors import Conflict, Invalid, NotFound
from regionvisa.core.usecase import Done, use_case
from regionvisa.db import utcnow
from regionvisa.evaluation.models import QuotaPlan
from regionvisa.evaluation.service import benefits, require_published
from regionvisa.quotas.apportion import ApportionError, apportion
from regionvisa.quotas.models import QuotaLedger
from regionvisa.quotas.service import open_ledger


class NoLedgers(Conflict):
    """The year has no quota ledgers, so there is nothing to start next year's quotas from."""

    def __init__(self, *, year: int):
        super().__init__(
            code="no_ledgers", ko=f"{year}년 정원 원장이 없습니다", en=f"no quota ledgers for {year} to start from"
        )
        self.year = year


@dataclass(frozen=True)
class Proposal:
    """An apportionment of next year's quotas: its §4.6 rows, and the stored plan when kept."""

    year: int
    rows: list[dict[str, Any]]
    plan: QuotaPlan | None = None


def quota_requests(*, session: Session, year: int) -> list[dict[str, Any]]:
    """§4.6 requests from the database: each programme's capacity in `year` as `requested`, with the
    region's quota change and score from the year's published evaluation (0 and none without one)."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    stmt = (
        select(
            QuotaLedger.region,
            QuotaLedger.program_id,
            func.sum(QuotaLedger.allocated + QuotaLedger.adjustments),
        )
        .where(QuotaLedger.period_start <= last, QuotaLedger.period_end >= first)
        .group_by(QuotaLedger.region, QuotaLedger.program_id)
        .order_by(QuotaLedger.region, QuotaLedger.program_id)
    )
    published = {b.region: b for b in benefits(session=session, year=year)}
    out = []
    for region, program, capacity in session.execute(stmt):
        benefit = published.get(region)
        out.append(
            {
                "region": region,
                "program": program,
                "requested": int(capacity),
                "quota_change": repr(benefit.quota_change) if benefit else "0",
                "score": benefit.score if benefit else None,
            }
        )
    return out


class Unshareable(Invalid):
    """The ceiling cannot be shared as asked (minimums above it): a 422 on the ceiling; `errors`
    lists one readable line per problem, as `ApportionError` does."""

    def __init__(self, *, errors: list[str]):
        super().__init__(
            code="invalid", ko="배분할 수 없습니다: " + "; ".join(errors), en="; ".join(errors), field="ceiling"
        )
        self.errors = errors


def _apportioned(
    session: Session,
    *,
    year: int,
    ceiling: int,
    method: str,
    minimum: int,
    minimums: Mapping[str, int] | None,
    first_divisor: Any = "1.4",
) -> list[dict[str, Any]]:
    if minimum and minimums is not None:
        raise ValueError("give minimum or minimums, not both")
    requests = quota_requests(session=session, year=year)
    if not requests:
        raise NoLedgers(year=year)
    floors = {r["region"]: minimum for r in requests} if minimum else minimums
    return apportion(requests, ceiling, method=method, minimums=floors, first_divisor=first_divisor)


def propose(
    *,
    session: Session,
    year: int,
    ceiling: int,
    method: str = "hamilton",
    minimum: int = 0,
    minimums: Mapping[str, int] | None = None,
    first_divisor: Any = "1.4",
    store: bool = False,
    actor: Actor | None = None,
) -> Proposal:
    """Apportion next year's quotas from the year's ledgers under a national ceiling.

    `minimum` is one floor for every region, `minimums` a floor per region (give one or neither):
    a floor lifts only the requests whose share is below it (§4.6), and `first_divisor` is read by
    the modified Sainte-Laguë method only.
    `store=True` keeps the result as a plan (`propose_quotas`, which needs a published evaluation
    and an actor holding `quotas.adjust`); without storing, regions without a publication keep
    their capacity. Raises NoLedgers (409) for a year without ledgers and ApportionError when the
    ceiling cannot be shared (minimums above it; `Unshareable`, a 422, when storing)."""
    if store:
        plan = propose_quotas(
            session=session,
            year=year,
            ceiling=ceiling,
            method=method,
            minimum=minimum,
            minimums=minimums,
            first_divisor=first_divisor,
            actor=actor,
        )
        return Proposal(year=year, rows=plan_rows(plan), plan=plan)
    rows = _apportioned(
        session,
        year=year,
        ceiling=ceiling,
        method=method,
        minimum=minimum,
        minimums=minimums,
        first_divisor=first_divisor,
    )
    return Proposal(year=year, rows=rows)


@use_case(action="quotas.adjust", audit="evaluation.quota_plan")
def propose_quotas(
    *,
    session: Session,
    year: int,
    ceiling: int,
    method: str = "hamilton",
    minimum: int = 0,
    minimums: Mapping[str, int] | None = None,
    first_divisor: Any = "1.4",
    actor: Actor,
) -> Done:
    """Next year's quotas apportioned (`propose`) and kept as a proposed plan that cites the
    published evaluation its quota changes came from (404 without one). A ceiling that cannot be
    shared is `Unshareable` (422 on the ceiling)."""
    run = require_published(session=session, year=year)
    try:
        rows = _apportioned(
            session,
            year=year,
            ceiling=ceiling,
            method=method,
            minimum=minimum,
            minimums=minimums,
            first_divisor=first_divisor,
        )
    except ApportionError as exc:
        raise Unshareable(errors=exc.errors) from exc
    plan = QuotaPlan(
        run_id=run.id,
        period=str(year + 1),
        ceiling=ceiling,
        method=method,
        minimum=minimum,
        rows_json=json.dumps(rows, ensure_ascii=False),
        status="proposed",
        created_by=actor.username,
        created_at=utcnow(),
    )
    session.add(plan)
    session.flush()
    return Done(
        value=plan,
        subject=("evaluation_quota_plan", plan.id),
        reason=f"quotas for {year + 1} proposed from the {year} evaluation",
        inputs={"run_id": run.id, "ceiling": ceiling, "method": method, "minimum": minimum,
                **({"first_divisor": str(first_divisor)} if method == "modified-sainte-lague" else {}),
                "granted": {f"{r['region']}/{r['program']}": r["granted"] for r in rows}},
    )  # fmt: skip


def plan_rows(plan: QuotaPlan) -> list[dict[str, Any]]:
    return json.loads(plan.rows_json)


def get_plan(*, session: Session, plan_id: int) -> QuotaPlan:
    plan = session.get(QuotaPlan, plan_id)
    if plan is None:
        raise NotFound(what="quota plan")
    return plan


def plans(*, session: Session) -> list[QuotaPlan]:
    return list(session.scalars(select(QuotaPlan).order_by(QuotaPlan.id.desc())))


@use_case(action="quotas.adjust", audit="evaluation.quota_confirm")
def confirm_quotas(*, session: Session, plan_id: int, actor: Actor) -> Done:
    """The ministry confirms a plan: the next period's ledgers open with the granted places, each
    its own `open_ledger` use case (audited before the confirmation's entry)."""
    plan = get_plan(session=session, plan_id=plan_id)
    if plan.status != "proposed":
        raise Conflict(
            code="plan_confirmed", ko="이미 확정된 배분안입니다", en=f"quota plan {plan.id} is already confirmed"
        )
    year = int(plan.period)
    for row in plan_rows(plan):
        open_ledger(
            session=session,
            program_id=row["program"],
            region=row["region"],
            period=plan.period,
            start=dt.date(year, 1, 1),
            end=dt.date(year, 12, 31),
            allocated=int(row["granted"]),
            actor=actor,
            reason=f"quota plan {plan.id}: {row['explanation_en']}",
        )
    plan.status, plan.confirmed_by, plan.confirmed_at = "confirmed", actor.username, utcnow()
    session.flush()
    return Done(
        value=plan,
        subject=("evaluation_quota_plan", plan.id),
        reason=f"quotas for {plan.period} confirmed",
        inputs={"period": plan.period, "ceiling": plan.ceiling, "method": plan.method},
    )
