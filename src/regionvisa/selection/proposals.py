"""Selection proposals: a region submits (and revises) its designs, narrative and attachments.

Every design is checked against the national guardrails before anything is stored; each
submission adds a version. Who may open a proposal: its region, the ministry, and the members
not recused from the region (`selection.subjects`: the read scope and the committee's view).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from regionvisa.accounts.policy import Actor
from regionvisa.core.errors import Conflict, Forbidden, Invalid, NotFound
from regionvisa.core.usecase import Done, use_case
from regionvisa.db import utcnow
from regionvisa.policyfiles import PolicyError
from regionvisa.programs.files import LoadedProgram, parse_design
from regionvisa.programs.models import Program, ProgramVersion
from regionvisa.programs.problems import localised
from regionvisa.rules.text import format_value, render
from regionvisa.selection.committee import maybe_member, member_of, recused_regions
from regionvisa.selection.models import Attachment, Proposal, ProposalVersion, SelectionRound
from regionvisa.selection.rounds import as_utc, get_round, local_time, phase
from regionvisa.selection.schemas import ProposalIn
from regionvisa.selection.subjects import PROPOSAL, SUBMIT, read_scope, sees_as_member

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


class InvalidProposal(Invalid):
    """A proposal that cannot be submitted; `details` lists every problem (`design[i]:key.path: message`)."""

    def __init__(self, *, details: list[str], details_ko: list[str] | None = None):
        super().__init__(
            code="invalid_proposal",
            ko="제안서를 제출할 수 없습니다: 아래 오류를 고치십시오 (" + str(len(details)) + "건)",
            en=f"the proposal cannot be submitted: fix the {len(details)} problem(s) listed",
            field="designs",
        )
        self.details = details
        self.details_ko = details_ko if details_ko and len(details_ko) == len(details) else details

    def lines(self, lang: str) -> list[str]:
        """The problem lines in `lang` (the API body keeps the English `details`)."""
        return self.details_ko if lang == "ko" else self.details

    def body(self) -> dict:
        body = super().body()
        body["error"]["details"] = self.details
        return body


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def _parse_design_input(raw: Any, source: str) -> tuple[LoadedProgram | None, list[str], list[str]]:
    """The design, or its problem lines in English and in Korean (one each, in the same order)."""
    if isinstance(raw, str):
        try:
            raw = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{source}:{mark.line + 1}" if mark else source
            problem = getattr(exc, "problem", exc)
            return None, [f"{where}: not valid YAML ({problem})"], [f"{where}: YAML로 읽을 수 없습니다 ({problem})"]
    try:
        return parse_design(raw, source), [], []
    except PolicyError as exc:
        return None, list(exc.errors), localised(list(exc.errors), getattr(exc, "problems", None), "ko")


def _attachment_rows(
    session, proposal: Proposal, files: list[tuple[str, str, bytes]], *, actor: Any
) -> tuple[list[int], list[str]]:
    ids, errors = [], []
    for i, (name, ctype, content) in enumerate(files):
        name = (name or "").replace("\\", "/").split("/")[-1].strip()[:200]
        if not name:
            errors.append(f"attachments[{i}]: a file name is required")
            continue
        if len(content) > MAX_ATTACHMENT_BYTES:
            errors.append(f"attachments[{i}] {name}: {len(content):,} bytes is more than the 10 MB limit")
            continue
        row = Attachment(
            proposal_id=proposal.id,
            filename=name,
            content_type=(ctype or "application/octet-stream")[:100],
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            content=content,
            uploaded_by=actor.username,
            uploaded_at=utcnow(),
        )
        session.add(row)
        session.flush()
        ids.append(row.id)
    return ids, errors


def decode_attachments(data: ProposalIn) -> list[tuple[str, str, bytes]]:
    files = []
    for i, att in enumerate(data.attachments):
        try:
            files.append((att.filename, att.content_type, base64.b64decode(att.content_base64, validate=True)))
        except (binascii.Error, ValueError) as exc:
            raise Invalid(
                code="invalid_attachment",
                ko="첨부파일이 base64 형식이 아닙니다",
                en=f"attachments[{i}].content_base64: not valid base64",
                field=f"attachments[{i}]",
            ) from exc
    return files


def _checked_designs(*, session: Session, data: ProposalIn, region: str) -> tuple[list[dict], list[str], list[str]]:
    """The proposal's designs as stored, and every problem of the proposal in English and Korean."""
    errors: list[str] = []
    errors_ko: list[str] = []

    def problem(en: str, ko: str) -> None:
        errors.append(en)
        errors_ko.append(ko)

    designs: list[dict] = []
    seen: set[str] = set()
    for i, item in enumerate(data.designs):
        source = f"design[{i + 1}]"
        lp, errs, errs_ko = _parse_design_input(item.design, source)
        errors.extend(errs)
        errors_ko.extend(errs_ko)
        if lp is None:
            continue
        if lp.spec.region != region:
            problem(
                f"{source}:region: the design is for region {lp.spec.region}, the proposal for {region}",
                f"{source}:region: 설계는 지역 {lp.spec.region}의 것이고 제안서는 지역 {region}의 것입니다",
            )
        if lp.spec.id in seen:
            problem(
                f"{source}:id: programme {lp.spec.id!r} appears twice in the proposal",
                f"{source}:id: 프로그램 {lp.spec.id!r}이(가) 제안서에 두 번 있습니다",
            )
        owner = session.get(Program, lp.spec.id)
        if owner is not None and (owner.region, owner.base_visa) != (lp.spec.region, lp.spec.base_visa):
            problem(
                f"{source}:id: programme id {lp.spec.id!r} is taken by region {owner.region} ({owner.base_visa}); "
                "choose another id",
                f"{source}:id: 프로그램 식별자 {lp.spec.id!r}은(는) 지역 {owner.region}({owner.base_visa})이(가) "
                "쓰고 있습니다. 다른 식별자를 고르십시오",
            )
        seen.add(lp.spec.id)
        requested = lp.spec.quota if item.requested_quota is None else item.requested_quota
        design = lp.as_dict()
        designs.append({"design": design, "requested_quota": requested, "digest": _digest(design)})
    if not data.narrative.strip():
        problem("narrative: the plan narrative is required", "narrative: 계획 설명을 입력해 주십시오")
    return designs, errors, errors_ko


