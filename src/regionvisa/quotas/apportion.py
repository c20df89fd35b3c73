"""Next year's quotas under a national ceiling (DESIGN §4.6), pure and exact.

Each request's target is floor(requested × (1 + quota_change) + 0.5), computed in Decimal from the
decimal text of quota_change, because in binary floating point 10 × 1.15 is 11.4999… and would
round a .5 case down. When the targets fit under the ceiling every request gets its target.
Otherwise the ceiling is shared in proportion to the targets by one of `METHODS`:

* hamilton (default): exact shares ceiling·target/Σtargets (integer arithmetic, no floats), integer
  parts first, then one place each by largest remainder. It keeps every request within one place
  of its exact share (the quota rule) but is not house-monotone: one more place in the ceiling can
  take a place away (the Alabama paradox of 1880).
* the divisor (highest averages) methods hand out the places one at a time to the request with the
  highest target / d(places it holds), compared exactly as fractions, so a larger ceiling only
  ever adds places (house monotonicity):
  - sainte-lague: d(s) = 2s + 1 (divisors 1, 3, 5, …; Webster);
  - modified-sainte-lague: the same with the first divisor replaced by `first_divisor` (1.4 in
    Norway; Sweden used 1.4 until 2018 and 1.2 since), which makes a first place harder to win;
  - dhondt: d(s) = s + 1 (Jefferson; never below the integer part of the exact share);
  - huntington-hill: d(s) = √(s(s + 1)), compared as target² / (s(s + 1)); d(0) = 0, so every
    request with a target gets a place before any gets a second (the larger target first).

Ties go to the higher score, then the lower region code, then the lower programme id (codes and
ids made only of digits compare as numbers, others as text). A request without a score loses
score ties to any request that has one. No method ever grants more than the target.

Minimums (`minimums`, region → places) are floors, not a base added to every region (§4.6): a
region's minimum, capped at the sum of its targets, is split over its requests in proportion to
their targets (Hamilton, same tie order); then
* hamilton: each request gets max(its floor, integer part of its exact share), and the places left
  go one each, by largest remainder, to the requests that were not raised to their floor. When the
  raised floors leave fewer places than the others' integer parts, the raised requests are held at
  their floor and the rest of the ceiling is shared over the others the same way (repeated until
  no further request falls below its floor);
* a divisor method starts every request at its floor and hands out the rest by the same highest
  averages, so each is held at no less than its minimum.
Minimums matter only when the targets do not fit; together they may not exceed the ceiling.

Each output row explains itself: grade effect = target − requested, ceiling effect = granted − target,
and, for a request the floor lifted, "raised to the regional minimum".
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, InvalidOperation, localcontext
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from regionvisa.tabular import read_small_csv

METHODS = ("hamilton", "sainte-lague", "modified-sainte-lague", "dhondt", "huntington-hill")
REQUIRED_COLUMNS = ("region", "program", "requested")
OPTIONAL_COLUMNS = ("quota_change", "score")


class ApportionError(ValueError):
    """Bad requests or settings; `errors` lists one readable line per problem."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


@dataclass(frozen=True)
class Request:
    region: str
    program: str
    requested: int
    quota_change: Decimal = Decimal(0)
    score: float | None = None


