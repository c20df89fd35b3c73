"""Demo accounts, one per role (the regional official is Busan's), with known passwords.

Only `regionvisa demo` creates them; `regionvisa users demo-logins` prints them.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine

from regionvisa.accounts import service
from regionvisa.accounts.models import User
from regionvisa.accounts.policy import system_actor
from regionvisa.db import session_scope

DEMO_REGION = "26"  # Busan
DEMO_ACCOUNTS: tuple[dict, ...] = (
    {"username": "admin", "password": "demo-admin-2025", "role": "ministry_admin", "region": None,
     "display_name": "Demo ministry administrator"},
    {"username": "officer", "password": "demo-officer-2025", "role": "ministry_officer", "region": None,
     "display_name": "Demo ministry officer"},
    {"username": "busan", "password": "demo-busan-2025", "role": "regional_official", "region": DEMO_REGION,
     "display_name": "Demo Busan official"},
    {"username": "committee", "password": "demo-committee-2025", "role": "committee_member", "region": None,
     "display_name": "Demo committee member"},
    {"username": "auditor", "password": "demo-auditor-2025", "role": "auditor", "region": None,
     "display_name": "Demo auditor"},
)  # fmt: skip
DEMO_ACTOR = system_actor("demo")


def create_demo_accounts(*, engine: Engine) -> int:
    """Create the demo accounts that do not exist yet; returns how many were created."""

    created = 0
    with session_scope(engine=engine) as session:
        existing = set(session.scalars(select(User.username)))
        for account in DEMO_ACCOUNTS:
            if account["username"] in existing:
                continue
            service.create_user(session=session, actor=DEMO_ACTOR, reason="demo account", **account)
            created += 1
    return created
