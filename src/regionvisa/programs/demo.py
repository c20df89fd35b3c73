"""Regional visa programmes / 지역 특화형 비자 프로그램: the demo step.

`regionvisa demo` runs it after the synthetic records: the 2025 pilot designs in policy/programs are
validated, stored and published by the demo's system actor, so every step is in the audit log.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from regionvisa.accounts.policy import system_actor
from regionvisa.config import get_settings
from regionvisa.db import session_scope
from regionvisa.programs.files import program_files
from regionvisa.programs.service import load_files

DEMO_ACTOR = system_actor("demo")


def demo_step(*, engine: Engine) -> None:
    """Load and publish the pilot programmes (a second run finds them stored and changes nothing)."""

    paths = program_files(get_settings().policy_dir)
    with session_scope(engine=engine) as session:
        load_files(session=session, paths=paths, actor=DEMO_ACTOR, publish=True)
