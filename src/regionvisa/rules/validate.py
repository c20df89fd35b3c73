"""Static validation and type inference of rules, so that evaluation itself never has to raise.

`check_rule` turns a JSON/YAML rule into a typed `Node` tree and lists every problem with its key path
(`criteria[2].rule.>=[0]`) and what was expected. Enum literals and string parameters compared with an
enum are retyped to that enum here, once, so both evaluators see the same thing.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .fields import FIELDS, Catalogue
from .program import RuleProgram, normalise_dated
from .schema import (
    ANY,
    BOOLEAN,
    DATE,
    ERROR,
    INTEGER,
    NUMBER,
    OPERATORS,
    ORDERING,
    STRING,
    UNARY_BARE,
    VALUE_OPS,
    Node,
    Type,
    field_type,
    fields_read,
    list_of,
    params_read,
)

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class RuleError:
    """One validation problem: where (key path) and what was expected, in English and Korean."""

    path: str
    message: str
    message_ko: str = ""

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def to_dict(self) -> dict:
        return {"path": self.path, "message": {"en": self.message, "ko": self.message_ko or self.message}}


class RuleValidationError(ValueError):
    """Raised when an invalid rule or programme is handed to an evaluator."""

    def __init__(self, errors: list[RuleError]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors[:10]) + (" …" if len(errors) > 10 else ""))


@dataclass(frozen=True)
class ParamSpec:
    """A parameter's static type, and its values when known (to check enum literals in them)."""

    type: Type
    values: tuple[Any, ...] | None = None


def python_type(value: Any) -> Type | None:
    """The static type of a Python literal value (None when it is not a rule literal)."""
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float):
        return NUMBER if math.isfinite(value) else None
    if isinstance(value, str):
        return STRING
    if isinstance(value, dt.datetime):
        return DATE
    if isinstance(value, dt.date):
        return DATE
    if isinstance(value, list | tuple):
        item: Type = ANY
        for v in value:
            t = python_type(v)
            if t is None or t.kind == "list":
                return None
            merged = _merge(item, t)
            if merged is None:
                return None
            item = merged
        return list_of(item)
    return None


def _merge(a: Type, b: Type) -> Type | None:
    """The common type of two values of one parameter or list (integer+number -> number)."""
    if a.kind == "any":
        return b
    if b.kind == "any":
        return a
    if a == b:
        return a
    if a.numeric and b.numeric:
        return NUMBER
    if a.kind == "list" and b.kind == "list" and a.item and b.item:
        item = _merge(a.item, b.item)
        return list_of(item) if item else None
    return None


def param_spec_from_dated(name: str, dated: Any) -> tuple[ParamSpec | None, str | None]:
    """Infer a parameter's type from all its dated values; an error text when they disagree."""
    try:
        values = list(normalise_dated(dated).values())
    except ValueError as e:
        return None, str(e)
    t: Type = ANY
    for v in values:
        vt = python_type(v)
        if vt is None:
            return None, f"value {v!r} is not a number, string, boolean, date or list of those"
        merged = _merge(t, vt)
        if merged is None:
            return None, f"values have different types over time ({t} and {vt})"
        t = merged
    return ParamSpec(t, tuple(values)), None


def _as_spec(name: str, p: Any) -> ParamSpec:
    if isinstance(p, ParamSpec):
        return p
    if isinstance(p, Type):
        return ParamSpec(p)
    spec, _err = param_spec_from_dated(name, p)
    return spec or ParamSpec(ERROR)


def _suggest(word: str, options) -> str:
    near = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {near[0]!r}?)" if near else ""


def _describe(node: Node) -> str:
    """A short name of a node for messages: the field, parameter or literal it is."""
    if node.op == "var":
        return f"{node.type} field {node.value}"
    if node.op == "param":
        return f"{node.type} parameter {node.value}"
    if node.op == "lit":
        return f"{node.type} {node.value!r}" if not isinstance(node.value, dt.date) else f"date {node.value}"
    return f"{node.type} ({node.op})"


