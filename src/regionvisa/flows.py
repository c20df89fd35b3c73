"""Cross-domain orchestration: the demo build that `make run` performs."""

from __future__ import annotations

import importlib

from rich.console import Console

from regionvisa import migrate
from regionvisa.accounts.demo import create_demo_accounts
from regionvisa.config import Settings
from regionvisa.db import get_engine, session_scope
from regionvisa.regions.service import load_regions
from regionvisa.stats.service import records_present
from regionvisa.synth.service import write_dataset

console = Console(stderr=True)

DEMO_STEPS: list = []  # later domains append (name, callable(engine)) steps


def _demo_accounts(engine) -> None:

    create_demo_accounts(engine=engine)


def _domain_step(domain: str):
    def step(engine) -> None:

        importlib.import_module(f"regionvisa.{domain}.demo").demo_step(engine=engine)

    return step


DEMO_STEPS.append(("demo accounts, one per role (regional official: Busan)", _demo_accounts))
# Order matters: programmes before quotas and applications; compliance before evaluation.
DEMO_STEPS.extend(
    (f"{domain} demo data", _domain_step(domain))
    for domain in ("programs", "quotas", "selection", "applications", "compliance", "evaluation")
)


def build_demo(*, settings: Settings, residents: int, seed: int, force: bool) -> bool:
    """Create or reuse the demo database; returns True when it was (re)built.

    A second `make run` reuses what is there: the build is skipped when the database is at the
    newest migration and already holds records, unless `force` is given.
    """

    engine = get_engine()
    if engine.dialect.name == "sqlite" and not force:
        try:
            ready = migrate.current_revision(engine=engine) == migrate.head_revision() and records_present(
                engine=engine
            )
        except Exception:
            ready = False
        if ready:
            console.print(f"demo database already built at {engine.url.database}; reusing it (--force rebuilds)")
            return False
    console.print("building the demo database / 데모 데이터베이스를 만듭니다")
    migrate.upgrade(engine=engine)
    with session_scope(engine=engine) as session:
        load_regions(session=session)
    write_dataset(engine=engine, residents=residents, seed=seed, replace=True, progress=True)
    for name, step in DEMO_STEPS:
        console.print(f"demo: {name}")
        step(engine)
    console.print("demo ready / 데모 준비 완료")
    return True
