"""Pure array helpers of the synthetic generator: day numbers, apportionment, weighted draws over
whole arrays, and the Polars series the tables are made of. No I/O, no clock: every random draw
takes its generator from the caller.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

EPOCH = dt.date(1970, 1, 1)
NO_DAY = -(10**6)  # "no date" in day-number arrays (births before 1970 are negative days)


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


def uniform_int(rng: np.random.Generator, low, high, n: int | None = None) -> np.ndarray:
    """Integers in [low, high] inclusive, element-wise (high < low gives low)."""
    low = np.asarray(low, dtype=np.int64)
    high = np.maximum(np.asarray(high, dtype=np.int64), low)
    shape = np.broadcast_shapes(low.shape, high.shape, (n,) if n is not None else ())
    return low + np.floor(rng.random(shape) * (high - low + 1)).astype(np.int64)


def pick(rng: np.random.Generator, n: int, probs) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    cum = np.cumsum(p / p.sum())
    cum[-1] = 1.0
    return np.searchsorted(cum, rng.random(n), side="right")


def pick_by(rng: np.random.Generator, cls: np.ndarray, table: np.ndarray) -> np.ndarray:
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


def explode(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner index, position within owner) for `counts[i]` rows per owner i."""
    counts = counts.astype(np.int64)
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    pos = np.arange(len(owner)) - np.repeat(starts, counts)
    return owner, pos


def rank_within(groups: np.ndarray) -> np.ndarray:
    """0-based position of each element among the elements of its group, in index order."""
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    first = np.searchsorted(sorted_groups, sorted_groups, side="left")
    rank = np.empty(len(groups), dtype=np.int64)
    rank[order] = np.arange(len(groups)) - first
    return rank


def compact(layer: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A person-length grant layer reduced to the people who hold the grant (`_p` their indexes)."""
    idx = np.flatnonzero(layer["present"])
    out = {key: value[idx] for key, value in layer.items() if key != "present"}
    out["_p"] = idx
    return out


def concat(*parts) -> pl.Series:
    return pl.select(pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in parts])).to_series()


def dates(days: np.ndarray) -> pl.Series:
    """Day numbers to a Date series; NO_DAY becomes null."""
    s = pl.Series(np.asarray(days, dtype=np.int32))
    return pl.select(pl.when(s != NO_DAY).then(s).otherwise(None).cast(pl.Date)).to_series()


def passports(rng: np.random.Generator, n: int) -> pl.Series:
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
    return concat(l1, l2.to_series(), pl.Series(digits).cast(pl.String).str.zfill(7))
