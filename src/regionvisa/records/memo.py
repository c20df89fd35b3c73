"""Answers computed from the records, kept while the records are unchanged.

Pages and the API ask the same national questions again and again (flows, retention, the pilot
outcomes: seconds of work each at national scale), and records change only by imports. Each
answer is kept under its question and the records' fingerprint (each record table's highest id),
so an import makes every earlier answer unreachable. One computation per question at a time: a
second request for the same answer waits for the first instead of computing it again beside it,
which also bounds the server's memory when many readers arrive at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.engine import Engine

from regionvisa.records.columnar import records_fingerprint

T = TypeVar("T")
SIZE = 32  # answers kept per process (each is a small table), the least recently used dropped first

_answers: OrderedDict[tuple, object] = OrderedDict()
_computing: dict[tuple, threading.Lock] = {}
_guard = threading.Lock()


def remembered(*, engine: Engine, key: tuple, compute: Callable[[], T]) -> T:
    """The answer to `key` on `engine`'s current records: kept, or computed once (`compute`)."""
    full = (str(engine.url), records_fingerprint(engine=engine), *key)
    with _guard:
        if full in _answers:
            _answers.move_to_end(full)
            return _answers[full]  # type: ignore[return-value]
        lock = _computing.setdefault(full, threading.Lock())
    with lock:
        with _guard:
            if full in _answers:  # computed by the request this one waited for
                return _answers[full]  # type: ignore[return-value]
        value = compute()
        with _guard:
            _answers[full] = value
            while len(_answers) > SIZE:
                _answers.popitem(last=False)
            _computing.pop(full, None)
    return value


def forget() -> None:
    """Drop every kept answer (tests that rewrite records in place, which no import does)."""
    with _guard:
        _answers.clear()
