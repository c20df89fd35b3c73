"""Programme designs in the database: versions, the draft → published life cycle, lookup of the
programmes in force, and resolving a reference (`FILE`, `ID`, `ID@N`) to a programme ready to use.
Every change is a declared use case (`core.usecase`): `store` (a design as a new or changed
version; `load_files` and `save_draft` go through it) and `transition` (a move of the life cycle);
a published version never changes.

Using a programme lives beside this module: `screening` (screen, rank, explain, match),
`simulation` (reform over an applicant pool), `designs` (designs as input), `views` (what the
API and the pages show); the near-miss search is pure and lives in `rules.nearmiss`."""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from regionvisa.core.actor import Actor
from regionvisa.core.errors import Conflict, Invalid, NotFound
from regionvisa.core.usecase import Done, use_case
from regionvisa.db import utcnow
from regionvisa.policyfiles import PolicyError
from regionvisa.programs.files import LoadedProgram, load_program_file, parse_design
from regionvisa.programs.lifecycle import APPROVE, EDIT, PROGRAMME_VERSIONS
from regionvisa.programs.models import Program, ProgramVersion
from regionvisa.programs.subjects import DESIGN, PROGRAM, Design
from regionvisa.rules import RuleProgram
from regionvisa.rules.validate import CheckedProgram


