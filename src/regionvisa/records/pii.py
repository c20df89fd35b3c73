"""Personal identifiers at rest: encrypted, looked up by keyed hash, masked for display.

Passport numbers are stored as AES-256-GCM ciphertext tagged with the key's id
(`k1:<base64 nonce+ciphertext>`), so keys can be rotated: the newest key encrypts, every listed
key decrypts, and `rotate` re-encrypts what an older key wrote. Lookups never decrypt: they
compare a keyed BLAKE2b hash of the normalised value under a separate lookup key.

Both keys must be configured (REGIONVISA_DATA_KEYS and REGIONVISA_LOOKUP_KEY; the demo writes its
own random ones): nothing is ever encrypted under a key derived from a value in the source.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import polars as pl
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from regionvisa.config import get_settings, require_keys
from regionvisa.core.actor import Actor
from regionvisa.core.usecase import Done, use_case

NONCE_BYTES = 12


class KeyError_(ValueError):
    """A key is missing or malformed; the message names the setting."""


@dataclass(frozen=True)
class Keyring:
    keys: dict[str, bytes]  # key id -> 32-byte key, newest first
    lookup_key: bytes

    @property
    def current(self) -> str:
        return next(iter(self.keys))


def _derive(secret: str, purpose: str) -> bytes:
    """The keys older versions derived from the secret key when none were configured (key id `dev`):
    `regionvisa keys new --env --legacy-secret` lists them, so such data can be read and rotated."""
    return hashlib.sha256(f"regionvisa:{purpose}:{secret}".encode()).digest()


def parse_keys(text: str) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key_id, _, encoded = part.partition(":")
        try:
            key = base64.b64decode(encoded, validate=True)
        except ValueError as exc:
            raise KeyError_(f"REGIONVISA_DATA_KEYS: key {key_id!r} is not base64") from exc
        if not key_id or len(key) != 32:
            raise KeyError_(f"REGIONVISA_DATA_KEYS: key {key_id!r} must be 'id:' and 32 bytes in base64")
        keys[key_id] = key
    return keys


@lru_cache
def keyring() -> Keyring:
    """The configured keys; KeysNotConfigured (naming the settings) when any is missing."""
    settings = require_keys(get_settings())
    return Keyring(parse_keys(settings.data_keys), base64.b64decode(settings.lookup_key))


def new_key() -> str:
    """A fresh random key in the REGIONVISA_DATA_KEYS format's base64 part."""
    return base64.b64encode(os.urandom(32)).decode()


def normalise(value: str) -> str:
    return "".join(value.split()).upper()


def _clean(values: Iterable[str | None]) -> list[str | None]:
    return [None if v is None else normalise(v) for v in values]


def _encrypt_clean(clean: Sequence[str | None], ring: Keyring) -> list[str | None]:
    key_id = ring.current
    aead = AESGCM(ring.keys[key_id])
    tag = key_id.encode()
    prefix = f"{key_id}:"
    nonces = os.urandom(NONCE_BYTES * len(clean))  # one system call for the whole batch
    b64 = base64.b64encode
    out: list[str | None] = []
    for i, value in enumerate(clean):  # one AEAD call per value: authenticated encryption has no batch form
        if value is None:
            out.append(None)
            continue
        nonce = nonces[i * NONCE_BYTES : (i + 1) * NONCE_BYTES]
        out.append(prefix + b64(nonce + aead.encrypt(nonce, value.encode(), tag)).decode())
    return out


def encrypt(values: Iterable[str | None], ring: Keyring | None = None) -> list[str | None]:
    return _encrypt_clean(_clean(values), ring or keyring())


def decrypt(values: Iterable[str | None], ring: Keyring | None = None) -> list[str | None]:
    ring = ring or keyring()
    ciphers = {key_id: AESGCM(key) for key_id, key in ring.keys.items()}
    out: list[str | None] = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        key_id, _, encoded = value.partition(":")
        if key_id not in ciphers:
            raise KeyError_(f"a value was encrypted with key {key_id!r}, which is not in REGIONVISA_DATA_KEYS")
        raw = base64.b64decode(encoded)
        try:
            out.append(ciphers[key_id].decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], key_id.encode()).decode())
        except InvalidTag as exc:
            raise KeyError_(
                f"a value under key {key_id!r} does not decrypt with the key configured under that id "
                "(REGIONVISA_DATA_KEYS changed the key but kept the id?)"
            ) from exc
    return out


def _hash_clean(clean: Sequence[str | None], ring: Keyring) -> list[str | None]:
    key = ring.lookup_key
    blake2b = hashlib.blake2b
    return [None if v is None else blake2b(v.encode(), key=key, digest_size=32).hexdigest() for v in clean]


def lookup_hash(values: Iterable[str | None], ring: Keyring | None = None) -> list[str | None]:
    """Keyed BLAKE2b (a MAC by design, and faster than HMAC-SHA256) of the normalised value."""
    return _hash_clean(_clean(values), ring or keyring())