class Checker:
    """Builds the typed tree, collecting errors instead of stopping at the first."""

    def __init__(self, fields: Catalogue, params: Mapping[str, Any]):
        self.fields = fields
        self.params = {k: _as_spec(k, v) for k, v in params.items()}
        self.errors: list[RuleError] = []

    def error(self, path: str, en: str, ko: str) -> Node:
        self.errors.append(RuleError(path, en, ko))
        return Node("error", ERROR, path)

    # ----------------------------------------------------------------------------- entry points
    def check(self, rule: Any, path: str) -> Node:
        if isinstance(rule, list | tuple):
            return self.error(
                path,
                "a list is only allowed as the second operand of `in`; expected a value or an operator",
                "목록은 `in`의 두 번째 피연산자로만 쓸 수 있습니다",
            )
        if isinstance(rule, Mapping):
            return self._operator(rule, path)
        if rule is None:
            return self.error(
                path,
                "null is not a rule value; missing data is handled by three-valued logic",
                "null은 규칙 값이 될 수 없습니다",
            )
        t = python_type(rule)
        if t is None or t.kind == "date":
            return self.error(
                path,
                f"unsupported literal {rule!r}; expected a number, string, boolean or {{date: YYYY-MM-DD}}",
                f"지원하지 않는 값 {rule!r}",
            )
        return Node("lit", t, path, value=rule)

    def expect(self, rule: Any, path: str, *kinds: str, what: str) -> Node:
        """Check `rule` and require its type kind to be one of `kinds`."""
        node = self.check(rule, path)
        if node.type.kind in ("error", *kinds):
            return node
        if "number" in kinds and node.type.numeric:
            return node
        wanted = " or ".join(kinds)
        extra = ""
        if "number" in kinds and node.type.kind == "date":
            extra = "; date arithmetic is not allowed, use days_between or years_since"
        if "date" in kinds and node.type.numeric:
            extra = "; date arithmetic on a number is not allowed"
        return self.error(
            path,
            f"{what} needs {wanted}, got {_describe(node)}{extra}",
            f"{what}에는 {wanted} 값이 필요하지만 {node.type} 값이 주어졌습니다",
        )

    # ----------------------------------------------------------------------------- operators
    def _operator(self, rule: Mapping, path: str) -> Node:
        if len(rule) != 1:
            keys = ", ".join(map(str, rule)) or "nothing"
            return self.error(
                path,
                f"an operator object must have exactly one key, got {keys}",
                f"연산자 객체에는 키가 하나만 있어야 합니다 ({keys})",
            )
        ((op, arg),) = rule.items()
        op = str(op)
        if op not in OPERATORS:
            return self.error(
                f"{path}.{op}",
                f"unknown operator {op!r}{_suggest(op, OPERATORS)}; expected one of {', '.join(OPERATORS)}",
                f"알 수 없는 연산자 {op!r}",
            )
        here = f"{path}.{op}"
        if op in VALUE_OPS:
            return self._value(op, arg, here)
        spec = OPERATORS[op]
        if isinstance(arg, list | tuple):
            args = list(arg)
            paths = [f"{here}[{i}]" for i in range(len(args))]
        elif op in UNARY_BARE:
            args, paths = [arg], [here]
        else:
            return self.error(
                here,
                f"{op} expects a list of {spec.arity_text} operands, got {type(arg).__name__}",
                f"{op} 연산자에는 피연산자 목록({spec.arity_text}개)이 필요합니다",
            )
        n = len(args)
        if n < spec.min_args or (spec.max_args is not None and n > spec.max_args):
            return self.error(
                here,
                f"{op} expects {spec.arity_text} operand(s), got {n}",
                f"{op} 연산자의 피연산자 수는 {spec.arity_text}개여야 하지만 {n}개입니다",
            )
        return getattr(self, _HANDLERS[spec.group])(op, args, paths, here)

    def _value(self, op: str, arg: Any, path: str) -> Node:
        if op == "var":
            if not isinstance(arg, str):
                return self.error(path, "var expects a field name", "var에는 항목 이름이 필요합니다")
            if arg not in self.fields:
                return self.error(
                    path,
                    f"unknown field {arg!r}{_suggest(arg, self.fields)}; see the applicant field catalogue",
                    f"알 수 없는 신청인 항목 {arg!r}",
                )
            return Node("var", field_type(self.fields[arg]), path, value=arg)
        if op == "param":
            if not isinstance(arg, str):
                return self.error(path, "param expects a parameter name", "param에는 모수 이름이 필요합니다")
            if arg not in self.params:
                known = ", ".join(sorted(self.params)) or "none"
                return self.error(
                    path,
                    f"unknown parameter {arg!r}{_suggest(arg, self.params)}; known parameters: {known}",
                    f"알 수 없는 모수 {arg!r}",
                )
            spec = self.params[arg]
            if spec.type.kind == "error":
                return Node("error", ERROR, path)
            return Node("param", spec.type, path, value=arg)
        if op == "date":
            d = None
            if isinstance(arg, dt.date) and not isinstance(arg, dt.datetime):
                d = arg
            elif isinstance(arg, str) and _ISO_DATE.match(arg):
                try:
                    d = dt.date.fromisoformat(arg)
                except ValueError:
                    d = None
            if d is None:
                return self.error(
                    path,
                    f'invalid date {arg!r}; expected "YYYY-MM-DD"',
                    f'날짜 {arg!r}가 올바르지 않습니다 ("YYYY-MM-DD" 형식)',
                )
            return Node("lit", DATE, path, value=d)
        # today
        if arg is not True:
            return self.error(path, "today expects true ({today: true})", "today의 값은 true여야 합니다")
        return Node("today", DATE, path)

    def _comparison(self, op: str, args: list, paths: list[str], here: str) -> Node:
        if op == "in":
            return self._in(args, paths, here)
        nodes = [self.check(a, p) for a, p in zip(args, paths, strict=True)]
        x = nodes[0]
        for i in range(1, len(nodes)):
            x, nodes[i] = self._unify(x, nodes[i], here, op, ordering=op in ORDERING or op == "between")
        nodes[0] = x
        return Node(op, BOOLEAN, here, tuple(nodes))

    def _unify(self, a: Node, b: Node, path: str, op: str, *, ordering: bool) -> tuple[Node, Node]:
        """Make two operands comparable, retyping string literals/parameters next to an enum."""
        ta, tb = a.type, b.type
        if "error" in (ta.kind, tb.kind):
            return a, b
        if ta.kind == "enum" and tb.kind == "string":
            b = self._to_enum(b, ta, path)
        elif tb.kind == "enum" and ta.kind == "string":
            a = self._to_enum(a, tb, path)
        ta, tb = a.type, b.type
        if "error" in (ta.kind, tb.kind):
            return a, b
        verb = "order" if ordering else "compare"
        if ta.kind == "list" or tb.kind == "list":
            self.error(path, f"{op} cannot {verb} lists; use `in`", f"{op} 연산자로 목록을 비교할 수 없습니다")
            return a, b
        same = (ta.numeric and tb.numeric) or (ta.kind == tb.kind and ta.kind != "enum") or ta == tb
        if ta.kind == "enum" and tb.kind == "enum" and ta.values != tb.values:
            same = False
        if not same:
            hint = ""
            if {ta.kind, tb.kind} == {"date", "string"}:
                hint = '; write a date literal as {date: "YYYY-MM-DD"}'
            self.error(
                path,
                f"{op} cannot {verb} {_describe(a)} with {_describe(b)}; expected two values of one type{hint}",
                f"{op} 연산자로 {ta} 값과 {tb} 값을 비교할 수 없습니다",
            )
            return a, b
        if ordering and not ta.orderable:
            hint = "use == or in" if ta.kind in ("enum", "string", "boolean") else "use =="
            self.error(
                path,
                f"{op} needs numbers, dates or an ordered enum, got {ta}; {hint}",
                f"{op} 연산자에는 숫자, 날짜 또는 순서형 열거값이 필요합니다 ({ta})",
            )
        return a, b

    def _to_enum(self, node: Node, enum: Type, path: str) -> Node:
        """Retype a string literal or string parameter as `enum`, checking its values when known."""
        if node.op == "lit":
            if node.value not in enum.values:
                return self.error(
                    node.path,
                    f"{node.value!r} is not a value of {enum.name}{_suggest(node.value, enum.values)}; "
                    f"expected one of {', '.join(enum.values)}",
                    f"{node.value!r}은(는) {enum.name}의 값이 아닙니다 ({', '.join(enum.values)})",
                )
            return replace(node, type=enum)
        if node.op == "param":
            values = self.params[node.value].values
            bad = [v for v in values or () if v not in enum.values]
            if bad:
                return self.error(
                    node.path,
                    f"parameter {node.value} has value {bad[0]!r}, not a value of {enum.name}; "
                    f"expected one of {', '.join(enum.values)}",
                    f"모수 {node.value}의 값 {bad[0]!r}은(는) {enum.name}의 값이 아닙니다",
                )
            return replace(node, type=enum)
        return node  # a string field or expression: _unify reports the mismatch

    def _in(self, args: list, paths: list[str], here: str) -> Node:
        x = self.check(args[0], paths[0])
        raw = args[1]
        if isinstance(raw, list | tuple):
            items = []
            item_t: Type = ANY
            for i, v in enumerate(raw):
                p = f"{paths[1]}[{i}]"
                if isinstance(v, Mapping) and set(v) == {"date"}:
                    n = self._value("date", v["date"], f"{p}.date")
                    if n.type.kind == "error":
                        continue
                    v, t = n.value, DATE
                else:
                    t = python_type(v)
                    if t is None or t.kind in ("list", "date"):
                        self.error(
                            p,
                            f"list items must be literal numbers, strings, booleans or dates, got {v!r}",
                            f"목록 항목은 숫자, 문자열, 참/거짓 또는 날짜여야 합니다 ({v!r})",
                        )
                        continue
                merged = _merge(item_t, t)
                if merged is None:
                    self.error(
                        p,
                        f"list items must share one type; {v!r} is {t}, others are {item_t}",
                        "목록 항목의 유형이 서로 다릅니다",
                    )
                    continue
                item_t = merged
                items.append(v)
            lst = Node("list", list_of(item_t), paths[1], value=tuple(items))
        else:
            lst = self.check(raw, paths[1])
            if lst.type.kind not in ("list", "error"):
                self.error(
                    paths[1],
                    f"in needs a list as second operand, got {_describe(lst)}",
                    "in 연산자의 두 번째 피연산자는 목록이어야 합니다",
                )
                return Node("in", BOOLEAN, here, (x, lst))
        if "error" in (x.type.kind, lst.type.kind):
            return Node("in", BOOLEAN, here, (x, lst))
        if x.type.kind == "list":
            self.error(paths[0], "in needs a single value as first operand, got a list", "첫 피연산자는 단일 값")
            return Node("in", BOOLEAN, here, (x, lst))
        item = lst.type.item or ANY
        if x.type.kind == "enum" and item.kind in ("string", "any") and lst.op in ("list", "param"):
            candidates = lst.value if lst.op == "list" else (self.params[lst.value].values or ())
            flat = [v for c in candidates for v in (c if lst.op == "param" else [c])]
            bad = [v for v in flat if v not in x.type.values]
            if bad:
                self.error(
                    paths[1],
                    f"{bad[0]!r} is not a value of {x.type.name}{_suggest(str(bad[0]), x.type.values)}; "
                    f"expected values from {', '.join(x.type.values)}",
                    f"{bad[0]!r}은(는) {x.type.name}의 값이 아닙니다",
                )
            else:
                lst = replace(lst, type=list_of(x.type))
        elif item.kind != "any" and not (
            (x.type.numeric and item.numeric) or (x.type.kind == item.kind and x.type.kind != "enum")
        ):
            self.error(
                here,
                f"in cannot look for {_describe(x)} in a {lst.type}; expected a list of {x.type}",
                f"in 연산자: {x.type} 값을 {lst.type}에서 찾을 수 없습니다",
            )
        return Node("in", BOOLEAN, here, (x, lst))

    def _logic(self, op: str, args: list, paths: list[str], here: str) -> Node:
        if op == "if":
            cond = self.expect(args[0], paths[0], "boolean", what="the if condition")
            a = self.check(args[1], paths[1])
            b = self.check(args[2], paths[2])
            a, b = self._unify(a, b, here, "if", ordering=False)
            t = a.type
            if a.type.kind == "error":
                t = b.type
            elif a.type.numeric and b.type.numeric and a.type != b.type:
                t = NUMBER
            return Node("if", t, here, (cond, a, b))
        nodes = tuple(self.expect(a, p, "boolean", what=f"{op}") for a, p in zip(args, paths, strict=True))
        return Node(op, BOOLEAN, here, nodes)

    def _arithmetic(self, op: str, args: list, paths: list[str], here: str) -> Node:
        if op in ("min", "max"):
            nodes = tuple(self.check(a, p) for a, p in zip(args, paths, strict=True))
            kinds = {n.type.kind for n in nodes} - {"error"}
            if kinds == {"date"}:
                return Node(op, DATE, here, nodes)
            checked = []
            for n in nodes:
                if n.type.kind != "error" and not n.type.numeric:
                    extra = "" if n.type.kind != "date" else "; do not mix dates and numbers"
                    n = self.error(
                        n.path,
                        f"{op} needs numbers (or only dates), got {_describe(n)}{extra}",
                        f"{op} 연산자에는 숫자(또는 날짜만)가 필요합니다",
                    )
                checked.append(n)
            all_int = all(n.type.kind == "integer" for n in checked)
            return Node(op, INTEGER if all_int else NUMBER, here, tuple(checked))
        nodes = tuple(self.expect(a, p, "number", what=f"arithmetic {op}") for a, p in zip(args, paths, strict=True))
        return Node(op, NUMBER, here, nodes)

    def _time(self, op: str, args: list, paths: list[str], here: str) -> Node:
        nodes = tuple(self.expect(a, p, "date", what=op) for a, p in zip(args, paths, strict=True))
        return Node(op, INTEGER, here, nodes)


