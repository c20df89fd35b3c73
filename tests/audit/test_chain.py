"""The hash chain: append, verify, tamper detection (by SQL), redaction, append-only, concurrency."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from tests.actors import OFFICER, SYSTEM

from regionvisa.accounts.policy import system_actor
from regionvisa.audit import service
from regionvisa.audit.service import GENESIS, record, verify
from regionvisa.db import session_scope


def append(engine, n: int, start: int = 0) -> list[service.Recorded]:
    out = []
    for i in range(start, start + n):
        with session_scope(engine=engine) as session:
            out.append(
                record(
                    session=session,
                    actor=OFFICER,
                    action="applications.decide",
                    subject=("application", i),
                    reason=f"decision {i}",
                    inputs={"outcome": "eligible" if i % 2 else "ineligible", "points": i, "on": dt.date(2025, 4, 2)},
                    region="26",
                )
            )
    return out


def tamper(engine, *statements: str, params: dict | None = None) -> None:
    """Change the log behind the service's back, as someone with database access could."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_entry_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_entry_no_delete"))
        for statement in statements:
            conn.execute(text(statement), params or {})
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_append_only"))


def entry_id(engine, seq: int) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT id FROM audit_entry WHERE seq = :s"), {"s": seq}).scalar_one()


def test_record_builds_a_chain(engine):
    entries = append(engine, 5)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT seq, prev_hash, hash, inputs_digest FROM audit_entry ORDER BY id")).all()
    assert rows[0].prev_hash == GENESIS
    assert all(rows[i].prev_hash == rows[i - 1].hash for i in range(1, 5))
    assert len({r.hash for r in rows}) == 5
    result = verify(engine=engine)
    assert result.ok and result.entries == 5 and result.head_hash == rows[-1].hash
    assert result.problem is None


def test_empty_log_verifies(engine):
    result = verify(engine=engine)
    assert result.ok and result.entries == 0


def test_record_checks_its_arguments(engine):
    with session_scope(engine=engine) as session, pytest.raises(ValueError):
        record(session=session, actor=SYSTEM, action="a.b", subject="nothing", reason="r", inputs={})
    with session_scope(engine=engine) as session, pytest.raises(ValueError):
        record(session=session, actor=SYSTEM, action="a.b", subject=("t", 1), reason="", inputs={})


def test_inputs_digest_is_sha256_of_canonical_json(engine):
    append(engine, 1)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT inputs, inputs_digest FROM audit_entry")).one()
    inputs = row.inputs if isinstance(row.inputs, dict) else __import__("json").loads(row.inputs)
    assert inputs == {"on": "2025-04-02", "outcome": "ineligible", "points": 0}
    assert row.inputs_digest == service.sha256_hex('{"on":"2025-04-02","outcome":"ineligible","points":0}')


def test_personal_identifiers_are_never_stored_raw(engine):
    raw = {
        "name": "Nguyen Van A",
        "passport_no": "C1234567",
        "person_id": "P00000001",
        "applicant": {"birth_date": dt.date(1998, 3, 4), "family_name": "Nguyen"},
        "people": [{"full_name": "Li Na"}],
        "password": "hunter2-hunter2",
    }
    with session_scope(engine=engine) as session:
        record(
            session=session,
            actor=OFFICER,
            action="applications.decide",
            subject=("application", 1),
            reason="r",
            inputs=raw,
        )
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT inputs FROM audit_entry")).scalar_one()
    stored_text = str(stored)
    for secret in ("Nguyen", "C1234567", "1998-03-04", "Li Na", "hunter2"):
        assert secret not in stored_text
    assert "P00000001" in stored_text  # the pseudonymous record id stays, so the entry can be followed up
    assert service.personal_digest("C1234567") in stored_text  # and the original can still be matched
    assert verify(engine=engine).ok


def test_edited_entry_is_found(engine):
    append(engine, 5)
    tamper(engine, "UPDATE audit_entry SET reason = 'nothing to see' WHERE seq = 3")
    result = verify(engine=engine)
    assert not result.ok
    assert (result.problem.kind, result.problem.seq, result.problem.entry_id) == ("edited", 3, entry_id(engine, 3))
    assert "edited" in result.problem.message


def test_edited_inputs_are_found(engine):
    append(engine, 4)
    tamper(engine, """UPDATE audit_entry SET inputs = '{"outcome": "eligible", "points": 99}' WHERE seq = 2""")
    result = verify(engine=engine)
    assert (result.problem.kind, result.problem.seq) == ("edited", 2)
    assert "inputs" in result.problem.message


