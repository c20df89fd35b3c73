"""A programme as the rule evaluators need it: criteria, points grid and dated parameters.

This is deliberately a small plain dataclass: loading files, guardrails and versions belong to
`programs/`, which builds a `RuleProgram` (or calls `from_dict` on the §4.1 YAML shape).
"""

from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

NATIONAL_PREFIX = "national."
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def to_date(value: Any) -> dt.date | None:
    """A date from a date, datetime or strict ISO `YYYY-MM-DD` string; None otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def normalise_dated(values: Any) -> dict[dt.date, Any]:
    """`{date: value}` with date keys, sorted. A plain value is taken as in force since forever.

    Raises ValueError on a mapping whose keys are not all dates, so a typo in a date key is not
    silently turned into an undated value.
    """
    if isinstance(values, Mapping) and values:
        out: dict[dt.date, Any] = {}
        for k, v in values.items():
            d = to_date(k)
            if d is None:
                raise ValueError(f"parameter date key {k!r} is not a date (YYYY-MM-DD)")
            out[d] = v
        return dict(sorted(out.items()))
    return {dt.date.min: values}


def value_in_force(dated: Mapping[dt.date, Any], on: dt.date) -> tuple[Any, dt.date] | None:
    """The value whose effective date is the latest one on or before `on`, with that date."""
    keys = list(dated)
    i = bisect_right(keys, on)
    if i == 0:
        return None
    return dated[keys[i - 1]], keys[i - 1]


@dataclass
class Criterion:
    id: str
    rule: Any
    label: dict[str, str] = field(default_factory=dict)
    reference: str = ""

    def label_for(self, lang: str) -> str:
        return self.label.get(lang) or self.label.get("en") or self.label.get("ko") or self.id


@dataclass
class PointsRule:
    id: str
    when: Any
    points: int | float
    label: dict[str, str] = field(default_factory=dict)


@dataclass
class RuleProgram:
    """Criteria (fixed national ones first), an optional points grid and dated parameters."""

    id: str
    version: int = 1
    criteria: list[Criterion] = field(default_factory=list)
    points: list[PointsRule] = field(default_factory=list)
    parameters: dict[str, dict[dt.date, Any]] = field(default_factory=dict)
    national_parameters: dict[str, dict[dt.date, Any]] = field(default_factory=dict)
    title: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.parameters = {k: normalise_dated(v) for k, v in self.parameters.items()}
        self.national_parameters = {
            k.removeprefix(NATIONAL_PREFIX): normalise_dated(v) for k, v in self.national_parameters.items()
        }

    @classmethod
    def from_dict(
        cls,
        d: Mapping[str, Any],
        national_params: Mapping[str, Any] | None = None,
        *,
        fixed_criteria: Iterable[Criterion | Mapping[str, Any]] = (),
    ) -> RuleProgram:
        """Build from the §4.1 YAML shape; keys not needed here (region, quota, …) are ignored.

        `fixed_criteria` (the guardrails' national criteria) are put first, as §4.4 requires.
        """

        def crit(c: Criterion | Mapping[str, Any]) -> Criterion:
            if isinstance(c, Criterion):
                return c
            return Criterion(
                id=str(c.get("id", "")),
                rule=c.get("rule"),
                label=dict(c.get("label") or {}),
                reference=str(c.get("reference") or ""),
            )

        criteria = [crit(c) for c in fixed_criteria] + [crit(c) for c in d.get("criteria") or []]
        points = [
            PointsRule(
                id=str(p.get("id", "")),
                when=p.get("when"),
                points=p.get("points", 0),
                label=dict(p.get("label") or {}),
            )
            for p in d.get("points") or []
        ]
        return cls(
            id=str(d.get("id", "")),
            version=int(d.get("version", 1) or 1),
            criteria=criteria,
            points=points,
            parameters=dict(d.get("parameters") or {}),
            national_parameters=dict(national_params or {}),
            title=dict(d.get("title") or {}),
        )

    def all_parameters(self) -> dict[str, dict[dt.date, Any]]:
        """Every parameter under the name a rule uses for it."""
        out = dict(self.parameters)
        out.update({NATIONAL_PREFIX + k: v for k, v in self.national_parameters.items()})
        return out

    def resolve_parameters(self, on: dt.date) -> dict[str, tuple[Any, dt.date] | None]:
        """Each parameter's value in force on `on` and its effective date (None: none in force)."""
        return {name: value_in_force(dated, on) for name, dated in self.all_parameters().items()}