def _decimal(value: Any) -> Decimal:
    """Decimal from the value's shortest text, so 0.15 (float) is exactly 0.15."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ValueError("a quota change is a number, not true/false")
    return Decimal(str(value).strip())


def target(requested: int, quota_change: Any = 0) -> int:
    """floor(requested × (1 + quota_change) + 0.5), exact."""
    with localcontext() as ctx:
        ctx.prec = 60
        value = Decimal(requested) * (1 + _decimal(quota_change)) + Decimal("0.5")
        return int(value.to_integral_value(rounding=ROUND_FLOOR))


def _natural(key: str) -> tuple[int, int | str]:
    return (0, int(key)) if key.isdigit() else (1, key)


def _tie_key(req: Request) -> tuple[Any, ...]:
    """Sort key: earlier wins a tie — higher score, then lower region code, then lower programme id."""
    score = (0, -req.score) if req.score is not None else (1, 0.0)
    return (score, _natural(req.region), _natural(req.program))


def _coerce(item: Request | Mapping[str, Any]) -> Request:
    if isinstance(item, Request):
        req = item
    else:
        req = Request(
            region=str(item["region"]),
            program=str(item["program"]),
            requested=item["requested"],
            quota_change=_decimal(item.get("quota_change") if item.get("quota_change") is not None else 0),
            score=None if item.get("score") is None else float(item["score"]),
        )
    if isinstance(req.requested, bool) or not isinstance(req.requested, int) or req.requested < 0:
        raise ApportionError(
            [f"{req.region}/{req.program}: requested must be a whole number ≥ 0, got {req.requested!r}"]
        )
    if req.quota_change < -1:
        raise ApportionError([f"{req.region}/{req.program}: quota_change must be at least -1, got {req.quota_change}"])
    return req


def _check_floors(floors: Sequence[int] | None, n: int) -> list[int]:
    return [0] * n if floors is None else list(floors)


def hamilton(
    targets: Sequence[int], seats: int, tie_order: Sequence[int], floors: Sequence[int] | None = None
) -> list[int]:
    """Largest remainder in exact integers; tie_order[k] is request k's place in the tie order.
    With `floors`, the §4.6 floor rule (`hamilton_floored`)."""
    return hamilton_floored(targets, seats, tie_order, floors)[0]


def hamilton_floored(
    targets: Sequence[int], seats: int, tie_order: Sequence[int], floors: Sequence[int] | None = None
) -> tuple[list[int], list[bool]]:
    """Hamilton with floors (§4.6): (granted, raised), raised[k] when request k holds its floor
    because its integer share was below it. Floors must each be ≤ the target and fit in `seats`."""
    n = len(targets)
    floor = _check_floors(floors, n)
    total = sum(targets)
    if total <= seats:
        return list(targets), [False] * n
    quotas = [seats * t // total for t in targets]
    remainders = [seats * t % total for t in targets]
    raised = [f > q for f, q in zip(floor, quotas, strict=True)]
    granted = [max(f, q) for f, q in zip(floor, quotas, strict=True)]
    left = seats - sum(granted)
    if left >= 0:
        order = sorted((k for k in range(n) if not raised[k]), key=lambda k: (-remainders[k], tie_order[k]))
        for k in order[:left]:
            granted[k] += 1
        return granted, raised
    # The raised floors took more than the integer parts leave: hold them and share the rest over
    # the others, whose own floors still hold (each round fixes at least one more request).
    others = [k for k in range(n) if not raised[k]]
    rest = seats - sum(floor[k] for k in range(n) if raised[k])
    sub, sub_raised = hamilton_floored(
        [targets[k] for k in others], rest, [tie_order[k] for k in others], [floor[k] for k in others]
    )
    for k, g, r in zip(others, sub, sub_raised, strict=True):
        granted[k], raised[k] = g, r
    for k in range(n):
        if raised[k] and k not in others:
            granted[k] = floor[k]
    return granted, raised


def _priority(method: str, first_divisor: Fraction) -> Any:
    """The highest-averages key of a request with target t holding s places: smaller sorts first."""
    if method == "dhondt":
        return lambda t, s: (1, -Fraction(t, s + 1))
    if method == "sainte-lague":
        return lambda t, s: (1, -Fraction(t, 2 * s + 1))
    if method == "modified-sainte-lague":
        return lambda t, s: (1, -(Fraction(t) / first_divisor if s == 0 else Fraction(t, 2 * s + 1)))
    if method == "huntington-hill":  # t/√(s(s+1)) compared through its square; s = 0 comes first
        return lambda t, s: (0, -t) if s == 0 else (1, -Fraction(t * t, s * (s + 1)))
    raise ValueError(f"not a divisor method: {method!r}")


def divisor_method(
    targets: Sequence[int],
    seats: int,
    tie_order: Sequence[int],
    *,
    method: str,
    first_divisor: Fraction = Fraction(7, 5),
    floors: Sequence[int] | None = None,
) -> list[int]:
    """Highest averages from the floors up: each further place to the request with the highest
    target / d(places held), never past its target; quotients compared exactly."""
    n = len(targets)
    granted = _check_floors(floors, n)
    if sum(targets) <= seats:
        return list(targets)
    if seats - sum(granted) > 4 * n:
        granted = _head_start(targets, seats, granted, method=method, first_divisor=first_divisor)
    key = _priority(method, first_divisor)
    heap = [(key(t, granted[k]), tie_order[k], k) for k, t in enumerate(targets) if granted[k] < t]
    heapq.heapify(heap)
    for _ in range(seats - sum(granted)):
        _, tie, k = heapq.heappop(heap)
        granted[k] += 1
        if granted[k] < targets[k]:
            heapq.heappush(heap, (key(targets[k], granted[k]), tie, k))
    return granted


def _places_below(method: str, x: np.ndarray, first_divisor: float) -> np.ndarray:
    """How many places s = 0, 1, … have d(s) < x, in floating point (within one of the exact count)."""
    if method == "dhondt":
        return np.maximum(np.ceil(x) - 1, 0)
    if method == "sainte-lague":
        return np.maximum(np.ceil((x - 1) / 2), 0)
    if method == "modified-sainte-lague":
        return np.where(x > first_divisor, 1 + np.maximum(np.ceil((x - 1) / 2) - 1, 0), 0)
    return np.ceil((np.sqrt(1 + 4 * x * x) - 1) / 2)  # huntington-hill: s(s + 1) < x²


def _head_start(
    targets: Sequence[int], seats: int, floors: list[int], *, method: str, first_divisor: Fraction
) -> list[int]:
    """Places every request is sure to hold in the highest-averages sequence, so only the last few
    are handed out one by one. For a divisor λ, the places with quotient > λ come first in the
    sequence whatever the ties; counted in floating point each count is within one of the exact
    one, so λ is chosen with Σ (count + 1) ≤ seats and each request starts one place below its
    count: a set inside the sequence's first `seats` places, from which the greedy steps end
    exactly where the sequence does."""
    t = np.asarray(targets, dtype=np.float64)
    fl = np.asarray(floors, dtype=np.float64)
    free = seats - int(fl.sum())
    f = float(first_divisor)

    def counts(lam: float) -> np.ndarray:
        return np.clip(_places_below(method, t / lam, f) - fl, 0, t - fl)

    lo, hi = 1e-12, float(t.max()) * 4 + 4
    if counts(hi).sum() + len(t) > free:
        return floors
    for _ in range(200):  # the smallest λ (most places) with Σ (count + 1) ≤ free
        mid = (lo * hi) ** 0.5
        if counts(mid).sum() + len(t) <= free:
            hi = mid
        else:
            lo = mid
        if hi / lo < 1 + 1e-12:
            break
    start = np.maximum(counts(hi) - 1, 0).astype(np.int64)
    return [int(a + b) for a, b in zip(floors, start, strict=True)]


def sainte_lague(targets: Sequence[int], seats: int, tie_order: Sequence[int]) -> list[int]:
    """Highest averages, divisors 1, 3, 5, …; quotients compared exactly as fractions."""
    return divisor_method(targets, seats, tie_order, method="sainte-lague")


def _share(
    method: str, targets: list[int], seats: int, tie_order: list[int], floors: list[int], first_divisor: Fraction
) -> tuple[list[int], list[bool]]:
    """(granted, raised) by `method`; raised[k] when the floor lifted request k above its share."""
    if method == "hamilton":
        return hamilton_floored(targets, seats, tie_order, floors)
    granted = divisor_method(targets, seats, tie_order, method=method, first_divisor=first_divisor, floors=floors)
    if not any(floors):
        return granted, [False] * len(targets)
    free = divisor_method(targets, seats, tie_order, method=method, first_divisor=first_divisor)
    return granted, [f > g for f, g in zip(floors, free, strict=True)]


def first_divisor_of(value: Any) -> Fraction:
    """The modified Sainte-Laguë first divisor as an exact fraction, 1 ≤ value ≤ 3 (1 is plain Sainte-Laguë)."""
    try:
        divisor = value if isinstance(value, Fraction) else Fraction(_decimal(value))
    except (ValueError, ArithmeticError, TypeError) as exc:
        raise ApportionError([f"first divisor must be a number between 1 and 3, got {value!r}"]) from exc
    if not 1 <= divisor <= 3:
        raise ApportionError([f"first divisor must be between 1 and 3, got {value}"])
    return divisor


def _fmt_change(q: Decimal) -> str:
    pct = (q * 100).normalize()
    text = f"{pct:f}"
    return f"+{text}%" if pct >= 0 else f"{text}%"


def _signed(n: int) -> str:
    return f"+{n:,}" if n >= 0 else f"−{-n:,}"


METHOD_NAMES = {
    "hamilton": ("Hamilton (largest remainder)", "해밀턴 방식(최대잉여)"),
    "sainte-lague": ("Sainte-Laguë (divisors 1, 3, 5, …)", "생라그 방식(제수 1, 3, 5, …)"),
    "modified-sainte-lague": ("modified Sainte-Laguë (divisors {f}, 3, 5, …)", "수정 생라그 방식(제수 {f}, 3, 5, …)"),
    "dhondt": ("D'Hondt (divisors 1, 2, 3, …)", "동트 방식(제수 1, 2, 3, …)"),
    "huntington-hill": ("Huntington–Hill (divisors √(s(s+1)))", "헌팅턴-힐 방식(제수 √(s(s+1)))"),
}


def method_names(method: str, first_divisor: Fraction = Fraction(7, 5)) -> tuple[str, str]:
    """The method's name in English and Korean, as the explanation columns give it."""
    en, ko = METHOD_NAMES[method]
    shown = f"{float(first_divisor):g}"
    return en.format(f=shown), ko.format(f=shown)


