"""What people do while they stay: the `kiip_record` table (consecutive KIIP levels) and the
`employment` table (reported jobs while the status allows work).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from regionvisa.synth import profiles as pf
from regionvisa.synth.arrays import NO_DAY, explode, pick, uniform_int
from regionvisa.synth.plan import LEGAL, MOVER, VISAS, V

if TYPE_CHECKING:
    from regionvisa.synth.generate import Builder


def kiip(b: Builder) -> dict[str, np.ndarray]:
    """Consecutive KIIP levels for participants; holders' uptake is their region's."""
    rng, a = b.rng_kiip, b.as_of
    P = b.np_
    pilot = b.pilot_prog >= 0
    base = np.array([b.behaviour[v][0] for v in VISAS])[b.visa]
    mult = np.array([pf.REGION_PROFILE[c]["kiip"] for c in b.codes])[b.region]
    p = np.minimum(base * mult, 0.95)
    uptake = np.array([pf.PILOT_REGION_BEHAVIOUR[c][1] if c in pf.PILOT_REGION_BEHAVIOUR else 0.0
                       for c in b.codes])  # fmt: skip
    p = np.where(pilot, uptake[np.maximum(b.prog_region, 0)], p)
    lo = np.where(pilot, b.pilot_grant_day + 14, b.obs_start + 30)
    hi = np.where(pilot, b.pilot_grant_day + 330, b.legal_end - 30)
    join = (rng.random(P) < p) & (hi > lo)
    first = uniform_int(rng, lo, hi)
    level0 = pick(rng, P, pf.KIIP_START_LEVEL)
    n = np.where(join, pick(rng, P, pf.KIIP_RECORDS) + 1, 0)
    n = np.minimum(n, 6 - level0)
    owner, j = explode(n)
    gap = uniform_int(rng, 140, 220, len(owner))
    enrolled = first[owner] + j * gap
    done = rng.random(len(owner)) < pf.KIIP_COMPLETION
    completed = enrolled + uniform_int(rng, 70, 120, len(owner))
    limit = np.minimum(b.legal_end[owner], a)
    keep = enrolled <= limit
    completed = np.where(done & (completed <= limit), completed, NO_DAY)
    return {"person": owner[keep], "level": (level0[owner] + j)[keep], "enrolled": enrolled[keep],
            "completed": completed[keep]}  # fmt: skip


def employment(b: Builder) -> dict[str, np.ndarray]:
    """Reported jobs while the status allows work; holders of E-7 designs work in the region."""
    rng, a = b.rng_emp, b.as_of
    P = b.np_
    pilot = b.pilot_prog >= 0
    work = np.array([b.behaviour[v][1] for v in VISAS])[b.visa]
    e7 = pilot & (b.visa == V["E-7"])
    d2 = pilot & (b.visa == V["D-2"])
    p = np.where(e7, 1.0, np.where(d2, 0.2, work))
    start = np.where(pilot, b.pilot_grant_day + 7, np.maximum(b.run_start, b.w0))
    start = start + uniform_int(rng, 0, 30, P)
    end = np.minimum(b.legal_end, a)
    span = end - start
    works = (rng.random(P) < p) & (span > 30)
    jobs = np.where(works, pick(rng, P, pf.JOB_COUNT) + 1, 0)
    jobs = np.minimum(jobs, np.maximum(span // 90, 1))
    movers = (b.pilot_role == MOVER) & e7 & works
    jobs = np.where(e7 & works, np.where(movers, 2, 1), jobs)
    owner, j = explode(jobs)
    slot = span[owner] // jobs[owner]
    s = start[owner] + j * slot - np.where(j == 0, 0, np.floor(rng.random(len(owner)) * (slot // 3)))
    s = s.astype(np.int64)
    # a holder who moved away takes a second job after the move
    mv = movers[owner] & (j == 1)
    moved = np.minimum(np.maximum(b.mover_day[owner] + uniform_int(rng, 0, 20, len(owner)), s - 1), a)
    s = np.where(mv, np.maximum(moved, np.roll(s, 1) + 1), s)
    last = j == jobs[owner] - 1
    next_start = np.roll(s, -1)
    e = np.where(last, np.where(b.kind[owner] == LEGAL, NO_DAY, end[owner]),
                 next_start - uniform_int(rng, 1, 20, len(owner)))  # fmt: skip
    e = np.where((e != NO_DAY) & (e < s), s, e)
    home = np.where(pilot[owner], b.prog_region[owner], b.region[owner])
    home = np.where(mv, b.region[owner], home)
    away = (rng.random(len(owner)) > pf.EMPLOYER_IN_HOME_REGION) & ~pilot[owner]
    region = np.where(away, pick(rng, len(owner), b.share), home)
    pool = np.maximum(b.plan.region_residents // 12, 20)[region]
    employer = np.floor(pool * rng.random(len(owner)) ** 2).astype(np.int64)
    jobs_of = {"person": owner, "start": s, "end": e, "region": region, "employer": employer}
    holder_job = e7[owner] & ~mv  # a programme E-7 holder's job in the programme region
    sub = subcontracting(b, owner, region, holder_job)
    return jobs_of | sub | conditions(b, owner, holder_job, sub["employer_kind"] == 2)


def subcontracting(b: Builder, owner: np.ndarray, region: np.ndarray, holder_job: np.ndarray) -> dict[str, np.ndarray]:
    """Who works for a prime employer or one of its contractors, in the regions with an E-7 design.

    Of the holders' jobs there, CONTRACTOR_SHARE are at a contractor and PRIME_SHARE at a prime;
    each region has PRIMES_PER_REGION primes and one contractor per CONTRACTOR_HOLDERS such jobs,
    each contractor working for one prime. The region's other E-9 and E-7 workers fill about
    CONTRACTOR_OTHER_STAFF places per contractor, and PRIME_DIRECT_SHARE of them work for a prime.
    `employer_kind` is 0 (other), 1 (prime) or 2 (contractor); `prime` and `contractor` number them.
    """
    rng, n = b.rng_emp, len(owner)
    e7_regions = [b.codes.index(r) for r, v in zip(b.plan.pilot["region"], b.plan.pilot["base_visa"], strict=True)
                  if v == "E-7"]  # fmt: skip
    in_e7_region = np.isin(region, e7_regions)
    u = rng.random(n)
    contract = holder_job & (u < pf.CONTRACTOR_SHARE)
    prime_job = holder_job & (u >= pf.CONTRACTOR_SHARE) & (u < pf.CONTRACTOR_SHARE + pf.PRIME_SHARE)
    held = np.bincount(region[contract], minlength=b.nreg)
    contractors = np.where(held > 0, np.maximum(np.ceil(held / pf.CONTRACTOR_HOLDERS), 1), 0).astype(np.int64)
    worker = np.isin(b.visa[owner], [V["E-9"], V["E-7"]]) & (b.pilot_prog[owner] < 0) & in_e7_region
    candidates = np.bincount(region[worker], minlength=b.nreg)
    p_staff = np.minimum(contractors * pf.CONTRACTOR_OTHER_STAFF / np.maximum(candidates, 1), 1.0)
    v = rng.random(n)
    staff = worker & (v < p_staff[region]) & (contractors[region] > 0)
    direct = worker & ~staff & (v < p_staff[region] + pf.PRIME_DIRECT_SHARE)
    at_contractor = contract | staff
    contractor = np.floor(rng.random(n) * contractors[region]).astype(np.int64)
    prime = np.where(at_contractor, contractor % pf.PRIMES_PER_REGION,
                     np.floor(rng.random(n) * pf.PRIMES_PER_REGION)).astype(np.int64)  # fmt: skip
    kind = np.where(at_contractor, 2, np.where(prime_job | direct, 1, 0)).astype(np.int64)
    return {"employer_kind": kind, "prime": prime, "contractor": np.where(at_contractor, contractor, -1)}


def conditions(b: Builder, owner: np.ndarray, holder_job: np.ndarray, contracted: np.ndarray) -> dict:
    """Annual wage and occupation of each job.

    Wages are log-normal around each status's monthly median (× 12); a programme E-7 holder's
    is a multiple of their design's floor (HOLDER_WAGE_OVER_FLOOR), or about 2.2 M KRW a month at
    a contractor (CONTRACTOR_MONTHLY_WAGE), so some fall below the floor. Holders report an
    occupation from their design's list, HOLDER_OFF_LIST of them one off it; other E-7 holders a
    national E-7 code; the rest none. `occupation` indexes `occupation_codes` (-1: none
    reported). Wages are rounded to 10,000 KRW.
    """
    rng, n = b.rng_emp, len(owner)
    programmes = b.plan.pilot["program_id"].to_list()
    visa, prog = b.visa[owner], np.maximum(b.pilot_prog[owner], 0)
    median = np.array([pf.WAGE_MONTHLY_MEDIAN[v] for v in VISAS], dtype=np.float64)[visa]
    wage = 12 * median * np.exp(pf.WAGE_SIGMA * rng.standard_normal(n))
    floors = np.array([pf.PILOT_WAGE_FLOOR.get(p, pf.E7_NATIONAL_FLOOR) for p in programmes], dtype=np.float64)
    ratio, sigma = pf.HOLDER_WAGE_OVER_FLOOR
    wage = np.where(holder_job, floors[prog] * ratio * np.exp(sigma * rng.standard_normal(n)), wage)
    monthly, spread = pf.CONTRACTOR_MONTHLY_WAGE
    wage = np.where(holder_job & contracted, 12 * monthly * np.exp(spread * rng.standard_normal(n)), wage)
    wage = (np.round(wage / 10_000) * 10_000).astype(np.int64)
    # occupation codes: every design's list, then the national E-7 codes, then the off-list ones
    lists = [pf.PILOT_OCCUPATIONS.get(p, ()) for p in programmes]
    codes = [c for codes in lists for c in codes]
    first = np.cumsum([0, *(len(c) for c in lists)])[:-1]
    size = np.array([len(c) for c in lists], dtype=np.int64)
    national, off = len(codes), len(codes) + len(pf.E7_OCCUPATIONS)
    codes += [*pf.E7_OCCUPATIONS, *pf.OFF_LIST_OCCUPATIONS]
    u, w = rng.random(n), rng.random(n)
    listed = holder_job & (size[prog] > 0)
    occupation = np.full(n, -1, dtype=np.int64)
    occupation = np.where(visa == V["E-7"], national + np.floor(u * len(pf.E7_OCCUPATIONS)), occupation)
    occupation = np.where(listed, first[prog] + np.floor(u * np.maximum(size[prog], 1)), occupation)
    off_list = listed & (w < pf.HOLDER_OFF_LIST)
    occupation = np.where(off_list, off + np.floor(u * len(pf.OFF_LIST_OCCUPATIONS)), occupation)
    return {"wage": wage, "occupation": occupation.astype(np.int64), "occupation_codes": codes}
