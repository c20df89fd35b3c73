"""Audit keys come from settings, rotate like the data keys (newest first, each entry names its
key), and an entry whose key is gone is reported, never passed."""

from __future__ import annotations

import pytest
from tests.audit.tampering import build, rows

from regionvisa.audit import keys
from regionvisa.audit.service import key_counts, verify


def use(monkeypatch, **env: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(f"REGIONVISA_{name.upper()}", value)
    keys.reset()


def test_keys_rotate_and_old_entries_still_verify(engine, monkeypatch, cli):
    a1, a2 = f"a1:{keys.new_mac_key()}", f"a2:{keys.new_mac_key()}"
    use(monkeypatch, audit_keys=a1)
    build(engine, 4)
    use(monkeypatch, audit_keys=f"{a2},{a1}")  # the new key listed first
    build(engine, 3, start=4)
    assert [r["key_id"] for r in rows(engine)] == ["a1"] * 4 + ["a2"] * 3
    assert key_counts(engine=engine) == [("a1", 4), ("a2", 3)]
    assert verify(engine=engine).ok
    status = cli("audit", "keys", "status")
    assert status.exit_code == 0 and "current key: a2" in status.output
    use(monkeypatch, audit_keys=a2)  # the old key dropped too early
    result = verify(engine=engine)
    assert not result.ok
    assert (result.problem.kind, result.problem.seq) == ("unknown-key", 1)
    assert "'a1', which is not configured" in result.problem.message
    assert "NOT CONFIGURED" in cli("audit", "keys", "status").output
    broken = cli("audit", "verify")
    assert broken.exit_code == 1 and "not configured" in broken.output


def test_the_same_id_with_another_key_fails_the_mac(engine, monkeypatch):
    use(monkeypatch, audit_keys=f"a1:{keys.new_mac_key()}")
    build(engine, 3)
    use(monkeypatch, audit_keys=f"a1:{keys.new_mac_key()}")
    result = verify(engine=engine)
    assert (result.problem.kind, result.problem.seq) == ("edited", 1)


def test_derived_keys_name_their_origin(monkeypatch):
    use(monkeypatch, audit_keys="", audit_signing_key="", secret_key="x" * 40)
    first = keys.audit_keys()
    assert first.current.startswith("sk-") and first.signing_key_id.startswith("sk-")
    use(monkeypatch, secret_key="y" * 40)
    second = keys.audit_keys()
    assert second.current != first.current  # entries under the old derivation show as an unknown key
    assert second.public_key_text() != first.public_key_text()


def test_configured_keys_are_used_and_checked(monkeypatch):
    seed = keys.new_signing_key()
    use(monkeypatch, audit_keys=f"k7:{keys.new_mac_key()}", audit_signing_key=f"s3:{seed}")
    loaded = keys.audit_keys()
    assert (loaded.current, loaded.signing_key_id) == ("k7", "s3")
    assert loaded.public_key_text().startswith("s3:")
    assert keys.parse_public_key(loaded.public_key_text())[0] == "s3"
    for bad in ("k1:not-base64!", "k1:" + keys.new_mac_key()[:10], f"k1:{keys.new_mac_key()},k1:{keys.new_mac_key()}"):
        with pytest.raises(keys.AuditKeyError, match="REGIONVISA_AUDIT_KEYS"):
            keys.parse_mac_keys(bad)
    with pytest.raises(keys.AuditKeyError, match="REGIONVISA_AUDIT_SIGNING_KEY"):
        keys.parse_signing_key("s1:short")


def test_keys_new_prints_entries_for_the_settings(cli):
    mac = cli("audit", "keys", "new", "--id", "a3").output.strip()
    signing = cli("audit", "keys", "new", "--signing", "--id", "s2").output.strip()
    assert list(keys.parse_mac_keys(mac)) == ["a3"]
    assert keys.parse_signing_key(signing)[0] == "s2"
