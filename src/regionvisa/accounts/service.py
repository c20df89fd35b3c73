"""Accounts: users, passwords (argon2id), log-in with lock-out, sessions and API tokens.

Every change is written to the audit log in the same transaction. Functions take the caller's
session; the caller commits (the web layer and the CLI use `db.session_scope`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from regionvisa.accounts.models import ApiToken, LoginLock, User, UserSession
from regionvisa.accounts.policy import REGION_BOUND_ROLES, ROLES, authorize, system_actor
from regionvisa.accounts.settings import get_account_settings
from regionvisa.audit.service import record
from regionvisa.core.actor import Actor
from regionvisa.core.errors import Conflict, Forbidden, Invalid, NotFound
from regionvisa.core.usecase import Done, Subject, use_case
from regionvisa.db import utcnow
from regionvisa.regions.models import Region

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
# Accounts are national: a user's region says where a regional official works, not who may manage them.
USER = Subject(kind="user", model=User, region=lambda user: None)
TOKEN = Subject(kind="api_token", model=ApiToken, region=lambda token: None, label="API token")
# Who a log-in attempt is recorded under when its name belongs to no account.
SIGN_IN = system_actor("sign-in")


def _self_or_admin(own: str):
    """The action of a change to an account: `own` on one's own account, `users.manage` on another's."""

    def action(actor: Actor, user: User, _kwargs: dict) -> str:
        return own if actor.id is not None and actor.id == user.id else "users.manage"

    action.__name__ = f"{own.replace('.', '_')}_or_users_manage"
    return action


def _token_action(actor: Actor, token: ApiToken, _kwargs: dict) -> str:
    return "tokens.manage" if actor.id is not None and actor.id == token.user_id else "users.manage"


TOKEN_PREFIX = "rvt_"


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- passwords


@lru_cache
def hasher() -> PasswordHasher:
    s = get_account_settings()
    return PasswordHasher(
        time_cost=s.argon2_time_cost, memory_cost=s.argon2_memory_kib, parallelism=s.argon2_parallelism
    )


@lru_cache
def _dummy_hash() -> str:
    return hasher().hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return hasher().hash(password)


def check_password(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# Words a guesser tries first against this system, besides the user's own names (zxcvbn user inputs).
CONTEXT_WORDS = ("regionvisa", "region", "visa", "korea", "hikorea", "immigration", "ministry", "justice")


def validate_password(password: str, *, username: str, display_name: str = "") -> None:
    """A new password (NIST SP 800-63B §3.1.1.2): long enough, not too long to hash, not the user
    name, and not common or easy to guess. Guessability is zxcvbn's estimate, which matches
    against its lists of common passwords (the most frequent of the leaked 10 million password
    corpus), words, names, dates, keyboard patterns and repeats, also with digits and symbols
    added or letters swapped for look-alikes, and against the user's own names."""
    settings = get_account_settings()
    minimum, maximum = settings.password_min_length, settings.password_max_length
    if len(password) < minimum:
        raise Invalid(
            code="weak_password",
            ko=f"비밀번호는 {minimum}자 이상이어야 합니다",
            en=f"the password must have at least {minimum} characters",
            field="password",
        )
    if len(password) > maximum:
        raise Invalid(
            code="weak_password",
            ko=f"비밀번호는 {maximum}자 이하여야 합니다",
            en=f"the password may have at most {maximum} characters",
            field="password",
        )
    if password.strip().lower() == username.lower() or len(set(password)) < 4:
        raise Invalid(
            code="weak_password",
            ko="사용자 이름과 같거나 너무 단순한 비밀번호는 쓸 수 없습니다",
            en="the password is the user name or too simple",
            field="password",
        )
    if guessability(password, username=username, display_name=display_name) < settings.password_min_strength:
        raise Invalid(
            code="weak_password",
            ko="흔히 쓰이거나 추측하기 쉬운 비밀번호입니다 (자주 쓰이는 비밀번호, 단어·이름·날짜, 사용자 이름, "
            "키보드 배열이나 반복·연속 문자로 만든 비밀번호, 숫자나 기호를 덧붙인 경우 포함). "
            "여러 단어로 된 더 긴 문구를 쓰십시오",
            en="the password is common or easy to guess (a frequently used password, or one built from a word, "
            "a name, a date, the user name, a keyboard pattern or repeated characters, also with digits or "
            "symbols added); use a longer phrase of several words",
            field="password",
        )


