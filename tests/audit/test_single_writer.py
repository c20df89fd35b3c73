"""Every domain writes the audit log through `regionvisa.audit.service.record` and nothing else:
no other module touches the table or its model, so the chain and the redaction of personal
data cannot be bypassed."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "regionvisa"
FORBIDDEN = re.compile(r"\bAuditEntry\b|\bAuditHead\b|audit\.models|\baudit_(?:entry|head)\b", re.I)


def offenders(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.parent.name == "audit" or (path.name == "models.py" and path.parent == root):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if FORBIDDEN.search(line) and not line.lstrip().startswith("#"):
                found.append(f"{path.relative_to(root.parent)}:{number}: {line.strip()}")
    return found


def test_only_the_audit_service_touches_the_audit_tables():
    assert offenders(SRC) == [], "write audit entries with audit.service.record(...) only"


def test_the_scan_finds_direct_writes(tmp_path):
    package = tmp_path / "regionvisa"
    (package / "audit").mkdir(parents=True)
    (package / "audit" / "service.py").write_text("from regionvisa.audit.models import AuditEntry\n")
    (package / "sneaky.py").write_text('conn.execute(text("INSERT INTO audit_entry VALUES (1)"))\n')
    assert offenders(package) == ['regionvisa/sneaky.py:1: conn.execute(text("INSERT INTO audit_entry VALUES (1)"))']
