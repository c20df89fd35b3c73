"""A synthetic load is a declared use case (`records.import`, its own transaction), carried out by
the declared `synth` system actor: a plain string or an actor without the grant loads nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from tests.actors import BUSAN

from regionvisa.accounts.policy import system_actor
from regionvisa.audit.models import AuditEntry
from regionvisa.core.errors import Forbidden
from regionvisa.core.usecase import USE_CASES
from regionvisa.records.models import Person
from regionvisa.synth import service


def _state(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        people = conn.execute(select(func.count()).select_from(Person)).scalar_one()
        entries = conn.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    return people, entries


def test_the_declared_use_case_is_exactly_the_load():
    declared = {name: case for name, case in USE_CASES.items() if name.startswith("synth.")}
    assert list(declared) == ["synth.service.load_synthetic"]
    assert (declared["synth.service.load_synthetic"].action, declared["synth.service.load_synthetic"].audit_action) == (
        "records.import",
        service.SYNTH_ACTION,
    )


@pytest.mark.parametrize(
    "actor",
    ["system:synth", BUSAN, system_actor("compliance")],
    ids=["plain string", "a region without the grant", "a system actor without the grant"],
)
def test_a_refused_load_writes_nothing(engine, actor):
    before = _state(engine)
    with pytest.raises(Forbidden):
        service.load_synthetic(engine=engine, residents=200, seed=3, actor=actor, progress=False)
    assert _state(engine) == before


def test_the_load_is_audited_under_the_synth_actor(engine):
    counts = service.write_dataset(engine=engine, residents=200, seed=3, progress=False)
    with engine.connect() as conn:
        entry = conn.execute(select(AuditEntry).where(AuditEntry.action == service.SYNTH_ACTION)).one()
    assert (entry.actor, entry.subject_type, entry.subject_id, entry.region) == (
        "system:synth",
        "dataset",
        "synthetic-3",
        None,
    )
    assert _state(engine) == (counts["person"], 1)
