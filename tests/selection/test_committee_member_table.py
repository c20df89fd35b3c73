"""One CommitteeMember: the rounds' seats and the standing evaluation committee share one table;
migration 0014 moves the rows of the two old tables there and back, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy import select
from tests.actors import ADMIN

from regionvisa import migrate
from regionvisa.db import session_scope
from regionvisa.evaluation import service as evaluation
from regionvisa.selection import committee as selection_committee
from regionvisa.selection import rounds
from regionvisa.selection.models import CommitteeMember, ConflictDeclaration, Proposal, Score
from regionvisa.selection.schemas import MemberIn

NOW = dt.datetime(2025, 5, 1, 9, tzinfo=dt.UTC)


def _user_id(session, username: str) -> int:
    from regionvisa.accounts.models import User

    return session.scalar(select(User.id).where(User.username == username))


def _members(conn) -> list[tuple]:
    rows = conn.execute(
        sa.text(
            "SELECT id, round_id, user_id, role, affiliation, affiliation_region, added_by FROM committee_member"
            " ORDER BY round_id IS NULL, id"
        )
    )
    return [tuple(r) for r in rows]


def _children(conn) -> tuple[list, list]:
    conflicts = [tuple(r) for r in conn.execute(sa.text("SELECT member_id, region, source FROM selection_conflict"))]
    scores = [tuple(r) for r in conn.execute(sa.text("SELECT member_id, criterion, score FROM selection_score"))]
    return sorted(conflicts), sorted(scores)


def _referred(conn, table: str) -> str:
    (fk,) = [f for f in sa.inspect(conn).get_foreign_keys(table) if f["constrained_columns"] == ["member_id"]]
    return fk["referred_table"]


@pytest.fixture
def committee(engine, people, round_id):
    """The round's six seats (c.expert1 recused from Busan by affiliation), two standing
    evaluation entries and one score of c.official1."""
    with session_scope(engine=engine) as session:
        evaluation.set_member(
            session=session, actor=ADMIN, user_id=_user_id(session, "c.expert1"), region="26", affiliation="PNU"
        )
        evaluation.set_member(
            session=session, actor=ADMIN, user_id=_user_id(session, "c.chair"), region=None, affiliation="MOJ"
        )
        proposal = Proposal(round_id=round_id, region="11", current_version=1, submitted_at=NOW, updated_at=NOW)
        session.add(proposal)
        session.flush()
        official = selection_committee.member_of(
            session=session, rnd=rounds.get_round(session=session, round_id=round_id), actor=people["c.official1"]
        )
        session.add(
            Score(
                proposal_id=proposal.id,
                member_id=official.id,
                criterion="need",
                score=80,
                comment="clear need",
                proposal_version=1,
                scored_at=NOW,
            )
        )
    return round_id


def test_seats_and_standing_entries_live_in_one_table(engine, people, committee):
    with session_scope(engine=engine) as session:
        seats = selection_committee.members(session=session, round_id=committee)
        assert len(seats) == 6 and all(m.round_id == committee and m.role for m in seats)
        standing = session.scalars(select(CommitteeMember).where(CommitteeMember.round_id.is_(None))).all()
        assert sorted((m.affiliation, m.affiliation_region, m.role) for m in standing) == [
            ("MOJ", None, None),
            ("PNU", "26", None),
        ]
        expert = _user_id(session, "c.expert1")
        assert evaluation.member_region(session=session, user_id=expert) == "26"
        assert (
            evaluation.member_region(session=session, user_id=_user_id(session, "c.official1")) is None
        )  # a seat is not an entry
        # recording the entry again updates it: still one per user
        evaluation.set_member(session=session, actor=ADMIN, user_id=expert, region="26", affiliation="PNU, law")
        assert (
            session.scalar(
                select(sa.func.count()).where(CommitteeMember.user_id == expert, CommitteeMember.round_id.is_(None))
            )
            == 1
        )
    for bad in (
        {"round_id": None, "role": None},  # a second standing entry for the same user
        {"round_id": None, "role": "chair"},  # the standing committee has no roles
        {"round_id": committee, "role": None},  # a round's seat has one
    ):
        with pytest.raises(sa.exc.IntegrityError), session_scope(engine=engine) as session:
            user = _user_id(session, "c.chair" if bad["round_id"] is None else "c.outsider")
            session.add(CommitteeMember(user_id=user, affiliation="x", added_by="t", added_at=NOW, **bad))
            session.flush()


def test_migration_0014_moves_the_rows_both_ways(engine, people, committee):
    with engine.connect() as conn:
        members, children = _members(conn), _children(conn)
    assert len(members) == 8 and len(children[0]) == 1 and len(children[1]) == 1
    seat_ids = {m[0] for m in members if m[1] is not None}
    migrate.downgrade(engine=engine, revision="0013")
    try:
        with engine.connect() as conn:
            seats = conn.execute(sa.text("SELECT id, round_id, user_id, role, affiliation FROM selection_member"))
            assert {r[0] for r in seats} == seat_ids
            standing = conn.execute(sa.text("SELECT region, affiliation, updated_by FROM evaluation_committee_member"))
            assert {tuple(r) for r in standing} == {("26", "PNU", "t.admin"), (None, "MOJ", "t.admin")}
            assert _children(conn) == children
            assert _referred(conn, "selection_conflict") == _referred(conn, "selection_score") == "selection_member"
        migrate.upgrade(engine=engine, revision="0014")
        with engine.connect() as conn:
            again = _members(conn)
            assert [m for m in again if m[1] is not None] == [m for m in members if m[1] is not None]
            standing_now = sorted((m[1:] for m in again if m[1] is None), key=lambda m: m[1])
            assert standing_now == sorted((m[1:] for m in members if m[1] is None), key=lambda m: m[1])
            assert _children(conn) == children
            assert _referred(conn, "selection_conflict") == _referred(conn, "selection_score") == "committee_member"
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # the children kept their checks
            conn.execute(sa.text("UPDATE selection_score SET score = 101"))
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text("UPDATE selection_conflict SET source = 'guess'"))
    finally:
        migrate.upgrade(engine=engine)
    with session_scope(engine=engine) as session:  # new rows get fresh ids after the moved ones
        outsider = selection_committee.add_member(
            session=session,
            rnd=committee,
            data=MemberIn(username="c.outsider", role="expert", affiliation="KDI", affiliation_region=None),
            actor=people["s.admin"],
        )
        assert outsider.id > max(m[0] for m in members)
        recused = selection_committee.member_of(
            session=session, rnd=rounds.get_round(session=session, round_id=committee), actor=people["c.expert1"]
        )
        session.delete(recused)  # a seat's conflicts go with it (the moved foreign key cascades)
        session.flush()
        assert session.scalar(select(sa.func.count()).select_from(ConflictDeclaration)) == 0
