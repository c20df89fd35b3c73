"""Applications / 신청: the demo data step `regionvisa demo` runs (after the synthetic records).

For every pilot programme with a 2025 ledger: a few dozen synthetic applicants taken in through
bulk intake (so they are screened in one vectorised pass), then a realistic spread of decisions:
recommendations from the top of the ranked queue, approvals, issuances, a rejection, a return and
a withdrawal. Busan gets the simplified procedure, so its eligible applicants are approved
automatically when recommended, once their (shorter) checklist is complete.

Approvals and issuances need the application's checklist complete: the region uploads a
synthetic one-page scan per document of the applications it takes forward, and one in six of
those goes ahead on a recorded override instead (the originals seen at the counter), so the
override shows in the history and the audit log.

The decisions are dated: each programme's file arrives on a day of May–July 2025 and its
decisions follow over the next weeks (`plan_history`), replayed in time order as of their
instants (`core/clock.replaying`), so the history, the quota movements and the processing times
read as a year of work; the audit entries keep the instant they were recorded and name the
replayed one (`effective_at`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl
from sqlalchemy import select
from sqlalchemy.engine import Engine

from regionvisa.accounts.policy import system_actor
from regionvisa.applications import bulk_intake, documents, moves, service, views
from regionvisa.applications.models import Application
from regionvisa.core import clock
from regionvisa.core.text import N_, system_reason
from regionvisa.db import session_scope
from regionvisa.programs import service as programs
from regionvisa.quotas import demo as quota_demo
from regionvisa.quotas import service as quotas
from regionvisa.quotas.models import QuotaLedger

ACTOR_REGION = system_actor("demo", detail="region")
ACTOR_MINISTRY = system_actor("demo", detail="ministry")
NATIONALITIES = ["VNM", "CHN", "UZB", "MNG", "NPL", "IDN", "PHL", "KHM", "MMR", "THA", "IND", "BGD"]
NATIONALITY_WEIGHTS = [0.24, 0.16, 0.12, 0.1, 0.08, 0.07, 0.06, 0.05, 0.04, 0.03, 0.03, 0.02]
SIMPLIFIED_REGION = "26"
SCAN = b"%PDF-1.4\n% demo: a synthetic one-page scan\n%%EOF\n"
OVERRIDE_EVERY = 6  # one application taken forward in six goes ahead on an override, documents to follow
OVERRIDE_REASON = {
    "approve": system_reason(N_("originals seen at the regional immigration office; scans to follow within 14 days")),
    "issue": system_reason(N_("issued on the originals seen at the counter; scans to follow within 14 days")),
}


def attach_documents(*, session, app_id: int) -> list[str]:
    """The region uploads the application's missing documents (a synthetic scan each), audited."""
    app = service.get(session=session, application_id=app_id)
    missing = documents.missing_documents(session=session, app=app)
    for doc_type in missing:
        documents.upload_document(
            session=session,
            app=app_id,
            doc_type=doc_type,
            filename=f"{doc_type}.pdf",
            content=SCAN,
            content_type="application/pdf",
            actor=ACTOR_REGION,
        )
    return missing


def _override(session, app_id: int, move: str) -> str:
    """The override reason a decision records when documents are still missing (else none)."""
    app = service.get(session=session, application_id=app_id)
    return OVERRIDE_REASON[move] if documents.missing_documents(session=session, app=app) else ""


def _dates(rng: np.random.Generator, n: int, start: dt.date, days: int) -> pl.Series:
    offsets = rng.integers(0, days, n)
    return pl.Series([start + dt.timedelta(days=int(d)) for d in offsets]).cast(pl.String)


