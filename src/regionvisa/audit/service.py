"""The audit log: one function to append (`record`), one to check the chain (`verify`).

Every decision in every domain is recorded with `record(session, actor=…, action=…,
subject=(type, id), reason=…, inputs={…}, region=…)` inside the same transaction as the
decision itself, so both commit or neither does.

Tamper evidence. Each entry holds `seq` (1, 2, 3, … without gaps), the SHA-256 of the
canonical JSON of its inputs (`inputs_digest`), the previous entry's hash (`prev_hash`) and
its own hash over all of that. `verify` walks the entries in insertion order and reports the
first one that was edited (content no longer matches its hash, or the next entry no longer
points at it), deleted (a gap in `seq`, or the head counts more entries than exist) or
reordered (`seq` out of order). The head hash it prints can be copied elsewhere (a report,
a ticket) to anchor the log against someone who rewrites it wholesale.

Concurrency. Appends are serialised on the single `audit_head` row: the first statement of
`record` updates it, which takes a row lock on PostgreSQL (like SELECT … FOR UPDATE) and the
database write lock on SQLite; both are held until the caller commits, so the chain cannot fork.

Personal identifiers (names, passport numbers, birth dates, contact details) are never stored
raw: their values are replaced by a keyed digest (HMAC-SHA256 under a key derived from
REGIONVISA_SECRET_KEY), which still lets someone who holds the original inputs show that an
entry saw them. Secrets (passwords, tokens) are dropped altogether.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from regionvisa.audit.models import AuditEntry, AuditHead
from regionvisa.config import get_settings

GENESIS = "0" * 64
HASH_VERSION = 1
PERSONAL_KEYS = frozenset(
    {
        "name",
        "full_name",
        "person_name",
        "applicant_name",
        "display_name",
        "given_name",
        "family_name",
        "passport_no",
        "passport_number",
        "passport",
        "birth_date",
        "date_of_birth",
        "email",
        "phone",
        "address",
        "alien_registration_no",
    }
)
SECRET_KEYS = frozenset({"password", "new_password", "current_password", "token", "secret", "api_token"})
REDACTED = "[redacted]"

entries = AuditEntry.__table__
head = AuditHead.__table__


# --------------------------------------------------------------------------- canonical form


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return _utc(value).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, PurePath | uuid.UUID):
        return str(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    raise TypeError(f"audit inputs: cannot serialise {type(value).__name__}")


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 text kept: the same data always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default)


def sha256_hex(text: str | bytes) -> str:
    return hashlib.sha256(text.encode("utf-8") if isinstance(text, str) else text).hexdigest()


def _personal_key() -> bytes:
    secret = get_settings().secret_key.encode("utf-8")
    return hmac.new(secret, b"regionvisa/audit/personal-identifiers", hashlib.sha256).digest()


def personal_digest(value: Any) -> str:
    text = value if isinstance(value, str) else canonical_json(value)
    return "hmac-sha256:" + hmac.new(_personal_key(), text.encode("utf-8"), hashlib.sha256).hexdigest()


def redact(value: Any) -> Any:
    """Replace personal identifiers by their keyed digest and drop secrets, at any depth."""
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            lowered = str(key).lower()
            if lowered in SECRET_KEYS:
                out[str(key)] = REDACTED
            elif lowered in PERSONAL_KEYS and item is not None:
                out[str(key)] = personal_digest(item)
            else:
                out[str(key)] = redact(item)
        return out
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _at_text(value: dt.datetime) -> str:
    return _utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(
    *,
    seq: int,
    at: dt.datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    region: str | None,
    reason: str,
    inputs_digest: str,
    prev_hash: str,
) -> str:
    return sha256_hex(
        canonical_json(
            {
                "v": HASH_VERSION,
                "seq": seq,
                "at": _at_text(at),
                "actor": actor,
                "action": action,
                "subject_type": subject_type,
                "subject_id": subject_id,
                "region": region,
                "reason": reason,
                "inputs_digest": inputs_digest,
                "prev_hash": prev_hash,
            }
        )
    )


# --------------------------------------------------------------------------- append


@dataclass(frozen=True)
class Recorded:
    id: int
    seq: int
    at: dt.datetime
    hash: str


def _subject(subject: Any) -> tuple[str, str]:
    if isinstance(subject, tuple | list) and len(subject) == 2:
        return str(subject[0]), str(subject[1])
    if isinstance(subject, str) and ":" in subject:
        kind, _, ident = subject.partition(":")
        return kind, ident
    raise ValueError(f"audit subject must be (type, id) or 'type:id', got {subject!r}")


def _lock_head(session) -> tuple[int, str]:
    """Take the chain's lock and return (entries, last hash); creates the head on first use."""
    bump = update(head).where(head.c.id == 1).values(entries=head.c.entries).returning(head.c.entries, head.c.last_hash)
    row = session.execute(bump).first()
    if row is None:
        dialect = session.get_bind().dialect.name
        values = {"id": 1, "entries": 0, "last_entry_id": None, "last_hash": GENESIS}
        if dialect == "postgresql":
            stmt = postgresql.insert(head).values(**values).on_conflict_do_nothing(index_elements=["id"])
        elif dialect == "sqlite":
            stmt = sqlite.insert(head).values(**values).on_conflict_do_nothing(index_elements=["id"])
        else:  # pragma: no cover
            stmt = insert(head).values(**values)
        session.execute(stmt)
        row = session.execute(bump).first()
    assert row is not None
    return int(row[0]), str(row[1])


