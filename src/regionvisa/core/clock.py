"""The one time convention: instants are stored and exchanged in UTC with an offset (RFC 3339),
and shown on pages in Korea Standard Time with the zone named, because the ministry and the
regions work on Korean time while the API and exports must stay unambiguous for any reader.

A naive datetime is UTC: SQLite hands stored instants back without a zone, and services build
ISO strings from them, so every helper here accepts a datetime or an ISO 8601 string.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

KST = ZoneInfo("Asia/Seoul")


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
