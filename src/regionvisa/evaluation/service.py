"""Annual evaluation on the database: indicators from the records, committee scores with recusal,
stored and reproducible runs, the evaluation's own steps of publication (benefits and sanctions),
and what-if. The mathematics lives in compute/sensitivity/whatif (pure); this module only gathers
inputs, stores results and audits every decision.

Seams with other domains (their public functions only):
- computed indicators other than the quota fill rate: `compliance.service.compute_indicators`
  and `compliance.indicators.FRAMEWORK_IDS` (which column feeds which framework id); the
  foreign-resident count: `records.counts.maintained_residents_by_region` (the statistics summaries);
- the quota fill rate: `quotas.models.QuotaLedger` (read); next year's quotas from a published
  evaluation are planned in `quotas.planning`;
- publication as a whole, with the simplified-procedure flag it sets in the applications domain
  (`applications.service.set_simplified`, source 'evaluation'), is `evaluation.flows`;
  `simplified_procedure(session, region)` and `Program.simplified_procedure` read that flag.

The changes are declared use cases (`core.usecase`, subjects in `evaluation.subjects`):
`set_member`, `enter_score`, `run_evaluation` and `store_run`; publishing is
`evaluation.flows.publish_evaluation`. Reads of results take the reader (`actor=`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from regionvisa.accounts.models import User
from regionvisa.audit.service import record
from regionvisa.compliance import engine as eng
from regionvisa.compliance.indicators import FRAMEWORK_IDS, for_framework, indicators, year_bounds
from regionvisa.compliance.rules import compliance_rules
from regionvisa.compliance.service import compute_indicators, programme_obligations
from regionvisa.core.actor import Actor
from regionvisa.core.errors import Conflict, DomainError, Invalid, NotFound
from regionvisa.core.usecase import Done, use_case
from regionvisa.db import get_engine, session_scope, utcnow
from regionvisa.evaluation import compute, whatif
from regionvisa.evaluation.framework import Framework, default_framework_path, load_framework, parse_framework
from regionvisa.evaluation.models import CommitteeScore, EvaluationBenefit, EvaluationRun
from regionvisa.evaluation.subjects import MEMBER, SCORE, readable_region, result_region
from regionvisa.programs.models import Program
from regionvisa.quotas.models import QuotaLedger
from regionvisa.records.columnar import batch_reads
from regionvisa.records.counts import maintained_residents_by_region
from regionvisa.records.frames import read_known_all
from regionvisa.regions.service import pilot_programmes, region_codes, regions_frame
from regionvisa.selection.models import CommitteeMember

QUOTA_FILL_RATE = "quota_fill_rate"
AUTO_RECUSAL = "member of the region's own government"


def _invalid(*, field: str, ko: str, en: str) -> Invalid:
    return Invalid(code="invalid", ko=ko, en=en, field=field)


def framework_for(path: str | Path | None = None) -> Framework:
    return load_framework(path or default_framework_path())


def _region_codes() -> list[str]:
    return region_codes()


# --------------------------------------------------------------------------------------------
# Committee members and their scores


def _standing_member(session: Session, user_id: int) -> CommitteeMember | None:
    """The member's entry in the standing evaluation committee (the one without a round)."""
    return session.scalar(
        select(CommitteeMember).where(CommitteeMember.user_id == user_id, CommitteeMember.round_id.is_(None))
    )