_HANDLERS = {"comparison": "_comparison", "logic": "_logic", "arithmetic": "_arithmetic", "time": "_time"}


# ------------------------------------------------------------------------------------------ public API


def check_rule(
    rule: Any,
    *,
    params: Mapping[str, Any] | None = None,
    fields: Catalogue = FIELDS,
    path: str = "rule",
    expect: str | None = "boolean",
) -> tuple[Node, list[RuleError]]:
    """Typed tree and errors for one rule. `params` maps names to a Type, ParamSpec or dated values."""
    checker = Checker(fields, params or {})
    node = checker.check(rule, path)
    if expect and node.type.kind not in (expect, "error"):
        checker.error(
            path,
            f"a rule must give {expect}, got {_describe(node)}",
            f"규칙의 결과는 {expect}이어야 하지만 {node.type}입니다",
        )
    return node, checker.errors


def validate_rule(
    rule: Any,
    *,
    params: Mapping[str, Any] | None = None,
    fields: Catalogue = FIELDS,
    path: str = "rule",
    expect: str | None = "boolean",
) -> list[RuleError]:
    """Every problem in a rule, with its key path; empty when the rule is well formed."""
    return check_rule(rule, params=params, fields=fields, path=path, expect=expect)[1]


def infer_types(
    rule: Any, *, params: Mapping[str, Any] | None = None, fields: Catalogue = FIELDS, path: str = "rule"
) -> dict[str, Type]:
    """Static type of every expression in a rule, keyed by its key path."""
    node, _ = check_rule(rule, params=params, fields=fields, path=path, expect=None)
    return {n.path: n.type for n in node.walk()}


