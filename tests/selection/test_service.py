"""Selection rounds through the service: proposals against the guardrails, versions, recusal,
scoring visibility, aggregation with trimming, quorum, threshold and ranking, the chair's
decision and its outcome (approved programmes, quota ledgers, audit)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from tests.actors import SYSTEM

from regionvisa.audit.models import AuditEntry
from regionvisa.core.errors import Conflict, DomainError, Forbidden
from regionvisa.db import session_scope
from regionvisa.selection import committee, proposals, rounds, service
from regionvisa.selection.schemas import ConflictsIn, DecisionIn, DesignIn, ProposalIn, QuotaAdjustment, ScoresIn

from .conftest import design_for

LATER = dt.timedelta(hours=2)


def submit(engine, people, round_id, region, user, designs, narrative="plan", now=None, files=None):
    with session_scope(engine=engine) as session:
        return proposals.submit_proposal(
            session=session,
            round_id=round_id,
            region=region,
            data=ProposalIn(designs=[DesignIn(design=d, requested_quota=q) for d, q in designs], narrative=narrative),
            actor=people[user],
            files=files,
            now=now,
        ).version


def scores(values: dict[str, int]) -> ScoresIn:
    return ScoresIn(scores={k: {"score": v, "comment": f"{k} {v}"} for k, v in values.items()})


def flat(n: int) -> ScoresIn:
    return scores({c: n for c in ("need", "feasibility", "settlement", "management", "employment")})


def declare(engine, people, round_id, username, regions=(), reason=""):
    with session_scope(engine=engine) as session:
        committee.declare_conflicts(
            session=session,
            rnd=round_id,
            data=ConflictsIn(regions=list(regions), reason=reason),
            actor=people[username],
        )


def score(engine, people, round_id, username, region, data, now):
    with session_scope(engine=engine) as session:
        service.save_scores(session=session, rnd=round_id, region=region, data=data, actor=people[username], now=now)


def audit_actions(engine) -> list[str]:
    with session_scope(engine=engine) as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


@pytest.fixture
def submitted(engine, people, round_id, helpers):
    """Busan (one design) and Seoul (one design) have submitted."""
    submit(engine, people, round_id, "26", "s.busan", [(helpers.busan_design(), 900)])
    submit(engine, people, round_id, "11", "s.seoul", [(design_for("11", "seoul-d2", 400), None)])
    return round_id


def test_invalid_design_is_refused_with_its_guardrail_errors_and_nothing_stored(engine, people, round_id, helpers):
    bad = helpers.busan_design()
    bad["parameters"]["bank_balance_krw"] = {dt.date(2025, 4, 2): 1000}
    bad["parameters"]["part_time_hours_per_week"] = {dt.date(2025, 4, 2): 45}
    with pytest.raises(proposals.InvalidProposal) as caught:
        submit(engine, people, round_id, "26", "s.busan", [(bad, None)])
    details = caught.value.details
    assert any(line.startswith("design[1]:parameters.bank_balance_krw") and "below" in line for line in details)
    assert any(line.startswith("design[1]:parameters.part_time_hours_per_week") for line in details)
    assert caught.value.body()["error"]["details"] == details
    with session_scope(engine=engine) as session, pytest.raises(DomainError) as missing:
        proposals.get_proposal(session=session, round_id=round_id, region="26")
    assert missing.value.status == 404


def test_a_design_for_another_region_and_unparseable_yaml_are_refused(engine, people, round_id):
    with pytest.raises(proposals.InvalidProposal) as caught:
        submit(engine, people, round_id, "26", "s.busan", [(design_for("11", "seoul-d2"), None), ("id: [", None)])
    text = "\n".join(caught.value.details)
    assert "design[1]:region: the design is for region 11, the proposal for 26" in text
    assert "design[2]" in text and "not valid YAML" in text


def test_a_programme_id_of_another_region_is_refused_at_submission(engine, people, round_id, helpers):
    from regionvisa.programs import service as programs
    from regionvisa.programs.files import parse_design

    with session_scope(engine=engine) as session:
        programs.store(
            session=session, design=parse_design(helpers.busan_design()), actor=SYSTEM, reason="t", status="published"
        )
    taken = design_for("11", "busan-d2")
    with pytest.raises(proposals.InvalidProposal) as caught:
        submit(engine, people, round_id, "11", "s.seoul", [(taken, None)])
    assert "design[1]:id: programme id 'busan-d2' is taken by region 26" in caught.value.details[0]


def test_an_official_submits_only_for_their_own_region(engine, people, round_id):
    with pytest.raises(Forbidden):
        submit(engine, people, round_id, "11", "s.busan", [(design_for("11", "seoul-d2"), None)])


def test_revisions_keep_every_version_until_the_window_closes(engine, people, round_id, helpers):
    files = [("plan.pdf", "application/pdf", b"%PDF-1.4 plan")]
    assert submit(engine, people, round_id, "26", "s.busan", [(helpers.busan_design(), 900)], files=files) == 1
    assert submit(engine, people, round_id, "26", "s.busan", [(helpers.busan_design(), 1000)], "revised") == 2
    with session_scope(engine=engine) as session:
        proposal = proposals.get_proposal(session=session, round_id=round_id, region="26")
        history = proposals.versions(session=session, proposal=proposal)
        assert [v.version for v in history] == [1, 2]
        assert [v.designs[0]["requested_quota"] for v in history] == [900, 1000]
        assert [v.narrative for v in history] == ["plan", "revised"]
        assert history[0].attachments == history[1].attachments  # kept across the revision
        assert [a.filename for a in proposals.attachments(session=session, ids=history[1].attachments)] == ["plan.pdf"]
    now = dt.datetime.now(dt.UTC)
    with pytest.raises(Conflict) as late:
        submit(engine, people, round_id, "26", "s.busan", [(helpers.busan_design(), 1)], now=now + LATER)
    assert late.value.code == "window_closed"
    actions = audit_actions(engine)
    assert actions.count("selection.proposal.submit") == 1 and actions.count("selection.proposal.revise") == 1


def test_affiliation_recuses_the_member_who_cannot_see_or_score_that_region(engine, people, submitted):
    now = dt.datetime.now(dt.UTC) + LATER
    with session_scope(engine=engine) as session:
        rnd = rounds.get_round(session=session, round_id=submitted)
        assert proposals.visible_regions(session=session, rnd=rnd, actor=people["c.expert1"]) == ["11"]
        assert proposals.visible_regions(session=session, rnd=rnd, actor=people["c.expert2"]) == ["11", "26"]
        with pytest.raises(Forbidden):
            proposals.check_can_view_proposal(session=session, rnd=rnd, region="26", actor=people["c.expert1"])
    declare(engine, people, submitted, "c.expert1")
    with pytest.raises(Forbidden):
        score(engine, people, submitted, "c.expert1", "26", flat(90), now)
    score(engine, people, submitted, "c.expert1", "11", flat(90), now)
    assert "selection.recusal" in audit_actions(engine)


def test_a_declared_conflict_recuses_and_withdraws_scores_already_given(engine, people, submitted):
    now = dt.datetime.now(dt.UTC) + LATER
    declare(engine, people, submitted, "c.expert2")
    score(engine, people, submitted, "c.expert2", "11", flat(70), now)
    with pytest.raises(DomainError) as missing_reason:
        declare(engine, people, submitted, "c.expert2", ["11"])
    assert missing_reason.value.code == "reason_required"
    declare(engine, people, submitted, "c.expert2", ["11"], "advised the Seoul design team")
    with session_scope(engine=engine) as session:
        rnd = rounds.get_round(session=session, round_id=submitted)
        seoul = next(t for t in service.tally(session=session, rnd=rnd) if t.region == "11")
        member_id = committee.member_of(session=session, rnd=rnd, actor=people["c.expert2"]).id
        assert member_id in seoul.recused and member_id not in seoul.scorers
        assert seoul.eligible == 5


def test_scoring_needs_a_declaration_every_criterion_and_the_scoring_phase(engine, people, submitted):
    later = dt.datetime.now(dt.UTC) + LATER
    with pytest.raises(Conflict) as early:
        score(engine, people, submitted, "c.official1", "26", flat(80), dt.datetime.now(dt.UTC))
    assert early.value.code == "not_scoring"
    with pytest.raises(Conflict) as undeclared:
        score(engine, people, submitted, "c.official1", "26", flat(80), later)
    assert undeclared.value.code == "declaration_required"
    declare(engine, people, submitted, "c.official1")
    with pytest.raises(DomainError) as partial:
        score(engine, people, submitted, "c.official1", "26", scores({"need": 80}), later)
    assert partial.value.code == "incomplete_scores"
    with pytest.raises(Forbidden):
        score(engine, people, submitted, "c.outsider", "26", flat(80), later)
    score(engine, people, submitted, "c.official1", "26", flat(80), later)


def test_a_member_sees_only_their_own_scores_until_scoring_is_closed(engine, people, submitted):
    later = dt.datetime.now(dt.UTC) + LATER
    for name, value in (("c.official1", 80), ("c.official2", 60)):
        declare(engine, people, submitted, name)
        score(engine, people, submitted, name, "11", flat(value), later)
    with session_scope(engine=engine) as session:
        rnd = rounds.get_round(session=session, round_id=submitted)
        seen = service.scores_visible_to(session=session, rnd=rnd, actor=people["c.official1"])
        assert {s["score"] for s in seen} == {80}
        assert service.scores_visible_to(session=session, rnd=rnd, actor=people["s.admin"]) == []
        with pytest.raises(Conflict):
            service.tally_visible(session=session, rnd=rnd, actor=people["c.official1"])
    with session_scope(engine=engine) as session:
        service.close_scoring(session=session, rnd=submitted, actor=people["s.admin"], now=later)
    with session_scope(engine=engine) as session:
        rnd = rounds.get_round(session=session, round_id=submitted)
        seen = service.scores_visible_to(session=session, rnd=rnd, actor=people["c.official1"])
        assert {s["score"] for s in seen} == {60, 80}
        # the member affiliated with Busan never sees Busan's scores
        assert {
            s["region"] for s in service.scores_visible_to(session=session, rnd=rnd, actor=people["c.expert1"])
        } <= {"11"}


def test_aggregate_is_the_weighted_mean_over_members_with_trimming_from_five(engine, people, submitted):
    later = dt.datetime.now(dt.UTC) + LATER
    # weights 25, 25, 20, 20, 10
    given = {
        "c.chair": {"need": 80, "feasibility": 70, "settlement": 60, "management": 90, "employment": 50},  # 72.5
        "c.official1": flat(60),  # 60
        "c.official2": flat(100),  # 100 (highest, trimmed)
        "c.expert2": flat(40),  # 40 (lowest, trimmed)
        "c.expert3": flat(70),  # 70
    }
    for name, data in given.items():
        declare(engine, people, submitted, name)
        score(engine, people, submitted, name, "11", data if isinstance(data, ScoresIn) else scores(data), later)
    with session_scope(engine=engine) as session:
        rnd = rounds.get_round(session=session, round_id=submitted)
        seoul = next(t for t in service.tally(session=session, rnd=rnd) if t.region == "11")
        names = committee.member_names(session=session, round_id=rnd.id)
        assert seoul.eligible == 6 and len(seoul.scorers) == 5
        totals = {names[m]: round(v, 4) for m, v in seoul.member_totals.items()}
        assert totals == {"c.chair": 72.5, "c.official1": 60, "c.official2": 100, "c.expert2": 40, "c.expert3": 70}
        assert sorted(names[m] for m in seoul.trimmed) == ["c.expert2", "c.official2"]
        assert seoul.aggregate == pytest.approx((72.5 + 60 + 70) / 3)
        assert seoul.criterion_means["need"] == pytest.approx((80 + 60 + 100 + 40 + 70) / 5)
        rnd.trim = False
        untrimmed = next(t for t in service.tally(session=session, rnd=rnd) if t.region == "11")
        assert untrimmed.trimmed == [] and untrimmed.aggregate == pytest.approx((72.5 + 60 + 100 + 40 + 70) / 5)
        session.rollback()


def test_below_quorum_no_decision_can_be_taken(engine, people, submitted):
    later = dt.datetime.now(dt.UTC) + LATER
    # Busan: 5 members not recused (expert1 is), quorum ceil(2/3 × 5) = 4; only 3 score
    for name in ("c.chair", "c.official1", "c.official2"):
        declare(engine, people, submitted, name)
        score(engine, people, submitted, name, "26", flat(80), later)
    for name in ("c.chair", "c.official1", "c.official2"):
        score(engine, people, submitted, name, "11", flat(80), later)
    with session_scope(engine=engine) as session:
        service.close_scoring(session=session, rnd=submitted, actor=people["s.admin"], now=later)
    with session_scope(engine=engine) as session:
        rnd = rounds.get_round(session=session, round_id=submitted)
        busan = next(t for t in service.tally(session=session, rnd=rnd) if t.region == "26")
        assert (busan.eligible, busan.quorum_required, len(busan.scorers), busan.quorum_met) == (5, 4, 3, False)
    with session_scope(engine=engine) as session, pytest.raises(Conflict) as refused:
        service.confirm_decisions(session=session, rnd=submitted, data=DecisionIn(), actor=people["c.chair"])
    assert refused.value.code == "below_quorum"
    assert "26 (3/4)" in refused.value.en
    with session_scope(engine=engine) as session:
        assert rounds.get_round(session=session, round_id=submitted).status == "scoring_closed"
    # the ministry reopens scoring (with a reason), a fourth member scores, and the chair can decide
    with session_scope(engine=engine) as session, pytest.raises(DomainError):
        service.reopen_scoring(session=session, rnd=submitted, actor=people["s.admin"], reason=" ")
    with session_scope(engine=engine) as session:
        service.reopen_scoring(session=session, rnd=submitted, actor=people["s.admin"], reason="Busan below quorum")
    declare(engine, people, submitted, "c.expert2")
    score(engine, people, submitted, "c.expert2", "26", flat(80), later)
    score(engine, people, submitted, "c.expert2", "11", flat(80), later)
    with session_scope(engine=engine) as session:
        service.close_scoring(session=session, rnd=submitted, actor=people["s.admin"], now=later)
    with session_scope(engine=engine) as session:
        service.confirm_decisions(session=session, rnd=submitted, data=DecisionIn(), actor=people["c.chair"])
    assert "selection.scoring.reopen" in audit_actions(engine)


def scored_round(engine, people, round_id, busan_scores=85, seoul_scores=50, daegu=None):
    later = dt.datetime.now(dt.UTC) + LATER
    names = ["c.chair", "c.official1", "c.official2", "c.expert1", "c.expert2", "c.expert3"]
    for name in names:
        declare(engine, people, round_id, name)
    for name in names:
        if name != "c.expert1":
            score(engine, people, round_id, name, "26", flat(busan_scores), later)
        score(engine, people, round_id, name, "11", flat(seoul_scores), later)
        if daegu is not None:
            score(engine, people, round_id, name, "27", flat(daegu), later)
    with session_scope(engine=engine) as session:
        service.close_scoring(session=session, rnd=round_id, actor=people["s.admin"], now=later)


def test_threshold_and_ranking_decide_and_only_the_chair_confirms(engine, people, submitted):
    scored_round(engine, people, submitted)
    with session_scope(engine=engine) as session:
        rnd = rounds.get_round(session=session, round_id=submitted)
        tallies = {t.region: t for t in service.tally(session=session, rnd=rnd)}
        assert tallies["26"].rank == 1 and tallies["26"].recommended
        assert tallies["11"].rank == 2 and not tallies["11"].recommended  # 50 < threshold 60
        assert tallies["26"].designs[0]["recommended"] == 900
    with session_scope(engine=engine) as session, pytest.raises(Forbidden):
        service.confirm_decisions(session=session, rnd=submitted, data=DecisionIn(), actor=people["c.official1"])


def test_max_selected_and_the_ceiling_limit_the_recommendation(engine, people, round_id, helpers):
    submit(engine, people, round_id, "26", "s.busan", [(helpers.busan_design(), 900)])
    submit(engine, people, round_id, "11", "s.seoul", [(design_for("11", "seoul-d2"), 600)])
    submit(engine, people, round_id, "27", "s.daegu", [(design_for("27", "daegu-d2"), 300)])
    scored_round(engine, people, round_id, busan_scores=85, seoul_scores=75, daegu=70)
    with session_scope(engine=engine) as session:
        rnd = rounds.get_round(session=session, round_id=round_id)
        rnd.max_selected = 2
        rnd.quota_ceiling = 1000
        tallies = {t.region: t for t in service.tally(session=session, rnd=rnd)}
        assert [tallies[r].recommended for r in ("26", "11", "27")] == [True, True, False]
        # 900 + 600 over a ceiling of 1,000: Hamilton shares 600 and 400
        assert tallies["26"].designs[0]["recommended"] == 600
        assert tallies["11"].designs[0]["recommended"] == 400
        assert tallies["27"].designs[0]["recommended"] == 0
        session.rollback()


def test_the_chairs_decision_approves_designs_opens_ledgers_and_publishes(engine, people, submitted):
    from regionvisa.programs import service as programs
    from regionvisa.quotas.models import QuotaLedger

    scored_round(engine, people, submitted)
    with session_scope(engine=engine) as session, pytest.raises(DomainError) as no_reason:
        service.confirm_decisions(
            session=session,
            rnd=submitted,
            data=DecisionIn(adjustments={"busan-d2": QuotaAdjustment(quota=800)}),
            actor=people["c.chair"],
        )
    assert no_reason.value.code == "invalid_adjustment"
    with session_scope(engine=engine) as session, pytest.raises(DomainError) as not_selected:
        service.confirm_decisions(
            session=session,
            rnd=submitted,
            data=DecisionIn(adjustments={"seoul-d2": QuotaAdjustment(quota=10, reason="x")}),
            actor=people["c.chair"],
        )
    assert not_selected.value.code == "invalid_adjustment"
    with session_scope(engine=engine) as session:
        service.confirm_decisions(
            session=session,
            rnd=submitted,
            data=DecisionIn(
                adjustments={"busan-d2": QuotaAdjustment(quota=800, reason="university capacity checked on site")},
                meeting_on=dt.date(2025, 4, 2),
            ),
            actor=people["c.chair"],
        )
    with session_scope(engine=engine) as session:
        rnd = rounds.get_round(session=session, round_id=submitted)
        assert rnd.status == "decided" and rnd.meeting_on == dt.date(2025, 4, 2)
        version = programs.get_version(session=session, program_id="busan-d2")
        assert version.status == "approved" and version.design["quota"] == 800
        with pytest.raises(DomainError):
            programs.get_program(session=session, program_id="seoul-d2")
        ledger = session.scalar(select(QuotaLedger).where(QuotaLedger.program_id == "busan-d2"))
        assert (ledger.allocated, ledger.period, ledger.region) == (800, "2025", "26")
        # published to every region: Seoul's official sees Busan's outcome too
        results = {
            r["region"]: r for r in service.results(session=session, round_id=submitted, actor=people["s.seoul"])
        }
        assert results["26"]["selected"] and results["26"]["quotas"][0]["confirmed"] == 800
        assert results["26"]["quotas"][0]["reason"] == "university capacity checked on site"
        assert not results["11"]["selected"] and results["11"]["quotas"][0]["confirmed"] == 0
    with session_scope(engine=engine) as session, pytest.raises(Conflict):
        service.confirm_decisions(session=session, rnd=submitted, data=DecisionIn(), actor=people["c.chair"])
    actions = audit_actions(engine)
    for action in ("selection.decide", "selection.round.decide", "program.approved", "quota.allocate"):
        assert action in actions, action
    assert actions.count("selection.score") == 11


def test_results_are_not_published_before_the_decision(engine, people, submitted):
    with session_scope(engine=engine) as session, pytest.raises(Conflict):
        service.results(session=session, round_id=submitted, actor=people["s.busan"])
