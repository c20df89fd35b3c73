"""Every declared life cycle, and docs/lifecycles.md generated from them.

`python -m regionvisa.lifecycles > docs/lifecycles.md` rewrites the document; a test fails when
the file and the tables differ.
"""

from __future__ import annotations

from regionvisa.applications.lifecycle import APPLICATIONS
from regionvisa.compliance.lifecycle import COMPLIANCE_CASES
from regionvisa.core.lifecycle import Lifecycle, effects_markdown
from regionvisa.programs.lifecycle import PROGRAMME_VERSIONS
from regionvisa.selection.lifecycle import SELECTION_ROUNDS

LIFECYCLES: tuple[Lifecycle, ...] = (APPLICATIONS, PROGRAMME_VERSIONS, COMPLIANCE_CASES, SELECTION_ROUNDS)


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
    return "\n".join(head) + "\n" + "\n".join([*sections, effects_markdown()])


if __name__ == "__main__":
    print(markdown(), end="")
