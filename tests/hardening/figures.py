"""Figures the hardening tests record for docs/hardening.md.

Each test group writes one small JSON file per database, test-artifacts/hardening/<name>-<database>.json:
counts and status codes only, never a request body, a URL or anything personal. Tests record
what they saw before they assert, so a failing run leaves its figures too. Entries of one pytest
run are merged (parametrised tests add one entry each); a new run starts the file afresh.
REGIONVISA_TEST_FIGURES names another folder (for a measurement no other run may overwrite).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import platform
import uuid
from collections import Counter
from pathlib import Path

FOLDER = Path(
    os.environ.get("REGIONVISA_TEST_FIGURES") or Path(__file__).resolve().parents[2] / "test-artifacts" / "hardening"
)
RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex


def database() -> str:
    """The database the suite runs on, as tests/conftest.py chooses it."""
    return "postgresql" if os.environ.get("REGIONVISA_TEST_DATABASE_URL", "").strip() else "sqlite"


def statuses(counter: Counter) -> dict[str, int]:
    """Status code -> count, in code order, with string keys as JSON needs them."""
    return {str(code): counter[code] for code in sorted(counter, key=str)}


def record(name: str, key: str, figures: dict) -> Path:
    """Set entry `key` of this run's summary `name` for the current database."""
    FOLDER.mkdir(parents=True, exist_ok=True)
    path = FOLDER / f"{name}-{database()}.json"
    with path.with_suffix(".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parametrised tests may run in parallel workers
        try:
            current = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            current = {}
        if current.get("run") != RUN:
            current = {"run": RUN, "database": database(), "entries": {}}
        current["entries"][key] = figures
        current["updated"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        current["machine"] = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        partial.replace(path)
    return path
