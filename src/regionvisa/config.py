"""Settings from REGIONVISA_* environment variables, so one build runs on a laptop and in production."""

from __future__ import annotations

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
    secret_key: str = Field(default="dev-only-change-me", description="signs session cookies")
    data_keys: str = Field(
        default="",
        description=(
            "keys that encrypt personal identifiers at rest: 'id:base64-32-bytes,…', newest first; "
            "older keys stay listed until `regionvisa keys rotate` has re-encrypted everything"
        ),
    )
    lookup_key: str = Field(default="", description="base64 key of the keyed hash used to look identifiers up")
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
    return Settings()
