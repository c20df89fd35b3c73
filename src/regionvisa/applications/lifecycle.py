"""The application life cycle as one table: every move, who may make it, and what it does to the quota.

`applications.moves` looks each move's edge up here and carries out its effects through
`applications.flows` (`apply_quota`, `apply_records`), so "what happens to the quota when X" is
answered by this table alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from regionvisa.applications.models import STATUSES
from regionvisa.core.errors import Conflict, DomainError
from regionvisa.core.lifecycle import Edge, Lifecycle
from regionvisa.core.text import NP_
from regionvisa.web import i18n

DECIDE = "applications.decide"
RECOMMEND = "applications.recommend"

STATUS_CONTEXT = "application status"
MOVE_CONTEXT = "application move"
# The names of the states and moves, as message ids translated through the catalogue (pages show
# them; the refusals below name them in Korean and English).
STATUS_LABELS = {
    "submitted": NP_("application status", "submitted"),
    "screened": NP_("application status", "screened"),
    "recommended": NP_("application status", "recommended"),
    "returned": NP_("application status", "returned"),
    "approved": NP_("application status", "approved"),
    "rejected": NP_("application status", "rejected"),
    "issued": NP_("application status", "issued"),
    "withdrawn": NP_("application status", "withdrawn"),
    "cancelled": NP_("application status", "cancelled"),
}
MOVE_NAMES = {
    "screen": NP_("application move", "screen"),
    "rescreen": NP_("application move", "rescreen"),
    "recommend": NP_("application move", "recommend"),
    "return": NP_("application move", "return"),
    "approve": NP_("application move", "approve"),
    "reject": NP_("application move", "reject"),
    "issue": NP_("application move", "issue"),
    "withdraw": NP_("application move", "withdraw"),
    "cancel": NP_("application move", "cancel"),
}


def status_name(state: str, lang: str) -> str:
    return i18n.translate(lang, STATUS_LABELS[state], context=STATUS_CONTEXT)


def move_name(move: str, lang: str) -> str:
    return i18n.translate(lang, MOVE_NAMES[move], context=MOVE_CONTEXT)


def _refuse(move: str, state: str, allowed: tuple[str, ...], context: Mapping[str, Any]) -> Conflict:
    app_id = context.get("application")
    allowed_text = ", ".join(allowed) or "none"
    allowed_ko = ", ".join(move_name(m, "ko") for m in allowed) or "없음"
    return Conflict(
        code="invalid_transition",
        ko=f"신청 {app_id}은(는) {status_name(state, 'ko')} 상태이므로 {move_name(move, 'ko')}할 수 없습니다 "
        f"(가능한 처리: {allowed_ko})",
        en=f"cannot {move} application {app_id}: it is {state} (moves allowed now: {allowed_text})",
    )


def _missing_reason(move: str, context: Mapping[str, Any]) -> DomainError:
    return DomainError(
        status=422,
        code="reason_required",
        ko=f"{move_name(move, 'ko')}에는 사유가 필요합니다",
        en=f"{move} needs a reason",
        field="reason",
    )


APPLICATIONS = Lifecycle(
    name="applications",
    title="Applications",
    states=STATUSES,
    refuse=_refuse,
    missing_reason=_missing_reason,
    notes=(
        "Intake creates an application `submitted` (one at a time or from a file) and screens it at once. "
        "Every move locks the application's row first and checks its state under the lock; the quota effect "
        "is applied after the status change and before the audit entry (the lock order of `regionvisa.locking`: "
        "application, person and status grant, ledger, audit head). A place is held from `recommend` until "
        "the application leaves `recommended`/`approved`; an issued visa holds a used place until it is cancelled."
    ),
    edges=(
        Edge("screen", ("submitted",), "screened", DECIDE, note="automatic on submission"),
        Edge(
            "rescreen",
            ("screened", "returned"),
            "screened",
            DECIDE,
            needs_reason=True,
            note="a new screening against the version in force on the given day; earlier screenings are kept",
        ),
        Edge(
            "recommend",
            ("screened",),
            "recommended",
            RECOMMEND,
            effects={"quota": "reserve"},
            note="eligible applications only; the nationality cap is checked with the ledger locked; under the "
            "simplified procedure `approve` follows at once (actor `system:simplified-procedure`) when the "
            "shorter checklist is complete",
        ),
        Edge("return", ("screened",), "returned", RECOMMEND, needs_reason=True),
        Edge(
            "approve",
            ("recommended",),
            "approved",
            DECIDE,
            note="the place stays reserved; refused while required documents are missing, unless the officer "
            "records an override reason (audited `applications.override_documents`)",
        ),
        Edge("reject", ("recommended",), "rejected", DECIDE, needs_reason=True, effects={"quota": "release"}),
        Edge(
            "issue",
            ("approved",),
            "issued",
            DECIDE,
            effects={"quota": "use", "records": "grant"},
            note="needs the date of birth; a linked person must match the applicant; refused while required "
            "documents are missing, unless the officer records an override reason",
        ),
        Edge(
            "withdraw",
            ("submitted", "screened", "returned"),
            "withdrawn",
            RECOMMEND,
            needs_reason=True,
            note="no place was held",
        ),
        Edge(
            "withdraw",
            ("recommended", "approved"),
            "withdrawn",
            RECOMMEND,
            needs_reason=True,
            effects={"quota": "release"},
        ),
        Edge("cancel", ("approved",), "cancelled", DECIDE, needs_reason=True, effects={"quota": "release"}),
        Edge(
            "cancel",
            ("issued",),
            "cancelled",
            DECIDE,
            needs_reason=True,
            effects={"quota": "unuse", "records": "end_grant"},
        ),
    ),
)
