"""Signed checkpoints through the command line: written, trusted only under the right key, and
verified against a log that was cut short; a checkpoint is never signed over a broken log."""

from __future__ import annotations

import json
import stat

from sqlalchemy import text
from tests.audit.tampering import attacker, build

from regionvisa.audit import checkpoint as checkpoints
from regionvisa.audit.keys import audit_keys, new_signing_key, parse_signing_key, public_key_b64
from regionvisa.audit.service import verify


def test_checkpoint_is_signed_json_of_the_head(cli, engine, tmp_path):
    recorded = build(engine, 12)
    out = tmp_path / "cp" / "audit-checkpoint.json"
    made = cli("audit", "checkpoint", "--out", str(out))
    assert made.exit_code == 0, made.output
    assert "seq 12" in made.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    data = json.loads(out.read_text())
    assert data["format"] == "regionvisa-audit-checkpoint" and data["version"] == 1
    assert (data["seq"], data["entries"], data["head_entry_id"]) == (12, 12, recorded[-1].id)
    assert data["head_mac"] == recorded[-1].hash and data["key_id"] == audit_keys().current
    assert data["head_at"].startswith(recorded[-1].at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert data["created_at"] and data["signing_key_id"] == audit_keys().signing_key_id
    assert data["signature"] and data["public_key"] in cli("audit", "public-key").output


def test_verify_against_a_checkpoint_then_after_truncation(cli, engine, tmp_path):
    build(engine, 20)
    out = tmp_path / "cp.json"
    assert cli("audit", "checkpoint", "--out", str(out)).exit_code == 0
    build(engine, 3, start=20)  # the log grows past the checkpoint: still fine
    intact = cli("audit", "verify", "--checkpoint", str(out))
    assert intact.exit_code == 0 and "reaches the checkpoint" in intact.output and "23 entries" in intact.output
    with attacker(engine) as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE seq > 15"))
        conn.execute(text("DELETE FROM audit_head"))
    broken = cli("audit", "verify", "--checkpoint", str(out))
    assert broken.exit_code == 1
    assert "truncated" in broken.output and "seq 16–20" in broken.output and "seq 16)" in broken.output
    assert "감사 기록 손상" in broken.output


def test_only_a_trusted_key_makes_a_checkpoint_count(cli, engine, tmp_path, monkeypatch):
    build(engine, 5)
    out = tmp_path / "cp.json"
    assert cli("audit", "checkpoint", "--out", str(out)).exit_code == 0
    public = cli("audit", "public-key").output.strip()
    key_file = tmp_path / "audit-public.key"
    key_file.write_text(public + "\n")
    assert cli("audit", "verify", "--checkpoint", str(out), "--public-key", public).exit_code == 0
    assert cli("audit", "verify", "--checkpoint", str(out), "--public-key", str(key_file)).exit_code == 0
    # someone else's key, even one the checkpoint names as its own, is not trusted
    _, other = parse_signing_key("s9:" + new_signing_key())
    refused = cli(
        "audit", "verify", "--checkpoint", str(out), "--public-key", "s9:" + public_key_b64(other.public_key())
    )
    assert refused.exit_code == 2 and "signature does not verify" in refused.output
    # a checkpoint edited to claim less than it saw no longer verifies
    data = json.loads(out.read_text())
    data["seq"] = 3
    out.write_text(json.dumps(data))
    edited = cli("audit", "verify", "--checkpoint", str(out))
    assert edited.exit_code == 2 and "signature does not verify" in edited.output
    out.write_text("not json")
    assert cli("audit", "verify", "--checkpoint", str(out)).exit_code == 2
    assert cli("audit", "verify", "--checkpoint", str(tmp_path / "missing.json")).exit_code == 2


def test_no_checkpoint_over_a_broken_log(cli, engine, tmp_path):
    build(engine, 6)
    with attacker(engine) as conn:
        conn.execute(text("UPDATE audit_entry SET reason = 'x' WHERE seq = 4"))
    out = tmp_path / "cp.json"
    refused = cli("audit", "checkpoint", "--out", str(out))
    assert refused.exit_code == 1 and "seq 4" in refused.output and not out.exists()


def test_checkpoint_of_an_empty_log_then_anything_written_is_fine(engine):
    made, _ = checkpoints.create(engine=engine)
    assert (made.seq, made.entries, made.head_entry_id) == (0, 0, None)
    build(engine, 2)
    assert checkpoints.parse(made.as_json()) == made
    assert verify(engine=engine, checkpoint=made).ok


def test_signatures_cover_every_field(engine):
    build(engine, 2)
    made, _ = checkpoints.create(engine=engine)
    checkpoints.check_signature(made, [audit_keys().public_key])
    for field, value in (("head_mac", "0" * 64), ("entries", 1), ("created_at", "2020-01-01T00:00:00Z")):
        forged = checkpoints.Checkpoint(**{**made.__dict__, field: value})
        try:
            checkpoints.check_signature(forged, [audit_keys().public_key])
        except checkpoints.CheckpointError:
            continue
        raise AssertionError(f"a checkpoint with {field} changed still verified")
