"""API shapes for accounts and tokens."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# SQLite hands back the stored UTC times without their offset; an API time always carries one.
UtcDateTime = Annotated[dt.datetime, AfterValidator(lambda v: v if v.tzinfo else v.replace(tzinfo=dt.UTC))]


class Me(BaseModel):
    id: int | None
    username: str
    display_name: str
    role: str | None
    region: str | None
    via: str
    actions: dict[str, str] = Field(description="the actions this user holds, with their scope (all | own_region)")


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: str
    region: str | None
    is_active: bool
    locked_until: UtcDateTime | None
    created_at: UtcDateTime
    last_login_at: UtcDateTime | None


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=3, max_length=64, examples=["kim.officer"])
    display_name: str = Field(min_length=1, max_length=128)
    role: str = Field(examples=["regional_official"])
    region: str | None = Field(None, description="2-digit region code; required for regional officials only")
    password: str = Field(min_length=1, max_length=256)


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(None, max_length=128)
    role: str | None = None
    region: str | None = None
    is_active: bool | None = None
    reason: str = Field("changed through the API", max_length=500)


class PasswordSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1, max_length=256)


class UserPage(BaseModel):
    page: int
    page_size: int
    total: int
    pages: int
    items: list[UserOut]


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    name: str
    prefix: str
    created_at: UtcDateTime
    created_by: str
    expires_at: UtcDateTime | None
    last_used_at: UtcDateTime | None
    revoked_at: UtcDateTime | None


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    expires_days: int | None = Field(
        90, ge=1, le=3650, strict=True, description="null for a token that does not expire"
    )
    user_id: int | None = Field(
        None, strict=True, description="another user's id (administrators only); default yourself"
    )


class TokenCreated(TokenOut):
    token: str = Field(description="the bearer token in plain text; shown only in this response")


class TokenPage(BaseModel):
    page: int
    page_size: int
    total: int
    pages: int
    items: list[TokenOut]
