"""The actors tests act as: people with roles (no account needed for a service call) and the
command line's declared system actor. A plain string cannot act (`core.actor`)."""

from __future__ import annotations

from regionvisa.accounts.policy import system_actor
from regionvisa.core.actor import Actor

SYSTEM = system_actor("cli", detail="test")
OFFICER = Actor(id=None, username="t.officer", display_name="Test officer", role="ministry_officer")
NAMED_OFFICER = Actor(id=None, username="officer", display_name="Officer", role="ministry_officer")
OTHER_OFFICER = Actor(id=None, username="someone.else", display_name="Someone else", role="ministry_officer")
ADMIN = Actor(id=None, username="t.admin", display_name="Test administrator", role="ministry_admin")
BUSAN = Actor(id=None, username="t.busan", display_name="Busan official", role="regional_official", region="26")
REGION = Actor(id=None, username="t.region", display_name="Regional official", role="regional_official", region="26")
AUDITOR = Actor(id=None, username="t.auditor", display_name="Test auditor", role="auditor")
