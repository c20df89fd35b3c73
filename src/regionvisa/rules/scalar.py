"""Scalar evaluation of one applicant with three-valued (Kleene) logic, and its explanation.

Unknown is None. The checked tree is turned once into Python closures per programme and date, so that
evaluating an applicant is a few calls rather than a re-interpretation of the JSON. `explain` uses the
same closures with a recorder attached, so the explanation cannot disagree with the outcome.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .fields import FIELDS, Catalogue
from .parse import coerce_applicant, coerce_value
from .program import RuleProgram
from .schema import Node, Type, enum_index, field_type
from .text import display_value, format_value, render
from .validate import CheckedProgram, RuleValidationError, check_program, check_rule

Fn = Callable[[Mapping[str, Any]], Any]

_CMP = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class _Recorder:
    """Collects what an explanation shows: values read, comparisons made, parameters used."""

    def __init__(self) -> None:
        self.reads: dict[str, Any] = {}
        self.comparisons: list[tuple[Node, list[Any], Any]] = []
        self.params: dict[str, tuple[Any, dt.date | None]] = {}


@dataclass
class _Env:
    on: dt.date
    params: Mapping[str, tuple[Any, dt.date] | None]
    fields: Catalogue
    rec: _Recorder | None = None


def _getter(name: str) -> Fn:
    """Field lookup; a dotted name reads nested mappings when there is no flat key of that name."""
    if "." not in name:
        return lambda a: a.get(name)
    parts = name.split(".")

    def get(a: Mapping[str, Any]) -> Any:
        if name in a:
            return a[name]
        cur: Any = a
        for p in parts:
            if not isinstance(cur, Mapping):
                return None
            cur = cur.get(p)
        return cur

    return get


def _runtime(value: Any, t: Type) -> Any:
    """A parameter or literal in the evaluators' representation (enum -> position, list -> frozenset)."""
    if value is None:
        return None
    if t.kind == "enum":
        return enum_index(t.values).get(value)
    if t.kind == "list":
        item = t.item
        if item is not None and item.kind == "enum":
            idx = enum_index(item.values)
            return frozenset(idx[v] for v in value if v in idx)
        return frozenset(value)
    if t.kind == "number" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _var(node: Node, env: _Env) -> Fn:
    name = node.value
    get = _getter(name)
    fdef = env.fields[name]
    kind = node.type.kind
    rec = env.rec
    py = {"boolean": bool, "integer": int, "number": float, "date": dt.date, "string": str}.get(kind)

    if kind == "enum":
        idx = enum_index(node.type.values)

        def conv(v: Any) -> Any:
            return idx.get(v) if isinstance(v, str) else None
    elif kind == "list":

        def conv(v: Any) -> Any:
            return coerce_value(fdef, v)[0]
    else:

        def conv(v: Any) -> Any:
            if type(v) is py:
                return v
            if kind == "number" and type(v) is int:
                return float(v)
            return coerce_value(fdef, v)[0]

    if rec is None:

        def f(a: Mapping[str, Any]) -> Any:
            v = get(a)
            return None if v is None else conv(v)

        return f

    def traced(a: Mapping[str, Any]) -> Any:
        v = get(a)
        v = None if v is None else conv(v)
        rec.reads[name] = display_value(v, node.type)
        return v

    return traced


def _const(node: Node, env: _Env) -> Fn:
    op = node.op
    if op == "today":
        on = env.on
        return lambda a: on
    if op == "param":
        name = node.value
        hit = env.params.get(name)
        value = _runtime(hit[0], node.type) if hit else None
        rec = env.rec
        if rec is None:
            return lambda a: value
        shown = (display_value(hit[0]), hit[1]) if hit else (None, None)

        def param(a: Mapping[str, Any]) -> Any:
            rec.params[name] = shown
            return value

        return param
    value = _runtime(node.value, node.type)
    return lambda a: value


