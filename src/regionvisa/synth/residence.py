"""Where people are: the `movement` table (arrivals, round trips, final exits) and the
`address_report` table (a first report on arrival, moves, late reports, districts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from regionvisa.synth import profiles as pf
from regionvisa.synth.arrays import NO_DAY, explode, pick, pick_by, uniform_int
from regionvisa.synth.plan import DEPARTED, ILLEGAL, MOVER, VISAS

if TYPE_CHECKING:
    from regionvisa.synth.generate import Builder


def movements(b: Builder) -> dict[str, np.ndarray]:
    """Arrival entries, round trips inside the legal stay, final exits of those who left."""
    rng, a = b.rng_move, b.as_of
    rate = np.array([b.behaviour[v][2] for v in VISAS])[b.visa]
    lo = b.obs_start + 20
    hi = np.where(b.kind == DEPARTED, b.exit_day, np.minimum(b.legal_end, a - 3)) - 5
    span = np.maximum(hi - lo, 0)
    trips = np.minimum(rng.poisson(rate * span / 365.25), 3)
    # illegal stayers who came before the window still need an entry on record
    force = (b.kind == ILLEGAL) & ~b.arrived
    trips = np.where(force, np.maximum(trips, 1), trips)
    trips = np.minimum(trips, span // 40)
    owner, j = explode(trips)
    slot = span[owner] // trips[owner]
    out = lo[owner] + j * slot + np.floor(rng.random(len(owner)) * (slot // 2)).astype(np.int64)
    length = uniform_int(rng, 3, np.minimum(45, slot // 2 - 1))
    back = out + length
    arrived = np.flatnonzero(b.arrived)
    dep = np.flatnonzero(b.kind == DEPARTED)
    person = np.concatenate([arrived, owner, owner, dep])
    date = np.concatenate([b.arrival[arrived], out, back, b.exit_day[dep]])
    direction = np.concatenate([np.zeros(len(arrived)), np.ones(len(owner)), np.zeros(len(owner)),
                                np.ones(len(dep))]).astype(np.int8)  # fmt: skip
    port = pick(rng, len(person), list(pf.PORTS.values()))
    return {"person": person, "date": date, "direction": direction, "port": port}


def addresses(b: Builder) -> dict[str, np.ndarray]:
    """A first report on arrival, then 0-3 moves; holders stay in their programme region
    unless they are movers, whose last report is outside it."""
    rng, a = b.rng_addr, b.as_of
    P = b.np_
    pilot = b.pilot_prog >= 0
    role = b.pilot_role
    start = np.minimum(b.first_vf + uniform_int(rng, 0, 14, P), a)
    move_day = np.full(P, NO_DAY, dtype=np.int64)
    movers = np.flatnonzero(role == MOVER)
    g = b.pilot_grant_day[movers]
    move_day[movers] = np.minimum(uniform_int(rng, g + 30, np.minimum(g + 240, a - 30)), a)
    b.mover_day = move_day
    end = np.where(b.kind == DEPARTED, b.exit_day - 10, np.minimum(b.legal_end, a - 45))
    end = np.where(role == MOVER, move_day - 10, end)
    probs = np.array([b.behaviour[v][3] for v in VISAS])
    moves = pick_by(rng, b.visa, probs)
    span = np.maximum(end - (start + 30), 0)
    moves = np.minimum(moves, span // 60)
    count = moves + 1
    owner, j = explode(count)
    slot = np.maximum(span[owner] // np.maximum(moves[owner], 1), 1)
    eff = np.where(
        j == 0,
        start[owner],
        start[owner] + 30 + (j - 1) * slot + np.floor(rng.random(len(owner)) * slot).astype(np.int64),
    )
    final = b.region[owner]
    home = np.where(pilot[owner], b.prog_region[owner], final)
    elsewhere = rng.random(len(owner)) < pf.INTER_REGION_MOVE
    random_region = pick(rng, len(owner), b.share)
    region = np.where((j == count[owner] - 1) | pilot[owner] | ~elsewhere, home, random_region)
    person = np.concatenate([owner, movers])
    eff = np.concatenate([eff, move_day[movers]])
    region = np.concatenate([region, b.region[movers]])
    m = len(person)
    late = rng.random(m) < pf.LATE_REPORT_SHARE
    delay = np.where(late, pf.REPORT_LIMIT_DAYS + 1 + np.minimum(rng.geometric(1 / 25, m) - 1, 180),
                     uniform_int(rng, 0, pf.REPORT_LIMIT_DAYS, m))  # fmt: skip
    reported = np.minimum(eff + delay, a)
    b.address_region = (person, eff, region)
    return {"person": person, "eff": eff, "reported": reported, "region": region,
            "area": district(b, rng, region)}  # fmt: skip


def district(b: Builder, rng, region: np.ndarray) -> np.ndarray:
    """Index into b.area_codes: the region code itself or one of its district codes."""
    codes, offsets, weights = [], [], []
    for c in b.codes:
        n = pf.REGION_PROFILE[c]["districts"]
        offsets.append(len(codes))
        codes.append(c)
        codes.extend(f"{c}{110 + 10 * round(k * 88 / max(n, 1)):03d}" for k in range(n))
        w = 1.0 / np.arange(1, n + 1) ** 0.8  # a few districts host most foreign residents
        weights.append(w / w.sum())
    b.area_codes = codes
    n = np.array([pf.REGION_PROFILE[c]["districts"] for c in b.codes])
    table = np.zeros((b.nreg, n.max()))
    for r, w in enumerate(weights):
        table[r, : len(w)] = w
    k = pick_by(rng, region, table)
    whole = rng.random(len(region)) < pf.REGION_LEVEL_ADDRESS_SHARE
    return np.array(offsets)[region] + np.where(whole, 0, 1 + k)