@use_case(action="evaluation.publish", subject=MEMBER, subject_arg="user_id", audit="evaluation.committee_member")
def set_member(*, session: Session, actor: Actor, user_id: User, region: str | None, affiliation: str) -> Done:
    """Record which government (region code) or body a committee member belongs to, which decides
    their automatic recusal. `user_id` is the member's user id (the use case loads the user)."""
    user = user_id
    if user.role != "committee_member":
        raise NotFound(what="committee member")
    region = (region or "").strip() or None
    if region is not None and region not in _region_codes():
        raise _invalid(field="region", ko=f"알 수 없는 지역 코드입니다: {region}", en=f"unknown region code {region!r}")
    member = _standing_member(session, user.id) or CommitteeMember(user_id=user.id, round_id=None, role=None)
    member.affiliation_region, member.affiliation = region, affiliation.strip()
    member.added_by, member.added_at = str(actor), utcnow()
    session.add(member)
    session.flush()
    return Done(
        value=member,
        reason="committee member affiliation recorded (used for automatic recusal)",
        inputs={"region": region, "affiliation": member.affiliation},
    )


def member_region(*, session: Session, user_id: int) -> str | None:
    member = _standing_member(session, user_id)
    return member.affiliation_region if member else None


def committee_indicators(framework: Framework) -> list[str]:
    return [ind.id for ind in framework.indicators if ind.source == "committee"]


def _published_run(session: Session, year: int) -> EvaluationRun | None:
    return session.scalar(select(EvaluationRun).where(EvaluationRun.year == year, EvaluationRun.status == "published"))


@use_case(action="committee.score", audit="evaluation.committee_score")
def enter_score(
    *,
    session: Session,
    actor: Actor,
    year: int,
    region: str,
    score: float | None,
    justification: str,
    indicator: str | None = None,
    recuse: bool = False,
    framework: Framework | None = None,
) -> Done:
    """A member's (`actor`'s) score (0–100, with a written justification) for one region, or a
    declared recusal; authorised for the region scored.

    A member of the region's own government is recused automatically: the score is refused (409).
    Once the year's evaluation is published the scores are closed.
    """
    member = actor
    framework = framework or framework_for()
    ids = committee_indicators(framework)
    indicator = indicator or (ids[0] if ids else "")
    if indicator not in ids:
        raise _invalid(
            field="indicator",
            ko=f"위원회 평가 지표가 아닙니다: {indicator}",
            en=f"{indicator!r} is not a committee indicator (committee indicators: {', '.join(ids) or 'none'})",
        )
    if member.id is None:  # the table grants the action; a score is still a person's (a system actor has no id)
        raise DomainError(
            status=403,
            code="forbidden",
            ko="위원만 점수를 입력할 수 있습니다",
            en="only committee members enter scores",
        )
    if region not in _region_codes():
        raise _invalid(field="region", ko=f"알 수 없는 지역 코드입니다: {region}", en=f"unknown region code {region!r}")
    if _published_run(session, year) is not None:
        raise Conflict(
            code="evaluation_published",
            ko=f"{year}년 평가가 이미 공표되어 점수를 바꿀 수 없습니다",
            en=f"the {year} evaluation is published; committee scores are closed",
        )
    if member_region(session=session, user_id=member.id) == region:
        raise Conflict(
            code="recused",
            ko="해당 지역 소속 위원은 자동으로 제척되어 점수를 입력할 수 없습니다",
            en=f"you are recused from region {region} automatically ({AUTO_RECUSAL})",
            field="region",
        )
    justification = (justification or "").strip()
    if not recuse:
        if score is None or isinstance(score, bool) or not math.isfinite(float(score)) or not 0 <= score <= 100:
            raise _invalid(
                field="score", ko="점수는 0에서 100 사이여야 합니다", en=f"score must be from 0 to 100, got {score!r}"
            )
        if len(justification) < 10:
            raise _invalid(
                field="justification",
                ko="점수의 근거를 10자 이상 적어 주십시오",
                en="write a justification of at least 10 characters for the score",
            )
    row = session.scalar(
        select(CommitteeScore).where(
            CommitteeScore.year == year,
            CommitteeScore.indicator == indicator,
            CommitteeScore.region == region,
            CommitteeScore.member_id == member.id,
        )
    ) or CommitteeScore(year=year, indicator=indicator, region=region, member_id=member.id)
    row.score = None if recuse else float(score)  # type: ignore[arg-type]
    row.recused = bool(recuse)
    row.justification = justification or ("declared recusal" if recuse else "")
    row.entered_at = utcnow()
    session.add(row)
    session.flush()
    return Done(
        value=row,
        subject=(SCORE.kind, row.id),
        reason=row.justification,
        inputs={"year": year, "indicator": indicator, "region": region, "score": row.score, "recused": row.recused},
    )