def _comparison(node: Node, env: _Env) -> Fn:
    op = node.op
    fs = [_build(n, env) for n in node.args]
    if op == "between":
        fx, flo, fhi = fs

        def between(a: Mapping[str, Any]) -> Any:
            x, lo, hi = fx(a), flo(a), fhi(a)
            if x is None or lo is None or hi is None:
                return None
            return lo <= x <= hi

        f = between
    elif op == "in":
        fx, fl = fs

        def member(a: Mapping[str, Any]) -> Any:
            x = fx(a)
            if x is None:
                return None
            lst = fl(a)
            if lst is None:
                return None
            return x in lst

        f = member
    else:
        cmp = _CMP[op]
        fa, fb = fs
        ta, tb = node.args[0].type, node.args[1].type
        mixed = ta.numeric and tb.numeric and ta.kind != tb.kind  # compare as float64, like Polars

        def compare(a: Mapping[str, Any]) -> Any:
            x = fa(a)
            if x is None:
                return None
            y = fb(a)
            if y is None:
                return None
            if mixed:
                return cmp(float(x), float(y))
            return cmp(x, y)

        f = compare
    rec = env.rec
    if rec is None:
        return f

    def traced(a: Mapping[str, Any]) -> Any:
        result = f(a)
        values = [fn(a) for fn in fs]
        rec.comparisons.append((node, values, result))
        return result

    return traced


def _logic(node: Node, env: _Env) -> Fn:
    op = node.op
    fs = [_build(n, env) for n in node.args]
    full = env.rec is not None  # when explaining, evaluate every part so every value is shown
    if op == "all":

        def all_(a: Mapping[str, Any]) -> Any:
            unknown = False
            false = False
            for g in fs:
                r = g(a)
                if r is False:
                    false = True
                    if not full:
                        return False
                elif r is None:
                    unknown = True
            return False if false else (None if unknown else True)

        return all_
    if op == "any":

        def any_(a: Mapping[str, Any]) -> Any:
            unknown = False
            true = False
            for g in fs:
                r = g(a)
                if r is True:
                    true = True
                    if not full:
                        return True
                elif r is None:
                    unknown = True
            return True if true else (None if unknown else False)

        return any_
    if op == "not":
        (g,) = fs

        def not_(a: Mapping[str, Any]) -> Any:
            r = g(a)
            return None if r is None else not r

        return not_
    fc, ft, fe = fs

    def if_(a: Mapping[str, Any]) -> Any:
        c = fc(a)
        if c is None:
            return None
        return ft(a) if c else fe(a)

    return if_


def _arithmetic(node: Node, env: _Env) -> Fn:
    """Arithmetic is float64, as in the batch evaluator, so both round identically."""
    op = node.op
    fs = [_build(n, env) for n in node.args]

    def values(a: Mapping[str, Any]) -> list[Any] | None:
        out = []
        for g in fs:
            v = g(a)
            if v is None:
                return None
            out.append(v)
        return out

    if op in ("min", "max"):
        pick = min if op == "min" else max
        as_float = node.type.kind == "number"

        def extreme(a: Mapping[str, Any]) -> Any:
            vs = values(a)
            if vs is None:
                return None
            return float(pick(vs)) if as_float else pick(vs)

        return extreme
    if op == "-" and len(fs) == 1:
        (g,) = fs

        def neg(a: Mapping[str, Any]) -> Any:
            v = g(a)
            return None if v is None else -float(v)

        return neg
    if op == "/":
        fa, fb = fs

        def div(a: Mapping[str, Any]) -> Any:
            x, y = fa(a), fb(a)
            if x is None or y is None or y == 0:
                return None
            return float(x) / float(y)

        return div
    step = {"+": operator.add, "-": operator.sub, "*": operator.mul}[op]

    def fold(a: Mapping[str, Any]) -> Any:
        vs = values(a)
        if vs is None:
            return None
        acc = float(vs[0])
        for v in vs[1:]:
            acc = step(acc, float(v))
        return acc

    return fold


