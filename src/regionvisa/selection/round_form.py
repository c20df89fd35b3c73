"""The form that opens a selection round: fields and one row per rubric criterion, no YAML needed.

A ministry officer opens a round by filling the round's fields and the rubric as rows (id, weight,
label and description in Korean and English). The rows start from the ministry's five criteria;
"Add a criterion" gives one more empty row without JavaScript, and a row left empty is dropped.
Power users may still paste the whole rubric as YAML (it then replaces the rows), and a rubric of
any round can be copied back as YAML from the form.

Everything here is pure: the page module reads the form, calls `parse`, and on refusal shows the
same page with `FormErrors` beside the fields (the pattern of `web.forms`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

import yaml
from pydantic import ValidationError

from regionvisa.core.errors import Invalid
from regionvisa.selection import rounds
from regionvisa.selection.schemas import DEFAULT_RUBRIC, RoundIn
from regionvisa.web import forms, i18n
from regionvisa.web.labels import N_

# A row's cells: form name suffix -> (path inside a criterion, label).
CELLS: dict[str, tuple[tuple[str, ...], str]] = {
    "id": (("id",), N_("Criterion id")),
    "weight": (("weight",), N_("Weight")),
    "label_ko": (("label", "ko"), N_("Name in Korean")),
    "label_en": (("label", "en"), N_("Name in English")),
    "desc_ko": (("description", "ko"), N_("Description in Korean")),
    "desc_en": (("description", "en"), N_("Description in English")),
}
MAX_ROWS = 20

LABELS = {
    "year": N_("Year"),
    "opens": N_("Submissions open on"),
    "closes": N_("Submissions close at the end of"),
    "threshold": N_("Selection threshold (aggregate score, 0–100)"),
    "quorum": N_("Quorum (share of the members who are not recused)"),
    "max_selected": N_("Most regions selected (optional)"),
    "quota_ceiling": N_("National quota ceiling (optional)"),
    "rubric": N_("Rubric as YAML (replaces the rows above)"),
    "criteria": N_("Rubric criteria"),
}
# The schema's names for the form's fields.
SCHEMA_FIELDS = {"window_opens_at": "opens", "window_closes_at": "closes"}


def _lang() -> str:
    return i18n.pick_language(i18n.current_language.get())


@dataclass(frozen=True)
class Parsed:
    data: RoundIn | None
    errors: forms.FormErrors


def row_count(values: Mapping[str, str]) -> int:
    """How many criterion rows the form shows: the rows posted, one more when asked for."""
    posted = sum(1 for n in range(1, MAX_ROWS + 1) if f"c{n}_id" in values)
    wanted = posted + (1 if values.get("add_criterion") else 0)
    return max(1, min(MAX_ROWS, wanted))


def initial_values(today: dt.date) -> dict[str, str]:
    """The form as first shown: a round opening today for 30 days, the ministry's five criteria."""
    values = {
        "year": str(today.year),
        "opens": today.isoformat(),
        "closes": (today + dt.timedelta(days=30)).isoformat(),
        "threshold": "60",
        "quorum": "2/3",
    }
    values.update(rubric_values(DEFAULT_RUBRIC))
    return values


def rubric_values(rubric: list[dict]) -> dict[str, str]:
    """A rubric as the form's row values (c1_id, c1_weight, c1_label_ko …)."""
    values: dict[str, str] = {}
    for n, criterion in enumerate(rubric, start=1):
        for suffix, (path, _label) in CELLS.items():
            value = criterion
            for key in path:
                value = value.get(key, "") if isinstance(value, dict) else ""
            values[f"c{n}_{suffix}"] = _number(value) if suffix == "weight" else str(value or "")
    return values


