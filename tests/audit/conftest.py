"""Each audit test reads the audit keys of its own environment."""

from __future__ import annotations

import pytest

from regionvisa.audit import keys as audit_keys_module


@pytest.fixture(autouse=True)
def _fresh_audit_keys():
    """Each test reads the audit keys of its own environment, and leaves none cached behind."""
    audit_keys_module.reset()
    yield
    audit_keys_module.reset()