@dataclass
class CheckedCriterion:
    criterion: Any
    node: Node
    fields: tuple[str, ...]
    params: tuple[str, ...]


@dataclass
class CheckedProgram:
    """A validated programme with typed trees; build once and evaluate many times."""

    program: RuleProgram
    fields: Catalogue
    criteria: list[CheckedCriterion]
    points: list[tuple[Any, Node]]
    cache: dict = field(default_factory=dict, repr=False)  # per-date compiled forms, owned by evaluators

    CACHE_LIMIT = 512  # per-date entries; a long-running server is asked about many dates

    def memo(self, key: tuple, build: Callable[[], Any]) -> Any:
        """A per-date derived form (parameters, compiled closures or expressions), built once."""
        got = self.cache.get(key)
        if got is None:
            if len(self.cache) >= self.CACHE_LIMIT:
                self.cache.clear()
            got = self.cache[key] = build()
        return got

    def parameters_on(self, on: dt.date) -> dict[str, tuple[Any, dt.date] | None]:
        """Parameter values in force on `on` (cached per date)."""
        return self.memo(("params", on), lambda: self.program.resolve_parameters(on))


def program_param_specs(program: RuleProgram) -> tuple[dict[str, ParamSpec], list[RuleError]]:
    specs: dict[str, ParamSpec] = {}
    errors: list[RuleError] = []
    for name, dated in program.all_parameters().items():
        spec, err = param_spec_from_dated(name, dated)
        if spec is None:
            errors.append(RuleError(f"parameters.{name}", err or "invalid", f"모수 {name}: {err}"))
            specs[name] = ParamSpec(ERROR)
        else:
            specs[name] = spec
    return specs, errors


