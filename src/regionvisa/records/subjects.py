"""The records' one region rule for reads: a person's records belong to the region the person
lives in; a query for `records.read` is filtered by the region the reader may see."""

from __future__ import annotations

from regionvisa.accounts.policy import scope_region
from regionvisa.core.actor import Actor

READ = "records.read"


def read_region(actor: Actor, requested: str | None) -> str | None:
    """The region a records query must be filtered by (None: every region); a regional official
    gets their own region, and 403 for another one."""
    return scope_region(actor, requested, action=READ)
