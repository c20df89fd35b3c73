"""Fresh keys for a deployment (`regionvisa keys new --env`) and the demo's own keys file.

The demo keeps one set of random keys per database it built, in the demo keys file
(var/demo-keys.json, mode 0600): written once, then reused, so a
second `make run` reads what the first one encrypted. `config.with_demo_keys` applies an entry
only to the database it names.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import secrets
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from regionvisa.config import Settings, database_identity, read_demo_keys
from regionvisa.records.pii import _derive


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def generate_keys(*, data_key_id: str = "k1", legacy_secret: str | None = None) -> dict[str, str]:
    """One fresh value per key setting (variable -> value), as lines of an environment file.

    `legacy_secret`: the secret key of an installation that ran without data and lookup keys;
    the keys older versions derived from it are kept (the data key listed second, under its id
    `dev`, until `regionvisa keys rotate` has re-encrypted everything; the lookup key as it was,
    since stored lookup hashes depend on it)."""

    data_keys = f"{data_key_id}:{_b64(os.urandom(32))}"
    lookup_key = _b64(os.urandom(32))
    if legacy_secret is not None:
        data_keys += f",dev:{_b64(_derive(legacy_secret, 'data'))}"
        lookup_key = _b64(_derive(legacy_secret, "lookup"))
    keys = {
        "REGIONVISA_SECRET_KEY": secrets.token_urlsafe(48),
        "REGIONVISA_DATA_KEYS": data_keys,
        "REGIONVISA_LOOKUP_KEY": lookup_key,
    }
    fields = Settings.model_fields
    if "audit_keys" in fields:  # the audit chain's keys, when this version has them
        keys["REGIONVISA_AUDIT_KEYS"] = f"a1:{_b64(os.urandom(32))}"
    if "audit_signing_key" in fields:
        keys["REGIONVISA_AUDIT_SIGNING_KEY"] = f"s1:{_b64(os.urandom(32))}"
    return keys


def env_lines(keys: dict[str, str]) -> str:
    return "".join(f"{name}={value}\n" for name, value in keys.items())


@contextmanager
def _locked(path: Path):
    """One writer of the demo keys file at a time (two demos building different databases)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write_private(path: Path, text: str) -> None:
    """Write `text` to `path` with mode 0600 from the first byte (never readable by others, even briefly)."""
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)


def _gone(identity: str) -> bool:
    """An entry for a SQLite file that no longer exists (a deleted demo or benchmark database)."""
    url = make_url(identity)
    return url.get_backend_name() == "sqlite" and bool(url.database) and not Path(url.database).exists()


def ensure_demo_keys(settings: Settings) -> tuple[dict[str, str], bool]:
    """The demo keys of the configured database, created when it has none; returns (keys, created)."""
    path = Path(settings.demo_keys_file)
    identity = database_identity(settings.database_url)
    with _locked(path):
        databases = read_demo_keys(path)
        if identity in databases:
            return databases[identity], False
        keys = generate_keys(data_key_id=f"demo-{secrets.token_hex(3)}")
        kept = {name: entry for name, entry in databases.items() if not _gone(name)}
        kept[identity] = keys
        document = {
            "about": "random keys `regionvisa demo` made for the databases it built; used for those databases only",
            "databases": kept,
        }
        _write_private(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        return keys, True
