"""Recorded runs, the dashboards' summaries, and enforcement cases.

A recorded run keeps, per region, the findings by rule and start month and the holders at
risk, and (for a run as of a date no earlier than the last synchronised one) brings the
cases up to date:

* a finding on a programme holder without a case opens one (status `open`), which sits in
  its region's queue and in the ministry's enforcement queue (every region);
* a finding that already has an open or under-review case updates that case; the unique
  `active_key` makes a duplicate impossible even when two runs race;
* an active case whose finding is no longer found gets a note saying so (the records that
  arrived since changed the answer); nobody's case is closed automatically;
* a finding whose case was resolved or closed does not open a new one.

A run as of an earlier date reproduces the past and leaves the cases alone. Every case
action, by a person or by a run, is written to the case's history and to the audit log.

The changes are declared use cases (`core.usecase`): `act` (a person's move or note, authorised
for the case's region), `store_run` (a recorded run), and the run's own case changes, which it
makes as the declared system actor `system:compliance` (`open_case`, `note_finding_back`,
`note_finding_gone`). Reads take the reader (`actor=`) and filter through `compliance.subjects`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import polars as pl
from sqlalchemy import case, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import regionvisa.records.models  # noqa: F401 (registers the record tables)
from regionvisa.accounts.policy import system_actor
from regionvisa.compliance import service
from regionvisa.compliance.lifecycle import ACT, COMPLIANCE_CASES
from regionvisa.compliance.models import (
    ACTIVE_STATUSES,
    CASE_STATUSES,
    OUTCOMES,
    ComplianceAtRisk,
    ComplianceCase,
    ComplianceCaseEvent,
    ComplianceEmployer,
    ComplianceRun,
    ComplianceRunCount,
)
from regionvisa.compliance.rules import RULES
from regionvisa.compliance.subjects import CASE, case_region, readable_case, run_region
from regionvisa.core.actor import Actor
from regionvisa.core.errors import Conflict, DomainError, NotFound
from regionvisa.core.usecase import Done, use_case
from regionvisa.db import Base, session_scope, utcnow
from regionvisa.stats.service import illegal_stays_on

SYSTEM = system_actor("compliance")
# Rules whose finding can recur for one person and programme (each report is its own finding).
PER_OCCURRENCE = frozenset({"late_address_report"})
# action -> (statuses it may start from, status it leads to; None keeps the status): a view of the
# table declared in `compliance.lifecycle`, for the pages
TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    m: (froms, to) for m, (froms, to, _action) in COMPLIANCE_CASES.moves_table().items()
}


def case_keys(findings: pl.DataFrame) -> pl.DataFrame:
    """finding_key (the finding itself) and active_key (what one active case stands for)."""
    prog = pl.col("program_id").fill_null("")
    base = pl.concat_str([pl.col("person_id"), pl.col("rule"), prog], separator="|")
    start = pl.col("start_date").dt.to_string("%Y-%m-%d")
    return findings.with_columns(
        pl.concat_str([base, start], separator="|").alias("finding_key"),
        pl.when(pl.col("rule").is_in(list(PER_OCCURRENCE)))
        .then(pl.concat_str([base, start], separator="|"))
        .otherwise(base)
        .alias("active_key"),
    )


@dataclass
class RunResult:
    run_id: int
    as_of: dt.date
    findings: int
    holder_findings: int
    counts: dict[str, int]
    cases_synced: bool
    cases_opened: int
    cases_updated: int
    cases_gone: int
    at_risk: int
    read_seconds: float
    engine_seconds: float
    unknown_programmes: list[str]

    def as_dict(self) -> dict:
        out = dict(self.__dict__)
        out["as_of"] = self.as_of.isoformat()
        return out


def record_run(
    *,
    engine: Engine,
    on: dt.date,
    actor: Actor,
    sync_cases: bool = True,
    policy_dir: Path | None = None,
    progress: service.Progress | None = None,
    run: service.ComplianceRun | None = None,
) -> RunResult:
    """Run the engine as of `on`, store the dashboards' summaries and (if asked) sync the cases.

    `run` is an engine run already made for `on` with `with_risk=True` (the CLI prints its
    findings and records it without running twice). The storing is the use case `store_run`.
    """
    if run is None or run.on != on or run.at_risk is None:
        run = service.run_compliance(engine=engine, on=on, policy_dir=policy_dir, progress=progress, with_risk=True)
    holders = run.holders if run.holders is not None else pl.DataFrame(schema={"person_id": pl.String})
    on_holders = run.findings.join(holders, on="person_id", how="semi")
    counts = (
        run.findings.with_columns(
            pl.col("start_date").dt.truncate("1mo").alias("month"),
            pl.col("person_id").is_in(holders["person_id"].implode()).alias("_holder"),
        )
        .group_by("region", "rule", "month")
        .agg(
            pl.len().alias("findings"),
            pl.col("end_date").is_null().sum().alias("ongoing"),
            pl.col("_holder").sum().alias("holder_findings"),
        )
        .sort("region", "rule", "month")
    )
    try:
        with session_scope(engine=engine) as session:
            stored = store_run(
                session=session,
                actor=actor,
                on=on,
                run=run,
                counts=counts,
                on_holders=on_holders,
                sync_cases=sync_cases,
            )
    except IntegrityError as exc:  # another run synchronised the same findings at the same moment
        raise Conflict(
            code="concurrent_run",
            ko="다른 점검이 동시에 사건을 갱신했습니다. 다시 실행하십시오 (사건은 중복되지 않았습니다)",
            en="another run updated the cases at the same moment; run again (no case was duplicated)",
        ) from exc
    return RunResult(
        run_id=stored.run_id,
        as_of=on,
        findings=run.findings.height,
        holder_findings=on_holders.height,
        counts={k: int(v) for k, v in run.counts().items()},
        cases_synced=stored.synced,
        cases_opened=stored.opened,
        cases_updated=stored.updated,
        cases_gone=stored.gone,
        at_risk=stored.at_risk,
        read_seconds=run.read_seconds,
        engine_seconds=run.engine_seconds,
        unknown_programmes=run.unknown_programmes,
    )


class StoredRun(NamedTuple):
    run_id: int
    synced: bool
    opened: int
    updated: int
    gone: int
    at_risk: int


@use_case(action=ACT, audit="compliance.run")
def store_run(
    *,
    session: Session,
    actor: Actor,
    on: dt.date,
    run: service.ComplianceRun,
    counts: pl.DataFrame,
    on_holders: pl.DataFrame,
    sync_cases: bool,
) -> Done:
    """Write the run, its summaries and the case changes in one transaction; a run dated before
    the last synchronised one leaves the cases alone (it reproduces the past)."""
    last_synced = session.scalar(select(func.max(ComplianceRun.as_of)).where(ComplianceRun.cases_synced))
    do_sync = sync_cases and (last_synced is None or on >= last_synced)
    row = ComplianceRun(
        as_of=on,
        started_at=utcnow(),
        actor=actor.username,
        findings=run.findings.height,
        holder_findings=on_holders.height,
        counts={k: int(v) for k, v in run.counts().items()},
        cases_synced=do_sync,
        cases_opened=0,
        cases_gone=0,
        read_seconds=run.read_seconds,
        engine_seconds=run.engine_seconds,
    )
    session.add(row)
    session.flush()
    if counts.height:
        session.execute(insert(ComplianceRunCount), [{"run_id": row.id, **r} for r in counts.iter_rows(named=True)])
    risk = run.at_risk if run.at_risk is not None else pl.DataFrame()
    if risk.height:
        session.execute(insert(ComplianceAtRisk), [{"run_id": row.id, **r} for r in risk.iter_rows(named=True)])
    employers = run.employers if run.employers is not None else pl.DataFrame()
    if employers.height:  # employers of programme E-7 holders: thousands at most, one insert
        session.execute(insert(ComplianceEmployer), [{"run_id": row.id, **r} for r in employers.iter_rows(named=True)])
    opened = updated = gone = 0
    if do_sync:
        opened, updated, gone = _sync(session, row, on_holders)
        row.cases_opened, row.cases_gone = opened, gone
    return Done(
        value=StoredRun(row.id, do_sync, opened, updated, gone, risk.height),
        subject=("compliance_run", row.id),
        reason=f"compliance run as of {on.isoformat()}"
        + ("" if do_sync else " (cases left as they are: an earlier date than the last synchronised run)"),
        inputs={
            "as_of": on,
            "findings": row.findings,
            "holder_findings": row.holder_findings,
            "counts": row.counts,
            "cases_opened": opened,
            "cases_updated": updated,
            "cases_finding_gone": gone,
            "employers_flagged": int(employers["flagged"].sum()) if employers.height else 0,
        },
    )


def _event(session: Session, case: ComplianceCase, *, actor: Actor, kind: str, note: str, **extra) -> None:
    """One history entry. The run's own notes are language-neutral records ("opened[run 3 as of
    2025-12-31]", "finding_gone[run 4 as of …]: <evidence>") that pages show in the reader's
    language (wording.case_note); a person's note is kept as they typed it."""
    session.add(ComplianceCaseEvent(case_id=case.id, at=utcnow(), actor=actor.username, kind=kind, note=note, **extra))


