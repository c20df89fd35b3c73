"""Strict reading of policy YAML: every error names the file and the key path.

Policy is data that ministry staff edit by hand, so a typo must fail loudly and point at
itself (`file:key.path: message`) rather than be ignored.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, WrapValidator
from pydantic_core import PydanticCustomError

M = TypeVar("M", bound=BaseModel)


class PolicyError(ValueError):
    """One or more problems in a policy file; `errors` holds `file:key.path: message` lines."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


class LocalText(BaseModel):
    """Text a policy file shows to users, in Korean and English (DESIGN §6)."""

    model_config = ConfigDict(extra="forbid")
    ko: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def text(self, lang: str) -> str:
        return self.ko if lang == "ko" else self.en


# A legal or policy reference (DESIGN §4.1 `reference:`): a plain string, shown as written in both
# languages (the contract of the design files), or a {ko, en} mapping shown in the reader's language.
def _one_reference(value: Any, handler: Any) -> Any:
    """One error at the reference's own key, not one per form it may take."""
    try:
        return handler(value)
    except ValidationError:
        raise PydanticCustomError(
            "reference", "expected a reference: a non-empty string, or {ko: …, en: …} with both texts"
        ) from None


Reference = Annotated[Annotated[str, Field(min_length=1)] | LocalText, WrapValidator(_one_reference)]


def reference_text(reference: str | LocalText | dict | None, lang: str) -> str:
    """A reference in `lang`: a plain string as written, a {ko, en} mapping's member for `lang`."""
    if reference is None:
        return ""
    if isinstance(reference, LocalText):
        return reference.text(lang)
    if isinstance(reference, dict):
        return str(reference.get(lang) or reference.get("en") or reference.get("ko") or "")
    return reference


def reference_contract(reference: str | LocalText | dict | None) -> str:
    """The one string the command line, the API and the rule programme keep: the English member of a
    {ko, en} reference, a plain string as written."""
    return reference_text(reference, "en")


def reference_local(reference: str | LocalText | dict | None) -> dict[str, str]:
    """A reference as {ko, en} for the pages (a plain string in both)."""
    return {lang: reference_text(reference, lang) for lang in ("ko", "en")}


def ascending_dates(values: dict[dt.date, Any]) -> dict[dt.date, Any]:
    """The check every dated parameter shares (OpenFisca style): at least one value, dates in
    ascending order, so the value in force on a day is the last one dated on or before it."""
    if not values:
        raise ValueError("'values' must hold at least one dated value")
    keys = list(values)
    if keys != sorted(keys):
        raise ValueError(f"dates must be in ascending order, found {', '.join(map(str, keys))}")
    return values


def key_path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(root)"


def read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise PolicyError([f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})"]) from exc
    except OSError as exc:
        raise PolicyError([f"{path}: cannot be read ({exc.strerror})"]) from exc


def validation_errors(path: Path | str, exc: ValidationError) -> list[str]:
    return [f"{path}:{key_path(err['loc'])}: {err['msg']}" for err in exc.errors()]


def parse_model(model: type[M], data: Any, path: Path | str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(validation_errors(path, exc)) from exc
