"""What the quotas domain's use cases act on, and the one region rule of each kind.

- A quota ledger belongs to the region of its programme (`QuotaLedger.region`, copied from the
  programme when the ledger is opened): an adjustment is authorised for that region. Opening a
  ledger names the region itself (the use case's `region` argument).
- A quota plan (next year's apportionment over every region) is national: its use cases
  (`planning.propose_quotas`, `confirm_quotas`) name no region.

Read paths scope their queries with `read_region` (the region a list must be filtered by) and
`readable` (one ledger, 403 outside the reader's scope), so reads and changes answer "which
region?" the same way.
"""

from __future__ import annotations

from regionvisa.accounts.policy import authorize, scope_region
from regionvisa.core.actor import Actor
from regionvisa.core.usecase import Subject
from regionvisa.quotas.models import QuotaLedger

READ = "quotas.read"

LEDGER = Subject(kind="quota_ledger", model=QuotaLedger, region=lambda ledger: ledger.region, label="quota ledger")


def read_region(actor: Actor, requested: str | None = None, *, action: str = READ) -> str | None:
    """The region a query of ledgers must be filtered by (None: every region); a regional official
    always gets their own, and a 403 when they ask for another."""
    return scope_region(actor, requested, action=action)


def readable(actor: Actor, ledger: QuotaLedger, *, action: str = READ) -> QuotaLedger:
    """`ledger` when `actor` may read it (its region inside their scope), else 403."""
    authorize(actor, action, LEDGER.region(ledger))
    return ledger