def _sync(session: Session, run: ComplianceRun, findings: pl.DataFrame) -> tuple[int, int, int]:
    """Bring the cases up to date with one run's findings on holders; returns (opened, updated, gone).

    Every case change here is the run's own, made as `system:compliance` (SYSTEM)."""
    keyed = case_keys(findings)
    active = {
        c.active_key: c for c in session.scalars(select(ComplianceCase).where(ComplianceCase.active_key.is_not(None)))
    }
    done = set(session.scalars(select(ComplianceCase.finding_key).where(ComplianceCase.active_key.is_(None))))
    now = utcnow()
    opened = updated = 0
    seen: set[str] = set()
    for f in keyed.iter_rows(named=True):  # one row per finding on a holder: hundreds, not millions
        key = f["active_key"]
        if key in seen:
            continue
        seen.add(key)
        case = active.get(key)
        if case is not None:
            updated += 1
            _update_case(session, case, f, run=run, now=now)
        elif f["finding_key"] not in done:
            opened += 1
            open_case(session=session, actor=SYSTEM, finding=f, region=f["region"], run=run, now=now)
    gone = 0
    for key, case in active.items():
        if key in seen or not case.finding_present:
            continue
        gone += 1
        note_finding_gone(session=session, case=case, actor=SYSTEM, run=run, now=now)
    return opened, updated, gone


