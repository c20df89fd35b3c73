"""The seven ways an attack with write access to the database rewrote the audit log unnoticed
(issue 14), each now detected, with the first missing or altered entry named, on both databases.

The attacker holds the database, not the audit key: whatever MACs they write are in the right
format under a key of their own. What the database alone cannot reveal (a log wiped whole, or
cut short with an earlier head put back) a signed checkpoint kept elsewhere does.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from tests.audit.tampering import (
    attacker,
    build,
    fields,
    forge,
    head_row,
    insert_rows,
    rechain,
    rows,
    set_head,
    write_rows,
)
from tests.hardening.figures import record

from regionvisa.audit import checkpoint as checkpoints
from regionvisa.audit import service
from regionvisa.audit.service import verify


def signed_checkpoint(engine) -> checkpoints.Checkpoint:
    """A checkpoint as `regionvisa audit checkpoint` writes it, read back as a verifier would."""
    made, result = checkpoints.create(engine=engine)
    assert result.ok
    return checkpoints.parse(made.as_json())


def by_seq(engine) -> dict[int, dict]:
    return {r["seq"]: r for r in rows(engine)}


def found(method: str, case: str, engine, cp=None) -> None:
    """What verification names, without and with the checkpoint, for docs/hardening.md; called
    once a test's checks have passed, so an entry means the method was detected as asserted."""

    def named(result) -> str:
        return "not detected" if result.ok else f"{result.problem.kind} at seq {result.problem.seq}"

    record("tamper", f"{method}: {case}", {
        "method": method,
        "database": engine.dialect.name,
        "without_checkpoint": named(verify(engine=engine)),
        "with_checkpoint": None if cp is None else named(verify(engine=engine, checkpoint=cp)),
    })  # fmt: skip


# --------------------------------------------------------------------------- 1. edit and re-hash forward


def test_edited_entry_rehashed_forward_with_the_head_is_found(engine):
    build(engine, 40)
    cp = signed_checkpoint(engine)
    entries = rows(engine)
    target = entries[19]  # seq 20
    target["reason"] = "nothing to see here"
    target["actor"] = "someone.else"
    changed = rechain(entries, 19)
    with attacker(engine) as conn:
        write_rows(conn, changed)
        set_head(conn, changed[-1])
    for result in (verify(engine=engine), verify(engine=engine, checkpoint=cp)):
        assert not result.ok
        p = result.problem
        assert (p.kind, p.seq, p.entry_id) == ("edited", 20, target["id"])
        assert "MAC does not match" in p.message and "seq 20" in p.message
    found("edit and re-hash forward", "entry 20 edited, every entry after it and the head re-hashed", engine, cp)


def test_an_edit_without_rehashing_is_found_too(engine):
    build(engine, 10)
    with attacker(engine) as conn:
        conn.execute(text("UPDATE audit_entry SET reason = 'x' WHERE seq = 7"))
    assert (verify(engine=engine).problem.kind, verify(engine=engine).problem.seq) == ("edited", 7)
    found("edit and re-hash forward", "entry 7 edited, nothing re-hashed", engine)


# --------------------------------------------------------------------------- 2. delete one and renumber


@pytest.mark.parametrize("rehash", [False, True], ids=["renumbered", "renumbered-and-rehashed"])
def test_deleted_entry_with_the_rest_renumbered_is_found(engine, rehash):
    build(engine, 30)
    cp = signed_checkpoint(engine)
    entries = rows(engine)
    deleted, moved = entries[11], entries[12]  # seq 12 goes; seq 13 becomes 12, and so on
    rest = entries[:11] + entries[12:]
    for row in rest[11:]:
        row["seq"] -= 1
    changed = rechain(rest, 11) if rehash else rest[11:]
    with attacker(engine) as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE id = :id"), {"id": deleted["id"]})
        write_rows(conn, changed)
        set_head(conn, changed[-1])
    for result in (verify(engine=engine), verify(engine=engine, checkpoint=cp)):
        p = result.problem
        assert not result.ok and p.seq == 12 and p.entry_id == moved["id"]
        if rehash:  # the MAC cannot tell what was there before; it names where the log stops being genuine
            assert p.kind == "edited" and "MAC does not match" in p.message
        else:  # the moved entry's MAC still holds its old number, so the gap is named exactly
            assert p.kind == "deleted"
            assert "written as seq 13" in p.message and "seq 12 are missing" in p.message
    case = "entry 12 deleted, the rest renumbered" + (" and re-hashed" if rehash else "")
    found("delete one entry and renumber", case, engine, cp)