def member_scores(*, session: Session, year: int, member_id: int) -> dict[tuple[str, str], CommitteeScore]:
    rows = session.scalars(
        select(CommitteeScore).where(CommitteeScore.year == year, CommitteeScore.member_id == member_id)
    )
    return {(r.indicator, r.region): r for r in rows}


def committee_values(*, session: Session, year: int, indicator: str) -> dict[str, dict[str, Any]]:
    """Region → {value: mean of the non-recused members' scores, members, recused}.

    Recused are declared recusals and members whose recorded government is the region's own
    (checked again here, so a member whose affiliation was recorded after scoring never counts).
    """
    own = and_(
        CommitteeMember.affiliation_region.is_not(None), CommitteeMember.affiliation_region == CommitteeScore.region
    )
    counted = and_(CommitteeScore.recused.is_(False), CommitteeScore.score.is_not(None), ~own)
    stmt = (
        select(
            CommitteeScore.region,
            func.avg(CommitteeScore.score).filter(counted),
            func.count().filter(counted),
            func.count().filter(or_(CommitteeScore.recused.is_(True), own)),
        )
        .outerjoin(
            CommitteeMember,
            and_(CommitteeMember.user_id == CommitteeScore.member_id, CommitteeMember.round_id.is_(None)),
        )
        .where(CommitteeScore.year == year, CommitteeScore.indicator == indicator)
        .group_by(CommitteeScore.region)
    )
    out: dict[str, dict[str, Any]] = {}
    for region, mean, n, recused in session.execute(stmt):
        out[region] = {"value": None if not n else float(mean), "members": int(n), "recused": int(recused)}
    return out


# --------------------------------------------------------------------------------------------
# Indicators from the records


def participants(*, session: Session, year: int) -> list[str]:
    """Regions in the pilot in `year`: those with a programme or a quota ledger for the year;
    without any in the database, the regions of the pilot programme files."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    codes = set(session.scalars(select(Program.region).distinct()))
    codes |= set(
        session.scalars(
            select(QuotaLedger.region).where(QuotaLedger.period_start <= last, QuotaLedger.period_end >= first)
        )
    )
    if not codes:
        codes = set(pilot_programmes()["region"].to_list())
    return sorted(codes)


def quota_fill_rates(*, session: Session, year: int) -> dict[str, float | None]:
    """Region → Σ used / Σ (allocated + adjustments) over its ledgers overlapping the year; None when 0."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    stmt = (
        select(
            QuotaLedger.region,
            func.sum(QuotaLedger.used),
            func.sum(QuotaLedger.allocated + QuotaLedger.adjustments),
        )
        .where(QuotaLedger.period_start <= last, QuotaLedger.period_end >= first)
        .group_by(QuotaLedger.region)
    )
    return {
        region: (float(used) / float(capacity) if capacity else None)
        for region, used, capacity in session.execute(stmt)
    }


# Framework ids whose definition needs only programme holders' records (compliance.indicators).
HOLDER_IDS = {"illegal_stay_rate", "integration_participation_rate", "retention_rate"}
RESIDENT_SHARE = "foreign_resident_share"


