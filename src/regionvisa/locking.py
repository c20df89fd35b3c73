"""One lock order for every write path, and concurrent conflicts answered as a 409.

Lock order. A transaction that writes more than one of these takes them in this order, never
the other way round, so two transactions can only ever wait for each other in one direction
and no deadlock can form:

1. the application row: `lock_row` before its state is read and checked (SELECT … FOR UPDATE on
   PostgreSQL; SQLite has no row locks, so there the database write lock, taken at once by a
   no-op UPDATE of that row, stands for it);
2. the person and status-grant rows that issuance writes;
3. the quota ledger row, locked by the conditional UPDATEs of `quotas.service`;
4. the audit head, last: the callers record their audit entries after every other write of the
   transaction (`audit.service.record` locks the head with its first statement).

A path that needs fewer of them skips the others but keeps the order (an adjustment of a quota
takes 3 then 4; a recommendation 1, 3, 4; an issuance 1, 2, 3, 4).

Conflicts. Waiting is bounded: a PostgreSQL row lock is released when its holder commits, and
SQLite waits up to its busy timeout. Should the database still refuse (a deadlock, serialization
failure or lock time-out on PostgreSQL, SQLITE_BUSY or SQLITE_LOCKED on SQLite), the request lost
a race: `conflicts_answered` turns the error into a 409 `concurrent_change` in the one error
shape, after which the caller's transaction is rolled back and nothing of it remains. It is not a
server fault, and the user can simply try again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from regionvisa.core.errors import Conflict

F = TypeVar("F", bound=Callable[..., Any])

# PostgreSQL SQLSTATEs of a lost race: serialization_failure, deadlock_detected, lock_not_available
POSTGRES_CONFLICTS = frozenset({"40001", "40P01", "55P03"})
SQLITE_CONFLICTS = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED (primary result codes)


class ConcurrentChange(Conflict):
    def __init__(self) -> None:
        super().__init__(
            code="concurrent_change",
            ko="다른 사용자가 같은 항목을 동시에 변경하고 있어 처리하지 못했습니다. "
            "아무것도 바뀌지 않았으니 다시 시도하십시오.",
            en="someone else was changing the same record at the same moment; nothing was changed, please try again",
        )


def is_conflict(exc: BaseException) -> bool:
    """Whether a database error means "another transaction got there first" (not a fault)."""
    if not isinstance(exc, DBAPIError) or exc.connection_invalidated:
        return False
    orig = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if state is not None:
        return state in POSTGRES_CONFLICTS
    code = getattr(orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in SQLITE_CONFLICTS


@contextmanager
def conflicts_answered() -> Iterator[None]:
    """The one place where a lost race becomes a 409 (`ConcurrentChange`); other errors pass."""
    try:
        yield
    except DBAPIError as exc:
        if is_conflict(exc):
            raise ConcurrentChange() from exc
        raise


def answers_conflicts(fn: F) -> F:
    """Decorator form of `conflicts_answered`, for the service functions that write."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with conflicts_answered():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def lock_row(*, session: Session, model: type, ident: Any, touch: str) -> Any:
    """Lock one row (by primary key) for the rest of the transaction and return it freshly read.

    `touch` names a column that is not part of any key; on SQLite the no-op UPDATE of it takes the
    database write lock before anything is read, so the state read afterwards is the latest.
    """
    key = model.__mapper__.primary_key[0]
    if session.get_bind().dialect.name == "sqlite":
        column = getattr(model, touch)
        session.execute(
            update(model).where(key == ident).values({touch: column}).execution_options(synchronize_session=False)
        )
    query = select(model).where(key == ident).with_for_update().execution_options(populate_existing=True)
    return session.scalars(query).first()
