"""Request authentication: the signed session cookie, bearer tokens, the CSRF token, and the
request state (`user`, `nav`, `csrf_token`) that `web.templating.render` reads.

- The session cookie is Starlette's signed cookie (itsdangerous) holding a random session key
  and the CSRF token; it is HttpOnly and SameSite=Lax, and Secure when the request came over
  https (or always/never, by REGIONVISA_SESSION_HTTPS_ONLY). The key names a row of
  `user_session`, so log-out, disabling a user or changing a password ends the session.
- `Authorization: Bearer rvt_…` authenticates API calls (and page requests) by token instead;
  such calls carry no ambient credential and need no CSRF token.
- Every page request gets a CSRF token in its session, so any form (the log-in form too) can
  carry it; `web.deps.require` and `web.deps.check_csrf` check it on state-changing requests.
"""

from __future__ import annotations

import functools
import secrets

from anyio import to_thread
from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from regionvisa.accounts import service
from regionvisa.accounts.nav import build_nav
from regionvisa.accounts.ratelimit import RETRY_AFTER_STATE
from regionvisa.accounts.settings import AccountSettings, get_account_settings
from regionvisa.config import get_settings

SESSION_KEY = "sid"
CSRF_KEY = "csrf"


class SchemeAwareSessionMiddleware:
    """Starlette's SessionMiddleware, with the Secure flag chosen per request in `auto` mode."""

    def __init__(self, app: ASGIApp, *, secret_key: str, settings: AccountSettings) -> None:
        options = {
            "secret_key": secret_key,
            "session_cookie": settings.session_cookie,
            "max_age": settings.session_max_age,
            "same_site": "lax",
        }
        self.plain = SessionMiddleware(app, https_only=False, **options)
        self.secure = SessionMiddleware(app, https_only=True, **options)
        self.mode = settings.session_https_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.plain(scope, receive, send)
            return
        secure = self.mode == "true" or (self.mode == "auto" and scope.get("scheme") in ("https", "wss"))
        await (self.secure if secure else self.plain)(scope, receive, send)


class AuthMiddleware:
    """Puts `user`, `auth`, `nav` and `csrf_token` on the request state (inside the session middleware),
    and adds Retry-After to a 429 answer whose handler left it on the state but not on the
    response (the error pages are rendered without the exception's headers)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        session = scope.get("session", {})
        engine = scope["app"].state.engine
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        user = None
        auth = None
        auth_error = None
        authorization = headers.get("authorization", "")
        if authorization:
            scheme, _, credential = authorization.partition(" ")
            if scheme.lower() == "bearer" and credential.strip():
                user = await to_thread.run_sync(
                    functools.partial(service.principal_from_token, engine=engine, plain=credential.strip())
                )
                if user is None:
                    auth_error = "the API token is unknown, expired or revoked"
                else:
                    auth = "token"
            else:
                auth_error = "use 'Authorization: Bearer <token>'"
        elif session.get(SESSION_KEY):
            user = await to_thread.run_sync(
                functools.partial(service.principal_from_session, engine=engine, key=session[SESSION_KEY])
            )
            if user is None:  # expired, revoked, or the user was disabled
                session.pop(SESSION_KEY, None)
            else:
                auth = "session"
        if not scope["path"].startswith("/api/") and auth != "token" and not session.get(CSRF_KEY):
            session[CSRF_KEY] = secrets.token_urlsafe(32)
        state["user"] = user
        state["auth"] = auth
        state["auth_error"] = auth_error
        state["csrf_token"] = session.get(CSRF_KEY, "")
        state["nav"] = build_nav(user, scope["path"])

        async def send_with_retry_after(message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 429 and state.get(RETRY_AFTER_STATE):
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"retry-after" for name, _ in headers):
                    headers.append((b"retry-after", str(state[RETRY_AFTER_STATE]).encode("latin-1")))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_retry_after)


def rotate_session(*, session: dict, key: str) -> str:
    """A fresh session at log-in: nothing from before survives, and the CSRF token changes."""
    session.clear()
    session[SESSION_KEY] = key
    session[CSRF_KEY] = secrets.token_urlsafe(32)
    return session[CSRF_KEY]


def install(app: FastAPI) -> None:
    """Add the middlewares; call before any other middleware that needs the user."""
    settings = get_account_settings()
    app.add_middleware(AuthMiddleware)
    app.add_middleware(SchemeAwareSessionMiddleware, secret_key=get_settings().secret_key, settings=settings)