def computed_from_records(
    *, engine: Engine, year: int, ids: set[str] | None = None
) -> dict[str, dict[str, float | None]]:
    """The compliance domain's indicators of `year` in the framework's ids (region → id → value).

    When only holder-based indicators and the foreign-resident share are asked for, the records
    of programme holders alone go through `compliance.indicators.indicators` (the holder-based
    definitions need nothing else), and residents are counted in SQL: the same values without
    reading every resident's records. Otherwise `compliance.service.compute_indicators` runs whole.
    """
    wanted = set(FRAMEWORK_IDS) if ids is None else set(ids)
    if not wanted <= HOLDER_IDS | {RESIDENT_SHARE}:
        return for_framework(compute_indicators(engine=engine, year=year))
    out: dict[str, dict[str, float | None]] = {}
    if wanted & HOLDER_IDS:
        out = for_framework(holder_indicators(engine=engine, year=year))
    if RESIDENT_SHARE in wanted:
        counts = maintained_residents_by_region(engine=engine, on=dt.date(year, 12, 31))
        for row in regions_frame().iter_rows(named=True):
            population = row["population_2024"]
            share = counts.get(row["code"], 0) / population if population else None
            out.setdefault(row["code"], {})[RESIDENT_SHARE] = share
    return {code: {k: v for k, v in values.items() if k in wanted} for code, values in out.items()}


def holder_indicators(*, engine: Engine, year: int):
    """compliance.indicators.indicators over the records of programme holders only."""
    _, year_end = year_bounds(year)
    holders = (
        "person_id IN (SELECT person_id FROM status_grant WHERE program_id IS NOT NULL "
        f"AND granted_on <= '{year_end.isoformat()}')"
    )
    tables = {t: year_end for t in eng.INPUT_SCHEMAS} | {"person": None}
    with batch_reads(engine=engine) as reads:  # one snapshot; Arrow columns, read at once, on PostgreSQL
        frames = read_known_all(reads=reads, tables=tables, where=holders)
    programmes = programme_obligations(None, engine=engine)
    return indicators(frames, programmes, regions_frame(), year, settings=compliance_rules(None).settings_on(year_end))


def indicator_table(*, session: Session, year: int, framework: Framework) -> dict[str, dict[str, float | None]]:
    """Raw values of every framework indicator for the year's participants (None where missing)."""
    regions = participants(session=session, year=year)
    computed_ids = [i.id for i in framework.indicators if i.source == "computed"]
    unknown = [i for i in computed_ids if i != QUOTA_FILL_RATE and i not in FRAMEWORK_IDS]
    if unknown:
        raise _invalid(
            field="framework",
            ko=f"기록에서 계산할 수 없는 지표입니다: {', '.join(unknown)}",
            en=f"no computation from the records for indicator(s) {', '.join(unknown)} "
            f"(available: {', '.join([QUOTA_FILL_RATE, *FRAMEWORK_IDS])})",
        )
    records: dict[str, dict[str, float | None]] = {}
    if any(i != QUOTA_FILL_RATE for i in computed_ids):
        records = computed_from_records(
            engine=session.get_bind(), year=year, ids={i for i in computed_ids if i != QUOTA_FILL_RATE}
        )
    fill = quota_fill_rates(session=session, year=year) if QUOTA_FILL_RATE in computed_ids else {}
    committee = {
        ind: committee_values(session=session, year=year, indicator=ind) for ind in committee_indicators(framework)
    }
    table: dict[str, dict[str, float | None]] = {}
    for code in regions:
        values: dict[str, float | None] = {}
        for ind in framework.indicators:
            if ind.source == "committee":
                values[ind.id] = committee[ind.id].get(code, {}).get("value")
            elif ind.id == QUOTA_FILL_RATE:
                values[ind.id] = fill.get(code)
            else:
                values[ind.id] = records.get(code, {}).get(ind.id)
        table[code] = values
    return table


def indicators_from_database(year: int, framework: Framework) -> dict[str, dict[str, float | None]]:
    """The `regionvisa evaluate --year Y` seam: the indicator table from the configured database."""
    with session_scope(engine=get_engine()) as session:
        return indicator_table(session=session, year=year, framework=framework)


# --------------------------------------------------------------------------------------------
# Runs


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def result_of(run: EvaluationRun) -> dict[str, Any]:
    return json.loads(run.result_json)


