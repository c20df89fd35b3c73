"""The demo's completed 2025 round reproduces the reported outcome: 17 applied, 14 selected,
with the quotas of the pilot table, from synthetic member scores."""

from __future__ import annotations

from sqlalchemy import func, select

from regionvisa.db import session_scope
from regionvisa.quotas.models import QuotaLedger
from regionvisa.regions.service import pilot_programmes
from regionvisa.selection import demo, minutes, service
from regionvisa.selection.models import Score, SelectionRound


def test_demo_round_reproduces_the_2025_outcome(engine):
    demo.demo_step(engine=engine)
    demo.demo_step(engine=engine)  # a second run adds nothing
    pilot = {row["program_id"]: row for row in pilot_programmes().iter_rows(named=True)}
    with session_scope(engine=engine) as session:
        assert session.scalar(select(func.count()).select_from(SelectionRound)) == 1
        rnd = session.scalar(select(SelectionRound))
        assert rnd.status == "decided" and rnd.meeting_on.isoformat() == "2025-04-02"
        decided = service.decisions(session=session, round_id=rnd.id)
        assert len(decided) == 17
        selected = {p.region for p, d in decided if d.selected}
        assert len(selected) == 14
        assert selected == {row["region"] for row in pilot.values()}
        assert {p.region for p, d in decided if not d.selected} == {"11", "36", "50"}
        confirmed = {q["program_id"]: q["confirmed"] for _p, d in decided for q in d.quotas if d.selected}
        assert confirmed == {pid: row["quota"] for pid, row in pilot.items()}
        ledgers = {lg.program_id: lg.allocated for lg in session.scalars(select(QuotaLedger))}
        assert ledgers == confirmed
        # the selected score above the threshold, the others below; every proposal had its quorum
        for _p, d in decided:
            assert (d.aggregate >= rnd.threshold) == d.selected
            assert len(d.summary["scorers"]) >= d.summary["quorum_required"]
        gyeonggi = next(q for _p, d in decided for q in d.quotas if q["program_id"] == "gyeonggi-e7")
        assert (gyeonggi["requested"], gyeonggi["confirmed"]) == (700, 630) and gyeonggi["reason"]
        assert session.scalar(select(func.count()).select_from(Score)) > 17 * 5 * 5
        ctx = minutes.context(session=session, round_id=rnd.id, lang="en")
        assert ctx["applied"] == 17 and ctx["selected"] == 14
        assert {r["region"] for r in ctx["recusals"]} == {"Busan", "South Gyeongsang (Gyeongnam)"}
