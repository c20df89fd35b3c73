"""Load test: uvicorn on loopback, a bounded run of a realistic request mix, on SQLite and PostgreSQL.

The driver is the project's own (asyncio + httpx): N virtual users each send requests back to
back for a fixed time, picking from a weighted mix of page views, listings, screening and the
public matching endpoint. It reports throughput, p50/p95/p99 latency and the error count
(any non-2xx, timeout or connection failure). Target: zero errors and p99 ≤ 200 ms.

The demo database is built once per run (`regionvisa demo`, small scale) in a temporary folder;
PostgreSQL is a throwaway cluster started here (as the `postgres` user when run as root), so the
benchmark needs nothing but Debian's postgresql package. Without it, the PostgreSQL row is skipped.

Against a built demo (`--sqlite-url`, `--pg-url`: the national one, `regionvisa demo --residents
2700000`), it runs the page mix of every role instead: 20 users (by default) of the six roles
(anonymous, the five demo accounts) sign in through the log-in form at the same moment from one
address with the rate limits on, then open their role's pages and lists (every GET route the
role is answered 200 on, from benchmarks/pages.py). It is run twice. The realistic run: each user
pauses between page views (`--think`, uniformly 1–3 s by default, as Locust's `between(1, 3)`), the
way people read a page before the next one; target there: p99 ≤ 300 ms of the page requests (the
log-ins, a deliberately slow password hash each, are reported apart), no errors (log-ins refused
included), server peak memory below 2 GB; the number of workers is stated. The closed-loop run:
the same users with no pause at all, which on a small machine measures saturation (the throughput
the server sustains and the latency of a full queue), reported as its own rows, not against the target.

`REGIONVISA_BENCH_SQLITE_URL` / `REGIONVISA_BENCH_PG_URL` stand for `--sqlite-url` / `--pg-url`,
so `make bench` (which passes no arguments) runs the national mix against built demos.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, result

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PGBIN = Path("/usr/lib/postgresql/15/bin")
APPLICANT = {
    "applicant_id": "LOAD-1",
    "nationality": "VNM",
    "birth_date": "2000-03-01",
    "passport_valid_until": "2031-01-01",
    "entry_ban": False,
    "criminal_record": False,
    "prior_illegal_stay": False,
    "education_level": "high_school",
    "course_type": "degree",
    "university_region": "26",
    "intended_residence": "26",
    "topik_level": 3,
    "bank_balance_krw": 9_000_000,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd: list[str], env: dict, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, **kw)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} failed:\n{done.stderr[-2000:]}")
    return done


@contextmanager
def postgres_cluster():
    """A throwaway PostgreSQL on loopback, or None when the binaries are not installed."""
    if not (PGBIN / "pg_ctl").exists():
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix="regionvisa-loadpg-"))
    port = free_port()
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_postgres:
        shutil.chown(folder, "postgres", "postgres")
    data = folder / "data"
    subprocess.run(
        [*as_postgres, str(PGBIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    subprocess.run(
        [*as_postgres, str(PGBIN / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-o", options, "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_postgres, str(PGBIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                       capture_output=True)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


def prepare(url: str, residents: int) -> tuple[dict, str]:
    """Build the demo database at `url`; return the environment and an officer's API token."""
    # One driver process is one client address: the per-address rate limits would measure themselves.
    env = {**os.environ, "REGIONVISA_DATABASE_URL": url, "REGIONVISA_RATE_LIMITS_ENABLED": "false"}
    run([str(BIN / "regionvisa"), "demo", "--residents", str(residents), "--force"], env)
    run(
        [str(BIN / "regionvisa"), "users", "create", "load.officer", "--role", "ministry_officer", "--password-stdin"],
        env,
        input="load-test-password-1\n",
    )
    token = run([str(BIN / "regionvisa"), "users", "create-token", "load.officer", "--name", "load test"], env)
    secret = next(word for word in token.stdout.split() if len(word) >= 32)
    return env, secret


