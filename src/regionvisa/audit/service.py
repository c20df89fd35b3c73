"""The audit log: one function to append (`record`), one to check the chain (`verify`).

Every decision in every domain is recorded with `record(session, actor=…, action=…,
subject=(type, id), reason=…, inputs={…}, region=…)` inside the same transaction as the
decision itself, so both commit or neither does.

Tamper evidence against someone who can write to the database. Each entry holds `seq` (1, 2,
3, … without gaps), the SHA-256 of the canonical JSON of its inputs (`inputs_digest`), the
previous entry's MAC (`prev_hash`), the id of the audit key it was written under (`key_id`)
and its own HMAC-SHA256 over all of that (`hash`). The keys live outside the database
(`audit.keys`), so whoever rewrites entries, renumbers them or appends new ones cannot compute
their MACs. The head row carries the count and MAC of the newest entry and a MAC of its own,
so cutting the newest entries off and resetting the head shows too. What only the database
holds can still be wiped whole or replaced by an older copy; signed checkpoints kept elsewhere
(`audit.checkpoint`) catch that: `verify(engine, checkpoint=…)` reports a log that no longer
reaches the checkpoint's head, or differs from it below that head.

`verify` walks the entries in insertion order and reports the first one that was edited or
forged (its MAC does not match), deleted (a gap in `seq`, an entry renumbered into a gap, or
the head or a checkpoint counts more entries than exist), reordered (`seq` out of order) or
written under a key that is not configured.

Concurrency. Appends are serialised on the single `audit_head` row: the first statement of
`record` updates it, which takes a row lock on PostgreSQL (like SELECT … FOR UPDATE) and the
database write lock on SQLite; both are held until the caller commits, so the chain cannot fork.
The MACs cost microseconds (the key's HMAC state is prepared once), inside the same statements.

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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from regionvisa.audit import names
from regionvisa.audit.keys import AuditKeys, audit_keys
from regionvisa.audit.models import AuditEntry, AuditHead
from regionvisa.config import get_settings
from regionvisa.core import clock
from regionvisa.core.actor import ensure_actor

if TYPE_CHECKING:
    from regionvisa.audit.checkpoint import Checkpoint

GENESIS = "0" * 64
HASH_VERSION = 1  # entries before migration 0011: plain SHA-256
MAC_VERSION = 2  # HMAC-SHA256 under an audit key
RENUMBER_SEARCH = 4096  # how far past its seq a failing entry is tried, to tell renumbering from editing
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


def _content(
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
) -> dict[str, Any]:
    return {
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


def entry_hash(**fields: Any) -> str:
    """The plain SHA-256 of entries written before the MAC (anyone can compute it: legacy only)."""
    return sha256_hex(canonical_json({"v": HASH_VERSION, **_content(**fields)}))


def _mac_message(content: Mapping[str, Any], key_id: str) -> bytes:
    return canonical_json({"v": MAC_VERSION, "key_id": key_id, **content}).encode("utf-8")


def entry_mac(*, key_id: str, keys: AuditKeys | None = None, **fields: Any) -> str:
    """HMAC-SHA256 of an entry's content under the audit key `key_id` (the entry's `hash`)."""
    return (keys or audit_keys()).mac(key_id, _mac_message(_content(**fields), key_id))


def head_mac(
    *, key_id: str, entries: int, last_entry_id: int | None, last_hash: str, keys: AuditKeys | None = None
) -> str:
    """The head row's own MAC, so a head reset to an earlier entry (the log cut short) shows."""
    message = {"v": MAC_VERSION, "head": True, "key_id": key_id, "entries": entries}
    message |= {"last_entry_id": last_entry_id, "last_hash": last_hash}
    return (keys or audit_keys()).mac(key_id, canonical_json(message).encode("utf-8"))


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
    *,
    session,
    actor: Any,
    action: str,
    subject: tuple[str, Any] | str,
    reason: str,
    inputs: Mapping[str, Any] | None = None,
    region: str | None = None,
) -> Recorded:
    """Append one entry in the caller's transaction (a Session or a Connection).

    `actor` is an `Actor` (a signed-in user or a declared system actor): a plain name is refused,
    so nothing can be recorded, or changed, under a made-up name. `subject` is `(type, id)` such
    as `("application", 42)`; `inputs` is what the decision saw (personal identifiers are
    digested, secrets dropped).
    """
    if not action or not reason:
        raise ValueError("audit entries need an action and a reason")
    actor_name = ensure_actor(actor).username
    subject_type, subject_id = _subject(subject)
    inputs = dict(inputs or {})
    if (replayed := clock.replayed()) is not None:  # a history written after the fact names its instant
        inputs["effective_at"] = clock.rfc3339(replayed)
    stored_inputs = json.loads(canonical_json(redact(inputs)))
    inputs_digest = sha256_hex(canonical_json(stored_inputs))
    keys = audit_keys()  # resolved before the lock is taken
    key_id = keys.current
    count, prev_hash = _lock_head(session)
    seq = count + 1
    at = dt.datetime.now(dt.UTC)  # taken under the lock, so time order follows the chain
    digest = entry_mac(
        keys=keys,
        key_id=key_id,
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
            key_id=key_id,
        )
        .returning(entries.c.id)
    ).scalar_one()
    sealed = head_mac(keys=keys, key_id=key_id, entries=seq, last_entry_id=entry_id, last_hash=digest)
    session.execute(
        update(head)
        .where(head.c.id == 1)
        .values(entries=seq, last_entry_id=entry_id, last_hash=digest, key_id=key_id, mac=sealed)
    )
    return Recorded(id=entry_id, seq=seq, at=at, hash=digest)


