"""Shared helpers for benchmark scripts: timing, peak memory and the BENCH_JSON line.

Every benchmark prints its own table and ends with one line `BENCH_JSON [...]`, a list of
{name, value, unit, target, baseline_value, ratio}, which `benchmarks/run.py` collects.
"""

from __future__ import annotations

import json
import os
import resource
import time
from collections.abc import Callable

# The application refuses to run without its keys: benchmark values (never used for real data).
os.environ.setdefault("REGIONVISA_SECRET_KEY", "benchmark-secret-key-for-measurements-only-0123")
os.environ.setdefault("REGIONVISA_DATA_KEYS", "bench:cmVnaW9udmlzYS1iZW5jaG1hcmstZGF0YS1rZXkhISE=")
os.environ.setdefault("REGIONVISA_LOOKUP_KEY", "cmVnaW9udmlzYS1iZW5jaG1hcmstbG9va3VwLWtleSE=")


def best_of(fn: Callable[[], object], repeats: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def peak_rss_mb() -> float:
    """Peak resident memory of this process and its finished children, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def result(
    name: str,
    value: float,
    unit: str,
    target: str = "",
    baseline_value: float | None = None,
    higher_is_better: bool = False,
) -> dict:
    ratio = None
    if baseline_value and value:
        ratio = value / baseline_value if higher_is_better else baseline_value / value
    return {
        "name": name,
        "value": round(value, 4),
        "unit": unit,
        "target": target,
        "baseline_value": None if baseline_value is None else round(baseline_value, 4),
        "ratio": None if ratio is None else round(ratio, 2),
    }


def emit(results: list[dict]) -> None:
    for r in results:
        ratio = "" if r["ratio"] is None else f"  ×{r['ratio']} vs baseline {r['baseline_value']}"
        print(f"{r['name']:58} {r['value']:>12} {r['unit']:8} target {r['target'] or '-':>10}{ratio}")
    print("BENCH_JSON " + json.dumps(results, ensure_ascii=False))
