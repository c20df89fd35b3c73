"""Pure generation of the synthetic national dataset: NumPy arrays in, one Polars frame per table out.

Nothing here touches a database or the clock. Every random draw comes from streams spawned from
one `SeedSequence(seed)` in a fixed order, so the same (residents, seed, as_of) gives
byte-identical frames. Work is done on whole arrays; the only Python loops run over the 17
regions, the 15 pilot programmes, the 12 statuses or a handful of layers, never over people.

Who is in the data:
- `residents` foreign residents on `as_of` in the sense the statistics use (a status granted on
  or before the date, last movement up to the date not an exit); exactly ILLEGAL_SHARE of them
  (rounded) hold no status covering the date and are illegal stayers;
- DEPARTED_SHARE x residents former residents whose last movement is an exit.
Counts that the tests check (regions, statuses, illegal stayers, pilot holders) are fixed by
largest-remainder apportionment rather than sampled, so they hold at any size.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl

from regionvisa.regions.service import pilot_programmes, regions_frame
from regionvisa.synth import profiles as pf

TABLES = ("person", "status_grant", "address_report", "movement", "kiip_record", "employment")
COLUMNS = {
    "person": ["person_id", "name", "nationality", "birth_date", "sex", "passport_no"],
    "status_grant": ["person_id", "visa", "subtype", "program_id", "region", "valid_from", "valid_to", "granted_on"],
    "address_report": ["person_id", "area_code", "effective_date", "reported_date"],
    "movement": ["person_id", "direction", "date", "port"],
    "kiip_record": ["person_id", "level", "enrolled_on", "completed_on"],
    "employment": ["person_id", "employer_id", "employer_region", "start_date", "end_date"],
}
EPOCH = dt.date(1970, 1, 1)
NO_DAY = -(10**6)  # "no date" in day-number arrays (births before 1970 are negative days)
VISAS = pf.VISAS
V = {v: i for i, v in enumerate(VISAS)}
NV = len(VISAS)
ILLEGAL_ROW = NV  # nationality-fitting row for illegal stayers

# kinds of person
LEGAL, ILLEGAL, DEPARTED = 0, 1, 2
# pilot roles
STAYER, MOVER, OVERSTAYER = 1, 2, 3


def day(d: dt.date) -> int:
    return (d - EPOCH).days


def apportion(total: int, weights) -> np.ndarray:
    """Largest-remainder split of `total` in proportion to `weights` (ties to the lower index)."""
    w = np.asarray(weights, dtype=np.float64)
    out = np.zeros(len(w), dtype=np.int64)
    if total <= 0 or w.sum() <= 0:
        return out
    exact = total * w / w.sum()
    out = np.floor(exact).astype(np.int64)
    short = int(total - out.sum())
    if short:
        order = np.argsort(-(exact - out), kind="stable")
        out[order[:short]] += 1
    return out


def half_up(x: float) -> int:
    return int(np.floor(x + 0.5))


def fit_joint(prior: np.ndarray, rows: np.ndarray, cols: np.ndarray, iterations: int = 500) -> np.ndarray:
    """Iterative proportional fitting: the table closest to `prior` with these row and column sums."""
    m = prior.astype(np.float64).copy()
    rows = rows.astype(np.float64)
    cols = cols.astype(np.float64)
    for _ in range(iterations):
        rs = m.sum(axis=1)
        m *= np.divide(rows, rs, out=np.zeros_like(rows), where=rs > 0)[:, None]
        cs = m.sum(axis=0)
        m *= np.divide(cols, cs, out=np.zeros_like(cols), where=cs > 0)[None, :]
    return m


def _uniform_int(rng: np.random.Generator, low, high, n: int | None = None) -> np.ndarray:
    """Integers in [low, high] inclusive, element-wise (high < low gives low)."""
    low = np.asarray(low, dtype=np.int64)
    high = np.maximum(np.asarray(high, dtype=np.int64), low)
    shape = np.broadcast_shapes(low.shape, high.shape, (n,) if n is not None else ())
    return low + np.floor(rng.random(shape) * (high - low + 1)).astype(np.int64)


def _pick(rng: np.random.Generator, n: int, probs) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    cum = np.cumsum(p / p.sum())
    cum[-1] = 1.0
    return np.searchsorted(cum, rng.random(n), side="right")


def _pick_by(rng: np.random.Generator, cls: np.ndarray, table: np.ndarray) -> np.ndarray:
    """For each element, a column index drawn from row `cls` of `table` (rows are weights).

    One searchsorted over the rows' cumulative weights laid end to end, row r spanning (r, r+1].
    """
    table = np.asarray(table, dtype=np.float64)
    rows, k = table.shape
    sums = table.sum(axis=1, keepdims=True)
    w = np.divide(table, sums, out=np.zeros_like(table), where=sums > 0)
    w[sums[:, 0] <= 0, 0] = 1.0
    cum = np.minimum(np.cumsum(w, axis=1), 1.0)
    cum[np.arange(rows), np.argmax(cum >= 1.0 - 1e-12, axis=1)] = 1.0
    cum[cum >= 1.0] = 1.0
    flat = (cum + np.arange(rows)[:, None]).ravel()
    cls = np.asarray(cls, dtype=np.int64)
    pos = np.searchsorted(flat, cls + rng.random(len(cls)), side="right")
    return np.minimum(pos - cls * k, k - 1)


def _explode(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner index, position within owner) for `counts[i]` rows per owner i."""
    counts = counts.astype(np.int64)
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    pos = np.arange(len(owner)) - np.repeat(starts, counts)
    return owner, pos