# --------------------------------------------------------------------------- verify


@dataclass(frozen=True)
class Problem:
    # edited | deleted | reordered | rewritten (differs from a checkpoint) | unknown-key | unanchored
    kind: str
    entry_id: int | None
    seq: int | None
    message: str

    def as_dict(self) -> dict:
        return {"kind": self.kind, "entry_id": self.entry_id, "seq": self.seq, "message": self.message}


@dataclass(frozen=True)
class Head:
    """The newest entry a walk verified: what a checkpoint signs."""

    seq: int
    entry_id: int | None
    mac: str
    at: dt.datetime | None
    key_id: str | None


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int
    head_hash: str
    problem: Problem | None
    legacy_entries: int = 0  # entries before the MAC chain (migration 0011), SHA-256 only
    head: Head | None = None

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head_hash": self.head_hash,
            "problem": self.problem.as_dict() if self.problem else None,
            "legacy_entries": self.legacy_entries,
        }


def _describe(row) -> str:
    return f"entry {row.id} (seq {row.seq}, {_at_text(row.at)}, {row.action} by {row.actor})"


def _fields(row) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "at": row.at,
        "actor": row.actor,
        "action": row.action,
        "subject_type": row.subject_type,
        "subject_id": row.subject_id,
        "region": row.region,
        "reason": row.reason,
        "inputs_digest": row.inputs_digest,
        "prev_hash": row.prev_hash,
    }


def _written_as(keys: AuditKeys, row) -> int | None:
    """The seq an entry's MAC was computed for, when it was renumbered (moved down into a gap)."""
    content = _content(**_fields(row))
    for seq in range(row.seq + 1, row.seq + 1 + RENUMBER_SEARCH):
        content["seq"] = seq
        if hmac.compare_digest(keys.mac(row.key_id, _mac_message(content, row.key_id)), row.hash):
            return seq
    return None