def applicants(program_id: str, region: str, base_visa: str, design: dict, n: int, seed: int) -> pl.DataFrame:
    """n synthetic applicants for one programme: mostly eligible, some short of funds, wage or data."""
    rng = np.random.default_rng(seed)
    nat = rng.choice(NATIONALITIES, n, p=NATIONALITY_WEIGHTS)
    cols: dict = {
        "passport_no": [f"D{region}{seed % 1000:03d}{i:05d}" for i in range(n)],
        "name": [f"Demo Applicant {program_id} {i + 1}" for i in range(n)],
        "nationality": nat,
        "sex": rng.choice(["F", "M"], n),
        "passport_valid_until": _dates(rng, n, dt.date(2027, 6, 1), 1500),
        "entry_ban": np.where(rng.random(n) < 0.01, "true", "false"),
        "criminal_record": np.where(rng.random(n) < 0.02, "true", "false"),
        "prior_illegal_stay": np.where(rng.random(n) < 0.02, "true", "false"),
        "topik_level": rng.integers(2, 7, n).astype(str),
        "kiip_level": rng.integers(0, 6, n).astype(str),
    }
    if base_visa == "D-2":
        cols.update(
            birth_date=_dates(rng, n, dt.date(1996, 1, 1), 3650),
            course_type="degree",
            university_region=region,
            bank_balance_krw=np.where(rng.random(n) < 0.1, 3_000_000, rng.integers(9_000_000, 25_000_000, n)).astype(
                str
            ),
            education_level=rng.choice(["high_school", "bachelor", "master"], n, p=[0.6, 0.3, 0.1]),
        )
    else:
        occupations = next(iter((design.get("parameters", {}).get("occupations") or {"x": ["2211"]}).values()))
        subtype = "E-7-3" if "E-7-3" in str(design.get("criteria")) else "E-7-1"
        cols.update(
            birth_date=_dates(rng, n, dt.date(1984, 1, 1), 5800),
            employer_region=region,
            intended_residence=region,
            e7_subtype=subtype,
            occupation_code=rng.choice(occupations, n),
            annual_wage_krw=np.where(rng.random(n) < 0.08, 20_000_000, rng.integers(36_000_000, 70_000_000, n)).astype(
                str
            ),
            education_level=rng.choice(["bachelor", "master", "doctorate"], n, p=[0.5, 0.4, 0.1]),
            experience_years=rng.integers(1, 12, n).astype(str),
            employer_foreign_ratio=(rng.integers(2, 18, n) / 100).astype(str),
            korean_test_passed=np.where(rng.random(n) < 0.9, "true", "false"),
            skills_test_passed=np.where(rng.random(n) < 0.9, "true", "false"),
        )
    frame = pl.DataFrame({k: (v if not isinstance(v, str) else [v] * n) for k, v in cols.items()})
    # a few applicants leave a field blank: their criteria come out missing, the outcome incomplete
    blank = pl.Series(rng.random(n) < 0.06)
    return frame.with_columns(pl.when(blank).then(None).otherwise(pl.col("topik_level")).alias("topik_level"))


@dataclass(frozen=True, order=True)
class Step:
    """One planned step of the demo's history: when, which application, what."""

    at: dt.datetime
    app_id: int
    kind: str  # documents | recommend | decide | issue | return
    i: int = 0  # the application's place among the programme's picks (its decisions follow from it)


def _instant(start: dt.date, days: float, rng: np.random.Generator) -> dt.datetime:
    """`days` after `start`, in office hours (09:00–17:30 Korean time) of the day it falls on."""
    day = start + dt.timedelta(days=int(days))
    minutes = int(rng.integers(0, 510))
    return dt.datetime.combine(day, dt.time(9), clock.KST) + dt.timedelta(minutes=minutes)


def plan_history(picks: list[int], returned: int | None, *, on: dt.date, seed: int) -> list[Step]:
    """The dated steps of one programme's decisions, in time order (pure). The region works down
    its ranked queue a few applications a day, uploading the checklist the day before it
    recommends; the ministry decides a week to several weeks later (a long tail); issuance
    follows approval within days. Times are drawn once from `seed`, so the demo is reproducible."""
    rng = np.random.default_rng(seed)
    steps: list[Step] = []
    for i, app_id in enumerate(picks):
        recommend = 2 + 0.4 * i + float(rng.uniform(0, 1.5))
        decide = recommend + 2 + float(rng.gamma(2.0, 6.0))
        issue = decide + 2 + float(rng.gamma(2.0, 3.0))
        steps += [
            Step(_instant(on, recommend - 1, rng), app_id, "documents", i),
            Step(_instant(on, recommend, rng), app_id, "recommend", i),
            Step(_instant(on, decide, rng), app_id, "decide", i),
            Step(_instant(on, issue, rng), app_id, "issue", i),
        ]
    if returned is not None:
        steps.append(Step(_instant(on, 6 + float(rng.uniform(0, 3)), rng), returned, "return"))
    # a step never precedes the one before it for the same application (same-day draws may cross)
    ordered: list[Step] = []
    latest: dict[int, dt.datetime] = {}
    for step in steps:
        at = max(step.at, latest.get(step.app_id, step.at) + dt.timedelta(minutes=5))
        latest[step.app_id] = at
        ordered.append(Step(at, step.app_id, step.kind, step.i))
    return sorted(ordered)


def _documents(*, engine: Engine, step: Step, region: str) -> None:
    forward = step.i % 10 not in (7, 9) and step.i % 3 != 2  # to be approved
    on_override = forward and step.i % OVERRIDE_EVERY == 1
    # the simplified region sends its recommendations complete, so they are approved at once
    if (forward or region == SIMPLIFIED_REGION) and not on_override:
        with session_scope(engine=engine) as session:
            attach_documents(session=session, app_id=step.app_id)


def _recommend(*, engine: Engine, step: Step) -> bool:
    """The region recommends the pick; False once the quota is spent."""
    with session_scope(engine=engine) as session:
        try:
            moves.recommend(
                session=session,
                app=step.app_id,
                actor=ACTOR_REGION,
                reason=system_reason(N_("top of the ranked queue")),
            )
        except quotas.QuotaExhausted:
            return False
    return True


