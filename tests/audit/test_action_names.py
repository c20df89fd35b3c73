"""Audit action names: one scheme, one documented list, older names still found by filters."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from tests.actors import OFFICER

from regionvisa import lifecycles
from regionvisa.applications.lifecycle import APPLICATIONS
from regionvisa.audit import names
from regionvisa.audit.service import Filters, record, search
from regionvisa.compliance.lifecycle import COMPLIANCE_CASES
from regionvisa.core.usecase import USE_CASES
from regionvisa.db import session_scope
from regionvisa.jobs.models import FINAL_STATES
from regionvisa.programs.lifecycle import PROGRAM_STATUSES, PROGRAMME_VERSIONS

ROOT = Path(__file__).resolve().parents[2]
SCHEME = re.compile(r"[a-z]+\.[a-z_]+(\.automatic)?")
# `action=`/`audit=` keywords of record(), Done() and use cases, and the name constants
NAMED = re.compile(r"""(?:\b(?:action|audit|[A-Z_]*ACTION)\s*=|"action":)\s*(f?)("[^"\n]*"|\{[^}\n]*\}[^,\n]*)""")
NOT_RECORDED = ("@use_case(", "require(", "order=", "readable_design(", "scope_region(", "authorize(", "can(")
# Use cases whose body always names its entry (`Done(action=…)`): their policy action is never written.
NAMED_BY_BODY = {"applications.decide", "applications.recommend", "cases.act", "proposals.submit", "users.manage"}
TEMPLATES = {  # the names built at run time, with every value they take
    "application.{move}": {e.move for e in APPLICATIONS.edges},
    "program.{move}": {e.move for e in PROGRAMME_VERSIONS.edges},
    "program.{status}": set(PROGRAM_STATUSES),
    "jobs.{state}": set(FINAL_STATES),
    "compliance.case_{action}": {e.move for e in COMPLIANCE_CASES.edges},
}


def _shape(template: str) -> str:
    return re.sub(r"\{[a-z_]+\}", "{x}", template)


def recorded_names() -> set[str]:
    """Every action name the code can write: use cases, then literal and templated names in the source."""
    for module in lifecycles.USE_CASE_MODULES:
        importlib.import_module(module if module.startswith("regionvisa") else f"regionvisa.{module}")
    package = ROOT / "src" / "regionvisa"
    ours = [u for u in USE_CASES.values() if (package / u.name.split(".")[0]).is_dir()]  # not a test's own
    declared = {u.audit_action or u.action for u in ours}
    found = {n for n in declared if isinstance(n, str) and re.fullmatch(r"[a-z_]+\.[a-z_.]+", n)} - NAMED_BY_BODY
    for path in (ROOT / "src" / "regionvisa").rglob("*.py"):
        if path.name in {"policy.py", "nav.py"} or (path.parent.name == "audit" and path.name == "names.py"):
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if any(marker in line for marker in NOT_RECORDED):
                continue
            for _f, value in NAMED.findall(line):
                for literal in re.findall(r'"([a-z_]+\.[a-z_.{}]+)"', value):
                    if "{" in literal:
                        template = literal.split('"')[0]
                        values = next((v for t, v in TEMPLATES.items() if _shape(t) == _shape(template)), None)
                        assert values, f"{path.name}: a templated action name the test does not know: {literal}"
                        found |= {re.sub(r"\{[a-z_]+\}", v, template) for v in values}
                    else:
                        found.add(literal)
    found |= {f"application.{m}.automatic" for m in ("approve",)}
    return found


def test_every_recorded_name_is_in_the_documented_list():
    found = recorded_names()
    assert {"auth.login", "application.approve", "applications.benefit.simplified", "users.disable"} <= found
    missing = sorted(n for n in found if names.canonical(n) not in names.ACTIONS)
    assert not missing, f"recorded but not in audit/names.py ACTIONS: {missing}"


def test_the_list_follows_the_scheme_and_the_docs_hold_it():
    bad = [n for n in names.ACTIONS if not SCHEME.fullmatch(n)]
    assert not bad, bad
    assert all(names.canonical(n) == n for n in names.ACTIONS)
    assert all(SCHEME.fullmatch(new) and new in names.ACTIONS for new in names.RENAMED.values())
    doc = (ROOT / "docs" / "audit.md").read_text(encoding="utf-8")
    section = doc.split("<!-- audit-actions:start -->\n")[1].split("<!-- audit-actions:end -->")[0]
    assert section == names.markdown(), "docs/audit.md is stale: python -m regionvisa.audit.names"


def test_older_names_map_into_the_scheme():
    assert names.canonical("application.approve") == "applications.approve"
    assert names.canonical("application.approve.automatic") == "applications.approve.automatic"
    assert names.canonical("applications.benefit.simplified") == "applications.set_simplified"
    assert names.canonical("quota.adjust") == "quotas.adjust"
    assert names.canonical("users.create") == "users.create"
    assert names.spellings("applications.approve") == {"applications.approve", "application.approve"}


def _log(engine, *actions: str) -> None:
    with session_scope(engine=engine) as session:
        for i, action in enumerate(actions):
            record(session=session, actor=OFFICER, action=action, subject=("application", i), reason=f"r{i}")


def _found(engine, action: str) -> list[str]:
    with session_scope(engine=engine) as session:
        _total, items = search(session=session, filters=Filters(action=action), offset=0, limit=100)
    return sorted(e["action"] for e in items)


def test_filters_find_old_and_new_names(engine):
    _log(
        engine,
        "application.approve",
        "application.approve.automatic",
        "applications.approve",
        "applications.benefit.simplified",
        "application.reject",
        "quota.adjust",
    )
    approvals = ["application.approve", "application.approve.automatic", "applications.approve"]
    assert _found(engine, "applications.approve*") == approvals
    assert _found(engine, "application.approve*") == approvals
    assert _found(engine, "applications.approve") == ["application.approve", "applications.approve"]
    every = [*approvals, "application.reject", "applications.benefit.simplified"]
    assert _found(engine, "application.*") == sorted(every)
    assert _found(engine, "applications.*") == sorted(every)
    assert _found(engine, "applications.set_simplified") == ["applications.benefit.simplified"]
    assert _found(engine, "quotas.*") == ["quota.adjust"]


def test_audit_page_lists_the_names_and_shows_current_ones(client, login, engine, role_users):
    _log(engine, "application.approve")
    login(client, "t.auditor")
    listing = client.get("/audit/actions?lang=en")
    assert listing.status_code == 200 and "<code>applications.approve</code>" in listing.text
    assert "<code>application.approve</code>" in listing.text  # its older name
    page = client.get("/audit?action=applications.approve&lang=en")
    assert "<code>applications.approve</code>" in page.text and "recorded as" in page.text
