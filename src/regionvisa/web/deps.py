"""The web side of the permission policy: FastAPI dependencies and the route declarations.

- `require(action)` is the dependency every protected route declares; it returns the
  `Actor` allowed the action (401/403 otherwise, from `accounts.policy.authorize`) and also
  checks the CSRF token of cookie-authenticated state-changing requests (`check_csrf`).
- Every route must declare its policy: `require(…)` among its dependencies, or its path in
  `accounts.policy.PUBLIC_ROUTES`. `undeclared_routes(app)` lists the ones that do neither; the
  app factory refuses to start when there are any, and a test walks every route with every role.

The table itself (`accounts.policy`) imports no web framework, so services and the command line
check the same rules without loading FastAPI.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from functools import cache

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.routing import Mount, Route

from regionvisa.accounts.policy import ACTIONS, PUBLIC, PUBLIC_ROUTES, Actor, authorize
from regionvisa.core.errors import Forbidden, Unauthenticated

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


async def check_csrf(request: Request) -> None:
    """Refuse a state-changing request that rides on the session cookie without the session's
    CSRF token (hidden form field `csrf_token` or header `X-CSRF-Token`). Bearer-token calls
    carry no ambient credential and are exempt; anonymous API calls have nothing to protect."""
    if request.method not in UNSAFE_METHODS:
        return
    if getattr(request.state, "auth", None) == "token":
        return
    if request.url.path.startswith("/api/") and getattr(request.state, "user", None) is None:
        return
    expected = request.session.get("csrf") if "session" in request.scope else None
    supplied = request.headers.get(CSRF_HEADER)
    if not supplied:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            supplied = value if isinstance(value, str) else None
    if not expected or not supplied or not hmac.compare_digest(str(expected), supplied):
        raise Forbidden(
            en="the form has expired or did not come from this site (CSRF check failed); reload the page and try again",
            ko="양식이 만료되었거나 이 사이트에서 보낸 것이 아닙니다 (CSRF 검사 실패). "
            "페이지를 새로 고친 뒤 다시 시도하십시오",
        )


# Documents the bearer scheme in OpenAPI (the "Authorize" button); the token itself is read
# by accounts.security.AuthMiddleware, which also accepts the session cookie.
bearer_scheme = HTTPBearer(auto_error=False, scheme_name="bearer", description="Authorization: Bearer rvt_…")


def current_user(request: Request) -> Actor | None:
    return getattr(request.state, "user", None)


@cache
def require(action: str):
    """FastAPI dependency: the signed-in Actor allowed `action`, else 401/403; CSRF too.

    Use it as `dependencies=[Depends(require("stats.read"))]` or as a parameter
    `user: Actor = Depends(require("stats.read"))`. Region-scoped handlers then call
    `scope_region(user, requested, action=…)` or `authorize(user, action, region)`.
    """
    if action not in ACTIONS:
        raise KeyError(f"unknown action {action!r}; declare it in accounts.policy.ACTIONS")

    async def dependency(
        request: Request, _bearer: HTTPAuthorizationCredentials | None = Depends(bearer_scheme)
    ) -> Actor:
        user = current_user(request)
        if user is None:
            if getattr(request.state, "auth_error", None):
                raise Unauthenticated(
                    code="invalid_token",
                    en=request.state.auth_error,
                    ko="API 토큰이 올바르지 않거나 만료 또는 폐기되었습니다",
                )
            raise Unauthenticated()
        authorize(user, action)
        await check_csrf(request)
        return user

    dependency.policy_action = action  # type: ignore[attr-defined]
    dependency.__name__ = f"require_{action.replace('.', '_')}"
    return dependency


@dataclass(frozen=True)
class RouteInfo:
    """One served route, with its full path and the dependencies of every router it sits in."""

    path: str
    methods: tuple[str, ...]
    dependant: object | None  # fastapi Dependant for API routes
    is_api: bool


def iter_routes(app) -> list[RouteInfo]:
    """Every route the app serves. FastAPI combines included routers lazily, so read them
    through its route contexts (full path, router-level dependencies included)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: included routes are already flat
        contexts = list(app.routes)
    else:
        contexts = list(iter_route_contexts(app.routes))
    infos = []
    for ctx in contexts:
        original = getattr(ctx, "original_route", ctx)
        path = getattr(ctx, "path", None) or getattr(original, "path", "")
        if isinstance(original, Mount):
            infos.append(RouteInfo(path, ("GET",), None, False))
            continue
        if not isinstance(original, APIRoute | Route):
            continue
        methods = tuple(sorted(m for m in (getattr(ctx, "methods", None) or {"GET"}) if m != "HEAD"))
        is_api = isinstance(original, APIRoute)
        infos.append(RouteInfo(path, methods, getattr(ctx, "dependant", None) if is_api else None, is_api))
    return infos


def _declared_actions(dependant) -> list[str]:
    found = []
    for dep in getattr(dependant, "dependencies", ()):
        action = getattr(dep.call, "policy_action", None)
        if action:
            found.append(action)
        found.extend(_declared_actions(dep))
    return found


def _uses_csrf(dependant) -> bool:
    return any(dep.call is check_csrf or _uses_csrf(dep) for dep in getattr(dependant, "dependencies", ()))


def route_policy(route: RouteInfo) -> str | None:
    """The action a route requires, PUBLIC, or None when it declares nothing."""
    actions = _declared_actions(route.dependant) if route.dependant is not None else []
    if actions and route.path in PUBLIC_ROUTES:
        raise RuntimeError(f"{route.path} is both public and protected ({actions[0]})")
    if actions:
        return actions[0]
    if route.path in PUBLIC_ROUTES:
        return PUBLIC
    return None


def undeclared_routes(app) -> list[str]:
    """Routes without a policy, and public state-changing routes without a CSRF check."""
    problems = []
    for route in iter_routes(app):
        policy = route_policy(route)
        label = f"{','.join(route.methods)} {route.path}"
        if policy is None:
            problems.append(f"{label}: no policy (use require(action) or PUBLIC_ROUTES)")
        elif policy == PUBLIC and UNSAFE_METHODS & set(route.methods) and not _uses_csrf(route.dependant):
            problems.append(f"{label}: public and state-changing without check_csrf")
    return problems
