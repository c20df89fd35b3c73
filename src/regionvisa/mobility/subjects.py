"""Movement and retention are aggregate counts, read under `stats.read` like the other resident
statistics: a regional official sees their own region's rows, national roles any region."""

from __future__ import annotations

from regionvisa.accounts.policy import scope_region
from regionvisa.core.actor import Actor

READ = "stats.read"


def read_region(actor: Actor, requested: str | None) -> str | None:
    """The region the rows must be filtered by (None: every region); 403 for another region."""
    return scope_region(actor, requested, action=READ)
