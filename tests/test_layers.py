"""Layers: the domain code (services, engines, the rules and the core) imports no web framework.

Domain errors live in `regionvisa.core.errors` and the permission table in `accounts.policy`;
the FastAPI side (`web.errors` handlers, `web.deps` dependencies) sits on top. A service that
imports FastAPI or Starlette again fails here, with the chain of imports that brought it in.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import regionvisa

PACKAGE = Path(regionvisa.__file__).parent
DOMAIN_FILES = {
    "service.py",
    "engine.py",
    "compute.py",
    "apportion.py",
    "cases.py",
    "frames.py",
    "lifecycle.py",
    "flows.py",
    "planning.py",
    "counts.py",
    "moves.py",
    "intake.py",
    "bulk_intake.py",
    "risk.py",
    "views.py",
    "documents.py",
    "subjects.py",
    "rounds.py",
    "committee.py",
    "proposals.py",
    "screening.py",
    "designs.py",
    "simulation.py",
    "tabular.py",
    "limits.py",
}
WEB_FRAMEWORKS = ("fastapi", "starlette")

# Imports each module in turn; when one loads a web framework, reports it with the importing chain.
PROBE = r"""
import importlib, json, sys, traceback
frameworks = tuple(sys.argv[1].split(","))
modules = sys.argv[2:]
chains = {}
current = None

class Watch:
    def find_spec(self, name, path=None, target=None):
        if name in frameworks and current not in chains:
            chains[current] = [
                f"{f.filename.rsplit('/regionvisa/', 1)[-1]}:{f.lineno}"
                for f in traceback.extract_stack()
                if "/regionvisa/" in f.filename
            ]
        return None

sys.meta_path.insert(0, Watch())
for current in modules:
    for loaded in [m for m in sys.modules if m.split(".")[0] in frameworks]:
        del sys.modules[loaded]  # so the next module that imports it is caught too
    importlib.import_module(current)
print(json.dumps({"chains": chains, "loaded": sorted(m for m in sys.modules if m in frameworks)}))
"""


def domain_modules() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if path.name in DOMAIN_FILES or rel.parts[0] in ("rules", "core"):
            parts = ("regionvisa", *rel.with_suffix("").parts)
            found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def test_the_probe_names_the_modules_it_covers():
    modules = domain_modules()
    for expected in (
        "regionvisa.core.errors",
        "regionvisa.rules.compile",
        "regionvisa.applications.service",
        "regionvisa.compliance.engine",
        "regionvisa.compliance.cases",
        "regionvisa.evaluation.compute",
        "regionvisa.quotas.apportion",
        "regionvisa.records.frames",
        "regionvisa.applications.lifecycle",
        "regionvisa.applications.moves",
        "regionvisa.applications.flows",
        "regionvisa.tabular",
        "regionvisa.limits",
    ):
        assert expected in modules


def test_the_probe_catches_a_module_that_loads_a_web_framework():
    """The check itself can fail: the web layer's error handlers do load FastAPI."""
    chains = probe(["regionvisa.core.errors", "regionvisa.web.errors"])["chains"]
    assert list(chains) == ["regionvisa.web.errors"]
    assert chains["regionvisa.web.errors"][0].startswith("web/errors.py:")


def test_domain_modules_load_neither_fastapi_nor_starlette():
    result = probe(domain_modules())
    offenders = "\n".join(f"{module}: {' -> '.join(chain)}" for module, chain in result["chains"].items())
    assert not result["chains"], f"these modules load a web framework:\n{offenders}"
    assert result["loaded"] == []


def probe(modules: list[str]) -> dict:
    """Run PROBE in a fresh interpreter (this one has the web app loaded already)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(WEB_FRAMEWORKS), *modules],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])
