"""Application intake: one application at a time (`submit`); a whole file is
`applications.bulk_intake.import_applications`, which applies the same checks over columns.

Either way an application is screened at once against the programme version in force on the
submission date; a file's good rows go in (screened in one vectorised pass) and its bad rows are
reported with line, field, value and reason, in one transaction.

A `person_id` given at intake links the application to a person of the records. It must be the
applicant (passport number, name and date of birth all match the person record) and a person the
actor may act on: the permission to read that person's records (`records.read`) for the person's
region, which is that of their latest address, else of their latest status. A regional official
may so link people of their own region and people the records place in no region yet; the
ministry, which issues visas for the whole country, may link anyone (a resident of one region
applying to another region's programme is an ordinary case).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from regionvisa import locking
from regionvisa.accounts.policy import can
from regionvisa.applications.models import Application
from regionvisa.applications.moves import (
    add_event,
    change_status,
    duplicate_application,
    record_screening,
)
from regionvisa.applications.service import (
    is_applicant,
    jsonable,
    simplified_for,
)
from regionvisa.applications.subjects import PROGRAMME, intake_action
from regionvisa.core.actor import Actor
from regionvisa.core.errors import DomainError, Forbidden, Invalid
from regionvisa.core.text import N_, system_reason
from regionvisa.core.usecase import Done, use_case
from regionvisa.db import utcnow
from regionvisa.programs import service as programs
from regionvisa.records import pii
from regionvisa.records.models import AddressReport, Person, StatusGrant
from regionvisa.rules import FIELDS, coerce_applicant

PASSPORT_RE = re.compile(r"^[A-Z0-9]{5,20}$")


NATIONALITY_RE = re.compile(r"^[A-Z]{3}$")


def _bad(field_name: str, value: Any, ko: str, en: str) -> DomainError:
    return Invalid(
        code="invalid", ko=f"{field_name} = {value!r}: {ko}", en=f"{field_name} = {value!r}: {en}", field=field_name
    )


class ProfileInvalid(Invalid):
    """Every refused field of one applicant at once (`field_errors`), so a form can mark each; the
    API answer lists them under `details` besides the first as `field`."""

    def __init__(self, *, field_errors: list[dict]) -> None:
        first = field_errors[0]
        super().__init__(code="invalid", ko=first["ko"], en=first["en"], field=first["field"])
        self.field_errors = field_errors

    def body(self) -> dict:
        out = super().body()
        out["error"]["details"] = [
            {"field": e["field"], "message": {"ko": e["ko"], "en": e["en"]}} for e in self.field_errors
        ]
        return out


def _field_error(name: str, value: Any, ko: str, en: str) -> dict:
    """One refused applicant field, worded with its catalogue label, the value and the rule broken."""
    f = FIELDS.get(name)
    label_ko, label_en = (f.label_ko, f.label_en) if f else (name, name)
    shown = "" if value is None else str(value)
    return {
        "field": name,
        "ko": f"{label_ko} {shown!r}: {ko}" if shown else f"{label_ko}: {ko}",
        "en": f"{label_en[:1].upper()}{label_en[1:]} {shown!r}: {en}" if shown else f"{label_en}: {en}",
    }


def plausibility_checks(frame: pl.DataFrame, *, on: dt.date) -> list[tuple[str, pl.Expr, str, str]]:
    """The catalogue's date bounds as column masks (field, bad mask, reason_en, reason_ko): the age a
    date of birth gives on the application date `on`, and dates that must follow another (a passport
    expires after its holder's birth). Applied to a whole file at once, or to a one-row frame."""
    out = []
    for name, f in FIELDS.items():
        if f.type != "date" or name not in frame.columns:
            continue
        col = pl.col(name)
        if f.age_min is not None or f.age_max is not None:
            before_birthday = (col.dt.month().cast(pl.Int32) * 100 + col.dt.day().cast(pl.Int32)) > (
                on.month * 100 + on.day
            )
            age = pl.lit(on.year) - col.dt.year().cast(pl.Int32) - before_birthday.cast(pl.Int32)
            lo, hi = f.age_min if f.age_min is not None else 0, f.age_max if f.age_max is not None else 200
            bad = col.is_not_null() & ((age < lo) | (age > hi))
            out.append(
                (
                    name,
                    bad,
                    f"gives an age outside {lo} to {hi} years on the application date {on.isoformat()}"
                    + (" (a date in the future)" if lo == 0 else ""),
                    f"신청일({on.isoformat()}) 기준 나이가 {lo}~{hi}세 범위를 벗어납니다"
                    + (" (미래 날짜 포함)" if lo == 0 else ""),
                )
            )
        if f.after and f.after in frame.columns:
            other = FIELDS[f.after]
            bad = col.is_not_null() & pl.col(f.after).is_not_null() & (col <= pl.col(f.after))
            out.append((name, bad, f"must be after the {other.label_en}", f"{other.label_ko}보다 뒤의 날짜여야 합니다"))
    return out


def _profile_problems(applicant: dict, on: dt.date) -> tuple[dict, list[dict]]:
    """The typed profile and every refused field: types and ranges (the catalogue, as a file is read),
    then the date bounds against the application date."""
    profile, problems = coerce_applicant(dict(applicant))
    errors = [_field_error(name, value, ko, en) for name, value, en, ko in problems]
    dates = {n: profile.get(n) for n, f in FIELDS.items() if f.type == "date" and isinstance(profile.get(n), dt.date)}
    if dates:
        frame = pl.DataFrame({n: [v] for n, v in dates.items()}, schema={n: pl.Date for n in dates})
        checks = plausibility_checks(frame, on=on)
        if checks:
            flags = frame.select([mask.alias(f"c{i}") for i, (_n, mask, _e, _k) in enumerate(checks)]).row(0)
            for hit, (name, _mask, en, ko) in zip(flags, checks, strict=True):
                if hit:
                    errors.append(_field_error(name, dates[name].isoformat(), ko, en))
    order = {n: i for i, n in enumerate(FIELDS)}
    errors.sort(key=lambda e: order.get(e["field"], len(order)))
    return profile, errors


def _clean_identity(name: str, passport_no: str, nationality: str) -> tuple[str, str, str]:
    name = (name or "").strip()
    passport = (passport_no or "").strip().upper()
    nat = (nationality or "").strip().upper()
    if not name:
        raise Invalid(code="invalid", ko="이름이 필요합니다", en="the applicant's name is required", field="name")
    if not PASSPORT_RE.match(passport):
        raise Invalid(
            code="invalid",
            ko="여권번호는 영문 대문자와 숫자 5~20자입니다",
            en="the passport number must be 5 to 20 capital letters and digits",
            field="passport_no",
        )
    if not NATIONALITY_RE.match(nat):
        raise _bad(
            "nationality", nationality, "ISO 3166-1 알파-3 국가 코드여야 합니다", "expected an ISO 3166-1 alpha-3 code"
        )
    return name, passport, nat


def person_region(*, session: Session, person_id: str, on: dt.date | None = None) -> str | None:
    """The region the records place a person in on `on` (default today), as the residents view does
    (`records.frames.resident_regions`): that of the latest address in force, else of the latest
    status; None when the records hold neither."""
    on = on or dt.date.today()
    area = session.scalar(
        select(AddressReport.area_code)
        .where(AddressReport.person_id == person_id, AddressReport.effective_date <= on)
        .order_by(AddressReport.effective_date.desc(), AddressReport.id.desc())
        .limit(1)
    )
    if area:
        return area[:2]
    return session.scalar(
        select(StatusGrant.region)
        .where(StatusGrant.person_id == person_id, StatusGrant.granted_on <= on)
        .order_by(StatusGrant.valid_from.desc(), StatusGrant.granted_on.desc(), StatusGrant.id.desc())
        .limit(1)
    )


def _check_person(
    session: Session, person_id: str, *, name: str, passport_hash: str, birth_date: dt.date | None, actor: Any
) -> Person:
    """A `person_id` given at intake: it must exist (422), be a person the actor may act on (403;
    checked before the identity, so the answer tells nothing about another region's people) and
    be the applicant (422)."""
    person = session.get(Person, person_id)
    if person is None:
        raise Invalid(
            code="unknown_person",
            ko=f"기록에 없는 사람 번호입니다: {person_id}",
            en=f"there is no person {person_id} in the records",
            field="person_id",
        )
    if not can(actor, "records.read", person_region(session=session, person_id=person_id)):
        raise Forbidden(
            en=f"person {person_id} belongs to another region's records: a regional official may link only people "
            "of their own region or people with no region yet (leave person_id empty to apply without the link)",
            ko=f"{person_id}은(는) 다른 지역 기록의 사람입니다. 지자체 담당자는 담당 지역 또는 아직 지역이 없는 사람만 "
            "연결할 수 있습니다 (연결 없이 신청하려면 person_id를 비워 두십시오)",
        )
    if not is_applicant(person, name, passport_hash, birth_date):
        raise Invalid(
            code="person_mismatch",
            ko=f"사람 기록 {person_id}이(가) 신청인과 일치하지 않습니다: 여권번호, 이름, 생년월일이 모두 같아야 합니다",
            en=f"person {person_id} in the records is not this applicant: the passport number, name and date of birth "
            "must all match",
            field="person_id",
        )
    return person


@locking.answers_conflicts
def _applicant(applicant: dict, name: str, passport_no: str, on: dt.date) -> tuple:
    """The checked profile and identity of one applicant: (profile, name, passport ciphertext,
    passport hash, nationality, birth date), or ProfileInvalid listing every field problem."""
    profile, problems = _profile_problems(applicant, on)
    if problems:
        raise ProfileInvalid(field_errors=problems)
    name, passport, nationality = _clean_identity(name, passport_no, applicant.get("nationality") or "")
    profile["nationality"] = nationality
    passport_enc, passport_hash = pii.protect(passport)
    birth = profile.get("birth_date")
    return profile, name, passport_enc, passport_hash, nationality, birth if isinstance(birth, dt.date) else None


@use_case(action=intake_action, subject=PROGRAMME, subject_arg="program_id")
def submit(
    *,
    session: Session,
    program_id: Any,
    applicant: dict,
    name: str,
    passport_no: str,
    actor: Actor,
    on: dt.date | None = None,
    person_id: str | None = None,
    channel: str = "api",
    at: dt.datetime | None = None,
) -> Done:
    """Take one application and screen it at once against the version in force on the submission date.

    A `person_id` must name the applicant's own person record and one the actor may act on
    (module docstring): otherwise 422 (unknown, or not the applicant) or 403 (out of scope)."""
    program = program_id  # the caller names the programme by id; the use case hands over its row
    program_id = program.id
    on = on or dt.date.today()
    version = programs.published_on(session=session, program_id=program_id, on=on)

    profile, name, passport_enc, passport_hash, nationality, birth = _applicant(applicant, name, passport_no, on)
    person_id = (person_id or "").strip() or None
    if person_id is not None:
        _check_person(session, person_id, name=name, passport_hash=passport_hash, birth_date=birth, actor=actor)
    exists = session.scalar(
        select(Application.id).where(Application.program_id == program_id, Application.open_passport == passport_hash)
    )
    if exists is not None:
        raise duplicate_application(program_id)
    now = at or utcnow()
    app = Application(
        program_id=program_id,
        region=program.region,
        status="submitted",
        applicant_name=name,
        passport_enc=passport_enc,
        passport_hash=passport_hash,
        open_passport=passport_hash,
        nationality=nationality,
        birth_date=birth,
        person_id=person_id,
        profile=jsonable(profile),
        submitted_at=now,
        submitted_on=on,
        submitted_by=actor.username,
        channel=channel,
        simplified=simplified_for(session=session, region=program.region),
        program_version=version.version,
        reserved=False,
        updated_at=now,
    )
    try:
        session.add(app)
        session.flush()
    except IntegrityError as exc:
        raise duplicate_application(program_id) from exc
    add_event(
        session=session,
        app=app,
        before=None,
        after="submitted",
        move="submit",
        actor=actor,
        reason=system_reason(N_("application received")),
        screening=None,
    )
    screening = record_screening(
        session=session,
        app=app,
        version=version,
        on=on,
        actor=actor,
        kind="initial",
        reason=system_reason(N_("automatic screening")),
    )
    screened = change_status(
        session=session,
        app=app,
        move="screen",
        actor=actor,
        reason=system_reason(N_("automatic screening on submission")),
        screening=screening,
    )
    return Done(
        value=app,
        action="application.submit",
        subject=("application", app.id),
        region=app.region,
        reason=f"application received ({channel})",
        inputs={"program_id": program_id, "version": version.version, "on": on, "simplified": app.simplified},
        then=(screened,),  # the automatic screening, recorded after the receipt
    )
