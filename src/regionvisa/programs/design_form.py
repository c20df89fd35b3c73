"""The programme design editor's form ⇄ design dict, pure (no I/O).

A design is shown as plain metadata fields, rows of dated parameter values (parameter, date, value)
and rows of simple criteria (applicant field, comparison operator, a literal or a parameter). What
the form cannot express (points, documents, nested rules, keys it does not know, values of another
type) is kept verbatim as YAML: the whole design's remainder in `extra`, a criterion's rule that is
not simple in its row's `rule_yaml`. So `to_design(from_design(d)) == d` for every design.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

COMPARISON_OPS = ("==", "!=", "<", "<=", ">", ">=")
# metadata key -> type of its value in the design
META: dict[str, type] = {
    "id": str,
    "version": int,
    "region": str,
    "base_visa": str,
    "valid_from": dt.date,
    "valid_to": dt.date,
    "quota": int,
    "obligation_months": int,
    "kiip_deadline_months": int,
}
# The residence area as ticked regions: two-digit region codes, each once, in ascending order
# (the order the form lists them in); any other list is kept verbatim in the YAML block.
AREA_CODE = re.compile(r"^\d{2}$")
RULE_KEYS = ("id", "label_ko", "label_en", "reference", "field", "op", "kind", "value", "rule_yaml", "extra")
PARAM_KEYS = ("name", "date", "value", "text_date")  # text_date "1": the date was written as text


def _yaml(value: Any) -> str:
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False, width=120) if value else ""


def scalar_text(value: Any) -> str:
    """A literal as typed in the form: YAML's own spelling, so that reading it back gives the same value."""
    if isinstance(value, str) and _plain(value) and yaml.safe_load(value) == value:
        return value
    return yaml.safe_dump(value, allow_unicode=True, default_flow_style=True, width=10_000).removesuffix("\n...\n")


def _plain(value: str) -> bool:
    try:
        return isinstance(yaml.safe_load(value), str) and value.strip() == value and value != ""
    except yaml.YAMLError:
        return False


def scalar_value(text: str) -> Any:
    """A literal typed in the form; text YAML cannot read stays text (validation then names it)."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (str, int, float, bool, dt.date)) and value is not None else text


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and (a == b or (a != a and b != b))


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool, dt.date)) and value is not None


@dataclass
class DesignForm:
    meta: dict[str, str] = field(default_factory=dict)
    title_ko: str = ""
    title_en: str = ""
    params: list[dict[str, str]] = field(default_factory=list)
    rules: list[dict[str, str]] = field(default_factory=list)
    extra: str = ""  # YAML of the design keys the form does not show
    area: list[str] = field(default_factory=list)  # residence_area: region codes ticked
    text_meta: list[str] = field(default_factory=list)  # date keys written as ISO text (a stored design's)

    def as_fields(self) -> dict[str, str]:
        """The form as the flat name → value pairs an HTML form sends."""
        out = {f"meta-{k}": v for k, v in self.meta.items()}
        out.update({"title_ko": self.title_ko, "title_en": self.title_en, "extra": self.extra})
        out.update({f"area-{code}": "1" for code in self.area})
        if self.text_meta:
            out["meta_text"] = ",".join(self.text_meta)
        for i, row in enumerate(self.params):
            out.update({f"param-{i}-{k}": row.get(k, "") for k in PARAM_KEYS})
        for i, row in enumerate(self.rules):
            out.update({f"rule-{i}-{k}": row.get(k, "") for k in RULE_KEYS})
        return out


def _meta_text(key: str, value: Any) -> str | None:
    kind = META[key]
    if kind is int:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else None
    if kind is dt.date:
        if isinstance(value, str) and _day_ok(value):  # a stored design keeps its dates as ISO text
            return value
        return value.isoformat() if isinstance(value, dt.date) and not isinstance(value, dt.datetime) else None
    return value if isinstance(value, str) and value.strip() == value != "" else None


def _area_ok(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(c, str) and AREA_CODE.match(c) for c in value)
        and value == sorted(set(value))
    )


def _both(value: Any) -> bool:
    """A {ko, en} label the form's two fields can hold (not both empty)."""
    return (
        isinstance(value, dict)
        and set(value) == {"ko", "en"}
        and all(isinstance(v, str) for v in value.values())
        and any(value.values())
    )


def _rule_row(criterion: Any) -> dict[str, str] | None:
    ident = criterion.get("id") if isinstance(criterion, dict) else None
    if not (isinstance(ident, str) and ident.strip() == ident):
        return None
    row = dict.fromkeys(RULE_KEYS, "")
    row["id"] = criterion["id"]
    rest = {k: v for k, v in criterion.items() if k not in ("id", "label", "reference", "rule")}
    label = criterion.get("label")
    if _both(label):
        row["label_ko"], row["label_en"] = label["ko"], label["en"]
    elif "label" in criterion:
        rest["label"] = label
    if isinstance(criterion.get("reference"), str) and criterion["reference"]:
        row["reference"] = criterion["reference"]
    elif "reference" in criterion:
        rest["reference"] = criterion["reference"]
    rule = criterion.get("rule")
    simple = _simple_rule(rule)
    if simple:
        row.update(simple)
    elif "rule" in criterion:
        row["rule_yaml"] = _yaml({"rule": rule})
    row["extra"] = _yaml(rest)
    return row