def _rank_within(groups: np.ndarray) -> np.ndarray:
    """0-based position of each element among the elements of its group, in index order."""
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    first = np.searchsorted(sorted_groups, sorted_groups, side="left")
    rank = np.empty(len(groups), dtype=np.int64)
    rank[order] = np.arange(len(groups)) - first
    return rank


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


def _tables():
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


def _subtype_table(spec: dict[str, dict[str, float]], keys: list[str]) -> np.ndarray:
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


def _check_args(residents: int, as_of: dt.date) -> None:
    if not isinstance(residents, int | np.integer) or residents < 100:
        raise ValueError(f"residents must be an integer of at least 100 (got {residents!r})")
    if residents > 99_999_999 / (1 + pf.DEPARTED_SHARE):
        raise ValueError(f"residents {residents:,} would not fit 8-digit person ids")
    if not dt.date(2025, 10, 1) <= as_of <= dt.date(2030, 12, 31):
        raise ValueError(f"as_of must lie between 2025-10-01 and 2030-12-31 (got {as_of}): the 2025 pilot must "
                         "have run for a while before the reference date")  # fmt: skip


def generate_dataset(residents: int, seed: int, as_of: dt.date = pf.AS_OF) -> dict[str, pl.DataFrame]:
    """The six records tables for `residents` foreign residents on `as_of`, reproducible from `seed`.

    Columns are exactly the table columns (no autoincrement `id`); rows are sorted by person
    and date, the order in which they load fastest.
    """
    tables = dict(generate_tables(residents, seed, as_of))
    return {name: tables[name] for name in TABLES}


def generate_tables(residents: int, seed: int, as_of: dt.date = pf.AS_OF) -> Iterator[tuple[str, pl.DataFrame]]:
    """The same frames as `generate_dataset`, each yielded as soon as it is finished (a loader
    can write one table while the next is generated). The order is not that of TABLES."""
    _check_args(residents, as_of)
    plan = plan_dataset(int(residents))
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(10)]
    return _Builder(plan, streams, as_of).build()


