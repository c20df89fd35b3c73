"""Plain Korean and English renderings of rules and values, for explanations and programme pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from regionvisa.web.i18n import translate

from .fields import FIELDS, VALUE_CONTEXT, VALUE_LABELS, Catalogue
from .schema import Node, Type

_SYMBOLS = {"==": "=", "!=": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥"}
_UNKNOWN = {"en": "unknown", "ko": "알 수 없음"}
_MAX_LIST = 8


def display_value(value: Any, type_: Type | None = None) -> Any:
    """A JSON-able value: enum positions back to their names, dates to ISO text, sets to sorted lists."""
    if value is None:
        return None
    if type_ is not None and type_.kind == "enum" and isinstance(value, int) and not isinstance(value, bool):
        return type_.values[value] if 0 <= value < len(type_.values) else None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, frozenset | set | tuple | list):
        item = type_.item if type_ is not None and type_.kind == "list" else None
        out = [display_value(v, item) for v in value]
        try:
            return sorted(out)
        except TypeError:
            return out
    return value


def format_value(value: Any, lang: str = "en", type_: Type | None = None, unit: str | None = None) -> str:
    """A value as people read it: thousands separators, true/false in the language, units."""
    value = display_value(value, type_)
    if value is None:
        return _UNKNOWN[lang]
    if isinstance(value, bool):
        return ("예" if value else "아니요") if lang == "ko" else ("yes" if value else "no")
    if isinstance(value, int):
        text = f"{value:,}"
    elif isinstance(value, float):
        text = f"{value:,.0f}" if value.is_integer() and abs(value) >= 1000 else f"{value:,.4g}"
    elif isinstance(value, list):
        shown = [format_value(v, lang) for v in value[:_MAX_LIST]]
        more = len(value) - len(shown)
        if more:
            shown.append(f"… (+{more})" if lang == "en" else f"… (외 {more}개)")
        return "[" + ", ".join(shown) + "]"
    elif isinstance(value, str) and value in VALUE_LABELS:
        text = translate(lang, VALUE_LABELS[value], context=VALUE_CONTEXT)
    else:
        text = str(value)
    if unit == "KRW":
        return f"{text} KRW" if lang == "en" else f"{text}원"
    return text


def param_label(name: str, lang: str = "en", fields: Catalogue = FIELDS) -> str:
    """A programme parameter as people read it: a design names its parameters freely, so one that
    bears a field's name is that field's threshold, and any other is the programme's threshold."""
    f = fields.get(name)
    if f is not None:
        return f"{f.label(lang)} 기준값" if lang == "ko" else f"the {f.label(lang)} threshold"
    return "프로그램 기준값" if lang == "ko" else "the programme's threshold"


def render(node: Node, lang: str = "en", fields: Catalogue = FIELDS) -> str:
    """The rule as a readable formula in Korean or English (field labels, ≥, ∈ …)."""
    op, args = node.op, node.args

    def r(n: Node) -> str:
        inner = render(n, lang, fields)
        return f"({inner})" if n.args and n.op not in ("min", "max", "years_since", "days_between") else inner

    if op == "var":
        f = fields.get(node.value)
        return f.label(lang) if f else str(node.value)
    if op == "param":
        return param_label(str(node.value), lang, fields)
    if op in ("lit", "list"):
        return format_value(node.value, lang, node.type if op == "lit" else None)
    if op == "today":
        return "기준일" if lang == "ko" else "the reference date"
    if op == "error":
        return "?"
    if op in _SYMBOLS:
        return f"{r(args[0])} {_SYMBOLS[op]} {r(args[1])}"
    if op == "between":
        return f"{r(args[1])} ≤ {r(args[0])} ≤ {r(args[2])}"
    if op == "in":
        if lang == "ko":
            return f"{r(args[0])} ∈ {r(args[1])}"
        return f"{r(args[0])} is one of {r(args[1])}"
    if op in ("all", "any"):
        parts = "; ".join(render(a, lang, fields) for a in args)
        if lang == "ko":
            return f"{'모두 충족' if op == 'all' else '하나 이상 충족'}: {parts}"
        return f"{'all of' if op == 'all' else 'any of'}: {parts}"
    if op == "not":
        return f"{r(args[0])} 아님" if lang == "ko" else f"not {r(args[0])}"
    if op == "if":
        c, a, b = (render(x, lang, fields) for x in args)
        return f"{c}이면 {a}, 아니면 {b}" if lang == "ko" else f"if {c} then {a} else {b}"
    if op in ("+", "*", "/") or (op == "-" and len(args) == 2):
        return f" {op} ".join(r(a) for a in args)
    if op == "-":
        return f"-{r(args[0])}"
    if op in ("min", "max"):
        name = {"min": "최솟값", "max": "최댓값"}[op] if lang == "ko" else op
        return f"{name}({', '.join(render(a, lang, fields) for a in args)})"
    if op == "years_since":
        x = render(args[0], lang, fields)
        return f"{x}부터 경과한 햇수" if lang == "ko" else f"whole years since {x}"
    if op == "days_between":
        a, b = (render(x, lang, fields) for x in args)
        return f"{a}부터 {b}까지의 일수" if lang == "ko" else f"days from {a} to {b}"
    return op