@use_case(action=SUBMIT)
def submit_proposal(
    *,
    session: Session,
    round_id: int,
    region: str,
    data: ProposalIn,
    actor: Actor,
    files: list[tuple[str, str, bytes]] | None = None,
    now: dt.datetime | None = None,
) -> Done:
    """Submit (or revise) the region's proposal. Every design is checked against the national
    guardrails first; one invalid design and nothing is stored. Each call adds a version.

    Authorised for `region`, the proposal's region (`selection.subjects`). Without `files`, the
    attachments are those `data` carries in base64 (the API's form)."""
    files = decode_attachments(data) if files is None else files
    now = now or utcnow()
    rnd = get_round(session=session, round_id=round_id)
    if phase(rnd, now) != "submission":
        raise Conflict(
            code="window_closed",
            ko="제출 기간이 아닙니다 (제출 기간: "
            f"{local_time(rnd.window_opens_at)} ~ {local_time(rnd.window_closes_at)} KST)",
            en=f"proposals are taken only within the submission window "
            f"({local_time(rnd.window_opens_at)} to {local_time(rnd.window_closes_at)} KST)",
        )
    designs, errors, errors_ko = _checked_designs(session=session, data=data, region=region)
    if errors:
        raise InvalidProposal(details=errors, details_ko=errors_ko)

    proposal = session.scalar(select(Proposal).where(Proposal.round_id == round_id, Proposal.region == region))
    if proposal is None:
        proposal = Proposal(round_id=round_id, region=region, current_version=0, submitted_at=now, updated_at=now)
        session.add(proposal)
        session.flush()
        kept: list[int] = []
    else:
        kept = list(current_version(session=session, proposal=proposal).attachments) if data.keep_attachments else []
    new_ids, att_errors = _attachment_rows(session, proposal, files, actor=actor)
    if att_errors:
        raise InvalidProposal(details=att_errors)
    version = ProposalVersion(
        proposal_id=proposal.id,
        version=proposal.current_version + 1,
        designs=designs,
        narrative=data.narrative.strip(),
        attachments=kept + new_ids,
        digest=_digest({"designs": designs, "narrative": data.narrative.strip(), "attachments": kept + new_ids}),
        submitted_by=actor.username,
        submitted_at=now,
    )
    session.add(version)
    proposal.current_version = version.version
    proposal.updated_at = now
    session.flush()
    return Done(
        value=version,
        action="selection.proposal.submit" if version.version == 1 else "selection.proposal.revise",
        subject=(PROPOSAL.kind, proposal.id),
        region=PROPOSAL.region(proposal),
        reason=f"proposal for round {round_id}, version {version.version}",
        inputs={
            "round_id": round_id,
            "version": version.version,
            "designs": [{"id": d["design"]["id"], "requested_quota": d["requested_quota"]} for d in designs],
            "digest": version.digest,
            "attachments": kept + new_ids,
        },
    )


