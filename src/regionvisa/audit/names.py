"""The names of audit actions: one scheme, one list, and the older names they replace.

Scheme: `<domain>.<verb>`, where `<domain>` is the first part of the permission table's actions
(`applications`, `programs`, `quotas`, …, plural as in `applications.decide`) and `<verb>` is one
lower-case word or words joined by `_` (`approve`, `case_open`, `set_password`); a step the
system takes on its own after a person's (the simplified procedure's approval) adds `.automatic`.
So `applications.approve*` finds every approval, by a person or not.

Entries already written keep the name they were written with: each is part of the HMAC chain,
and rewriting it would break the chain. `ALIASES` maps every older name to its name in the
scheme, so a filter by either name finds both, and the audit page shows the current name.
`python -m regionvisa.audit.names` prints the list that docs/audit.md holds.
"""

from __future__ import annotations

import sys

from regionvisa.core.text import N_

# Every action name the code records, in the scheme, with what it records (a message id: the
# audit pages show it in the page's language).
ACTIONS: dict[str, str] = {
    "auth.login": N_("a person signed in"),
    "auth.login_failed": N_("a sign-in was refused (wrong name or password)"),
    "auth.lockout": N_("an account was locked after repeated refused sign-ins"),
    "auth.logout": N_("a person signed out"),
    "users.create": N_("an account was created"),
    "users.update": N_("an account's name, role or region was changed"),
    "users.enable": N_("an account was enabled again"),
    "users.disable": N_("an account was retired (disabled)"),
    "users.set_password": N_("a password was set"),
    "tokens.create": N_("an API token was issued"),
    "tokens.revoke": N_("an API token was revoked"),
    "audit.anchor": N_("a signed checkpoint of the audit chain was written"),
    "applications.submit": N_("an application was submitted"),
    "applications.import": N_("applications were imported from a file"),
    "applications.document": N_("a supporting document was uploaded"),
    "applications.screen": N_("an application was screened (on submission)"),
    "applications.screen.automatic": N_("an application was screened by the system"),
    "applications.rescreen": N_("an application was screened again"),
    "applications.recommend": N_("a region recommended an application"),
    "applications.return": N_("a region returned an application"),
    "applications.approve": N_("the ministry approved an application"),
    "applications.approve.automatic": N_("an application was approved under the simplified procedure"),
    "applications.reject": N_("the ministry rejected an application"),
    "applications.issue": N_("a visa was issued"),
    "applications.withdraw": N_("an application was withdrawn"),
    "applications.cancel": N_("an approval or a visa was cancelled"),
    "applications.override_documents": N_("a ministry officer let a decision go ahead with documents missing"),
    "applications.set_simplified": N_("a region's simplified procedure was switched on or off"),
    "applications.search": N_("applications were searched by applicant name or passport (keyed digests only)"),
    "programs.draft": N_("a programme version was stored as a draft"),
    "programs.update_draft": N_("a programme draft was changed"),
    "programs.submitted": N_("a programme version was stored as submitted"),
    "programs.approved": N_("a programme version was stored as approved"),
    "programs.published": N_("a programme version was stored as published"),
    "programs.retired": N_("a programme version was stored as retired"),
    "programs.submit": N_("a programme version was submitted"),
    "programs.approve": N_("a programme version was approved"),
    "programs.publish": N_("a programme version was published"),
    "programs.reopen": N_("a programme version was reopened for changes"),
    "programs.retire": N_("a programme version was retired"),
    "quotas.allocate": N_("a quota ledger was opened"),
    "quotas.adjust": N_("a quota was topped up or reduced"),
    "quotas.close": N_("a quota ledger was closed"),
    "quotas.reallocate": N_("unused places were moved between regions"),
    "records.import": N_("immigration records were imported"),
    "records.synthesise": N_("synthetic records were generated"),
    "records.rotate_keys": N_("the encryption key of personal data was rotated"),
    "compliance.run": N_("a compliance run was stored"),
    "compliance.case_open": N_("a compliance case was opened"),
    "compliance.case_review": N_("a compliance case was reviewed"),
    "compliance.case_resolve": N_("a compliance case was resolved"),
    "compliance.case_note": N_("a note was added to a compliance case"),
    "compliance.case_close": N_("a compliance case was closed"),
    "compliance.case_finding_back": N_("a resolved finding came back"),
    "compliance.case_finding_gone": N_("a finding no longer holds"),
    "evaluation.run": N_("an evaluation was run"),
    "evaluation.publish": N_("an evaluation was published"),
    "evaluation.benefit": N_("a published evaluation set a region's benefits"),
    "evaluation.committee_member": N_("an evaluation committee member was added or removed"),
    "evaluation.committee_score": N_("a committee score was entered"),
    "evaluation.quota_plan": N_("next year's quotas were proposed"),
    "evaluation.quota_confirm": N_("next year's quotas were confirmed"),
    "selection.open_round": N_("a selection round was opened"),
    "selection.add_member": N_("a committee member was added to a round"),
    "selection.declare_conflicts": N_("a member declared conflicts of interest"),
    "selection.recusal": N_("a member was recused from a region's proposal"),
    "selection.submit_proposal": N_("a region submitted a proposal"),
    "selection.revise_proposal": N_("a region revised its proposal"),
    "selection.close_window": N_("a round's submission window was closed"),
    "selection.score": N_("a member saved scores"),
    "selection.close_scoring": N_("a round's scoring was closed"),
    "selection.reopen_scoring": N_("a round's scoring was reopened"),
    "selection.decide": N_("the committee decided a region"),
    "selection.decide_round": N_("the committee confirmed a round's decisions"),
    "outcomes.run": N_("a pilot outcome report run was stored"),
    "jobs.start": N_("a background job was started"),
    "jobs.finish": N_("a background job finished"),
    "jobs.succeeded": N_("a background job succeeded"),
    "jobs.failed": N_("a background job failed"),
    "jobs.cancelled": N_("a background job was cancelled"),
    "jobs.cancel": N_("cancelling a background job was asked for"),
    "jobs.retry": N_("a background job was started again after its worker was lost"),
}

