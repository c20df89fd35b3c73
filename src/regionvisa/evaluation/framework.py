"""The evaluation framework (DESIGN §4.5) as strictly validated data.

The framework decides grades, quotas and whether a region stays in the pilot, so a typo in the
YAML must fail loudly and point at itself (`file:key.path: message`) instead of silently
changing a weight. Every model forbids unknown keys and uses strict types (no "40" for 40,
no `true` for a direction).

Optional parts and their defaults, chosen so the compact §4.5 example validates as written:
`label` defaults to the indicator id, `rationale` may be omitted (the shipped framework gives
one for every indicator), `missing` defaults to `{policy: reweight}`, and `sensitivity`
defaults to the §4.5 values.

Groups, transforms and data treatment (§4.5 "Groups and transforms") are additions: a framework
that uses none of them validates, means and digests exactly as before, because `definition()`
leaves those keys out while they are unset.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from regionvisa.policyfiles import PolicyError, key_path, read_yaml

NormaliseMethod = Literal["minmax", "goalposts", "zscore", "rank"]
NORMALISE_METHODS: tuple[str, ...] = ("minmax", "goalposts", "zscore", "rank")
AGGREGATE_METHODS: tuple[str, ...] = ("arithmetic", "geometric")

_SLUG = r"^[a-z][a-z0-9_]*$"
# Sobol needs every model run in memory: draws·(k+2)·regions floats, about 2 GB at this bound for 17 regions.
MAX_DRAWS = 200_000


class FrameworkError(PolicyError):
    """Problems in a framework file; `errors` holds one `file:key.path: message` line each."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class LocalText(_Strict):
    """Text shown to users, in Korean and English (DESIGN §6)."""

    ko: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Normalise(_Strict):
    method: NormaliseMethod
    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _goalposts_need_bounds(self) -> Normalise:
        if self.method == "goalposts":
            if self.low is None or self.high is None:
                raise ValueError("goalposts needs both low and high")
            if not self.high > self.low:
                raise ValueError(f"goalposts needs high > low (got low={self.low}, high={self.high})")
        elif self.low is not None or self.high is not None:
            raise ValueError(f"low/high apply only to goalposts, not to {self.method}")
        return self


WINSORISE_DEFAULTS: dict[str, Any] = {"winmax": 5, "skewness": 2.0, "kurtosis": 3.5, "fallback": "log"}


