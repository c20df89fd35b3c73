"""Jobs: the job's one region rule and the read scope (a job is seen by those who may see its result)."""

from __future__ import annotations

from sqlalchemy import and_, false, or_

from regionvisa.accounts.policy import ALL, OWN_REGION, grant
from regionvisa.core.actor import Actor
from regionvisa.core.usecase import Subject
from regionvisa.jobs.models import Job

JOB = Subject(kind="job", model=Job, region=lambda job: job.region, label="job", touch="attempts")


def may_see(actor: Actor | None, job: Job) -> bool:
    """Whether `actor` may see `job`: they hold the action its result needs, in every region when
    the result is national, in the job's region when it is a region's."""
    scope = grant(actor, job.view_action) if actor is not None else None
    if scope == ALL:
        return True
    return scope == OWN_REGION and job.region is not None and job.region == actor.region


def visible(actor: Actor, view_actions: set[str]):
    """The SQL condition of the jobs `actor` may see, over the view actions in use."""
    every = [a for a in view_actions if grant(actor, a) == ALL]
    own = [a for a in view_actions if grant(actor, a) == OWN_REGION]
    terms = []
    if every:
        terms.append(Job.view_action.in_(every))
    if own and actor.region:
        terms.append(and_(Job.view_action.in_(own), Job.region == actor.region))
    return or_(*terms) if terms else false()