def _update_case(session: Session, case: ComplianceCase, f: dict, *, run: ComplianceRun, now: dt.datetime) -> None:
    """An active case whose finding is found again: take the run's dates and evidence, note what changed."""
    on = run.as_of
    changes = []
    if case.finding_start != f["start_date"]:
        changes.append(f"start {case.finding_start} → {f['start_date']}")
        case.finding_start, case.finding_key = f["start_date"], f["finding_key"]
    if case.finding_end != f["end_date"]:
        changes.append(f"end {case.finding_end or '-'} → {f['end_date'] or '-'}")
        case.finding_end = f["end_date"]
    case.days, case.evidence, case.last_run_on = f["days"], f["evidence"], on
    if not case.finding_present:
        note_finding_back(session=session, case=case, actor=SYSTEM, run=run, now=now)
    elif changes:  # the case's history says so; the run's own audit entry counts the updated cases
        case.updated_at = now
        _event(
            session,
            case,
            actor=SYSTEM,
            kind="finding_changed",
            note=f"finding_changed[run {run.id} as of {on}]: {'; '.join(changes)}",
            run_id=run.id,
        )


@use_case(action=ACT, subject=CASE, audit="compliance.case_finding_back")
def note_finding_back(
    *, session: Session, case: ComplianceCase, actor: Actor, run: ComplianceRun, now: dt.datetime
) -> Done:
    """A case whose finding a run had stopped finding is found again: the case says so."""
    on = run.as_of
    case.finding_present = True
    case.updated_at = now
    _event(
        session,
        case,
        actor=actor,
        kind="finding_back",
        note=f"finding_back[run {run.id} as of {on}]",
        run_id=run.id,
    )
    return Done(
        value=case,
        reason=f"finding found again by the run as of {on}",
        inputs={"run": run.id, "as_of": on, "rule": case.rule},
    )


