"""A database migrated from before the MAC chain (revision 0010): its entries are kept as they
were, reported until anchored, anchored by the next entry (or `audit anchor`), and still
tamper-evident once anchored. The downgrade keeps the append-only triggers."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from tests.audit.tampering import attacker, build, fields, rows

from regionvisa import migrate
from regionvisa.audit import service
from regionvisa.audit.service import verify


def _legacy_log(engine, n: int) -> None:
    """n entries as revision 0010's code wrote them: plain SHA-256, a head without a MAC."""
    prev = service.GENESIS
    base = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    with engine.begin() as conn:
        for seq in range(1, n + 1):
            row = {
                "seq": seq,
                "at": base + dt.timedelta(minutes=seq),
                "actor": "t.officer",
                "action": "applications.decide",
                "subject_type": "application",
                "subject_id": str(seq),
                "region": "26",
                "reason": f"legacy decision {seq}",
                "inputs_digest": service.sha256_hex("{}"),
                "prev_hash": prev,
            }
            row["hash"] = service.entry_hash(**row)
            conn.execute(
                text(
                    "INSERT INTO audit_entry (seq, at, actor, action, subject_type, subject_id, region, reason, "
                    "inputs_digest, inputs, prev_hash, hash) VALUES (:seq, :at, :actor, :action, :subject_type, "
                    ":subject_id, :region, :reason, :inputs_digest, '{}', :prev_hash, :hash)"
                ),
                row,
            )
            prev = row["hash"]
        last_id = conn.execute(text("SELECT max(id) FROM audit_entry")).scalar_one()
        conn.execute(
            text("INSERT INTO audit_head (id, entries, last_entry_id, last_hash) VALUES (1, :n, :id, :h)"),
            {"n": n, "id": last_id, "h": prev},
        )


@pytest.fixture
def migrated(engine):
    """The test database taken back to 0010, given a legacy log, and migrated forward again."""
    migrate.downgrade(engine=engine, revision="0010")
    try:
        _legacy_log(engine, 8)
        for statement in ("DELETE FROM audit_entry", "UPDATE audit_entry SET reason = 'x'"):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(text(statement))  # the downgrade kept the append-only triggers
    finally:
        migrate.upgrade(engine=engine)
    return engine


def test_legacy_entries_are_reported_until_anchored(migrated, cli, tmp_path):
    engine = migrated
    assert [r["key_id"] for r in rows(engine)] == [None] * 8
    result = verify(engine=engine)
    assert not result.ok and result.problem.kind == "unanchored" and result.legacy_entries == 8
    assert "seq 1–8" in result.problem.message and "audit anchor" in result.problem.message
    refused = cli("audit", "checkpoint", "--out", str(tmp_path / "cp.json"))
    assert refused.exit_code == 1 and "unanchored" in refused.output and not (tmp_path / "cp.json").exists()
    anchored = cli("audit", "anchor")
    assert anchored.exit_code == 0 and "8 entries anchored by entry seq 9" in anchored.output
    result = verify(engine=engine)
    assert result.ok and result.entries == 9 and result.legacy_entries == 8
    assert "nothing to anchor" in cli("audit", "anchor").output
    build(engine, 2, start=50)
    assert verify(engine=engine).ok and verify(engine=engine).entries == 11


def test_any_new_entry_anchors_them(migrated):
    build(migrated, 1)
    result = verify(engine=migrated)
    assert result.ok and result.legacy_entries == 8


def test_anchored_legacy_entries_cannot_be_rewritten(migrated):
    engine = migrated
    build(engine, 3)
    entries = rows(engine)
    entries[3]["reason"] = "rewritten"  # seq 4, re-hashed forward through the rest of the legacy entries
    prev = entries[2]["hash"]
    for row in entries[3:8]:
        row["prev_hash"] = prev
        row["hash"] = service.entry_hash(**fields(row))
        prev = row["hash"]
    with attacker(engine) as conn:
        for row in entries[3:8]:
            conn.execute(
                text("UPDATE audit_entry SET reason = :reason, prev_hash = :prev_hash, hash = :hash WHERE id = :id"),
                row,
            )
    result = verify(engine=engine)
    # seq 9's MAC still holds the genuine seq 8: the legacy chain no longer reaches it
    assert not result.ok and (result.problem.kind, result.problem.seq) == ("edited", 8)
    assert "re-hashed" in result.problem.message


def test_stripping_the_mac_off_the_log_is_not_a_way_out(migrated):
    engine = migrated
    build(engine, 3)
    entries = rows(engine)
    prev = entries[7]["hash"]
    for row in entries[8:]:  # the MAC entries turned into "legacy" ones, re-hashed in plain SHA-256
        row["key_id"], row["prev_hash"] = None, prev
        row["hash"] = service.entry_hash(**fields(row))
        prev = row["hash"]
    with attacker(engine) as conn:
        for row in entries[8:]:
            conn.execute(
                text("UPDATE audit_entry SET key_id = NULL, prev_hash = :prev_hash, hash = :hash WHERE id = :id"), row
            )
        conn.execute(
            text("UPDATE audit_head SET key_id = NULL, mac = NULL, last_hash = :h"), {"h": entries[-1]["hash"]}
        )
    result = verify(engine=engine)
    assert not result.ok and result.problem.kind == "unanchored" and result.legacy_entries == 11