def framework_of(run: EvaluationRun | Mapping[str, Any]) -> Framework:
    """The framework a run used, rebuilt from the definition stored in its run record."""
    result = result_of(run) if isinstance(run, EvaluationRun) else run
    record = result["run"]["framework"]
    framework = parse_framework(record["definition"], "run.framework.definition")
    framework._source = record.get("source")
    return framework


@use_case(action="evaluation.publish", audit="evaluation.run")
def store_run(*, session: Session, actor: Actor, result: Mapping[str, Any], source: str) -> Done:
    """Keep an evaluation computed elsewhere (the command line's) as a draft run."""
    return _stored(session, result=result, actor=actor, source=source)


def _stored(session: Session, *, result: Mapping[str, Any], actor: Actor, source: str) -> Done:
    """Store `result` as a draft run; what its audit entry says."""
    text = compute.dumps(result)
    run = EvaluationRun(
        year=int(result["year"]),
        framework_id=result["framework"],
        framework_sha256=result["run"]["framework"]["sha256"],
        inputs_sha256=result["run"]["inputs"]["sha256"],
        status="draft",
        result_json=text,
        result_sha256=_sha256(text),
        created_by=str(actor),
        created_at=utcnow(),
    )
    session.add(run)
    session.flush()
    return Done(
        value=run,
        subject=("evaluation_run", run.id),
        reason=f"evaluation {run.year} computed ({source})",
        inputs={
            "year": run.year,
            "framework": run.framework_id,
            "framework_sha256": run.framework_sha256,
            "inputs_sha256": run.inputs_sha256,
            "result_sha256": run.result_sha256,
            "source": source,
        },
    )


@use_case(action="evaluation.publish", audit="evaluation.run")
def run_evaluation(
    *,
    session: Session,
    actor: Actor,
    year: int,
    framework: Framework | None = None,
    draws: int | None = None,
    table: Mapping[str, Mapping[str, float | None]] | None = None,
) -> Done:
    """Compute the year's evaluation (from the records unless `table` is given) and store it as a draft."""
    framework = framework or framework_for()
    source = "table" if table is not None else "database"
    if table is None:
        table = indicator_table(session=session, year=year, framework=framework)
    previous = None
    if framework.missing.impute == "previous_year":  # last year's published inputs fill this year's gaps
        prior = published_run(session=session, year=year - 1)
        previous = result_of(prior)["run"]["inputs"]["indicators"] if prior is not None else None
    try:
        result = compute.evaluate(framework, table, draws=draws, year=year, previous=previous)
    except compute.IndicatorInputError as exc:
        raise Invalid(
            code="invalid_indicators", ko="지표 값 오류: " + "; ".join(exc.errors), en="; ".join(exc.errors)
        ) from exc
    return _stored(session, result=result, actor=actor, source=source)


def get_run(*, session: Session, run_id: int) -> EvaluationRun:
    run = session.get(EvaluationRun, run_id)
    if run is None:
        raise NotFound(what="evaluation run")
    return run


def runs(*, session: Session, year: int | None = None) -> list[EvaluationRun]:
    stmt = select(EvaluationRun).order_by(EvaluationRun.id.desc())
    if year is not None:
        stmt = stmt.where(EvaluationRun.year == year)
    return list(session.scalars(stmt))


def published_run(*, session: Session, year: int | None = None) -> EvaluationRun | None:
    """The published run of `year`, or of the latest published year when None."""
    if year is not None:
        return _published_run(session, year)
    return session.scalar(
        select(EvaluationRun).where(EvaluationRun.status == "published").order_by(EvaluationRun.year.desc()).limit(1)
    )


def reproduce_run(*, session: Session, run_id: int) -> dict[str, Any]:
    """Recompute a stored run from its run record alone and compare the JSON text byte for byte."""
    run = get_run(session=session, run_id=run_id)
    again = compute.dumps(compute.reproduce(result_of(run)["run"]))
    return {
        "run_id": run.id,
        "identical": again == run.result_json,
        "stored_sha256": run.result_sha256,
        "recomputed_sha256": _sha256(again),
    }