@use_case(action=ACT, audit="compliance.case_open")
def open_case(
    *, session: Session, actor: Actor, finding: dict, region: str | None, run: ComplianceRun, now: dt.datetime
) -> Done:
    """A finding on a holder with no case yet: open one (status `open`) in the finding's region."""
    f, on = finding, run.as_of
    case = ComplianceCase(
        person_id=f["person_id"],
        rule=f["rule"],
        program_id=f["program_id"],
        region=region,
        severity=f["severity"] or "medium",
        status="open",
        finding_start=f["start_date"],
        finding_end=f["end_date"],
        days=f["days"],
        evidence=f["evidence"] or "",
        finding_present=True,
        finding_key=f["finding_key"],
        active_key=f["active_key"],
        opened_on=on,
        opened_at=now,
        opened_run_id=run.id,
        last_run_on=on,
        updated_at=now,
    )
    session.add(case)
    session.flush()
    _event(
        session,
        case,
        actor=actor,
        kind="opened",
        to_status="open",
        note=f"opened[run {run.id} as of {on}]",
        run_id=run.id,
    )
    return Done(
        value=case,
        subject=("compliance_case", case.id),
        reason=f"{f['rule']} found on a programme holder by the run as of {on}",
        inputs={
            "run": run.id,
            "person_id": f["person_id"],
            "rule": f["rule"],
            "program_id": f["program_id"],
            "start_date": f["start_date"],
            "evidence": f["evidence"],
        },
    )


@use_case(action=ACT, subject=CASE, audit="compliance.case_finding_gone")
def note_finding_gone(
    *, session: Session, case: ComplianceCase, actor: Actor, run: ComplianceRun, now: dt.datetime
) -> Done:
    """An active case whose finding this run no longer finds: a note says so; the case stays open."""
    on = run.as_of
    case.finding_present = False
    case.last_run_on = on
    case.updated_at = now
    _event(
        session,
        case,
        actor=actor,
        kind="finding_gone",
        note=f"finding_gone[run {run.id} as of {on}]: {case.evidence}",
        run_id=run.id,
    )
    return Done(
        value=case,
        reason=f"finding no longer found by the run as of {on}",
        inputs={"run": run.id, "as_of": on, "rule": case.rule, "previous_evidence": case.evidence},
    )


# --------------------------------------------------------------------------- case actions


def get_case(*, session: Session, case_id: int) -> ComplianceCase:
    case = session.get(ComplianceCase, case_id)
    if case is None:
        raise NotFound(what=f"case {case_id}")
    return case


def read_case(*, session: Session, case_id: int, actor: Actor) -> ComplianceCase:
    """One case for `actor` to read: 404 when missing, 403 outside their region."""
    return readable_case(actor, get_case(session=session, case_id=case_id))


