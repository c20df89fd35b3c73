"""The enforcement case life cycle as one table: open → under review → resolved → closed, and notes.

`compliance.cases.act` looks each move's edge up here; a recorded run opens cases and notes
vanished findings itself (as `system:compliance`), never closing a case on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from regionvisa.compliance.models import CASE_STATUSES
from regionvisa.core.errors import Conflict, DomainError
from regionvisa.core.lifecycle import Edge, Lifecycle

ACT = "cases.act"


def _refuse(move: str, state: str, allowed: tuple[str, ...], context: Mapping[str, Any]) -> Conflict:
    return Conflict(
        code="bad_transition",
        ko=f"'{state}' 상태의 사건에는 '{move}' 조치를 할 수 없습니다",
        en=f"a case that is {state} cannot be {move}ed" if move != "note" else "cannot add a note",
        field="action",
    )


def _unknown(move: str, context: Mapping[str, Any]) -> DomainError:
    return DomainError(
        status=400,
        code="unknown_action",
        ko=f"알 수 없는 조치입니다: {move}",
        en=f"unknown case action {move!r}",
        field="action",
    )


def _missing_reason(move: str, context: Mapping[str, Any]) -> DomainError:
    return DomainError(
        status=400, code="reason_required", ko="사유를 입력하십시오", en="give a reason for this action", field="reason"
    )


COMPLIANCE_CASES = Lifecycle(
    name="compliance_cases",
    title="Compliance cases",
    states=CASE_STATUSES,
    refuse=_refuse,
    unknown=_unknown,
    missing_reason=_missing_reason,
    notes=(
        "A recorded compliance run opens a case `open` for each finding on a programme holder that has none, "
        "updates the active case of a finding found again, and notes an active case whose finding is gone "
        "(actor `system:compliance`). Only people close cases; a finding whose case was resolved or closed "
        "opens no new one."
    ),
    edges=(
        Edge("review", ("open",), "under_review", ACT, needs_reason=True, note="the actor becomes the assignee"),
        Edge(
            "resolve",
            ("open", "under_review"),
            "resolved",
            ACT,
            needs_reason=True,
            note="with an outcome: `justified`, `warning` or `status_cancelled`",
        ),
        Edge("close", ("open", "under_review", "resolved"), "closed", ACT, needs_reason=True),
        Edge("note", CASE_STATUSES, None, ACT, needs_reason=True, note="a note in the case's history"),
    ),
)