def _number(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rows(values: Mapping[str, str]) -> tuple[list[dict], list[int], list[forms.FormError]]:
    """The criteria typed as rows (empty rows dropped), their row numbers, and rows' own errors."""
    criteria, numbers, problems = [], [], []
    for n in range(1, MAX_ROWS + 1):
        cells = {s: (values.get(f"c{n}_{s}") or "").strip() for s in CELLS}
        if not any(cells.values()):
            continue
        try:
            weight = float(cells["weight"]) if cells["weight"] else 0.0
        except ValueError:
            problems.append(
                _error(f"c{n}_weight", n, "weight", ko="가중치는 숫자로 입력해 주세요", en="Weight must be a number")
            )
            weight = 0.0
        criteria.append(
            {
                "id": cells["id"],
                "weight": weight,
                "label": {"ko": cells["label_ko"], "en": cells["label_en"]},
                "description": {"ko": cells["desc_ko"], "en": cells["desc_en"]},
            }
        )
        numbers.append(n)
    return criteria, numbers, problems


def _row_label(n: int, suffix: str, lang: str) -> str:
    cell = forms.label_text(CELLS[suffix][1], suffix, lang)
    return f"심사 기준 {n}: {cell}" if lang == "ko" else f"Criterion {n}: {cell}"


def _error(name: str, n: int, suffix: str, *, ko: str, en: str) -> forms.FormError:
    lang = _lang()
    label = _row_label(n, suffix, lang)
    return forms.FormError(field=name, id=name, label=label, message=f"{label} — {ko if lang == 'ko' else en}")


def _duplicates(criteria: list[dict], numbers: list[int]) -> list[forms.FormError]:
    seen: dict[str, int] = {}
    found = []
    for criterion, n in zip(criteria, numbers, strict=True):
        cid = criterion["id"]
        if cid and cid in seen:
            found.append(
                _error(
                    f"c{n}_id",
                    n,
                    "id",
                    ko=f"기준 {seen[cid]}와(과) 같은 id입니다: 다른 id를 쓰세요",
                    en=f"the same id as criterion {seen[cid]}: use another id",
                )
            )
        seen.setdefault(cid, n)
    return found


def _local(value: str, *, field: str, end: bool = False) -> dt.datetime:
    """A date typed in the form, in Korean time; a closing date means the end of that day."""
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(
            code="invalid_date", ko="날짜(YYYY-MM-DD)로 입력해 주세요", en="must be a date (YYYY-MM-DD)", field=field
        ) from None
    start = day + dt.timedelta(days=1) if end else day
    return dt.datetime.combine(start, dt.time(0, 0), tzinfo=rounds.KST)


def _whole(values: Mapping[str, str], name: str) -> int | None:
    text = (values.get(name) or "").strip()
    if not text:
        return None
    if not text.lstrip("-").isdigit():
        raise Invalid(code="invalid_number", ko="정수로 입력해 주세요", en="must be a whole number", field=name)
    return int(text)


def _decimal(values: Mapping[str, str], name: str, default: float) -> float:
    text = (values.get(name) or "").strip()
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        raise Invalid(code="invalid_number", ko="숫자로 입력해 주세요", en="must be a number", field=name) from None


def _rubric(values: Mapping[str, str]) -> tuple[list[dict], list[int], list[forms.FormError]]:
    text = (values.get("rubric") or "").strip()
    if text:
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f" (line {mark.line + 1})" if mark else ""
            raise Invalid(
                code="invalid_yaml", ko=f"YAML로 읽을 수 없습니다{line}", en=f"is not valid YAML{line}", field="rubric"
            ) from None
        if not isinstance(loaded, list):
            raise Invalid(
                code="invalid_yaml", ko="기준의 목록이어야 합니다", en="must be a list of criteria", field="rubric"
            )
        return loaded, [], []
    criteria, numbers, problems = _rows(values)
    if not criteria and not any(k.startswith("c1_") for k in values):
        return list(DEFAULT_RUBRIC), [], []  # a form posted without rows (an older client)
    return criteria, numbers, problems + _duplicates(criteria, numbers)


def _one(exc: Invalid, lang: str) -> forms.FormError:
    name = exc.field or "form"
    label = forms.label_text(LABELS.get(name), name, lang)
    text = exc.ko if lang == "ko" else exc.en
    return forms.FormError(field=name, id=f"round-{name}", label=label, message=f"{label}: {text}")


def _schema_errors(exc: ValidationError, numbers: list[int], lang: str, *, as_yaml: bool) -> list[forms.FormError]:
    """Pydantic's refusals, each beside its field: a rubric cell beside its row's cell."""
    found = []
    paths = {path: suffix for suffix, (path, _label) in CELLS.items()}
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err.get("loc", ())]
        if loc and loc[0] == "rubric" and len(loc) >= 3 and loc[1].isdigit() and numbers:
            n = numbers[int(loc[1])]
            suffix = paths.get(tuple(loc[2:4]), paths.get(tuple(loc[2:3]), "id"))
            label = _row_label(n, suffix, lang)
            message = forms.pydantic_message(err, label, lang)
            found.append(forms.FormError(field=f"c{n}_{suffix}", id=f"c{n}_{suffix}", label=label, message=message))
            continue
        name = SCHEMA_FIELDS.get(loc[0], loc[0]) if loc else "form"
        if name == "rubric":
            name = "rubric" if as_yaml else "criteria"
        label = forms.label_text(LABELS.get(name), name, lang)
        found.append(
            forms.FormError(
                field=name,
                id=f"round-{name}",
                label=label,
                message=forms.pydantic_message(err, label, lang),
            )
        )
    return found