@use_case(action=ACT, subject=CASE, lock=True)
def act(
    *,
    session: Session,
    case: ComplianceCase,
    action: str,
    actor: Actor,
    reason: str,
    outcome: str | None = None,
) -> Done:
    """Move a case (review, resolve with an outcome, close) or add a note along its edge of
    `compliance.lifecycle` (400 unknown action or no reason, 409 not from this state); audited
    as `compliance.case_<action>` in the case's region."""
    reason = COMPLIANCE_CASES.reason(action, reason)
    target = COMPLIANCE_CASES.edge(action, case.status).to_state
    if action == "resolve":
        if outcome not in OUTCOMES:
            raise DomainError(
                status=400,
                code="outcome_required",
                ko="결과를 선택하십시오 (정당한 사유, 경고, 체류자격 취소)",
                en=f"choose an outcome: {', '.join(OUTCOMES)}",
                field="outcome",
            )
    elif outcome:
        raise DomainError(
            status=400,
            code="unexpected_outcome",
            ko="결과는 종결 처리에만 씁니다",
            en="only resolve takes an outcome",
            field="outcome",
        )
    before = case.status
    if target:
        case.status = target
        if action == "resolve":
            case.outcome = outcome
        if action == "review":
            case.assignee = actor.username
        if target not in ACTIVE_STATUSES:
            case.active_key = None
    case.updated_at = utcnow()
    _event(
        session,
        case,
        actor=actor,
        kind="status" if target else "note",
        from_status=before if target else None,
        to_status=target,
        outcome=outcome if action == "resolve" else None,
        note=reason,
    )
    session.flush()
    return Done(
        value=case,
        action=f"compliance.case_{action}",
        reason=reason,
        inputs={"from": before, "to": case.status, "outcome": outcome, "rule": case.rule, "person_id": case.person_id},
    )


# --------------------------------------------------------------------------- reads


def case_dict(case: ComplianceCase) -> dict:
    return {
        "id": case.id,
        "person_id": case.person_id,
        "rule": case.rule,
        "program_id": case.program_id,
        "region": case.region,
        "severity": case.severity,
        "status": case.status,
        "outcome": case.outcome,
        "finding_start": case.finding_start.isoformat(),
        "finding_end": case.finding_end.isoformat() if case.finding_end else None,
        "days": case.days,
        "evidence": case.evidence,
        "finding_present": case.finding_present,
        "opened_on": case.opened_on.isoformat(),
        "last_run_on": case.last_run_on.isoformat(),
        "assignee": case.assignee,
    }


def events(*, session: Session, case_id: int) -> list[dict]:
    rows = session.scalars(
        select(ComplianceCaseEvent).where(ComplianceCaseEvent.case_id == case_id).order_by(ComplianceCaseEvent.id)
    )
    return [
        {
            "at": e.at.isoformat() if e.at else None,
            "actor": e.actor,
            "kind": e.kind,
            "from_status": e.from_status,
            "to_status": e.to_status,
            "outcome": e.outcome,
            "note": e.note,
            "run_id": e.run_id,
        }
        for e in rows
    ]


class CaseQueue(NamedTuple):
    region: str | None  # the region the queue was filtered by (None: every region)
    total: int
    items: list[ComplianceCase]
    counts: dict[str, int]  # the filtered region's cases by status