def guessability(password: str, *, username: str = "", display_name: str = "") -> int:
    """zxcvbn's score, 0 (among the most common) to 4 (over 10^10 guesses)."""
    from zxcvbn import zxcvbn

    names = [username, display_name, *re.split(r"[._\-\s]+", f"{username} {display_name}")]
    inputs = [w.lower() for w in (*names, *CONTEXT_WORDS) if w and len(w) >= 3]
    # zxcvbn refuses more than 72 characters (its matching grows faster than the length): the first
    # 72 decide, which a longer password passes or fails the same way in practice
    return int(zxcvbn(password[:72], user_inputs=inputs, max_length=72)["score"])


# --------------------------------------------------------------------------- users


def principal_of(user: User, *, via: str = "session", token_id: int | None = None) -> Actor:
    return Actor(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        region=user.region,
        via=via,
        token_id=token_id,
    )


def _check_role_region(role: str, region: str | None, session: Session) -> str | None:
    if not role:  # no role is preselected on the form: choosing one is required
        raise Invalid(code="role_required", ko="역할: 역할을 선택하십시오", en="Role: choose a role", field="role")
    if role not in ROLES:
        raise Invalid(
            code="invalid_role",
            ko="알 수 없는 역할입니다",
            en=f"unknown role {role!r} (one of {', '.join(ROLES)})",
            field="role",
        )
    if role in REGION_BOUND_ROLES:
        if not region:
            raise Invalid(
                code="region_required",
                ko="지역 담당자는 한 개 지역에 속해야 합니다",
                en="a regional official must be bound to exactly one region",
                field="region",
            )

        if session.get(Region, region) is None:
            raise Invalid(
                code="invalid_region",
                ko="알 수 없는 지역 코드입니다",
                en=f"unknown region code {region!r}",
                field="region",
            )
        return region
    if region:
        raise Invalid(
            code="region_not_allowed",
            ko="지역 담당자만 지역에 속합니다",
            en="only a regional official is bound to a region",
            field="region",
        )
    return None


@use_case(action="users.manage", audit="users.create")
def create_user(
    *,
    session: Session,
    actor: Actor,
    username: str,
    display_name: str,
    role: str,
    password: str,
    region: str | None = None,
    reason: str = "user created",
) -> User:
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise Invalid(
            code="invalid_username",
            ko="사용자 이름은 영문 소문자, 숫자, . _ - 로 3~64자여야 합니다",
            en="user names have 3–64 characters: lower-case letters, digits, '.', '_' or '-'",
            field="username",
        )
    display_name = display_name.strip() or username
    region = _check_role_region(role, region or None, session)
    validate_password(password, username=username, display_name=display_name)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(
            code="username_taken",
            ko="이미 있는 사용자 이름입니다",
            en=f"user {username!r} already exists",
            field="username",
        )
    now = utcnow()
    user = User(
        username=username,
        display_name=display_name[:128],
        role=role,
        region=region,
        password_hash=hash_password(password),
        is_active=True,
        failed_logins=0,
        created_at=now,
        password_changed_at=now,
    )
    session.add(user)
    session.flush()
    return Done(
        value=user,
        subject=("user", username),
        reason=reason,
        inputs={"username": username, "display_name": display_name, "role": role, "region": region},
        region=region,
    )


