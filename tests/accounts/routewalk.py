"""Walk every route of the real app with every role: the machinery behind test_route_policy.py
and the page checks in tests/web. Loaded by path (`load()`); the test folders are not packages.

How the walk decides, for each route × method × caller:
- the route's policy comes from `accounts.policy.route_policy` (its `require(action)` or
  PUBLIC_ROUTES); none is a failure;
- anonymous callers get 401 on protected routes; roles that lack the action get 403; roles
  that hold it are not refused (neither 401 nor 403);
- a regional official (Busan, 26) whose request names another region (Seoul, 11) must not
  succeed. A request names a region through a path parameter `code`/`region`, the query
  parameter `region`, or any path parameter or body a domain's `route_samples.py` gives per
  region (below). The same request for Busan must not be refused;
- every GET answer a regional official receives from a protected route is searched for
  other regions' data: the person ids the `records` fixture seeded outside Busan, and the
  markers domains give. Finding one is a leak, whatever the route;
- /api answers with status 4xx must have the one error shape.

Domains plug in without editing this folder: a file `tests/<domain>/route_samples.py` with

    def route_samples(engine, region: str) -> dict:
        # create objects of `region` with the domain's own service functions, then:
        return {
            "params": {"program_id": "BUSAN-D2"},                 # path parameter -> value
            "route_params": {"/x/{id}": {"id": 3}},               # per route template, overrides params
            "bodies": {"POST /api/v1/programs": {"json": {...}},  # request body per "METHOD template"
                       "POST /program-drafts": {"data": {...}}},  # (form fields for pages)
            "markers": ["Busan pilot D-2"],                        # text only this region's data shows
        }

It is called twice per walk (region "26" and "11") on a database that holds the regions, the
seeded records and one user per role. Path parameters nobody samples get a placeholder of their
type (the request then usually ends in 404, which proves the policy but not the region scope),
and the walk warns about them.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from fastapi.testclient import TestClient

from regionvisa.accounts import policy, service
from regionvisa.accounts.policy import OWN_REGION, PUBLIC, ROLES, Principal, grant, iter_routes, route_policy
from regionvisa.db import session_scope

TESTS = Path(__file__).resolve().parents[1]
OTHER = "11"  # Seoul; the regional official of the role_users fixture is Busan's
OWN = "26"
PARAM = re.compile(r"{(\w+)(?::\w+)?}")
REGION_PARAMS = ("code", "region")
ERROR_STATUSES = range(400, 500)


def load(path: Path, name: str):
    """Import a helper module of the test tree by its path."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def sample_modules() -> list[tuple[Path, object]]:
    found = []
    for path in sorted(TESTS.glob("*/route_samples.py")):
        found.append((path, load(path, f"regionvisa_route_samples_{path.parent.name}")))
    return found


@dataclass
class RegionSamples:
    params: dict = field(default_factory=dict)
    route_params: dict = field(default_factory=dict)
    bodies: dict = field(default_factory=dict)
    markers: list = field(default_factory=list)


@dataclass
class World:
    tokens: dict  # role -> bearer token
    builtin: dict  # path parameter -> value, for the accounts routes
    samples: dict  # region -> RegionSamples
    leak_markers: list  # what a Busan official must never see


def collect_samples(engine, region: str) -> RegionSamples:
    out = RegionSamples()
    owners: dict[str, Path] = {}
    for path, module in sample_modules():
        given = module.route_samples(engine, region) or {}
        unknown = set(given) - {"params", "route_params", "bodies", "markers"}
        assert not unknown, f"{path}: unknown keys {sorted(unknown)}"
        for name, value in (given.get("params") or {}).items():
            assert name not in owners, (
                f"path parameter {{{name}}} is sampled by both {owners[name]} and {path}: keep one, "
                "or give per-route values under 'route_params'"
            )
            owners[name] = path
            out.params[name] = value
        out.route_params.update(given.get("route_params") or {})
        out.bodies.update(given.get("bodies") or {})
        out.markers.extend(str(m) for m in given.get("markers") or ())
    return out


