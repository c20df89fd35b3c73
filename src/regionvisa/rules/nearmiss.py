"""Near misses: for an applicant who fails a criterion, exactly what would have to change.

Pure on purpose: it reads only the checked rule tree and the explanation the evaluator already
recorded (no database, no files, no clock: `on` is passed in), so every answer follows from its
inputs and can be tested and reused without a session. Each proposed change is verified by
evaluating the changed applicant again.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from regionvisa.rules.fields import FIELDS
from regionvisa.rules.parse import coerce_applicant
from regionvisa.rules.scalar import Explanation, evaluate
from regionvisa.rules.schema import Node
from regionvisa.rules.text import format_value
from regionvisa.rules.validate import CheckedProgram

_SHORT_LABELS = {"topik_level": ("TOPIK", "TOPIK"), "kiip_level": ("KIIP", "사회통합프로그램")}
_FLIP = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}
NEAR_MISS_LIMIT = 2


@dataclass
class Change:
    """One thing an applicant would have to change: `field` from `current` to `target`."""

    field: str | None
    kind: str  # at_least | at_most | more_than | less_than | equal | one_of | not_equal | age_* | meet
    current: object
    target: object
    text: dict[str, str]

    def to_dict(self) -> dict:
        return {
            "field": self.field,
            "kind": self.kind,
            "current": self.current,
            "target": self.target,
            "text": self.text,
        }


def _label(field: str | None, lang: str, kind: str = "") -> str:
    if kind.startswith("age"):
        return "나이" if lang == "ko" else "age"
    if field in _SHORT_LABELS:
        return _SHORT_LABELS[field][lang == "ko"]
    f = FIELDS.get(field or "")
    return f.label(lang) if f else str(field)


def _show(value, lang: str) -> str:
    if value is None:
        return "(없음)" if lang == "ko" else "(not given)"
    if isinstance(value, list):
        return ", ".join(_show(v, lang) for v in value[:6]) + (" …" if len(value) > 6 else "")
    return format_value(value, lang)


def _change_text(field: str | None, kind: str, current, target) -> dict[str, str]:
    unit = FIELDS[field].unit if field in FIELDS and not kind.startswith("age") else None
    out = {}
    for lang in ("en", "ko"):
        name = _label(field, lang, kind)
        cur, tgt = _show(current, lang), _show(target, lang)
        if kind in ("more_than", "age_more_than"):
            tgt = f"more than {tgt}" if lang == "en" else f"{tgt} 초과"
        elif kind in ("less_than", "age_less_than"):
            tgt = f"less than {tgt}" if lang == "en" else f"{tgt} 미만"
        elif kind == "not_equal":
            tgt = f"anything but {tgt}" if lang == "en" else f"{tgt} 이외의 값"
        elif kind == "one_of" and isinstance(target, list) and len(target) > 1:
            tgt = f"one of {tgt}" if lang == "en" else f"{tgt} 중 하나"
        text = f"{name} {cur} → {tgt}"
        if unit == "KRW":
            text += " KRW" if lang == "en" else "원"
        out[lang] = text
    return out


def _make(field: str | None, kind: str, current, target) -> Change:
    return Change(field, kind, current, target, _change_text(field, kind, current, target))


def _step(field: str, value, up: bool):
    """The next value above (or below) `value` for a field whose values are discrete."""
    f = FIELDS.get(field)
    if f is None:
        return None
    if f.is_enum and isinstance(value, str) and value in f.values:
        i = f.values.index(value) + (1 if up else -1)
        return f.values[i] if 0 <= i < len(f.values) else None
    if f.type == "integer" and isinstance(value, int | float):
        return math.floor(value) + 1 if up else math.ceil(value) - 1
    if f.type == "date" and isinstance(value, str):
        return (dt.date.fromisoformat(value) + dt.timedelta(days=1 if up else -1)).isoformat()
    return None


def _comparison_change(node: Node, record: dict, on: dt.date) -> Change | None:
    """What makes one failed comparison true, when one side is a field (or an age, or days until a date)."""
    operands = record["operands"]
    sides = [i for i, o in enumerate(operands) if o["reads_applicant"]]
    if len(sides) != 1:
        return None
    i = sides[0]
    arg = node.args[i]
    current = operands[i]["value"]
    if arg.op == "var":
        field, shape = arg.value, "field"
    elif arg.op == "years_since" and arg.args[0].op == "var":
        field, shape = arg.args[0].value, "age"
    elif (
        arg.op == "days_between"
        and arg.args[1].op == "var"
        and not arg.args[0].reads_applicant
        and operands[i]["value"] is not None
    ):
        field, shape = arg.args[1].value, "days"
    else:
        return None
    op = node.op
    if op == "between":
        if i != 0:
            return None
        lo, hi = operands[1]["value"], operands[2]["value"]
        if current is None or lo is None or hi is None:
            return None
        op, threshold = (">=", lo) if _less(current, lo, field, shape) else ("<=", hi)
    elif op == "in":
        if i != 0:
            return None
        values = operands[1]["value"] or []
        if shape != "field":
            return None
        return _make(field, "one_of", current, values[0] if len(values) == 1 else list(values))
    else:
        threshold = operands[1 - i]["value"]
        if i == 1:
            op = _FLIP[op]
    if threshold is None:
        return None
    if shape == "days":
        days = {">=": threshold, ">": math.floor(threshold) + 1, "==": threshold}.get(op)
        if days is None:
            return None
        base = node.args[i].args[0]
        start = on if base.op == "today" else None
        if start is None:
            return None
        date = (on + dt.timedelta(days=math.ceil(days))).isoformat()
        current_date = (on + dt.timedelta(days=int(current))).isoformat() if current is not None else None
        return _make(field, "at_least", current_date, date)
    if shape == "age":
        kind = {">=": "age_at_least", "<=": "age_at_most", ">": "age_more_than", "<": "age_less_than"}.get(op)
        if kind is None:
            return _make(field, "age_equal", current, threshold)
        if kind in ("age_more_than", "age_less_than") and float(threshold).is_integer():
            return _make(
                field,
                "age_at_least" if op == ">" else "age_at_most",
                current,
                int(threshold) + (1 if op == ">" else -1),
            )
        value = (
            math.ceil(threshold)
            if kind == "age_at_least"
            else math.floor(threshold)
            if kind == "age_at_most"
            else threshold
        )
        return _make(field, kind, current, value)
    if op in (">=", "<="):
        f = FIELDS.get(field)
        if f is not None and f.type == "integer" and isinstance(threshold, float):
            threshold = math.ceil(threshold) if op == ">=" else math.floor(threshold)
        return _make(field, "at_least" if op == ">=" else "at_most", current, threshold)
    if op in (">", "<"):
        stepped = _step(field, threshold, up=op == ">")
        if stepped is not None:
            return _make(field, "at_least" if op == ">" else "at_most", current, stepped)
        return _make(field, "more_than" if op == ">" else "less_than", current, threshold)
    if op == "==":
        return _make(field, "equal", current, threshold)
    return _make(field, "not_equal", current, threshold)


def _less(current, low, field: str, shape: str) -> bool:
    f = FIELDS.get(field)
    if shape == "field" and f is not None and f.is_enum:
        return f.values.index(current) < f.values.index(low)
    return current < low


def _node_value(node: Node, comparisons: dict[str, dict], values: dict[str, object]):
    """A logic node's Kleene value, rebuilt from the comparisons the explanation recorded."""
    if node.path in comparisons:
        result = comparisons[node.path]["result"]
        return {"pass": True, "fail": False}.get(result)
    if node.op == "lit":
        return node.value
    if node.op == "var":
        return values.get(node.value)
    parts = [_node_value(a, comparisons, values) for a in node.args]
    if node.op == "all":
        return False if False in parts else (None if None in parts else True)
    if node.op == "any":
        return True if True in parts else (None if None in parts else False)
    if node.op == "not":
        return None if parts[0] is None else not parts[0]
    if node.op == "if":
        return None if parts[0] is None else (parts[1] if parts[0] else parts[2])
    return None


