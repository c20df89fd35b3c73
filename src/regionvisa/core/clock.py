"""The one time convention: instants are stored and exchanged in UTC with an offset (RFC 3339),
and shown on pages in Korea Standard Time with the zone named, because the ministry and the
regions work on Korean time while the API and exports must stay unambiguous for any reader.

A naive datetime is UTC: SQLite hands stored instants back without a zone, and services build
ISO strings from them, so every helper here accepts a datetime or an ISO 8601 string.

`now()` is the instant every stored business time takes (an application's history, a quota
movement, a document's upload). A history recorded after the fact, such as the demo's
applications, which stand for decisions taken over 2025, is written inside `replaying(at)`:
those rows then carry the instant the decision was taken. The audit log never replays: its
entries keep the wall-clock instant they were recorded at (their order is the chain's), and an
entry written during a replay names the replayed instant as `effective_at` in its inputs, so an
auditor sees both. Nothing a transport calls enters a replay.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from zoneinfo import ZoneInfo

KST = ZoneInfo("Asia/Seoul")
_REPLAYED: ContextVar[dt.datetime | None] = ContextVar("regionvisa_replayed_instant", default=None)


def now() -> dt.datetime:
    """The current business instant (aware UTC): the replayed one inside `replaying`, else the clock's."""
    return _REPLAYED.get() or dt.datetime.now(dt.UTC)


def replayed() -> dt.datetime | None:
    """The instant being replayed, or None when the history is being written as it happens."""
    return _REPLAYED.get()


@contextmanager
def replaying(at: dt.datetime) -> Iterator[dt.datetime]:
    """Write the business times of the enclosed steps as of `at` (aware; not in the future)."""
    if at.tzinfo is None:
        raise ValueError("a replayed instant needs its offset")
    at = at.astimezone(dt.UTC)
    if at > dt.datetime.now(dt.UTC):
        raise ValueError(f"cannot replay an instant in the future: {at.isoformat()}")
    token = _REPLAYED.set(at)
    try:
        yield at
    finally:
        _REPLAYED.reset(token)


def as_utc(value: dt.datetime | str | None) -> dt.datetime | None:
    """`value` as an aware UTC datetime; a naive one (or a string without offset) is taken as UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, dt.datetime):
        raise TypeError(f"{type(value).__name__} is not an instant")
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def rfc3339(value: dt.datetime | str | None) -> str | None:
    """The form of an instant in the API and in exports: `2025-07-01T09:30:00Z`."""
    utc = as_utc(value)
    return None if utc is None else utc.isoformat().replace("+00:00", "Z")


def in_kst(value: dt.datetime | str | None) -> dt.datetime | None:
    utc = as_utc(value)
    return None if utc is None else utc.astimezone(KST)


def kst_text(value: dt.datetime | str | None, *, seconds: bool = False) -> str:
    """Wall-clock time in Korea, without the zone label (the caller adds it in its language)."""
    local = in_kst(value)
    if local is None:
        return ""
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
