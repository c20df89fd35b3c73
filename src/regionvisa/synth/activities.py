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
    return {"person": owner, "start": s, "end": e, "region": region, "employer": employer}