def _time(node: Node, env: _Env) -> Fn:
    fs = [_build(n, env) for n in node.args]
    if node.op == "years_since":
        (g,) = fs
        on = env.on
        on_md = (on.month, on.day)

        def years_since(a: Mapping[str, Any]) -> Any:
            d = g(a)
            if d is None:
                return None
            return on.year - d.year - ((d.month, d.day) > on_md)

        return years_since
    fa, fb = fs

    def days_between(a: Mapping[str, Any]) -> Any:
        x, y = fa(a), fb(a)
        if x is None or y is None:
            return None
        return (y - x).days

    return days_between


_BUILDERS: dict[str, Callable[[Node, _Env], Fn]] = {
    "var": _var,
    "param": _const,
    "lit": _const,
    "list": _const,
    "today": _const,
    **{op: _comparison for op in ("==", "!=", "<", "<=", ">", ">=", "between", "in")},
    **{op: _logic for op in ("all", "any", "not", "if")},
    **{op: _arithmetic for op in ("+", "-", "*", "/", "min", "max")},
    "years_since": _time,
    "days_between": _time,
}


def _build(node: Node, env: _Env) -> Fn:
    return _BUILDERS[node.op](node, env)


# ---------------------------------------------------------------------------------------- programme


@dataclass
class Evaluation:
    """The outcome of one applicant: criterion results (None = missing), points, failed, missing."""

    outcome: str
    results: dict[str, bool | None]
    points: int | float | None
    failed: list[str]
    missing: list[str]


@dataclass
class _Compiled:
    criteria: list[tuple[str, Fn, tuple[str, ...]]]
    points: list[tuple[int | float, Fn]]
    readers: dict[str, Fn]


def _compile(checked: CheckedProgram, on: dt.date, rec: _Recorder | None = None) -> _Compiled:
    env = _Env(on, checked.parameters_on(on), checked.fields, rec)
    readers: dict[str, Fn] = {}
    criteria = []
    for cc in checked.criteria:
        criteria.append((cc.criterion.id, _build(cc.node, env), cc.fields))
        for f in cc.fields:
            if f not in readers:
                readers[f] = _var(Node("var", field_type(checked.fields[f]), "", value=f), _Env(on, {}, env.fields))
    points = [(p.points, _build(node, env)) for p, node in checked.points]
    return _Compiled(criteria, points, readers)


def _cached(checked: CheckedProgram, on: dt.date) -> _Compiled:
    return checked.memo(("scalar", on), lambda: _compile(checked, on))


def _summarise(compiled: _Compiled, applicant: Mapping[str, Any], results: dict[str, bool | None]):
    failed = [cid for cid, r in results.items() if r is False]
    missing: set[str] = set()
    for cid, _fn, fields in compiled.criteria:
        if results[cid] is None:
            missing.update(f for f in fields if compiled.readers[f](applicant) is None)
    if failed:
        outcome = "ineligible"
    elif any(r is None for r in results.values()):
        outcome = "incomplete"
    else:
        outcome = "eligible"
    return outcome, failed, sorted(missing)


def evaluate(program: RuleProgram | CheckedProgram, applicant: Mapping[str, Any], *, on: dt.date) -> Evaluation:
    """Outcome of one applicant; missing or unreadable values are unknown, never an error."""
    checked = check_program(program)
    compiled = _cached(checked, on)
    results = {cid: fn(applicant) for cid, fn, _ in compiled.criteria}
    outcome, failed, missing = _summarise(compiled, applicant, results)
    points = sum(p for p, fn in compiled.points if fn(applicant) is True) if compiled.points else None
    return Evaluation(outcome, results, points, failed, missing)


