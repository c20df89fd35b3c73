"""Schemathesis against the app's own OpenAPI schema, as every role and anonymously.

Each API operation gets a few generated requests that fit the schema and a few that break it,
sent in-process to the real ASGI app over a seeded database (published pilot programmes, a few
records, and the route walk's per-region samples). Every answer must be:
- never a 5xx, an unhandled exception or a stack trace;
- for 4xx, the one error shape {"error": {"code", "message": {"ko", "en"}, "field"?}};
- for a request that breaks the schema, a 4xx (schemathesis' negative_data_rejection);
- declared in the schema (status code, content type, body), error responses included;
- for the Busan regional official, free of other regions' data (the route walk's leak markers),
  and a refusal whenever the request names a Seoul object of a region-scoped action. Those
  requests reuse the route walk's sample objects for path parameters, so they reach real data.

Not checked: schemathesis' positive_data_acceptance. A request that fits the schema may still
break a rule the schema cannot state (the password policy, a file's format, a workflow state), and
the API answers those with a documented 4xx.

Generation is bounded and derandomised, so every run sends the same requests; a caller refused
by the policy gets one example per mode (the refusal comes before anything reads the input).
Each problem found is kept as a plain request in test_fuzz_regressions.py.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import traceback
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlsplit

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import positive_data_acceptance
from tests.hardening.figures import record, statuses

from regionvisa.accounts.policy import OWN_REGION, PUBLIC, ROLES, authorize, grant
from regionvisa.web.deps import iter_routes, route_policy

# per operation and generation mode, for a caller the policy lets in; raise it for a deeper run
MAX_EXAMPLES = int(os.environ.get("REGIONVISA_FUZZ_EXAMPLES", "3"))
CALLERS = [*ROLES, "anonymous"]


def fuzz_settings(examples: int):
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # report every problem; no time spent shrinking
        suppress_health_check=list(HealthCheck),
    )


def _routewalk():
    name = "regionvisa_tests_routewalk"  # the name tests/accounts/test_route_policy.py loads it under
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "accounts" / "routewalk.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


rw = _routewalk()


@pytest.fixture
def world(app, engine, role_users, make_user, records):
    world = rw.build_world(engine, role_users, make_user, records)
    from regionvisa.programs.demo import demo_step

    demo_step(engine=engine)
    return world


def path_parameters(route, url: str) -> dict:
    """The path parameters the route walk filled into `url` (its samples for one region)."""
    template = re.escape(route.path).replace(r"\{", "{").replace(r"\}", "}")
    pattern = rw.PARAM.sub(lambda m: f"(?P<{m.group(1)}>[^/]+)", template)
    match = re.fullmatch(pattern, url.split("?")[0])
    return match.groupdict() if match else {}


def problems_in(case, response, world, caller: str, headers: dict, action: str | None) -> list[str]:
    method = case.method.upper()
    where = f"{caller} {method} {case.formatted_path}"
    found = []
    if response.status_code >= 500:
        found.append(f"{where} -> {response.status_code}: server error {response.text[:300]!r}")
    if shape := rw.error_shape_problem(response):
        found.append(f"{where} -> {response.status_code}: {shape}")
    # binary answers (PDF minutes, XLSX exports) are searched as far as their bytes read as text
    readable = SimpleNamespace(status_code=response.status_code, text=response.content.decode("utf-8", "replace"))
    if "Traceback" in readable.text:
        found.append(f"{where} -> {response.status_code}: a stack trace in the answer")
    if caller in rw._bound():
        found.extend(rw.leaks(world, caller, method, action or PUBLIC, case.formatted_path, readable))
    try:
        case.validate_response(response, headers=headers, excluded_checks=[positive_data_acceptance])
    except FailureGroup as group:
        for failure in group.exceptions:
            found.append(f"{where} -> {response.status_code}: {failure.title}: {str(failure.message)[:300]}")
    except AssertionError as exc:
        found.append(f"{where} -> {response.status_code}: {str(exc)[:400]}")

    return found


def fuzz(strategy, examples: int, send) -> None:
    @fuzz_settings(examples)
    @given(case=strategy)
    def run(case):
        send(case)

    run()


def _ends_credentials(operation) -> bool:
    return operation.method.upper() == "DELETE" or operation.path.endswith(("/disable", "/revoke"))


def fuzz_api(app, world, caller: str, only=None, tally: Counter | None = None) -> tuple[list[str], int, int]:
    """(problems, operations fuzzed, operations also sent with the walk's samples) for one caller;
    `only(path) -> bool` narrows the operations; `tally`, when given, counts the status codes of
    the answers ("unhandled" for an exception the app let through), for the report."""
    tally = Counter() if tally is None else tally
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    routes = {(m, r.path): r for r in iter_routes(app) for m in r.methods}
    headers = {} if caller == "anonymous" else {"Authorization": f"Bearer {world.tokens[caller]}"}
    principal = None if caller == "anonymous" else rw.principal(caller)
    problems: list[str] = []
    operations = sampled = 0
    # Operations that can end the caller's own credentials (revoking its token, disabling an
    # account) go last, so that every other operation is fuzzed while the caller is signed in.
    ordered = sorted((r.ok() for r in schema.get_all_operations()), key=_ends_credentials)
    for operation in ordered:
        if only is not None and not only(operation.path):
            continue
        operations += 1
        route = routes[(operation.method.upper(), operation.path)]
        action = route_policy(route)
        scope = "all" if action == PUBLIC else grant(principal, action) if action else None
        examples = MAX_EXAMPLES if scope else 1

        def send(case, expect_refusal: bool = False, action=action):
            try:
                response = case.call()
            except Exception as exc:  # the test client re-raises what the app did not handle
                tally["unhandled"] += 1
                frame = traceback.extract_tb(exc.__traceback__)[-1]
                problems.append(
                    f"{caller} {case.method.upper()} {case.formatted_path}: unhandled {type(exc).__name__}: "
                    f"{str(exc)[:200]} at {Path(frame.filename).name}:{frame.lineno}"
                )
                return
            tally[response.status_code] += 1
            problems.extend(problems_in(case, response, world, caller, headers, action))
            if expect_refusal and response.status_code < 400:
                problems.append(
                    f"{caller} {case.method.upper()} {case.formatted_path} -> {response.status_code}: "
                    f"reached another region's object ({action})"
                )

        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                fuzz(operation.as_strategy(generation_mode=mode, headers=headers or None), examples, send)
            except Unsatisfiable:  # nothing to break in an operation without parameters or body
                assert mode == GenerationMode.NEGATIVE, operation.label
        if not scope:
            continue
        # the same operation on the route walk's real objects (or region) of Busan and of Seoul
        for region in (rw.OWN, rw.OTHER):
            request = rw.build(route, operation.method.upper(), world, region)
            if not request.names_region:
                continue
            sampled += 1
            given_ = {"path_parameters": path_parameters(route, request.url)}
            if query := dict(parse_qsl(urlsplit(request.url).query)):
                given_["query"] = query
            if request.json is not None:
                given_["body"] = request.json
            strategy = operation.as_strategy(headers=headers or None, **given_)
            body = "body" in given_
            refuse = scope == OWN_REGION and region != rw.OWN
            fuzz(strategy, 1 if body else MAX_EXAMPLES, lambda case, refuse=refuse: send(case, refuse))
    return sorted(set(problems)), operations, sampled


@pytest.mark.parametrize("caller", CALLERS)
def test_fuzz_the_api(caller, app, world):
    tally = Counter()
    problems, operations, sampled = fuzz_api(app, world, caller, tally=tally)
    record("fuzz", caller, {
        "examples": MAX_EXAMPLES,
        "operations": operations,
        "requests": sum(tally.values()),
        "statuses": statuses(tally),
        "server_errors": sum(n for code, n in tally.items() if code == "unhandled" or code >= 500),
        "leaks": sum("another region's" in p for p in problems),
        "problems": len(problems),
    })  # fmt: skip
    assert operations > 50
    if caller in ("ministry_admin", "regional_official"):
        assert sampled > 10, "the route walk's samples reached too few operations"
    assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems)


def test_the_fuzzing_reports_crashes_bad_shapes_and_leaks(app, engine, world):
    """Deliberately broken operations, added after start-up: each must be reported."""
    from fastapi import Depends
    from fastapi.responses import JSONResponse

    from regionvisa.web.deps import require

    @app.get("/api/v1/broken/crash", dependencies=[Depends(require("programs.read"))])
    def crash(n: int = 0) -> dict:
        return {"half": 1 // n}

    @app.get("/api/v1/broken/shape", dependencies=[Depends(require("programs.read"))])
    def shape() -> dict:
        return JSONResponse({"detail": "no"}, status_code=400)

    @app.get("/api/v1/broken/regions/{code}")
    def region_without_scope(code: str, user=Depends(require("records.read"))) -> dict:
        authorize(user, "records.read", None)  # forgets the region
        return {"region": code, "people": world.leak_markers}

    app.openapi_schema = None  # the schema is built once; add the routes above to it
    problems, operations, _ = fuzz_api(app, world, "regional_official", only=lambda p: "/broken/" in p)
    text_ = "\n".join(problems)
    assert operations == 3
    assert "GET /api/v1/broken/crash: unhandled ZeroDivisionError" in text_
    assert "GET /api/v1/broken/shape -> 400: not the one error shape" in text_
    assert f"GET /api/v1/broken/regions/{rw.OTHER} -> 200: shows another region's data" in text_
    assert "reached another region's object (records.read)" in text_