class Transform(_Strict):
    """A change of the raw values before normalisation, recorded in the run.

    log: the natural logarithm (goalposts are written in raw units and transformed alike).
    winsorise: COINr's default outlier rule — while |skewness| ≥ `skewness` and kurtosis ≥
    `kurtosis`, the most extreme point(s) on the skewed side take the next value, up to
    `winmax` points; if that does not pass, `fallback: log` uses COINr's log_CT,
    ln(x − min + 0.01·(max − min)), on the original values instead (`none` keeps the winsorised values).
    """

    method: Literal["log", "winsorise"]
    winmax: int | None = Field(default=None, ge=1, le=1000)
    skewness: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    kurtosis: float | None = Field(default=None, allow_inf_nan=False)
    fallback: Literal["log", "none"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _winsorise_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("method") == "winsorise":
            return {**WINSORISE_DEFAULTS, **data}
        return data

    @model_validator(mode="after")
    def _settings_apply(self) -> Transform:
        if self.method == "log":
            extra = [k for k in WINSORISE_DEFAULTS if getattr(self, k) is not None]
            if extra:
                raise ValueError(
                    f"{', '.join(extra)} apply only to winsorise, not to log"
                    f" · {', '.join(extra)} 설정은 winsorise에만 쓸 수 있습니다"
                )
        return self


class Indicator(_Strict):
    id: str = Field(pattern=_SLUG)
    label: LocalText | None = None
    source: Literal["committee", "computed"]
    direction: int
    weight: float = Field(gt=0, allow_inf_nan=False)
    normalise: Normalise
    rationale: LocalText | None = None
    group: str | None = None
    transform: Transform | None = None

    @field_validator("direction")
    @classmethod
    def _direction(cls, value: int) -> int:
        if value not in (1, -1):
            raise ValueError(f"must be 1 (higher is better) or -1 (lower is better), got {value}")
        return value

    def label_in(self, lang: str = "ko") -> str:
        return getattr(self.label, lang) if self.label else self.id


class Aggregate(_Strict):
    method: Literal["arithmetic", "geometric"]


class Group(_Strict):
    """A dimension of the framework (COINr's level above the indicators); `parent` nests it."""

    id: str = Field(pattern=_SLUG)
    label: LocalText | None = None
    weight: float = Field(gt=0, allow_inf_nan=False)
    aggregate: Aggregate = Field(default_factory=lambda: Aggregate(method="arithmetic"))
    parent: str | None = None
    rationale: LocalText | None = None

    def label_in(self, lang: str = "ko") -> str:
        return getattr(self.label, lang) if self.label else self.id


class Grade(_Strict):
    grade: str = Field(min_length=1)
    min_score: float = Field(ge=0, le=100, allow_inf_nan=False)


class Benefit(_Strict):
    """What a grade brings; quota_change is a fraction (0.15 = +15 %), at least -1 (quota to zero)."""

    quota_change: float = Field(ge=-1, allow_inf_nan=False)
    simplified_procedure: bool = False
    warning: bool = False
    withdraw_designation: bool = False

    def as_result(self) -> dict[str, Any]:
        """§4.5 result form: quota_change always, the flags only when they apply."""
        out: dict[str, Any] = {"quota_change": self.quota_change}
        for flag in ("simplified_procedure", "warning", "withdraw_designation"):
            if getattr(self, flag):
                out[flag] = True
        return out


class Sensitivity(_Strict):
    draws: int = Field(default=1000, ge=1, le=MAX_DRAWS)
    weight_noise: float = Field(default=0.25, ge=0, lt=1, allow_inf_nan=False)
    normalise_alternatives: list[NormaliseMethod] = Field(
        default_factory=lambda: ["minmax", "zscore", "rank"], min_length=1
    )
    seed: int = Field(default=1, ge=0)

    @field_validator("normalise_alternatives")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError(f"normalise_alternatives must not repeat a method: {value}")
        return value


class Missing(_Strict):
    """reweight: drop the missing indicator for that region and rescale the others' weights;
    exclude: leave the region out of the evaluation (no score, no rank, no grade).

    Before that policy applies, `coverage` (share of the indicators, by count, a region must
    have a value for; 0 = no rule) leaves regions below it unranked with the reason, and
    `impute` fills what it can: `group_mean` with the indicator's mean over the other regions
    of the region's `region_groups` entry (all evaluated regions when it has none, COINr's
    i_mean / i_mean_grp), `previous_year` with the region's value of the year before (COINr's
    impute_panel), `none` leaves the gap to the policy.
    """

    policy: Literal["reweight", "exclude"] = "reweight"
    impute: Literal["none", "group_mean", "previous_year"] = "none"
    coverage: float = Field(default=0.0, ge=0, le=1, allow_inf_nan=False)
    region_groups: dict[str, list[str]] = Field(default_factory=dict)


class Framework(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    year: int = Field(ge=2000, le=2100)
    title: LocalText | None = None
    notes: LocalText | None = None
    references: list[str] = Field(default_factory=list)
    indicators: list[Indicator] = Field(min_length=1)
    groups: list[Group] = Field(default_factory=list)
    aggregate: Aggregate
    grades: list[Grade] = Field(min_length=1)
    benefits: dict[str, Benefit]
    sensitivity: Sensitivity = Field(default_factory=Sensitivity)
    missing: Missing = Field(default_factory=Missing)

    _source: dict[str, str] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _consistent(self) -> Framework:
        problems = _semantic_problems(self)
        if problems:
            raise ValueError("\n".join(f"{path}\t{message}" for path, message in problems))
        return self

    # -- helpers used by the computation ---------------------------------------------------
    @property
    def indicator_ids(self) -> list[str]:
        return [ind.id for ind in self.indicators]

    @property
    def group_ids(self) -> list[str]:
        return [g.id for g in self.groups]

    def definition(self) -> dict[str, Any]:
        """The full framework as plain JSON data (defaults included), for the run record.

        Keys of the additions (groups, transforms, treatment) are left out while unset, so a
        framework that does not use them keeps the definition and digest it always had.
        """
        data = self.model_dump(mode="json")
        for ind in data["indicators"]:
            for key in ("group", "transform"):
                if ind.get(key) is None:
                    ind.pop(key, None)
        if not data["groups"]:
            data.pop("groups")
        for group in data.get("groups", []):
            for key in ("label", "rationale"):
                if group.get(key) is None:
                    group.pop(key)
        missing = data["missing"]
        for key, default in (("impute", "none"), ("coverage", 0.0), ("region_groups", {})):
            if missing.get(key) == default:
                missing.pop(key)
        return data

    def digest(self) -> str:
        """SHA-256 of the canonical JSON definition: equal digests mean equal frameworks."""
        return sha256_json(self.definition())

    @property
    def source(self) -> dict[str, str] | None:
        return self._source


def sha256_json(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _semantic_problems(fw: Framework) -> list[tuple[str, str]]:
    """Cross-field rules that single fields cannot express; (key path, message) pairs."""
    problems: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for i, ind in enumerate(fw.indicators):
        if ind.id in seen:
            problems.append((f"indicators[{i}].id", f"duplicate indicator id {ind.id!r} (also at [{seen[ind.id]}])"))
        seen.setdefault(ind.id, i)

    names = [g.grade for g in fw.grades]
    for i, band in enumerate(fw.grades):
        if names.index(band.grade) != i:
            problems.append((f"grades[{i}].grade", f"duplicate grade {band.grade!r}"))
        if i and not band.min_score < fw.grades[i - 1].min_score:
            problems.append(
                (
                    f"grades[{i}].min_score",
                    f"bands must be sorted by min_score, highest first, with no repeats "
                    f"({band.min_score} follows {fw.grades[i - 1].min_score})",
                )
            )
    lowest = min(g.min_score for g in fw.grades)
    if lowest != 0:
        problems.append(
            (
                "grades",
                f"bands must cover 0–100 with no gap: scores from 0 to {lowest} have no grade "
                "(add a band with min_score 0)",
            )
        )

    for name in names:
        if name not in fw.benefits:
            problems.append((f"benefits.{name}", f"missing benefit for grade {name!r}"))
    for name in fw.benefits:
        if name not in names:
            problems.append((f"benefits.{name}", f"benefit for unknown grade {name!r} (grades: {', '.join(names)})"))

    problems.extend(_group_problems(fw))
    problems.extend(_transform_problems(fw))
    problems.extend(_missing_problems(fw))

    if "goalposts" in fw.sensitivity.normalise_alternatives:
        lacking = [ind.id for ind in fw.indicators if ind.normalise.method != "goalposts"]
        if lacking:
            problems.append(
                (
                    "sensitivity.normalise_alternatives",
                    "goalposts as an alternative replaces every indicator's method, so every indicator "
                    f"needs goalposts low/high; these have none: {', '.join(lacking)}",
                )
            )
    return problems


def _both(en: str, ko: str) -> str:
    """A message in English and Korean on one line, as the other framework messages are read."""
    return f"{en} · {ko}"


def _group_problems(fw: Framework) -> list[tuple[str, str]]:
    """Unknown, missing and circular group references; groups without members."""
    problems: list[tuple[str, str]] = []
    ids = fw.group_ids
    known = ", ".join(ids) if ids else "none"
    seen: dict[str, int] = {}
    indicator_ids = set(fw.indicator_ids)
    for j, group in enumerate(fw.groups):
        if group.id in seen:
            problems.append(
                (
                    f"groups[{j}].id",
                    _both(
                        f"duplicate group id {group.id!r} (also at [{seen[group.id]}])", f"그룹 id {group.id!r} 중복"
                    ),
                )
            )
        seen.setdefault(group.id, j)
        if group.id in indicator_ids:
            problems.append(
                (
                    f"groups[{j}].id",
                    _both(
                        f"group id {group.id!r} is also an indicator id; ids must differ",
                        f"그룹 id {group.id!r}가 지표 id와 같습니다",
                    ),
                )
            )
        if group.parent is not None and group.parent not in ids:
            problems.append(
                (
                    f"groups[{j}].parent",
                    _both(
                        f"unknown parent group {group.parent!r} (groups: {known})",
                        f"알 수 없는 상위 그룹 {group.parent!r}",
                    ),
                )
            )
    for i, ind in enumerate(fw.indicators):
        if ind.group is not None and ind.group not in ids:
            problems.append(
                (
                    f"indicators[{i}].group",
                    _both(
                        f"unknown group {ind.group!r} (groups: {known}) [indicator {ind.id}]",
                        f"지표 {ind.id}의 그룹 {ind.group!r}이(가) 정의되어 있지 않습니다",
                    ),
                )
            )
    parents = {g.id: g.parent for g in fw.groups}
    reported: set[str] = set()
    for j, group in enumerate(fw.groups):
        chain = [group.id]
        node = group.parent
        while node is not None and node in parents:
            if node in chain:
                cycle = [*chain[chain.index(node) :], node]
                if not reported.intersection(cycle):
                    problems.append(
                        (
                            f"groups[{j}].parent",
                            _both(
                                f"circular group reference: {' → '.join(cycle)}",
                                f"그룹이 순환 참조합니다: {' → '.join(cycle)}",
                            ),
                        )
                    )
                    reported.update(cycle)
                break
            chain.append(node)
            node = parents[node]
    members = {g.id: 0 for g in fw.groups}
    for ind in fw.indicators:
        if ind.group in members:
            members[ind.group] += 1
    for g in fw.groups:
        if g.parent in members:
            members[g.parent] += 1
    for j, group in enumerate(fw.groups):
        if members.get(group.id) == 0:
            problems.append(
                (
                    f"groups[{j}]",
                    _both(
                        f"group {group.id!r} has no members (no indicator or group names it)",
                        f"그룹 {group.id!r}에 속한 지표나 하위 그룹이 없습니다",
                    ),
                )
            )
    return problems


def _transform_problems(fw: Framework) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for i, ind in enumerate(fw.indicators):
        spec = ind.normalise
        if ind.transform is None:
            continue
        if ind.transform.method == "log" and spec.method == "goalposts":
            assert spec.low is not None
            if spec.low <= 0:
                problems.append(
                    (
                        f"indicators[{i}].normalise.low",
                        _both(
                            f"goalposts under a log transform must be above 0 (got low={spec.low}) "
                            f"[indicator {ind.id}]",
                            f"로그 변환 지표 {ind.id}의 골포스트는 0보다 커야 합니다",
                        ),
                    )
                )
        if ind.transform.method == "winsorise" and spec.method == "goalposts":
            problems.append(
                (
                    f"indicators[{i}].transform",
                    _both(
                        "winsorise may fall back to a shifted log, which goalposts in raw units cannot follow; "
                        f"use minmax, zscore or rank [indicator {ind.id}]",
                        f"지표 {ind.id}: winsorise는 골포스트 정규화와 함께 쓸 수 없습니다",
                    ),
                )
            )
    return problems


def _missing_problems(fw: Framework) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    owner: dict[str, str] = {}
    for name, codes in fw.missing.region_groups.items():
        for code in codes:
            if code in owner:
                problems.append(
                    (
                        f"missing.region_groups.{name}",
                        _both(
                            f"region {code} is also in region group {owner[code]!r}",
                            f"지역 {code}이(가) 두 지역 그룹에 속해 있습니다",
                        ),
                    )
                )
            owner.setdefault(code, name)
    if fw.missing.region_groups and fw.missing.impute != "group_mean":
        problems.append(
            (
                "missing.region_groups",
                _both(
                    "region_groups apply only to impute: group_mean",
                    "region_groups는 impute: group_mean에만 쓸 수 있습니다",
                ),
            )
        )
    return problems


_MESSAGES = {
    "extra_forbidden": lambda e: "unknown key (not part of the framework format)",
    "missing": lambda e: "required key is missing",
    "greater_than": lambda e: f"must be greater than {e['ctx']['gt']} (got {e['input']!r})",
    "greater_than_equal": lambda e: f"must be at least {e['ctx']['ge']} (got {e['input']!r})",
    "less_than": lambda e: f"must be less than {e['ctx']['lt']} (got {e['input']!r})",
    "less_than_equal": lambda e: f"must be at most {e['ctx']['le']} (got {e['input']!r})",
    "literal_error": lambda e: f"must be one of {e['ctx']['expected']} (got {e['input']!r})",
    "string_pattern_mismatch": lambda e: f"must match {e['ctx']['pattern']} (got {e['input']!r})",
}


def _indicator_id(data: Any, loc: tuple[Any, ...]) -> str | None:
    """The id of the indicator an error points into, so the message names it, not just its index."""
    if len(loc) >= 2 and loc[0] == "indicators" and isinstance(loc[1], int) and isinstance(data, dict):
        items = data.get("indicators")
        if isinstance(items, list) and loc[1] < len(items) and isinstance(items[loc[1]], dict):
            ident = items[loc[1]].get("id")
            return str(ident) if ident is not None else None
    return None


def _error_lines(where: str, exc: ValidationError, data: Any = None) -> list[str]:
    lines: list[str] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        if err["type"] == "value_error" and "\t" in str(err.get("ctx", {}).get("error", "")):
            # Cross-field problems arrive as "path\tmessage" lines from Framework._consistent.
            for line in str(err["ctx"]["error"]).splitlines():
                path, _, message = line.partition("\t")
                lines.append(f"{where}:{path}: {message}")
            continue
        make = _MESSAGES.get(err["type"])
        if make is not None:
            message = make(err)
        elif err["type"] == "value_error":
            message = str(err.get("ctx", {}).get("error", err["msg"]))
        else:
            message = f"{err['msg']} (got {err.get('input')!r})"
        ident = _indicator_id(data, loc)
        if ident is not None and not (len(loc) == 3 and loc[2] == "id"):
            message += f" [indicator {ident}]"
        lines.append(f"{where}:{key_path(loc)}: {message}")
    return lines


def parse_framework(data: Any, where: str = "<framework>") -> Framework:
    """Validate already-parsed data; errors are raised as FrameworkError lines naming `where`."""
    if not isinstance(data, dict):
        raise FrameworkError([f"{where}:(root): a framework must be a mapping, got {type(data).__name__}"])
    try:
        return Framework.model_validate(data)
    except ValidationError as exc:
        raise FrameworkError(_error_lines(where, exc, data)) from exc


def load_framework(path: str | Path) -> Framework:
    """Read and validate a framework YAML file; remembers the file's name and SHA-256 for the run record."""
    path = Path(path)
    try:
        raw = read_yaml(path)
    except PolicyError as exc:
        raise FrameworkError(exc.errors) from exc
    framework = parse_framework(raw, str(path))
    framework._source = {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    return framework


DEFAULT_FRAMEWORK = Path(__file__).resolve().parents[3] / "policy" / "evaluation" / "rsv-2025.yaml"


def default_framework_path() -> Path:
    """policy/evaluation/rsv-2025.yaml, or REGIONVISA_POLICY_DIR/evaluation/rsv-2025.yaml when set."""
    policy_dir = os.environ.get("REGIONVISA_POLICY_DIR")
    if policy_dir:
        return Path(policy_dir) / "evaluation" / "rsv-2025.yaml"
    return DEFAULT_FRAMEWORK
