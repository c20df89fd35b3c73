"""Upload size limits as data: `policy/national/uploads.yaml` (endpoint -> role -> size, in human
units), read with no web framework, so that the table readers (`tabular`) and the web layer's
body-limit middleware (`web.uploads`) share one definition."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from regionvisa.accounts.policy import ACTIONS, POLICY
from regionvisa.config import PROJECT_ROOT, get_settings
from regionvisa.policyfiles import read_yaml

_PARAMETER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def route_pattern(template: str) -> re.Pattern:
    """'/api/v1/records/{kind}/imports' -> a pattern matching the path with any one segment for
    each `{name}` (the routes' own templates, as FastAPI writes them)."""
    parts = _PARAMETER.split(template)
    return re.compile("^" + "[^/]+".join(re.escape(part) for part in parts) + "$")


UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB)\s*$", re.IGNORECASE)


def parse_size(text: str | int) -> int:
    """'10 MB' -> 10485760 (KB, MB, GB are powers of 1024)."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    match = _SIZE.match(str(text))
    if not match:
        raise ValueError(f"not a size: {text!r} (write e.g. '10 MB' or '2 GB')")
    return int(float(match.group(1)) * UNITS[match.group(2).upper()])


def human_size(size: int) -> str:
    """10485760 -> '10 MB'; 1610612736 -> '1.5 GB'."""
    for unit in ("TB", "GB", "MB", "KB"):
        if size >= UNITS[unit]:
            value = size / UNITS[unit]
            return f"{value:.1f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{size} B"


@dataclass(frozen=True)
class Endpoint:
    name: str
    action: str
    description: str
    routes: tuple[tuple[str, re.Pattern], ...]
    limits: dict[str, int] = field(hash=False)

    def matches(self, method: str, path: str) -> bool:
        return any(method == m and pattern.match(path) for m, pattern in self.routes)


@dataclass(frozen=True)
class UploadLimits:
    default: int
    xlsx_unpacked: int
    parquet_row_group: int
    endpoints: tuple[Endpoint, ...]

    def endpoint(self, method: str, path: str) -> Endpoint | None:
        return next((e for e in self.endpoints if e.matches(method, path)), None)

    def by_name(self, name: str) -> Endpoint:
        return next(e for e in self.endpoints if e.name == name)


def _load(path: Path) -> UploadLimits:
    data = read_yaml(path)
    endpoints = []
    for name, spec in (data.get("endpoints") or {}).items():
        action = spec["action"]
        if action not in ACTIONS:
            raise ValueError(f"{path}: {name}: unknown action {action!r}")
        limits = {role: parse_size(size) for role, size in spec["limits"].items()}
        granted = set(POLICY[action])
        if set(limits) != granted:  # a limit for a role without the permission would mean nothing
            raise ValueError(
                f"{path}: {name}: limits are for {sorted(limits)} but {action} is held by {sorted(granted)}"
            )
        routes = []
        for route in spec["routes"]:
            method, template = route.split(" ", 1)
            routes.append((method.upper(), route_pattern(template)))
        endpoints.append(Endpoint(name, action, spec.get("description", ""), tuple(routes), limits))
    unpacked = data.get("unpacked") or {}
    return UploadLimits(
        default=parse_size(data["default"]),
        xlsx_unpacked=parse_size(unpacked.get("xlsx", "256 MB")),
        parquet_row_group=parse_size(unpacked.get("parquet_row_group", "512 MB")),
        endpoints=tuple(endpoints),
    )


@lru_cache(maxsize=4)
def _cached(path: Path, _mtime: float) -> UploadLimits:
    return _load(path)


def upload_limits(policy_dir: Path | None = None) -> UploadLimits:
    """The limits of `policy/national/uploads.yaml` (re-read when the file changes)."""
    path = Path(policy_dir or get_settings().policy_dir) / "national" / "uploads.yaml"
    if not path.exists():  # a policy folder of its own without upload limits: the project's
        path = PROJECT_ROOT / "policy" / "national" / "uploads.yaml"
    return _cached(path, path.stat().st_mtime)
