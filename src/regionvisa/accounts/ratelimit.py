"""Fixed-window rate limits kept in the database, so every server process (uvicorn workers,
several hosts) counts against the same limit.

A hit is one atomic upsert (`INSERT … ON CONFLICT DO UPDATE SET hits = hits + 1 RETURNING hits`,
the same statement on SQLite and PostgreSQL) on the row of (rule + hashed client, window start),
committed at once. Over the limit, `RateLimited` gives 429 in the one error shape with
Retry-After (seconds to the end of the window). Clients are hashed: no address or account name
is stored. The clock is `app.state.rate_limit_clock` when set (tests move it), else `time.time`.

Rules (limit per window seconds, from `AccountSettings`; a limit of 0 turns a rule off):
`login.address` and `login.account` on the log-in form (beside the lock-out per account name),
and `match.address` on the public matching endpoints. A log-in takes its place in the window
before the password is checked, so concurrent attempts cannot overrun the limit, and gives it
back when it succeeds (`release`): only failed attempts count towards the log-in limits.

The client address is the peer of the connection. Behind a reverse proxy the server takes the
client from `X-Forwarded-For` only when the proxy is configured (REGIONVISA_FORWARDED_ALLOW_IPS,
ops.serving); otherwise anyone could choose their own address with that header.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from regionvisa.accounts.models import RateLimitHit
from regionvisa.accounts.settings import AccountSettings, get_account_settings
from regionvisa.core.errors import DomainError
from regionvisa.db import is_postgres, session_scope

RETRY_AFTER_STATE = "retry_after"


@dataclass(frozen=True)
class Rule:
    name: str
    limit: int
    window: int  # seconds


def rules(settings: AccountSettings | None = None) -> dict[str, Rule]:
    s = settings or get_account_settings()
    return {
        r.name: r
        for r in (
            Rule("login.address", s.login_rate_address_limit, s.login_rate_address_window),
            Rule("login.account", s.login_rate_account_limit, s.login_rate_account_window),
            Rule("match.address", s.match_rate_limit, s.match_rate_window),
        )
    }


@dataclass(frozen=True)
class Decision:
    allowed: bool
    hits: int
    limit: int
    retry_after: int  # seconds until the window ends
    bucket: str = ""
    window_start: int = 0


class RateLimited(DomainError):
    def __init__(self, *, retry_after: int):
        super().__init__(
            status=429,
            code="rate_limited",
            ko=f"요청이 너무 많습니다. {retry_after}초 뒤에 다시 시도하십시오",
            en=f"too many requests; try again in {retry_after} seconds",
            headers={"Retry-After": str(retry_after)},
        )
        self.retry_after = retry_after


def bucket(rule: str, client: str) -> str:
    return f"{rule}:{hashlib.sha256(client.encode('utf-8')).hexdigest()[:64]}"


def _insert(engine: Engine):
    if is_postgres(engine=engine):
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def hit(*, engine: Engine, rule: Rule, client: str, now: float) -> Decision:
    """Count one request of `client` under `rule` and say whether it is within the limit."""
    start = int(now // rule.window) * rule.window
    end = start + rule.window
    retry_after = max(1, math.ceil(end - now))
    if rule.limit <= 0:
        return Decision(True, 0, 0, retry_after)
    key = bucket(rule.name, client)
    insert = _insert(engine)
    stmt = (
        insert(RateLimitHit)
        .values(bucket=key, window_start=start, hits=1, expires_at=end)
        .on_conflict_do_update(
            index_elements=[RateLimitHit.bucket, RateLimitHit.window_start], set_={"hits": RateLimitHit.hits + 1}
        )
        .returning(RateLimitHit.hits)
    )
    with session_scope(engine=engine) as session:
        hits = int(session.execute(stmt).scalar_one())
    if hits == 1:  # a new window somewhere: drop the windows that have passed, in their own transaction
        try:
            with session_scope(engine=engine) as session:
                session.execute(delete(RateLimitHit).where(RateLimitHit.expires_at <= int(now)))
        except DBAPIError:  # another process sweeping at the same moment; the next sweep gets them
            pass
    return Decision(hits <= rule.limit, hits, rule.limit, retry_after, key, start)


def release(*, engine: Engine, decisions: list[Decision]) -> None:
    """Give back the places `decisions` took (a request that turned out not to count)."""
    taken = [d for d in decisions if d.bucket]
    if not taken:
        return
    with session_scope(engine=engine) as session:
        for d in taken:
            session.execute(
                update(RateLimitHit)
                .where(
                    RateLimitHit.bucket == d.bucket, RateLimitHit.window_start == d.window_start, RateLimitHit.hits > 0
                )
                .values(hits=RateLimitHit.hits - 1)
                .execution_options(synchronize_session=False)
            )


def clock(request: Request) -> Callable[[], float]:
    return getattr(request.app.state, "rate_limit_clock", None) or time.time


def client_address(request: Request) -> str:
    """The peer address; uvicorn puts the forwarded client there only for a configured proxy."""
    return request.client.host if request.client else "unknown"


def enforce(request: Request, *checks: tuple[str, str]) -> list[Decision]:
    """Count the request under each (rule, client) and raise RateLimited for the first one over
    its limit; the later rules are then not counted. Retry-After is also left on the request
    state so that a page answer carries the header too. Returns the counts taken, for `release`."""
    settings = get_account_settings()
    if not settings.rate_limits_enabled:
        return []
    table = rules(settings)
    now = clock(request)()
    engine = request.app.state.engine
    taken: list[Decision] = []
    for name, client in checks:
        decision = hit(engine=engine, rule=table[name], client=client, now=now)
        if not decision.allowed:
            setattr(request.state, RETRY_AFTER_STATE, decision.retry_after)
            raise RateLimited(retry_after=decision.retry_after)
        taken.append(decision)
    return taken


def limit_match(request: Request) -> None:
    """FastAPI dependency for the public matching endpoints: `match.address`."""
    enforce(request, ("match.address", client_address(request)))
