"""Next year's quotas under a national ceiling (DESIGN §4.6), pure and exact.

Each request's target is floor(requested × (1 + quota_change) + 0.5), computed in Decimal from the
decimal text of quota_change, because in binary floating point 10 × 1.15 is 11.4999… and would
round a .5 case down. When the targets fit under the ceiling every request gets its target.
Otherwise the ceiling is shared in proportion to the targets:

* hamilton (default): exact shares ceiling·target/Σtargets (integer arithmetic, no floats), integer
  parts first, then one place each by largest remainder.
* sainte-lague: highest averages with divisors 1, 3, 5, … (quotient target/(2·seats+1)).

Ties go to the higher score, then the lower region code, then the lower programme id (codes and
ids made only of digits compare as numbers, others as text). A request without a score loses
score ties to any request that has one. Neither method ever grants more than the target.

Per-region minimums are honoured first: a region gets min(minimum, Σ of its targets) before
anything else, split over its programmes in proportion to their targets (Hamilton, same tie
order); the rest of the ceiling is then apportioned by the chosen method over the targets that
remain. Minimums matter only when the targets do not fit; together they may not exceed the ceiling.

Each output row explains itself: grade effect = target − requested, ceiling effect = granted − target.
"""

from __future__ import annotations

import csv
import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, InvalidOperation, localcontext
from fractions import Fraction
from pathlib import Path
from typing import Any

METHODS = ("hamilton", "sainte-lague")
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


def hamilton(targets: Sequence[int], seats: int, tie_order: Sequence[int]) -> list[int]:
    """Largest remainder in exact integers; tie_order[k] is request k's place in the tie order."""
    total = sum(targets)
    if total <= seats:
        return list(targets)
    quotas = [seats * t // total for t in targets]
    remainders = [seats * t % total for t in targets]
    left = seats - sum(quotas)
    order = sorted(range(len(targets)), key=lambda k: (-remainders[k], tie_order[k]))
    for k in order[:left]:
        quotas[k] += 1
    return quotas


def sainte_lague(targets: Sequence[int], seats: int, tie_order: Sequence[int]) -> list[int]:
    """Highest averages, divisors 1, 3, 5, …; quotients compared exactly as fractions."""
    if sum(targets) <= seats:
        return list(targets)
    granted = [0] * len(targets)
    heap = [(-Fraction(t, 1), tie_order[k], k) for k, t in enumerate(targets) if t > 0]
    heapq.heapify(heap)
    for _ in range(seats):
        _, tie, k = heapq.heappop(heap)
        granted[k] += 1
        if granted[k] < targets[k]:
            heapq.heappush(heap, (-Fraction(targets[k], 2 * granted[k] + 1), tie, k))
    return granted


def _fmt_change(q: Decimal) -> str:
    pct = (q * 100).normalize()
    text = f"{pct:f}"
    return f"+{text}%" if pct >= 0 else f"{text}%"


def _signed(n: int) -> str:
    return f"+{n:,}" if n >= 0 else f"−{-n:,}"


def apportion(
    requests: Sequence[Request | Mapping[str, Any]],
    ceiling: int,
    *,
    method: str = "hamilton",
    minimums: Mapping[str, int] | None = None,
) -> list[dict[str, Any]]:
    """Granted places per request, in input order, each row with its grade and ceiling effects."""
    if method not in METHODS:
        raise ApportionError([f"method must be one of {', '.join(METHODS)}, got {method!r}"])
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
        granted = list(targets)
    else:
        rest = [t - f for t, f in zip(targets, floors, strict=True)]
        share = hamilton if method == "hamilton" else sainte_lague
        extra = share(rest, ceiling - sum(floors), tie_order)
        granted = [f + e for f, e in zip(floors, extra, strict=True)]

    name_en = {
        "hamilton": "Hamilton (largest remainder)",
        "sainte-lague": "Sainte-Laguë (divisors 1, 3, 5, …)",
    }[method]
    name_ko = {"hamilton": "해밀턴 방식(최대잉여)", "sainte-lague": "생라그 방식(제수 1, 3, 5, …)"}[method]
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
            if floors[k]:
                tail_en += f" (regional minimum: {floors[k]:,} of these places given first)"
                tail_ko += f" (지역 최소 배정: 이 중 {floors[k]:,}석 우선 배정)"
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
                "minimum_part": floors[k],
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
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except OSError as exc:
        raise ApportionError([f"{path}: cannot be read ({exc.strerror})"]) from exc
    except UnicodeDecodeError as exc:
        raise ApportionError([f"{path}: not UTF-8 text ({exc.reason})"]) from exc
    if not rows:
        raise ApportionError([f"{path}:1: empty file; expected header {','.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}"])
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
