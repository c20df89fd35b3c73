"""Helpers for attacking the audit log as someone with write access to the database, but not the keys."""

from __future__ import annotations

import datetime as dt
import os
from contextlib import contextmanager

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text
from tests.actors import OFFICER

from regionvisa.audit import service
from regionvisa.audit.keys import AuditKeys
from regionvisa.core.actor import Actor
from regionvisa.db import session_scope

# What an attacker without the audit key can do at best: the documented MAC format under a key of
# their own (one guessed, or taken from another installation), for whatever key id they like.
GUESSED_KEY = os.urandom(32)
_SIGNER = Ed25519PrivateKey.generate()


def forger(key_id: str | None) -> AuditKeys:
    return AuditKeys({key_id or "a1": GUESSED_KEY}, "x", _SIGNER)


FIELDS = (
    "seq",
    "at",
    "actor",
    "action",
    "subject_type",
    "subject_id",
    "region",
    "reason",
    "inputs_digest",
    "prev_hash",
)


def build(engine, n: int, *, start: int = 0, actor: Actor = OFFICER) -> list[service.Recorded]:
    """n decisions, each in its own transaction, as the application writes them."""
    out = []
    for i in range(start, start + n):
        with session_scope(engine=engine) as session:
            out.append(
                service.record(
                    session=session,
                    actor=actor,
                    action="applications.decide",
                    subject=("application", i),
                    reason=f"decision {i}",
                    inputs={"outcome": "eligible" if i % 2 else "ineligible", "points": i, "on": dt.date(2025, 4, 2)},
                    region="26",
                )
            )
    return out


def rows(engine) -> list[dict]:
    """Every entry as a dict of typed values, in insertion order."""
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(service.entries).order_by(service.entries.c.id)).mappings()]


def head_row(engine) -> dict | None:
    with engine.connect() as conn:
        row = conn.execute(select(service.head)).mappings().first()
    return dict(row) if row else None


def fields(row: dict) -> dict:
    return {name: row[name] for name in FIELDS}


def forge(row: dict) -> str:
    """A MAC for `row` as the attacker can make one: the right format, the wrong key."""
    return service.entry_mac(keys=forger(row["key_id"]), key_id=row["key_id"], **fields(row))


@contextmanager
def attacker(engine):
    """A transaction with the append-only triggers out of the way, as the database's owner can."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
        else:
            for name in ("audit_entry_no_update", "audit_entry_no_delete", "audit_entry_no_replace"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
        yield conn
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_entry ENABLE TRIGGER USER"))


def write_rows(conn, changed: list[dict]) -> None:
    """UPDATE each entry to its dict's values (seq moved out of the way first, so renumbering works)."""
    for row in changed:
        conn.execute(text("UPDATE audit_entry SET seq = :neg WHERE id = :id"), {"neg": -row["id"], "id": row["id"]})
    for row in changed:
        conn.execute(
            service.entries.update()
            .where(service.entries.c.id == row["id"])
            .values(**{k: v for k, v in row.items() if k != "id"})
        )


def rechain(entries: list[dict], start_index: int) -> list[dict]:
    """Re-link and re-MAC entries[start_index:] as an attacker would after changing one of them."""
    prev = entries[start_index - 1]["hash"] if start_index else service.GENESIS
    changed = []
    for row in entries[start_index:]:
        row["prev_hash"] = prev
        row["hash"] = forge(row)
        prev = row["hash"]
        changed.append(row)
    return changed


def set_head(conn, last: dict | None, *, mac: str | None = "forged") -> None:
    """Point the head at `last` (None: an empty log), with a MAC the attacker makes ('forged') or a given one."""
    if last is None:
        values = {"entries": 0, "last_entry_id": None, "last_hash": service.GENESIS, "key_id": None, "mac": None}
    else:
        if mac == "forged":
            mac = service.head_mac(
                keys=forger(last["key_id"]),
                key_id=last["key_id"],
                entries=last["seq"],
                last_entry_id=last["id"],
                last_hash=last["hash"],
            )
        values = {
            "entries": last["seq"],
            "last_entry_id": last["id"],
            "last_hash": last["hash"],
            "key_id": last["key_id"],
            "mac": mac,
        }
    conn.execute(service.head.update().where(service.head.c.id == 1).values(**values))


def insert_rows(conn, new_rows: list[dict]) -> None:
    if new_rows:
        conn.execute(service.entries.insert(), new_rows)
