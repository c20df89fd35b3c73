"""The `status_grant` table: chains of up to three grants built backwards from the last one, the
pilot grants with their renewals and the statuses held before them, and each grant's region.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from regionvisa.synth import profiles as pf
from regionvisa.synth.arrays import NO_DAY, compact, dates, pick, pick_by, uniform_int
from regionvisa.synth.plan import DEPARTED, ILLEGAL, LEGAL, MOVER, OVERSTAYER, SUBTYPE_CODES, VISAS, V, subtype_table

if TYPE_CHECKING:
    from regionvisa.synth.generate import Builder


def duration(b: Builder, rng, visa: np.ndarray) -> np.ndarray:
    col = pick_by(rng, visa, b.dur_w)
    return b.dur_pad[visa, col]


def statuses(b: Builder) -> list[dict[str, np.ndarray]]:
    """Up to three grants per person, built backwards from the last one, plus pilot grants.

    Returns layers: dicts of arrays over the people who hold that grant, whose indexes are `_p`.
    """
    rng, a = b.rng_chain, b.as_of
    P = b.np_
    kind, visa = b.kind, b.visa
    pilot = b.pilot_prog >= 0
    d = duration(b, rng, visa)
    vf = np.zeros(P, dtype=np.int64)
    vt = np.zeros(P, dtype=np.int64)
    legal = kind == LEGAL
    vf[legal] = a - np.floor(rng.random(int(legal.sum())) * d[legal]).astype(np.int64)
    vt[legal] = vf[legal] + d[legal] - 1
    ill = kind == ILLEGAL
    n_ill = int(ill.sum())
    # overstay length: a third within a year, the rest back to the early window
    short = rng.random(n_ill) < 0.35
    over = np.where(short, uniform_int(rng, 1, 365, n_ill), uniform_int(rng, 366, a - (b.w0 + 200), n_ill))
    vt[ill] = a - over
    vf[ill] = vt[ill] - d[ill] + 1
    dep = kind == DEPARTED
    n_dep = int(dep.sum())
    b.exit_day = np.full(P, NO_DAY, dtype=np.int64)
    x = uniform_int(rng, b.w0 + 200, a - 1, n_dep)
    b.exit_day[dep] = x
    # most leave before their status ends; some leave after overstaying
    end = np.where(
        b.departed_overstayed[dep],
        x - uniform_int(rng, 30, 700, n_dep),
        x + uniform_int(rng, 0, 120, n_dep),
    )
    vt[dep] = np.maximum(end, b.w0 + 30)
    vf[dep] = vt[dep] - d[dep] + 1
    sub_table = subtype_table(pf.SUBTYPES, list(VISAS))
    sub = pick_by(rng, visa, sub_table)

    k = pick_by(rng, visa, b.grant_count) + 1
    nxt = {"visa": visa, "sub": sub, "vf": vf, "vt": vt, "prog": np.full(P, -1), "present": ~pilot}
    layers = []
    kept_all = np.ones(P, dtype=bool)
    run_start = vf.copy()  # start of the unbroken run of the last visa (when work could begin)
    same = np.ones(P, dtype=bool)
    for depth in (2, 3):
        want = (k >= depth) & nxt["present"]
        pv = pick_by(rng, nxt["visa"], b.prev)
        pvt = nxt["vf"] - 1
        pvf = pvt - duration(b, rng, pv) + 1
        keep = want & (pvt >= b.w0)  # grants that ended before the window are not on record
        kept_all &= ~(want & ~keep)
        psub = np.where(pv == nxt["visa"], nxt["sub"], pick_by(rng, pv, sub_table))
        layer = {"visa": pv, "sub": psub, "vf": pvf, "vt": pvt, "prog": np.full(P, -1), "present": keep}
        same &= keep & (pv == visa)
        run_start = np.where(same, pvf, run_start)
        layers.append(compact(nxt))  # person-length layers are dropped as soon as possible
        nxt = layer
    layers.append(compact(nxt))
    del nxt, layer, want, pv, pvt, pvf, keep, psub, same, k, d, sub
    layers.extend(pilot_layers(b))
    first_vf = np.full(P, np.iinfo(np.int64).max)
    last_vt = np.full(P, np.iinfo(np.int64).min)
    for layer in layers:
        np.minimum.at(first_vf, layer["_p"], layer["vf"])
        np.maximum.at(last_vt, layer["_p"], layer["vt"])
    b.first_vf = first_vf
    # someone whose whole chain is on record and starts inside the window arrived then
    b.arrived = kept_all & (first_vf >= b.w0)
    b.arrival = np.where(b.arrived, first_vf, NO_DAY)
    for layer in layers:
        if "granted" in layer:
            continue
        # a visa is issued abroad before an arrival; renewals and changes shortly before they start
        p = layer["_p"]
        first = b.arrived[p] & (layer["vf"] == first_vf[p])
        lead = np.where(first, uniform_int(rng, 20, 90, P)[p], uniform_int(rng, 0, 40, P)[p])
        layer["granted"] = layer["vf"] - lead
    b.legal_end = np.where(kind == LEGAL, a, np.where(kind == ILLEGAL, last_vt, b.exit_day))
    b.obs_start = np.where(b.arrived, first_vf, np.maximum(first_vf, b.w0))
    b.run_start = run_start
    return layers


def pilot_layers(b: Builder) -> list[dict[str, np.ndarray]]:
    """Pilot grant, its renewal once the first term is over, and the status held before it."""
    rng, a = b.rng_pilot, b.as_of
    P = b.np_
    prog = b.pilot_prog
    pilot = prog >= 0
    plan = b.plan.pilot
    role = b.pilot_role
    over = role == OVERSTAYER
    # overstayers' grants are old enough to have run out; movers' leave time to move away
    high = np.where(over, max(b.pilot_start, a - 380), np.where(role == MOVER, a - 120, a - 14))
    g = np.where(pilot, uniform_int(rng, b.pilot_start, np.maximum(high, b.pilot_start), P), NO_DAY)
    vf = np.minimum(g + uniform_int(rng, 0, 10, P), a)
    days = np.array([pf.PILOT_GRANT_DAYS.get(p, 365) for p in plan["program_id"]])
    length = days[np.maximum(prog, 0)]
    vt = vf + length - 1
    vt = np.where(over, np.minimum(vt, a - 5), vt)
    keys = [("D-2" if b == "D-2" else pid) for pid, b in zip(plan["program_id"], plan["base_visa"], strict=True)]
    sub = pick_by(rng, np.maximum(prog, 0), subtype_table(pf.PILOT_SUBTYPES, keys))
    visa = b.pilot_base[np.maximum(prog, 0)]
    b.pilot_grant_day = g
    initial = {"visa": visa, "sub": sub, "vf": vf, "vt": vt, "prog": prog, "present": pilot, "granted": g}
    renew = pilot & ~over & (vt < a)
    renewal = {
        "visa": visa, "sub": sub, "vf": vt + 1, "vt": vt + length, "prog": prog, "present": renew,
        "granted": np.maximum(vt - uniform_int(rng, 0, 30, P), g + 1),
    }  # fmt: skip
    # the status held before, for holders who changed status inside Korea
    pv = np.zeros(P, dtype=np.int64)
    conv = np.zeros(P, dtype=bool)
    u = rng.random(P)
    for base, (share, previous) in pf.PILOT_CONVERSION.items():
        mask = pilot & (visa == V[base])
        conv |= mask & (u < share)
        pv[mask] = pick(rng, int(mask.sum()), [previous.get(v, 0.0) for v in VISAS])
    pvt = vf - 1
    pvf = pvt - duration(b, rng, pv) + 1
    psub = pick_by(rng, pv, subtype_table(pf.SUBTYPES, list(VISAS)))
    before = {"visa": pv, "sub": psub, "vf": pvf, "vt": pvt, "prog": np.full(P, -1), "present": conv}
    b.visa = np.where(pilot, visa, b.visa)
    return [compact(initial), compact(renewal), compact(before)]


def status_frame(b: Builder, layers, number) -> pl.DataFrame:
    """All grant layers as one frame. A grant's region is that of the address in force when
    it was granted (the first address for a visa issued before arrival), or the programme's."""
    cols = {key: np.concatenate([layer[key] for layer in layers]) for key in ("_p", "visa", "sub", "prog", "vf",
                                                                               "vt", "granted")}  # fmt: skip
    # the address in force on the grant date: one searchsorted over (person, date) keys
    person, eff, region = b.address_region
    shift = 1 << 22  # day numbers fit in 22 bits with room either side of 1970
    keys = person.astype(np.int64) * (2 * shift) + (eff + shift)
    order = np.argsort(keys, kind="stable")
    keys, a_person, a_region = keys[order], person[order], region[order]
    at = np.searchsorted(keys, cols["_p"] * (2 * shift) + (cols["granted"] + shift), side="right") - 1
    found = (at >= 0) & (a_person[np.maximum(at, 0)] == cols["_p"])
    first = np.searchsorted(a_person, cols["_p"], side="left")  # before any address: the first one
    regions = np.where(found, a_region[np.maximum(at, 0)], a_region[np.minimum(first, len(a_region) - 1)])
    regions = np.where(cols["prog"] >= 0, b.prog_region[cols["_p"]], regions)
    del keys, order, a_person, a_region, at, found, first
    program_ids = pl.Series([*b.plan.pilot["program_id"].to_list(), None], dtype=pl.String)
    subtypes = pl.Series([s or None for s in SUBTYPE_CODES], dtype=pl.String)
    return pl.DataFrame(
        {
            "_n": number[cols["_p"]],
            "visa": pl.Series(list(VISAS)).gather(cols["visa"]),
            "subtype": subtypes.gather(cols["sub"]),
            "program_id": program_ids.gather(cols["prog"] % len(program_ids)),
            "region": pl.Series(list(b.codes)).gather(regions),
            "valid_from": dates(cols["vf"]),
            "valid_to": dates(cols["vt"]),
            "granted_on": dates(cols["granted"]),
        }
    ).sort("_n", "valid_from")