def record(
    session,
    *,
    actor: Any,
    action: str,
    subject: tuple[str, Any] | str,
    reason: str,
    inputs: Mapping[str, Any] | None = None,
    region: str | None = None,
) -> Recorded:
    """Append one entry in the caller's transaction (a Session or a Connection).

    `actor` is a Principal or a name; `subject` is `(type, id)` such as `("application", 42)`;
    `inputs` is what the decision saw (personal identifiers are digested, secrets dropped).
    """
    if not action or not reason:
        raise ValueError("audit entries need an action and a reason")
    subject_type, subject_id = _subject(subject)
    actor_name = str(getattr(actor, "username", actor))
    stored_inputs = json.loads(canonical_json(redact(dict(inputs or {}))))
    inputs_digest = sha256_hex(canonical_json(stored_inputs))
    count, prev_hash = _lock_head(session)
    seq = count + 1
    at = dt.datetime.now(dt.UTC)  # taken under the lock, so time order follows the chain
    digest = entry_hash(
        seq=seq,
        at=at,
        actor=actor_name,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        region=region,
        reason=reason,
        inputs_digest=inputs_digest,
        prev_hash=prev_hash,
    )
    entry_id = session.execute(
        insert(entries)
        .values(
            seq=seq,
            at=at,
            actor=actor_name,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            region=region,
            reason=reason,
            inputs_digest=inputs_digest,
            inputs=stored_inputs,
            prev_hash=prev_hash,
            hash=digest,
        )
        .returning(entries.c.id)
    ).scalar_one()
    session.execute(update(head).where(head.c.id == 1).values(entries=seq, last_entry_id=entry_id, last_hash=digest))
    return Recorded(id=entry_id, seq=seq, at=at, hash=digest)


# --------------------------------------------------------------------------- verify


@dataclass(frozen=True)
class Problem:
    kind: str  # edited | deleted | reordered
    entry_id: int | None
    seq: int | None
    message: str

    def as_dict(self) -> dict:
        return {"kind": self.kind, "entry_id": self.entry_id, "seq": self.seq, "message": self.message}


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int
    head_hash: str
    problem: Problem | None

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head_hash": self.head_hash,
            "problem": self.problem.as_dict() if self.problem else None,
        }


def _describe(row) -> str:
    return f"entry {row.id} (seq {row.seq}, {_at_text(row.at)}, {row.action} by {row.actor})"