def get_user(*, session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(what="user")
    return user


def get_user_by_name(*, session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound(what=f"user {username!r}")
    return user


def list_users(*, session: Session, offset: int = 0, limit: int = 50) -> tuple[int, list[User]]:
    total = session.scalar(select(func.count()).select_from(User)) or 0
    users = session.scalars(select(User).order_by(User.username).offset(offset).limit(limit)).all()
    return int(total), list(users)


@use_case(action="users.manage", subject=USER, subject_arg="user")
def update_user(
    *,
    session: Session,
    actor: Actor,
    user: User,
    display_name: str | None = None,
    role: str | None = None,
    region: str | None = None,
    is_active: bool | None = None,
    reason: str = "user changed",
) -> User:
    changes: dict = {}
    if display_name is not None and display_name.strip() and display_name.strip() != user.display_name:
        changes["display_name"] = display_name.strip()[:128]
    new_role = role if role is not None else user.role
    new_region = region if (region is not None or role is not None) else user.region
    if role is not None or region is not None:
        new_region = _check_role_region(new_role, new_region or None, session)
        if new_role != user.role:
            changes["role"] = new_role
        if new_region != user.region:
            changes["region"] = new_region
    if is_active is not None and is_active != user.is_active:
        if not is_active and actor.username == user.username:
            raise Conflict(
                code="cannot_disable_self",
                ko="자기 계정은 사용 중지할 수 없습니다",
                en="you cannot disable your own account",
            )
        changes["is_active"] = is_active
    if not changes:
        return Done(value=user, reason=reason, changed=False)
    for key, value in changes.items():
        setattr(user, key, value)
    if "is_active" in changes and is_active:
        unlock(session=session, username=user.username)
    session.flush()
    if changes.get("is_active") is False or "role" in changes or "region" in changes:
        revoke_sessions(session=session, user_id=user.id)
    action = {True: "users.enable", False: "users.disable"}.get(changes.get("is_active"), "users.update")  # type: ignore[arg-type]
    return Done(
        value=user, action=action, subject=("user", user.username), reason=reason, inputs={"changes": changes},
        region=user.region,
    )  # fmt: skip


@use_case(action=_self_or_admin("account.self"), subject=USER, subject_arg="user", audit="users.set_password")
def set_password(
    *,
    session: Session,
    actor: Actor,
    user: User,
    password: str,
    keep_session: str | None = None,
    reason: str = "password set",
) -> None:
    """Set a new password, unlock the account and end the user's other sessions."""
    validate_password(password, username=user.username, display_name=user.display_name)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    unlock(session=session, username=user.username)
    session.flush()
    revoke_sessions(session=session, user_id=user.id, except_key=keep_session)
    return Done(
        subject=("user", user.username), reason=reason, inputs={"by_self": actor.username == user.username},
        region=user.region,
    )  # fmt: skip


# --------------------------------------------------------------------------- log-in


@dataclass(frozen=True)
class LoginResult:
    outcome: str  # ok | invalid | locked
    user: User | None = None
    locked_until: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def normalise_username(username: str) -> str:
    return username.strip().lower()


def name_hash(username: str) -> str:
    """The key of a name's lock-out row: the name itself is not stored."""
    return sha256_hex(normalise_username(username)[:256])


def locked_until(*, session: Session, username: str, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the lock on `username` ends, or None when it is not locked."""
    row = session.get(LoginLock, name_hash(username))
    until = as_utc(row.locked_until) if row is not None else None
    return until if until is not None and until > (now or utcnow()) else None


def locks(*, session: Session, usernames: list[str]) -> dict[str, dt.datetime]:
    """username -> end of its lock, for the names among `usernames` that are locked now."""
    keys = {name_hash(u): u for u in usernames}
    now = utcnow()
    out = {}
    for key, until in session.execute(
        select(LoginLock.name_hash, LoginLock.locked_until).where(LoginLock.name_hash.in_(list(keys)))
    ):
        until = as_utc(until)
        if until is not None and until > now:
            out[keys[key]] = until
    return out


def unlock(*, session: Session, username: str) -> None:
    session.execute(delete(LoginLock).where(LoginLock.name_hash == name_hash(username)))


def _count_failure(session: Session, key: str, now: dt.datetime) -> int:
    """One more wrong password for the name: an atomic upsert, so that concurrent attempts (other
    server processes) each count once. Returns the failures in a row."""
    settings = get_account_settings()
    expires = int(now.timestamp()) + settings.login_failure_memory_hours * 3600
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = (
        insert(LoginLock)
        .values(name_hash=key, failures=1, locked_until=None, expires_at=expires)
        .on_conflict_do_update(
            index_elements=[LoginLock.name_hash],
            set_={"failures": LoginLock.failures + 1, "expires_at": expires},
        )
        .returning(LoginLock.failures)
    )
    failures = int(session.execute(stmt).scalar_one())
    if failures == 1:  # a new count somewhere: forget the names whose last failure is long past
        session.execute(delete(LoginLock).where(LoginLock.expires_at <= int(now.timestamp())))
    return failures


def authenticate(*, session: Session, username: str, password: str) -> LoginResult:
    """Check a password; count wrong ones per account name and lock the name for a while after too
    many in a row.

    Every name is treated alike, whether an account has it or not, is disabled or not: the same
    hashing work (a dummy hash stands in for a missing account), the same counting and lock-out,
    and the same answer, so the form does not tell which accounts exist. Attempts on a locked
    name are refused without checking the password and without extending the lock.
    """
    settings = get_account_settings()
    name = normalise_username(username)
    key = name_hash(name)
    now = utcnow()
    until = locked_until(session=session, username=name, now=now)
    if until is not None:
        return LoginResult("locked", locked_until=until)
    user = session.scalar(select(User).where(User.username == name)) if USERNAME_RE.match(name) else None
    usable = user is not None and user.is_active
    matches = check_password(user.password_hash if usable else _dummy_hash(), password)
    if usable and matches:
        assert user is not None
        unlock(session=session, username=name)
        user.last_login_at = now
        if hasher().check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        session.flush()
        return LoginResult("ok", user=user)
    failures = _count_failure(session, key, now)
    if user is None:  # the audit names no unknown name: it may be a password typed in the wrong field
        subject, why, region = ("login", "unknown account name"), "unknown user name", None
    else:
        why = "wrong password" if user.is_active else "log-in refused: the account is disabled"
        subject, region = ("user", user.username), user.region
    if failures >= settings.login_max_failures:
        until = now + dt.timedelta(minutes=settings.login_lockout_minutes)
        session.execute(
            update(LoginLock)
            .where(LoginLock.name_hash == key)
            .values(failures=0, locked_until=until)
            .execution_options(synchronize_session=False)
        )
        record(
            session=session,
            actor=principal_of(user) if user is not None else SIGN_IN,
            action="auth.lockout",
            subject=subject,
            reason=f"{failures} failed log-ins in a row ({why}): locked for {settings.login_lockout_minutes} minutes",
            inputs={"failures": failures, "locked_until": until},
            region=region,
        )
        return LoginResult("locked", locked_until=until)
    record(
        session=session,
        actor=principal_of(user) if user is not None else SIGN_IN,
        action="auth.login_failed",
        subject=subject,
        reason=why,
        inputs={"failures": failures},
        region=region,
    )
    return LoginResult("invalid")


def start_session(*, session: Session, user: User, replaces: str | None = None) -> str:
    """A new log-in session; returns the key for the signed cookie (only its hash is stored).

    `replaces` is the session key the browser carried before (a log-in over a log-in): it is
    revoked, so a cookie copied before the log-in is worth nothing after it."""
    key = secrets.token_urlsafe(32)
    now = utcnow()
    if replaces:
        session.execute(
            update(UserSession)
            .where(UserSession.key_hash == sha256_hex(replaces), UserSession.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
    session.add(
        UserSession(
            key_hash=sha256_hex(key),
            user_id=user.id,
            created_at=now,
            expires_at=now + dt.timedelta(seconds=get_account_settings().session_max_age),
            last_seen_at=now,
        )
    )
    session.flush()
    record(
        session=session,
        actor=principal_of(user),
        action="auth.login",
        subject=("user", user.username),
        reason="logged in",
        inputs={},
        region=user.region,
    )
    return key


def end_session(*, session: Session, key: str, actor: Actor) -> bool:
    row = session.get(UserSession, sha256_hex(key))
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    user = session.get(User, row.user_id)
    record(
        session=session,
        actor=actor,
        action="auth.logout",
        subject=("user", user.username if user else str(row.user_id)),
        reason="logged out",
        inputs={},
        region=user.region if user else None,
    )
    return True


def revoke_sessions(*, session: Session, user_id: int, except_key: str | None = None) -> int:
    stmt = update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
    if except_key:
        stmt = stmt.where(UserSession.key_hash != sha256_hex(except_key))
    result = session.execute(stmt.values(revoked_at=utcnow()).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)


def principal_from_session(*, engine: Engine, key: str) -> Actor | None:
    """The user of a live session: not revoked, not past its absolute expiry, and seen within the
    idle timeout. Seeing it again moves `last_seen_at` (written at most every minute or so)."""
    idle = get_account_settings().session_idle_timeout
    now = utcnow()
    with Session(engine) as session:
        row = session.execute(
            select(User, UserSession.last_seen_at)
            .join(UserSession, UserSession.user_id == User.id)
            .where(
                UserSession.key_hash == sha256_hex(key),
                UserSession.revoked_at.is_(None),
                UserSession.expires_at > now,
                UserSession.last_seen_at > now - dt.timedelta(seconds=idle),
                User.is_active.is_(True),
            )
        ).first()
        if row is None:
            return None
        user, last_seen = row
        if now - as_utc(last_seen) > dt.timedelta(seconds=min(60, idle // 10)):
            session.execute(
                update(UserSession)
                .where(UserSession.key_hash == sha256_hex(key))
                .values(last_seen_at=now)
                .execution_options(synchronize_session=False)
            )
            session.commit()
        return principal_of(user, via="session")


# --------------------------------------------------------------------------- API tokens


@use_case(action=_self_or_admin("tokens.manage"), subject=USER, subject_arg="user", audit="tokens.create")
def create_token(
    *,
    session: Session,
    actor: Actor,
    user: User,
    name: str,
    expires_days: int | None = None,
) -> tuple[ApiToken, str]:
    """A new bearer token for `user`; returns (row, plain text). The plain text is not kept."""
    name = name.strip()
    if not name or len(name) > 64:
        raise Invalid(
            code="invalid_name", ko="토큰 이름은 1~64자여야 합니다", en="token names have 1–64 characters", field="name"
        )
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=sha256_hex(plain),
        prefix=plain[:12],
        created_at=now,
        created_by=actor.username,
        expires_at=now + dt.timedelta(days=expires_days) if expires_days else None,
    )
    session.add(token)
    session.flush()
    return Done(
        value=(token, plain),
        subject=("api_token", token.id),
        reason=f"API token '{name}' created for {user.username}",
        inputs={"user": user.username, "name": name, "prefix": token.prefix, "expires_days": expires_days},
        region=user.region,
    )


def token_owner(*, actor: Actor, user_id: int | None) -> int:
    """Whose tokens `actor` lists or makes: their own, or anyone's for an administrator."""
    if user_id is None or user_id == actor.id:
        if actor.id is None:
            raise Forbidden(en="only a user has API tokens", ko="API 토큰은 사용자만 가질 수 있습니다")
        return actor.id
    authorize(actor, "users.manage")
    return user_id


def list_tokens(*, session: Session, user_id: int) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())))


