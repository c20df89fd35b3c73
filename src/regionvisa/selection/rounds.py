"""Selection rounds: a round's record, its phase on the clock, and its display.

The lowest layer of `selection`: the committee, proposal and decision modules read the round
and its phase from here. Stored times are UTC; the ministry's clock is Korean time.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from regionvisa.core.errors import NotFound
from regionvisa.db import utcnow
from regionvisa.selection.models import SelectionRound

KST = ZoneInfo("Asia/Seoul")


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def aware(value: dt.datetime) -> dt.datetime:
    """An input time without a zone is Korean time (the ministry's clock)."""
    return value.replace(tzinfo=KST) if value.tzinfo is None else value


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


def get_round(*, session: Session, round_id: int) -> SelectionRound:
    rnd = session.get(SelectionRound, round_id)
    if rnd is None:
        raise NotFound(what=f"selection round {round_id}")
    return rnd


def list_rounds(*, session: Session) -> list[SelectionRound]:
    return list(session.scalars(select(SelectionRound).order_by(SelectionRound.year.desc(), SelectionRound.id.desc())))


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
