"""Signed checkpoints of the audit log, kept outside the database.

A MAC chain shows any entry changed or forged without the key, but not a log wiped whole,
cut short with its head reset, or replaced by an older copy of itself: the database alone
cannot remember what it no longer holds. A checkpoint can. It is a small JSON file naming the
newest entry of a verified log (its seq, MAC, time and key id, and the number of entries),
signed with the Ed25519 key of REGIONVISA_AUDIT_SIGNING_KEY. Kept elsewhere (a ticket, a
mail to the auditors, another machine), it lets `verify(engine, checkpoint=…)` demand that
the log still reaches that head and holds exactly that entry there.

Verifiers need only the public key (`regionvisa audit public-key`); the checkpoint names its
own public key too, but a checkpoint is trusted only under a key the verifier supplies or the
configured signing key, never under the key it carries.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.engine import Engine

from regionvisa.audit.keys import AuditKeys, audit_keys, public_key_b64
from regionvisa.audit.service import VerifyResult, canonical_json, verify

FORMAT = "regionvisa-audit-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint cannot be made, read or trusted; the message says why."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int  # the head: the newest entry the log held when the checkpoint was made
    entries: int  # how many entries it held (seq 1 to `seq`)
    head_entry_id: int | None
    head_mac: str
    head_at: str | None  # the head entry's time (UTC)
    key_id: str | None  # the audit key the head entry's MAC is under
    created_at: str
    signing_key_id: str
    public_key: str  # base64 raw Ed25519 public key (informative: trust comes from the verifier)
    signature: str = ""

    def body(self) -> dict:
        """What the signature covers: every field but the signature, with the format and version."""
        fields = asdict(self)
        fields.pop("signature")
        return {"format": FORMAT, "version": VERSION, **fields}

    def as_json(self) -> str:
        return json.dumps({**self.body(), "signature": self.signature}, indent=2, ensure_ascii=False) + "\n"


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sign(result: VerifyResult, *, keys: AuditKeys | None = None, now: dt.datetime | None = None) -> Checkpoint:
    """A signed checkpoint of the head a successful verification reached."""
    if not result.ok or result.head is None:
        raise CheckpointError("the audit log does not verify; no checkpoint is signed over a broken log")
    keys = keys or audit_keys()
    h = result.head
    unsigned = Checkpoint(
        seq=h.seq,
        entries=result.entries,
        head_entry_id=h.entry_id,
        head_mac=h.mac,
        head_at=_iso(h.at) if h.at is not None else None,
        key_id=h.key_id,
        created_at=_iso(now or dt.datetime.now(dt.UTC)),
        signing_key_id=keys.signing_key_id,
        public_key=public_key_b64(keys.public_key),
    )
    signature = keys.signing_key.sign(canonical_json(unsigned.body()).encode("utf-8"))
    return Checkpoint(**{**asdict(unsigned), "signature": base64.b64encode(signature).decode()})


def create(*, engine: Engine, keys: AuditKeys | None = None) -> tuple[Checkpoint, VerifyResult]:
    """Verify the whole log, then sign its head; refuses (CheckpointError) when it does not verify."""
    keys = keys or audit_keys()
    result = verify(engine=engine, keys=keys)
    if not result.ok:
        assert result.problem is not None
        raise CheckpointError(f"the audit log does not verify, so no checkpoint was made: {result.problem.message}")
    return sign(result, keys=keys), result


def write(checkpoint: Checkpoint, path: Path) -> Path:
    """Write atomically (a temporary file renamed over the target), readable by its owner only."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(checkpoint.as_json())
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def parse(text: str) -> Checkpoint:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CheckpointError(f"not a checkpoint: the file is not JSON ({exc.__class__.__name__})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"not a checkpoint: 'format' must be {FORMAT!r}")
    if data.get("version") != VERSION:
        raise CheckpointError(f"checkpoint version {data.get('version')!r} is not supported (expected {VERSION})")
    fields = {k: v for k, v in data.items() if k not in ("format", "version")}
    try:
        checkpoint = Checkpoint(**fields)
    except TypeError as exc:
        raise CheckpointError(f"not a checkpoint: {exc}") from None
    if not isinstance(checkpoint.seq, int) or isinstance(checkpoint.seq, bool) or checkpoint.seq < 0:
        raise CheckpointError("not a checkpoint: 'seq' must be a whole number of at least 0")
    if not isinstance(checkpoint.head_mac, str) or not isinstance(checkpoint.signature, str):
        raise CheckpointError("not a checkpoint: 'head_mac' and 'signature' must be text")
    return checkpoint


def check_signature(checkpoint: Checkpoint, trusted: Sequence[Ed25519PublicKey]) -> Ed25519PublicKey:
    """The trusted key that signed the checkpoint; CheckpointError when none did."""
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
    except ValueError:
        raise CheckpointError("the checkpoint's signature is not base64") from None
    message = canonical_json(checkpoint.body()).encode("utf-8")
    for key in trusted:
        try:
            key.verify(signature, message)
            return key
        except InvalidSignature:
            continue
    raise CheckpointError(
        "the checkpoint's signature does not verify under the trusted public key: "
        "the file was altered, or signed by another key"
    )


def load(path: Path, *, trusted: Sequence[Ed25519PublicKey] | None = None, keys: AuditKeys | None = None) -> Checkpoint:
    """Read a checkpoint file and check its signature (trusted keys, else the configured signing key)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"cannot read the checkpoint {Path(path).name}: {exc.__class__.__name__}") from None
    checkpoint = parse(text)
    check_signature(checkpoint, list(trusted) if trusted else [(keys or audit_keys()).public_key])
    return checkpoint