@contextmanager
def server(env: dict, workers: int):
    port = free_port()
    cmd = [str(BIN / "regionvisa"), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            raise SystemExit("the server did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def request_mix(base: str, client: httpx.AsyncClient, token: str) -> list[tuple[float, str, callable]]:
    """(weight, name, coroutine factory): what ministry and regional users and the public do most."""
    auth = {"Authorization": f"Bearer {token}"}
    program_ids: list[str] = []

    async def overview():
        return await client.get(base + "/")

    async def stats():
        return await client.get(base + "/api/v1/stats/residents", params={"by": "region"}, headers=auth)

    async def programmes():
        return await client.get(base + "/api/v1/programs", headers=auth)

    async def programme_page():
        return await client.get(base + "/programs", headers=auth)

    async def match():
        return await client.post(base + "/api/v1/match", json={"applicant": APPLICANT, "on": "2025-09-01"})

    async def screen():
        pid = random.choice(program_ids) if program_ids else "busan-d2"
        return await client.post(
            base + f"/api/v1/programs/{pid}/explain", json={"applicant": APPLICANT, "on": "2025-09-01"}, headers=auth
        )

    async def screen_batch():
        pool = [{**APPLICANT, "applicant_id": f"LOAD-{i}", "topik_level": i % 7} for i in range(100)]
        return await client.post(
            base + "/api/v1/programs/busan-d2/screen", json={"applicants": pool, "on": "2025-09-01"}, headers=auth
        )

    return [
        (0.10, "batch screening (100 applicants)", screen_batch),
        (0.15, "overview page", overview),
        (0.20, "statistics API", stats),
        (0.15, "programme list API", programmes),
        (0.10, "programme list page", programme_page),
        (0.20, "public matching", match),
        (0.10, "explained screening", screen),
    ]


async def drive(base: str, token: str, users: int, seconds: float) -> dict:
    latencies: list[float] = []
    by_name: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:
        mix = request_mix(base, client, token)
        weights = [w for w, _, _ in mix]
        for _, name, make in mix:  # warm up and check every request works once
            response = await make()
            if response.status_code >= 400:
                errors[f"{name} (warm-up {response.status_code})"] = 1
        deadline = time.perf_counter() + seconds

        async def user(seed: int) -> None:
            rng = random.Random(seed)
            while time.perf_counter() < deadline:
                _, name, make = rng.choices(mix, weights)[0]
                started = time.perf_counter()
                try:
                    response = await make()
                    failed = response.status_code >= 400
                except httpx.HTTPError:
                    failed = True
                latencies.append(time.perf_counter() - started)
                by_name.setdefault(name, []).append(latencies[-1] * 1000)
                if failed:
                    errors[name] = errors.get(name, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(user(i) for i in range(users)))
        elapsed = time.perf_counter() - started
    ms = np.array(latencies) * 1000
    return {
        "requests": len(latencies),
        "throughput": len(latencies) / elapsed,
        "p50": float(np.percentile(ms, 50)),
        "p95": float(np.percentile(ms, 95)),
        "p99": float(np.percentile(ms, 99)),
        "errors": sum(errors.values()),
        "error_detail": errors,
        "p50_p99_by_request": {
            name: [round(float(np.percentile(v, 50)), 1), round(float(np.percentile(v, 99)), 1)]
            for name, v in sorted(by_name.items())
        },
    }


def measure(label: str, url: str, workers: int, users: int, seconds: float, residents: int) -> list[dict]:
    env, token = prepare(url, residents)
    with server(env, workers) as base:
        figures = asyncio.run(drive(base, token, users, seconds))
    print(f"{label}: {json.dumps(figures)}", file=sys.stderr)
    name = f"{label}, {workers} workers, {users} users, {seconds:.0f} s"
    return [
        result(f"{name}: throughput", figures["throughput"], "req/s"),
        result(f"{name}: p50 latency", figures["p50"], "ms"),
        result(f"{name}: p95 latency", figures["p95"], "ms"),
        result(f"{name}: p99 latency", figures["p99"], "ms", "≤ 200"),
        result(f"{name}: errors of {figures['requests']} requests", figures["errors"], "count", "0"),
    ]


ROLE_OF_USER = ("anonymous", "admin", "officer", "busan", "committee", "auditor")


def role_pages(base: str, url: str, env: dict) -> dict[str, list[str]]:
    """Each role's pages and lists: every GET route (pages.py's walk) the role is answered 200 on."""
    import pages

    paths = [p for p in (pages.fill(path, pages.samples(url)) for path in pages.route_paths(env)) if p]
    allowed: dict[str, list[str]] = {}
    for role in ROLE_OF_USER:
        client = pages.sign_in(base, role)
        allowed[role] = [p for p in paths if _status(client, p) == 200]
        client.close()
    return allowed


def _status(client: httpx.Client, path: str) -> int:
    """The page's status; a dropped connection (a server error the server could not even answer) is 599,
    so the page is left out of the mix, as every page that is not answered 200 is (pages.py reports them)."""
    try:
        return client.get(path).status_code
    except httpx.HTTPError:
        return 599


def think_range(value: str) -> tuple[float, float]:
    """'1-3' -> (1.0, 3.0): the pause between page views, uniformly drawn; '0' -> no pause."""
    low, _, high = value.partition("-")
    pause = (float(low), float(high or low))
    if pause[0] < 0 or pause[1] < pause[0]:
        raise argparse.ArgumentTypeError(f"--think {value!r}: expected LOW-HIGH seconds, 0 ≤ LOW ≤ HIGH")
    return pause


async def drive_pages(
    base: str, allowed: dict[str, list[str]], users: int, seconds: float, think: tuple[float, float] = (0.0, 0.0)
) -> dict:
    """`users` people, each of one role (in turn), sign in through the form at the same moment (one
    client address, the limiter on) and then open their role's pages, pausing `think` seconds
    (uniformly drawn) between two views; (0, 0) is the closed loop, back to back."""
    import pages

    latencies: list[float] = []
    logins: list[float] = []
    by_role: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    deadline = 0.0

    async def user(i: int) -> None:
        role = ROLE_OF_USER[i % len(ROLE_OF_USER)]
        rng = random.Random(i)
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            if role != "anonymous":
                form = await client.get("/login")
                token = pages.CSRF.search(form.text).group(1)
                started = time.perf_counter()
                answer = await client.post(
                    "/login", data={"username": role, "password": pages.PASSWORDS[role], "csrf_token": token}
                )
                logins.append(time.perf_counter() - started)
                if answer.status_code != 303:
                    errors[f"log-in {role} ({answer.status_code})"] = errors.get(f"log-in {role}", 0) + 1
                    return
            while time.perf_counter() < deadline:
                path = rng.choice(allowed[role])
                started = time.perf_counter()
                try:
                    failed = (await client.get(path)).status_code >= 400
                except httpx.HTTPError:
                    failed = True
                latencies.append(time.perf_counter() - started)
                by_role.setdefault(role, []).append(latencies[-1] * 1000)
                if failed:
                    errors[path] = errors.get(path, 0) + 1
                if think[1] > 0:
                    await asyncio.sleep(min(rng.uniform(*think), max(deadline - time.perf_counter(), 0.0)))

    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    await asyncio.gather(*(user(i) for i in range(users)))
    elapsed = time.perf_counter() - started
    ms = np.array(latencies) * 1000
    return {
        "requests": len(latencies),
        "throughput": len(latencies) / elapsed,
        "p50": float(np.percentile(ms, 50)),
        "p95": float(np.percentile(ms, 95)),
        "p99": float(np.percentile(ms, 99)),
        "errors": sum(errors.values()),
        "error_detail": errors,
        "logins": len(logins),
        "login_p50": float(np.percentile(np.array(logins) * 1000, 50)) if logins else 0.0,
        "login_max": float(np.max(np.array(logins) * 1000)) if logins else 0.0,
        "p50_p99_by_role": {
            role: [round(float(np.percentile(v, 50)), 1), round(float(np.percentile(v, 99)), 1)]
            for role, v in sorted(by_role.items())
        },
    }


def measure_pages(
    label: str, url: str, workers: int, users: int, seconds: float, think: tuple[float, float], saturation: float
) -> list[dict]:
    """The page mix of every role against a built demo at `url` (rate limits on): the realistic run
    (users pausing `think` seconds between views), then the closed loop for `saturation` seconds."""
    from pages import server as page_server
    from pages import tree_rss_mb

    env = {**os.environ, "REGIONVISA_DATABASE_URL": url}
    rows = []
    with page_server(env, workers) as (base, pid):
        allowed = role_pages(base, url, env)
        runs = [("realistic", think, seconds)] + ([("closed loop", (0.0, 0.0), saturation)] if saturation else [])
        for kind, pause, span in runs:
            figures = asyncio.run(drive_pages(base, allowed, users, span, pause))
            print(f"{label} pages, {kind}: {json.dumps(figures)}", file=sys.stderr)
            if kind == "realistic":
                between = f"{pause[0]:g}–{pause[1]:g} s between views" if pause[1] else "no pause"
                name = f"{label} national page mix, {workers} workers, {users} users, {between}, {span:.0f} s"
                rows += [
                    result(f"{name}: throughput", figures["throughput"], "req/s"),
                    result(f"{name}: p50 latency", figures["p50"], "ms"),
                    result(f"{name}: p95 latency", figures["p95"], "ms"),
                    result(f"{name}: p99 latency", figures["p99"], "ms", "≤ 300"),
                    result(f"{name}: errors of {figures['requests']} requests", figures["errors"], "count", "0"),
                    result(
                        f"{name}: {figures['logins']} simultaneous log-ins from one address, p50",
                        figures["login_p50"],
                        "ms",
                    ),
                    result(
                        f"{name}: {figures['logins']} simultaneous log-ins from one address, max",
                        figures["login_max"],
                        "ms",
                    ),
                ]
            else:  # saturation: what the machine sustains with nobody pausing; no target
                name = f"{label} national page mix, saturation, {workers} workers, {users} users, no pause"
                name += f", {span:.0f} s"
                rows += [
                    result(f"{name}: throughput", figures["throughput"], "req/s"),
                    result(f"{name}: p50 latency", figures["p50"], "ms"),
                    result(f"{name}: p99 latency", figures["p99"], "ms"),
                    result(f"{name}: errors of {figures['requests']} requests", figures["errors"], "count", "0"),
                ]
        peak = tree_rss_mb(pid)
    rows.append(result(f"{label} national page mix, {workers} workers: server peak memory", peak, "MB", "< 2048"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--users", type=int, default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--sqlite-url",
        default=os.environ.get("REGIONVISA_BENCH_SQLITE_URL"),
        help="a built demo (e.g. the national one): run the page mix",
    )
    parser.add_argument(
        "--pg-url", default=os.environ.get("REGIONVISA_BENCH_PG_URL"), help="a built PostgreSQL demo: run the page mix"
    )
    parser.add_argument(
        "--think",
        type=think_range,
        default=(1.0, 3.0),
        help="page mix: seconds each user pauses between views, LOW-HIGH uniformly (default 1-3; 0: closed loop only)",
    )
    parser.add_argument(
        "--saturation-seconds",
        type=float,
        default=None,
        help="page mix: length of the closed-loop (no pause) run after the realistic one (default 30; 0: none)",
    )
    args = parser.parse_args()
    if args.sqlite_url or args.pg_url:  # the national page mix of every role against built demos
        users = args.users or 20
        seconds = args.seconds or (20.0 if args.quick else 90.0)  # long enough for a p99 with pauses
        saturation = 30.0 if args.saturation_seconds is None else args.saturation_seconds
        if args.think[1] == 0:  # no pause asked: the closed loop is the run
            seconds, saturation = (args.seconds or 30.0), 0.0
        results = []
        options = dict(users=users, seconds=seconds, think=args.think, saturation=saturation)
        if args.sqlite_url:
            results += measure_pages("SQLite", args.sqlite_url, args.workers, **options)
        if args.pg_url:
            results += measure_pages("PostgreSQL", args.pg_url, args.workers, **options)
        emit(results)
        return
    seconds = args.seconds or (5.0 if args.quick else 30.0)
    users = args.users or 4
    residents = 5_000 if args.quick else 20_000
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="regionvisa-load-") as folder:
        url = f"sqlite:///{folder}/load.sqlite3"
        results += measure("SQLite", url, workers=2, users=users, seconds=seconds, residents=residents)
    with postgres_cluster() as pg_url:
        if pg_url is None:
            print("PostgreSQL binaries not found: PostgreSQL load test skipped", file=sys.stderr)
        else:
            results += measure("PostgreSQL", pg_url, workers=4, users=users, seconds=seconds, residents=residents)
    emit(results)


if __name__ == "__main__":
    main()
