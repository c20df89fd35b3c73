"""Verifying while decisions are being recorded never reports a broken chain: the head is read
before the entries, and entries appended after that read carry MACs of their own."""

from __future__ import annotations

import threading

from regionvisa.accounts.policy import system_actor
from regionvisa.audit import checkpoint as checkpoints
from regionvisa.audit.service import record, verify
from regionvisa.db import session_scope


def test_verify_and_checkpoint_during_concurrent_appends(engine):
    writers, each = 4, 25
    done = threading.Event()
    errors: list[BaseException] = []
    results = []

    def write(n: int) -> None:
        try:
            for i in range(each):
                with session_scope(engine=engine) as session:
                    record(
                        session=session,
                        actor=system_actor("cli", detail=f"w{n}"),
                        action="test.concurrent",
                        subject=("w", f"{n}-{i}"),
                        reason="r",
                    )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def check() -> None:
        try:
            while not done.is_set():
                results.append(verify(engine=engine))
                made, _ = checkpoints.create(engine=engine)
                results.append(verify(engine=engine, checkpoint=made))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    checker = threading.Thread(target=check)
    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    checker.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    checker.join()
    assert not errors, errors
    assert len(results) >= 2, len(results)
    broken = [r.problem.message for r in results if not r.ok]
    assert broken == []
    final = verify(engine=engine)
    assert final.ok and final.entries == writers * each
