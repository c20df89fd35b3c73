"""Processing times as the actor may see them: read the history and the applications of the
actor's scope in two set-based SELECTs, then compute over columns (`processing.compute`)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from regionvisa.accounts.policy import Actor, scope_region
from regionvisa.applications.models import Application, ApplicationEvent
from regionvisa.core.errors import Invalid
from regionvisa.db import utcnow
from regionvisa.processing import compute
from regionvisa.processing.rules import Settings, processing_standards

PERMISSION = "applications.read"  # who reads processing times: who reads applications
PROGRAM_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"


@dataclass(frozen=True)
class ProcessingView:
    """Everything the dashboard, the API and the export show, for one scope and instant."""

    now: dt.datetime
    region: str | None
    program_id: str | None
    settings: Settings
    states: pl.DataFrame  # per programme, region and state: spells, median, p90, open
    totals: pl.DataFrame  # per programme and region: issued, median and p90 total days
    backlog: pl.DataFrame  # per programme, region and age band: open applications
    at_risk: pl.DataFrame  # open applications at risk of missing their declared date
    expected: pl.DataFrame  # per programme: expected total days and whether from its own sample
    bands: list[str]


def _naive_utc(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Instants as naive UTC microseconds on either database (SQLite returns ISO text)."""
    exprs = []
    for name in columns:
        dtype = frame.schema[name]
        if dtype == pl.String:
            text = pl.col(name).str.replace("T", " ").str.slice(0, 26)
            exprs.append(text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us").alias(name))
        elif isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
            exprs.append(pl.col(name).dt.convert_time_zone("UTC").dt.replace_time_zone(None).dt.cast_time_unit("us"))
        else:
            exprs.append(pl.col(name).cast(pl.Datetime("us")))
    return frame.with_columns(exprs)


def _read(session: Session, *, region: str | None, program_id: str | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    apps = select(
        Application.id.label("application_id"),
        Application.program_id,
        Application.region,
        Application.status,
        Application.submitted_at,
    )
    events = select(ApplicationEvent.application_id, ApplicationEvent.to_status, ApplicationEvent.at).join(
        Application, Application.id == ApplicationEvent.application_id
    )
    if region is not None:
        apps, events = apps.where(Application.region == region), events.where(Application.region == region)
    if program_id is not None:
        apps = apps.where(Application.program_id == program_id)
        events = events.where(Application.program_id == program_id)
    conn = session.connection()
    app_frame = pl.read_database(apps, connection=conn, schema_overrides={"application_id": pl.Int64})
    event_frame = pl.read_database(events, connection=conn, schema_overrides={"application_id": pl.Int64})
    if app_frame.is_empty():
        app_frame = pl.DataFrame(schema=compute.APPLICATION_SCHEMA)
    if event_frame.is_empty():
        event_frame = pl.DataFrame(schema=compute.EVENT_SCHEMA)
    app_frame = _naive_utc(app_frame, ["submitted_at"]).cast(compute.APPLICATION_SCHEMA)
    event_frame = _naive_utc(event_frame, ["at"]).cast(compute.EVENT_SCHEMA)
    return app_frame, event_frame


def declared_frame() -> pl.DataFrame:
    rows = processing_standards().declared()
    return pl.DataFrame(
        {
            "program_id": [r[0] for r in rows],
            "declared_on": [r[1] for r in rows],
            "label_ko": [r[2] for r in rows],
            "label_en": [r[3] for r in rows],
        },
        schema=compute.DECLARED_SCHEMA,
    )


def processing_view(
    *,
    session: Session,
    actor: Actor,
    region: str | None = None,
    program_id: str | None = None,
    now: dt.datetime | None = None,
) -> ProcessingView:
    """The processing times the actor may see: a regional official their own region's (asking for
    another region is a 403), the ministry and auditors every region's."""
    if program_id is not None and not re.fullmatch(PROGRAM_PATTERN, program_id):
        raise Invalid(
            code="bad_program",
            ko=f"프로그램 식별자가 올바르지 않습니다: {program_id}",
            en=f"not a programme id: {program_id}",
            field="program_id",
        )
    scoped = scope_region(actor, region, action=PERMISSION)
    now = (now or utcnow()).astimezone(dt.UTC).replace(tzinfo=None)
    settings = processing_standards().settings_on(now.date())
    applications, events = _read(session, region=scoped, program_id=program_id)
    spell_rows = compute.spells(events, now=now)
    total_rows = compute.totals(events, applications, now=now)
    open_rows = compute.open_applications(applications, now=now)
    programs = sorted(set(applications["program_id"].to_list()))
    expected = compute.expected_days(
        total_rows, programs=programs, default=settings.expected_days, minimum_sample=settings.minimum_sample
    )
    return ProcessingView(
        now=now,
        region=scoped,
        program_id=program_id,
        settings=settings,
        states=compute.state_summary(spell_rows, applications),
        totals=compute.total_summary(total_rows),
        backlog=compute.backlog(open_rows, bands=settings.backlog_bands),
        at_risk=compute.at_risk(open_rows, expected, declared_frame(), now=now),
        expected=expected,
        bands=compute.band_labels(settings.backlog_bands),
    )