# --------------------------------------------------------------------------- 3. truncate the last 50


@pytest.mark.parametrize("head", ["untouched", "reset-and-forged", "replayed"])
def test_truncated_last_50_entries_are_found(engine, head):
    build(engine, 30)
    earlier_head = head_row(engine)  # an attacker who reads the database now can put this back later
    build(engine, 50, start=30)
    cp = signed_checkpoint(engine)
    entries = by_seq(engine)
    with attacker(engine) as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE seq > 30"))
        if head == "reset-and-forged":
            set_head(conn, entries[30])
        elif head == "replayed":
            conn.execute(service.head.update().values(**{k: v for k, v in earlier_head.items() if k != "id"}))
    alone = verify(engine=engine)
    if head == "untouched":
        assert (alone.problem.kind, alone.problem.seq) == ("deleted", 31) and "seq 31–80" in alone.problem.message
    elif head == "reset-and-forged":
        assert (alone.problem.kind, alone.problem.seq, alone.problem.entry_id) == ("edited", 30, entries[30]["id"])
        assert "chain head" in alone.problem.message and "cut off" in alone.problem.message
    else:
        assert alone.ok  # a genuine earlier head: only what is kept outside the database can tell
    result = verify(engine=engine, checkpoint=cp)
    p = result.problem
    assert not result.ok and (p.kind, p.seq, p.entry_id) == ("deleted", 31, None)
    assert "truncated" in p.message and "seq 31–80" in p.message and "reached seq 80" in p.message
    found("truncate the last 50 entries", f"seq 31-80 deleted, head {head}", engine, cp)


# --------------------------------------------------------------------------- 4. wipe the log and reset the head


@pytest.mark.parametrize("written_after", [0, 3, 45])
@pytest.mark.parametrize("head", ["deleted", "reset"])
def test_wiped_log_with_its_head_reset_is_found(engine, head, written_after):
    build(engine, 40)
    cp = signed_checkpoint(engine)
    with attacker(engine) as conn:
        conn.execute(text("DELETE FROM audit_entry"))
        if head == "deleted":
            conn.execute(text("DELETE FROM audit_head"))
        else:
            set_head(conn, None)
    fresh = build(engine, written_after, start=100)  # the application goes on writing, unaware
    assert verify(engine=engine).ok  # the database alone looks like a log that began after the wipe
    result = verify(engine=engine, checkpoint=cp)
    p = result.problem
    assert not result.ok and p.seq == 1
    if written_after == 0:
        assert p.kind == "deleted" and "wiped" in p.message and "seq 1–40" in p.message
    else:
        assert (p.kind, p.entry_id) == ("rewritten", fresh[0].id)
        assert "after the checkpoint's head" in p.message and "from seq 1" in p.message
    found("wipe the log and reset the head", f"40 wiped, head {head}, {written_after} written after", engine, cp)


# --------------------------------------------------------------------------- 5. append a forged entry


@pytest.mark.parametrize("how", ["guessed-key", "no-mac", "unknown-key-id"])
def test_forged_appended_entry_is_found(engine, how):
    build(engine, 10)
    cp = signed_checkpoint(engine)
    last = by_seq(engine)[10]
    forged = {
        **{k: v for k, v in last.items() if k != "id"},
        "seq": 11,
        "actor": "t.admin",
        "action": "quotas.adjust",
        "subject_id": "busan-d2",
        "reason": "approved by phone",
        "prev_hash": last["hash"],
    }
    if how == "no-mac":
        forged["key_id"] = None
        forged["hash"] = service.entry_hash(**fields(forged))  # the plain SHA-256 of entries before the MAC
    else:
        if how == "unknown-key-id":
            forged["key_id"] = "a9"
        forged["hash"] = forge(forged)
    with attacker(engine) as conn:
        insert_rows(conn, [forged])
        new_id = conn.execute(text("SELECT id FROM audit_entry WHERE seq = 11")).scalar_one()
        set_head(conn, {**forged, "id": new_id, "key_id": forged["key_id"] or last["key_id"]})
    for result in (verify(engine=engine), verify(engine=engine, checkpoint=cp)):
        p = result.problem
        assert not result.ok and (p.seq, p.entry_id) == (11, new_id)
        expected = {
            "guessed-key": ("edited", "MAC does not match"),
            "no-mac": ("edited", "forged: it has no MAC"),
            "unknown-key-id": ("unknown-key", "'a9', which is not configured"),
        }[how]
        assert p.kind == expected[0] and expected[1] in p.message
    found("append a forged entry", f"seq 11 appended ({how})", engine, cp)