class _Walk:
    """One pass over the entries in insertion order; `check` returns the first problem of a row."""

    def __init__(self, engine: Engine, keys: AuditKeys, checkpoint: Checkpoint | None) -> None:
        self.engine, self.keys, self.checkpoint = engine, keys, checkpoint
        self.prev = None
        self.checked = 0
        self.legacy = 0
        self.rows_at: dict[int, Any] = {}  # seq -> row, for the seqs the head and checkpoint name
        self.watch: set[int] = set()
        self.late = None  # first entry at or below the checkpoint's head written after that head
        self.head_at = _parse_time(checkpoint.head_at) if checkpoint and checkpoint.head_at else None

    def check(self, row) -> Problem | None:
        self.checked += 1
        prev = self.prev
        expected_seq = prev.seq + 1 if prev is not None else 1
        expected_prev_hash = prev.hash if prev is not None else GENESIS
        if row.seq < expected_seq:
            return _problem(
                "reordered",
                row,
                f"{_describe(row)}: reordered: it comes after seq {expected_seq - 1} but its seq is {row.seq}",
            )
        if row.seq > expected_seq:
            if _seq_exists(self.engine, expected_seq):
                return _problem(
                    "reordered", row, f"{_describe(row)}: reordered: it stands where seq {expected_seq} belongs"
                )
            missing = f"seq {expected_seq}" if row.seq == expected_seq + 1 else f"seq {expected_seq}–{row.seq - 1}"
            return _problem("deleted", row, f"{_describe(row)}: deleted: the entries before it ({missing}) are missing")
        if sha256_hex(canonical_json(row.inputs)) != row.inputs_digest:
            return _problem("edited", row, f"{_describe(row)}: edited: its inputs do not match their digest")
        problem = self._check_mac(row) if row.key_id is not None else self._check_legacy(row, prev)
        if problem is not None:
            return problem
        if row.prev_hash != expected_prev_hash:
            culprit = prev if prev is not None else row
            return _problem(
                "edited", culprit, f"{_describe(culprit)}: edited and re-hashed: the next entry no longer points at it"
            )
        if row.seq in self.watch:
            self.rows_at[row.seq] = row
        cp = self.checkpoint
        if cp is not None and row.seq <= cp.seq:
            if self.late is None and self.head_at is not None and _utc(row.at) > self.head_at:
                self.late = row
            if row.seq == cp.seq and not hmac.compare_digest(row.hash, cp.head_mac):
                return self._rewritten(row)
        self.prev = row
        return None

    def _check_mac(self, row) -> Problem | None:
        if row.key_id not in self.keys.mac_keys:
            return _problem(
                "unknown-key",
                row,
                f"{_describe(row)}: written under audit key {row.key_id!r}, which is not configured "
                "(REGIONVISA_AUDIT_KEYS): it cannot be verified",
            )
        mac = self.keys.mac(row.key_id, _mac_message(_content(**_fields(row)), row.key_id))
        if hmac.compare_digest(mac, row.hash):
            return None
        written_as = _written_as(self.keys, row)
        if written_as is not None:
            gone = f"seq {row.seq}" if written_as == row.seq + 1 else f"seq {row.seq}–{written_as - 1}"
            return _problem(
                "deleted",
                row,
                f"{_describe(row)}: deleted and renumbered: it was written as seq {written_as}; "
                f"the entries written as {gone} are missing",
            )
        return _problem(
            "edited",
            row,
            f"{_describe(row)}: edited or forged: its MAC does not match its content "
            "(changed, re-hashed, renumbered or written without the audit key)",
        )

    def _check_legacy(self, row, prev) -> Problem | None:
        if prev is not None and prev.key_id is not None:
            return _problem(
                "edited",
                row,
                f"{_describe(row)}: forged: it has no MAC, yet follows entries under the MAC chain",
            )
        if entry_hash(**_fields(row)) != row.hash:
            return _problem("edited", row, f"{_describe(row)}: edited: its content does not match its hash")
        self.legacy += 1
        return None

    def _rewritten(self, row) -> Problem:
        cp = self.checkpoint
        assert cp is not None
        if self.late is not None:
            late = self.late
            return _problem(
                "rewritten",
                late,
                f"{_describe(late)}: rewritten: it was written after the checkpoint's head (seq {cp.seq}, "
                f"{cp.head_at}) yet stands at or below it: the log was wiped or replaced from seq {late.seq}",
            )
        return _problem(
            "rewritten",
            row,
            f"{_describe(row)}: rewritten: it is not the checkpoint's head (seq {cp.seq}, MAC {cp.head_mac[:16]}…): "
            f"an entry at or below seq {cp.seq} was replaced",
        )


def _parse_time(text: str) -> dt.datetime:
    return _utc(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))


def _problem(kind: str, row, message: str) -> Problem:
    return Problem(kind, row.id, row.seq, message)