def verify(engine: Engine) -> VerifyResult:
    """Walk the whole chain in insertion order; report the first broken entry."""
    with engine.connect() as conn:
        head_row = conn.execute(select(head.c.entries, head.c.last_hash).where(head.c.id == 1)).first()
        rows: Iterable = conn.execution_options(yield_per=2000).execute(select(entries).order_by(entries.c.id))
        prev = None
        checked = 0
        for row in rows:
            checked += 1
            expected_seq = prev.seq + 1 if prev is not None else 1
            expected_prev_hash = prev.hash if prev is not None else GENESIS
            if row.seq < expected_seq:
                return _fail(
                    "reordered",
                    row,
                    f"{_describe(row)}: reordered: it comes after seq {expected_seq - 1} but its seq is {row.seq}",
                    checked,
                )
            if row.seq > expected_seq:
                if _seq_exists(engine, expected_seq):
                    return _fail(
                        "reordered",
                        row,
                        f"{_describe(row)}: reordered: it stands where seq {expected_seq} belongs",
                        checked,
                    )
                missing = f"seq {expected_seq}" if row.seq == expected_seq + 1 else f"seq {expected_seq}–{row.seq - 1}"
                return _fail(
                    "deleted",
                    row,
                    f"{_describe(row)}: deleted: the entries before it ({missing}) are missing",
                    checked,
                )
            if sha256_hex(canonical_json(row.inputs)) != row.inputs_digest:
                return _fail("edited", row, f"{_describe(row)}: edited: its inputs do not match their digest", checked)
            recomputed = entry_hash(
                seq=row.seq,
                at=row.at,
                actor=row.actor,
                action=row.action,
                subject_type=row.subject_type,
                subject_id=row.subject_id,
                region=row.region,
                reason=row.reason,
                inputs_digest=row.inputs_digest,
                prev_hash=row.prev_hash,
            )
            if recomputed != row.hash:
                return _fail("edited", row, f"{_describe(row)}: edited: its content does not match its hash", checked)
            if row.prev_hash != expected_prev_hash:
                assert prev is not None or row.seq == 1
                culprit = prev if prev is not None else row
                return _fail(
                    "edited",
                    culprit,
                    f"{_describe(culprit)}: edited and re-hashed: the next entry no longer points at it",
                    checked,
                )
            prev = row
    last_seq = prev.seq if prev is not None else 0
    last_hash = prev.hash if prev is not None else GENESIS
    head_entries, head_hash = (int(head_row[0]), str(head_row[1])) if head_row else (0, GENESIS)
    if head_entries > last_seq:
        gone = f"seq {last_seq + 1}" if head_entries == last_seq + 1 else f"seq {last_seq + 1}–{head_entries}"
        return VerifyResult(
            False,
            checked,
            head_hash,
            Problem("deleted", None, last_seq + 1, f"deleted: the newest entries ({gone}) are missing"),
        )
    if head_entries != last_seq or head_hash != last_hash:
        return VerifyResult(
            False,
            checked,
            head_hash,
            Problem("edited", prev.id if prev else None, last_seq, "edited: the chain head does not match the log"),
        )
    return VerifyResult(True, checked, last_hash, None)


def _seq_exists(engine: Engine, seq: int) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(entries.c.id).where(entries.c.seq == seq)).first() is not None


def _fail(kind: str, row, message: str, checked: int) -> VerifyResult:
    return VerifyResult(False, checked, "", Problem(kind, row.id, row.seq, message))


# --------------------------------------------------------------------------- search


@dataclass
class Filters:
    actor: str | None = None
    action: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    region: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def as_query(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in vars(self).items() if v}


def _where(filters: Filters) -> list:
    clauses = []
    if filters.actor:
        clauses.append(entries.c.actor == filters.actor)
    if filters.action:
        if filters.action.endswith("*"):
            clauses.append(entries.c.action.startswith(filters.action[:-1], autoescape=True))
        else:
            clauses.append(entries.c.action == filters.action)
    if filters.subject_type:
        clauses.append(entries.c.subject_type == filters.subject_type)
    if filters.subject_id:
        clauses.append(entries.c.subject_id == filters.subject_id)
    if filters.region:
        clauses.append(entries.c.region == filters.region)
    if filters.date_from:
        start = dt.datetime.combine(filters.date_from, dt.time(), tzinfo=dt.UTC)
        clauses.append(entries.c.at >= start)
    if filters.date_to:
        end = dt.datetime.combine(filters.date_to + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        clauses.append(entries.c.at < end)
    return clauses


def search(session, filters: Filters, *, offset: int, limit: int) -> tuple[int, list[dict]]:
    """(total, entries newest first) matching the filters."""
    clauses = _where(filters)
    total = session.execute(select(func.count()).select_from(entries).where(*clauses)).scalar_one()
    rows = session.execute(
        select(entries).where(*clauses).order_by(entries.c.id.desc()).offset(offset).limit(limit)
    ).all()
    return int(total), [entry_dict(r) for r in rows]


def entry_dict(row) -> dict:
    return {
        "id": row.id,
        "seq": row.seq,
        "at": _utc(row.at),
        "actor": row.actor,
        "action": row.action,
        "subject_type": row.subject_type,
        "subject_id": row.subject_id,
        "region": row.region,
        "reason": row.reason,
        "inputs_digest": row.inputs_digest,
        "inputs": row.inputs,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }
