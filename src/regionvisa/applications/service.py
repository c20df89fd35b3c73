"""Applications: the lookups every part of the domain shares, and the region's benefit flag.

The domain is cut along its seams, and each module says why in its own docstring:

- `lifecycle`: the declared table of moves (states, policy action, reason rule, effects);
- `moves`: the life-cycle moves themselves (screen, recommend, approve, issue, reject, withdraw,
  cancel), each one conditional UPDATE under the row lock;
- `flows`: what a move does to the other domains (the quota ledger, the records), one function
  per effect the table declares;
- `intake`: submission one at a time and bulk import from a file, with the person checks;
- `documents`: the checklist, uploads, and the files encrypted at rest;
- `views`: the recommendation queue, the read views, the passport reveal and the export.

This module holds what they all read: the application and its screenings and events, the
programme version it was screened against, who the actor is, whether a person record is the
applicant, and the region's simplified-procedure flag.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from regionvisa.accounts.policy import can, grant
from regionvisa.applications.models import Application, ApplicationEvent, RegionBenefit, Screening
from regionvisa.applications.subjects import read_region, readable
from regionvisa.core.actor import Actor
from regionvisa.core.errors import Invalid, NotFound
from regionvisa.core.usecase import Done, use_case
from regionvisa.db import utcnow
from regionvisa.programs import service as programs
from regionvisa.records import pii
from regionvisa.records.models import Person
from regionvisa.regions.service import region_codes

# --------------------------------------------------------------------------------- actors


def jsonable(value: Any) -> Any:
    """`value` as the JSON columns store it (dates as ISO text)."""
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


# --------------------------------------------------------------------------------- lookups


def get(*, session: Session, application_id: int, actor: Actor | None = None) -> Application:
    """The application (404 if none); with `actor`, only when they may read its region (403)."""
    app = session.get(Application, application_id)
    if app is None:
        raise NotFound(what=f"application {application_id}")
    return app if actor is None else readable(actor, app)


def latest_screening(*, session: Session, app: Application) -> Screening | None:
    return session.scalars(
        select(Screening).where(Screening.application_id == app.id).order_by(Screening.id.desc()).limit(1)
    ).first()


def latest_screenings(*, session: Session, apps: list[Application]) -> dict[int, Screening]:
    """`latest_screening` of each application of a page, in one query."""
    ids = [app.id for app in apps]
    if not ids:
        return {}
    newest = select(func.max(Screening.id)).where(Screening.application_id.in_(ids)).group_by(Screening.application_id)
    return {s.application_id: s for s in session.scalars(select(Screening).where(Screening.id.in_(newest)))}


def screenings(*, session: Session, app: Application) -> list[Screening]:
    return list(session.scalars(select(Screening).where(Screening.application_id == app.id).order_by(Screening.id)))


def events(*, session: Session, app: Application) -> list[ApplicationEvent]:
    return list(
        session.scalars(
            select(ApplicationEvent).where(ApplicationEvent.application_id == app.id).order_by(ApplicationEvent.id)
        )
    )


@dataclass(frozen=True)
class Listing:
    region: str | None  # the region the list was filtered by (None: every region)
    total: int
    rows: list[Application]


def list_applications(
    *,
    session: Session,
    actor: Actor,
    region: str | None = None,
    program_id: str | None = None,
    status: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Listing:
    """One page of applications in the actor's read scope: a regional official's own region
    whatever they ask for (403 when they ask for another), anyone else the region they ask for."""
    region = read_region(actor, region)
    query = select(Application)
    if region:
        query = query.where(Application.region == region)
    if program_id:
        query = query.where(Application.program_id == program_id)
    if status:
        query = query.where(Application.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Application.id.desc()).offset(offset).limit(limit))
    return Listing(region, int(total), list(rows))


SEARCH = "applications.search"
PASSPORT_SEARCH_RE = re.compile(r"^[A-Z0-9]{5,20}$")


def sees_names(actor: Actor, region: str | None = None) -> bool:
    """Whether `actor` may see applicants' names (and search by name or passport): `applications.search`."""
    return grant(actor, SEARCH) is not None and (region is None or can(actor, SEARCH, region))


def search_terms_digest(text: str) -> str:
    """What the audit log keeps of a searched name or passport: its keyed lookup hash (the one the
    passport column is matched by), never the value; an auditor holding a value can check it."""
    return pii.lookup_hash([text])[0] or ""


