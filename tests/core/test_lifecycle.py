"""The declared life cycles: the shared table type refuses malformed tables, every edge names a real
policy action and real states, and docs/lifecycles.md is generated from the tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from regionvisa.accounts.policy import ACTIONS
from regionvisa.core.lifecycle import EFFECTS, QUOTA_DELTAS, Edge, Lifecycle
from regionvisa.lifecycles import LIFECYCLES, USE_CASE_MODULES, markdown

ROOT = Path(__file__).resolve().parents[2]


class Refused(Exception):
    pass


def refuse(move, state, allowed, context):
    return Refused(move, state, allowed, dict(context))


def table(*edges: Edge, **kwargs) -> Lifecycle:
    return Lifecycle(name="t", title="T", states=("a", "b", "c"), edges=edges, refuse=refuse, **kwargs)


def test_docs_lifecycles_md_is_generated_from_the_tables():
    documented = (ROOT / "docs" / "lifecycles.md").read_text(encoding="utf-8")
    assert documented == markdown(), "docs/lifecycles.md is stale: run `python -m regionvisa.lifecycles`"


@pytest.mark.parametrize("lifecycle", LIFECYCLES, ids=lambda lc: lc.name)
def test_every_edge_names_a_policy_action_and_known_effects(lifecycle):
    for edge in lifecycle.edges:
        assert edge.action in ACTIONS, f"{lifecycle.name}.{edge.move}: {edge.action} is not in accounts.policy"
        for kind, value in edge.effects.items():
            assert value in EFFECTS[kind]
        assert f"| `{edge.move}` |" in lifecycle.to_markdown()


def test_the_states_are_the_models_states():
    from regionvisa.applications.lifecycle import APPLICATIONS
    from regionvisa.applications.models import STATUSES
    from regionvisa.compliance.lifecycle import COMPLIANCE_CASES
    from regionvisa.compliance.models import CASE_STATUSES
    from regionvisa.programs.lifecycle import PROGRAMME_VERSIONS
    from regionvisa.programs.models import PROGRAM_STATUSES

    assert APPLICATIONS.states == STATUSES
    assert PROGRAMME_VERSIONS.states == PROGRAM_STATUSES
    assert COMPLIANCE_CASES.states == CASE_STATUSES


def test_every_quota_effect_of_an_application_has_its_counter_change():
    from regionvisa.applications.lifecycle import APPLICATIONS

    named = {e.effect("quota") for e in APPLICATIONS.edges} - {None}
    assert named == {"reserve", "release", "use", "unuse"} == set(QUOTA_DELTAS)


def test_edge_lookup_refuses_what_the_table_lacks_with_the_allowed_moves():
    t = table(Edge("go", ("a",), "b", "stats.read"), Edge("stop", ("a", "b"), "c", "stats.read", needs_reason=True))
    assert t.edge("go", "a").to_state == "b"
    assert t.allowed("a") == ("go", "stop") and t.allowed("b") == ("stop",) and t.allowed("c") == ()
    with pytest.raises(Refused) as err:
        t.edge("go", "b", subject=7)
    assert err.value.args == ("go", "b", ("stop",), {"subject": 7})
    assert t.moves_table() == {"go": (("a",), "b", "stats.read"), "stop": (("a", "b"), "c", "stats.read")}


def test_reason_rule_and_unknown_moves_use_the_domains_errors():
    def missing(move, context):
        return ValueError(f"{move} needs a reason")

    def unknown(move, context):
        return LookupError(move)

    t = table(
        Edge("go", ("a",), "b", "stats.read"),
        Edge("stop", ("a",), "c", "stats.read", needs_reason=True),
        missing_reason=missing,
        unknown=unknown,
    )
    assert t.reason("go", None) == "" and t.reason("stop", "  why ") == "why"
    with pytest.raises(ValueError, match="stop needs a reason"):
        t.reason("stop", "   ")
    with pytest.raises(LookupError):
        t.edge("fly", "a")
    with pytest.raises(LookupError):
        t.reason("fly", "why")


@pytest.mark.parametrize(
    ("edges", "problem"),
    [
        ((Edge("go", ("a",), "z", "stats.read"),), "unknown state 'z'"),
        ((Edge("go", (), "b", "stats.read"),), "no state to start from"),
        ((Edge("go", ("a",), "b", "stats.read"), Edge("go", ("a",), "c", "stats.read")), "two edges from a"),
        (
            (Edge("go", ("a",), "b", "stats.read"), Edge("go", ("b",), "c", "records.read")),
            "must not depend on the state",
        ),
        (
            (Edge("go", ("a",), "b", "stats.read"), Edge("go", ("b",), "c", "stats.read", needs_reason=True)),
            "must not depend on the state",
        ),
        ((Edge("go", ("a",), "b", "stats.read", effects={"quota": "steal"}),), "unknown effect quota: steal"),
    ],
)
def test_a_malformed_table_is_refused_when_it_is_declared(edges, problem):
    with pytest.raises(ValueError, match=problem):
        table(*edges)


def test_the_markdown_row_says_action_reason_and_effects():
    t = table(Edge("go", ("a", "b"), None, "stats.read", needs_reason=True, effects={"quota": "use"}, note="n"))
    assert "| `go` | `a`, `b` | (stays) | `stats.read` | required | quota: **use** | n |" in t.to_markdown()


def test_every_module_declaring_use_cases_is_listed_for_the_generated_page():
    """A module whose use cases the page does not import would be missing from docs/lifecycles.md."""
    package = ROOT / "src" / "regionvisa"
    declaring = {
        ".".join(path.relative_to(package).with_suffix("").parts)
        for path in package.rglob("*.py")
        if "\n@use_case(" in path.read_text(encoding="utf-8")
        or "    return use_case(" in path.read_text(encoding="utf-8")
    }
    assert declaring, "no module declares a use case: the search is wrong"
    assert declaring - {"core.usecase"} <= set(USE_CASE_MODULES)