def mask(value: str | None) -> str:
    """Enough to recognise one's own document, not enough to use it: `•••••••67`."""
    if not value:
        return ""
    clean = normalise(value)
    return "•" * max(len(clean) - 2, 3) + clean[-2:]


def protect_frame(frame: pl.DataFrame, column: str = "passport_no", prefix: str = "passport") -> pl.DataFrame:
    """Replace a clear identifier column with its ciphertext and lookup-hash columns."""
    if column not in frame.columns:
        return frame
    ring = keyring()
    clean = _clean(frame[column].to_list())
    return frame.with_columns(
        pl.Series(f"{prefix}_enc", _encrypt_clean(clean, ring), dtype=pl.String),
        pl.Series(f"{prefix}_hash", _hash_clean(clean, ring), dtype=pl.String),
    ).drop(column)


def reset_keyring() -> None:
    """Forget the cached keys (and settings), so changed REGIONVISA_DATA_KEYS take effect: tests, rotation."""
    get_settings.cache_clear()
    keyring.cache_clear()


def key_id(value: str | None) -> str | None:
    return None if value is None else value.partition(":")[0]


def protect(value: str) -> tuple[str, str]:
    """(ciphertext, lookup hash) of one identifier."""
    return encrypt([value])[0], lookup_hash([value])[0]  # type: ignore[return-value]


def reveal(value: str | None) -> str | None:
    return decrypt([value])[0] if value is not None else None


# --------------------------------------------------------------------------- rotation

# (table, primary key, ciphertext column): every place an identifier is stored encrypted.
ENCRYPTED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("person", "person_id", "passport_enc"),
    ("application", "id", "passport_enc"),
)
ROTATE_BATCH = 5_000


def _key_id_expr(conn, column):

    if conn.dialect.name == "postgresql":
        return sa.func.split_part(column, ":", 1)
    return sa.func.substr(column, 1, sa.func.instr(column, ":") - 1)


def key_status(*, engine) -> list[tuple[str, str, int, bool]]:
    """(table, key id, values, configured) per table and key id, counted in SQL."""
    with engine.connect() as conn:
        return [row for table, _pk, column in ENCRYPTED_COLUMNS for row in _counts(conn, table, column)]


@use_case(action="keys.rotate", audit="records.keys.rotate", own_transaction=True)
def rotate(*, engine, actor: Actor, entry, batch: int = ROTATE_BATCH, progress=None) -> dict[str, int]:
    """Re-encrypt every value an older key wrote with the current key.

    One transaction per table (a failure leaves that table as it was), keyset-paginated batches
    inside it; a value under a key that is no longer configured stops the table with KeyError_
    naming the key. `progress(table, done, total)` is called after each batch. Returns table -> values
    re-encrypted; each table's rotation is an audit entry in that table's transaction (a table with
    nothing to re-encrypt says so in its entry)."""
    ring = keyring()
    current = ring.current
    done_by_table: dict[str, int] = {}
    for table, pk, column in ENCRYPTED_COLUMNS:
        key_col, enc_col = sa.column(pk), sa.column(column)
        tbl = sa.table(table, key_col, enc_col)
        stale = sa.and_(enc_col.is_not(None), ~enc_col.startswith(f"{current}:", autoescape=True))
        with engine.begin() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(tbl).where(stale)).scalar_one()
            before = {k: n for t, k, n, _c in _counts(conn, table, column) if t == table}
            done, last = 0, None
            if progress:
                progress(table, 0, total)
            while True:
                query = sa.select(key_col, enc_col).where(stale).order_by(key_col).limit(batch)
                if last is not None:
                    query = query.where(key_col > last)
                rows = conn.execute(query).all()
                if not rows:
                    break
                fresh = encrypt(decrypt([r[1] for r in rows], ring), ring)
                conn.execute(
                    tbl.update().where(key_col == sa.bindparam("k")).values({column: sa.bindparam("v")}),
                    [{"k": r[0], "v": v} for r, v in zip(rows, fresh, strict=True)],
                )
                done += len(rows)
                last = rows[-1][0]
                if progress:
                    progress(table, done, total)
            entry(
                conn,
                Done(
                    subject=("table", table),
                    reason=f"personal identifiers re-encrypted with key {current}",
                    inputs={"column": column, "key_id": current, "values": done, "before": before},
                    changed=bool(done),
                ),
            )
        done_by_table[table] = done
    return done_by_table


def _counts(conn, table: str, column: str) -> list[tuple[str, str, int, bool]]:

    col = sa.column(column)
    kid = _key_id_expr(conn, col).label("key_id")
    rows = conn.execute(
        sa.select(kid, sa.func.count())
        .select_from(sa.table(table, col))
        .where(col.is_not(None))
        .group_by(kid)
        .order_by(kid)
    ).all()
    return [(table, k, int(n), k in keyring().keys) for k, n in rows]
