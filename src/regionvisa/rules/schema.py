"""Static types, the closed operator set (DESIGN §4.2) and the checked rule tree.

Rules arrive as JSON/YAML values; `validate.py` turns them into a tree of `Node`s whose every node carries
its static type. Both evaluators walk that tree, so they never re-interpret the raw JSON differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# --------------------------------------------------------------------------------------------- types

NUMERIC_KINDS = ("integer", "number")


@dataclass(frozen=True)
class Type:
    """A static type. Enums carry their values; lists their item type."""

    kind: str  # boolean, integer, number, string, date, enum, list, any, error
    values: tuple[str, ...] = ()
    ordered: bool = False
    item: Type | None = None
    name: str | None = None  # enum field name or "region_code", for messages

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    @property
    def orderable(self) -> bool:
        return self.numeric or self.kind == "date" or (self.kind == "enum" and self.ordered)

    def __str__(self) -> str:
        if self.kind == "enum":
            sep = " < " if self.ordered else ", "
            word = "ordered enum" if self.ordered else "enum"
            return f"{word} {self.name} ({sep.join(self.values)})"
        if self.kind == "list":
            return f"list of {self.item}" if self.item and self.item.kind != "any" else "list"
        if self.kind == "string" and self.name:
            return self.name
        return self.kind


BOOLEAN = Type("boolean")
INTEGER = Type("integer")
NUMBER = Type("number")
STRING = Type("string")
DATE = Type("date")
ANY = Type("any")
ERROR = Type("error")  # a node that already produced an error; compatible with everything


def list_of(item: Type) -> Type:
    return Type("list", item=item)


@lru_cache(maxsize=256)
def enum_index(values: tuple[str, ...]) -> dict[str, int]:
    """Value -> position, the runtime representation of an enum value in both evaluators."""
    return {v: i for i, v in enumerate(values)}


def field_type(field: Any) -> Type:
    """The static type of a catalogue field."""
    t = field.type
    if t in ("enum", "ordered_enum"):
        return Type("enum", tuple(field.values), ordered=t == "ordered_enum", name=field.name)
    if t == "region_code":
        return Type("string", name="region_code")
    if t == "list":
        return list_of(STRING)
    return Type(t)


# ------------------------------------------------------------------------------------------ operators


@dataclass(frozen=True)
class OpSpec:
    name: str
    group: str
    min_args: int
    max_args: int | None  # None: no upper bound
    description: str

    @property
    def arity_text(self) -> str:
        if self.max_args == self.min_args:
            return str(self.min_args)
        if self.max_args is None:
            return f"{self.min_args}+"
        return f"{self.min_args}-{self.max_args}"


_SPECS = [
    OpSpec("var", "value", 1, 1, "a field of the applicant profile"),
    OpSpec("param", "value", 1, 1, "a programme or national parameter, value in force on the date"),
    OpSpec("date", "value", 1, 1, 'a date literal "YYYY-MM-DD"'),
    OpSpec("today", "value", 1, 1, "the reference date ({today: true})"),
    OpSpec("==", "comparison", 2, 2, "equal"),
    OpSpec("!=", "comparison", 2, 2, "not equal"),
    OpSpec("<", "comparison", 2, 2, "less than"),
    OpSpec("<=", "comparison", 2, 2, "less than or equal"),
    OpSpec(">", "comparison", 2, 2, "greater than"),
    OpSpec(">=", "comparison", 2, 2, "greater than or equal"),
    OpSpec("between", "comparison", 3, 3, "[x, low, high], inclusive"),
    OpSpec("in", "comparison", 2, 2, "[x, list]: x is one of the list"),
    OpSpec("all", "logic", 1, None, "every part true (Kleene)"),
    OpSpec("any", "logic", 1, None, "at least one part true (Kleene)"),
    OpSpec("not", "logic", 1, 1, "negation; not unknown is unknown"),
    OpSpec("if", "logic", 3, 3, "[condition, then, else]; unknown condition gives unknown"),
    OpSpec("+", "arithmetic", 2, None, "sum"),
    OpSpec("-", "arithmetic", 1, 2, "difference, or negation with one operand"),
    OpSpec("*", "arithmetic", 2, None, "product"),
    OpSpec("/", "arithmetic", 2, 2, "quotient; division by zero is unknown"),
    OpSpec("min", "arithmetic", 1, None, "smallest operand (numbers or dates)"),
    OpSpec("max", "arithmetic", 1, None, "largest operand (numbers or dates)"),
    OpSpec("years_since", "time", 1, 1, "whole years from a date to the reference date, as an age"),
    OpSpec("days_between", "time", 2, 2, "[a, b]: b minus a in days"),
]
OPERATORS: dict[str, OpSpec] = {s.name: s for s in _SPECS}
VALUE_OPS = frozenset(s.name for s in _SPECS if s.group == "value")
COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
ORDERING = frozenset({"<", "<=", ">", ">="})
UNARY_BARE = frozenset({"not", "years_since", "-", "min", "max"})  # may take a bare operand, not a list


# ------------------------------------------------------------------------------------------ the tree


@dataclass(eq=False)
class Node:
    """A checked rule node.

    `op` is an operator name or one of: var, param, lit, list, today. `value` is the field name (var),
    the parameter name (param), the Python literal (lit; a date for date literals, the enum value's
    string for enum-typed literals) or a tuple of literals (list).
    """

    op: str
    type: Type
    path: str
    args: tuple[Node, ...] = ()
    value: Any = None

    def walk(self):
        yield self
        for a in self.args:
            yield from a.walk()

    @property
    def reads_applicant(self) -> bool:
        return any(n.op == "var" for n in self.walk())


def fields_read(node: Node) -> tuple[str, ...]:
    """Applicant fields a rule reads, in first-seen order (these are its candidate missing fields)."""
    seen: dict[str, None] = {}
    for n in node.walk():
        if n.op == "var":
            seen.setdefault(n.value, None)
    return tuple(seen)


def params_read(node: Node) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for n in node.walk():
        if n.op == "param":
            seen.setdefault(n.value, None)
    return tuple(seen)
