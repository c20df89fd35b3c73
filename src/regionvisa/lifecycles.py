"""Every declared life cycle, and docs/lifecycles.md generated from them.

`python -m regionvisa.lifecycles > docs/lifecycles.md` rewrites the document; a test fails when
the file and the tables differ.
"""

from __future__ import annotations

import importlib

from regionvisa.applications.lifecycle import APPLICATIONS
from regionvisa.compliance.lifecycle import COMPLIANCE_CASES
from regionvisa.core.lifecycle import Lifecycle, effects_markdown
from regionvisa.core.usecase import USE_CASES
from regionvisa.programs.lifecycle import PROGRAMME_VERSIONS
from regionvisa.selection.lifecycle import SELECTION_ROUNDS

LIFECYCLES: tuple[Lifecycle, ...] = (APPLICATIONS, PROGRAMME_VERSIONS, COMPLIANCE_CASES, SELECTION_ROUNDS)


# The modules that declare use cases (every state change goes through one of them).
USE_CASE_MODULES = (
    "accounts.service",
    "applications.moves",
    "applications.intake",
    "applications.bulk_intake",
    "applications.documents",
    "applications.service",
    "programs.service",
    "quotas.service",
    "quotas.planning",
    "records.service",
    "synth.service",
    "records.pii",
    "jobs.service",
    "compliance.cases",
    "evaluation.service",
    "evaluation.flows",
    "outcomes.service",
    "selection.service",
    "selection.committee",
    "selection.proposals",
)


def use_cases_markdown() -> str:
    """The declared use cases (`core.usecase.USE_CASES`): what each needs and what it records."""
    for module in USE_CASE_MODULES:
        importlib.import_module(f"regionvisa.{module}")
    lines = [
        "## Declared use cases",
        "",
        "Every state change is one of these (`@use_case`, `core/usecase.py`): the policy action it",
        "authorises (a name ending in `()` is chosen by the call, e.g. from the move's edge above), the",
        "kind of subject whose one region rule decides the region (none: the call names the region or",
        "the change is national), and the audit action it records (blank: the policy action, or the",
        "one the body names).",
        "",
        "| use case | policy action | subject | audit action |",
        "|---|---|---|---|",
    ]
    for name, case in sorted(USE_CASES.items()):
        if name.split(".")[0] == "tests" or name.startswith("test"):
            continue
        lines.append(f"| `{name}` | `{case.action}` | {case.subject or '–'} | {case.audit_action or ''} |")
    return "\n".join(lines) + "\n"


def markdown() -> str:
    """docs/lifecycles.md: one section per table, then what each effect does."""
    head = [
        "# Life cycles",
        "",
        "Generated from the tables in `regionvisa/<domain>/lifecycle.py` by "
        "`python -m regionvisa.lifecycles > docs/lifecycles.md`;",
        "a test fails when this file and the tables differ, and another walks every (state, move) pair",
        "through the services to check that they do what the tables say.",
        "",
        "Each row is one edge: the move, the states it may start from, the state it leads to, the policy",
        "action the actor must hold (see `docs/permissions.md`), whether a reason is required, and what",
        "else the move changes. A move the table lacks for the current state is refused with a 409.",
        "To find what happens to the quota when an application moves, read the *effects* column of",
        "the applications table.",
        "",
    ]
    sections = [lifecycle.to_markdown() for lifecycle in LIFECYCLES]
    return "\n".join(head) + "\n" + "\n".join([*sections, effects_markdown(), use_cases_markdown()])


if __name__ == "__main__":
    print(markdown(), end="")
