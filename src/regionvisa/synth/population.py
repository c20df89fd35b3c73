"""Who the people are: kind, region, status and pilot role to the plan's counts, nationalities
fitted to both published margins, and the `person` table (names, birth dates, passports).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from regionvisa.synth import profiles as pf
from regionvisa.synth.arrays import apportion, dates, fit_joint, passports, pick_by, rank_within, uniform_int
from regionvisa.synth.plan import DEPARTED, ILLEGAL, ILLEGAL_ROW, LEGAL, MOVER, NV, OVERSTAYER, STAYER, VISAS, V

if TYPE_CHECKING:
    from regionvisa.synth.generate import Builder


def population(b: Builder) -> None:
    """Kind, final region, status and pilot role of every person, to the plan's counts."""
    rng, plan = b.rng_pop, b.plan
    n, nd = plan.residents, plan.departed
    b.n, b.np_ = n, n + nd
    region = rng.permutation(np.repeat(np.arange(b.nreg), plan.region_residents))
    illegal = rank_within(region) < plan.region_illegal[region]
    kind = np.where(illegal, ILLEGAL, LEGAL)
    b.pilot_prog = np.full(b.np_, -1, dtype=np.int64)
    b.pilot_role = np.zeros(b.np_, dtype=np.int8)
    b.prog_region = np.full(b.np_, -1, dtype=np.int64)
    taken = np.zeros(n, dtype=bool)
    capital = np.isin(region, [b.codes.index(c) for c in pf.CAPITAL_REGION])
    for p, row in enumerate(plan.pilot.iter_rows(named=True)):
        r = b.codes.index(row["region"])
        for role, count, pool in (
            (STAYER, row["stayers"], (region == r) & ~illegal),
            (OVERSTAYER, row["overstayers"], (region == r) & illegal),
            (MOVER, row["movers"], capital & (region != r) & ~illegal),
        ):
            candidates = np.flatnonzero(pool & ~taken)
            chosen = b.rng_pilot.choice(candidates, size=count, replace=False)
            taken[chosen] = True
            b.pilot_prog[chosen] = p
            b.pilot_role[chosen] = role
            b.prog_region[chosen] = r
    base = plan.pilot["base_visa"].to_list()
    b.pilot_base = np.array([V[b] for b in base])
    visa = np.full(b.np_, -1, dtype=np.int64)
    is_pilot = b.pilot_prog[:n] >= 0
    visa[:n][is_pilot] = b.pilot_base[b.pilot_prog[:n][is_pilot]]
    legal_counts = apportion(n - int(illegal.sum()), [pf.LEGAL_STATUS_COUNTS[v] for v in VISAS])
    pilot_legal = np.bincount(visa[:n][is_pilot & ~illegal], minlength=NV)
    rest = legal_counts - pilot_legal
    if (rest < 0).any():
        raise AssertionError("pilot holders exceed the status counts; plan_dataset should have scaled them")
    slots = np.flatnonzero(~illegal & ~is_pilot)
    visa[slots] = rng.permutation(np.repeat(np.arange(NV), rest))
    slots = np.flatnonzero(illegal & ~is_pilot)
    mix = [pf.ILLEGAL_LAST_STATUS.get(v, 0.0) for v in VISAS]
    visa[slots] = rng.permutation(np.repeat(np.arange(NV), apportion(len(slots), mix)))
    # former residents
    d_region = rng.permutation(np.repeat(np.arange(b.nreg), apportion(nd, plan.region_residents)))
    mix = [pf.DEPARTED_LAST_STATUS.get(v, 0.0) for v in VISAS]
    visa[n:] = rng.permutation(np.repeat(np.arange(NV), apportion(nd, mix)))
    b.kind = np.concatenate([kind, np.full(nd, DEPARTED)]).astype(np.int8)
    b.region = np.concatenate([region, d_region])
    b.visa = visa
    b.departed_overstayed = np.zeros(b.np_, dtype=bool)
    b.departed_overstayed[n:] = rng.random(nd) < pf.DEPARTED_OVERSTAYED


def nationalities(b: Builder) -> np.ndarray:
    """Nationality per person: status-by-nationality table fitted to both published margins."""
    rng, n = b.rng_nat, b.n
    names = list(pf.NATIONALITY_SHARES)
    other = 100.0 - sum(pf.NATIONALITY_SHARES.values())
    weights = list(pf.NATIONALITY_SHARES.values())
    ow = np.array(list(pf.OTHER_NATIONALITIES.values()))
    names += list(pf.OTHER_NATIONALITIES)
    weights += list(other * ow / ow.sum())
    b.nationality_codes = names
    row = np.where(b.kind == ILLEGAL, ILLEGAL_ROW, b.visa)
    row[b.n :][b.departed_overstayed[b.n :]] = ILLEGAL_ROW
    prior = np.zeros((NV + 1, len(names)))
    for r, key in enumerate([*VISAS, "illegal"]):
        spec = pf.NATIONALITY_AFFINITY[key]
        prior[r] = [spec.get(c, spec["default"]) for c in names]
    row_totals = np.bincount(row[:n], minlength=NV + 1)
    joint = fit_joint(prior, row_totals, apportion(n, weights))
    nat = np.zeros(b.np_, dtype=np.int64)
    for r in range(NV + 1):
        members = rng.permutation(np.flatnonzero(row[:n] == r))
        nat[members] = np.repeat(np.arange(len(names)), apportion(len(members), joint[r]))
    nat[n:] = pick_by(rng, row[n:], joint)
    return nat


def people(b: Builder, nat: np.ndarray) -> pl.DataFrame:
    rng = b.rng_person
    P = b.np_
    age = np.array([pf.AGE[v] for v in VISAS])
    lo, mode, hi, female = (age[b.visa, c] for c in range(4))
    years = rng.triangular(lo, mode, hi)
    birth = b.as_of - np.floor(years * 365.25).astype(np.int64) - uniform_int(rng, 0, 364, P)
    birth = np.minimum(birth, b.first_vf - 17 * 366)
    sex = np.where(rng.random(P) < female, "F", "M")
    # names
    groups = list(pf.NAME_GROUPS.values())
    group_of = {c: gi for gi, g in enumerate(groups) for c in g["nations"]}
    other = len(groups) - 1
    g_of_nat = np.array([group_of.get(c, other) for c in b.nationality_codes])
    g = g_of_nat[nat]
    parts = {}
    for key in ("family", "given_a", "given_b"):
        sizes = np.array([len(gr[key]) for gr in groups])
        offsets = np.cumsum(sizes) - sizes
        pick = offsets[g] + np.floor(rng.random(P) * sizes[g]).astype(np.int64)
        parts[key] = pl.Series([s for gr in groups for s in gr[key]]).gather(pick)
    sep = pl.Series([gr["sep"] for gr in groups]).gather(g)
    family_first = pl.Series([gr["family_first"] for gr in groups]).gather(g)
    given = parts["given_a"] + sep + parts["given_b"]
    names = pl.select(
        pl.when(family_first)
        .then(pl.concat_str(parts["family"], pl.lit(" "), given))
        .otherwise(pl.concat_str(given, pl.lit(" "), parts["family"]))
    ).to_series()
    return pl.DataFrame(
        {
            "name": names,
            "nationality": pl.Series(b.nationality_codes).gather(nat),
            "birth_date": dates(birth),
            "sex": sex,
            "passport_no": passports(rng, P),
        }
    )