def apportion(
    requests: Sequence[Request | Mapping[str, Any]],
    ceiling: int,
    *,
    method: str = "hamilton",
    minimums: Mapping[str, int] | None = None,
    first_divisor: Any = "1.4",
) -> list[dict[str, Any]]:
    """Granted places per request, in input order, each row with its grade and ceiling effects.
    `first_divisor` is read only by modified-sainte-lague."""
    if method not in METHODS:
        raise ApportionError([f"method must be one of {', '.join(METHODS)}, got {method!r}"])
    divisor = first_divisor_of(first_divisor) if method == "modified-sainte-lague" else Fraction(7, 5)
    if isinstance(ceiling, bool) or not isinstance(ceiling, int) or ceiling < 0:
        raise ApportionError([f"ceiling must be a whole number ≥ 0, got {ceiling!r}"])
    reqs = [_coerce(item) for item in requests]
    seen: set[tuple[str, str]] = set()
    for req in reqs:
        if (req.region, req.program) in seen:
            raise ApportionError([f"{req.region}/{req.program}: the same region and programme appear twice"])
        seen.add((req.region, req.program))

    targets = [target(r.requested, r.quota_change) for r in reqs]
    total = sum(targets)
    ranking = sorted(range(len(reqs)), key=lambda k: _tie_key(reqs[k]))
    tie_order = [0] * len(reqs)
    for place, k in enumerate(ranking):
        tie_order[k] = place

    floors = [0] * len(reqs)
    fits = total <= ceiling
    if not fits and minimums:
        for region, minimum in minimums.items():
            if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 0:
                raise ApportionError([f"minimum for region {region}: must be a whole number ≥ 0, got {minimum!r}"])
            members = [k for k, r in enumerate(reqs) if r.region == str(region)]
            honoured = min(minimum, sum(targets[k] for k in members))
            split = hamilton([targets[k] for k in members], honoured, [tie_order[k] for k in members])
            for k, n in zip(members, split, strict=True):
                floors[k] = n
        if sum(floors) > ceiling:
            raise ApportionError([f"regional minimums need {sum(floors):,} places, more than the ceiling {ceiling:,}"])

    if fits:
        granted, raised = list(targets), [False] * len(reqs)
    else:
        granted, raised = _share(method, targets, ceiling, tie_order, floors, divisor)

    name_en, name_ko = method_names(method, divisor)
    rows = []
    for k, req in enumerate(reqs):
        grade_effect = targets[k] - req.requested
        ceiling_effect = granted[k] - targets[k]
        if fits:
            tail_en = f"targets total {total:,}, within the ceiling {ceiling:,}: no ceiling effect"
            tail_ko = f"목표 합계 {total:,}이(가) 상한 {ceiling:,} 이내: 상한 효과 없음"
        else:
            tail_en = (
                f"targets total {total:,} > ceiling {ceiling:,}, shared by {name_en}: "
                f"ceiling effect {_signed(ceiling_effect)}"
            )
            tail_ko = f"목표 합계 {total:,} > 상한 {ceiling:,}, {name_ko} 배분: 상한 효과 {_signed(ceiling_effect)}"
            if raised[k]:
                tail_en += f" (raised to the regional minimum: {floors[k]:,})"
                tail_ko += f" (지역 최소 배정으로 상향: {floors[k]:,})"
        rows.append(
            {
                "region": req.region,
                "program": req.program,
                "requested": req.requested,
                "target": targets[k],
                "granted": granted[k],
                "quota_change": float(req.quota_change),
                "grade_effect": grade_effect,
                "ceiling_effect": ceiling_effect,
                "minimum_part": floors[k] if raised[k] else 0,
                "explanation_en": (
                    f"requested {req.requested:,}; quota change {_fmt_change(req.quota_change)}: "
                    f"grade effect {_signed(grade_effect)} → target {targets[k]:,}; "
                    f"{tail_en} → granted {granted[k]:,}"
                ),
                "explanation_ko": (
                    f"요청 {req.requested:,}; 쿼터 조정 {_fmt_change(req.quota_change)}: 등급 효과 "
                    f"{_signed(grade_effect)} → 목표 {targets[k]:,}; {tail_ko} → 배정 {granted[k]:,}"
                ),
            }
        )
    return rows


