"""Screening benchmark (issue 4, requirement 10; DESIGN §5).

Screens synthetic applicants against the Gyeonggi E-7 pilot design as written in
policy/programs/41/gyeonggi-e7.yaml (6 fixed national criteria + 10 regional ones, 5 points rules),
loaded and validated once before any timing. Applicants are generated with NumPy (about 3% nulls per
column). Measured, best of 3, in one process, file reading excluded:

(a) the screening core (criterion Booleans with null for missing, outcome, points) — target ≤ 1.0 s for 1M;
(b) the text step (failed, missing, pass/fail/missing columns) on its own, and all columns together;
(c) the scalar evaluator on 10,000 applicants, per applicant, against the batch (target ≥ 50×);
(d) the same rules written for the `rule-engine` package, row by row on 10,000 applicants (target ≥ 100×).

The three evaluators are cross-checked on the sample (outcomes, decided criteria, points).

Run: .venv/bin/python benchmarks/screening.py [--n 1000000] [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT / "src"))

from _common import emit, peak_rss_mb, result  # noqa: E402
from regionvisa.programs.files import load_program_file  # noqa: E402
from regionvisa.rules import FIELDS, add_lists, check_program, evaluate, format_results, screen, screen_core  # noqa: E402
from regionvisa.rules.fields import E7_SUBTYPES, EDUCATION_LEVELS  # noqa: E402

DESIGN = ROOT / "policy" / "programs" / "41" / "gyeonggi-e7.yaml"
ON = dt.date(2025, 6, 1)
NULL_SHARE = 0.03
SCALAR_N = 10_000
OTHER_OCCUPATIONS = ["2224", "2231", "2351", "3922", "4410", "7430", "7521", "9999"]


def synthetic_applicants(n: int, occupations: list[str], seed: int = 7) -> pl.DataFrame:
    """Plausible E-7 applicants, vectorised; each profile column gets about 3% nulls."""
    rng = np.random.default_rng(seed)
    on_days = (ON - dt.date(1970, 1, 1)).days

    def days(lo: int, hi: int) -> pl.Series:
        return pl.Series(on_days + rng.integers(lo, hi, n), dtype=pl.Int32).cast(pl.Date)

    def pick(values: list[str], p: list[float] | None = None) -> np.ndarray:
        return np.asarray(values, dtype=object)[rng.choice(len(values), n, p=p)]

    codes = occupations + OTHER_OCCUPATIONS
    weights = np.r_[np.full(len(occupations), 0.85 / len(occupations)), np.full(len(OTHER_OCCUPATIONS), 0.15 / 8)]
    cols = {
        "applicant_id": pl.Series([f"A{i:07d}" for i in range(n)]),
        "nationality": pick(["VNM", "UZB", "IDN", "NPL", "PHL", "CHN", "MNG", "IND"]),
        "birth_date": days(-55 * 365, -20 * 365),
        "passport_valid_until": days(-200, 3650),
        "entry_ban": rng.random(n) < 0.01,
        "criminal_record": rng.random(n) < 0.02,
        "prior_illegal_stay": rng.random(n) < 0.03,
        "education_level": pick(list(EDUCATION_LEVELS), [0.02, 0.13, 0.15, 0.45, 0.2, 0.05]),
        "employer_region": pick(["41", "41", "41", "11", "28"]),
        "intended_residence": pick(["41", "41", "41", "41", "11"]),
        "topik_level": rng.integers(0, 7, n),
        "kiip_level": rng.integers(0, 6, n),
        "annual_wage_krw": rng.normal(36e6, 7e6, n).clip(20e6, 90e6).astype(np.int64),
        "occupation_code": np.asarray(codes, dtype=object)[rng.choice(len(codes), n, p=weights)],
        "e7_subtype": pick(list(E7_SUBTYPES), [0.75, 0.15, 0.07, 0.03]),
        "experience_years": rng.gamma(2.0, 2.0, n).round(1),
        "employer_foreign_ratio": rng.beta(2, 14, n).round(3),
    }
    df = pl.DataFrame(cols)
    nulls = {c: pl.Series(rng.random(n) < NULL_SHARE) for c in df.columns if c != "applicant_id"}
    df = df.with_columns([pl.when(~nulls[c]).then(pl.col(c)).alias(c) for c in nulls])
    return df.with_columns([pl.col(c).cast(FIELDS[c].dtype) for c in df.columns])


# ------------------------------------------------------------------------------------- rule_engine


def rule_engine_rules(params: dict) -> tuple[list[tuple[str, object]], list[tuple[int, object]], Callable]:
    """The Gyeonggi criteria and points for `rule_engine`, with the parameter values in force on ON.

    rule_engine has no three-valued logic: a criterion is null when any field it reads is null, and
    criteria are compared with the batch only where rule_engine decided them.
    """
    import rule_engine

    ctx = rule_engine.Context(default_value=None)
    on = dt.datetime(ON.year, ON.month, ON.day)
    over_age = on.replace(year=on.year - (params["max_age"] + 1))  # years_since(b) <= 49  <=>  b > this
    year_on = on + dt.timedelta(days=365)
    occupations = json.dumps(params["occupations"])

    def guard(fields: list[str], expr: str) -> str:
        cond = " or ".join(f"{f} == null" for f in fields)
        return f"({cond}) ? null : ({expr})"

    texts = [
        ("passport-valid", guard(["passport_valid_until"], f"passport_valid_until >= d'{on.isoformat()}'")),
        ("no-entry-ban", guard(["entry_ban"], "entry_ban == false")),
        ("no-criminal-record", guard(["criminal_record"], "criminal_record == false")),
        ("no-illegal-stay-5y", guard(["prior_illegal_stay"], "prior_illegal_stay == false")),
        ("permitted-occupation", guard(["occupation_code"], f"occupation_code in {occupations}")),
        ("wage-floor", guard(["annual_wage_krw"], f"annual_wage_krw >= {params['annual_wage_floor_krw']}")),
        ("employer-in-gyeonggi", guard(["employer_region"], "employer_region == '41'")),
        ("residence-in-gyeonggi", guard(["intended_residence"], "intended_residence in ['41']")),
        ("subtype-fits", guard(["e7_subtype"], "e7_subtype in ['E-7-1', 'E-7-2']")),
        (
            "high-tech-wage",
            guard(
                ["occupation_code", "annual_wage_krw"],
                f"occupation_code == '42111' or annual_wage_krw >= {params['high_tech_wage_floor_krw']}",
            ),
        ),
        (
            "qualification",
            guard(
                ["education_rank", "experience_years", "occupation_code"],
                "education_rank >= 4 or (education_rank >= 3 and experience_years >= 1) or experience_years >= 5"
                " or (occupation_code == '42111' and education_rank >= 1)",
            ),
        ),
        ("age-limit", guard(["birth_date"], f"birth_date > d'{over_age.isoformat()}'")),
        (
            "domestic-employment-protection",
            guard(["employer_foreign_ratio"], f"employer_foreign_ratio <= {params['max_foreign_ratio']}"),
        ),
        (
            "care-worker-korean",
            guard(
                ["occupation_code", "topik_level"],
                f"occupation_code == '42111' ? topik_level >= {params['topik_min_care']} : true",
            ),
        ),
        ("korean-basic", guard(["topik_level", "kiip_level"], "topik_level >= 2 or kiip_level >= 2")),
        (
            "passport-covers-first-year",
            guard(["passport_valid_until"], f"passport_valid_until >= d'{year_on.isoformat()}'"),
        ),
    ]
    points = [
        (10, "topik_level != null and topik_level >= 4"),
        (10, "education_rank != null and education_rank >= 4"),
        (5, "experience_years != null and experience_years >= 3"),
        (5, "kiip_level != null and kiip_level >= 3"),
        (5, "annual_wage_krw != null and annual_wage_krw >= 40000000"),
    ]
    rank = {v: i for i, v in enumerate(EDUCATION_LEVELS)}

    def prepare(row: dict) -> dict:
        row = dict(row)
        row["education_rank"] = rank.get(row.get("education_level"))
        for k in ("birth_date", "passport_valid_until"):
            d = row.get(k)
            row[k] = None if d is None else dt.datetime(d.year, d.month, d.day)
        return row

    crit = [(cid, rule_engine.Rule(t, context=ctx)) for cid, t in texts]
    pts = [(p, rule_engine.Rule(t, context=ctx)) for p, t in points]
    return crit, pts, prepare


# ------------------------------------------------------------------------------------------ timing


CPU: dict[str, float] = {}


def best_of(fn: Callable[[], object], repeat: int = 3, name: str = "") -> tuple[float, object]:
    """Best wall-clock time of `repeat` runs; the process CPU time of that run is kept in CPU[name].

    On a shared machine the wall clock includes time spent waiting for a CPU; the CPU time (all
    threads) shows the work itself.
    """
    best, out = float("inf"), None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        wall = time.perf_counter() - t
        if wall < best:
            best, CPU[name] = wall, time.process_time() - c
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="applicants to screen (default 1,000,000)")
    ap.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    args = ap.parse_args()
    n = 50_000 if args.quick else args.n
    scalar_n = min(2_000 if args.quick else SCALAR_N, n)

    loaded = load_program_file(DESIGN)  # reading and validating the design: not timed
    program = check_program(loaded.rules)
    in_force = {k: v[0] for k, v in program.parameters_on(ON).items() if v is not None}
    n_fixed, n_crit = len(loaded.fixed_ids), len(program.criteria)
    print(f"programme {loaded.id} v{loaded.spec.version} from {DESIGN.relative_to(ROOT)}")
    print(f"  {n_fixed} fixed + {n_crit - n_fixed} regional criteria, {len(program.points)} points rules")
    applicants = synthetic_applicants(n, in_force["occupations"])
    print(f"applicants: {n:,} (scalar and rule_engine samples: {scalar_n:,})")

    t_core, core = best_of(lambda: screen_core(program, applicants, on=ON), 5, "core")
    t_lists, listed = best_of(lambda: add_lists(program, core, applicants), 5, "lists")
    t_format, formatted = best_of(lambda: format_results(program, listed), 5, "format")
    t_all, everything = best_of(lambda: format_results(program, screen(program, applicants, on=ON)), 5, "all")
    assert everything.equals(formatted), "screen() and screen_core() + add_lists() disagree"
    t_text = t_lists + t_format

    rows = applicants.head(scalar_n).to_dicts()
    t_scalar, scalar_results = best_of(lambda: [evaluate(program, r, on=ON) for r in rows], 3, "scalar")

    crit, pts, prepare = rule_engine_rules(in_force)

    def run_rule_engine() -> list:
        out = []
        for r in rows:
            row = prepare(r)
            results = [rule.evaluate(row) for _, rule in crit]
            points = sum(p for p, rule in pts if rule.evaluate(row) is True)
            out.append((results, points))
        return out

    t_re, re_results = best_of(run_rule_engine, 3, "rule_engine")

    # cross-checks: the three evaluators agree where they are comparable
    sample = formatted.head(scalar_n)
    mismatch_scalar = sum(
        (s.outcome, s.points, ";".join(s.failed), ";".join(s.missing)) != b
        for s, b in zip(scalar_results, sample.select("outcome", "points", "failed", "missing").rows(), strict=True)
    )
    crit_cols = [f"c:{cid}" for cid, _ in crit]
    assert crit_cols == [f"c:{c.criterion.id}" for c in program.criteria], "rule_engine rules out of step"
    compared = mismatch_re = 0
    for (res, _pts), batch_row in zip(re_results, core.head(scalar_n).select(crit_cols).rows(), strict=True):
        for a, b in zip(res, batch_row, strict=True):
            if a is not None:  # rule_engine has no Kleene logic: compare where it decided
                compared += 1
                mismatch_re += a is not b
    re_points_mismatch = sum(
        p != b for (_, p), b in zip(re_results, core["points"].head(scalar_n).to_list(), strict=True)
    )

    per_batch_core, per_batch_all = t_core / n, t_all / n
    per_scalar, per_re = t_scalar / scalar_n, t_re / scalar_n
    counts = dict(core["outcome"].value_counts().sort("outcome").iter_rows())

    def us(x: float) -> str:
        return f"{x * 1e6:,.3f} µs"

    print()
    print(f"{'measure':<46}{'value':>16}{'target':>14}")
    print("-" * 76)
    cpu = CPU
    core_label = f"(a) screening core, {n:,} applicants"
    print(f"{core_label:<46}{t_core:>14.3f} s{'≤ 1.0 s':>14}   cpu {cpu['core']:.3f} s")
    print(f"{'(b) text step (failed/missing + format)':<46}{t_text:>14.3f} s")
    print(f"{'    of which failed/missing':<46}{t_lists:>14.3f} s{'':>14}   cpu {cpu['lists']:.3f} s")
    print(f"{'    of which pass/fail/missing text':<46}{t_format:>14.3f} s{'':>14}   cpu {cpu['format']:.3f} s")
    print(f"{'(a+b) all result columns, screen()':<46}{t_all:>14.3f} s{'≤ 1.0 s':>14}   cpu {cpu['all']:.3f} s")
    print(f"{'(c) scalar evaluator per applicant':<46}{us(per_scalar):>16}")
    print(f"{'    batch (all columns) per applicant':<46}{us(per_batch_all):>16}")
    print(f"{'    ratio scalar / batch (all columns)':<46}{per_scalar / per_batch_all:>14,.0f} ×{'≥ 50×':>14}")
    print(f"{'    ratio scalar / batch (core)':<46}{per_scalar / per_batch_core:>14,.0f} ×")
    print(f"{'(d) rule_engine per applicant':<46}{us(per_re):>16}")
    print(f"{'    ratio rule_engine / batch (all columns)':<46}{per_re / per_batch_all:>14,.0f} ×{'≥ 100×':>14}")
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    print(f"load average while measuring: {load} (CPU time is the work itself; wall time includes waiting)")
    print("outcomes:", counts)
    print(f"scalar vs batch mismatches (outcome, points, failed, missing): {mismatch_scalar} of {scalar_n:,}")
    print(
        f"rule_engine vs batch criterion mismatches: {mismatch_re} of {compared:,} decided results; "
        f"points mismatches: {re_points_mismatch}"
    )
    print()
    emit(
        [
            result(f"screening core, {n:,} applicants (Gyeonggi E-7)", t_core, "s", "≤ 1.0 s"),
            result(f"text step (failed, missing, c:* text), {n:,}", t_text, "s", ""),
            result(f"all result columns, {n:,} applicants", t_all, "s", "≤ 1.0 s"),
            result(f"all result columns, {n:,}: process CPU time", cpu["all"], "s", ""),
            result(
                "batch (all columns) per applicant vs scalar evaluator",
                per_batch_all * 1e6,
                "µs",
                "≥ 50×",
                per_scalar * 1e6,
            ),
            result(
                "batch (all columns) per applicant vs rule-engine row by row",
                per_batch_all * 1e6,
                "µs",
                "≥ 100×",
                per_re * 1e6,
            ),
            result("screening peak memory", peak_rss_mb(), "MB", ""),
        ]
    )
    if mismatch_scalar or mismatch_re or re_points_mismatch:
        sys.exit("the evaluators disagree on the sample")


if __name__ == "__main__":
    main()