def _simple_rule(rule: Any) -> dict[str, str] | None:
    if not (isinstance(rule, dict) and len(rule) == 1):
        return None
    ((op, args),) = rule.items()
    if op not in COMPARISON_OPS or not (isinstance(args, list) and len(args) == 2):
        return None
    left, right = args
    if not (isinstance(left, dict) and set(left) == {"var"} and isinstance(left["var"], str)):
        return None
    if (
        isinstance(right, dict)
        and set(right) == {"param"}
        and isinstance(right["param"], str)
        and right["param"].strip() == right["param"]
    ):
        return {"field": left["var"], "op": op, "kind": "param", "value": right["param"]}
    if _is_scalar(right) and _same(scalar_value(scalar_text(right)), right):
        return {"field": left["var"], "op": op, "kind": "value", "value": scalar_text(right)}
    return None


def from_design(design: Mapping[str, Any]) -> DesignForm:
    form = DesignForm()
    rest: dict[str, Any] = {}
    for key, value in design.items():
        if key in META and (text := _meta_text(key, value)) is not None:
            form.meta[key] = text
            if META[key] is dt.date and isinstance(value, str):
                form.text_meta.append(key)
        elif key == "residence_area" and _area_ok(value):
            form.area = list(value)
        elif key == "title" and _both(value):
            form.title_ko, form.title_en = value["ko"], value["en"]
        elif key == "parameters" and _params_ok(value):
            form.params = [
                {
                    "name": name,
                    "date": str(day),
                    "value": scalar_text(v),
                    "text_date": "1" if isinstance(day, str) else "",
                }
                for name, dated in value.items()
                for day, v in dated.items()
            ]
        elif key == "criteria" and isinstance(value, list) and value and all(_rule_row(c) for c in value):
            form.rules = [_rule_row(c) for c in value]
        else:
            rest[key] = value
    form.extra = _yaml(rest)
    return form


def _params_ok(value: Any) -> bool:
    if not (isinstance(value, dict) and value):
        return False
    for name, dated in value.items():
        if not (isinstance(name, str) and name.strip() == name != "" and isinstance(dated, dict) and dated):
            return False
        for day, v in dated.items():
            if not (_day_ok(day) and _is_scalar(v) and _same(scalar_value(scalar_text(v)), v)):
                return False
    return True


def _day_ok(day: Any) -> bool:
    if type(day) is dt.date:
        return True
    try:
        return isinstance(day, str) and dt.date.fromisoformat(day).isoformat() == day
    except ValueError:
        return False


def _rows(fields: Mapping[str, str], prefix: str, keys: tuple[str, ...]) -> list[dict[str, str]]:
    found = sorted({int(m.group(1)) for k in fields if (m := re.fullmatch(rf"{prefix}-(\d+)-\w+", k))})
    return [{k: str(fields.get(f"{prefix}-{i}-{k}", "")) for k in keys} for i in found]


def from_fields(fields: Mapping[str, str]) -> DesignForm:
    """The form as sent: every typed string kept, rows in the order of their numbers."""
    return DesignForm(
        meta={k: str(fields.get(f"meta-{k}", "")) for k in META if f"meta-{k}" in fields},
        title_ko=str(fields.get("title_ko", "")),
        title_en=str(fields.get("title_en", "")),
        params=_rows(fields, "param", PARAM_KEYS),
        rules=_rows(fields, "rule", RULE_KEYS),
        extra=str(fields.get("extra", "")),
        area=sorted(m.group(1) for k in fields if (m := re.fullmatch(r"area-(\d{2})", k))),
        text_meta=[k for k in str(fields.get("meta_text", "")).split(",") if k in META and META[k] is dt.date],
    )


def _typed(key: str, text: str) -> Any:
    kind = META[key]
    text = text.strip()
    if kind is int:
        return int(text) if re.fullmatch(r"-?\d+", text) else text
    if kind is dt.date:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return text
    return text


def _date_key(text: str) -> Any:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return text.strip()


def _load(text: str) -> dict:
    data = yaml.safe_load(text) if text.strip() else {}
    return data if isinstance(data, dict) else {}


def to_design(form: DesignForm) -> dict[str, Any]:
    """The design the form says (raises yaml.YAMLError only for a broken carried YAML block)."""
    design: dict[str, Any] = {}
    for key in META:
        if key in form.meta and form.meta[key].strip() != "":
            design[key] = form.meta[key].strip() if key in form.text_meta else _typed(key, form.meta[key])
    if form.area:
        design["residence_area"] = list(form.area)
    if form.title_ko or form.title_en:
        design["title"] = {"ko": form.title_ko, "en": form.title_en}
    if form.params:
        params: dict[str, dict] = {}
        for row in form.params:
            day = row["date"].strip() if row.get("text_date") else _date_key(row["date"])
            params.setdefault(row["name"].strip(), {})[day] = scalar_value(row["value"])
        design["parameters"] = params
    if form.rules:
        design["criteria"] = [_criterion(row) for row in form.rules]
    design.update(_load(form.extra))
    return design


def _criterion(row: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": row.get("id", "").strip()}
    if row.get("label_ko") or row.get("label_en"):
        out["label"] = {"ko": row.get("label_ko", ""), "en": row.get("label_en", "")}
    if row.get("reference"):
        out["reference"] = row["reference"]
    if row.get("rule_yaml", "").strip():
        out.update(_load(row["rule_yaml"]))
    else:
        value = row.get("value", "")
        right: Any = {"param": value.strip()} if row.get("kind") == "param" else scalar_value(value)
        out["rule"] = {row.get("op") or "==": [{"var": row.get("field", "")}, right]}
    out.update(_load(row.get("extra", "")))
    return out


def add_rule(form: DesignForm) -> None:
    form.rules.append(dict.fromkeys(RULE_KEYS, "") | {"op": ">=", "kind": "value"})


def add_param(form: DesignForm) -> None:
    form.params.append(dict.fromkeys(PARAM_KEYS, ""))