def read_requests_csv(path: str | Path) -> list[Request]:
    """Read `region,program,requested[,quota_change][,score]`; all problems reported together,
    each naming file, line, field and value."""
    path = Path(path)
    rows = read_small_csv(
        path, error=ApportionError, expected="header " + ",".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
    )
    header = [h.strip() for h in rows[0]]
    errors = [f"{path}:1: missing column {c!r}" for c in REQUIRED_COLUMNS if c not in header]
    allowed = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    errors += [f"{path}:1: unknown column {c!r} (allowed: {', '.join(allowed)})" for c in header if c not in allowed]
    errors += [
        f"{path}:1: column {c!r} appears more than once" for c in sorted({h for h in header if header.count(h) > 1})
    ]
    if errors:
        raise ApportionError(errors)

    out: list[Request] = []
    first: dict[tuple[str, str], int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            errors.append(f"{path}:{line}: {len(row)} fields, the header has {len(header)}")
            continue
        cells = dict(zip(header, (c.strip() for c in row), strict=True))
        bad = len(errors)
        for name in ("region", "program"):
            if not cells[name]:
                errors.append(f"{path}:{line}: field {name!r}: empty")
        text = cells["requested"]
        requested = int(text) if text.isdigit() else None
        if requested is None:
            errors.append(f"{path}:{line}: field 'requested': value {text!r} is not a whole number ≥ 0")
        change = Decimal(0)
        text = cells.get("quota_change", "")
        if text:
            try:
                change = Decimal(text)
                if not change.is_finite() or change < -1:
                    raise InvalidOperation
            except InvalidOperation:
                errors.append(
                    f"{path}:{line}: field 'quota_change': value {text!r} is not a number ≥ -1 (0.15 = +15 %)"
                )
        score = None
        text = cells.get("score", "")
        if text:
            try:
                score = float(text)
            except ValueError:
                errors.append(f"{path}:{line}: field 'score': value {text!r} is not a number")
        key = (cells["region"], cells["program"])
        if key in first and len(errors) == bad:
            errors.append(f"{path}:{line}: region {key[0]!r} programme {key[1]!r} repeats line {first[key]}")
        first.setdefault(key, line)
        if len(errors) == bad and requested is not None:
            out.append(Request(cells["region"], cells["program"], requested, change, score))
    if not out and not errors:
        errors.append(f"{path}: no request rows")
    if errors:
        raise ApportionError(errors)
    return out