# Publication. The steps below are the evaluation's own part; `evaluation.flows.publish_evaluation`
# runs them in order together with what publishing sets in other domains.


def open_publication(
    *, session: Session, run: EvaluationRun, actor: Actor
) -> tuple[EvaluationRun, EvaluationRun | None]:
    """Mark a draft published (the year's earlier publication superseded) and clear the year's
    benefit table for the new grants; returns the run and the publication it replaced."""
    if run.status != "draft":
        raise Conflict(
            code="not_draft",
            ko="초안만 공표할 수 있습니다",
            en=f"run {run.id} is {run.status}; only a draft is published",
        )
    previous = _published_run(session, run.year)
    if previous is not None:
        previous.status = "superseded"
        session.flush()
    run.status, run.published_by, run.published_at = "published", str(actor), utcnow()
    session.execute(delete(EvaluationBenefit).where(EvaluationBenefit.year == run.year))
    return run, previous


def grant_benefit(*, session: Session, run: EvaluationRun, entry: Mapping[str, Any]) -> EvaluationBenefit:
    """The benefit or sanction a region's grade brings, kept as that year's record of the decision."""
    benefit = entry["benefit"]
    row = EvaluationBenefit(
        year=run.year,
        region=entry["region"],
        run_id=run.id,
        grade=entry["grade"],
        score=entry["score"],
        rank=entry["rank"],
        quota_change=float(benefit["quota_change"]),
        simplified_procedure=bool(benefit.get("simplified_procedure")),
        warning=bool(benefit.get("warning")),
        withdraw_designation=bool(benefit.get("withdraw_designation")),
        published_at=run.published_at,
    )
    session.add(row)
    return row


def record_benefit(*, session: Session, run: EvaluationRun, entry: Mapping[str, Any], actor: Actor) -> None:
    """Audit one region's grant (after the other domains' effects of it, so the entry follows them):
    a secondary entry of the publication, whose own entry comes last (`close_publication`)."""
    record(
        session=session,
        actor=actor,
        action="evaluation.benefit",
        subject=("evaluation_benefit", f"{run.year}/{entry['region']}"),
        region=entry["region"],
        reason=f"grade {entry['grade']} in the published {run.year} evaluation",
        inputs={"run_id": run.id, "score": entry["score"], "rank": entry["rank"], "benefit": entry["benefit"]},
    )


def close_publication(
    *,
    session: Session,
    run: EvaluationRun,
    previous: EvaluationRun | None,
    grades: Mapping[str, str],
    reason: str = "",
) -> Done:
    """What the publication's own audit entry says: the result's hash, what it superseded, the grades."""
    session.flush()
    return Done(
        value=run,
        reason=reason.strip() or f"annual evaluation {run.year} published",
        inputs={
            "year": run.year,
            "result_sha256": run.result_sha256,
            "superseded": previous.id if previous else None,
            "grades": dict(grades),
        },
    )


def benefits(*, session: Session, year: int) -> list[EvaluationBenefit]:
    return list(
        session.scalars(
            select(EvaluationBenefit).where(EvaluationBenefit.year == year).order_by(EvaluationBenefit.rank)
        )
    )


def region_benefit(*, session: Session, region: str, year: int | None = None) -> EvaluationBenefit | None:
    """The benefit in force for a region: from the given year's publication, else the latest one."""
    stmt = select(EvaluationBenefit).where(EvaluationBenefit.region == region)
    if year is not None:
        stmt = stmt.where(EvaluationBenefit.year == year)
    return session.scalar(stmt.order_by(EvaluationBenefit.year.desc()).limit(1))