# What stands in for a value refused before the schema sees it, so the schema still checks the rest.
PLACEHOLDERS = {
    "year": 2020,
    "window_opens_at": dt.datetime(2020, 1, 1, tzinfo=rounds.KST),
    "window_closes_at": dt.datetime(2020, 1, 2, tzinfo=rounds.KST),
    "threshold": 60.0,
    "max_selected": None,
    "quota_ceiling": None,
}
ORDER = ["year", "opens", "closes", "threshold", "quorum", "max_selected", "quota_ceiling", "criteria"]


def _form_order(error: forms.FormError) -> tuple:
    name = error.field or ""
    row = re.match(r"^c(\d+)_(\w+)$", name)
    if row:
        return (len(ORDER), int(row.group(1)), list(CELLS).index(row.group(2)))
    return (ORDER.index(name) if name in ORDER else len(ORDER) + 1, 0, 0)


def parse(values: Mapping[str, str]) -> Parsed:
    """The round the form describes, or every refusal at once beside its field, in the form's order."""
    lang = _lang()
    problems: list[forms.FormError] = []
    fields: dict = {}
    readers = {
        "year": lambda: _whole(values, "year") or 0,
        "window_opens_at": lambda: _local(values.get("opens", ""), field="opens"),
        "window_closes_at": lambda: _local(values.get("closes", ""), field="closes", end=True),
        "threshold": lambda: _decimal(values, "threshold", 60.0),
        "max_selected": lambda: _whole(values, "max_selected"),
        "quota_ceiling": lambda: _whole(values, "quota_ceiling"),
    }
    for key, read in readers.items():
        try:
            fields[key] = read()
        except Invalid as exc:
            problems.append(_one(exc, lang))
            fields[key] = PLACEHOLDERS[key]
    numbers: list[int] = []
    try:
        rubric, numbers, row_problems = _rubric(values)
        problems += row_problems
    except Invalid as exc:
        problems.append(_one(exc, lang))
        rubric = list(DEFAULT_RUBRIC)
    if not rubric:
        problems.append(
            _one(
                Invalid(
                    code="no_criteria",
                    ko="기준을 하나 이상 입력해 주세요",
                    en="enter at least one criterion",
                    field="criteria",
                ),
                lang,
            )
        )
        rubric = list(DEFAULT_RUBRIC)
        numbers = []
    data = None
    try:
        data = RoundIn(
            **fields,
            rubric=rubric,
            quorum=(values.get("quorum") or "2/3").strip(),
            trim=values.get("trim") == "on",
        )
    except ValidationError as exc:
        refused = {p.field for p in problems}
        rows_refused = any(re.match(r"^c\d+_", f or "") for f in refused)
        for error in _schema_errors(exc, numbers, lang, as_yaml=bool((values.get("rubric") or "").strip())):
            if error.field in refused or (error.field == "criteria" and rows_refused):
                continue
            problems.append(error)
    if problems:
        return Parsed(data=None, errors=forms.FormErrors(items=sorted(problems, key=_form_order)))
    return Parsed(data=data, errors=forms.NO_ERRORS)
