"""The audit log's keys, which live outside the database: the MAC keys and the checkpoint signing key.

`REGIONVISA_AUDIT_KEYS` lists HMAC-SHA256 keys as `id:base64-32-bytes,…`, newest first: the
newest key MACs new entries, every listed key verifies, and each entry names its key, so a key
is rotated by listing a new one first and keeping the older ones while entries written under
them must verify. `REGIONVISA_AUDIT_SIGNING_KEY` is the Ed25519 key (`id:base64-32-byte-seed`)
that signs checkpoints; its public key (`regionvisa audit public-key`) is all a verifier needs.

Where they are not configured, both are derived from the (required, random) secret key, under
a key id that carries the derived key's fingerprint (`sk-1a2b3c4d`): should the secret key
change, entries written under the old derivation are reported by that id, never silently
misread. Deployments list their own keys; `regionvisa demo` writes random ones for its
database. `load_keys(settings)` is the one place that turns settings into keys, so a stricter
policy on missing keys applies to it in one place.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from regionvisa.config import Settings, get_settings

DERIVED_PREFIX = "sk-"  # key ids of keys derived from the secret key
KEY_BYTES = 32


class AuditKeyError(ValueError):
    """An audit key is missing or malformed; the message names the setting."""


@dataclass(frozen=True)
class AuditKeys:
    mac_keys: dict[str, bytes]  # key id -> 32-byte HMAC key, newest first
    signing_key_id: str
    signing_key: Ed25519PrivateKey = field(repr=False)
    _macs: dict[str, hmac.HMAC] = field(default_factory=dict, repr=False, compare=False)

    @property
    def current(self) -> str:
        return next(iter(self.mac_keys))

    def mac(self, key_id: str, message: bytes) -> str:
        """HMAC-SHA256 hex of `message` under the key `key_id` (KeyError when it is not configured)."""
        base = self._macs.get(key_id)
        if base is None:
            base = self._macs[key_id] = hmac.new(self.mac_keys[key_id], digestmod=hashlib.sha256)
        h = base.copy()  # the key's pads are computed once per key, not once per entry
        h.update(message)
        return h.hexdigest()

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.signing_key.public_key()

    def public_key_text(self) -> str:
        """`id:base64` of the raw 32-byte public key, the form `--public-key` accepts."""
        return f"{self.signing_key_id}:{public_key_b64(self.public_key)}"


def public_key_b64(key: Ed25519PublicKey) -> str:
    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def _derive(secret: str, purpose: str) -> bytes:
    return hashlib.sha256(f"regionvisa:{purpose}:{secret}".encode()).digest()


def _decode(setting: str, key_id: str, encoded: str) -> bytes:
    try:
        key = base64.b64decode(encoded, validate=True)
    except ValueError as exc:
        raise AuditKeyError(f"{setting}: key {key_id!r} is not base64") from exc
    if not key_id or len(key) != KEY_BYTES:
        raise AuditKeyError(f"{setting}: key {key_id!r} must be 'id:' and {KEY_BYTES} bytes in base64")
    return key


def parse_mac_keys(text: str) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key_id, _, encoded = part.partition(":")
        key_id = key_id.strip()
        if key_id in keys:
            raise AuditKeyError(f"REGIONVISA_AUDIT_KEYS: key id {key_id!r} is listed twice")
        if len(key_id) > 32:
            raise AuditKeyError(f"REGIONVISA_AUDIT_KEYS: key id {key_id!r} is longer than 32 characters")
        keys[key_id] = _decode("REGIONVISA_AUDIT_KEYS", key_id, encoded.strip())
    return keys


def parse_signing_key(text: str) -> tuple[str, Ed25519PrivateKey]:
    key_id, sep, encoded = text.strip().rpartition(":")
    key_id = key_id if sep else "s1"
    seed = _decode("REGIONVISA_AUDIT_SIGNING_KEY", key_id, encoded)
    return key_id, Ed25519PrivateKey.from_private_bytes(seed)


def parse_public_key(text: str) -> tuple[str | None, Ed25519PublicKey]:
    """`id:base64` or bare base64 of a raw Ed25519 public key."""
    key_id, sep, encoded = text.strip().rpartition(":")
    try:
        raw = base64.b64decode(encoded, validate=True)
        return (key_id if sep else None), Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise AuditKeyError("a public key must be base64 of 32 bytes, optionally preceded by 'id:'") from exc


def _derived(settings: Settings, purpose: str, setting: str) -> tuple[str, bytes]:
    if not settings.secret_key:
        raise AuditKeyError(f"{setting}: not set, and no REGIONVISA_SECRET_KEY to derive it from")
    key = _derive(settings.secret_key, purpose)
    return DERIVED_PREFIX + hashlib.sha256(key).hexdigest()[:8], key


def load_keys(settings: Settings) -> AuditKeys:
    """The audit keys from settings; derived from the secret key where none is configured."""
    mac_keys = parse_mac_keys(settings.audit_keys)
    if not mac_keys:
        key_id, key = _derived(settings, "audit-mac", "REGIONVISA_AUDIT_KEYS")
        mac_keys = {key_id: key}
    if settings.audit_signing_key.strip():
        signing_id, signing = parse_signing_key(settings.audit_signing_key)
    else:
        signing_id, seed = _derived(settings, "audit-signing", "REGIONVISA_AUDIT_SIGNING_KEY")
        signing = Ed25519PrivateKey.from_private_bytes(seed)
    return AuditKeys(mac_keys, signing_id, signing)


_cache: tuple[Settings, AuditKeys] | None = None


def audit_keys() -> AuditKeys:
    """The keys of the current settings; cached until `get_settings` gives another object."""
    global _cache
    settings = get_settings()
    cached = _cache
    if cached is not None and cached[0] is settings:
        return cached[1]
    keys = load_keys(settings)
    _cache = (settings, keys)
    return keys


def reset() -> None:
    """Forget the cached keys (and settings), so changed REGIONVISA_AUDIT_* take effect."""
    global _cache
    get_settings.cache_clear()
    _cache = None


def new_mac_key() -> str:
    """A fresh random key, the base64 part of a REGIONVISA_AUDIT_KEYS entry."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


def new_signing_key() -> str:
    """A fresh Ed25519 seed, the base64 part of REGIONVISA_AUDIT_SIGNING_KEY."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()
