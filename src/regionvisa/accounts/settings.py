"""Account and session settings (REGIONVISA_* environment variables), kept beside the code that uses them."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AccountSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REGIONVISA_", env_file=".env", extra="ignore")

    session_cookie: str = "regionvisa_session"
    session_max_age: int = Field(default=8 * 3600, ge=60, description="seconds a log-in stays valid")
    session_https_only: Literal["auto", "true", "false"] = Field(
        default="auto",
        description="Secure cookie flag: auto sets it on requests served over https (scheme from the server "
        "or a trusted proxy), true always, false never",
    )
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    password_min_length: int = 10
    # argon2id cost; the defaults are RFC 9106's low-memory profile. Tests lower them to stay fast.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4


@lru_cache
def get_account_settings() -> AccountSettings:
    return AccountSettings()
