"""Who acts: one type for people (signed in through a session or an API token) and for the system
(the command line, the demo build, scheduled work).

A plain string never acts. Services take an `Actor`; `accounts.policy.authorize` and
`audit.service.record` refuse anything else, so no code path can skip the permission table by
passing a name. A system actor is made only by `accounts.policy.system_actor(name)`, which knows
the grants each declared system actor holds: an undeclared name cannot be made at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from regionvisa.core.errors import Forbidden
from regionvisa.core.text import N_

SYSTEM_PREFIX = "system:"


class Role(StrEnum):
    MINISTRY_ADMIN = "ministry_admin"
    MINISTRY_OFFICER = "ministry_officer"
    REGIONAL_OFFICIAL = "regional_official"
    COMMITTEE_MEMBER = "committee_member"
    AUDITOR = "auditor"


ROLES: tuple[str, ...] = tuple(r.value for r in Role)
ROLE_LABELS: dict[str, str] = {
    Role.MINISTRY_ADMIN: N_("Ministry administrator"),
    Role.MINISTRY_OFFICER: N_("Ministry officer"),
    Role.REGIONAL_OFFICIAL: N_("Regional official"),
    Role.COMMITTEE_MEMBER: N_("Committee member"),
    Role.AUDITOR: N_("Auditor"),
}


@dataclass(frozen=True)
class Actor:
    """A person (`role` set; `region` for region-bound roles) or a declared system actor
    (`role` None, `via="system"`, `username` "system:<name>[:<detail>]")."""

    id: int | None
    username: str
    display_name: str
    role: str | None
    region: str | None = None
    via: str = "session"  # session | token | cli (a person acting through the command line) | system
    token_id: int | None = None

    @property
    def is_system(self) -> bool:
        return self.role is None and self.via == "system"

    @property
    def system_name(self) -> str | None:
        """'cli' for 'system:cli:root'; None for a person."""
        if not self.is_system:
            return None
        return self.username.removeprefix(SYSTEM_PREFIX).split(":", 1)[0]

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role or "", N_("System"))

    def __str__(self) -> str:  # the audit log's actor column
        return self.username


def unknown_actor(actor: Any) -> Forbidden:
    kind = "a plain string" if isinstance(actor, str) else type(actor).__name__
    return Forbidden(
        en=f"only a signed-in user or a declared system actor may act (got {kind})",
        ko="로그인한 사용자나 등록된 시스템 행위자만 작업할 수 있습니다",
    )


def ensure_actor(actor: Any) -> Actor:
    """`actor` itself when it is an Actor; a 403 otherwise (a name, None, anything else)."""
    if not isinstance(actor, Actor):
        raise unknown_actor(actor)
    return actor