class _Builder:
    """Builds the frames step by step over person-level arrays (index i = one person)."""

    def __init__(self, plan: Plan, streams: list[np.random.Generator], as_of: dt.date):
        self.plan = plan
        self.rng_pop, self.rng_chain, self.rng_pilot, self.rng_move, self.rng_addr = streams[:5]
        self.rng_kiip, self.rng_emp, self.rng_person, self.rng_nat, self.rng_order = streams[5:]
        self.as_of = day(as_of)
        self.w0 = day(pf.WINDOW_START)
        self.pilot_start = day(pf.PILOT_START)
        self.codes = plan.region_codes
        self.nreg = len(self.codes)
        self.share = plan.region_residents / plan.region_residents.sum()
        self.dur_pad, self.dur_w, self.grant_count, self.prev, self.behaviour = _tables()

    # ------------------------------------------------------------------ population
    def population(self) -> None:
        """Kind, final region, status and pilot role of every person, to the plan's counts."""
        rng, plan = self.rng_pop, self.plan
        n, nd = plan.residents, plan.departed
        self.n, self.np_ = n, n + nd
        region = rng.permutation(np.repeat(np.arange(self.nreg), plan.region_residents))
        illegal = _rank_within(region) < plan.region_illegal[region]
        kind = np.where(illegal, ILLEGAL, LEGAL)
        self.pilot_prog = np.full(self.np_, -1, dtype=np.int64)
        self.pilot_role = np.zeros(self.np_, dtype=np.int8)
        self.prog_region = np.full(self.np_, -1, dtype=np.int64)
        taken = np.zeros(n, dtype=bool)
        capital = np.isin(region, [self.codes.index(c) for c in pf.CAPITAL_REGION])
        for p, row in enumerate(plan.pilot.iter_rows(named=True)):
            r = self.codes.index(row["region"])
            for role, count, pool in (
                (STAYER, row["stayers"], (region == r) & ~illegal),
                (OVERSTAYER, row["overstayers"], (region == r) & illegal),
                (MOVER, row["movers"], capital & (region != r) & ~illegal),
            ):
                candidates = np.flatnonzero(pool & ~taken)
                chosen = self.rng_pilot.choice(candidates, size=count, replace=False)
                taken[chosen] = True
                self.pilot_prog[chosen] = p
                self.pilot_role[chosen] = role
                self.prog_region[chosen] = r
        base = plan.pilot["base_visa"].to_list()
        self.pilot_base = np.array([V[b] for b in base])
        visa = np.full(self.np_, -1, dtype=np.int64)
        is_pilot = self.pilot_prog[:n] >= 0
        visa[:n][is_pilot] = self.pilot_base[self.pilot_prog[:n][is_pilot]]
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
        d_region = rng.permutation(np.repeat(np.arange(self.nreg), apportion(nd, plan.region_residents)))
        mix = [pf.DEPARTED_LAST_STATUS.get(v, 0.0) for v in VISAS]
        visa[n:] = rng.permutation(np.repeat(np.arange(NV), apportion(nd, mix)))
        self.kind = np.concatenate([kind, np.full(nd, DEPARTED)]).astype(np.int8)
        self.region = np.concatenate([region, d_region])
        self.visa = visa
        self.departed_overstayed = np.zeros(self.np_, dtype=bool)
        self.departed_overstayed[n:] = rng.random(nd) < pf.DEPARTED_OVERSTAYED

    def nationalities(self) -> np.ndarray:
        """Nationality per person: status-by-nationality table fitted to both published margins."""
        rng, n = self.rng_nat, self.n
        names = list(pf.NATIONALITY_SHARES)
        other = 100.0 - sum(pf.NATIONALITY_SHARES.values())
        weights = list(pf.NATIONALITY_SHARES.values())
        ow = np.array(list(pf.OTHER_NATIONALITIES.values()))
        names += list(pf.OTHER_NATIONALITIES)
        weights += list(other * ow / ow.sum())
        self.nationality_codes = names
        row = np.where(self.kind == ILLEGAL, ILLEGAL_ROW, self.visa)
        row[self.n :][self.departed_overstayed[self.n :]] = ILLEGAL_ROW
        prior = np.zeros((NV + 1, len(names)))
        for r, key in enumerate([*VISAS, "illegal"]):
            spec = pf.NATIONALITY_AFFINITY[key]
            prior[r] = [spec.get(c, spec["default"]) for c in names]
        row_totals = np.bincount(row[:n], minlength=NV + 1)
        joint = fit_joint(prior, row_totals, apportion(n, weights))
        nat = np.zeros(self.np_, dtype=np.int64)
        for r in range(NV + 1):
            members = rng.permutation(np.flatnonzero(row[:n] == r))
            nat[members] = np.repeat(np.arange(len(names)), apportion(len(members), joint[r]))
        nat[n:] = _pick_by(rng, row[n:], joint)
        return nat

    # ------------------------------------------------------------------ statuses
    def _duration(self, rng, visa: np.ndarray) -> np.ndarray:
        col = _pick_by(rng, visa, self.dur_w)
        return self.dur_pad[visa, col]

    def statuses(self) -> list[dict[str, np.ndarray]]:
        """Up to three grants per person, built backwards from the last one, plus pilot grants.

        Returns layers: dicts of arrays over the people who hold that grant, whose indexes are `_p`.
        """
        rng, a = self.rng_chain, self.as_of
        P = self.np_
        kind, visa = self.kind, self.visa
        pilot = self.pilot_prog >= 0
        d = self._duration(rng, visa)
        vf = np.zeros(P, dtype=np.int64)
        vt = np.zeros(P, dtype=np.int64)
        legal = kind == LEGAL
        vf[legal] = a - np.floor(rng.random(int(legal.sum())) * d[legal]).astype(np.int64)
        vt[legal] = vf[legal] + d[legal] - 1
        ill = kind == ILLEGAL
        n_ill = int(ill.sum())
        # overstay length: a third within a year, the rest back to the early window
        short = rng.random(n_ill) < 0.35
        over = np.where(short, _uniform_int(rng, 1, 365, n_ill), _uniform_int(rng, 366, a - (self.w0 + 200), n_ill))
        vt[ill] = a - over
        vf[ill] = vt[ill] - d[ill] + 1
        dep = kind == DEPARTED
        n_dep = int(dep.sum())
        self.exit_day = np.full(P, NO_DAY, dtype=np.int64)
        x = _uniform_int(rng, self.w0 + 200, a - 1, n_dep)
        self.exit_day[dep] = x
        # most leave before their status ends; some leave after overstaying
        end = np.where(
            self.departed_overstayed[dep],
            x - _uniform_int(rng, 30, 700, n_dep),
            x + _uniform_int(rng, 0, 120, n_dep),
        )
        vt[dep] = np.maximum(end, self.w0 + 30)
        vf[dep] = vt[dep] - d[dep] + 1
        sub_table = _subtype_table(pf.SUBTYPES, list(VISAS))
        sub = _pick_by(rng, visa, sub_table)

        k = _pick_by(rng, visa, self.grant_count) + 1
        nxt = {"visa": visa, "sub": sub, "vf": vf, "vt": vt, "prog": np.full(P, -1), "present": ~pilot}
        layers = []
        kept_all = np.ones(P, dtype=bool)
        run_start = vf.copy()  # start of the unbroken run of the last visa (when work could begin)
        same = np.ones(P, dtype=bool)
        for depth in (2, 3):
            want = (k >= depth) & nxt["present"]
            pv = _pick_by(rng, nxt["visa"], self.prev)
            pvt = nxt["vf"] - 1
            pvf = pvt - self._duration(rng, pv) + 1
            keep = want & (pvt >= self.w0)  # grants that ended before the window are not on record
            kept_all &= ~(want & ~keep)
            psub = np.where(pv == nxt["visa"], nxt["sub"], _pick_by(rng, pv, sub_table))
            layer = {"visa": pv, "sub": psub, "vf": pvf, "vt": pvt, "prog": np.full(P, -1), "present": keep}
            same &= keep & (pv == visa)
            run_start = np.where(same, pvf, run_start)
            layers.append(_compact(nxt))  # person-length layers are dropped as soon as possible
            nxt = layer
        layers.append(_compact(nxt))
        del nxt, layer, want, pv, pvt, pvf, keep, psub, same, k, d, sub
        layers.extend(self._pilot_layers())
        first_vf = np.full(P, np.iinfo(np.int64).max)
        last_vt = np.full(P, np.iinfo(np.int64).min)
        for layer in layers:
            np.minimum.at(first_vf, layer["_p"], layer["vf"])
            np.maximum.at(last_vt, layer["_p"], layer["vt"])
        self.first_vf = first_vf
        # someone whose whole chain is on record and starts inside the window arrived then
        self.arrived = kept_all & (first_vf >= self.w0)
        self.arrival = np.where(self.arrived, first_vf, NO_DAY)
        for layer in layers:
            if "granted" in layer:
                continue
            # a visa is issued abroad before an arrival; renewals and changes shortly before they start
            p = layer["_p"]
            first = self.arrived[p] & (layer["vf"] == first_vf[p])
            lead = np.where(first, _uniform_int(rng, 20, 90, P)[p], _uniform_int(rng, 0, 40, P)[p])
            layer["granted"] = layer["vf"] - lead
        self.legal_end = np.where(kind == LEGAL, a, np.where(kind == ILLEGAL, last_vt, self.exit_day))
        self.obs_start = np.where(self.arrived, first_vf, np.maximum(first_vf, self.w0))
        self.run_start = run_start
        return layers

    def _pilot_layers(self) -> list[dict[str, np.ndarray]]:
        """Pilot grant, its renewal once the first term is over, and the status held before it."""
        rng, a = self.rng_pilot, self.as_of
        P = self.np_
        prog = self.pilot_prog
        pilot = prog >= 0
        plan = self.plan.pilot
        role = self.pilot_role
        over = role == OVERSTAYER
        # overstayers' grants are old enough to have run out; movers' leave time to move away
        high = np.where(over, max(self.pilot_start, a - 380), np.where(role == MOVER, a - 120, a - 14))
        g = np.where(pilot, _uniform_int(rng, self.pilot_start, np.maximum(high, self.pilot_start), P), NO_DAY)
        vf = np.minimum(g + _uniform_int(rng, 0, 10, P), a)
        days = np.array([pf.PILOT_GRANT_DAYS.get(p, 365) for p in plan["program_id"]])
        length = days[np.maximum(prog, 0)]
        vt = vf + length - 1
        vt = np.where(over, np.minimum(vt, a - 5), vt)
        keys = [("D-2" if b == "D-2" else pid) for pid, b in zip(plan["program_id"], plan["base_visa"], strict=True)]
        sub = _pick_by(rng, np.maximum(prog, 0), _subtype_table(pf.PILOT_SUBTYPES, keys))
        visa = self.pilot_base[np.maximum(prog, 0)]
        self.pilot_grant_day = g
        initial = {"visa": visa, "sub": sub, "vf": vf, "vt": vt, "prog": prog, "present": pilot, "granted": g}
        renew = pilot & ~over & (vt < a)
        renewal = {
            "visa": visa, "sub": sub, "vf": vt + 1, "vt": vt + length, "prog": prog, "present": renew,
            "granted": np.maximum(vt - _uniform_int(rng, 0, 30, P), g + 1),
        }  # fmt: skip
        # the status held before, for holders who changed status inside Korea
        pv = np.zeros(P, dtype=np.int64)
        conv = np.zeros(P, dtype=bool)
        u = rng.random(P)
        for base, (share, previous) in pf.PILOT_CONVERSION.items():
            mask = pilot & (visa == V[base])
            conv |= mask & (u < share)
            pv[mask] = _pick(rng, int(mask.sum()), [previous.get(v, 0.0) for v in VISAS])
        pvt = vf - 1
        pvf = pvt - self._duration(rng, pv) + 1
        psub = _pick_by(rng, pv, _subtype_table(pf.SUBTYPES, list(VISAS)))
        before = {"visa": pv, "sub": psub, "vf": pvf, "vt": pvt, "prog": np.full(P, -1), "present": conv}
        self.visa = np.where(pilot, visa, self.visa)
        return [_compact(initial), _compact(renewal), _compact(before)]

    # ------------------------------------------------------------------ movements
    def movements(self) -> dict[str, np.ndarray]:
        """Arrival entries, round trips inside the legal stay, final exits of those who left."""
        rng, a = self.rng_move, self.as_of
        rate = np.array([self.behaviour[v][2] for v in VISAS])[self.visa]
        lo = self.obs_start + 20
        hi = np.where(self.kind == DEPARTED, self.exit_day, np.minimum(self.legal_end, a - 3)) - 5
        span = np.maximum(hi - lo, 0)
        trips = np.minimum(rng.poisson(rate * span / 365.25), 3)
        # illegal stayers who came before the window still need an entry on record
        force = (self.kind == ILLEGAL) & ~self.arrived
        trips = np.where(force, np.maximum(trips, 1), trips)
        trips = np.minimum(trips, span // 40)
        owner, j = _explode(trips)
        slot = span[owner] // trips[owner]
        out = lo[owner] + j * slot + np.floor(rng.random(len(owner)) * (slot // 2)).astype(np.int64)
        length = _uniform_int(rng, 3, np.minimum(45, slot // 2 - 1))
        back = out + length
        arrived = np.flatnonzero(self.arrived)
        dep = np.flatnonzero(self.kind == DEPARTED)
        person = np.concatenate([arrived, owner, owner, dep])
        date = np.concatenate([self.arrival[arrived], out, back, self.exit_day[dep]])
        direction = np.concatenate([np.zeros(len(arrived)), np.ones(len(owner)), np.zeros(len(owner)),
                                    np.ones(len(dep))]).astype(np.int8)  # fmt: skip
        port = _pick(rng, len(person), list(pf.PORTS.values()))
        return {"person": person, "date": date, "direction": direction, "port": port}

    # ------------------------------------------------------------------ addresses
    def addresses(self) -> dict[str, np.ndarray]:
        """A first report on arrival, then 0-3 moves; holders stay in their programme region
        unless they are movers, whose last report is outside it."""
        rng, a = self.rng_addr, self.as_of
        P = self.np_
        pilot = self.pilot_prog >= 0
        role = self.pilot_role
        start = np.minimum(self.first_vf + _uniform_int(rng, 0, 14, P), a)
        move_day = np.full(P, NO_DAY, dtype=np.int64)
        movers = np.flatnonzero(role == MOVER)
        g = self.pilot_grant_day[movers]
        move_day[movers] = np.minimum(_uniform_int(rng, g + 30, np.minimum(g + 240, a - 30)), a)
        self.mover_day = move_day
        end = np.where(self.kind == DEPARTED, self.exit_day - 10, np.minimum(self.legal_end, a - 45))
        end = np.where(role == MOVER, move_day - 10, end)
        probs = np.array([self.behaviour[v][3] for v in VISAS])
        moves = _pick_by(rng, self.visa, probs)
        span = np.maximum(end - (start + 30), 0)
        moves = np.minimum(moves, span // 60)
        count = moves + 1
        owner, j = _explode(count)
        slot = np.maximum(span[owner] // np.maximum(moves[owner], 1), 1)
        eff = np.where(
            j == 0,
            start[owner],
            start[owner] + 30 + (j - 1) * slot + np.floor(rng.random(len(owner)) * slot).astype(np.int64),
        )
        final = self.region[owner]
        home = np.where(pilot[owner], self.prog_region[owner], final)
        elsewhere = rng.random(len(owner)) < pf.INTER_REGION_MOVE
        random_region = _pick(rng, len(owner), self.share)
        region = np.where((j == count[owner] - 1) | pilot[owner] | ~elsewhere, home, random_region)
        person = np.concatenate([owner, movers])
        eff = np.concatenate([eff, move_day[movers]])
        region = np.concatenate([region, self.region[movers]])
        m = len(person)
        late = rng.random(m) < pf.LATE_REPORT_SHARE
        delay = np.where(late, pf.REPORT_LIMIT_DAYS + 1 + np.minimum(rng.geometric(1 / 25, m) - 1, 180),
                         _uniform_int(rng, 0, pf.REPORT_LIMIT_DAYS, m))  # fmt: skip
        reported = np.minimum(eff + delay, a)
        self.address_region = (person, eff, region)
        return {"person": person, "eff": eff, "reported": reported, "region": region,
                "area": self._district(rng, region)}  # fmt: skip

    def _district(self, rng, region: np.ndarray) -> np.ndarray:
        """Index into self.area_codes: the region code itself or one of its district codes."""
        codes, offsets, weights = [], [], []
        for c in self.codes:
            n = pf.REGION_PROFILE[c]["districts"]
            offsets.append(len(codes))
            codes.append(c)
            codes.extend(f"{c}{110 + 10 * round(k * 88 / max(n, 1)):03d}" for k in range(n))
            w = 1.0 / np.arange(1, n + 1) ** 0.8  # a few districts host most foreign residents
            weights.append(w / w.sum())
        self.area_codes = codes
        n = np.array([pf.REGION_PROFILE[c]["districts"] for c in self.codes])
        table = np.zeros((self.nreg, n.max()))
        for r, w in enumerate(weights):
            table[r, : len(w)] = w
        k = _pick_by(rng, region, table)
        whole = rng.random(len(region)) < pf.REGION_LEVEL_ADDRESS_SHARE
        return np.array(offsets)[region] + np.where(whole, 0, 1 + k)

    # ------------------------------------------------------------------ KIIP
    def kiip(self) -> dict[str, np.ndarray]:
        """Consecutive KIIP levels for participants; holders' uptake is their region's."""
        rng, a = self.rng_kiip, self.as_of
        P = self.np_
        pilot = self.pilot_prog >= 0
        base = np.array([self.behaviour[v][0] for v in VISAS])[self.visa]
        mult = np.array([pf.REGION_PROFILE[c]["kiip"] for c in self.codes])[self.region]
        p = np.minimum(base * mult, 0.95)
        uptake = np.array([pf.PILOT_REGION_BEHAVIOUR[c][1] if c in pf.PILOT_REGION_BEHAVIOUR else 0.0
                           for c in self.codes])  # fmt: skip
        p = np.where(pilot, uptake[np.maximum(self.prog_region, 0)], p)
        lo = np.where(pilot, self.pilot_grant_day + 14, self.obs_start + 30)
        hi = np.where(pilot, self.pilot_grant_day + 330, self.legal_end - 30)
        join = (rng.random(P) < p) & (hi > lo)
        first = _uniform_int(rng, lo, hi)
        level0 = _pick(rng, P, pf.KIIP_START_LEVEL)
        n = np.where(join, _pick(rng, P, pf.KIIP_RECORDS) + 1, 0)
        n = np.minimum(n, 6 - level0)
        owner, j = _explode(n)
        gap = _uniform_int(rng, 140, 220, len(owner))
        enrolled = first[owner] + j * gap
        done = rng.random(len(owner)) < pf.KIIP_COMPLETION
        completed = enrolled + _uniform_int(rng, 70, 120, len(owner))
        limit = np.minimum(self.legal_end[owner], a)
        keep = enrolled <= limit
        completed = np.where(done & (completed <= limit), completed, NO_DAY)
        return {"person": owner[keep], "level": (level0[owner] + j)[keep], "enrolled": enrolled[keep],
                "completed": completed[keep]}  # fmt: skip

    # ------------------------------------------------------------------ employment
    def employment(self) -> dict[str, np.ndarray]:
        """Reported jobs while the status allows work; holders of E-7 designs work in the region."""
        rng, a = self.rng_emp, self.as_of
        P = self.np_
        pilot = self.pilot_prog >= 0
        work = np.array([self.behaviour[v][1] for v in VISAS])[self.visa]
        e7 = pilot & (self.visa == V["E-7"])
        d2 = pilot & (self.visa == V["D-2"])
        p = np.where(e7, 1.0, np.where(d2, 0.2, work))
        start = np.where(pilot, self.pilot_grant_day + 7, np.maximum(self.run_start, self.w0))
        start = start + _uniform_int(rng, 0, 30, P)
        end = np.minimum(self.legal_end, a)
        span = end - start
        works = (rng.random(P) < p) & (span > 30)
        jobs = np.where(works, _pick(rng, P, pf.JOB_COUNT) + 1, 0)
        jobs = np.minimum(jobs, np.maximum(span // 90, 1))
        movers = (self.pilot_role == MOVER) & e7 & works
        jobs = np.where(e7 & works, np.where(movers, 2, 1), jobs)
        owner, j = _explode(jobs)
        slot = span[owner] // jobs[owner]
        s = start[owner] + j * slot - np.where(j == 0, 0, np.floor(rng.random(len(owner)) * (slot // 3)))
        s = s.astype(np.int64)
        # a holder who moved away takes a second job after the move
        mv = movers[owner] & (j == 1)
        moved = np.minimum(np.maximum(self.mover_day[owner] + _uniform_int(rng, 0, 20, len(owner)), s - 1), a)
        s = np.where(mv, np.maximum(moved, np.roll(s, 1) + 1), s)
        last = j == jobs[owner] - 1
        next_start = np.roll(s, -1)
        e = np.where(last, np.where(self.kind[owner] == LEGAL, NO_DAY, end[owner]),
                     next_start - _uniform_int(rng, 1, 20, len(owner)))  # fmt: skip
        e = np.where((e != NO_DAY) & (e < s), s, e)
        home = np.where(pilot[owner], self.prog_region[owner], self.region[owner])
        home = np.where(mv, self.region[owner], home)
        away = (rng.random(len(owner)) > pf.EMPLOYER_IN_HOME_REGION) & ~pilot[owner]
        region = np.where(away, _pick(rng, len(owner), self.share), home)
        pool = np.maximum(self.plan.region_residents // 12, 20)[region]
        employer = np.floor(pool * rng.random(len(owner)) ** 2).astype(np.int64)
        return {"person": owner, "start": s, "end": e, "region": region, "employer": employer}

    # ------------------------------------------------------------------ people
    def people(self, nat: np.ndarray) -> pl.DataFrame:
        rng = self.rng_person
        P = self.np_
        age = np.array([pf.AGE[v] for v in VISAS])
        lo, mode, hi, female = (age[self.visa, c] for c in range(4))
        years = rng.triangular(lo, mode, hi)
        birth = self.as_of - np.floor(years * 365.25).astype(np.int64) - _uniform_int(rng, 0, 364, P)
        birth = np.minimum(birth, self.first_vf - 17 * 366)
        sex = np.where(rng.random(P) < female, "F", "M")
        # names
        groups = list(pf.NAME_GROUPS.values())
        group_of = {c: gi for gi, g in enumerate(groups) for c in g["nations"]}
        other = len(groups) - 1
        g_of_nat = np.array([group_of.get(c, other) for c in self.nationality_codes])
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
                "nationality": pl.Series(self.nationality_codes).gather(nat),
                "birth_date": _dates(birth),
                "sex": sex,
                "passport_no": _passports(rng, P),
            }
        )

    # ------------------------------------------------------------------ assembly
    def build(self) -> Iterator[tuple[str, pl.DataFrame]]:
        """All six frames, yielded one by one. Each table is finished, and its arrays let go,
        before the next is built, so peak memory stays near the size of the output (each step
        has its own random stream, so the order of the steps does not change the data)."""
        self.population()
        # person numbers are a seeded shuffle, so an id says nothing about kind or region
        number = self.rng_order.permutation(self.np_).astype(np.int64) + 1
        ids = ("P" + pl.Series(np.arange(1, self.np_ + 1)).cast(pl.String).str.zfill(8)).alias("person_id")

        def finish(name: str, frame: pl.DataFrame) -> pl.DataFrame:
            return frame.with_columns(ids.gather(frame["_n"] - 1).alias("person_id")).select(COLUMNS[name])

        nat = self.nationalities()
        layers = self.statuses()
        # people first: protecting their passport numbers is the longest single staging job
        people = self.people(nat)
        people = people.with_columns(ids.gather(number - 1).alias("person_id")).select(COLUMNS["person"])
        yield "person", people.sort("person_id")
        del people, nat
        moves = self.movements()
        frame = pl.DataFrame(
            {
                "_n": number[moves["person"]],
                "direction": pl.Series(["entry", "exit"]).gather(moves["direction"]),
                "date": _dates(moves["date"]),
                "port": pl.Series(list(pf.PORTS)).gather(moves["port"]),
            }
        ).sort("_n", "date", "direction")
        del moves
        yield "movement", finish("movement", frame)
        addr = self.addresses()
        frame = pl.DataFrame(
            {
                "_n": number[addr["person"]],
                "area_code": pl.Series(self.area_codes).gather(addr["area"]),
                "effective_date": _dates(addr["eff"]),
                "reported_date": _dates(addr["reported"]),
            }
        ).sort("_n", "effective_date")
        del addr
        yield "address_report", finish("address_report", frame)
        yield "status_grant", finish("status_grant", self._status_frame(layers, number))
        del layers
        self.address_region = None
        kiip = self.kiip()
        frame = pl.DataFrame(
            {
                "_n": number[kiip["person"]],
                "level": kiip["level"].astype(np.int64),
                "enrolled_on": _dates(kiip["enrolled"]),
                "completed_on": _dates(kiip["completed"]),
            }
        ).sort("_n", "level")
        del kiip
        yield "kiip_record", finish("kiip_record", frame)
        emp = self.employment()
        region_s = pl.Series(list(self.codes))
        frame = pl.DataFrame(
            {
                "_n": number[emp["person"]],
                "employer_id": _concat(
                    "B", region_s.gather(emp["region"]), pl.Series(emp["employer"]).cast(pl.String).str.zfill(6)
                ),
                "employer_region": region_s.gather(emp["region"]),
                "start_date": _dates(emp["start"]),
                "end_date": _dates(emp["end"]),
            }
        ).sort("_n", "start_date")
        del emp
        yield "employment", finish("employment", frame)

    def _status_frame(self, layers, number) -> pl.DataFrame:
        """All grant layers as one frame. A grant's region is that of the address in force when
        it was granted (the first address for a visa issued before arrival), or the programme's."""
        cols = {key: np.concatenate([layer[key] for layer in layers]) for key in ("_p", "visa", "sub", "prog", "vf",
                                                                                   "vt", "granted")}  # fmt: skip
        # the address in force on the grant date: one searchsorted over (person, date) keys
        person, eff, region = self.address_region
        shift = 1 << 22  # day numbers fit in 22 bits with room either side of 1970
        keys = person.astype(np.int64) * (2 * shift) + (eff + shift)
        order = np.argsort(keys, kind="stable")
        keys, a_person, a_region = keys[order], person[order], region[order]
        at = np.searchsorted(keys, cols["_p"] * (2 * shift) + (cols["granted"] + shift), side="right") - 1
        found = (at >= 0) & (a_person[np.maximum(at, 0)] == cols["_p"])
        first = np.searchsorted(a_person, cols["_p"], side="left")  # before any address: the first one
        regions = np.where(found, a_region[np.maximum(at, 0)], a_region[np.minimum(first, len(a_region) - 1)])
        regions = np.where(cols["prog"] >= 0, self.prog_region[cols["_p"]], regions)
        del keys, order, a_person, a_region, at, found, first
        program_ids = pl.Series([*self.plan.pilot["program_id"].to_list(), None], dtype=pl.String)
        subtypes = pl.Series([s or None for s in SUBTYPE_CODES], dtype=pl.String)
        return pl.DataFrame(
            {
                "_n": number[cols["_p"]],
                "visa": pl.Series(list(VISAS)).gather(cols["visa"]),
                "subtype": subtypes.gather(cols["sub"]),
                "program_id": program_ids.gather(cols["prog"] % len(program_ids)),
                "region": pl.Series(list(self.codes)).gather(regions),
                "valid_from": _dates(cols["vf"]),
                "valid_to": _dates(cols["vt"]),
                "granted_on": _dates(cols["granted"]),
            }
        ).sort("_n", "valid_from")


def _compact(layer: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A person-length grant layer reduced to the people who hold the grant (`_p` their indexes)."""
    idx = np.flatnonzero(layer["present"])
    out = {key: value[idx] for key, value in layer.items() if key != "present"}
    out["_p"] = idx
    return out


def _concat(*parts) -> pl.Series:
    return pl.select(pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in parts])).to_series()


def _dates(days: np.ndarray) -> pl.Series:
    """Day numbers to a Date series; NO_DAY becomes null."""
    s = pl.Series(np.asarray(days, dtype=np.int32))
    return pl.select(pl.when(s != NO_DAY).then(s).otherwise(None).cast(pl.Date)).to_series()


def _passports(rng: np.random.Generator, n: int) -> pl.Series:
    """Unique `[A-Z]{1,2}[0-9]{7}` numbers: an affine permutation of the whole number space."""
    one = 26 * 10**7
    space = one + 26 * 26 * 10**7
    while True:
        a = int(rng.integers(10**9, space - 1))
        if np.gcd(a, space) == 1:
            break
    b = int(rng.integers(0, space))
    x = (np.arange(n, dtype=np.int64) * a + b) % space
    single = x < one
    y = np.where(single, x, x - one)
    digits = y % 10**7
    first = np.where(single, y // 10**7, y // (26 * 10**7))
    second = np.where(single, -1, (y // 10**7) % 26)
    letters = pl.Series(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    l1 = letters.gather(first)
    l2 = pl.select(pl.when(pl.Series(second) >= 0).then(letters.gather(np.maximum(second, 0))).otherwise(pl.lit("")))
    return _concat(l1, l2.to_series(), pl.Series(digits).cast(pl.String).str.zfill(7))


def dataset_checksums(frames: dict[str, pl.DataFrame]) -> dict[str, str]:
    """SHA-256 per table over its rows sorted on every column and written as CSV (ISO dates,
    empty nulls), so the digest depends on content only, not on row order or memory layout."""
    out = {}
    for name in TABLES:
        frame = frames[name]
        ordered = frame.sort(frame.columns, nulls_last=True)
        digest = hashlib.sha256()
        digest.update(",".join(ordered.columns).encode())
        for start in range(0, max(ordered.height, 1), 500_000):
            buf = io.BytesIO()
            ordered.slice(start, 500_000).write_csv(buf, include_header=False, null_value="", date_format="%Y-%m-%d")
            digest.update(buf.getvalue())
        out[name] = digest.hexdigest()
    return out
