"""Every registered route × every role (and anonymous) against the permission policy.

The walk lives in routewalk.py (shared with the page checks of tests/web). It fails when a
route declares no policy, when anonymous callers reach a protected route, when a role without
the action gets anything but 403, when a role with the action is refused, when a regional
official's request naming another region succeeds, and when another region's data shows in
anything a regional official receives. Domains add sample objects for their path parameters
in tests/<domain>/route_samples.py (see routewalk.py); nothing here needs to change.
"""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest
from fastapi import Depends
from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.hardening.figures import record, statuses

from regionvisa.accounts import policy
from regionvisa.audit.service import verify
from regionvisa.web import deps
from regionvisa.web.deps import iter_routes, require, route_policy


def _load_routewalk():
    name = "regionvisa_tests_routewalk"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("routewalk.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


rw = _load_routewalk()
OWN, OTHER = rw.OWN, rw.OTHER


@pytest.fixture
def world(app, engine, role_users, make_user, records, tmp_path, monkeypatch):
    from regionvisa.config import get_settings

    monkeypatch.setenv("REGIONVISA_UPLOAD_DIR", str(tmp_path / "uploads"))  # the samples' documents
    get_settings.cache_clear()
    yield rw.build_world(engine, role_users, make_user, records)
    get_settings.cache_clear()


def bearer(world, role: str) -> dict:
    return {"Authorization": f"Bearer {world.tokens[role]}"}


def test_every_route_declares_a_policy(app):
    routes = iter_routes(app)
    assert len(routes) > 20
    undeclared = [f"{r.methods} {r.path}" for r in routes if route_policy(r) is None]
    assert undeclared == [], "routes without a permission policy: " + ", ".join(undeclared)
    assert deps.undeclared_routes(app) == []


def test_an_undeclared_route_stops_the_app(engine, monkeypatch):
    from regionvisa.accounts import pages

    monkeypatch.setattr(pages.router, "routes", list(pages.router.routes))
    pages.router.add_api_route("/forgotten", lambda: {"x": 1}, methods=["GET"])
    from regionvisa.app import create_app

    with pytest.raises(RuntimeError, match="GET /forgotten: no policy"):
        create_app(engine=engine)


def test_walk_every_route_with_every_role(app, engine, world):
    tally: dict = {}
    problems, checked = rw.walk(app, world, tally=tally)
    _report_walk(app, tally, problems)
    assert problems == [], f"{len(problems)} policy violations:\n" + "\n".join(problems)
    assert checked >= 5 * len(iter_routes(app))
    # whatever the walk changed went through the one audit writer: the chain still holds
    assert verify(engine=engine).ok


def _report_walk(app, tally: dict, problems: list[str]) -> None:
    """Requests and status codes per caller, leaks and 500s, for docs/hardening.md."""
    record("route-walk", "walk", {
        "routes": len(iter_routes(app)),
        "requests": {caller: sum(codes.values()) for caller, codes in sorted(tally.items())},
        "statuses": {caller: statuses(codes) for caller, codes in sorted(tally.items())},
        "server_errors": sum(n for codes in tally.values() for code, n in codes.items() if code >= 500),
        "leaks": sum("shows another region's data" in p or "reached another region's data" in p for p in problems),
        "problems": len(problems),
    })  # fmt: skip


# --------------------------------------------------------------------------- the walk catches what it must


def _people(engine, region: str | None = None) -> list[str]:
    sql = "SELECT DISTINCT s.person_id FROM status_grant s"
    with engine.connect() as conn:
        if region:
            return list(conn.execute(text(sql + " WHERE s.region = :r"), {"r": region}).scalars())
        return list(conn.execute(text(sql)).scalars())


def test_the_walk_fails_on_routes_that_leak_or_declare_nothing(app, engine, world):
    """Deliberately broken routes, added after start-up: each must be reported."""

    @app.get("/api/v1/broken/regions/{code}", dependencies=[Depends(require("records.read"))])
    def region_without_scope(code: str):  # holds the action, forgets the region check
        return {"region": code, "people": _people(engine, code)}

    @app.get("/api/v1/broken/people", dependencies=[Depends(require("records.read"))])
    def list_without_scope():  # a list that ignores scope_region
        return {"items": _people(engine)}

    @app.get("/api/v1/broken/open")
    def no_policy():
        return {}

    @app.get("/api/v1/broken/wrong", dependencies=[Depends(require("users.manage"))])
    def refused_for_the_wrong_reason():
        return {}

    problems, _ = rw.walk(app, world, only=lambda r: r.path.startswith("/api/v1/broken/"))
    text_ = "\n".join(problems)
    assert "/api/v1/broken/open: no policy" in text_
    assert f"regional_official GET /api/v1/broken/regions/{OTHER} -> 200: a regional official reached" in text_
    assert "regional_official GET /api/v1/broken/people -> 200: shows another region's data" in text_
    assert not any("/api/v1/broken/wrong" in p for p in problems)


def test_the_walk_uses_domain_samples_for_object_parameters(app, world):
    """A path parameter sampled per region counts as naming that region."""
    things = {OWN: 1, OTHER: 2}
    world.samples[OWN].params["thing_id"] = things[OWN]
    world.samples[OTHER].params["thing_id"] = things[OTHER]
    world.samples[OTHER].markers.append("SEOUL-THING")
    world.leak_markers.append("SEOUL-THING")

    @app.get("/api/v1/broken/things/{thing_id}", dependencies=[Depends(require("programs.read"))])
    def thing(thing_id: int):
        return {"id": thing_id, "label": "SEOUL-THING" if thing_id == things[OTHER] else "BUSAN-THING"}

    @app.get("/api/v1/broken/scoped-things/{thing_id}")
    def scoped_thing(thing_id: int, user=Depends(require("programs.read"))):
        region = OWN if thing_id == things[OWN] else OTHER
        policy.authorize(user, "programs.read", region)
        return {"id": thing_id}

    problems, _ = rw.walk(app, world, only=lambda r: r.path.startswith("/api/v1/broken/"))
    assert any("GET /api/v1/broken/things/2 -> 200: a regional official reached" in p for p in problems), problems
    assert not any("scoped-things" in p for p in problems), problems


def test_route_samples_files_follow_the_contract():
    for path, module in rw.sample_modules():
        assert callable(getattr(module, "route_samples", None)), f"{path} must define route_samples(engine, region)"


def test_regional_official_sees_only_their_region(client, app, world, records):
    headers = {"Authorization": f"Bearer {world.tokens['regional_official']}"}
    everyone = client.get("/api/v1/records/residents", headers=headers)
    assert everyone.status_code == 200
    body = everyone.json()
    assert body["region"] == OWN
    assert {item["region"] for item in body["items"]} == {OWN}
    assert sorted(item["person_id"] for item in body["items"]) == sorted(records[OWN])
    assert body["total"] == len(records[OWN])
    assert client.get(f"/api/v1/records/residents?region={OWN}", headers=headers).json()["items"] == body["items"]
    assert client.get(f"/api/v1/records/residents?region={OTHER}", headers=headers).status_code == 403
    detail = client.get(f"/api/v1/stats/regions/{OWN}", headers=headers).json()
    assert detail["residents"] == len(records[OWN])
    page = client.get(f"/regions/{OWN}", headers=headers)
    assert page.status_code == 200
    assert all(pid in page.text for pid in records[OWN])
    assert not any(pid in page.text for pid in records[OTHER])
    assert client.get(f"/regions/{OTHER}", headers=headers).status_code == 403
    # the region index sends a regional official to their own region, whatever they ask
    hop = client.get(f"/regions?code={OTHER}", headers=headers, follow_redirects=False)
    assert (hop.status_code, hop.headers["location"]) == (303, f"/regions/{OWN}")
    officer = {"Authorization": f"Bearer {world.tokens['ministry_officer']}"}
    all_regions = client.get("/api/v1/records/residents", headers=officer).json()
    walk_holders = len(
        rw.load(Path(__file__).with_name("route_samples.py"), "regionvisa_route_samples_accounts").REGIONS
    )
    assert all_regions["total"] == sum(len(v) for v in records.values()) + walk_holders
    assert client.get(f"/regions/{OTHER}", headers=officer).status_code == 200


def test_region_index_lands_a_regional_official_on_their_region(client, world):
    headers = {"Authorization": f"Bearer {world.tokens['regional_official']}"}
    hop = client.get("/regions", headers=headers, follow_redirects=False)
    assert hop.headers["location"] == f"/regions/{OWN}"


# --------------------------------------------------------------------------- writes with another region's ids


@pytest.mark.parametrize(
    "kind",
    [
        "application",
        "bulk_intake",
        "proposal",
    ],
)
def test_writes_with_another_regions_ids_are_refused(app, world, kind):
    """The attack: a Busan official applied for a Gyeonggi resident (`person_id`); once issued, the
    person had a Busan status. Every such write must be refused, whichever way it comes in."""
    tally = Counter()
    problems, sent = rw.foreign_writes(app, world, kinds={kind}, tally=tally)
    record("route-walk-writes", kind, {"sent": sent, "accepted": len(problems), "statuses": statuses(tally)})
    assert sent >= 1
    assert problems == [], f"{len(problems)} writes accepted:\n" + "\n".join(problems)


def test_the_write_probes_report_a_route_that_accepts_them(world):
    """The same probes against routes that accept everything: each one is reported."""
    from fastapi import FastAPI

    lax = FastAPI()

    @lax.post("/api/v1/applications", status_code=201)
    @lax.put("/api/v1/selection/rounds/{round_id}/proposals/{region}", status_code=201)
    async def take() -> dict:
        return {"ok": True}

    @lax.post("/api/v1/applications/imports")
    async def take_rows() -> dict:
        return {"inserted": 1, "rejected_rows": 0}

    problems, sent = rw.foreign_writes(lax, world)
    assert sent == len(rw.foreign_write_probes(world)) >= 5
    assert len(problems) == sent, problems
    assert any("accepted a bulk intake row for P10000007, a resident of region 41" in p for p in problems), problems
    assert any("accepted an application for P10000007, a resident of region 41" in p for p in problems), problems


# --------------------------------------------------------------------------- methods a path does not take


def _concrete(path: str) -> str:
    return rw.PARAM.sub("1", path)


def test_options_answers_405_with_every_method_of_the_path(app):
    """OPTIONS is served nowhere: 405 with `Allow` naming the methods of every route of the path,
    in the error shape on the API and as the error page elsewhere."""
    routes = [r for r in iter_routes(app) if r.path != "/static"]
    by_path: dict[str, set[str]] = {}
    for route in routes:
        by_path.setdefault(_concrete(route.path), set()).update(route.methods)
    with TestClient(app) as client:
        for path, methods in sorted(by_path.items()):
            response = client.options(path)
            assert response.status_code == 405, path
            allowed = {m.strip() for m in response.headers["allow"].split(",")}
            # a path can also match a route with a parameter (/programs/validate and /programs/{program_id})
            assert methods <= allowed, (path, response.headers["allow"])
            assert "OPTIONS" not in allowed, path
            if path.startswith("/api/"):
                assert rw.error_shape_problem(response) is None, path
                assert response.json()["error"]["code"] == "method_not_allowed", path
            else:
                assert response.headers["content-type"].startswith("text/html"), path
        assert client.options("/static/style.css").status_code == 405
        assert client.options("/no/such/page").status_code == 404


def test_any_method_a_path_lacks_names_all_of_its_methods(app):
    """Starlette's own 405 named the first route's methods only (GET for /api/v1/users)."""
    with TestClient(app) as client:
        for method, path, allow in (
            ("DELETE", "/api/v1/users", "GET, POST"),
            ("PUT", "/api/v1/users/1", "GET, PATCH"),
            ("DELETE", "/login", "GET, POST"),
            ("PATCH", "/selection/rounds/1/score/26", "GET, POST"),
        ):
            response = client.request(method, path)
            assert (response.status_code, response.headers.get("allow")) == (405, allow), (method, path)