def verify(
    *,
    engine: Engine,
    checkpoint: Checkpoint | None = None,
    keys: AuditKeys | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> VerifyResult:
    """Walk the whole chain in insertion order; report the first broken, missing or forged entry.

    With a checkpoint (already checked for its signature), the log must also still reach the
    checkpoint's head and hold exactly that entry there. `progress(checked, entries)` is called
    every few thousand entries (a job reports it; at national scale the walk takes minutes).
    """
    keys = keys or audit_keys()
    walk, head_row, problem = _walk(engine, keys, checkpoint, progress)
    if head_row is None and walk.checked and problem is None:
        # the very first entry was committed, with the head it creates, between the two reads
        walk, head_row, problem = _walk(engine, keys, checkpoint, progress)
    if problem is not None:
        return _result(walk, problem)
    prev = walk.prev
    last_seq = prev.seq if prev is not None else 0
    if checkpoint is not None and last_seq < checkpoint.seq:
        return _result(walk, _short_of_checkpoint(walk, checkpoint, last_seq))
    problem = _check_head(walk, head_row, keys, last_seq)
    if problem is None and walk.legacy and (prev is None or prev.key_id is None):
        problem = Problem(
            "unanchored",
            prev.id if prev is not None else None,
            last_seq,
            f"unanchored: the {walk.legacy} entries written before the MAC chain (seq 1–{walk.legacy}) carry only "
            "a plain SHA-256 chain, which anyone with write access can recompute; the next entry anchors them "
            "(`regionvisa audit anchor`)",
        )
    return _result(walk, problem)


def head_entries(*, engine: Engine) -> int:
    """How many entries the log's head counts now (one row read, for "written since the last check")."""
    with engine.connect() as conn:
        return int(conn.execute(select(head.c.entries).where(head.c.id == 1)).scalar() or 0)


PROGRESS_EVERY = 5000


def _walk(
    engine: Engine, keys: AuditKeys, checkpoint: Checkpoint | None, progress: Callable[[int, int], None] | None = None
) -> tuple[_Walk, Any, Problem | None]:
    with engine.connect() as conn:
        # The head is read first: entries appended after this read carry valid MACs of their own.
        head_row = conn.execute(
            select(head.c.entries, head.c.last_entry_id, head.c.last_hash, head.c.key_id, head.c.mac).where(
                head.c.id == 1
            )
        ).first()
        walk = _Walk(engine, keys, checkpoint)
        if head_row is not None:
            walk.watch.add(int(head_row.entries))
        total = int(head_row.entries) if head_row is not None else 0
        rows: Iterable = conn.execution_options(yield_per=2000).execute(select(entries).order_by(entries.c.id))
        for row in rows:
            problem = walk.check(row)
            if problem is not None:
                return walk, head_row, problem
            if progress is not None and walk.checked % PROGRESS_EVERY == 0:
                progress(walk.checked, max(total, walk.checked))
    return walk, head_row, None


def _short_of_checkpoint(walk: _Walk, cp: Checkpoint, last_seq: int) -> Problem:
    if walk.late is not None:
        late = walk.late
        return _problem(
            "rewritten",
            late,
            f"{_describe(late)}: rewritten: it was written after the checkpoint's head (seq {cp.seq}, {cp.head_at}) "
            f"yet stands below it: the log was wiped or replaced from seq {late.seq}",
        )
    gone = f"seq {last_seq + 1}" if cp.seq == last_seq + 1 else f"seq {last_seq + 1}–{cp.seq}"
    if last_seq == 0:
        message = f"wiped: the log holds no entries, but the checkpoint of {cp.created_at} saw {cp.seq} ({gone})"
    else:
        message = (
            f"truncated: the entries {gone} are missing: the log ends at seq {last_seq}, "
            f"but the checkpoint of {cp.created_at} reached seq {cp.seq}"
        )
    return Problem("deleted", None, last_seq + 1, message)


def _check_head(walk: _Walk, head_row, keys: AuditKeys, last_seq: int) -> Problem | None:
    prev = walk.prev
    if head_row is None:
        if last_seq == 0:
            return None
        return Problem("edited", None, last_seq, "edited: the chain head is missing, yet the log holds entries")
    head_entries = int(head_row.entries)
    if head_entries > last_seq:
        gone = f"seq {last_seq + 1}" if head_entries == last_seq + 1 else f"seq {last_seq + 1}–{head_entries}"
        return Problem("deleted", None, last_seq + 1, f"deleted: the newest entries ({gone}) are missing")
    at_head = walk.rows_at.get(head_entries)
    if head_entries == 0:
        consistent = str(head_row.last_hash) == GENESIS and last_seq == 0
    else:
        consistent = at_head is not None and at_head.hash == head_row.last_hash and at_head.id == head_row.last_entry_id
    if not consistent:
        return Problem("edited", prev.id if prev else None, last_seq, "edited: the chain head does not match the log")
    if at_head is None or at_head.key_id is None:
        return None  # an empty log, or a head written before the MAC chain
    sealed = None
    if head_row.key_id in keys.mac_keys:
        sealed = head_mac(
            keys=keys,
            key_id=head_row.key_id,
            entries=head_entries,
            last_entry_id=head_row.last_entry_id,
            last_hash=head_row.last_hash,
        )
    if sealed is None or head_row.mac is None or not hmac.compare_digest(sealed, head_row.mac):
        return Problem(
            "edited",
            at_head.id,
            head_entries,
            f"edited: the chain head (seq {head_entries}) was altered: its MAC does not match; "
            f"entries after seq {head_entries} may have been cut off",
        )
    return None


def _result(walk: _Walk, problem: Problem | None) -> VerifyResult:
    prev = walk.prev
    last = (
        Head(prev.seq, prev.id, prev.hash, _utc(prev.at), prev.key_id)
        if prev is not None
        else Head(0, None, GENESIS, None, None)
    )
    if problem is not None:
        return VerifyResult(False, walk.checked, "", problem, walk.legacy, last)
    return VerifyResult(True, walk.checked, last.mac, None, walk.legacy, last)


def _seq_exists(engine: Engine, seq: int) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(entries.c.id).where(entries.c.seq == seq)).first() is not None


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
    zone: dt.tzinfo = dt.UTC  # whose calendar days the dates are: the API's UTC, the page's KST


