"""Walk every route of the real app with every role: the machinery behind test_route_policy.py
and the page checks in tests/web. Loaded by path (`load()`); the test folders are not packages.

How the walk decides, for each route × method × caller:
- the route's policy comes from `web.deps.route_policy` (its `require(action)` or
  PUBLIC_ROUTES); none is a failure;
- anonymous callers get 401 on protected routes; roles that lack the action get 403; roles
  that hold it are not refused (neither 401 nor 403);
- a regional official (Busan, 26) whose request names another region (Seoul, 11) must not
  succeed. A request names a region through a path parameter `code`/`region`, the query
  parameter `region`, or any path parameter or body a domain's `route_samples.py` gives per
  region (below). The same request for Busan must not be refused;
- every answer a regional official receives from a protected route is searched for other
  regions' data: the person ids the `records` fixture seeded outside Busan, the markers domains
  give, and, in JSON, any `region`/`region_code` value other than Busan's (except on the few
  routes in NATIONAL_ROUTES, which publish every region's figures on purpose). Finding one is a
  leak, whatever the route;
- /api answers with status 4xx must have the one error shape;
- `foreign_writes` (its own tests) sends writes that name the official's own region but carry
  another region's ids (an application for another region's resident), which must be refused.

Domains plug in without editing this folder: a file `tests/<domain>/route_samples.py` with

    def route_samples(engine, region: str) -> dict:
        # create objects of `region` with the domain's own service functions, then:
        return {
            "params": {"program_id": "BUSAN-D2"},                 # path parameter -> value
            "route_params": {"/x/{id}": {"id": 3}},               # per route template, overrides params
            "bodies": {"POST /api/v1/programs": {"json": {...}},  # request body per "METHOD template"
                       "POST /program-drafts": {"data": {...}}},  # (form fields for pages)
            "markers": ["Busan pilot D-2"],                        # text only this region's data shows
            "shared": {"round_id": 7},                             # objects of no region (same for both)
        }

It is called twice per walk (region "26" and "11") on a database that holds the regions, the
seeded records and one user per role. A `shared` value fills its parameter on every route that
does not name it per region, without counting as naming a region (a selection round belongs to
no region; what it shows a region is checked by the leak search). Path parameters nobody samples
get a placeholder of their type (the request then usually ends in 404, which proves the policy
but not the region scope): the walk warns about them, and test_route_policy.py fails on them.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from fastapi.testclient import TestClient
from tests.actors import SYSTEM

from regionvisa.accounts import policy, service
from regionvisa.accounts.policy import OWN_REGION, PUBLIC, ROLES, Actor, grant
from regionvisa.db import session_scope
from regionvisa.web import deps
from regionvisa.web.deps import iter_routes, route_policy

TESTS = Path(__file__).resolve().parents[1]
OTHER = "11"  # Seoul; the regional official of the role_users fixture is Busan's
OWN = "26"
PARAM = re.compile(r"{(\w+)(?::\w+)?}")
REGION_PARAMS = ("code", "region")
REGION_KEYS = frozenset({"region", "region_code"})
ERROR_STATUSES = range(400, 500)
# Routes whose answers carry every region's rows by design, for every role that may read them:
# the published outcome of a selection round (every region sees every region's decision). The
# markers and other regions' person ids are still searched for there.
NATIONAL_ROUTES: dict[str, str] = {
    "/api/v1/selection/rounds/{round_id}/results": "the published decisions of the round",
}


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
    shared: dict = field(default_factory=dict)


@dataclass
class World:
    tokens: dict  # role -> bearer token
    builtin: dict  # path parameter -> value, for the accounts routes and objects of no region
    samples: dict  # region -> RegionSamples
    leak_markers: list  # what a Busan official must never see
    foreign_people: dict = field(default_factory=dict)  # region -> identity of one of its residents


def collect_samples(engine, region: str) -> RegionSamples:
    out = RegionSamples()
    owners: dict[str, Path] = {}
    for path, module in sample_modules():
        given = module.route_samples(engine, region) or {}
        unknown = set(given) - {"params", "route_params", "bodies", "markers", "shared"}
        assert not unknown, f"{path}: unknown keys {sorted(unknown)}"
        for kind in ("params", "shared"):
            for name, value in (given.get(kind) or {}).items():
                assert name not in owners, (
                    f"path parameter {{{name}}} is sampled by both {owners[name]} and {path}: keep one, "
                    "or give per-route values under 'route_params'"
                )
                owners[name] = path
                getattr(out, kind)[name] = value
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
    with session_scope(engine=engine) as session:
        for role, info in role_users.items():
            _, tokens[role] = service.create_token(
                session=session, actor=SYSTEM, user=service.get_user(session=session, user_id=info["id"]), name="walk"
            )
        target_token, _ = service.create_token(
            session=session, actor=SYSTEM, user=service.get_user(session=session, user_id=target_id), name="target"
        )
        target_token_id = target_token.id
    samples = {region: collect_samples(engine, region) for region in (OWN, OTHER)}
    assert samples[OWN].shared == samples[OTHER].shared, "a shared object must be the same for every region"
    people = [pid for region, pids in records.items() if region != OWN for pid in pids]
    markers = people + [m for m in samples[OTHER].markers if m not in samples[OWN].markers]
    builtin = {"kind": "people", "user_id": target_id, "token_id": target_token_id, **samples[OWN].shared}
    foreign = {region: identity(engine, pids[0]) for region, pids in records.items() if region != OWN and pids}
    return World(tokens=tokens, builtin=builtin, samples=samples, leak_markers=markers, foreign_people=foreign)


def identity(engine, person_id: str) -> dict:
    """What an application for this person would state: name, passport number, birth date."""
    from regionvisa.records import pii
    from regionvisa.records.models import Person

    with session_scope(engine=engine) as session:
        person = session.get(Person, person_id)
        assert person is not None, person_id
        (passport,) = pii.decrypt([person.passport_enc])
        return {
            "person_id": person_id,
            "name": person.name,
            "passport_no": passport,
            "birth_date": person.birth_date.isoformat(),
            "nationality": person.nationality,
        }


def principal(role: str) -> Actor:
    return Actor(id=0, username=role, display_name=role, role=role, region=OWN if role in _bound() else None)


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
    files: dict | None = None
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


def page_urls(app, world: World, region: str = OWN) -> list[tuple[str, str]]:
    """(route template, URL) of every GET page route of the app, its path parameters from the
    domains' samples for `region`: the page list the page checks share (tests/web accessibility
    and one-language crawls, tests/browser/test_crawl.py)."""
    found = []
    for route in iter_routes(app):
        if route.path.startswith(("/api/", "/static", "/docs")) or "GET" not in route.methods:
            continue
        found.append((route.path, build(route, "GET", world, region).url))
    return found


def send(client: TestClient, request: Request, headers: dict | None = None):
    return client.request(
        request.method,
        request.url,
        headers=headers or {},
        json=request.json,
        data=request.data,
        files=request.files,
        follow_redirects=False,
    )


def anonymous(app, request: Request):
    """A fresh browser each time, holding the CSRF token of its own session."""
    with TestClient(app) as browser:
        headers = {}
        if request.method in deps.UNSAFE_METHODS:
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


def walk(app, world: World, *, roles=ROLES, only=None, tally: dict | None = None) -> tuple[list[str], int]:
    """(problems, requests checked). An empty list means every route kept to the policy.

    `only(route) -> bool` narrows the walk (the tests of the walk itself use it); `tally`, when
    given, gets caller -> Counter of the status codes of every request sent (for the report)."""
    problems: list[str] = []
    checked = 0

    def seen(caller: str, response) -> None:
        if tally is not None:
            tally.setdefault(caller, Counter())[response.status_code] += 1

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
                seen("anonymous", response)
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
                    seen(role, response)
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
                        seen(role, own_response)
                        if own_response.status_code in (401, 403):
                            note(f"{role} {method} {own.url}", own_response, "refused its own region")
                        problems.extend(leaks(world, role, method, action, own.url, own_response, route=route.path))
                    elif response.status_code in (401, 403):
                        note(where, response, f"{role} holds {action} ({scope}) but was refused")
                    problems.extend(leaks(world, role, method, action, other.url, response, route=route.path))
    for name, paths in sorted(unsampled.items()):
        problems.append(
            f"no sample value for {{{name}}} ({len(paths)} routes, e.g. {sorted(paths)[0]}): a placeholder "
            "proves the policy but not the region scope; add a real object to tests/<domain>/route_samples.py"
        )
    return problems, checked


@dataclass
class Probe:
    kind: str  # application | bulk_intake | proposal
    why: str
    request: Request
    count_key: str | None = None  # a batch answers 200: the count of rows it took must be 0


def foreign_write_probes(world: World) -> list[Probe]:
    """Writes a regional official makes about their own region that carry another region's ids:
    - `application`: to their own programme, for a resident of another region (`person_id`, with
      the person's own name, passport number and birth date);
    - `bulk_intake`: the same person as a row of a bulk intake file;
    - `proposal`: their own region's proposal carrying another region's design.
    """
    own = world.samples[OWN]
    probes: list[Probe] = []
    application = own.bodies.get("POST /api/v1/applications")
    assert application and application.get("json"), "the applications samples give no application body"
    assert world.foreign_people, "the records hold no resident outside the official's region"
    for region, person in sorted(world.foreign_people.items()):
        pid = person["person_id"]
        body = {**application["json"], "name": person["name"], "passport_no": person["passport_no"], "person_id": pid}
        body["applicant"] = {
            **body.get("applicant", {}),
            "nationality": person["nationality"],
            "birth_date": person["birth_date"],
        }
        why = f"an application for {pid}, a resident of region {region}"
        probes.append(Probe("application", why, Request("POST", "/api/v1/applications", json=body)))
        columns = ("person_id", "name", "passport_no", "nationality", "birth_date")
        csv = ",".join(columns) + "\n" + ",".join(person[k] for k in columns) + "\n"
        intake = Request(
            "POST",
            "/api/v1/applications/imports",
            data={"program_id": body["program_id"]},
            files={"file": ("intake.csv", csv.encode("utf-8"), "text/csv")},
        )
        probes.append(
            Probe("bulk_intake", f"a bulk intake row for {pid}, a resident of region {region}", intake, "inserted")
        )
    proposal = "/api/v1/selection/rounds/{round_id}/proposals/{region}"
    other_design = world.samples[OTHER].bodies.get(f"PUT {proposal}")
    assert other_design and proposal in own.route_params, "the selection samples give no proposal"
    url = proposal.format(region=OWN, **own.route_params[proposal])
    why = f"a proposal of region {OWN} with region {OTHER}'s design"
    probes.append(Probe("proposal", why, Request("PUT", url, json=other_design["json"])))
    return probes


def foreign_writes(
    app, world: World, *, kinds=None, role: str = "regional_official", tally: Counter | None = None
) -> tuple[list[str], int]:
    """(problems, writes sent) for the probes of `kinds` (default all): each must be refused.
    `tally`, when given, counts the status codes of the answers (for the report)."""
    probes = [p for p in foreign_write_probes(world) if kinds is None or p.kind in kinds]
    problems: list[str] = []
    with TestClient(app) as client:
        for probe in probes:
            request = probe.request
            auth = {"Authorization": f"Bearer {world.tokens[role]}"}
            response = send(client, request, auth)
            if tally is not None:
                tally[response.status_code] += 1
            where = f"{role} {request.method} {request.url} -> {response.status_code}"
            accepted = response.status_code < 400
            if accepted and probe.count_key is not None:
                accepted = bool(_written(client, response, auth).get(probe.count_key))
            if accepted:
                problems.append(f"{where}: accepted {probe.why} {response.text[:160]!r}")
            if shape := error_shape_problem(response):
                problems.append(f"{where}: {shape}")
    return problems, len(probes)


def _written(client, response, headers) -> dict:
    """What an accepted write reports: its answer, or, for one run as a job (202), the finished job's summary."""
    if response.status_code != 202:
        return response.json()
    from tests.jobs.support import follow

    job = follow(client, response, client.app.state.engine, headers=headers)
    if job["state"] != "succeeded":
        return {}
    return (job.get("result") or {}).get("summary") or {}


def leaks(world: World, role: str, method: str, action: str, url: str, response, *, route: str = "") -> list[str]:
    """Other regions' data in what a region-bound role received: a marker or person id of another
    region anywhere in the answer, or a JSON row whose region is not the role's own."""
    if role not in _bound() or action == PUBLIC or response.status_code >= 400:
        return []
    text = response.text
    found = [m for m in world.leak_markers if m and m in text]
    if route not in NATIONAL_ROUTES:
        found += [f"{key}={value}" for key, value in sorted(foreign_regions(response))]
    if not found:
        return []
    return [f"{role} {method} {url} -> {response.status_code}: shows another region's data {found[:3]}"]


def foreign_regions(response, own: str = OWN) -> set[tuple[str, str]]:
    """(key, value) of every `region`/`region_code` in a JSON answer that is not `own`."""
    headers = getattr(response, "headers", None) or {}
    if "json" not in headers.get("content-type", ""):
        return set()
    try:
        body = response.json()
    except ValueError:
        return set()
    found: set[tuple[str, str]] = set()
    stack = [body]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if key in REGION_KEYS and isinstance(item, str) and item != own:
                    found.add((key, item))
                stack.append(item)
        elif isinstance(value, list):
            stack.extend(value)
    return found