def design_digest(design: dict) -> str:
    return hashlib.sha256(json.dumps(design, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


@lru_cache(maxsize=256)
def _loaded_by_digest(digest: str, design_json: str) -> LoadedProgram:
    return parse_design(json.loads(design_json), source=f"program:{digest[:8]}")


def loaded(version: ProgramVersion) -> LoadedProgram:
    """The validated rule programme of a stored version (cached by content digest)."""
    return _loaded_by_digest(version.digest, json.dumps(version.design, sort_keys=True, ensure_ascii=False))


def _program_row(session: Session, lp: LoadedProgram) -> Program:
    program = session.get(Program, lp.spec.id)
    if program is None:
        program = Program(
            id=lp.spec.id,
            region=lp.spec.region,
            base_visa=lp.spec.base_visa,
            title_ko=lp.spec.title.ko,
            title_en=lp.spec.title.en,
        )
        session.add(program)
    elif program.region != lp.spec.region or program.base_visa != lp.spec.base_visa:
        raise Conflict(
            code="program_identity",
            ko="프로그램의 지역·기본자격은 바꿀 수 없습니다",
            en=f"programme {program.id} belongs to region {program.region} ({program.base_visa}); "
            "a new design must keep both",
            field="region",
        )
    else:
        program.title_ko, program.title_en = lp.spec.title.ko, lp.spec.title.en
    return program


def _store_action(actor: Actor, design: Design, kwargs: dict) -> str:
    """A draft is the region's to write (`programs.edit_draft`); a version stored approved or
    published (a file load with `--publish`) is the ministry's (`programs.approve`)."""
    return EDIT if kwargs.get("status", "draft") == "draft" else APPROVE


@use_case(action=_store_action, subject=DESIGN)
def store(*, session: Session, design: Design, actor: Actor, reason: str, status: str = "draft") -> Done:
    """Store one validated design version (called with its `LoadedProgram`). Re-storing an
    identical version is a no-op; changing a version that has left draft is refused (bump
    `version` instead)."""
    lp = design.loaded
    stored = lp.as_dict()
    digest = design_digest(stored)
    _program_row(session, lp)
    existing = session.scalar(
        select(ProgramVersion).where(ProgramVersion.program_id == lp.spec.id, ProgramVersion.version == lp.spec.version)
    )
    if existing is not None:
        if existing.digest == digest:
            return Done(value=existing, reason=reason, changed=False)
        if existing.status != "draft":
            raise Conflict(
                code="version_immutable",
                ko=f"{existing.status} 상태의 버전은 바꿀 수 없습니다; 새 버전을 만드십시오",
                en=f"{lp.spec.id} version {lp.spec.version} is {existing.status} and cannot change; "
                "give the design a new version number",
                field="version",
            )
        existing.design, existing.digest = stored, digest
        existing.valid_from, existing.valid_to = lp.spec.valid_from, lp.spec.valid_to
        return Done(
            value=existing,
            action="program.draft.update",
            subject=("program", lp.spec.id),
            region=lp.spec.region,
            reason=reason,
            inputs={"version": lp.spec.version, "digest": digest},
        )
    version = ProgramVersion(
        program_id=lp.spec.id,
        version=lp.spec.version,
        status=status,
        design=stored,
        digest=digest,
        valid_from=lp.spec.valid_from,
        valid_to=lp.spec.valid_to,
        created_by=actor.username,
        created_at=utcnow(),
        status_changed_by=actor.username,
        status_changed_at=utcnow(),
    )
    session.add(version)
    session.flush()
    return Done(
        value=version,
        action=f"program.{status}",
        subject=("program", lp.spec.id),
        region=lp.spec.region,
        reason=reason,
        inputs={"version": lp.spec.version, "digest": digest, "status": status},
    )


def load_files(*, session: Session, paths: list[Path], actor: Actor, publish: bool = False) -> list[ProgramVersion]:
    """Validate every file first; store them only if all are valid (nothing half-loaded). Each
    version goes through the `store` use case, authorised and audited one by one."""
    designs, errors = [], []
    for path in paths:
        try:
            designs.append(load_program_file(path))
        except PolicyError as exc:
            errors.extend(exc.errors)
    if errors:
        raise PolicyError(errors)
    stored = []
    for lp in designs:
        status = "published" if publish else "draft"
        version = store(session=session, design=lp, actor=actor, reason=f"loaded from {lp.source}", status=status)
        if publish and version.status != "published":
            raise Conflict(
                code="not_published",
                ko="게시되지 않은 기존 버전이 있습니다",
                en=f"{lp.id} version {lp.spec.version} exists as {version.status}; publish it explicitly",
            )
        stored.append(version)
    return stored


def save_draft(*, session: Session, design: dict, actor: Actor, reason: str = "draft saved") -> ProgramVersion:
    """A region's draft: validated against the guardrails, numbered after the latest version, and
    stored through the `store` use case (authorised for the design's region and the programme's)."""
    lp = parse_design(design, source="draft")
    latest = session.scalar(select(func.max(ProgramVersion.version)).where(ProgramVersion.program_id == lp.spec.id))
    current = get_version(session=session, program_id=lp.spec.id, version=latest) if latest else None
    if current is not None and current.status != "draft" and lp.spec.version <= current.version:
        design = {**design, "version": current.version + 1}
        lp = parse_design(design, source="draft")
    return store(session=session, design=lp, actor=actor, reason=reason, status="draft")


def _move_action(actor: Actor, program: Program, kwargs: dict) -> str:
    """The policy action `programs.lifecycle` names for the move (400 for a move it lacks)."""
    PROGRAMME_VERSIONS.check_move(kwargs["move"])
    return PROGRAMME_VERSIONS.action(kwargs["move"])


@use_case(action=_move_action, subject=PROGRAM)
def transition(*, session: Session, program: Program, version: int, move: str, actor: Actor, reason: str) -> Done:
    """One move of a version along its edge of `programs.lifecycle` (400 unknown move, 409 not
    from this state), authorised with the edge's action for the programme's region."""
    program_id = program.id
    row = get_version(session=session, program_id=program_id, version=version)
    before = row.status
    after = PROGRAMME_VERSIONS.edge(move, before, program_id=program_id, version=version).to_state
    if PROGRAMME_VERSIONS.needs_reason(move):  # no programme move needs one today (docs/lifecycles.md)
        reason = PROGRAMME_VERSIONS.reason(move, reason)
    if move == "publish":
        loaded(row)  # a design that no longer validates (guardrails changed) is never published
    row.status = after
    row.status_changed_by = actor.username
    row.status_changed_at = utcnow()
    return Done(
        value=row,
        action=f"program.{move}",
        reason=reason,
        inputs={"version": version, "from": before, "to": after, "digest": row.digest},
    )


def get_program(*, session: Session, program_id: str) -> Program:
    program = session.get(Program, program_id)
    if program is None:
        raise NotFound(what=f"programme {program_id}")
    return program


def get_version(*, session: Session, program_id: str, version: int | None = None) -> ProgramVersion:
    query = select(ProgramVersion).where(ProgramVersion.program_id == program_id)
    query = query.where(ProgramVersion.version == version) if version else query.order_by(ProgramVersion.version.desc())
    row = session.scalars(query.limit(1)).first()
    if row is None:
        raise NotFound(what=f"programme {program_id}" + (f" version {version}" if version else ""))
    return row


def versions(*, session: Session, program_id: str) -> list[ProgramVersion]:
    return list(
        session.scalars(
            select(ProgramVersion).where(ProgramVersion.program_id == program_id).order_by(ProgramVersion.version)
        )
    )


def published_on(*, session: Session, program_id: str, on: dt.date) -> ProgramVersion:
    """The published (or since retired) version whose validity covers `on`, newest first."""
    row = session.scalars(
        select(ProgramVersion)
        .where(
            ProgramVersion.program_id == program_id,
            ProgramVersion.status.in_(("published", "retired")),
            ProgramVersion.valid_from <= on,
            ProgramVersion.valid_to >= on,
        )
        .order_by(ProgramVersion.version.desc())
        .limit(1)
    ).first()
    if row is None:
        raise NotFound(what=f"programme {program_id} in force on {on}")
    return row


def in_force(*, session: Session, on: dt.date, region: str | None = None) -> list[ProgramVersion]:
    """The latest published version of every programme valid on `on`."""
    query = (
        select(ProgramVersion)
        .join(Program)
        .where(ProgramVersion.status == "published", ProgramVersion.valid_from <= on, ProgramVersion.valid_to >= on)
    )
    if region:
        query = query.where(Program.region == region)
    latest: dict[str, ProgramVersion] = {}
    for row in session.scalars(query.order_by(ProgramVersion.program_id, ProgramVersion.version)):
        latest[row.program_id] = row
    return list(latest.values())


def list_programs(*, session: Session, region: str | None = None) -> list[tuple[Program, ProgramVersion]]:
    """Each programme with its latest version, in one query (the list is read on every dashboard)."""
    latest = (
        select(ProgramVersion.program_id, func.max(ProgramVersion.version).label("version"))
        .group_by(ProgramVersion.program_id)
        .subquery()
    )
    query = (
        select(Program, ProgramVersion)
        .join(latest, latest.c.program_id == Program.id)
        .join(
            ProgramVersion,
            (ProgramVersion.program_id == latest.c.program_id) & (ProgramVersion.version == latest.c.version),
        )
        .order_by(Program.region, Program.id)
    )
    if region:
        query = query.where(Program.region == region)
    return [(p, v) for p, v in session.execute(query)]


def diff(a: ProgramVersion, b: ProgramVersion) -> list[str]:
    """A unified diff of two versions' designs, as YAML a person can read."""

    def text(v: ProgramVersion) -> list[str]:
        return yaml.safe_dump(v.design, allow_unicode=True, sort_keys=False).splitlines()

    return list(difflib.unified_diff(text(a), text(b), f"v{a.version}", f"v{b.version}", lineterm=""))


# ============================================================================ resolving references


@dataclass
class Resolved:
    """A programme ready to evaluate: from a file, or a stored version."""

    loaded: LoadedProgram
    version: ProgramVersion | None = None

    @property
    def id(self) -> str:
        return self.loaded.spec.id

    @property
    def number(self) -> int:
        return self.loaded.spec.version

    @property
    def rules(self) -> RuleProgram:
        return self.loaded.rules

    @property
    def checked(self) -> CheckedProgram:
        return self.loaded.checked

    @property
    def region(self) -> str:
        return self.loaded.spec.region

    @property
    def label(self) -> str:
        return f"{self.id} v{self.number}"


def is_file_reference(ref: str) -> bool:
    return ref.endswith((".yaml", ".yml")) or Path(ref).is_file()


def resolve(*, session: Session | None, ref: str, on: dt.date | None = None, files: bool = True) -> Resolved:
    """`FILE` (a design file), `ID` (the version in force on `on`) or `ID@N` (that stored version).

    `files=False` (the API) never reads the server's disk, whatever the reference looks like.
    """
    if files and is_file_reference(ref):
        return Resolved(load_program_file(Path(ref)))
    if session is None:
        raise NotFound(what=f"programme file {ref}")
    program_id, _, number = ref.partition("@")
    if number:
        if not number.isdigit():
            raise Invalid(
                code="invalid_reference", ko="프로그램 지정이 잘못되었습니다", en=f"{ref!r}: expected ID or ID@VERSION"
            )
        row = get_version(session=session, program_id=program_id, version=int(number))
    elif on is not None:
        row = published_on(session=session, program_id=program_id, on=on)
    else:
        row = get_version(session=session, program_id=program_id)
    return Resolved(loaded(row), row)