@use_case(action=SEARCH, audit="applications.search")
def _search(
    *,
    session: Session,
    region: str | None,
    actor: Actor,
    name: str,
    passport_no: str,
    program_id: str | None,
    status: str | None,
    offset: int,
    limit: int,
) -> Done:
    """One page of the applications matching a name (any part, case and spacing ignored) or a whole
    passport number (matched by its keyed hash: passports are stored encrypted)."""
    query = select(Application)
    if region:
        query = query.where(Application.region == region)
    if program_id:
        query = query.where(Application.program_id == program_id)
    if status:
        query = query.where(Application.status == status)
    by = []
    if passport_no:
        query = query.where(Application.passport_hash == pii.protect(passport_no)[1])
        by.append("passport")
    if name:
        words = " ".join(name.split()).lower()
        query = query.where(func.lower(Application.applicant_name).contains(words, autoescape=True))
        by.append("name")
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(session.scalars(query.order_by(Application.id.desc()).offset(offset).limit(limit)))
    return Done(
        value=Listing(region, int(total), rows),
        subject=("application_search", region or "all"),
        reason="search of applications by " + " and ".join(by),
        inputs={
            "by": by,
            # keyed digests only: the log never holds a searched name or passport in clear
            "name_digest": search_terms_digest(" ".join(name.split()).lower()) if name else None,
            "passport_digest": pii.protect(passport_no)[1] if passport_no else None,
            "results": int(total),
            "shown": [a.id for a in rows],
        },
        region=region,
    )


def search_applications(
    *,
    session: Session,
    actor: Actor,
    name: str = "",
    passport_no: str = "",
    region: str | None = None,
    program_id: str | None = None,
    status: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Listing:
    """Applications by applicant name or passport number, for roles holding `applications.search`
    in the region searched (a regional official: their own); each search is an audit entry."""
    name = (name or "").strip()
    passport_no = (passport_no or "").strip().upper()
    if not name and not passport_no:
        raise Invalid(
            code="invalid",
            ko="이름 또는 여권번호를 입력해 주세요",
            en="Enter a name or a passport number to search for",
            field="q",
        )
    if passport_no and not PASSPORT_SEARCH_RE.match(passport_no):
        raise Invalid(
            code="invalid",
            ko="여권번호는 영문 대문자와 숫자 5~20자입니다 (전체 번호로 검색합니다)",
            en="A passport number is 5 to 20 capital letters and digits (the whole number is searched)",
            field="passport_no",
        )
    region = read_region(actor, region, action=SEARCH)
    return _search(
        session=session,
        region=region,
        actor=actor,
        name=name,
        passport_no=passport_no,
        program_id=program_id,
        status=status,
        offset=offset,
        limit=limit,
    )


def version_for(*, session: Session, app: Application):
    """The programme version the application was last screened against (None before screening)."""
    return (
        programs.get_version(session=session, program_id=app.program_id, version=app.program_version)
        if app.program_version
        else None
    )


def same_name(a: str | None, b: str | None) -> bool:
    """Names compare without regard to case or spacing (`NGUYEN  Van A` is `Nguyen Van A`)."""
    return " ".join((a or "").split()).lower() == " ".join((b or "").split()).lower()


def is_applicant(person: Person, name: str, passport_hash: str, birth_date: dt.date | None) -> bool:
    """Whether a person record is the applicant: passport number, name and date of birth all match."""
    return (
        birth_date is not None
        and person.passport_hash == passport_hash
        and person.birth_date == birth_date
        and same_name(person.name, name)
    )


# --------------------------------------------------------------------------------- benefits


BENEFIT_SOURCES = ("evaluation", "override")


def simplified_for(*, session: Session, region: str) -> bool:
    """Whether the region has the simplified procedure: the one stored flag (`RegionBenefit`)."""
    row = session.get(RegionBenefit, region)
    return bool(row and row.simplified_procedure)


@use_case(action="applications.benefit", audit="applications.benefit.simplified")
def set_simplified(
    *, session: Session, region: str, enabled: bool, actor: Actor, reason: str, source: str = "override"
) -> Done:
    """Set the region's flag. `source` says whether a published evaluation set it or a ministry
    administrator overrode it; the audit entry keeps the value and source it replaced. The subject
    is the region itself (no row of its own until the first setting), so the use case authorises
    the `region` argument."""
    if source not in BENEFIT_SOURCES:
        raise ValueError(f"source must be one of {BENEFIT_SOURCES}, not {source!r}")
    if region not in region_codes():
        raise NotFound(what=f"region {region}")
    if not reason.strip():
        raise Invalid(code="reason_required", ko="사유가 필요합니다", en="a reason is required", field="reason")
    row = session.get(RegionBenefit, region)
    if row is None:
        row = RegionBenefit(region=region)
        session.add(row)
    before, before_source = bool(row.simplified_procedure), row.source
    row.simplified_procedure, row.set_by, row.set_at, row.reason = enabled, actor.username, utcnow(), reason
    row.source = source
    session.flush()
    return Done(
        value=row,
        subject=("region", region),
        reason=reason,
        inputs={"simplified_procedure": enabled, "before": before, "source": source, "before_source": before_source},
    )


def benefits(*, session: Session) -> list[RegionBenefit]:
    return list(session.scalars(select(RegionBenefit).order_by(RegionBenefit.region)))
