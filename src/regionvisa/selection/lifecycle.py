"""The selection round life cycle as one table, over the round's phase (its status and the clock).

`selection.service` looks each move's edge up here with the phase of the round at the moment of
the move: `before` and `submission` (the window has not closed), `scoring` (closed window, scoring
open), `scoring_closed` and `decided`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from regionvisa.core.errors import Conflict, DomainError
from regionvisa.core.lifecycle import Edge, Lifecycle

MANAGE = "selection.manage"
SCORE = "committee.score"
PHASES = ("before", "submission", "scoring", "scoring_closed", "decided")


def _refuse(move: str, state: str, allowed: tuple[str, ...], context: Mapping[str, Any]) -> Conflict:
    if move == "close_window":
        return Conflict(
            code="window_closed", ko="제출 기간이 이미 끝났습니다", en="the submission window has already closed"
        )
    if move == "close_scoring":
        return Conflict(
            code="not_scoring",
            ko="채점 단계가 아닙니다 (제출 기간 종료 후, 결정 전에만 채점을 마감할 수 있습니다)",
            en="scoring can be closed only after the submission window and before the decision",
        )
    if move == "reopen_scoring":
        return Conflict(
            code="not_closed",
            ko="채점이 마감된 회차만 다시 열 수 있습니다",
            en="only a round whose scoring is closed can reopen",
        )
    return Conflict(
        code="already_decided" if state == "decided" else "not_ready",
        ko="채점 마감 후 한 번만 결정할 수 있습니다",
        en="decisions are taken once, after scoring is closed",
    )


def _missing_reason(move: str, context: Mapping[str, Any]) -> DomainError:
    return DomainError(
        status=422, code="reason_required", ko="사유가 필요합니다", en="a reason is required", field="reason"
    )


SELECTION_ROUNDS = Lifecycle(
    name="selection_rounds",
    title="Selection rounds",
    states=PHASES,
    refuse=_refuse,
    missing_reason=_missing_reason,
    notes=(
        "A round is opened (`selection.manage`) with its submission window; its phase then follows from its "
        "status (`open`, `scoring_closed`, `decided`) and the clock: `before` and `submission` until the window "
        "closes, `scoring` after. Regions submit proposals in `submission` (`proposals.submit`), members score "
        "in `scoring` (`committee.score`, after declaring their conflicts), and scores become visible to the "
        "committee once scoring is closed."
    ),
    edges=(
        Edge(
            "close_window",
            ("before", "submission"),
            "scoring",
            MANAGE,
            needs_reason=True,
            note="ends the submission window now instead of at its set time",
        ),
        Edge("close_scoring", ("scoring",), "scoring_closed", MANAGE, note="scores become visible to the committee"),
        Edge(
            "reopen_scoring",
            ("scoring_closed",),
            "scoring",
            MANAGE,
            needs_reason=True,
            note="for instance after a decision refused below quorum",
        ),
        Edge(
            "decide",
            ("scoring_closed",),
            "decided",
            SCORE,
            effects={"programmes": "approve", "quota": "open"},
            note="the chair only; refused below quorum; quota changes need reasons; results are published",
        ),
    ),
)