def build_world(engine, role_users, make_user, records) -> World:
    """Bearer tokens per role, a target user with a token, a user for the log-in route, and
    every domain's samples for Busan and Seoul."""
    target_id = make_user("t.target", "ministry_officer")
    make_user("t.walker", "committee_member")
    tokens = {}
    with session_scope(engine) as session:
        for role, info in role_users.items():
            _, tokens[role] = service.create_token(
                session, actor="test", user=service.get_user(session, info["id"]), name="walk"
            )
        target_token, _ = service.create_token(
            session, actor="test", user=service.get_user(session, target_id), name="target"
        )
        target_token_id = target_token.id
    samples = {region: collect_samples(engine, region) for region in (OWN, OTHER)}
    people = [pid for region, pids in records.items() if region != OWN for pid in pids]
    markers = people + [m for m in samples[OTHER].markers if m not in samples[OWN].markers]
    builtin = {"kind": "people", "user_id": target_id, "token_id": target_token_id}
    return World(tokens=tokens, builtin=builtin, samples=samples, leak_markers=markers)


def principal(role: str) -> Principal:
    return Principal(id=0, username=role, display_name=role, role=role, region=OWN if role in _bound() else None)


def _bound() -> frozenset:
    return frozenset(str(r) for r in policy.REGION_BOUND_ROLES)


def _placeholder(route, name: str):
    for param in getattr(route.dependant, "path_params", ()) if route.dependant is not None else ():
        if param.name == name:
            annotation = getattr(getattr(param, "field_info", None), "annotation", None)
            return 999999 if annotation is int else "unknown"
    return "unknown"


@dataclass
class Request:
    method: str
    url: str
    json: object = None
    data: dict | None = None
    names_region: bool = False  # the request names a region (so a Busan official's Seoul request must fail)
    unsampled: tuple = ()


def build(route, method: str, world: World, region: str) -> Request:
    """The request for `route` about `region`'s objects."""
    mine = world.samples[region]
    names_region = False
    unsampled = []
    per_route = mine.route_params.get(route.path, {})

    def fill(match: re.Match) -> str:
        nonlocal names_region
        name = match.group(1)
        if name in per_route:
            names_region = True
            return str(per_route[name])
        if name in REGION_PARAMS:
            names_region = True
            return region
        if name in mine.params:
            names_region = True
            return str(mine.params[name])
        if name in world.builtin:
            return str(world.builtin[name])
        unsampled.append(name)
        return str(_placeholder(route, name))

    url = PARAM.sub(fill, route.path)
    if route.path == "/static":
        url = "/static/style.css"
    if route.dependant is not None and any(q.name == "region" for q in route.dependant.query_params):
        url += f"?region={region}"
        names_region = True
    request = Request(method, url, names_region=names_region, unsampled=tuple(unsampled))
    body = mine.bodies.get(f"{method} {route.path}")
    if body:
        request.json, request.data = body.get("json"), body.get("data")
        names_region = True
    if method == "POST" and route.path == "/login":
        request.data = {"username": "t.walker", "password": "correct-horse-battery", "next": "/"}
    request.names_region = names_region
    return request


def send(client: TestClient, request: Request, headers: dict | None = None):
    return client.request(
        request.method,
        request.url,
        headers=headers or {},
        json=request.json,
        data=request.data,
        follow_redirects=False,
    )


def anonymous(app, request: Request):
    """A fresh browser each time, holding the CSRF token of its own session."""
    with TestClient(app) as browser:
        headers = {}
        if request.method in policy.UNSAFE_METHODS:
            page = browser.get("/login")
            headers["X-CSRF-Token"] = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        return send(browser, request, headers)


