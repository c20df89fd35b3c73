"""The permission table and its functions, without the web."""

from __future__ import annotations

import pytest

from regionvisa.accounts import nav, policy
from regionvisa.accounts.policy import ACTIONS, ALL, OWN_REGION, POLICY, ROLES, Actor, authorize, can, scope_region
from regionvisa.core.errors import Forbidden, Unauthenticated
from regionvisa.web.deps import require


def user(role: str | None, region: str | None = None) -> Actor:
    return Actor(id=1, username=f"u.{role}", display_name="U", role=role, region=region)


BUSAN = user("regional_official", "26")
OFFICER = user("ministry_officer")
ADMIN = user("ministry_admin")
AUDITOR = user("auditor")
COMMITTEE = user("committee_member")

PLACEHOLDERS = [
    "programs.read",
    "programs.edit_draft",
    "programs.approve",
    "applications.read",
    "applications.recommend",
    "applications.decide",
    "quotas.read",
    "quotas.adjust",
    "compliance.read",
    "cases.act",
    "evaluation.read",
    "evaluation.publish",
    "committee.score",
    "selection.read",
    "proposals.submit",
    "selection.manage",
]


def test_table_covers_every_action_role_and_scope():
    assert set(POLICY) == set(ACTIONS)
    assert {"stats.read", "records.import", "records.read", "users.manage", "audit.read", "tokens.manage"} <= set(
        ACTIONS
    )
    assert set(PLACEHOLDERS) <= set(ACTIONS)
    assert set(ROLES) == {"ministry_admin", "ministry_officer", "regional_official", "committee_member", "auditor"}
    for grants in POLICY.values():
        assert set(grants) <= set(ROLES)
        assert set(grants.values()) <= {ALL, OWN_REGION}


def test_regional_officials_are_always_scoped_to_their_region():
    for name, action in ACTIONS.items():
        scope = POLICY[name].get("regional_official")
        if scope and action.region_scoped:
            assert scope == OWN_REGION, name
    assert policy.grant(BUSAN, "stats.read") == OWN_REGION


def test_auditor_reads_everything_and_changes_nothing_but_own_tokens():
    for name in ACTIONS:
        scope = policy.grant(AUDITOR, name)
        reading = name.endswith(".read")
        if reading:
            assert scope == ALL, name
        elif name not in ("account.self", "tokens.manage"):
            assert scope is None, name


def test_audit_log_is_for_auditors_only():
    assert [r for r in ROLES if policy.grant(user(r, "26" if r == "regional_official" else None), "audit.read")] == [
        "auditor"
    ]


def test_authorize_raises_401_403_and_returns_the_scope():
    with pytest.raises(Unauthenticated):
        authorize(None, "stats.read")
    with pytest.raises(Forbidden):
        authorize(BUSAN, "users.manage")
    with pytest.raises(Forbidden):
        authorize(COMMITTEE, "records.read")
    assert authorize(OFFICER, "records.read", "11") == ALL
    assert authorize(BUSAN, "records.read", "26") == OWN_REGION
    assert authorize(BUSAN, "records.read") == OWN_REGION  # caller must then filter with scope_region
    with pytest.raises(Forbidden) as info:
        authorize(BUSAN, "records.read", "11")
    assert info.value.status == 403 and "another region" in info.value.en
    # the system actor (no role) holds nothing through the policy
    with pytest.raises(Forbidden):
        authorize(user(None), "stats.read")
    with pytest.raises(KeyError):
        authorize(OFFICER, "no.such.action")


def test_scope_region_filters_for_regional_officials():
    assert scope_region(OFFICER, None, action="records.read") is None
    assert scope_region(OFFICER, "11", action="records.read") == "11"
    assert scope_region(BUSAN, None, action="records.read") == "26"
    assert scope_region(BUSAN, "26", action="records.read") == "26"
    with pytest.raises(Forbidden):
        scope_region(BUSAN, "11", action="records.read")
    with pytest.raises(Unauthenticated):
        scope_region(None, None, action="records.read")


def test_can_is_a_boolean_authorize():
    assert can(ADMIN, "users.manage") and not can(OFFICER, "users.manage")
    assert can(BUSAN, "applications.recommend", "26") and not can(BUSAN, "applications.recommend", "11")
    assert not can(OFFICER, "applications.recommend")


def test_require_is_one_dependency_per_action():
    dep = require("stats.read")
    assert dep is require("stats.read")
    assert dep.policy_action == "stats.read"
    with pytest.raises(KeyError):
        require("stats.write")


def test_navigation_is_built_from_the_policy():
    def hrefs(u):
        return [item["href"] for item in nav.build_nav(u, "/")]

    public = [e.href for e in nav.NAV if e.action is None]
    assert hrefs(None) == public and public[0] == "/" and "/account" not in public
    busan = hrefs(BUSAN)
    assert busan[0] == "/" and "/account" in busan
    assert "/regions/26" in busan and "/regions" not in busan
    assert len(busan) == len(public) + sum(1 for e in nav.NAV if e.action and policy.grant(BUSAN, e.action))
    assert "/audit" in hrefs(AUDITOR) and "/admin/users" not in hrefs(AUDITOR)
    assert "/admin/users" in hrefs(ADMIN) and "/audit" not in hrefs(ADMIN)
    current = [i for i in nav.build_nav(AUDITOR, "/audit/verify") if i["current"]]
    assert [i["href"] for i in current] == ["/audit"]


def test_selection_actions_and_public_matching():
    for role in ("ministry_admin", "ministry_officer", "committee_member", "auditor"):
        assert policy.grant(user(role), "selection.read") == ALL, role
    assert policy.grant(BUSAN, "selection.read") == OWN_REGION
    assert can(BUSAN, "selection.read", "26") and not can(BUSAN, "selection.read", "11")
    assert [r for r in ROLES if POLICY["proposals.submit"].get(r)] == ["regional_official"]
    assert can(BUSAN, "proposals.submit", "26") and not can(BUSAN, "proposals.submit", "11")
    assert {"/match", "/api/v1/match"} <= policy.PUBLIC_ROUTES
