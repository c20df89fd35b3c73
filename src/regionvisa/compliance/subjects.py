"""What the compliance domain's use cases act on, and the one region rule of each kind.

- An enforcement case belongs to the region of its finding (`ComplianceCase.region`): every
  action on it, and every read of it, is authorised for that region.
- A recorded run is national (it covers every region); its summaries are kept per region, and
  the dashboards' reads of them are filtered by `run_region`.

Read paths scope their queries with `case_region` (the region a case queue must be filtered by)
and `readable_case` (one case, 403 outside the reader's scope), and with `run_region` (the region
of a run's findings, counts, holders at risk and the year's indicators), so reads and changes
answer "which region?" the same way.
"""

from __future__ import annotations

from regionvisa.accounts.policy import authorize, scope_region
from regionvisa.compliance.models import ComplianceCase, ComplianceRun
from regionvisa.core.actor import Actor
from regionvisa.core.usecase import Subject

READ = "compliance.read"

CASE = Subject(
    kind="compliance_case", model=ComplianceCase, region=lambda case: case.region, label="case", touch="updated_at"
)
RUN = Subject(kind="compliance_run", model=ComplianceRun, region=lambda run: None, label="compliance run")


def case_region(actor: Actor, requested: str | None = None) -> str | None:
    """The region a query of cases must be filtered by (None: every region, the ministry's queue);
    a regional official always gets their own, and a 403 when they ask for another."""
    return scope_region(actor, requested, action=READ)


def readable_case(actor: Actor, case: ComplianceCase) -> ComplianceCase:
    """`case` when `actor` may read it (its region inside their scope), else 403."""
    authorize(actor, READ, CASE.region(case))
    return case


def run_region(actor: Actor, requested: str | None = None) -> str | None:
    """The region a read of findings (a run's, recorded or not) must be filtered by; as `case_region`."""
    return scope_region(actor, requested, action=READ)