def _where(filters: Filters) -> list:
    clauses = []
    if filters.actor:
        clauses.append(entries.c.actor == filters.actor)
    if filters.action:  # older names match too (audit/names.py): stored entries keep theirs
        if filters.action.endswith("*"):
            starts, exact = names.prefixes(filters.action[:-1])
            matches = [entries.c.action.startswith(p, autoescape=True) for p in sorted(starts)]
            clauses.append(or_(*matches, entries.c.action.in_(sorted(exact))))
        else:
            clauses.append(entries.c.action.in_(sorted(names.spellings(filters.action))))
    if filters.subject_type:
        clauses.append(entries.c.subject_type == filters.subject_type)
    if filters.subject_id:
        clauses.append(entries.c.subject_id == filters.subject_id)
    if filters.region:
        clauses.append(entries.c.region == filters.region)
    if filters.date_from:
        start = dt.datetime.combine(filters.date_from, dt.time(), tzinfo=filters.zone).astimezone(dt.UTC)
        clauses.append(entries.c.at >= start)
    if filters.date_to:
        end = dt.datetime.combine(filters.date_to + dt.timedelta(days=1), dt.time(), tzinfo=filters.zone)
        end = end.astimezone(dt.UTC)
        clauses.append(entries.c.at < end)
    return clauses


def search(*, session, filters: Filters, offset: int, limit: int) -> tuple[int, list[dict]]:
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
        "key_id": row.key_id,
    }


def key_counts(*, engine: Engine) -> list[tuple[str | None, int]]:
    """(key id, entries) per audit key id, counted in SQL; None for entries from before the MAC chain."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(entries.c.key_id, func.count()).group_by(entries.c.key_id).order_by(func.min(entries.c.id))
        ).all()
    return [(r[0], int(r[1])) for r in rows]


def has_entry(*, engine: Engine, action: str) -> bool:
    """Whether any entry of `action` exists (for example the synthetic-data marker `records.synthesise`)."""
    with engine.connect() as conn:
        return conn.execute(select(AuditEntry.seq).where(AuditEntry.action == action).limit(1)).first() is not None