# --------------------------------------------------------------------------- 6. SQLite INSERT OR REPLACE


def _replace_statement(row: dict) -> tuple[str, dict]:
    columns = [c for c in row if c != "inputs"]
    sql = f"INSERT OR REPLACE INTO audit_entry ({', '.join(columns)}, inputs) VALUES "
    sql += f"({', '.join(':' + c for c in columns)}, :inputs)"
    params = {c: row[c] for c in columns} | {"inputs": service.canonical_json(row["inputs"])}
    params["at"] = service._at_text(row["at"]).replace("T", " ").rstrip("Z")
    return sql, params


def test_sqlite_insert_or_replace_is_refused_then_found(sqlite_engine):
    engine = sqlite_engine
    build(engine, 30)
    cp = signed_checkpoint(engine)
    entries = rows(engine)
    target = entries[11]  # seq 12
    target["reason"] = "replaced"
    changed = rechain(entries, 11)
    # REPLACE deletes the old row without firing DELETE triggers; migration 0011's INSERT trigger refuses it
    sql, params = _replace_statement(changed[0])
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(sql), params)
    assert verify(engine=engine).ok
    # an attacker who drops that trigger too replaces entry 12 and every entry after it
    with attacker(engine) as conn:
        for row in changed:
            conn.execute(text(_replace_statement(row)[0]), _replace_statement(row)[1])
        set_head(conn, changed[-1])
    assert [r["reason"] for r in rows(engine)][11] == "replaced"
    for result in (verify(engine=engine), verify(engine=engine, checkpoint=cp)):
        p = result.problem
        assert (p.kind, p.seq, p.entry_id) == ("edited", 12, target["id"])
    found("SQLite INSERT OR REPLACE", "refused; with the trigger dropped, entries 12 on replaced", engine, cp)


# --------------------------------------------------------------------------- 7. PostgreSQL TRUNCATE and re-insert


@pytest.mark.postgres
@pytest.mark.parametrize("rewrite", ["one-edited", "tail-dropped", "one-dropped-renumbered"])
def test_postgres_truncate_and_reinsert_is_found(engine, rewrite):
    build(engine, 40)
    cp = signed_checkpoint(engine)
    entries = rows(engine)
    old_head = head_row(engine)
    if rewrite == "one-edited":
        entries[14]["reason"] = "rewritten"
        rechain(entries, 14)
        again, expected = entries, ("edited", 15, entries[14]["id"])
    elif rewrite == "tail-dropped":
        again, expected = entries[:30], ("deleted", 31, None)
    else:
        again = entries[:14] + entries[15:]
        for row in again[14:]:
            row["seq"] -= 1
        expected = ("deleted", 15, entries[15]["id"])
    with engine.begin() as conn:  # TRUNCATE fires no row trigger: the append-only triggers never see it
        conn.execute(text("TRUNCATE audit_entry"))
        insert_rows(conn, again)
        if rewrite == "tail-dropped":  # the head put back at seq 30, with the only MAC the attacker has
            set_head(conn, again[-1], mac=old_head["mac"])
        else:
            set_head(conn, again[-1])
    result = verify(engine=engine, checkpoint=cp)
    p = result.problem
    assert not result.ok and (p.kind, p.seq, p.entry_id) == expected
    alone = verify(engine=engine)
    assert not alone.ok and alone.problem.seq == (30 if rewrite == "tail-dropped" else expected[1])
    found("PostgreSQL TRUNCATE and re-insert", rewrite, engine, cp)
