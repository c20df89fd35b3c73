"""Every page and list at national scale: p50/p95/max per page for every demo role, on SQLite and PostgreSQL.

The national demo (`regionvisa demo --residents 2700000`; `--quick` builds a small one) is served
by `regionvisa serve` on loopback. Each demo role signs in through the log-in form (anonymous
visitors too), then every GET page and API route the app declares is requested `--repeats`
times per role, with its path parameters taken from the demo's own objects (Busan's, the demo
regional official's region). The walk is done three times: right after the server starts (the
first request after a start), again warm, and after a small address feed is imported through
`regionvisa records import` while the server runs (the first request after an import). Target: p95 ≤ 300 ms
on every page for every role, and the server's peak memory below 2 GB.

A built demo is reused with `--sqlite-url`/`--pg-url` and `--reuse` (building one at national
scale takes minutes); without `--pg-url` a throwaway PostgreSQL cluster is started (as in load.py).
`REGIONVISA_BENCH_SQLITE_URL` / `REGIONVISA_BENCH_PG_URL` name built national demos for `make bench`
(which passes no arguments): given, they are reused and only the databases they name are walked.
"""

from __future__ import annotations

import argparse
import json
import os
import re
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
from load import BIN, ROOT, free_port, postgres_cluster, run

TARGET_MS = 300.0
MEMORY_TARGET_MB = 2048.0
SKIP = {"/static", "/api/v1/docs", "/api/v1/redoc", "/api/v1/openapi.json"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ROLES = ("anonymous", "admin", "officer", "busan", "committee", "auditor")

# Path parameters from the demo's own objects (Busan's where they belong to a region).
SAMPLES = {
    "code": "SELECT '26'",
    "region": "SELECT '26'",
    "program_id": "SELECT id FROM program WHERE region = '26' ORDER BY id LIMIT 1",
    "version": "SELECT MAX(version) FROM program_version WHERE program_id = "
    "(SELECT id FROM program WHERE region = '26' ORDER BY id LIMIT 1)",
    "application_id": "SELECT MIN(id) FROM application WHERE region = '26'",
    "ledger_id": "SELECT MIN(id) FROM quota_ledger WHERE region = '26'",
    "case_id": "SELECT MIN(id) FROM compliance_case WHERE region = '26'",
    "round_id": "SELECT MAX(id) FROM selection_round",
    "user_id": "SELECT MIN(id) FROM app_user WHERE username = 'busan'",
    "job_id": "SELECT MAX(id) FROM job",
}
PASSWORDS = {
    "admin": "demo-admin-2025",
    "officer": "demo-officer-2025",
    "busan": "demo-busan-2025",
    "committee": "demo-committee-2025",
    "auditor": "demo-auditor-2025",
}


def route_paths(env: dict) -> list[str]:
    """Every GET route the app declares (from the app itself, in a child with the server's settings)."""
    code = (
        "from regionvisa.app import create_app\nfrom regionvisa.web.deps import iter_routes\n"
        "print('\\n'.join(r.path for r in iter_routes(create_app()) if 'GET' in r.methods))"
    )
    done = run([sys.executable, "-c", code], env)
    return [p for p in done.stdout.split() if p.startswith("/") and p not in SKIP]


def samples(url: str) -> dict[str, str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    found = {}
    with engine.connect() as conn:
        for name, sql in SAMPLES.items():
            try:
                value = conn.execute(text(sql)).scalar()
            except Exception:  # a table this build does not have
                conn.rollback()
                value = None
            if value is not None:
                found[name] = str(value)
    engine.dispose()
    return found


def fill(path: str, params: dict[str, str]) -> str | None:
    names = re.findall(r"{(\w+)(?::\w+)?}", path)
    if any(n not in params for n in names):
        return None
    return re.sub(r"{(\w+)(?::\w+)?}", lambda m: params[m.group(1)], path)


@contextmanager
def server(env: dict, workers: int):
    """`regionvisa serve` on loopback; yields (base URL, process id)."""
    port = free_port()
    cmd = [str(BIN / "regionvisa"), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(base + "/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            raise SystemExit("the server did not start")
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def tree_rss_mb(pid: int) -> float:
    """Resident memory of the server and its worker processes now, in MB."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):  # the process's peak resident set
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total / 1024


def sign_in(base: str, role: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=120, follow_redirects=False)
    if role == "anonymous":
        return client
    form = client.get("/login")
    token = CSRF.search(form.text)
    if token is None:
        raise SystemExit("no CSRF token on the log-in page")
    answer = client.post("/login", data={"username": role, "password": PASSWORDS[role], "csrf_token": token.group(1)})
    if answer.status_code != 303:
        raise SystemExit(f"log-in of {role} failed: {answer.status_code}")
    return client


def walk(clients: dict[str, httpx.Client], paths: list[str], repeats: int) -> dict[str, dict]:
    """{page: {role: [ms, ...], "status": {role: code}}} for every page and role."""
    out: dict[str, dict] = {}
    for _ in range(repeats):
        for path in paths:
            entry = out.setdefault(path, {"ms": {}, "status": {}})
            for role, client in clients.items():
                started = time.perf_counter()
                try:
                    status = client.get(path).status_code
                except httpx.HTTPError:
                    status = 599
                entry["ms"].setdefault(role, []).append((time.perf_counter() - started) * 1000)
                entry["status"][role] = status
    return out


def small_feed(url: str, folder: Path, rows: int) -> Path:
    """An address feed for `rows` existing people: each moves to a Busan district today."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        people = [r[0] for r in conn.execute(text(f"SELECT person_id FROM person ORDER BY person_id LIMIT {rows}"))]
    engine.dispose()
    today = time.strftime("%Y-%m-%d")
    path = folder / "addresses.csv"
    with path.open("w") as fh:
        fh.write("person_id,area_code,effective_date,reported_date\n")
        for pid in people:
            fh.write(f"{pid},26110,{today},{today}\n")
    return path


def summarise(label: str, phase: str, walked: dict[str, dict]) -> tuple[list[dict], list[str]]:
    rows, slow = [], []
    for path, entry in sorted(walked.items()):
        ms = np.array([v for values in entry["ms"].values() for v in values])
        p50, p95, top = (float(np.percentile(ms, q)) for q in (50, 95, 100))
        worst_role = max(entry["ms"], key=lambda r: float(np.percentile(entry["ms"][r], 95)))
        worst = float(np.percentile(entry["ms"][worst_role], 95))
        statuses = ",".join(f"{r}:{s}" for r, s in sorted(entry["status"].items()))
        print(f"{label:10} {phase:13} {path:58} p50 {p50:8.1f}  p95 {p95:8.1f}  max {top:8.1f} ms  "
              f"worst role {worst_role} p95 {worst:.1f}  [{statuses}]", file=sys.stderr)  # fmt: skip
        if worst > TARGET_MS:
            slow.append(f"{label} {phase} {path} ({worst_role}: p95 {worst:.0f} ms)")
        rows.append(
            {"label": label, "phase": phase, "path": path, "p50": p50, "p95": p95, "max": top, "worst_p95": worst}
        )
    return rows, slow


def measure(label: str, url: str, *, residents: int, reuse: bool, workers: int, repeats: int, feed_rows: int):
    env = {**os.environ, "REGIONVISA_DATABASE_URL": url, "REGIONVISA_RATE_LIMITS_ENABLED": "false"}
    if not reuse:
        started = time.perf_counter()
        run([str(BIN / "regionvisa"), "demo", "--residents", str(residents), "--force"], env)
        print(
            f"{label}: demo of {residents:,} residents built in {time.perf_counter() - started:.0f} s", file=sys.stderr
        )
    paths = route_paths(env)
    params = samples(url)
    concrete = [p for p in (fill(path, params) for path in paths) if p]
    skipped = [path for path in paths if fill(path, params) is None]
    if skipped:
        print(f"{label}: no sample for {', '.join(skipped)}", file=sys.stderr)
    rows: list[dict] = []
    slow: list[str] = []
    with server(env, workers) as (base, pid), tempfile.TemporaryDirectory(prefix="regionvisa-pages-") as folder:
        clients = {role: sign_in(base, role) for role in ROLES}
        for phase, count in (("after start", 1), ("warm", repeats)):
            got, late = summarise(label, phase, walk(clients, concrete, count))
            rows += got
            slow += late
        feed = small_feed(url, Path(folder), feed_rows)
        started = time.perf_counter()
        run([str(BIN / "regionvisa"), "records", "import", "addresses", str(feed)], env)
        imported = time.perf_counter() - started
        got, late = summarise(label, "after import", walk(clients, concrete, 1))
        rows += got
        slow += late
        peak = tree_rss_mb(pid)
    worst = max(rows, key=lambda r: r["worst_p95"])
    figures = [
        result(f"pages, {label}, {workers} workers: pages walked per role", len(concrete), "pages"),
        result(
            f"pages, {label}: worst page p95 for any role ({worst['path']}, {worst['phase']})",
            worst["worst_p95"],
            "ms",
            f"≤ {TARGET_MS:.0f}",
        ),
        result(f"pages, {label}: pages over {TARGET_MS:.0f} ms p95 for some role", len(slow), "count", "0"),
        result(f"pages, {label}: import of {feed_rows:,} address rows (command line, wall)", imported, "s"),
        result(f"pages, {label}: server peak memory", peak, "MB", f"< {MEMORY_TARGET_MB:.0f}"),
    ]
    for phase in ("after start", "warm", "after import"):
        phase_rows = [r for r in rows if r["phase"] == phase]
        figures.append(
            result(
                f"pages, {label}, {phase}: p95 of the per-page p95s",
                float(np.percentile([r["p95"] for r in phase_rows], 95)),
                "ms",
            )
        )
    if slow:
        print(f"{label}: over target: " + "; ".join(slow), file=sys.stderr)
    print(f"PAGES_JSON {json.dumps(rows)}", file=sys.stderr)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small demo (CI)")
    parser.add_argument("--residents", type=int, default=None)
    parser.add_argument("--sqlite-url", default=None, help="an SQLite demo database to use")
    parser.add_argument("--pg-url", default=None, help="a PostgreSQL demo database to use")
    parser.add_argument("--reuse", action="store_true", help="the given databases hold a built demo: do not rebuild")
    parser.add_argument("--only", choices=("sqlite", "postgresql"), default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--feed-rows", type=int, default=1000)
    args = parser.parse_args()
    built = {
        "sqlite": os.environ.get("REGIONVISA_BENCH_SQLITE_URL"),
        "postgresql": os.environ.get("REGIONVISA_BENCH_PG_URL"),
    }
    if not (args.sqlite_url or args.pg_url) and any(built.values()):  # `make bench` against built demos
        args.sqlite_url, args.pg_url, args.reuse = built["sqlite"], built["postgresql"], True
        if args.only is None and not all(built.values()):
            args.only = "sqlite" if built["sqlite"] else "postgresql"
    residents = args.residents or (5_000 if args.quick else 2_700_000)
    repeats = args.repeats or (3 if args.quick else 5)
    options = dict(residents=residents, reuse=args.reuse, workers=args.workers, repeats=repeats,
                   feed_rows=args.feed_rows)  # fmt: skip
    results: list[dict] = []
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory(prefix="regionvisa-pages-") as folder:
            url = args.sqlite_url or f"sqlite:///{folder}/pages.sqlite3"
            results += measure("SQLite", url, **options)
    if args.only in (None, "postgresql"):
        if args.pg_url:
            results += measure("PostgreSQL", args.pg_url, **options)
        else:
            with postgres_cluster() as pg_url:
                if pg_url is None:
                    print("PostgreSQL binaries not found: PostgreSQL row skipped", file=sys.stderr)
                else:
                    results += measure("PostgreSQL", pg_url, **{**options, "reuse": False})
    emit(results)


if __name__ == "__main__":
    main()