def test_edited_and_rehashed_entry_is_found(engine):
    append(engine, 5)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM audit_entry WHERE seq = 2")).mappings().one()
    forged = service.entry_hash(
        seq=row["seq"],
        at=row["at"] if isinstance(row["at"], dt.datetime) else dt.datetime.fromisoformat(row["at"]),
        actor="someone.else",
        action=row["action"],
        subject_type=row["subject_type"],
        subject_id=row["subject_id"],
        region=row["region"],
        reason=row["reason"],
        inputs_digest=row["inputs_digest"],
        prev_hash=row["prev_hash"],
    )
    tamper(engine, "UPDATE audit_entry SET actor = 'someone.else', hash = :h WHERE seq = 2", params={"h": forged})
    result = verify(engine=engine)
    assert (result.problem.kind, result.problem.seq) == ("edited", 2)
    assert "re-hashed" in result.problem.message


@pytest.mark.parametrize(("deleted", "reported"), [(1, 2), (3, 4), (4, 5)])
def test_deleted_entry_is_found(engine, deleted, reported):
    append(engine, 6)
    tamper(engine, f"DELETE FROM audit_entry WHERE seq = {deleted}")
    result = verify(engine=engine)
    assert (result.problem.kind, result.problem.seq) == ("deleted", reported)
    assert f"seq {deleted}" in result.problem.message


def test_deleted_newest_entries_are_found(engine):
    append(engine, 6)
    tamper(engine, "DELETE FROM audit_entry WHERE seq >= 5")
    result = verify(engine=engine)
    assert result.problem.kind == "deleted" and "newest" in result.problem.message
    assert "seq 5–6" in result.problem.message


def test_reordered_entries_are_found(engine):
    append(engine, 5)
    second, third = entry_id(engine, 2), entry_id(engine, 3)
    tamper(
        engine,
        f"UPDATE audit_entry SET id = -1 WHERE id = {second}",
        f"UPDATE audit_entry SET id = {second} WHERE id = {third}",
        f"UPDATE audit_entry SET id = {third} WHERE id = -1",
    )
    result = verify(engine=engine)
    assert (result.problem.kind, result.problem.entry_id, result.problem.seq) == ("reordered", second, 3)


def test_the_first_problem_is_reported(engine):
    append(engine, 6)
    tamper(engine, "UPDATE audit_entry SET reason = 'x' WHERE seq IN (2, 5)", "DELETE FROM audit_entry WHERE seq = 4")
    assert verify(engine=engine).problem.seq == 2


def test_the_table_refuses_updates_and_deletes(engine):
    append(engine, 2)
    for statement in ("UPDATE audit_entry SET reason = 'x'", "DELETE FROM audit_entry"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert verify(engine=engine).ok and verify(engine=engine).entries == 2


def test_a_rolled_back_decision_leaves_no_entry(engine):
    append(engine, 2)
    with pytest.raises(RuntimeError), session_scope(engine=engine) as session:
        record(session=session, actor=SYSTEM, action="quotas.adjust", subject=("quota", 1), reason="r", inputs={})
        raise RuntimeError("the decision failed")
    append(engine, 1, start=10)
    result = verify(engine=engine)
    assert result.ok and result.entries == 3


def test_concurrent_writers_do_not_fork_the_chain(engine):
    writers, each = 8, 12
    errors: list[BaseException] = []
    barrier = threading.Barrier(writers)

    def work(n: int) -> None:
        try:
            barrier.wait()
            for i in range(each):
                with session_scope(engine=engine) as session:
                    # a read before the append, as a real decision would do
                    session.execute(text("SELECT COUNT(*) FROM region")).scalar_one()
                    record(
                        session=session,
                        actor=system_actor("cli", detail=f"writer{n}"),
                        action="test.concurrent",
                        subject=("w", f"{n}-{i}"),
                        reason="concurrency",
                        inputs={"n": n, "i": i},
                    )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with engine.connect() as conn:
        seqs = [r[0] for r in conn.execute(text("SELECT seq FROM audit_entry ORDER BY id"))]
        prevs = conn.execute(text("SELECT COUNT(DISTINCT prev_hash) FROM audit_entry")).scalar_one()
    assert seqs == list(range(1, writers * each + 1))
    assert prevs == writers * each  # no two entries share a predecessor: no fork
    result = verify(engine=engine)
    assert result.ok and result.entries == writers * each


def test_cli_verify_reports_and_fails(cli, engine):
    append(engine, 4)
    ok = cli("audit", "verify")
    assert ok.exit_code == 0 and "4 entries" in ok.output
    tamper(engine, "UPDATE audit_entry SET actor = 'nobody' WHERE seq = 3")
    broken = cli("audit", "verify")
    assert broken.exit_code == 1
    assert f"entry {entry_id(engine, 3)} (seq 3" in broken.output and "edited" in broken.output
