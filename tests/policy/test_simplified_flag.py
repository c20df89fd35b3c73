"""One stored simplified-procedure flag: region_benefit, read by the programme and the evaluation;
overrides are recorded as such; migration 0013 moves the old data on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy import select
from tests.actors import ADMIN

from regionvisa import migrate
from regionvisa.applications import service
from regionvisa.applications.models import RegionBenefit
from regionvisa.audit.models import AuditEntry
from regionvisa.db import session_scope
from regionvisa.evaluation import flows
from regionvisa.evaluation import service as evaluation
from regionvisa.programs.models import Program


def test_the_programme_and_the_evaluation_read_the_one_flag(engine):
    with session_scope(engine=engine) as session:
        session.add(Program(id="busan-d2", region="26", base_visa="D-2", title_ko="부산", title_en="Busan"))
        session.add(Program(id="busan-e7", region="26", base_visa="E-7", title_ko="부산", title_en="Busan"))
        session.add(Program(id="daegu-e7", region="27", base_visa="E-7", title_ko="대구", title_en="Daegu"))
    assert "simplified_procedure" not in Program.__table__.c  # not stored on the programme
    with session_scope(engine=engine) as session:
        assert session.get(Program, "busan-d2").simplified_procedure is False  # no row: no procedure
        flows.set_simplified_flag(session=session, region="26", enabled=True, run=_Run(2025, 7), actor=ADMIN)
    with session_scope(engine=engine) as session:
        flags = dict(session.execute(select(Program.id, Program.simplified_procedure)).all())
        assert flags == {"busan-d2": True, "busan-e7": True, "daegu-e7": False}
        assert (
            evaluation.simplified_procedure(session=session, region="26")
            is service.simplified_for(session=session, region="26")
            is True
        )
        assert session.get(RegionBenefit, "26").source == "evaluation"
    with session_scope(engine=engine) as session:
        service.set_simplified(
            session=session, region="26", enabled=False, actor=ADMIN, reason="benefit suspended pending review"
        )
    with session_scope(engine=engine) as session:
        row = session.get(RegionBenefit, "26")
        assert (row.simplified_procedure, row.source, row.set_by) == (False, "override", "t.admin")
        assert session.get(Program, "busan-e7").simplified_procedure is False
        assert evaluation.simplified_procedure(session=session, region="26") is False
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "applications.benefit.simplified").order_by(AuditEntry.id)
        ).all()
        assert [e.inputs["source"] for e in entries] == ["evaluation", "override"]
        assert entries[1].inputs["before"] is True and entries[1].inputs["before_source"] == "evaluation"
        assert entries[1].actor == "t.admin" and entries[1].reason == "benefit suspended pending review"
    with pytest.raises(ValueError, match="source must be one of"), session_scope(engine=engine) as session:
        service.set_simplified(session=session, region="26", enabled=True, actor=ADMIN, reason="x", source="guess")


class _Run:
    def __init__(self, year: int, run_id: int):
        self.year, self.id = year, run_id


def test_migration_0013_keeps_the_flag_and_records_its_source(engine):
    now = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    migrate.downgrade(engine=engine, revision="0012")
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO program (id, region, base_visa, title_ko, title_en, simplified_procedure) VALUES "
                    "('busan-d2', '26', 'D-2', '부산', 'Busan', true),"
                    " ('seoul-d2', '11', 'D-2', '서울', 'Seoul', false)"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO program_version (program_id, version, status, design, digest, valid_from, valid_to,"
                    " created_by, created_at) VALUES ('busan-d2', 1, 'published', '{}', 'x', '2025-01-01',"
                    " '2026-12-31', 'test', :now)"
                ),
                {"now": now},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO region_benefit (region, simplified_procedure, set_by, set_at, reason) VALUES "
                    "('26', true, 'system:evaluation-publication', :now, 'evaluation 2024'),"
                    "('11', true, 't.admin', :now, 'ministry decision')"
                ),
                {"now": now},
            )
        migrate.upgrade(engine=engine, revision="0013")
        with engine.connect() as conn:
            sources = dict(conn.execute(sa.text("SELECT region, source FROM region_benefit")).all())
            assert sources == {"26": "evaluation", "11": "override"}
            assert conn.execute(sa.text("SELECT count(*) FROM program_version")).scalar() == 1  # nothing cascaded
            assert "simplified_procedure" not in {c["name"] for c in sa.inspect(conn).get_columns("program")}
        with session_scope(engine=engine) as session:
            flags = dict(session.execute(select(Program.id, Program.simplified_procedure)).all())
            assert flags == {"busan-d2": True, "seoul-d2": True}  # Seoul's override now reaches its programme
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text("UPDATE region_benefit SET source = 'guess' WHERE region = '26'"))
        migrate.downgrade(engine=engine, revision="0012")
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, simplified_procedure FROM program ORDER BY id")).all()
            assert [(r[0], bool(r[1])) for r in rows] == [("busan-d2", True), ("seoul-d2", True)]
            assert "source" not in {c["name"] for c in sa.inspect(conn).get_columns("region_benefit")}
            assert conn.execute(sa.text("SELECT count(*) FROM program_version")).scalar() == 1
    finally:
        migrate.upgrade(engine=engine)
    assert migrate.current_revision(engine=engine) == migrate.head_revision()