def _check_program(program: RuleProgram, fields: Catalogue) -> tuple[CheckedProgram, list[RuleError]]:
    specs, errors = program_param_specs(program)
    criteria: list[CheckedCriterion] = []
    seen: set[str] = set()
    for i, c in enumerate(program.criteria):
        if not c.id:
            errors.append(RuleError(f"criteria[{i}].id", "a criterion needs an id", "기준에 id가 필요합니다"))
        elif c.id in seen:
            errors.append(
                RuleError(f"criteria[{i}].id", f"duplicate criterion id {c.id!r}", f"중복된 기준 id {c.id!r}")
            )
        seen.add(c.id)
        node, errs = check_rule(c.rule, params=specs, fields=fields, path=f"criteria[{i}].rule")
        errors += errs
        criteria.append(CheckedCriterion(c, node, fields_read(node), params_read(node)))
    points = []
    seen_points: set[str] = set()
    for j, p in enumerate(program.points):
        if p.id in seen_points:
            errors.append(RuleError(f"points[{j}].id", f"duplicate points id {p.id!r}", f"중복된 가점 id {p.id!r}"))
        seen_points.add(p.id)
        if isinstance(p.points, bool) or not isinstance(p.points, int | float) or not math.isfinite(p.points):
            errors.append(RuleError(f"points[{j}].points", f"points must be a number, got {p.points!r}", "점수는 숫자"))
        node, errs = check_rule(p.when, params=specs, fields=fields, path=f"points[{j}].when")
        errors += errs
        points.append((p, node))
    return CheckedProgram(program, fields, criteria, points), errors


def validate_program(program: RuleProgram, *, fields: Catalogue = FIELDS) -> list[RuleError]:
    """Every problem in a programme's criteria, points grid and parameters."""
    return _check_program(program, fields)[1]


def check_program(program: RuleProgram | CheckedProgram, *, fields: Catalogue = FIELDS) -> CheckedProgram:
    """A `CheckedProgram` ready for evaluation; raises RuleValidationError if the programme is invalid."""
    if isinstance(program, CheckedProgram):
        return program
    checked, errors = _check_program(program, fields)
    if errors:
        raise RuleValidationError(errors)
    return checked


__all__ = [
    "CheckedProgram",
    "ParamSpec",
    "RuleError",
    "RuleValidationError",
    "check_program",
    "check_rule",
    "infer_types",
    "python_type",
    "validate_program",
    "validate_rule",
]
