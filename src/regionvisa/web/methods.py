"""A 405 answer names every method its path takes (`Allow`, RFC 9110 §15.5.6), API and pages alike.

OPTIONS is not served (no cross-origin use: pages are same-site and API clients send a bearer
token), so it answers 405 like any other method a route lacks. Starlette's own 405 names only the
methods of the first route whose path matched, and the error page drops the header; this
middleware sets it from every route of the path (`GET, POST` for /api/v1/users).
"""

from __future__ import annotations

import re

from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _route_table(app) -> list[tuple[re.Pattern, frozenset[str]]]:
    """(path pattern, methods) of every route."""
    return [(pattern, methods) for pattern, methods, _params in _routes_with_templates(app)]


def allowed_methods(app, scope: Scope) -> list[str]:
    """The methods of every route whose path matches the request's, in a fixed order."""
    path, root = scope["path"], scope.get("root_path", "")
    if root and path.startswith(root):  # mounted under a prefix: routes match the rest
        path = path[len(root) :]
    methods: set[str] = set()
    for pattern, route_methods in _route_table(app):
        if pattern.match(path):
            methods |= route_methods
    return sorted(methods, key=lambda m: (ORDER.index(m) if m in ORDER else len(ORDER), m))


class AllowHeader:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                methods = allowed_methods(scope["app"], scope)
                if methods:
                    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                    headers.append((b"allow", ", ".join(methods).encode("latin-1")))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_allow)


def _routes_with_templates(app) -> list[tuple[re.Pattern, frozenset[str], bool]]:
    """(path pattern, methods, whether the path has parameters) of every route; FastAPI includes
    routers lazily, so read them through its route contexts (full paths) where it has them."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: included routes are already flat
        contexts = list(app.routes)
    else:
        contexts = list(iter_route_contexts(app.routes))
    return [
        (compile_path(ctx.path)[0], frozenset(ctx.methods), "{" in ctx.path)
        for ctx in contexts
        if getattr(ctx, "methods", None) and getattr(ctx, "path", None)
    ]


def is_get_page(app, path: str) -> bool:
    """Whether a browser can open `path`: a GET route matches it, and no route of another method
    names it literally (`/applications/search` is a POST address even though the GET route
    `/applications/{application_id}` matches its shape)."""
    routes = _routes_with_templates(app)
    if any(not params and "GET" not in methods and pattern.match(path) for pattern, methods, params in routes):
        return any(not params and "GET" in methods and pattern.match(path) for pattern, methods, params in routes)
    return any("GET" in methods and pattern.match(path) for pattern, methods, _params in routes)


def nearest_get_page(app, path: str) -> str:
    """`path` if a browser can open it, else the nearest parent that it can (the application page
    above its `/approve`, `/applications` above `/applications/search`), else the home page."""
    parts = [p for p in path.split("/") if p]
    while parts:
        candidate = "/" + "/".join(parts)
        if is_get_page(app, candidate):
            return candidate
        parts.pop()
    return "/"
