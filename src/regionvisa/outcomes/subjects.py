"""The pilot outcome report is read under `outcomes.read`: the ministry, the committee and the
auditors read every region's rows, a regional official the rows of their own region."""

from __future__ import annotations

from regionvisa.accounts.policy import scope_region
from regionvisa.core.actor import Actor

READ = "outcomes.read"


def read_region(actor: Actor, requested: str | None) -> str | None:
    """The region the rows must be filtered by (None: every region); 403 for another region."""
    return scope_region(actor, requested, action=READ)