def error_shape_problem(response) -> str | None:
    if response.status_code not in ERROR_STATUSES:
        return None
    try:
        error = response.json()["error"]
        ok = (
            isinstance(error["code"], str)
            and isinstance(error["message"]["ko"], str)
            and isinstance(error["message"]["en"], str)
            and isinstance(error.get("field", ""), str)
        )
    except (ValueError, KeyError, TypeError):
        ok = False
    return None if ok else f"not the one error shape: {response.text[:200]}"


def walk(app, world: World, *, roles=ROLES, only=None) -> tuple[list[str], int]:
    """(problems, requests checked). An empty list means every route kept to the policy.

    `only(route) -> bool` narrows the walk (the tests of the walk itself use it)."""
    problems: list[str] = []
    checked = 0
    unsampled: dict[str, set[str]] = {}
    with TestClient(app) as client:
        for route in iter_routes(app):
            if only is not None and not only(route):
                continue
            try:
                action = route_policy(route)
            except RuntimeError as exc:
                problems.append(str(exc))
                continue
            if action is None:
                problems.append(f"{','.join(route.methods)} {route.path}: no policy (require(action) or PUBLIC_ROUTES)")
                continue
            for method in route.methods:
                other = build(route, method, world, OTHER)
                for name in other.unsampled:
                    unsampled.setdefault(name, set()).add(route.path)
                is_api = other.url.startswith("/api/")

                def note(where: str, response, message: str) -> None:
                    problems.append(f"{where} -> {response.status_code}: {message} {response.text[:160]!r}")

                response = anonymous(app, other)
                where = f"anonymous {method} {other.url}"
                if action == PUBLIC:
                    if response.status_code in (401, 403):
                        note(where, response, "a public route refused")
                elif response.status_code != 401:
                    note(where, response, f"anonymous reached a route that needs {action}")
                if is_api and (shape := error_shape_problem(response)):
                    note(where, response, shape)
                for role in roles:
                    headers = {"Authorization": f"Bearer {world.tokens[role]}"}
                    response = send(client, other, headers)
                    checked += 1
                    where = f"{role} {method} {other.url}"
                    if is_api and (shape := error_shape_problem(response)):
                        note(where, response, shape)
                    if action == PUBLIC:
                        if response.status_code in (401, 403):
                            note(where, response, "a public route refused")
                        continue
                    scope = grant(principal(role), action)
                    if scope is None:
                        if response.status_code != 403:
                            note(where, response, f"{role} lacks {action} but was not refused")
                        elif is_api and response.json()["error"]["code"] != "forbidden":
                            note(where, response, "refusal without the code 'forbidden'")
                        continue
                    if scope == OWN_REGION and other.names_region:
                        if response.status_code < 400:
                            note(where, response, f"a regional official reached another region's data ({action})")
                        own = build(route, method, world, OWN)
                        own_response = send(client, own, headers)
                        if own_response.status_code in (401, 403):
                            note(f"{role} {method} {own.url}", own_response, "refused its own region")
                        problems.extend(leaks(world, role, method, action, own.url, own_response))
                    elif response.status_code in (401, 403):
                        note(where, response, f"{role} holds {action} ({scope}) but was refused")
                    problems.extend(leaks(world, role, method, action, other.url, response))
    if unsampled:
        warnings.warn(
            "route walk: no sample values for "
            + ", ".join(f"{{{name}}} ({len(paths)} routes)" for name, paths in sorted(unsampled.items()))
            + " (placeholders used; add them to tests/<domain>/route_samples.py to check region scope)",
            stacklevel=2,
        )
    return problems, checked


def leaks(world: World, role: str, method: str, action: str, url: str, response) -> list[str]:
    """Other regions' data in what a region-bound role received."""
    if role not in _bound() or method != "GET" or action == PUBLIC or response.status_code >= 400:
        return []
    text = response.text
    found = [m for m in world.leak_markers if m and m in text]
    if not found:
        return []
    return [f"{role} GET {url} -> {response.status_code}: shows another region's data {found[:3]}"]