def evaluate_expression(
    rule: Any,
    applicant: Mapping[str, Any],
    *,
    on: dt.date,
    params: Mapping[str, Any] | None = None,
    fields: Catalogue = FIELDS,
) -> Any:
    """Value of one rule expression for one applicant (enum values come back as their names).

    `params` maps parameter names to dated values `{date: value}`.
    """
    program = RuleProgram(id="expr", parameters={k: v for k, v in (params or {}).items()})
    node, errors = check_rule(rule, params=program.all_parameters(), fields=fields, expect=None)
    if errors:
        raise RuleValidationError(errors)
    env = _Env(on, program.resolve_parameters(on), fields)
    return display_value(_build(node, env)(applicant), node.type)


# ---------------------------------------------------------------------------------------- explanation


@dataclass
class CriterionExplanation:
    id: str
    label: dict[str, str]
    result: str  # pass | fail | missing
    values: dict[str, Any]
    thresholds: list[dict[str, Any]]
    comparisons: list[dict[str, Any]]
    parameters: list[dict[str, Any]]
    reference: str
    missing: list[str]
    rule: dict[str, str]
    message: dict[str, str]

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Explanation:
    program: str
    version: int
    on: dt.date
    outcome: str
    points: int | float | None
    failed: list[str]
    missing: list[str]
    criteria: list[CriterionExplanation]
    points_detail: list[dict[str, Any]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["on"] = self.on.isoformat()
        d["criteria"] = [c.to_dict() for c in self.criteria]
        return d

    def text(self, lang: str = "en") -> str:
        """A plain-text report for the command line."""
        head = {
            "en": f"{self.program} v{self.version} on {self.on}: {self.outcome}",
            "ko": f"{self.program} v{self.version} ({self.on} 기준): {_OUTCOME_KO[self.outcome]}",
        }[lang]
        lines = [head]
        if self.points is not None:
            lines.append(("points: " if lang == "en" else "점수: ") + format_value(self.points, lang))
        lines += [f"  [{c.result}] {c.message[lang]}" for c in self.criteria]
        return "\n".join(lines)


_OUTCOME_KO = {"eligible": "적격", "ineligible": "부적격", "incomplete": "판단 보류(자료 누락)"}
_RESULT_WORDS = {
    "pass": ("met", "충족"),
    "fail": ("not met", "미충족"),
    "missing": ("cannot be judged", "판단 불가"),
}


def _result_word(r: bool | None) -> str:
    return "pass" if r is True else "fail" if r is False else "missing"


def _message(
    label: dict[str, str],
    cid: str,
    result: str,
    comparisons: list[dict],
    missing: list[str],
    fields: Catalogue,
) -> dict[str, str]:
    out = {}
    for i, lang in enumerate(("en", "ko")):
        name = label.get(lang) or label.get("en") or cid
        word = _RESULT_WORDS[result][i]
        if result == "missing" and missing:
            labels = ", ".join(fields[f].label(lang) if f in fields else f for f in missing)
            detail = f"missing: {labels}" if lang == "en" else f"누락 항목: {labels}"
        elif result == "missing":
            detail = (
                "the values given do not decide it (for example a division by zero)"
                if lang == "en"
                else "주어진 값으로 결정할 수 없음 (예: 0으로 나누기)"
            )
        else:
            parts = [c["text"][lang] for c in comparisons[:6]]
            detail = "; ".join(parts)
        out[lang] = f"{name}: {word}" + (f" — {detail}" if detail else "")
    return out


def _comparison_record(node: Node, values: list[Any], result: Any, fields: Catalogue) -> dict[str, Any]:
    operands = []
    for n, v in zip(node.args, values, strict=True):
        operands.append(
            {
                "expression": {"en": render(n, "en", fields), "ko": render(n, "ko", fields)},
                "value": display_value(v, n.type),
                "reads_applicant": n.reads_applicant,
            }
        )
    text = {}
    for lang in ("en", "ko"):
        parts = []
        for n, v in zip(node.args, values, strict=True):
            unit = fields[n.value].unit if n.op == "var" and n.value in fields else None
            expr = render(n, lang, fields)
            val = format_value(v, lang, n.type, unit)
            parts.append(val if n.op in ("lit", "list") else f"{expr} ({val})")
        text[lang] = _join_comparison(node.op, parts, lang)
    return {
        "path": node.path,
        "op": node.op,
        "operands": operands,
        "result": _result_word(result),
        "text": text,
    }


def _join_comparison(op: str, parts: list[str], lang: str) -> str:
    sym = {"==": "=", "!=": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥"}
    if op in sym:
        return f"{parts[0]} {sym[op]} {parts[1]}"
    if op == "between":
        return f"{parts[1]} ≤ {parts[0]} ≤ {parts[2]}"
    return f"{parts[0]} ∈ {parts[1]}" if lang == "ko" else f"{parts[0]} is one of {parts[1]}"


def explain(program: RuleProgram | CheckedProgram, applicant: Mapping[str, Any], *, on: dt.date) -> Explanation:
    """Outcome, points and, per criterion, the result with the values, thresholds and parameters behind it.

    Bad values in the applicant (a malformed date, an unknown enum value …) are treated as missing and
    listed in `problems`.
    """
    checked = check_program(program)
    fields = checked.fields
    typed, problems = coerce_applicant(dict(applicant), fields=fields)
    compiled = _cached(checked, on)
    results = {cid: fn(typed) for cid, fn, _ in compiled.criteria}
    outcome, failed, missing = _summarise(compiled, typed, results)
    points = sum(p for p, fn in compiled.points if fn(typed) is True) if compiled.points else None

    params_all = checked.parameters_on(on)
    items = []
    for cc in checked.criteria:
        rec = _Recorder()
        env = _Env(on, params_all, fields, rec)
        _build(cc.node, env)(typed)  # same closures as `results`, run again to record what they read
        c = cc.criterion
        result = _result_word(results[c.id])
        comparisons = [_comparison_record(n, v, r, fields) for n, v, r in rec.comparisons]
        thresholds = [
            {"path": cmp["path"], "op": cmp["op"], "expression": o["expression"], "value": o["value"]}
            for cmp in comparisons
            for o in cmp["operands"]
            if not o["reads_applicant"]
        ]
        crit_missing = sorted(f for f in cc.fields if compiled.readers[f](typed) is None) if result == "missing" else []
        parameters = []
        for name in cc.params:
            hit = params_all.get(name)
            parameters.append(
                {
                    "name": name,
                    "value": display_value(hit[0]) if hit else None,
                    "effective_date": hit[1].isoformat() if hit and hit[1] != dt.date.min else None,
                    "in_force": hit is not None,
                    "used": name in rec.params,
                }
            )
        label = dict(c.label) or {"en": c.id, "ko": c.id}
        items.append(
            CriterionExplanation(
                id=c.id,
                label={
                    "ko": label.get("ko") or label.get("en", c.id),
                    "en": label.get("en") or label.get("ko"),
                },
                result=result,
                values=dict(rec.reads),
                thresholds=thresholds,
                comparisons=comparisons,
                parameters=parameters,
                reference=c.reference,
                missing=crit_missing,
                rule={"en": render(cc.node, "en", fields), "ko": render(cc.node, "ko", fields)},
                message=_message(label, c.id, result, comparisons, crit_missing, fields),
            )
        )
    points_detail = [
        {
            "id": p.id,
            "points": p.points,
            "earned": fn(typed) is True,
            # the design's label, or the rule as a sentence: the id is not for readers
            "label": {lang: p.label.get(lang) or render(node, lang, fields) for lang in ("ko", "en")},
        }
        for (p, node), (_pts, fn) in zip(checked.points, compiled.points, strict=True)
    ]
    problem_dicts = [
        {"field": f, "value": v, "reason": {"en": en, "ko": ko}, "treated_as": "missing"} for f, v, en, ko in problems
    ]
    prog = checked.program
    return Explanation(prog.id, prog.version, on, outcome, points, failed, missing, items, points_detail, problem_dicts)
