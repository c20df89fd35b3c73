"""What publishing an evaluation sets in other domains, declared in one place.

publish an evaluation run (`publish_evaluation`, the declared use case: `evaluation.publish`
on the run, loaded under a row lock):
  1. evaluation: the draft becomes the year's publication, the earlier one is superseded and
     the year's benefit table is cleared (`evaluation.service.open_publication`);
  2. for each region in the published ranking, in rank order:
     a. evaluation: the grade's benefit or sanction is kept (`grant_benefit`: quota change,
        simplified procedure, warning, withdrawal of the designation);
     b. applications: the region's one simplified-procedure flag is set from it
        (`applications.service.set_simplified`, source 'evaluation', actor PUBLISH_ACTOR);
     c. audit: `evaluation.benefit` for the region (`record_benefit`);
  3. audit: `evaluation.publish` with the result's hash and the grades (`close_publication`), the
     use case's own entry, written last.

Publishing does not touch the quota ledgers: next year's quotas are a separate, confirmed plan
(`quotas.planning.propose` then `confirm_quotas`), whose requests read the published quota change.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from regionvisa.accounts.policy import system_actor
from regionvisa.core.actor import Actor
from regionvisa.core.usecase import Done, use_case
from regionvisa.evaluation import service as evaluation
from regionvisa.evaluation.models import EvaluationRun
from regionvisa.evaluation.subjects import RUN

PUBLISH_ACTOR = system_actor("evaluation-publication")


@use_case(action="evaluation.publish", subject=RUN, subject_arg="run_id", lock=True)
def publish_evaluation(*, session: Session, actor: Actor, run_id: EvaluationRun, reason: str = "") -> Done:
    """Publish a draft: it replaces the year's earlier publication, and its benefits and sanctions
    take effect (benefit table, the regions' simplified-procedure flag). Audited per region, then
    the publication itself. Called with the run's id as `run_id`; the body gets the locked run."""
    run, previous = evaluation.open_publication(session=session, run=run_id, actor=actor)
    grades: dict[str, str] = {}
    for entry in evaluation.result_of(run)["regions"]:
        benefit = evaluation.grant_benefit(session=session, run=run, entry=entry)
        grades[entry["region"]] = entry["grade"]
        set_simplified_flag(
            session=session, region=entry["region"], enabled=benefit.simplified_procedure, run=run, actor=actor
        )
        evaluation.record_benefit(session=session, run=run, entry=entry, actor=actor)
    return evaluation.close_publication(session=session, run=run, previous=previous, grades=grades, reason=reason)


def set_simplified_flag(*, session: Session, region: str, enabled: bool, run: EvaluationRun, actor: Actor) -> None:
    """Hand the simplified-procedure benefit to the applications domain's per-region flag."""
    try:
        from regionvisa.applications.service import set_simplified
    except ImportError:  # the applications domain is not installed in this build
        return
    set_simplified(
        session=session,
        region=region,
        enabled=enabled,
        actor=PUBLISH_ACTOR,
        source="evaluation",
        reason=f"evaluation {run.year} (run {run.id}) published by {actor}",
    )