def _fixes(node: Node, comparisons: dict, values: dict, on: dt.date) -> list[list[Change]] | None:
    """Ways (each a list of changes, fewest first) to make a false node true; None when unknown how."""
    if node.path in comparisons:
        change = _comparison_change(node, comparisons[node.path], on)
        return [[change]] if change else None
    if node.op == "var" and node.type.kind == "boolean":
        return [[_make(node.value, "equal", values.get(node.value), True)]]
    if node.op == "all":
        needed: list[Change] = []
        for arg in node.args:
            if _node_value(arg, comparisons, values) is False:
                ways = _fixes(arg, comparisons, values, on)
                if not ways:
                    return None
                needed.extend(ways[0])
        return [needed]
    if node.op == "any":
        ways = []
        for arg in node.args:
            if _node_value(arg, comparisons, values) is False:
                ways.extend(_fixes(arg, comparisons, values, on) or [])
        ways.sort(key=len)
        return ways or None
    if node.op == "if":
        cond = _node_value(node.args[0], comparisons, values)
        if cond is None:
            return None
        return _fixes(node.args[1] if cond else node.args[2], comparisons, values, on)
    return None


def _apply(applicant: dict, changes: list[Change], on: dt.date) -> dict:
    """The applicant with the changes made, to check that they really suffice."""
    out = dict(applicant)
    for c in changes:
        if c.field is None or c.kind in ("not_equal", "more_than", "less_than", "age_more_than", "age_less_than"):
            continue
        target = c.target[0] if isinstance(c.target, list) else c.target
        if c.kind.startswith("age"):
            years = int(target)
            try:
                born = on.replace(year=on.year - years)
            except ValueError:  # 29 February
                born = on.replace(year=on.year - years, day=28)
            out[c.field] = born.isoformat()
        else:
            out[c.field] = target
    return out


def near_miss_changes(checked: CheckedProgram, applicant: dict, explanation: Explanation, *, on: dt.date) -> list[dict]:
    """For each failed criterion: the changes that would make it pass, checked by evaluating again."""
    nodes = {cc.criterion.id: cc.node for cc in checked.criteria}
    typed, _problems = coerce_applicant(dict(applicant))
    out = []
    for item in explanation.criteria:
        if item.result != "fail":
            continue
        comparisons = {c["path"]: c for c in item.comparisons}
        values = {k: v for k, v in item.values.items()}
        ways = _fixes(nodes[item.id], comparisons, values, on) or []
        best = ways[0] if ways else [_make(None, "meet", None, None)]
        if not ways:
            best[0].text = {
                "en": f"meet “{item.label['en']}”",
                "ko": f"“{item.label['ko']}” 충족",
            }
        verified = False
        if ways:
            trial = evaluate(checked, _apply(typed, best, on), on=on)
            verified = trial.results.get(item.id) is True
        out.append(
            {
                "criterion": item.id,
                "label": item.label,
                "changes": [c.to_dict() for c in best],
                "alternatives": [[c.to_dict() for c in way] for way in ways[1:3]],
                "verified": verified,
                "text": {
                    lang: "; ".join(c.text[lang] for c in best)
                    + "".join(
                        (" or " if lang == "en" else " 또는 ") + "; ".join(c.text[lang] for c in way)
                        for way in ways[1:3]
                    )
                    for lang in ("en", "ko")
                },
            }
        )
    return out
