"""What the applications domain's use cases act on, and the one region rule of each kind.

- An application belongs to the region of the programme it was made to (`Application.region`,
  copied from the programme at intake and never changed): every move, upload and read of it is
  authorised for that region.
- Intake acts on the programme an application is made to (`programs.subjects.PROGRAM`, the
  programme's one region rule): a submission or a file import belongs to the programme's region.
- The simplified-procedure flag is a region's own: its use case names the region itself.

Read paths scope their queries with `read_region` (the region a list or export must be filtered
by) and `readable` (one application, 403 outside the reader's scope), so reads and changes answer
"which region?" the same way.
"""

from __future__ import annotations

from typing import Any

from regionvisa.accounts.policy import authorize, grant, scope_region
from regionvisa.applications.models import Application
from regionvisa.core.actor import Actor
from regionvisa.core.usecase import Subject
from regionvisa.programs.models import Program
from regionvisa.programs.subjects import PROGRAM

READ = "applications.read"
RECOMMEND = "applications.recommend"

APPLICATION = Subject(kind="application", model=Application, region=lambda app: app.region, touch="updated_at")
# Intake acts on the programme: its one region rule is the programmes domain's own.
PROGRAMME = PROGRAM


def intake_action(actor: Actor, _subject: Any, _kwargs: dict) -> str:
    """Who may lodge an application or add documents to it: the ministry, which decides on every
    region's applications (`applications.decide`), or the region itself (`applications.recommend`,
    for its own region only)."""
    return "applications.decide" if grant(actor, "applications.decide") else "applications.recommend"


def read_region(actor: Actor, requested: str | None = None, *, action: str = READ) -> str | None:
    """The region a query of applications must be filtered by (None: every region); a regional
    official always gets their own, and a 403 when they ask for another."""
    return scope_region(actor, requested, action=action)


def readable(actor: Actor, app: Application, *, action: str = READ) -> Application:
    """`app` when `actor` may read it (its region inside their scope), else 403."""
    authorize(actor, action, APPLICATION.region(app))
    return app


def readable_programme(actor: Actor, program: Program, *, action: str = READ) -> Program:
    """`program` when `actor` may read its applications (queue, intake pages), else 403."""
    authorize(actor, action, PROGRAMME.region(program))
    return program