def get_token(*, session: Session, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(what="API token")
    return token


@use_case(action=_token_action, subject=TOKEN, subject_arg="token", audit="tokens.revoke")
def revoke_token(*, session: Session, actor: Actor, token: ApiToken) -> bool:
    if token.revoked_at is not None:
        return Done(value=False, reason="already revoked", changed=False)
    token.revoked_at = utcnow()
    token.revoked_by = actor.username
    owner = session.get(User, token.user_id)
    session.flush()
    return Done(
        value=True,
        reason=f"API token '{token.name}' revoked",
        inputs={"user": owner.username if owner else None, "prefix": token.prefix},
        region=owner.region if owner else None,
    )


def principal_from_token(*, engine: Engine, plain: str) -> Actor | None:
    if not plain.startswith(TOKEN_PREFIX) or len(plain) > 128:
        return None
    now = utcnow()
    with Session(engine) as session:
        row = session.execute(
            select(User, ApiToken)
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == sha256_hex(plain), ApiToken.revoked_at.is_(None), User.is_active.is_(True))
        ).first()
        if row is None:
            return None
        user, token = row
        expires = as_utc(token.expires_at)
        if expires is not None and expires <= now:
            return None
        last = as_utc(token.last_used_at)
        if last is None or now - last > dt.timedelta(minutes=1):
            session.execute(
                update(ApiToken)
                .where(ApiToken.id == token.id)
                .values(last_used_at=now)
                .execution_options(synchronize_session=False)
            )
            session.commit()
        return principal_of(user, via="token", token_id=token.id)
