"""Quotas / 쿼터: the demo data step `regionvisa demo` runs (after the synthetic records).

Opens the 2025 ledger of every published pilot programme with the quota reported for it in the
pilot's reference data (regions/data/pilot_2025.csv)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from sqlalchemy import select
from sqlalchemy.engine import Engine

from regionvisa.accounts.policy import system_actor
from regionvisa.config import get_settings
from regionvisa.core import clock
from regionvisa.core.text import N_, system_reason
from regionvisa.db import session_scope
from regionvisa.programs import service as programs
from regionvisa.programs.files import program_files
from regionvisa.programs.models import Program, ProgramVersion
from regionvisa.quotas import service
from regionvisa.quotas.models import QuotaLedger

PILOT_CSV = Path(__file__).resolve().parents[1] / "regions" / "data" / "pilot_2025.csv"
ACTOR = system_actor("demo")


def pilot_quotas() -> pl.DataFrame:
    return pl.read_csv(PILOT_CSV, comment_prefix="#", schema_overrides={"region": pl.String})


def ensure_programmes(*, engine: Engine) -> None:
    """The pilot programmes, published; loaded from the policy files when the programmes step has not."""
    with session_scope(engine=engine) as session:
        published = session.scalar(select(ProgramVersion.id).where(ProgramVersion.status == "published").limit(1))
        if published is None:
            programs.load_files(
                session=session, paths=program_files(get_settings().policy_dir), actor=ACTOR, publish=True
            )


def demo_step(*, engine: Engine) -> None:
    ensure_programmes(engine=engine)
    # the ledgers opened on the day of the selection, so their history precedes the applications'
    opened_at = dt.datetime(2025, 4, 2, 14, 0, tzinfo=clock.KST)
    with session_scope(engine=engine) as session, clock.replaying(opened_at):
        known = set(session.scalars(select(Program.id)))
        opened = set(session.scalars(select(QuotaLedger.program_id).where(QuotaLedger.period == "2025")))
        for row in pilot_quotas().iter_rows(named=True):  # fifteen programmes
            if row["program_id"] not in known or row["program_id"] in opened:
                continue
            service.open_ledger(
                session=session,
                program_id=row["program_id"],
                region=row["region"],
                period="2025",
                start=dt.date(2025, 1, 1),
                end=dt.date(2025, 12, 31),
                allocated=int(row["quota"]),
                actor=ACTOR,
                reason=system_reason(N_("2025 pilot allocation (MOJ selection of 2 April 2025)"))
                if row["reported"]
                else system_reason(N_("2025 pilot allocation (MOJ selection of 2 April 2025); illustrative figure")),
            )
