"""What a committee decision sets off in other domains, declared in one place.

confirm the decisions of a round (`selection.service.confirm_decisions`, the `decide` edge of
`selection.lifecycle`, effects `programmes: approve` and `quota: open`), for each selected
region, after its decision is stored and audited (`selection.decide`), design by design in the
proposal's order (`region_selected`):
  1. programmes: the design, with its confirmed quota, is stored as an approved programme
     version; a design already stored with different content becomes the next version, and a
     draft or submitted version is moved on to approved (`approve_design`, through
     `programs.service.store` and `transition`, each audited there);
  2. quotas: a confirmed quota above 0 opens the programme's ledger for the round's period
     (`open_ledger`, through `quotas.service.open_ledger`, audited there); a ledger already open
     for that programme and period is kept as it is and only noted.
The quota rows of the decision record which programme version and which ledger each design got.
A region not selected sets nothing off.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from regionvisa.programs import service as programs
from regionvisa.programs.files import parse_design
from regionvisa.programs.models import ProgramVersion
from regionvisa.quotas import service as quotas
from regionvisa.quotas.models import QuotaLedger
from regionvisa.selection.models import Proposal, SelectionRound
from regionvisa.selection.proposals import current_version

EFFECTS = {"programmes": "approve", "quota": "open"}  # the `decide` edge's effects, carried out here


def region_selected(
    *, session: Session, rnd: SelectionRound, proposal_id: int, region: str, quota_rows: list[dict], actor: Any
) -> None:
    """Approve each of the selected proposal's designs and open its ledger; notes both in `quota_rows`."""
    version = current_version(session=session, proposal=session.get(Proposal, proposal_id))
    for stored, q in zip(version.designs, quota_rows, strict=True):
        design = {**stored["design"], "quota": q["confirmed"]}
        q["program_version"] = approve_design(session=session, design=design, actor=actor, round_id=rnd.id)
        if q["confirmed"] <= 0:
            continue
        q.update(
            open_ledger(
                session=session,
                rnd=rnd,
                program_id=q["program_id"],
                region=region,
                allocated=q["confirmed"],
                actor=actor,
            )
        )


def approve_design(*, session: Session, design: dict, actor: Any, round_id: int) -> int:
    """Store the selected design as an approved programme version; returns the version number."""
    reason = f"selected by the selection committee, round {round_id}"
    loaded = parse_design(design, source=f"selection:{round_id}")
    existing = session.scalar(
        select(ProgramVersion).where(
            ProgramVersion.program_id == loaded.spec.id, ProgramVersion.version == loaded.spec.version
        )
    )
    if (
        existing is not None
        and existing.digest != programs.design_digest(loaded.as_dict())
        and existing.status != "draft"
    ):
        latest = max(v.version for v in programs.versions(session=session, program_id=loaded.spec.id))
        loaded = parse_design({**design, "version": latest + 1}, source=f"selection:{round_id}")
    # effects of the decision, which authorised the chair: stored and moved as the chair, audited there
    stored = programs.store.effect(session=session, design=loaded, actor=actor, reason=reason, status="approved")
    if stored.status == "draft":
        programs.transition.effect(
            session=session,
            program=stored.program_id,
            version=stored.version,
            move="submit",
            actor=actor,
            reason=reason,
        )
    if stored.status == "submitted":
        programs.transition.effect(
            session=session,
            program=stored.program_id,
            version=stored.version,
            move="approve",
            actor=actor,
            reason=reason,
        )
    return stored.version


def open_ledger(
    *, session: Session, rnd: SelectionRound, program_id: str, region: str, allocated: int, actor: Any
) -> dict:
    """Open the programme's ledger for the round's period with the confirmed quota, unless one is open.

    The ledger's movement and audit entry name the chair who confirmed it (the actor itself is
    passed on: the audit log takes no plain name)."""
    existing = session.scalar(
        select(QuotaLedger).where(QuotaLedger.program_id == program_id, QuotaLedger.period == rnd.period)
    )
    if existing is not None:
        return {"ledger_id": existing.id, "ledger_existing": True}
    ledger = quotas.open_ledger.effect(  # an effect of the decision, audited in quotas
        session=session,
        program_id=program_id,
        region=region,
        period=rnd.period,
        start=rnd.period_start,
        end=rnd.period_end,
        allocated=allocated,
        actor=actor,
        reason=f"initial quota confirmed by the selection committee, round {rnd.id}",
    )
    return {"ledger_id": ledger.id}
