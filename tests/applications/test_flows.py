"""The cross-domain effects of application moves (`applications.flows`) match the life-cycle table:
every effect an edge declares has the function that carries it out, no function waits for an
effect no edge declares, and an edge that declares none touches neither the ledger nor the records."""

from __future__ import annotations

from regionvisa.applications import flows
from regionvisa.applications.lifecycle import APPLICATIONS
from regionvisa.core.lifecycle import EFFECTS
from regionvisa.db import session_scope

TABLES = {"quota": flows.QUOTA, "records": flows.RECORDS}


def declared() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for edge in APPLICATIONS.edges:
        for kind, value in edge.effects.items():
            found.setdefault(kind, set()).add(value)
    return found


def test_every_declared_effect_has_its_function_and_no_other():
    effects = declared()
    assert set(effects) == set(TABLES), "an application edge names a kind of effect flows.py does not carry out"
    for kind, values in effects.items():
        assert set(TABLES[kind]) == values, kind
        assert values <= set(EFFECTS[kind]), kind


def test_the_quota_effects_are_the_ledger_moves_of_the_same_name():
    from regionvisa.quotas import service as quotas

    assert {name: fn.__name__ for name, fn in flows.QUOTA.items()} == {name: name for name in flows.QUOTA}
    assert all(fn is getattr(quotas, name) for name, fn in flows.QUOTA.items())


def test_an_edge_without_effects_touches_neither_ledger_nor_records(engine):
    """`approve` declares no effect: both entry points return at once, whatever the application."""
    edge = APPLICATIONS.edge("approve", "recommended")
    assert dict(edge.effects) == {}
    with session_scope(engine=engine) as session:
        assert flows.apply_quota(session=session, app=None, edge=edge, actor=None, reason="") is None
        assert flows.apply_records(session=session, app=None, edge=edge, on=None) is None