def simplified_procedure(*, session: Session, region: str) -> bool:
    """Whether the region's applications take the simplified procedure now: the one stored flag,
    which publication sets and a ministry override may change (`region_benefit(...)` keeps what
    a year's publication granted)."""
    from regionvisa.applications.service import simplified_for

    return simplified_for(session=session, region=region)


# --------------------------------------------------------------------------------------------
# Region view, what-if


def require_published(*, session: Session, year: int | None) -> EvaluationRun:
    run = published_run(session=session, year=year)
    if run is None:
        raise NotFound(what=f"published evaluation {year or ''}".strip())
    return run


def published_result(*, session: Session, actor: Actor, year: int | None = None) -> dict[str, Any]:
    """The published evaluation as `actor` may read it: all of it for a national reader; for a
    regional official the ranking without indicator detail, and their own region's entry."""
    own = result_region(actor)
    run = require_published(session=session, year=year)
    result = result_of(run)
    if own is None:
        return {"run_id": run.id, **result}
    return {
        "run_id": run.id,
        "framework": result["framework"],
        "year": result["year"],
        "ranking": public_summary(result),
        "regions": [e for e in result["regions"] if e["region"] == own],
    }


def published_benefits(
    *, session: Session, actor: Actor, year: int | None = None, region: str | None = None
) -> tuple[int, list[EvaluationBenefit]]:
    """The benefits and sanctions a publication granted, of the regions `actor` may read: (year, rows)."""
    region = result_region(actor, region)
    run = require_published(session=session, year=year)
    return run.year, [b for b in benefits(session=session, year=run.year) if region is None or b.region == region]


def region_publication(*, session: Session, actor: Actor, region: str, year: int | None = None) -> EvaluationRun | None:
    """The publication a region's page shows (None before any): 403 outside the reader's scope,
    404 for a code that is no region."""
    readable_region(actor, region)
    if region not in _region_codes():
        raise NotFound(what="region")
    return published_run(session=session, year=year)


def region_view(*, session: Session, actor: Actor, region: str, year: int | None = None) -> dict[str, Any]:
    """A region's published result: entry, contributions, next grade, benefit (403 outside the reader's scope)."""
    readable_region(actor, region)
    run = require_published(session=session, year=year)
    result = result_of(run)
    framework = framework_of(result)
    entry = next((e for e in result["regions"] if e["region"] == region), None)
    if entry is None:
        raise NotFound(what=f"region {region} in the {run.year} evaluation")
    try:
        target = whatif.next_grade(framework, result, region)
    except KeyError:
        target = None
    sens = result.get("sensitivity", {}).get("regions", {}).get(region, {})
    return {
        "year": run.year,
        "run_id": run.id,
        "framework": framework.id,
        "regions_evaluated": len(result["regions"]),
        **entry,
        "contributions": compute.contributions(framework, entry),
        "next_grade": target,
        "most_sensitive_indicator": sens.get("most_sensitive_indicator"),
        "missing": result.get("missing", {}).get("regions", {}).get(region),
    }


def what_if(
    *, session: Session, actor: Actor, region: str, changes: Mapping[str, float | None], year: int | None = None
) -> dict:
    """New score, rank and grade of a region with changed raw values; every other region as published
    (403 outside the reader's scope)."""
    readable_region(actor, region)
    run = require_published(session=session, year=year)
    result = result_of(run)
    framework = framework_of(result)
    try:
        out = whatif.what_if(framework, result, region, changes)
    except KeyError as exc:
        raise NotFound(what=f"region {region} in the {run.year} evaluation") from exc
    except ValueError as exc:
        raise _invalid(field="changes", ko="알 수 없는 지표입니다", en=str(exc)) from exc
    except compute.IndicatorInputError as exc:
        raise _invalid(field="changes", ko="지표 값 오류", en="; ".join(exc.errors)) from exc
    return {"year": run.year, **out}


def public_summary(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ranking without indicator detail: what a region may see of the other regions."""
    return [{k: e[k] for k in ("region", "score", "rank", "grade")} for e in result["regions"]]
