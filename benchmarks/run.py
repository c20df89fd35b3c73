"""`make bench`: run every benchmark script, collect their BENCH_JSON lines, print one table
and write docs/benchmarks.md.

Each script is run in its own process so that one's memory does not count against another.
`--quick` passes `--quick` to the scripts that support it (smaller sizes, for a smoke run);
`--only NAME` runs the scripts whose file name contains NAME.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SKIP = {"run.py", "_common.py"}


def scripts(only: str | None, skip: tuple[str, ...] = ()) -> list[Path]:
    found = sorted(p for p in HERE.glob("*.py") if p.name not in SKIP and not p.name.startswith("_"))
    return [p for p in found if (not only or only in p.name) and p.stem not in skip]


def kept_rows(ran: set[str]) -> list[str]:
    """Rows of benchmarks not run this time, from the previous report with their own dates, so the
    report always lists every benchmark (`--only`/`--skip` update part of it)."""
    report = ROOT / "docs" / "benchmarks.md"
    if not report.exists():
        return []
    known = {p.stem for p in scripts(None)}
    rows = []
    for line in report.read_text(encoding="utf-8").splitlines():
        cells = line.split("|")
        if len(cells) > 2 and cells[1].strip() in known - ran:
            rows.append(line)
    return rows


NOTES = "\n## Notes\n"


def kept_notes() -> str:
    """The report's dated notes (what was measured by hand, on which scale), kept below the table."""
    report = ROOT / "docs" / "benchmarks.md"
    text = report.read_text(encoding="utf-8") if report.exists() else ""
    at = text.find(NOTES)
    return text[at:] if at >= 0 else ""


def run_one(path: Path, quick: bool) -> tuple[list[dict], float, int, str]:
    cmd = [sys.executable, str(path)]
    if quick:
        cmd.append("--quick")
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    results: list[dict] = []
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            results.extend(json.loads(line.removeprefix("BENCH_JSON ")))
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
    return results, seconds, proc.returncode, "\n".join(tail)


def table(rows: list[tuple[str, dict]]) -> str:
    lines = [
        "| benchmark | measure | figure | target | baseline | ratio | date |",
        "|---|---|---:|---|---:|---:|---|",
    ]
    today = dt.date.today().isoformat()
    for script, r in rows:
        baseline = "" if r.get("baseline_value") is None else f"{r['baseline_value']:,}"
        ratio = "" if r.get("ratio") is None else f"×{r['ratio']:,}"
        figure = f"{r['value']:,} {r['unit']}"
        target = r.get("target") or ""
        lines.append(f"| {script} | {r['name']} | {figure} | {target} | {baseline} | {ratio} | {today} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite docs/benchmarks.md")
    parser.add_argument("--skip", default="", help="comma-separated script names to leave out")
    args = parser.parse_args()
    skip = tuple(filter(None, args.skip.split(",")))
    rows: list[tuple[str, dict]] = []
    failures = []
    for path in scripts(args.only, skip):
        print(f"== {path.name}", flush=True)
        results, seconds, code, tail = run_one(path, args.quick)
        for r in results:
            print(f"   {r['name']}: {r['value']} {r['unit']} (target {r.get('target') or '-'}, ratio {r.get('ratio')})")
        print(f"   ({seconds:.1f} s, exit {code})", flush=True)
        if code != 0 or not results:
            failures.append(f"{path.name}: exit {code}\n{tail}")
        rows.extend((path.stem, r) for r in results)
    md = "\n".join([table(rows), *kept_rows({name for name, _ in rows})])
    print()
    print(md)
    if not args.no_write and not args.quick:
        header = (
            "# Benchmarks\n\n"
            "Written by `make bench` (`benchmarks/run.py`). Figures are wall-clock seconds (best of several\n"
            "runs where the script says so) on the development machine "
            f"({platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, load average "
            f"{os.getloadavg()[0]:.1f} at the end); ratios compare against each\n"
            "benchmark's stated baseline (higher is better).\n\n"
        )
        (ROOT / "docs").mkdir(exist_ok=True)
        (ROOT / "docs" / "benchmarks.md").write_text(header + md + "\n" + kept_notes(), encoding="utf-8")
        print("\nwrote docs/benchmarks.md")
    if failures:
        print("\nFAILED:\n" + "\n\n".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
