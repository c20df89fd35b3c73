"""The codes and the fixed counts a synthetic dataset is built to (`Plan`, `plan_dataset`), and the
profiles as arrays indexed by visa and subtype code position.

Counts that the tests check (regions, statuses, illegal stayers, pilot holders) are fixed by
largest-remainder apportionment rather than sampled, so they hold at any size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from regionvisa.regions.service import pilot_programmes, regions_frame
from regionvisa.synth import profiles as pf
from regionvisa.synth.arrays import apportion, half_up

VISAS = pf.VISAS
V = {v: i for i, v in enumerate(VISAS)}
NV = len(VISAS)
ILLEGAL_ROW = NV  # nationality-fitting row for illegal stayers

# kinds of person
LEGAL, ILLEGAL, DEPARTED = 0, 1, 2
# pilot roles
STAYER, MOVER, OVERSTAYER = 1, 2, 3


@dataclass(frozen=True)
class Plan:
    """The fixed counts a dataset is built to: what the tests and the evaluation can rely on."""

    residents: int
    departed: int
    region_codes: tuple[str, ...]
    region_residents: np.ndarray
    region_illegal: np.ndarray
    pilot: pl.DataFrame  # program_id, region, base_visa, quota, fill, holders, stayers, movers, overstayers
    pilot_scale: float


def profile_tables():
    """Profile dictionaries as arrays indexed by visa code position."""
    dur_vals = [np.array(pf.DURATIONS[v][0], dtype=np.int64) for v in VISAS]
    dur_w = np.zeros((NV, max(len(d) for d in dur_vals)))
    for i, v in enumerate(VISAS):
        dur_w[i, : len(pf.DURATIONS[v][1])] = pf.DURATIONS[v][1]
    dur_pad = np.zeros_like(dur_w, dtype=np.int64)
    for i, d in enumerate(dur_vals):
        dur_pad[i, : len(d)] = d
    grant_count = np.array([pf.GRANT_COUNT[v] for v in VISAS])
    prev = np.array([[pf.PREVIOUS_STATUS[v].get(w, 0.0) for w in VISAS] for v in VISAS])
    behaviour = {v: pf.BEHAVIOUR[v] for v in VISAS}
    return dur_pad, dur_w, grant_count, prev, behaviour


SUBTYPE_CODES = ("", *sorted({s for table in (pf.SUBTYPES, pf.PILOT_SUBTYPES) for s in
                              (k for sub in table.values() for k in sub) if s}))  # fmt: skip
S = {s: i for i, s in enumerate(SUBTYPE_CODES)}


def subtype_table(spec: dict[str, dict[str, float]], keys: list[str]) -> np.ndarray:
    table = np.zeros((len(keys), len(SUBTYPE_CODES)))
    for i, key in enumerate(keys):
        for sub, w in spec.get(key, {"": 1.0}).items():
            table[i, S[sub]] = w
    return table


def plan_dataset(residents: int) -> Plan:
    """Fixed counts for a dataset of `residents`: per region, illegal stayers, pilot holders."""
    regions = regions_frame().sort("code")
    codes = tuple(regions["code"].to_list())
    share = regions["foreign_residents_2024"].to_numpy().astype(np.float64)
    per_region = apportion(residents, share)
    illegal_total = half_up(residents * pf.ILLEGAL_SHARE)
    mult = np.array([pf.REGION_PROFILE[c]["illegal"] for c in codes])
    per_region_illegal = np.minimum(apportion(illegal_total, per_region * mult), per_region)
    per_region_illegal[np.argmax(per_region)] += illegal_total - per_region_illegal.sum()

    programmes = pilot_programmes().sort("program_id")
    beh = pf.PILOT_REGION_BEHAVIOUR
    fill = np.array([beh[r][0] for r in programmes["region"]])
    move = np.array([beh[r][2] for r in programmes["region"]])
    over = np.array([beh[r][3] for r in programmes["region"]])
    wanted = programmes["quota"].to_numpy() * fill
    legal_region = per_region - per_region_illegal
    idx = np.array([codes.index(r) for r in programmes["region"]])
    legal_counts = apportion(residents - illegal_total, [pf.LEGAL_STATUS_COUNTS[v] for v in VISAS])
    base = programmes["base_visa"].to_numpy()
    limits = [pf.PILOT_MAX_SHARE * residents / max(wanted.sum(), 1e-9)]
    for r in np.unique(idx):
        mask = idx == r
        limits.append(0.5 * legal_region[r] / max((wanted[mask] * (1 - over[mask])).sum(), 1e-9))
        if (wanted[mask] * over[mask]).sum() > 0:
            limits.append(0.5 * per_region_illegal[r] / (wanted[mask] * over[mask]).sum())
    for visa in ("D-2", "E-7"):
        mask = base == visa
        limits.append(0.6 * legal_counts[V[visa]] / max(wanted[mask].sum(), 1e-9))
    capital = [codes.index(c) for c in pf.CAPITAL_REGION]
    limits.append(0.3 * legal_region[capital].sum() / max((wanted * move).sum(), 1e-9))
    scale = float(min(1.0, *limits))
    holders = np.array([half_up(w * scale) for w in wanted], dtype=np.int64)
    overstayers = np.array([half_up(h * o) for h, o in zip(holders, over, strict=True)], dtype=np.int64)
    movers = np.minimum(np.array([half_up(h * m) for h, m in zip(holders, move, strict=True)]), holders - overstayers)
    pilot = programmes.select("program_id", "region", "base_visa", "quota").with_columns(
        pl.Series("fill", fill),
        pl.Series("holders", holders),
        pl.Series("stayers", holders - movers - overstayers),
        pl.Series("movers", movers),
        pl.Series("overstayers", overstayers),
    )
    departed = half_up(residents * pf.DEPARTED_SHARE)
    return Plan(residents, departed, codes, per_region, per_region_illegal, pilot, scale)
