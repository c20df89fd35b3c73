"""What the programmes domain's use cases act on, and the one region rule of each kind.

- A programme (and so each of its versions) belongs to its region (`Program.region`, fixed when
  its first version is stored: a later design must keep it).
- A design on its way into the database belongs to the region it names; a design for a programme
  already stored also to that programme's region. The two differ only for a design that would
  move a programme to another region: the actor must then hold the action in both (a regional
  official never does: 403), and the store itself refuses the move (409 `program_identity`).

Read paths scope their queries with `read_region` (the region a list must be filtered by) and
`readable` (one programme, 403 outside the reader's scope), so reads and changes answer
"which region?" the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from regionvisa.accounts.policy import authorize, scope_region
from regionvisa.core.actor import Actor
from regionvisa.core.usecase import Subject
from regionvisa.programs.files import LoadedProgram
from regionvisa.programs.models import Program

READ = "programs.read"

PROGRAM = Subject(kind="program", model=Program, region=lambda program: program.region, label="programme")


@dataclass(frozen=True)
class Design:
    """A validated design to store, with the programme it would be a version of (None: a new one)."""

    loaded: LoadedProgram
    program: Program | None

    @property
    def regions(self) -> tuple[str, ...]:
        named = self.loaded.spec.region
        if self.program is None or self.program.region == named:
            return (named,)
        return (named, self.program.region)


class _DesignSubject(Subject):
    """Loads a `LoadedProgram` as a `Design`: the design with the programme already stored under its id."""

    def load(self, session: Any, ident: Any, *, lock: bool) -> Design:
        return Design(loaded=ident, program=session.get(Program, ident.spec.id))


DESIGN = _DesignSubject(kind="program", model=Design, region=lambda design: design.regions, label="programme")


def read_region(actor: Actor, requested: str | None = None, *, action: str = READ) -> str | None:
    """The region a query of programmes must be filtered by (None: every region); a regional
    official always gets their own, and a 403 when they ask for another."""
    return scope_region(actor, requested, action=action)


def readable(actor: Actor, program: Program, *, action: str = READ) -> Program:
    """`program` when `actor` may use it for `action` (its region inside their scope), else 403."""
    authorize(actor, action, PROGRAM.region(program))
    return program


def readable_design(actor: Actor, resolved: Any, *, action: str = READ) -> Any:
    """A resolved programme (a stored version, or a design not saved) when `actor` may use it for
    `action`: it belongs to the region its design names (a stored one's is its programme's)."""
    authorize(actor, action, resolved.region)
    return resolved
