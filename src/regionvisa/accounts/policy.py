"""The one permission policy: action × role × scope, used by the API, the pages and the CLI.

- `POLICY` is the table. A role either lacks an action, holds it for `all` regions, or holds
  it for its `own_region` only (regional officials, who are bound to exactly one region).
- `authorize(user, action, region=None)` raises `Unauthenticated` (401) when there is no user
  and `Forbidden` (403) when the role lacks the action or the region is outside its scope.
- `scope_region(user, requested, action=…)` turns a requested region filter into the one a
  query must use: a regional official gets their own region (or 403 for another one).
- `PUBLIC_ROUTES` names the routes anyone may call. The FastAPI side, `require(action)` and the
  walk over the app's routes, is `regionvisa.web.deps`: this module imports no web framework.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from regionvisa.core.actor import ROLES, SYSTEM_PREFIX, Actor, Role, ensure_actor
from regionvisa.core.errors import Forbidden, Unauthenticated
from regionvisa.core.text import NP_
from regionvisa.web import i18n

REGION_BOUND_ROLES = frozenset({Role.REGIONAL_OFFICIAL})

ALL = "all"
OWN_REGION = "own_region"


@dataclass(frozen=True)
class Action:
    name: str
    description: str
    region_scoped: bool  # True when the data it guards belongs to a region


# The descriptions are message ids: a refusal names the action in the reader's language.
PERMISSION_CONTEXT = "permission"


def _a(name: str, description: str, region_scoped: bool = False) -> Action:
    return Action(name, description, region_scoped)


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        _a("account.self", NP_("permission", "see one's own account and change one's own password")),
        _a("tokens.manage", NP_("permission", "create and revoke one's own API tokens")),
        _a("users.manage", NP_("permission", "create, change and disable users; revoke anyone's tokens")),
        _a("audit.read", NP_("permission", "read and verify the audit log")),
        _a("audit.anchor", NP_("permission", "anchor the audit log's head in the log itself (system only)")),
        _a(
            "keys.rotate",
            NP_("permission", "re-encrypt stored personal data and documents under the current key (system only)"),
        ),
        _a("stats.read", NP_("permission", "resident statistics of a region"), region_scoped=True),
        _a(
            "records.read",
            NP_("permission", "read the immigration records of people (never names or passports)"),
            region_scoped=True,
        ),
        _a("records.import", NP_("permission", "import record feeds")),
        _a("programs.read", NP_("permission", "read programme designs"), region_scoped=True),
        _a(
            "programs.screen_file",
            NP_("permission", "screen a whole file of applicants in one request"),
            region_scoped=True,
        ),
        _a("programs.edit_draft", NP_("permission", "write and change draft programme designs"), region_scoped=True),
        _a("programs.approve", NP_("permission", "approve and publish programme designs")),
        _a("applications.read", NP_("permission", "read applications"), region_scoped=True),
        _a("applications.recommend", NP_("permission", "recommend applicants as the region"), region_scoped=True),
        _a("applications.decide", NP_("permission", "screen applications and decide on them")),
        _a("applications.benefit", NP_("permission", "set a region's simplified-procedure benefit")),
        _a(
            "applications.passport",
            NP_("permission", "see an applicant's whole passport number on the application's own page"),
        ),
        _a(
            "applications.search",
            NP_(
                "permission",
                "see applicants' names and search applications by name or passport number (each search audited)",
            ),
            region_scoped=True,
        ),
        _a("quotas.read", NP_("permission", "read quota ledgers"), region_scoped=True),
        _a("quotas.adjust", NP_("permission", "change quotas")),
        _a(
            "quotas.reallocate",
            NP_("permission", "reallocate unused quota places between ledgers mid-year (propose and apply)"),
        ),
        _a("compliance.read", NP_("permission", "read compliance findings"), region_scoped=True),
        _a("cases.act", NP_("permission", "open and act on enforcement cases")),
        _a("evaluation.read", NP_("permission", "read evaluation results"), region_scoped=True),
        _a("evaluation.publish", NP_("permission", "run and publish the annual evaluation")),
        _a("committee.score", NP_("permission", "score proposals as a committee member (with recusal)")),
        _a(
            "selection.committee_view",
            NP_(
                "permission",
                "see a round as its committee does: only once seated, never a region one is recused from, "
                "only one's own scores until scoring closes",
            ),
        ),
        _a("selection.read", NP_("permission", "read selection rounds and the proposals in them"), region_scoped=True),
        _a(
            "proposals.submit",
            NP_("permission", "submit the region's proposal to a selection round"),
            region_scoped=True,
        ),
        _a("selection.manage", NP_("permission", "run selection rounds and record decisions")),
        _a(
            "outcomes.read",
            NP_(
                "permission",
                "read the pilot outcome report: programme holders beside a comparison group of non-pilot holders",
            ),
            region_scoped=True,
        ),
        _a("jobs.read", NP_("permission", "follow long work (jobs); each job only for those who may see its result")),
        _a("jobs.cancel", NP_("permission", "cancel long work (jobs) one may see, in one's scope"), region_scoped=True),
    )
}

# action -> role -> scope. A missing role means the role lacks the action.
POLICY: dict[str, dict[str, str]] = {
    "account.self": {r: ALL for r in ROLES},
    "tokens.manage": {r: ALL for r in ROLES},
    "users.manage": {Role.MINISTRY_ADMIN: ALL},
    "audit.read": {Role.AUDITOR: ALL},
    "audit.anchor": {},
    "keys.rotate": {},
    "stats.read": {
        Role.MINISTRY_ADMIN: ALL,
        Role.MINISTRY_OFFICER: ALL,
        Role.REGIONAL_OFFICIAL: OWN_REGION,
        Role.COMMITTEE_MEMBER: ALL,
        Role.AUDITOR: ALL,
    },
    "records.read": {
        Role.MINISTRY_ADMIN: ALL,
        Role.MINISTRY_OFFICER: ALL,
        Role.REGIONAL_OFFICIAL: OWN_REGION,
        Role.AUDITOR: ALL,
    },
    "records.import": {Role.MINISTRY_ADMIN: ALL, Role.MINISTRY_OFFICER: ALL},
    "programs.read": {
        Role.MINISTRY_ADMIN: ALL,
        Role.MINISTRY_OFFICER: ALL,
        Role.REGIONAL_OFFICIAL: OWN_REGION,
        Role.COMMITTEE_MEMBER: ALL,
        Role.AUDITOR: ALL,
    },
    # Batch screening of files is work for those who screen and recommend applicants; committee
    # members and auditors read designs and screen single applicants (JSON) but send no files.
    "programs.screen_file": {Role.MINISTRY_ADMIN: ALL, Role.MINISTRY_OFFICER: ALL, Role.REGIONAL_OFFICIAL: OWN_REGION},
    "programs.edit_draft": {Role.MINISTRY_OFFICER: ALL, Role.REGIONAL_OFFICIAL: OWN_REGION},
    "programs.approve": {Role.MINISTRY_ADMIN: ALL, Role.MINISTRY_OFFICER: ALL},
    "applications.read": {
        Role.MINISTRY_ADMIN: ALL,
        Role.MINISTRY_OFFICER: ALL,
        Role.REGIONAL_OFFICIAL: OWN_REGION,
        Role.AUDITOR: ALL,
    },
    "applications.recommend": {Role.REGIONAL_OFFICIAL: OWN_REGION},
    "applications.decide": {Role.MINISTRY_ADMIN: ALL, Role.MINISTRY_OFFICER: ALL},
    "applications.benefit": {Role.MINISTRY_ADMIN: ALL},
    "applications.passport": {Role.MINISTRY_ADMIN: ALL, Role.MINISTRY_OFFICER: ALL},
    "applications.search": {Role.REGIONAL_OFFICIAL: OWN_REGION, Role.MINISTRY_ADMIN: ALL, Role.MINISTRY_OFFICER: ALL},
    "quotas.read": {
        Role.MINISTRY_ADMIN: ALL,
        Role.MINISTRY_OFFICER: ALL,
        Role.REGIONAL_OFFICIAL: OWN_REGION,
        Role.COMMITTEE_MEMBER: ALL,
        Role.AUDITOR: ALL,
    },
    "quotas.adjust": {Role.MINISTRY_ADMIN: ALL, Role.MINISTRY_OFFICER: ALL},
    "quotas.reallocate": {Role.MINISTRY_ADMIN: ALL, Role.MINISTRY_OFFICER: ALL},
    "compliance.read": {
        Role.MINISTRY_ADMIN: ALL,
        Role.MINISTRY_OFFICER: ALL,
        Role.REGIONAL_OFFICIAL: OWN_REGION,
        Role.AUDITOR: ALL,
    },
    "cases.act": {Role.MINISTRY_ADMIN: ALL, Role.MINISTRY_OFFICER: ALL},
    "evaluation.read": {
        Role.MINISTRY_ADMIN: ALL,
        Role.MINISTRY_OFFICER: ALL,
        Role.REGIONAL_OFFICIAL: OWN_REGION,
        Role.COMMITTEE_MEMBER: ALL,
        Role.AUDITOR: ALL,
    },
    "evaluation.publish": {Role.MINISTRY_ADMIN: ALL, Role.MINISTRY_OFFICER: ALL},
    "committee.score": {Role.COMMITTEE_MEMBER: ALL},
    "selection.committee_view": {Role.COMMITTEE_MEMBER: ALL},
    "selection.read": {
        Role.MINISTRY_ADMIN: ALL,
        Role.MINISTRY_OFFICER: ALL,
        Role.REGIONAL_OFFICIAL: OWN_REGION,
        Role.COMMITTEE_MEMBER: ALL,
        Role.AUDITOR: ALL,
    },
    "proposals.submit": {Role.REGIONAL_OFFICIAL: OWN_REGION},
    "selection.manage": {Role.MINISTRY_ADMIN: ALL, Role.MINISTRY_OFFICER: ALL},
    # The continue-or-stop report is national reading for the ministry, the committee and the
    # auditors; a regional official reads the rows of their own region.
    "outcomes.read": {
        Role.MINISTRY_ADMIN: ALL,
        Role.MINISTRY_OFFICER: ALL,
        Role.REGIONAL_OFFICIAL: OWN_REGION,
        Role.COMMITTEE_MEMBER: ALL,
        Role.AUDITOR: ALL,
    },
    # Whose jobs one sees is decided per job by the action its result needs (jobs.subjects).
    "jobs.read": {r: ALL for r in ROLES},
    "jobs.cancel": {Role.MINISTRY_ADMIN: ALL, Role.MINISTRY_OFFICER: ALL, Role.REGIONAL_OFFICIAL: OWN_REGION},
}


def _check_table() -> None:
    assert set(POLICY) == set(ACTIONS), set(POLICY) ^ set(ACTIONS)
    for name, actions in SYSTEM_GRANTS.items():
        assert actions <= EVERY_ACTION, (name, actions - EVERY_ACTION)
    for action, grants in POLICY.items():
        for role, scope in grants.items():
            assert role in ROLES, (action, role)
            assert scope in (ALL, OWN_REGION), (action, role, scope)
            assert scope == ALL or ACTIONS[action].region_scoped, f"{action}: own_region on an unscoped action"
            if role in REGION_BOUND_ROLES and ACTIONS[action].region_scoped:
                assert scope == OWN_REGION, f"{action}: a region-bound role must be scoped to its region"


# --------------------------------------------------------------------------- system actors

# The system acts under declared names only, each with the actions it holds (in every region).
# `system_actor(name)` refuses any other name, so an actor cannot be made up on the way.
EVERY_ACTION = frozenset(ACTIONS)
SYSTEM_GRANTS: dict[str, frozenset[str]] = {
    # The operator's console: whoever runs it holds the database credentials, so the table cannot
    # stop them; every change is still recorded under "system:cli:<login>". `--as USER` acts as
    # that user instead, under the user's own grants.
    # The console shows passports masked: the whole number is for an officer's own page (`--as`).
    # The system sees a selection round as the ministry does, never through a committee seat.
    "cli": EVERY_ACTION - {"applications.passport", "selection.committee_view"},
    # `regionvisa demo` builds the demonstration database from nothing.
    "demo": EVERY_ACTION - {"applications.passport", "selection.committee_view"},
    # A compliance run opens, updates and closes the enforcement cases its findings call for.
    "compliance": frozenset({"compliance.read", "cases.act"}),
    # Publishing an evaluation sets each region's simplified-procedure benefit from its grade.
    "evaluation-publication": frozenset({"evaluation.read", "applications.benefit"}),
    "simplified-procedure": frozenset({"applications.read", "applications.benefit"}),
    # Synthetic national records are loaded like a records import.
    "synth": frozenset({"records.import"}),
    # Key rotation re-encrypts stored personal data and documents under the current key.
    "keys": frozenset({"keys.rotate"}),
    # Log-in attempts under a name no account has are recorded under this actor; it holds nothing.
    "sign-in": frozenset(),
    # The job workers' own bookkeeping: a job whose worker died is retried or marked failed.
    "jobs": frozenset({"jobs.read", "jobs.cancel"}),
    # The audit log's own maintenance (anchoring checkpoints).
    "audit": frozenset({"audit.read", "audit.anchor"}),
}


_check_table()


def system_actor(name: str, *, detail: str | None = None) -> Actor:
    """The declared system actor `name` ("system:<name>" or "system:<name>:<detail>" in the log)."""
    if name not in SYSTEM_GRANTS:
        raise Forbidden(
            en=f"unknown system actor {name!r}; declare it in accounts.policy.SYSTEM_GRANTS",
            ko=f"등록되지 않은 시스템 행위자입니다 ({name})",
        )
    username = SYSTEM_PREFIX + name + (f":{detail}" if detail else "")
    return Actor(id=None, username=username, display_name=username, role=None, via="system")


def grant(user: Actor | None, action: str) -> str | None:
    """The scope `user` holds `action` with (`all`, `own_region`) or None."""
    if action not in ACTIONS:
        raise KeyError(f"unknown action {action!r}; declare it in accounts.policy.ACTIONS")
    if user is None:
        return None
    if user.is_system:
        return ALL if action in SYSTEM_GRANTS.get(user.system_name or "", ()) else None
    if user.role not in ROLES:
        return None
    return POLICY[action].get(user.role)


def can(user: Actor | None, action: str, region: str | None = None) -> bool:
    try:
        authorize(user, action, region)
    except (Forbidden, Unauthenticated):
        return False
    return True


def authorize(user: Any, action: str, region: str | None = None) -> str:
    """Allow or raise. With `region`, also check that the region is inside the user's scope.

    Returns the scope held (`all` or `own_region`). Without `region`, an `own_region` grant
    passes: the caller must then filter its query with `scope_region`.
    """
    if action not in ACTIONS:
        raise KeyError(f"unknown action {action!r}; declare it in accounts.policy.ACTIONS")
    if user is None:
        raise Unauthenticated()
    user = ensure_actor(user)  # a name or anything else that is not an Actor cannot act
    scope = grant(user, action)
    if scope is None:
        raise refusal(action)
    if scope == OWN_REGION and region is not None and region != user.region:
        raise Forbidden(
            en="this belongs to another region than yours",
            ko="담당 지역이 아닌 지역의 정보입니다",
        )
    return scope


def refusal(action: str) -> Forbidden:
    """The 403 for a role that lacks `action`, naming what the action does (not its id)."""
    description = ACTIONS[action].description
    return Forbidden(
        en=f"your role may not do this: {description}",
        ko=f"이 작업을 할 권한이 없습니다: {i18n.translate('ko', description, context=PERMISSION_CONTEXT)}",
    )


def scope_region(user: Actor | None, requested: str | None, *, action: str) -> str | None:
    """The region a query for `action` must be filtered by; None means every region.

    A user with an `all` grant gets what they asked for. A regional official gets their own
    region whether they asked for it or not, and a 403 when they ask for another one.
    """
    scope = authorize(user, action, requested)
    if scope == OWN_REGION:
        assert user is not None and user.region, "a region-scoped grant needs a region"
        return user.region
    return requested


# --------------------------------------------------------------------------- routes

# Routes anyone may call (every method of the path). Aggregate statistics carry no personal
# data, so the national overview and the national statistics endpoint are public on purpose;
# so is eligibility matching, which reads only the applicant's own answers and published
# programmes (rate-limited per client address: accounts.ratelimit), and the catalogue of
# applicant fields and rule operators, which describes the rule language and holds no data.
# A public state-changing route must still declare `Depends(web.deps.check_csrf)`.
PUBLIC_ROUTES: frozenset[str] = frozenset(
    {
        "/",
        "/login",
        "/logout",
        "/static",
        "/api/v1/health",
        "/api/v1/openapi.json",
        "/api/v1/docs",
        "/api/v1/redoc",
        "/docs/oauth2-redirect",
        "/api/v1/stats/residents",
        "/match",
        "/api/v1/match",
        "/api/v1/rules/fields",
    }
)
PUBLIC = "public"  # what `web.deps.route_policy` answers for a route in PUBLIC_ROUTES


def policy_table() -> list[dict]:
    """The table as rows (for docs and the API)."""
    return [
        {"action": name, "description": action.description, "grants": dict(POLICY[name])}
        for name, action in ACTIONS.items()
    ]


SCOPE_MARKS = {ALL: "all", OWN_REGION: "own region"}


def _grants_text(actions: frozenset[str]) -> str:
    if actions == EVERY_ACTION:
        return "every action"
    if len(actions) > len(EVERY_ACTION) / 2:
        return "every action but " + ", ".join(f"`{a}`" for a in sorted(EVERY_ACTION - actions))
    return ", ".join(f"`{a}`" for a in sorted(actions))


def policy_markdown() -> str:
    """The table as Markdown: docs/permissions.md is this text (`regionvisa users policy`)."""
    lines = [
        "# Permissions",
        "",
        "Generated from `regionvisa.accounts.policy.POLICY` by `regionvisa users policy > docs/permissions.md`;",
        "a test fails when this file and the table differ. The API serves the same table at `GET /api/v1/policy`.",
        "",
        "Each cell is the scope a role holds an action with: **all** regions, its **own region** only",
        "(regional officials, bound to one region), or nothing (–). Every route declares one action",
        "(`Depends(require(action))`) or is public; the pages, the API and the command line (`--as USER`)",
        "check the same table.",
        "",
        "| action | what it allows | " + " | ".join(f"`{r}`" for r in ROLES) + " |",
        "|---|---|" + "---|" * len(ROLES),
    ]
    for name, action in ACTIONS.items():
        cells = [SCOPE_MARKS.get(POLICY[name].get(role, ""), "–") for role in ROLES]
        lines.append(f"| `{name}` | {action.description} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## System actors",
        "",
        "The system acts only under these declared names (`accounts.policy.system_actor`), each holding",
        "its actions in every region; the audit log names it `system:<name>` (the command line adds the",
        "operator's login). A plain string, or any other name, cannot act.",
        "",
        "| system actor | actions |",
        "|---|---|",
        *[f"| `{name}` | {_grants_text(actions)} |" for name, actions in SYSTEM_GRANTS.items()],
        "",
        "## Public routes",
        "",
        "Anyone may call these, signed in or not (every method of the path):",
        "",
        *[f"- `{path}`" for path in sorted(PUBLIC_ROUTES)],
        "",
    ]
    return "\n".join(lines)