def get_proposal(*, session: Session, round_id: int, region: str) -> Proposal:
    proposal = session.scalar(select(Proposal).where(Proposal.round_id == round_id, Proposal.region == region))
    if proposal is None:
        raise NotFound(what=f"proposal of region {region} in round {round_id}")
    return proposal


def current_version(*, session: Session, proposal: Proposal) -> ProposalVersion:
    return session.scalar(
        select(ProposalVersion).where(
            ProposalVersion.proposal_id == proposal.id, ProposalVersion.version == proposal.current_version
        )
    )


def versions(*, session: Session, proposal: Proposal) -> list[ProposalVersion]:
    return list(
        session.scalars(
            select(ProposalVersion).where(ProposalVersion.proposal_id == proposal.id).order_by(ProposalVersion.version)
        )
    )


def list_proposals(*, session: Session, round_id: int) -> list[Proposal]:
    return list(session.scalars(select(Proposal).where(Proposal.round_id == round_id).order_by(Proposal.region)))


def attachments(*, session: Session, ids: list[int]) -> list[Attachment]:
    if not ids:
        return []
    rows = {a.id: a for a in session.scalars(select(Attachment).where(Attachment.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]


def get_attachment(*, session: Session, round_id: int, attachment_id: int, actor: Actor) -> Attachment:
    att = session.get(Attachment, attachment_id)
    proposal = session.get(Proposal, att.proposal_id) if att else None
    if att is None or proposal is None or proposal.round_id != round_id:
        raise NotFound(what="attachment")
    check_can_view_proposal(
        session=session,
        rnd=get_round(session=session, round_id=round_id),
        region=PROPOSAL.region(proposal),
        actor=actor,
    )
    return att


def viewable_round(*, session: Session, round_id: int, region: str, actor: Actor) -> SelectionRound:
    """The round, when `actor` may open its proposal of `region`: 403 for a region outside their
    scope (before the round is even looked up), 404 for no such round, 403 when recused."""
    read_scope(actor, region)
    rnd = get_round(session=session, round_id=round_id)
    check_can_view_proposal(session=session, rnd=rnd, region=region, actor=actor)
    return rnd


def check_can_view_proposal(*, session: Session, rnd: SelectionRound, region: str, actor: Actor) -> None:
    """Regions see their own; a member recused from the region does not see it; ministry sees all."""
    read_scope(actor, region)
    if sees_as_member(actor):
        member = member_of(session=session, rnd=rnd, actor=actor)
        if region in recused_regions(session=session, member=member):
            raise Forbidden(
                en=f"you are recused from region {region} (conflict of interest)",
                ko=f"이해충돌로 {region} 지역 심사에서 제척되었습니다",
            )


def visible_regions(*, session: Session, rnd: SelectionRound, actor: Actor) -> list[str]:
    """The regions whose proposals `actor` may open in this round."""
    regions = [p.region for p in list_proposals(session=session, round_id=rnd.id)]
    scope = read_scope(actor)
    if scope is not None:
        return [r for r in regions if r == scope]
    if sees_as_member(actor):
        member = maybe_member(session=session, rnd=rnd, actor=actor)
        if member is None:
            return []
        recused = recused_regions(session=session, member=member)
        return [r for r in regions if r not in recused]
    return regions


def version_dict(*, session: Session, version: ProposalVersion) -> dict:
    return {
        "version": version.version,
        "designs": version.designs,
        "narrative": version.narrative,
        "attachments": [
            {"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size, "sha256": a.sha256}
            for a in attachments(session=session, ids=version.attachments)
        ],
        "digest": version.digest,
        "submitted_by": version.submitted_by,
        "submitted_at": as_utc(version.submitted_at),
    }


def plain_design(design: dict, lang: str) -> dict:
    """A design in plain language: title, quota, area, obligations, parameters and each criterion."""

    lp = parse_design(design, source="design")
    checked = lp.checked
    fixed = set(lp.fixed_ids)
    criteria = [
        {
            "id": c.criterion.id,
            "label": c.criterion.label_for(lang),
            "rule": render(c.node, lang),
            "national": c.criterion.id in fixed,
        }
        for c in checked.criteria
    ]
    params = []
    for name, values in sorted(lp.rules.parameters.items()):
        if name in lp.defaults_taken:
            continue
        for start, value in sorted(values.items()):
            params.append({"name": name, "from": start.isoformat(), "value": format_value(value, lang)})
    spec = lp.spec
    return {
        "id": spec.id,
        "version": spec.version,
        "base_visa": spec.base_visa,
        "title": spec.title.ko if lang == "ko" else spec.title.en,
        "valid_from": spec.valid_from.isoformat(),
        "valid_to": spec.valid_to.isoformat(),
        "quota": spec.quota,
        "residence_area": ", ".join(spec.residence_area),
        "obligation_months": spec.obligation_months,
        "kiip_deadline_months": spec.kiip_deadline_months,
        "parameters": params,
        "defaults_taken": lp.defaults_taken,
        "criteria": criteria,
        "points": [{"id": p.id, "points": p.points} for p in lp.rules.points],
    }


# ------------------------------------------------------------------ designs the region already has


def saved_designs(*, session: Session, region: str) -> list[dict]:
    """The region's programme designs a proposal can take without YAML: every version of every
    programme of the region, newest first (drafts from the design form among them)."""
    rows = session.execute(
        select(ProgramVersion, Program)
        .join(Program, Program.id == ProgramVersion.program_id)
        .where(Program.region == region)
        .order_by(ProgramVersion.program_id, ProgramVersion.version.desc())
    )
    return [
        {
            "value": f"{version.program_id}@{version.version}",
            "program_id": version.program_id,
            "version": version.version,
            "status": version.status,
            "title": {"ko": program.title_ko, "en": program.title_en},
        }
        for version, program in rows
    ]


def saved_design(*, session: Session, region: str, choice: str, field: str) -> dict:
    """The design of one of the region's programme versions, chosen as `<programme id>@<version>`."""
    program_id, _at, number = choice.rpartition("@")
    version = None
    if program_id and number.isdigit():
        version = session.scalars(
            select(ProgramVersion)
            .join(Program, Program.id == ProgramVersion.program_id)
            .where(Program.region == region, Program.id == program_id, ProgramVersion.version == int(number))
        ).first()
    if version is None:
        raise Invalid(
            code="unknown_design",
            ko=f"이 지역의 프로그램 설계 목록에 없는 선택입니다: {choice}",
            en=f"not one of this region's programme designs: {choice}",
            field=field,
        )
    return dict(version.design)
