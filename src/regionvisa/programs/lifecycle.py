"""The programme version life cycle as one table: draft → submitted → approved → published → retired.

`programs.service.transition` looks each move's edge up here; the API, the pages and the command
line take the move names and their actions from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from regionvisa.core.errors import Conflict, DomainError
from regionvisa.core.lifecycle import Edge, Lifecycle
from regionvisa.programs.models import PROGRAM_STATUSES

EDIT = "programs.edit_draft"
APPROVE = "programs.approve"


def _refuse(move: str, state: str, allowed: tuple[str, ...], context: Mapping[str, Any]) -> Conflict:
    froms = " or ".join(PROGRAMME_VERSIONS.from_states(move))
    return Conflict(
        code="invalid_transition",
        ko=f"{state} 상태에서는 {move}할 수 없습니다",
        en=f"cannot {move} {context.get('program_id')} v{context.get('version')}: it is {state}, not {froms}",
    )


def _unknown(move: str, context: Mapping[str, Any]) -> DomainError:
    return DomainError(
        status=400, code="unknown_transition", ko="알 수 없는 상태 변경입니다", en=f"unknown transition {move!r}"
    )


def _missing_reason(move: str, context: Mapping[str, Any]) -> DomainError:
    return DomainError(
        status=422, code="reason_required", ko="사유가 필요합니다", en="a reason is required", field="reason"
    )


PROGRAMME_VERSIONS = Lifecycle(
    name="programme_versions",
    title="Programme versions",
    states=PROGRAM_STATUSES,
    refuse=_refuse,
    unknown=_unknown,
    missing_reason=_missing_reason,
    notes=(
        "A version is stored `draft` (by a region's editor or a file load; `programs load --publish` stores it "
        "`published` directly) or `approved` by a selection decision. A version that has left `draft` never "
        "changes: a new design gets a new version number. The API and the command line ask for a reason, "
        "the pages default it to the move's name. Screening uses the `published` (or since `retired`) version "
        "whose validity covers the reference date."
    ),
    edges=(
        Edge("submit", ("draft",), "submitted", EDIT, note="the region sends its draft for approval"),
        Edge("approve", ("submitted",), "approved", APPROVE),
        Edge(
            "publish",
            ("approved",),
            "published",
            APPROVE,
            note="the design is validated again against the guardrails in force; in force from `valid_from`",
        ),
        Edge("retire", ("published",), "retired", APPROVE, note="no longer offered; past screenings keep it"),
        Edge("reopen", ("submitted",), "draft", APPROVE, note="back to the region for changes"),
    ),
)
