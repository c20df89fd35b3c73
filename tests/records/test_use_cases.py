"""A records import is a declared use case running its own transaction: the actor is authorised
(`records.import`) before the file is even opened, and the audit entry is written inside the
import's transaction, from what the import returns."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.actors import BUSAN, OFFICER

from regionvisa.audit.models import AuditEntry
from regionvisa.core.errors import Forbidden
from regionvisa.core.usecase import USE_CASES
from regionvisa.records import service
from regionvisa.records.models import Person

PEOPLE = """person_id,name,nationality,birth_date,sex,passport_no
P00000001,Nguyen Van A,VNM,1998-03-04,M,C1234567
P00000002,Li Na,CHN,2001-11-30,F,E7654321
"""


def _state(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        people = conn.execute(select(func.count()).select_from(Person)).scalar_one()
        entries = conn.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    return people, entries


def test_the_declared_use_cases_are_exactly_the_import_and_the_key_rotation():
    declared = {name: case.action for name, case in USE_CASES.items() if name.startswith("records.")}
    assert declared == {"records.service.import_file": "records.import", "records.pii.rotate": "keys.rotate"}


@pytest.mark.parametrize("actor", ["t.officer", BUSAN], ids=["plain string", "a region without the grant"])
def test_a_refused_import_opens_nothing_and_writes_nothing(engine, tmp_path, actor):
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE, encoding="utf-8")
    before = _state(engine)
    with pytest.raises(Forbidden):
        service.import_file(engine=engine, kind="people", path=path, actor=actor)
    with pytest.raises(Forbidden):  # refused before the file is looked at: no "unreadable file" answer
        service.import_file(engine=engine, kind="people", path=Path(tmp_path / "absent.csv"), actor=actor)
    assert _state(engine) == before


def test_an_import_is_audited_in_its_own_transaction(engine, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE, encoding="utf-8")
    summary, _ = service.import_file(engine=engine, kind="people", path=path, actor=OFFICER, channel="api")
    assert (summary.outcome, summary.inserted) == ("committed", 2)
    with engine.connect() as conn:
        entry = conn.execute(select(AuditEntry).where(AuditEntry.action == "records.import")).one()
    assert (entry.actor, entry.subject_type, entry.subject_id, entry.region) == ("t.officer", "feed", "people", None)
    assert entry.reason == "people feed imported (api): committed"
