"""Account and session settings (REGIONVISA_* environment variables), kept beside the code that uses them."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AccountSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REGIONVISA_", env_file=".env", extra="ignore")

    session_cookie: str = "regionvisa_session"
    session_max_age: int = Field(default=8 * 3600, ge=60, description="seconds a log-in stays valid at most")
    session_idle_timeout: int = Field(
        default=30 * 60, ge=60, description="seconds without a request after which a log-in ends"
    )
    session_https_only: Literal["auto", "true", "false"] = Field(
        default="auto",
        description="Secure cookie flag: auto sets it on requests served over https (scheme from the server "
        "or a trusted proxy), true always, false never",
    )
    # Lock-out per account name, kept whether or not an account has that name (accounts.models.LoginLock):
    # this many wrong passwords in a row lock the name for the minutes below.
    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_minutes: int = Field(default=15, ge=1)
    login_failure_memory_hours: int = Field(
        default=24, ge=1, description="hours after the last failure at which a name's count of failures is forgotten"
    )
    # New passwords (NIST SP 800-63B §3.1.1.2): at least 8 characters (here 10), at least 64 allowed,
    # and checked against common passwords, words, names and keyboard patterns (zxcvbn).
    password_min_length: int = Field(default=10, ge=8)
    password_max_length: int = Field(default=128, ge=64)
    password_min_strength: int = Field(
        default=3, ge=0, le=4, description="zxcvbn score a new password needs (0-4; 3: about 10^8 guesses)"
    )
    # Fixed-window rate limits, counted in the database so that every server process shares them:
    # at most LIMIT requests per WINDOW seconds; a limit of 0 turns that rule off.
    rate_limits_enabled: bool = True
    login_rate_address_limit: int = Field(default=20, ge=0, description="log-in attempts per client address")
    login_rate_address_window: int = Field(default=300, ge=1)
    login_rate_account_limit: int = Field(default=10, ge=0, description="log-in attempts per account name")
    login_rate_account_window: int = Field(default=900, ge=1)
    match_rate_limit: int = Field(default=60, ge=0, description="public matching requests per client address")
    match_rate_window: int = Field(default=60, ge=1)
    # argon2id cost; the defaults are RFC 9106's low-memory profile. Tests lower them to stay fast.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4


@lru_cache
def get_account_settings() -> AccountSettings:
    return AccountSettings()
