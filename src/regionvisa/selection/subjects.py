"""What selection's use cases act on, each kind with its one region rule, and the read scope.

- A round (`ROUND`) and a committee seat (`MEMBER`) belong to no region: the ministry runs the
  round and its committee nationally.
- A proposal (`PROPOSAL`) belongs to the region that submits it. A submission names that region
  (`region=`) before the proposal exists, so `proposals.submit_proposal` is authorised for it.

Reads go through `read_scope` (the region a query is limited to, `selection.read`) and
`sees_as_member` (whether the actor sees a round through a committee seat,
`selection.committee_view`): no role is named anywhere else in `selection`.
"""

from __future__ import annotations

from regionvisa.accounts.policy import grant, scope_region
from regionvisa.core.actor import Actor
from regionvisa.core.usecase import Subject
from regionvisa.selection.models import CommitteeMember, Proposal, SelectionRound

READ = "selection.read"
MANAGE = "selection.manage"
SUBMIT = "proposals.submit"
SCORE = "committee.score"
COMMITTEE_VIEW = "selection.committee_view"

ROUND = Subject(kind="selection_round", model=SelectionRound, region=lambda rnd: None)
MEMBER = Subject(kind="selection_member", model=CommitteeMember, region=lambda member: None)
PROPOSAL = Subject(kind="selection_proposal", model=Proposal, region=lambda proposal: proposal.region)


def read_scope(actor: Actor | None, requested: str | None = None) -> str | None:
    """The region a selection query for `actor` must be limited to (None: every region); 403 for a
    region outside the actor's scope."""
    return scope_region(actor, requested, action=READ)


def sees_as_member(actor: Actor | None) -> bool:
    """Whether `actor` sees rounds through a committee seat (recusals hide regions, and only their
    own scores show until scoring closes) rather than as the ministry or an auditor does."""
    return grant(actor, COMMITTEE_VIEW) is not None