def _ministry_decides(*, engine: Engine, step: Step) -> None:
    """Rejected, withdrawn or approved, by the pick's place (a simplified approval already happened)."""
    with session_scope(engine=engine) as session:
        app = service.get(session=session, application_id=step.app_id)
        if app.status != "recommended":
            return
        if step.i % 10 == 7:
            moves.reject(
                session=session,
                app=step.app_id,
                actor=ACTOR_MINISTRY,
                reason=system_reason(N_("employer could not be verified")),
            )
        elif step.i % 10 == 9:
            moves.withdraw(
                session=session,
                app=step.app_id,
                actor=ACTOR_REGION,
                reason=system_reason(N_("applicant withdrew (moved abroad)")),
            )
        elif step.i % 3 != 2:
            override = _override(session, step.app_id, "approve")
            moves.approve(
                session=session,
                app=step.app_id,
                actor=ACTOR_MINISTRY,
                reason=system_reason(N_("approved on the originals"))
                if override
                else system_reason(N_("documents verified")),
                override_reason=override,
            )


def _issue(*, engine: Engine, step: Step) -> None:
    """Half of the approved are issued, on the day of the step."""
    with session_scope(engine=engine) as session:
        if service.get(session=session, application_id=step.app_id).status == "approved" and step.i % 2 == 0:
            moves.issue(
                session=session,
                app=step.app_id,
                actor=ACTOR_MINISTRY,
                reason=system_reason(N_("visa issued")),
                on=step.at.astimezone(clock.KST).date(),
                override_reason=_override(session, step.app_id, "issue"),
            )


def replay_history(*, engine: Engine, steps: list[Step], region: str) -> None:
    """Take the planned steps in time order, each as of its instant (`clock.replaying`), through
    the same audited moves as an officer's. Once the quota is spent, later picks stop there."""
    dropped: set[int] = set()
    exhausted = False
    for step in steps:
        if step.app_id in dropped:
            continue
        with clock.replaying(step.at):
            if step.kind == "documents":
                _documents(engine=engine, step=step, region=region)
            elif step.kind == "recommend":
                if exhausted or not _recommend(engine=engine, step=step):
                    exhausted = True
                    dropped.add(step.app_id)
            elif step.kind == "decide":
                _ministry_decides(engine=engine, step=step)
            elif step.kind == "issue":
                _issue(engine=engine, step=step)
            else:
                with session_scope(engine=engine) as session:
                    moves.return_(
                        session=session,
                        app=step.app_id,
                        actor=ACTOR_REGION,
                        reason=system_reason(N_("please supply the missing evidence and reapply")),
                    )


def demo_step(*, engine: Engine) -> None:
    """The demo's applications: for every 2025 ledger, a file of applicants taken in, the top of
    the ranked queue moved on (`_decide`) and one incomplete application returned. Idempotent."""
    quota_demo.ensure_programmes(engine=engine)
    with session_scope(engine=engine) as session:
        if session.scalar(select(Application.id).limit(1)) is not None:
            return  # already built
    quota_demo.demo_step(engine=engine)  # idempotent: opens only the 2025 ledgers still missing
    with session_scope(engine=engine) as session:
        service.set_simplified(
            session=session,
            region=SIMPLIFIED_REGION,
            enabled=True,
            actor=system_actor("demo", detail="ministry-admin"),
            reason="demo: grade A region until the 2025 evaluation is published (illustrative)",
        )
        ledgers = list(session.scalars(select(QuotaLedger).where(QuotaLedger.period == "2025")))
        plan = [(ledger.program_id, ledger.region, ledger.allocated) for ledger in ledgers]
    for k, (program_id, region, allocated) in enumerate(sorted(plan)):
        on = dt.date(2025, 5, 2) + dt.timedelta(days=7 * (k % 12))
        with session_scope(engine=engine) as session, clock.replaying(_instant(on, 0, np.random.default_rng(k))):
            program = programs.get_program(session=session, program_id=program_id)
            version = programs.published_on(session=session, program_id=program_id, on=on)
            n = int(min(40, max(12, allocated // 20)))
            frame = applicants(program_id, region, program.base_visa, version.design, n, seed=2025 + k)
            bulk_intake.import_applications(
                session=session,
                program_id=program_id,
                source=frame,
                actor=ACTOR_REGION,
                on=on,
                source_name="demo intake",
            )
        with session_scope(engine=engine) as session:
            q = views.queue(session=session, program_id=program_id)
            ranked = q.frame.filter(pl.col("rank").is_not_null())["id"].to_list()
            others = q.frame.filter(pl.col("rank").is_null())["id"].to_list()
        picks = ranked[: max(1, int(len(ranked) * 0.6))]  # individual decisions, each audited
        steps = plan_history(picks, others[0] if others else None, on=on, seed=2025 + k)
        replay_history(engine=engine, steps=steps, region=region)