# Older names, as entries written before the scheme hold them, and their names in the scheme.
RENAMED: dict[str, str] = {
    "applications.benefit.simplified": "applications.set_simplified",
    "program.draft.update": "programs.update_draft",
    "records.keys.rotate": "records.rotate_keys",
    "selection.round.open": "selection.open_round",
    "selection.member.add": "selection.add_member",
    "selection.conflicts.declare": "selection.declare_conflicts",
    "selection.proposal.submit": "selection.submit_proposal",
    "selection.proposal.revise": "selection.revise_proposal",
    "selection.window.close": "selection.close_window",
    "selection.scoring.close": "selection.close_scoring",
    "selection.scoring.reopen": "selection.reopen_scoring",
    "selection.round.decide": "selection.decide_round",
}
# Older singular domains: every name under them moved to the plural one.
PREFIX_RENAMED: dict[str, str] = {"application.": "applications.", "program.": "programs.", "quota.": "quotas."}


def canonical(name: str) -> str:
    """`name` in the scheme: itself when it already is, its new name when it is an older one."""
    if name in RENAMED:
        return RENAMED[name]
    for old, new in PREFIX_RENAMED.items():
        if name.startswith(old):
            return new + name[len(old) :]
    return name


def older_names(name: str) -> set[str]:
    """Every older name that stands for `name` (a name in the scheme)."""
    found = {old for old, new in RENAMED.items() if new == name}
    if found:  # a renamed name: its one older spelling
        return found
    for old, new in PREFIX_RENAMED.items():
        if name.startswith(new):
            found.add(old + name[len(new) :])
    return found


def spellings(name: str) -> set[str]:
    """The names an exact filter must match: the name in the scheme and its older names."""
    current = canonical(name)
    return {current, *older_names(current)}


def prefixes(prefix: str) -> tuple[set[str], set[str]]:
    """(prefixes, exact names) a prefix filter (`application.*` without the star) must match:
    the prefix in the scheme, the older prefixes it stands for, and the renamed names under it."""
    current = canonical(prefix)
    starts = {current}
    for old, new in PREFIX_RENAMED.items():
        if current.startswith(new):
            starts.add(old + current[len(new) :])
        elif new.startswith(current):  # "app*" covers "application." and "applications."
            starts.add(old)
    exact = {old for old, new in RENAMED.items() if new.startswith(current)}
    return starts, exact


def markdown() -> str:
    """The list as docs/audit.md holds it (between its `audit-actions` markers)."""
    lines = ["| action | what it records | older names |", "|---|---|---|"]
    for name in sorted(ACTIONS):
        older = ", ".join(f"`{n}`" for n in sorted(older_names(name))) or "–"
        lines.append(f"| `{name}` | {ACTIONS[name]} | {older} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown())