def list_cases(
    *,
    session: Session,
    actor: Actor,
    region: str | None = None,
    status: str | None = None,
    rule: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> CaseQueue:
    """A queue: one region's cases (region queue) or every region's (the ministry's queue), as
    `actor` may read it (a regional official's own region; 403 for another).

    `status` may be a status or `active` (open and under review). Highest severity first,
    then oldest finding.
    """
    region = case_region(actor, region)
    query = select(ComplianceCase)
    if region:
        query = query.where(ComplianceCase.region == region)
    if status == "active":
        query = query.where(ComplianceCase.status.in_(ACTIVE_STATUSES))
    elif status:
        query = query.where(ComplianceCase.status == status)
    if rule:
        query = query.where(ComplianceCase.rule == rule)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    severity_order = case((ComplianceCase.severity == "high", 0), (ComplianceCase.severity == "medium", 1), else_=2)
    items = session.scalars(
        query.order_by(severity_order, ComplianceCase.finding_start, ComplianceCase.id).offset(offset).limit(limit)
    ).all()
    return CaseQueue(region, total, list(items), _status_counts(session, region))


def queue_counts(*, session: Session, actor: Actor, region: str | None = None) -> dict[str, int]:
    """Cases by status in `region` (every region with None), as `actor` may read them."""
    return _status_counts(session, case_region(actor, region))


def _status_counts(session: Session, region: str | None) -> dict[str, int]:
    query = select(ComplianceCase.status, func.count()).group_by(ComplianceCase.status)
    if region:
        query = query.where(ComplianceCase.region == region)
    got = dict(session.execute(query).all())
    return {s: int(got.get(s, 0)) for s in CASE_STATUSES}


def latest_run(*, session: Session) -> ComplianceRun | None:
    return session.scalars(select(ComplianceRun).order_by(ComplianceRun.id.desc()).limit(1)).first()


def list_runs(*, session: Session, limit: int = 20) -> list[dict]:
    rows = session.scalars(select(ComplianceRun).order_by(ComplianceRun.id.desc()).limit(limit))
    return [run_dict(r) for r in rows]


def run_dict(r: ComplianceRun) -> dict:
    return {
        "id": r.id,
        "as_of": r.as_of.isoformat(),
        "started_at": r.started_at.isoformat() if r.started_at else None,
        "actor": r.actor,
        "findings": r.findings,
        "holder_findings": r.holder_findings,
        "counts": r.counts,
        "cases_synced": r.cases_synced,
        "cases_opened": r.cases_opened,
        "cases_gone": r.cases_gone,
    }


def dashboard(
    *, session: Session, actor: Actor, region: str | None = None, run_id: int | None = None, months: int = 12
) -> dict:
    """A region's (or, with None, the nation's) dashboard from a recorded run (the latest by default),
    as `actor` may read it (a regional official's own region; 403 for another).

    counts by rule (all findings, ongoing, on holders); trend: findings by start month over
    the `months` months up to the run's date; holders at risk; case counts by status.
    """
    region = run_region(actor, region)
    run = session.get(ComplianceRun, run_id) if run_id else latest_run(session=session)
    if run_id and run is None:
        raise NotFound(what=f"compliance run {run_id}")
    out: dict = {"region": region, "run": run_dict(run) if run else None, "cases": _status_counts(session, region)}
    if run is None:
        out.update(illegal_stays=None, by_region=[], by_rule=[], trend={"months": [], "series": {}}, at_risk=[])
        return out
    query = select(
        ComplianceRunCount.rule,
        ComplianceRunCount.month,
        func.sum(ComplianceRunCount.findings),
        func.sum(ComplianceRunCount.ongoing),
        func.sum(ComplianceRunCount.holder_findings),
    ).where(ComplianceRunCount.run_id == run.id)
    if region:
        query = query.where(ComplianceRunCount.region == region)
    rows = session.execute(query.group_by(ComplianceRunCount.rule, ComplianceRunCount.month)).all()
    by_rule = {r: {"rule": r, "findings": 0, "ongoing": 0, "holder_findings": 0} for r in RULES}
    first = _month_start(run.as_of, months - 1)
    month_keys = [_month_start(run.as_of, k).isoformat() for k in range(months - 1, -1, -1)]
    series = {r: dict.fromkeys(month_keys, 0) for r in RULES}
    for rule, month, n, ongoing, holders in rows:
        by_rule[rule]["findings"] += int(n)
        by_rule[rule]["ongoing"] += int(ongoing)
        by_rule[rule]["holder_findings"] += int(holders)
        if month >= first:
            series[rule][month.isoformat()] += int(n)
    risk_query = select(ComplianceAtRisk).where(ComplianceAtRisk.run_id == run.id)
    if region:
        risk_query = risk_query.where(ComplianceAtRisk.region == region)
    risk = session.scalars(risk_query.order_by(ComplianceAtRisk.days_left, ComplianceAtRisk.person_id).limit(500)).all()
    # illegal stays by where people live, as on the statistics pages (one definition, stats.service);
    # the findings above and below are counted in the region whose queue handles them instead
    illegal = illegal_stays_on(conn=session.connection(), at=run.as_of)
    by_region: list[dict] = []
    if region is None:  # the nation's view also compares the regions
        per_region = session.execute(
            select(ComplianceRunCount.region, ComplianceRunCount.rule, func.sum(ComplianceRunCount.findings))
            .where(ComplianceRunCount.run_id == run.id)
            .group_by(ComplianceRunCount.region, ComplianceRunCount.rule)
        ).all()
        table: dict[str, dict[str, int]] = {code: dict.fromkeys(RULES, 0) for code in illegal}
        for code, rule, n in per_region:
            table.setdefault(code or "", dict.fromkeys(RULES, 0))[rule] += int(n)
        by_region = [
            {"region": code, **counts, "illegal_stays": illegal.get(code, 0)} for code, counts in sorted(table.items())
        ]
    out.update(
        illegal_stays=illegal.get(region, 0) if region else sum(illegal.values()),
        by_region=by_region,
        by_rule=list(by_rule.values()),
        trend={"months": month_keys, "series": {r: list(v.values()) for r, v in series.items()}},
        at_risk=[
            {
                "person_id": r.person_id,
                "rule": r.rule,
                "program_id": r.program_id,
                "region": r.region,
                "days_left": r.days_left,
                "limit_date": r.limit_date.isoformat() if r.limit_date else None,
                "detail": r.detail,
            }
            for r in risk
        ],
    )
    return out


def _month_start(day: dt.date, back: int) -> dt.date:
    """The first day of the month `back` months before `day`'s month."""
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


EMPLOYER_COLUMNS = ("employer_id", "region", "holders", "foreign_staff", "share", "flagged")


class EmployerList(NamedTuple):
    run: ComplianceRun | None
    region: str | None
    total: int
    items: list[dict]


def list_employers(
    *,
    session: Session,
    actor: Actor,
    region: str | None = None,
    flagged: bool | None = None,
    run_id: int | None = None,
    offset: int = 0,
    limit: int | None = 50,
) -> EmployerList:
    """The employers of programme E-7 holders in a recorded run (default: the latest), as the
    reader may see them: a regional official their own region's (403 for another), national
    roles every region or the one asked for. Flagged employers first, then by share (highest
    first) and employer; `limit=None` gives every row (the exports)."""
    region = run_region(actor, region)
    run = session.get(ComplianceRun, run_id) if run_id is not None else latest_run(session=session)
    if run is None:
        if run_id is not None:
            raise NotFound(what="compliance run")
        return EmployerList(None, region, 0, [])
    where = [ComplianceEmployer.run_id == run.id]
    if region:
        where.append(ComplianceEmployer.region == region)
    if flagged is not None:
        where.append(ComplianceEmployer.flagged.is_(flagged))
    total = session.scalar(select(func.count()).select_from(ComplianceEmployer).where(*where)) or 0
    query = (
        select(*(getattr(ComplianceEmployer, c) for c in EMPLOYER_COLUMNS))
        .where(*where)
        .order_by(ComplianceEmployer.flagged.desc(), ComplianceEmployer.share.desc(), ComplianceEmployer.employer_id)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    items = [dict(zip(EMPLOYER_COLUMNS, r, strict=True)) for r in session.execute(query).all()]
    return EmployerList(run, region, int(total), items)


TIMELINE_TABLES = {  # table -> (columns shown, ordering column)
    "status_grant": (("visa", "subtype", "program_id", "region", "valid_from", "valid_to", "granted_on"), "valid_from"),
    "address_report": (("area_code", "effective_date", "reported_date"), "effective_date"),
    "movement": (("direction", "date", "port"), "date"),
    "kiip_record": (("level", "enrolled_on", "completed_on"), "enrolled_on"),
    "employment": (("employer_id", "employer_region", "start_date", "end_date"), "start_date"),
}


def person_timeline(*, engine: Engine, person_id: str) -> dict[str, list[dict]]:
    """Every record of one person, by table and in date order (no name, no passport number)."""

    out: dict[str, list[dict]] = {}
    with engine.connect() as conn:
        for table, (cols, order) in TIMELINE_TABLES.items():
            t = Base.metadata.tables[table]
            rows = conn.execute(select(*[t.c[c] for c in cols]).where(t.c.person_id == person_id).order_by(t.c[order]))
            out[table] = [
                {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in r._mapping.items()} for r in rows
            ]
    return out
