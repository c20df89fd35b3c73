"""Settings from REGIONVISA_* environment variables, so one build runs on a laptop and in production.

The secret key, the data keys and the lookup key have no defaults: a server, a worker or a command
that touches personal data refuses to run without them (`require_keys`), so nothing is ever
signed or encrypted under a value anyone can read in the source. The one exception is explicit:
`regionvisa demo` writes random keys for the database it builds into the demo keys file
(var/demo-keys.json, mode 0600), and settings read for *that* database take the keys missing
from the environment from there. No other database ever sees them.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PACKAGE_ROOT = Path(__file__).resolve().parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REGIONVISA_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'var' / 'regionvisa.sqlite3'}",
        description="SQLAlchemy URL; sqlite:///… (embedded default) or postgresql+psycopg://…",
    )
    policy_dir: Path = PROJECT_ROOT / "policy"
    upload_dir: Path = PROJECT_ROOT / "var" / "uploads"
    secret_key: str = Field(
        default="", description="signs session cookies; at least 32 random characters (`regionvisa keys new --env`)"
    )
    data_keys: str = Field(
        default="",
        description=(
            "keys that encrypt personal identifiers at rest: 'id:base64-32-bytes,…', newest first; "
            "older keys stay listed until `regionvisa keys rotate` has re-encrypted everything"
        ),
    )
    lookup_key: str = Field(default="", description="base64 key of the keyed hash used to look identifiers up")
    demo_keys_file: Path = Field(
        default=PROJECT_ROOT / "var" / "demo-keys.json",
        description="where `regionvisa demo` keeps the random keys of each database it built (mode 0600)",
    )
    audit_keys: str = Field(
        default="",
        description=(
            "keys of the audit log's HMAC chain: 'id:base64-32-bytes,…', newest first; every entry names its key, "
            "so older keys stay listed while entries written under them must verify"
        ),
    )
    audit_signing_key: str = Field(
        default="", description="Ed25519 key signing audit checkpoints: 'id:base64-32-byte-seed'"
    )
    default_language: str = "ko"
    page_size: int = 50
    echo_sql: bool = False


@lru_cache
def get_settings() -> Settings:
    return with_demo_keys(Settings())


# --------------------------------------------------------------------------- keys

# The value older versions used when no secret key was set: never accepted.
FORMER_DEFAULT_SECRET = "dev-only-change-me"
MIN_SECRET_CHARS = 32


class KeysNotConfigured(RuntimeError):
    """A server, worker or command that handles personal data was started without its keys."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        names = ", ".join(p.split(":")[0] for p in problems)
        super().__init__(
            "RegionVisa does not run without its keys / 키가 설정되지 않아 실행하지 않습니다:\n"
            + "\n".join(f"  - {p}" for p in problems)
            + f"\nSet {names} in the environment (or .env). `regionvisa keys new --env` prints a fresh set;"
            " keep it secret and keep it: data encrypted under it cannot be read without it."
            f"\n{names} 을(를) 환경 변수(또는 .env)에 설정하십시오. `regionvisa keys new --env` 가 새 키를 출력합니다;"
            " 키를 잃으면 그 키로 암호화한 자료를 읽을 수 없으니 안전하게 보관하십시오."
            "\nThe demo (`regionvisa demo`, `make run`) makes its own random keys. / 데모는 자체 키를 만듭니다."
        )


def key_problems(settings: Settings) -> list[str]:
    """What is missing or malformed among the required keys, one line per setting (values never shown)."""
    problems: list[str] = []
    secret = settings.secret_key
    if not secret:
        problems.append("REGIONVISA_SECRET_KEY: not set / 설정되지 않음")
    elif secret == FORMER_DEFAULT_SECRET or len(secret) < MIN_SECRET_CHARS:
        problems.append(
            f"REGIONVISA_SECRET_KEY: must be at least {MIN_SECRET_CHARS} random characters / "
            f"{MIN_SECRET_CHARS}자 이상의 임의 문자열이어야 함"
        )
    if not settings.data_keys.strip():
        problems.append("REGIONVISA_DATA_KEYS: not set / 설정되지 않음")
    else:
        from regionvisa.records.pii import KeyError_, parse_keys

        try:
            parse_keys(settings.data_keys)
        except KeyError_ as exc:
            problems.append(f"{exc} / 형식이 올바르지 않음")
    if not settings.lookup_key:
        problems.append("REGIONVISA_LOOKUP_KEY: not set / 설정되지 않음")
    else:
        try:
            lookup = base64.b64decode(settings.lookup_key, validate=True)
        except (binascii.Error, ValueError):
            lookup = b""
        if len(lookup) < 32:
            problems.append("REGIONVISA_LOOKUP_KEY: must be 32 bytes in base64 / base64로 된 32바이트여야 함")
    return problems


def require_keys(settings: Settings | None = None) -> Settings:
    """The settings, when every required key is configured; KeysNotConfigured naming what is missing otherwise."""
    settings = settings or get_settings()
    problems = key_problems(settings)
    if problems:
        raise KeysNotConfigured(problems)
    return settings


def database_identity(url: str) -> str:
    """The name the demo keys file knows a database by: the URL without its password, SQLite paths resolved."""
    from sqlalchemy.engine import make_url  # here: the database-free paths (evaluate --indicators) import config

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        parsed = parsed.set(database=str(Path(parsed.database).resolve()))
    return parsed.set(password=None).render_as_string(hide_password=True)


def read_demo_keys(path: Path) -> dict[str, dict[str, str]]:
    """database identity -> {setting variable: value}, as `regionvisa demo` wrote them; {} without the file."""
    try:
        if Path(path).stat().st_mode & 0o077:
            readable = "is readable by others; `chmod 600` it / 다른 사용자가 읽을 수 있으니 권한을 600으로 바꾸십시오"
            raise KeysNotConfigured([f"REGIONVISA_DEMO_KEYS_FILE: {path} {readable}"])
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise KeysNotConfigured(
            [f"REGIONVISA_DEMO_KEYS_FILE: {path} cannot be read ({exc.__class__.__name__})"]
        ) from None
    databases = data.get("databases") if isinstance(data, dict) else None
    return databases if isinstance(databases, dict) else {}


def demo_keys_for(settings: Settings) -> dict[str, str]:
    """The demo's keys for the configured database, if `regionvisa demo` built it; {} otherwise."""
    return read_demo_keys(settings.demo_keys_file).get(database_identity(settings.database_url), {})


def with_demo_keys(settings: Settings) -> Settings:
    """The settings with the demo's keys filling what the environment leaves unset, for the demo's databases only."""
    entry = demo_keys_for(settings)
    if not entry:
        return settings
    update = {}
    for name in type(settings).model_fields:
        variable = f"REGIONVISA_{name.upper()}"
        if variable in entry and name not in settings.model_fields_set and variable not in os.environ:
            update[name] = entry[variable]
    return settings.model_copy(update=update) if update else settings
