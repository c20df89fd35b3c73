"""Screening benchmark (issue 4, requirement 10; DESIGN §5).

Builds a Gyeonggi-E-7-like programme (4 fixed national criteria + 10 regional ones, with a points grid),
generates synthetic applicants with NumPy (about 3% nulls per column) and measures, best of 3:

(a) the screening core (criterion Booleans, outcome, points) on N applicants — target ≤ 1.0 s for 1M;
(b) the text step (failed, missing, pass/fail/missing columns) on its own, and all columns together;
(c) the scalar evaluator on 10,000 applicants, per applicant, and the batch speed-up (target ≥ 50×);
(d) the same rules for the `rule_engine` package, row by row on 10,000 applicants (target ≥ 100×).

Run: .venv/bin/python benchmarks/screening.py [--n 1000000] [--quick]
The last line is `BENCH_JSON [...]` for the `make bench` collector.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from regionvisa.rules import (
    FIELDS,
    RuleProgram,
    add_lists,
    check_program,
    evaluate,
    format_results,
    screen_core,
)
from regionvisa.rules.fields import E7_SUBTYPES, EDUCATION_LEVELS

ON = dt.date(2025, 6, 1)
OCCUPATIONS = [f"{2211 + i}" for i in range(24)]  # illustrative codes; the real list is in policy/
ALL_OCCUPATIONS = OCCUPATIONS + [f"{3100 + i}" for i in range(16)]
NULL_SHARE = 0.03
SCALAR_N = 10_000

FIXED = [
    {
        "id": "passport-valid",
        "label": {"ko": "여권 유효", "en": "Valid passport"},
        "rule": {">=": [{"var": "passport_valid_until"}, {"today": True}]},
    },
    {"id": "no-entry-ban", "rule": {"==": [{"var": "entry_ban"}, False]}},
    {"id": "no-criminal-record", "rule": {"==": [{"var": "criminal_record"}, False]}},
    {"id": "no-illegal-stay", "rule": {"==": [{"var": "prior_illegal_stay"}, False]}},
]

DESIGN = {
    "id": "gyeonggi-e7",
    "version": 1,
    "parameters": {
        "annual_wage_floor_krw": {dt.date(2025, 1, 1): 28_000_000, dt.date(2026, 1, 1): 29_000_000},
        "occupations": {dt.date(2025, 1, 1): OCCUPATIONS},
        "min_topik": {dt.date(2025, 1, 1): 3},
    },
    "criteria": [
        {
            "id": "wage-floor",
            "rule": {">=": [{"var": "annual_wage_krw"}, {"param": "annual_wage_floor_krw"}]},
        },
        {
            "id": "national-min-wage",
            "rule": {
                ">=": [
                    {"var": "annual_wage_krw"},
                    {"*": [{"param": "national.min_wage_hourly_krw"}, 209, 12]},
                ]
            },
        },
        {"id": "occupation", "rule": {"in": [{"var": "occupation_code"}, {"param": "occupations"}]}},
        {
            "id": "education-or-experience",
            "rule": {
                "any": [
                    {">=": [{"var": "education_level"}, "bachelor"]},
                    {
                        "all": [
                            {">=": [{"var": "education_level"}, "associate"]},
                            {">=": [{"var": "experience_years"}, 3]},
                        ]
                    },
                ]
            },
        },
        {"id": "topik", "rule": {">=": [{"var": "topik_level"}, {"param": "min_topik"}]}},
        {"id": "age", "rule": {"between": [{"years_since": {"var": "birth_date"}}, 19, 45]}},
        {"id": "employer-foreign-ratio", "rule": {"<=": [{"var": "employer_foreign_ratio"}, 0.2]}},
        {"id": "korean-test", "rule": {"==": [{"var": "korean_test_passed"}, True]}},
        {"id": "employer-in-region", "rule": {"==": [{"var": "employer_region"}, "41"]}},
        {"id": "e7-subtype", "rule": {"in": [{"var": "e7_subtype"}, ["E-7-1", "E-7-2", "E-7-3"]]}},
    ],
    "points": [
        {"id": "topik-4", "when": {">=": [{"var": "topik_level"}, 4]}, "points": 10},
        {"id": "topik-5", "when": {">=": [{"var": "topik_level"}, 5]}, "points": 5},
        {"id": "master", "when": {">=": [{"var": "education_level"}, "master"]}, "points": 10},
        {"id": "wage-40m", "when": {">=": [{"var": "annual_wage_krw"}, 40_000_000]}, "points": 10},
        {"id": "experience-5", "when": {">=": [{"var": "experience_years"}, 5]}, "points": 5},
        {"id": "kiip-3", "when": {">=": [{"var": "kiip_level"}, 3]}, "points": 5},
        {"id": "skills-test", "when": {"==": [{"var": "skills_test_passed"}, True]}, "points": 5},
    ],
}
NATIONAL = {"min_wage_hourly_krw": {dt.date(2025, 1, 1): 10_030, dt.date(2026, 1, 1): 10_320}}


def build_program() -> RuleProgram:
    return RuleProgram.from_dict(DESIGN, NATIONAL, fixed_criteria=FIXED)


def synthetic_applicants(n: int, seed: int = 7) -> pl.DataFrame:
    """Plausible applicants, vectorised; each catalogue column gets about 3% nulls."""
    rng = np.random.default_rng(seed)
    epoch = dt.date(1970, 1, 1)
    on_days = (ON - epoch).days

    def days(lo: int, hi: int) -> pl.Series:
        return pl.Series(on_days + rng.integers(lo, hi, n), dtype=pl.Int32).cast(pl.Date)

    def pick(values: list[str], p: list[float] | None = None) -> np.ndarray:
        return np.asarray(values, dtype=object)[rng.choice(len(values), n, p=p)]

    cols = {
        "applicant_id": pl.Series([f"A{i:07d}" for i in range(n)]),
        "nationality": pick(["VNM", "UZB", "IDN", "NPL", "PHL", "CHN", "MNG", "IND"]),
        "birth_date": days(-52 * 365, -17 * 365),
        "passport_valid_until": days(-400, 3650),
        "entry_ban": rng.random(n) < 0.01,
        "criminal_record": rng.random(n) < 0.02,
        "prior_illegal_stay": rng.random(n) < 0.03,
        "education_level": pick(list(EDUCATION_LEVELS), [0.03, 0.17, 0.2, 0.4, 0.15, 0.05]),
        "employer_region": pick(["41", "11", "28", "41", "41"]),
        "topik_level": rng.integers(0, 7, n),
        "kiip_level": rng.integers(0, 6, n),
        "annual_wage_krw": rng.normal(32e6, 7e6, n).clip(15e6, 90e6).astype(np.int64),
        "occupation_code": pick(ALL_OCCUPATIONS),
        "e7_subtype": pick(list(E7_SUBTYPES), [0.5, 0.2, 0.2, 0.1]),
        "experience_years": rng.gamma(2.0, 2.0, n).round(1),
        "employer_foreign_ratio": rng.beta(2, 10, n).round(3),
        "korean_test_passed": rng.random(n) < 0.7,
        "skills_test_passed": rng.random(n) < 0.5,
    }
    df = pl.DataFrame(cols)
    nulls = {c: pl.Series(rng.random(n) < NULL_SHARE) for c in df.columns if c != "applicant_id"}
    df = df.with_columns(
        [pl.when(~nulls[c]).then(pl.col(c)).alias(c) for c in nulls],
    )
    return df.with_columns([pl.col(c).cast(FIELDS[c].dtype) for c in df.columns])


# ------------------------------------------------------------------------------------- rule_engine


def rule_engine_rules() -> tuple[list[tuple[str, object]], list[tuple[int, object]], Callable[[dict], dict]]:
    """The same criteria for `rule_engine`; a criterion is null when a field it reads is null."""
    import rule_engine

    ctx = rule_engine.Context(default_value=None)
    on = dt.datetime(ON.year, ON.month, ON.day)
    # years_since(b) between 19 and 45  <=>  on - 46 years < b <= on - 19 years
    oldest = on.replace(year=on.year - 46)
    youngest = on.replace(year=on.year - 19)
    occ = json.dumps(OCCUPATIONS)
    wage_floor = 28_000_000
    min_wage = 10_030 * 209 * 12

    def guard(fields: list[str], expr: str) -> str:
        cond = " or ".join(f"{f} == null" for f in fields)
        return f"({cond}) ? null : ({expr})"

    texts = [
        ("passport-valid", guard(["passport_valid_until"], f"passport_valid_until >= d'{on.isoformat()}'")),
        ("no-entry-ban", guard(["entry_ban"], "entry_ban == false")),
        ("no-criminal-record", guard(["criminal_record"], "criminal_record == false")),
        ("no-illegal-stay", guard(["prior_illegal_stay"], "prior_illegal_stay == false")),
        ("wage-floor", guard(["annual_wage_krw"], f"annual_wage_krw >= {wage_floor}")),
        ("national-min-wage", guard(["annual_wage_krw"], f"annual_wage_krw >= {min_wage}")),
        ("occupation", guard(["occupation_code"], f"occupation_code in {occ}")),
        (
            "education-or-experience",
            guard(
                ["education_rank", "experience_years"],
                "education_rank >= 3 or (education_rank >= 2 and experience_years >= 3)",
            ),
        ),
        ("topik", guard(["topik_level"], "topik_level >= 3")),
        (
            "age",
            guard(
                ["birth_date"],
                f"birth_date > d'{oldest.isoformat()}' and birth_date <= d'{youngest.isoformat()}'",
            ),
        ),
        ("employer-foreign-ratio", guard(["employer_foreign_ratio"], "employer_foreign_ratio <= 0.2")),
        ("korean-test", guard(["korean_test_passed"], "korean_test_passed == true")),
        ("employer-in-region", guard(["employer_region"], "employer_region == '41'")),
        ("e7-subtype", guard(["e7_subtype"], "e7_subtype in ['E-7-1', 'E-7-2', 'E-7-3']")),
    ]
    points = [
        (10, "topik_level != null and topik_level >= 4"),
        (5, "topik_level != null and topik_level >= 5"),
        (10, "education_rank != null and education_rank >= 4"),
        (10, "annual_wage_krw != null and annual_wage_krw >= 40000000"),
        (5, "experience_years != null and experience_years >= 5"),
        (5, "kiip_level != null and kiip_level >= 3"),
        (5, "skills_test_passed == true"),
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


def best_of(fn: Callable[[], object], repeat: int = 3) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="applicants to screen (default 1,000,000)")
    ap.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    args = ap.parse_args()
    n = 50_000 if args.quick else args.n
    scalar_n = min(2_000 if args.quick else SCALAR_N, n)

    program = check_program(build_program())
    applicants = synthetic_applicants(n)
    n_crit, n_points = len(program.criteria), len(program.points)
    print(f"programme {program.program.id}: {n_crit} criteria, {n_points} points rules")
    print(f"applicants: {n:,} (scalar and rule_engine samples: {scalar_n:,})")

    t_core, core = best_of(lambda: screen_core(program, applicants, on=ON))
    t_lists, listed = best_of(lambda: add_lists(program, core, applicants))
    t_format, formatted = best_of(lambda: format_results(program, listed))
    t_all, _ = best_of(
        lambda: format_results(program, add_lists(program, screen_core(program, applicants, on=ON), applicants))
    )
    t_text = t_lists + t_format

    sample = applicants.head(scalar_n)
    rows = sample.to_dicts()

    def run_scalar() -> list:
        return [evaluate(program, r, on=ON) for r in rows]

    t_scalar, scalar_results = best_of(run_scalar)

    crit, pts, prepare = rule_engine_rules()

    def run_rule_engine() -> list:
        out = []
        for r in rows:
            row = prepare(r)
            results = [rule.evaluate(row) for _, rule in crit]
            points = sum(p for p, rule in pts if rule.evaluate(row) is True)
            out.append((results, points))
        return out

    t_re, re_results = best_of(run_rule_engine)

    # cross-checks: the three evaluators agree where they are comparable
    batch_sample = formatted.head(scalar_n)
    mismatch_scalar = sum(
        s.outcome != b for s, b in zip(scalar_results, batch_sample["outcome"].to_list(), strict=True)
    )
    crit_cols = [f"c:{cid}" for cid, _ in crit]
    core_rows = core.head(scalar_n).select(crit_cols).rows()
    compared = mismatch_re = 0
    for (res, _pts), batch_row in zip(re_results, core_rows, strict=True):
        for a, b in zip(res, batch_row, strict=True):
            if a is not None:  # rule_engine has no Kleene logic: compare where it decided
                compared += 1
                mismatch_re += a is not b
    re_points_mismatch = sum(
        p != b for (_, p), b in zip(re_results, core["points"].head(scalar_n).to_list(), strict=True)
    )

    per_batch_core = t_core / n
    per_batch_all = t_all / n
    per_scalar = t_scalar / scalar_n
    per_re = t_re / scalar_n
    counts = core["outcome"].value_counts().sort("outcome")

    def us(x: float) -> str:
        return f"{x * 1e6:,.3f} µs"

    print()
    print(f"{'measure':<46}{'value':>16}{'target':>14}")
    print("-" * 76)
    print(f"{'(a) screening core, ' + f'{n:,} applicants':<46}{t_core:>14.3f} s{'≤ 1.0 s':>14}")
    print(f"{'(b) text step (failed/missing + format)':<46}{t_text:>14.3f} s{'':>14}")
    print(f"{'    of which failed/missing':<46}{t_lists:>14.3f} s{'':>14}")
    print(f"{'    of which pass/fail/missing text':<46}{t_format:>14.3f} s{'':>14}")
    print(f"{'(a+b) all result columns, one pass':<46}{t_all:>14.3f} s{'≤ 1.0 s':>14}")
    print(f"{'(c) scalar evaluator per applicant':<46}{us(per_scalar):>16}")
    print(f"{'    batch (all columns) per applicant':<46}{us(per_batch_all):>16}")
    print(f"{'    ratio scalar / batch (all columns)':<46}{per_scalar / per_batch_all:>14,.0f} ×{'≥ 50×':>14}")
    print(f"{'    ratio scalar / batch (core)':<46}{per_scalar / per_batch_core:>14,.0f} ×")
    print(f"{'(d) rule_engine per applicant':<46}{us(per_re):>16}")
    print(f"{'    ratio rule_engine / batch (all columns)':<46}{per_re / per_batch_all:>14,.0f} ×{'≥ 100×':>14}")
    print()
    print("outcomes:", dict(counts.iter_rows()))
    print(f"scalar vs batch outcome mismatches: {mismatch_scalar} of {scalar_n:,}")
    print(
        f"rule_engine vs batch criterion mismatches: {mismatch_re} of {compared:,} decided results; "
        f"points mismatches: {re_points_mismatch}"
    )

    entries = [
        {
            "name": "screening_core",
            "value": round(t_core, 4),
            "unit": "s",
            "target": 1.0,
            "baseline_value": None,
            "ratio": None,
            "n": n,
        },
        {
            "name": "screening_text_step",
            "value": round(t_text, 4),
            "unit": "s",
            "target": None,
            "baseline_value": None,
            "ratio": None,
            "n": n,
        },
        {
            "name": "screening_all_columns",
            "value": round(t_all, 4),
            "unit": "s",
            "target": 1.0,
            "baseline_value": None,
            "ratio": None,
            "n": n,
        },
        {
            "name": "batch_vs_scalar_per_applicant",
            "value": round(per_batch_all * 1e6, 4),
            "unit": "us/applicant",
            "target": 50,
            "baseline_value": round(per_scalar * 1e6, 2),
            "ratio": round(per_scalar / per_batch_all, 1),
        },
        {
            "name": "batch_vs_rule_engine_per_applicant",
            "value": round(per_batch_all * 1e6, 4),
            "unit": "us/applicant",
            "target": 100,
            "baseline_value": round(per_re * 1e6, 2),
            "ratio": round(per_re / per_batch_all, 1),
        },
    ]
    print("BENCH_JSON " + json.dumps(entries))


if __name__ == "__main__":
    main()
