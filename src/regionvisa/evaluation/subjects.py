"""What the evaluation domain's use cases act on, and the one region rule of each kind.

- An evaluation run is national: it ranks every region, and computing, storing and publishing it
  are the ministry's (`evaluation.publish`, no region).
- A committee member's entry in the standing committee belongs to no region: the government the
  member comes from is what the entry records, not who may record it.
- A committee score belongs to the region it scores (`CommitteeScore.region`); a score is
  entered before its row exists, so its use case names the region itself.

Reads of published results go through `result_region` (the region a list of regions' results
must be filtered by) and `readable_region` (one region's detail, 403 outside the reader's scope).
"""

from __future__ import annotations

from regionvisa.accounts.models import User
from regionvisa.accounts.policy import authorize, scope_region
from regionvisa.core.actor import Actor
from regionvisa.core.usecase import Subject
from regionvisa.evaluation.models import CommitteeScore, EvaluationRun

READ = "evaluation.read"

RUN = Subject(
    kind="evaluation_run", model=EvaluationRun, region=lambda run: None, label="evaluation run", touch="status"
)
MEMBER = Subject(kind="app_user", model=User, region=lambda user: None, label="committee member")
SCORE = Subject(kind="evaluation_committee_score", model=CommitteeScore, region=lambda score: score.region)


def result_region(actor: Actor, requested: str | None = None) -> str | None:
    """The region a read of the regions' published results must be filtered by (None: every
    region); a regional official always gets their own, and a 403 when they ask for another."""
    return scope_region(actor, requested, action=READ)


def readable_region(actor: Actor, region: str) -> str:
    """`region` when `actor` may read its detail (breakdown, what-if), else 403."""
    authorize(actor, READ, region)
    return region
