"""Suite-wide check that no clear passport number is left in what the suite writes.

Loaded from tests/conftest.py (`pytest_plugins`). It
- sends every log record (root logger, INFO and up; REGIONVISA_TEST_LOG_LEVEL=DEBUG for more) to
  test-artifacts/suite.log (suite-<worker>.log under xdist);
- remembers (as digests) every identifier the suite handed to records.pii, i.e. every passport
  number the suite stored, so fixture passports of any shape are recognised, not only the synth
  generator's shape (^[A-Z]{1,2}[0-9]{7}$);
- scans the logs and the exports written during the run (files under test-artifacts/, and files
  under the session's temporary directory whose name says export, reject or report) and fails the
  run when one holds a clear passport. `test_suite_outputs_hold_no_clear_identifiers` (moved to the
  end of the run) does the same from inside the suite, so the finding is a test failure too.
Findings are reported masked, so the report itself leaks nothing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SYNTH_PASSPORT = re.compile(r"(?<![A-Za-z0-9])[A-Z]{1,2}[0-9]{7}(?![A-Za-z0-9])")
TOKEN = re.compile(r"(?<![A-Za-z0-9])(?=[A-Z0-9]*[A-Z])(?=[A-Z0-9]*[0-9])[A-Z0-9]{5,20}(?![A-Za-z0-9])")
TEXT_SUFFIXES = {".log", ".csv", ".tsv", ".json", ".txt", ".md", ".html", ".ndjson", ".xml"}
EXPORT_WORDS = ("export", "reject", "report")
MAX_REMEMBERED = 500_000
LAST_TEST = "test_suite_outputs_hold_no_clear_identifiers"


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()[:12]


@dataclass
class Scanner:
    started: float = field(default_factory=time.time)
    seen: set[bytes] = field(default_factory=set)
    log_path: Path | None = None
    handler: logging.Handler | None = None
    basetemp: Path | None = None

    def remember(self, value: str) -> None:
        if len(self.seen) < MAX_REMEMBERED:
            self.seen.add(_digest(value))

    def leaks_in_text(self, text: str) -> list[str]:
        found = {m.group(0) for m in SYNTH_PASSPORT.finditer(text)}
        found |= {m.group(0) for m in TOKEN.finditer(text) if _digest(m.group(0)) in self.seen}
        return sorted(found)

    def files(self) -> list[Path]:
        out: list[Path] = []
        if ARTIFACTS.exists():
            out += [p for p in ARTIFACTS.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES | {".xlsx"}]
        if self.basetemp and self.basetemp.exists():
            out += [
                p
                for p in self.basetemp.rglob("*")
                if p.is_file()
                and p.suffix.lower() in TEXT_SUFFIXES | {".xlsx"}
                and (p.suffix.lower() == ".log" or any(w in p.name.lower() for w in EXPORT_WORDS))
            ]
        return [p for p in out if p.stat().st_mtime >= self.started - 1 and not p.name.startswith("pii-scan")]

    def scan(self) -> dict[str, list[str]]:
        """file -> masked clear identifiers found in it."""
        from regionvisa.records.pii import mask

        if self.handler:
            self.handler.flush()
        findings: dict[str, list[str]] = {}
        for path in self.files():
            leaks = self.leaks_in_text(read_text(path))
            if leaks:
                findings[str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)] = [mask(v) for v in leaks]
        return findings


def read_text(path: Path) -> str:
    if path.suffix.lower() == ".xlsx":
        try:
            with zipfile.ZipFile(path) as z:
                return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
        except zipfile.BadZipFile:
            return ""
    return path.read_text(encoding="utf-8", errors="replace")


SCANNER = Scanner()


def pytest_configure(config):
    from regionvisa.records import pii

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    ARTIFACTS.mkdir(exist_ok=True)
    SCANNER.log_path = ARTIFACTS / (f"suite-{worker}.log" if worker else "suite.log")
    handler = logging.FileHandler(SCANNER.log_path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    level = getattr(logging, os.environ.get("REGIONVISA_TEST_LOG_LEVEL", "INFO").upper(), logging.INFO)
    handler.setLevel(level)
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > level or root.level == logging.NOTSET:
        root.setLevel(level)
    SCANNER.handler = handler

    original = pii.normalise
    if not getattr(original, "_remembers", False):

        def normalise(value: str) -> str:
            clean = original(value)
            SCANNER.remember(clean)
            return clean

        normalise._remembers = True  # type: ignore[attr-defined]
        pii.normalise = normalise


def pytest_sessionstart(session):
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is not None:
        try:
            SCANNER.basetemp = factory.getbasetemp()
        except OSError:
            SCANNER.basetemp = None


def pytest_collection_modifyitems(session, config, items):
    last = [i for i in items if i.name == LAST_TEST]
    items[:] = [i for i in items if i.name != LAST_TEST] + last


@pytest.fixture(scope="session")
def pii_scanner() -> Scanner:
    return SCANNER


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return  # the controller scans every worker's log at the end
    findings = SCANNER.scan()
    report = ARTIFACTS / "pii-scan.txt"
    lines = [f"{path}: {', '.join(values)}" for path, values in sorted(findings.items())]
    report.write_text(("\n".join(lines) or "no clear identifiers found") + "\n", encoding="utf-8")
    if findings:
        session.config.pluginmanager.get_plugin("terminalreporter").write_line(
            f"personal data scan: clear passport numbers in {len(findings)} file(s); see {report}", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
