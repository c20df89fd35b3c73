"""Batch screening: a checked programme compiled into Polars expressions over a whole applicant table.

Criterion results are Boolean columns with null for missing; Polars' `&`/`|` already follow Kleene
logic. Every other operator is written so that null passes through, exactly as in `scalar.py`.
Sub-expressions that read no applicant field are folded to literals by the scalar evaluator, so the
two evaluators share their constant arithmetic. The core (criteria, outcome, points) and the text
(failed, missing, pass/fail/missing) are separate steps so each can be timed on its own.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from functools import reduce
from typing import Any

import polars as pl

from .fields import FIELDS, Catalogue
from .parse import ensure_typed
from .program import RuleProgram
from .scalar import _build as _scalar_build
from .scalar import _Env
from .schema import Node, Type
from .validate import CheckedProgram, RuleValidationError, check_program, check_rule

OUTCOMES = ("eligible", "ineligible", "incomplete")
OUTCOME_DTYPE = pl.Enum(list(OUTCOMES))
RESULT_DTYPE = pl.Enum(["pass", "fail", "missing"])
ENUM_INDEX = pl.Int32  # enum values are compared by position


def criterion_column(cid: str) -> str:
    return f"c:{cid}"


def _dtype(t: Type) -> pl.DataType:
    """Polars dtype of a value of static type `t` inside compiled expressions."""
    return {
        "boolean": pl.Boolean(),
        "integer": pl.Int64(),
        "number": pl.Float64(),
        "string": pl.String(),
        "date": pl.Date(),
        "enum": ENUM_INDEX(),
    }.get(t.kind, pl.Null())


@dataclass
class _Ctx:
    on: dt.date
    params: Mapping[str, tuple[Any, dt.date] | None]
    fields: Catalogue
    columns: frozenset[str]


def _lit(value: Any, t: Type) -> pl.Expr:
    if t.kind == "number" and value is not None:
        value = float(value)
    return pl.lit(value, dtype=_dtype(t))


def _const_value(node: Node, ctx: _Ctx) -> Any:
    """The value of a sub-expression that reads no applicant field, folded by the scalar evaluator."""
    return _scalar_build(node, _Env(ctx.on, ctx.params, ctx.fields))({})


def _compile(node: Node, ctx: _Ctx) -> pl.Expr:
    if not node.reads_applicant:
        return _lit(_const_value(node, ctx), node.type)
    op, args = node.op, node.args
    if op == "var":
        name = node.value
        if name not in ctx.columns:
            return pl.lit(None, dtype=_dtype(node.type))
        col = pl.col(name)
        return col.to_physical().cast(ENUM_INDEX) if node.type.kind == "enum" else col
    if op in _CMP or op == "between":
        fast = _age_comparison(node, ctx)
        if fast is not None:
            return fast
    if op in ("between", "min", "max") and any(not a.reads_applicant and _const_value(a, ctx) is None for a in args):
        # A constant operand is unknown (a parameter not in force): the whole value is unknown. Polars'
        # horizontal min/max would skip the null and `&` could turn it into false.
        return pl.lit(None, _dtype(node.type))
    c = [_compile(a, ctx) for a in args] if op != "in" else []
    if op in _CMP:
        return _CMP[op](c[0], c[1])
    if op == "between":
        x, lo, hi = c
        guards = [e.is_null() for e, a in zip(c, args, strict=True) if a.reads_applicant]
        return pl.when(reduce(operator.or_, guards)).then(pl.lit(None, pl.Boolean)).otherwise((x >= lo) & (x <= hi))
    if op == "in":
        return _in(node, ctx)
    if op == "all":
        return reduce(operator.and_, c)
    if op == "any":
        return reduce(operator.or_, c)
    if op == "not":
        return ~c[0]
    if op == "if":
        cond, a, b = c
        dtype = _dtype(node.type)
        if node.type.kind != "enum":
            a, b = a.cast(dtype), b.cast(dtype)
        return pl.when(cond.is_null()).then(pl.lit(None, dtype)).when(cond).then(a).otherwise(b)
    if op in ("+", "-", "*", "/"):
        f = [e.cast(pl.Float64) for e in c]
        if op == "-" and len(f) == 1:
            return -f[0]
        if op == "/":
            return pl.when(f[1] != 0).then(f[0] / f[1])
        return reduce({"+": operator.add, "-": operator.sub, "*": operator.mul}[op], f)
    if op in ("min", "max"):
        if node.type.kind == "number":
            c = [e.cast(pl.Float64) for e in c]
        nullable = [e.is_not_null() for e, a in zip(c, args, strict=True) if a.reads_applicant]
        pick = pl.min_horizontal(c) if op == "min" else pl.max_horizontal(c)
        return pl.when(reduce(operator.and_, nullable)).then(pick)
    if op == "years_since":
        d = c[0]
        on = ctx.on
        md = d.dt.month().cast(pl.Int32) * 100 + d.dt.day().cast(pl.Int32)
        return (
            pl.lit(on.year, pl.Int32) - d.dt.year().cast(pl.Int32) - (md > on.month * 100 + on.day).cast(pl.Int32)
        ).cast(pl.Int64)
    if op == "days_between":
        a, b = c
        return (b.cast(pl.Int32) - a.cast(pl.Int32)).cast(pl.Int64)
    raise AssertionError(f"operator {op} has no batch form")  # unreachable for checked trees


_CMP = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_EPOCH = dt.date(1970, 1, 1)


def _cutoff_days(on: dt.date, years: int) -> int:
    """Days since 1970 of the latest date from which `years` whole years have passed on `on`."""
    y = on.year - years
    if y < 1:
        return (dt.date(1, 1, 1) - _EPOCH).days - 1
    if y > 9999:
        return (dt.date(9999, 12, 31) - _EPOCH).days
    day = min(on.day, calendar.monthrange(y, on.month)[1])  # 29 Feb -> 28 Feb in common years
    return (dt.date(y, on.month, day) - _EPOCH).days


def _age_comparison(node: Node, ctx: _Ctx) -> pl.Expr | None:
    """`years_since(date) <op> constant` as a plain date comparison.

    Ages are by far the most common use of years_since; comparing the date with the birthday cut-off
    avoids extracting year, month and day for every row (about 20× faster) and gives the same answer.
    None when the node does not have that shape.
    """
    args = node.args
    where = [i for i, a in enumerate(args) if a.op == "years_since" and a.reads_applicant]
    if len(where) != 1 or any(a.reads_applicant for i, a in enumerate(args) if i != where[0]):
        return None
    i = where[0]
    if node.op == "between" and i != 0:
        return None
    env = _Env(ctx.on, ctx.params, ctx.fields)
    consts = [_scalar_build(a, env)({}) for j, a in enumerate(args) if j != i]
    if any(k is not None and not math.isfinite(k) for k in consts):
        return None
    if any(k is None for k in consts):
        return pl.lit(None, pl.Boolean)
    days = _compile(args[i].args[0], ctx).cast(pl.Int32)
    on = ctx.on

    def at_least(k: int) -> pl.Expr:
        return days <= _cutoff_days(on, k)

    def at_most(k: int) -> pl.Expr:
        return days > _cutoff_days(on, k + 1)

    if node.op == "between":
        lo, hi = consts
        return at_least(math.ceil(lo)) & at_most(math.floor(hi))
    (k,) = consts
    op = node.op if i == 0 else _FLIP[node.op]
    if op == ">=":
        return at_least(math.ceil(k))
    if op == ">":
        return at_least(math.floor(k) + 1)
    if op == "<=":
        return at_most(math.floor(k))
    if op == "<":
        return at_most(math.ceil(k) - 1)
    if float(k).is_integer():
        equal = at_least(int(k)) & at_most(int(k))
    else:  # a whole number of years never equals a fraction; unknown stays unknown
        equal = pl.when(days.is_not_null()).then(pl.lit(False))
    return equal if op == "==" else ~equal


def _in(node: Node, ctx: _Ctx) -> pl.Expr:
    xn, ln = node.args
    x = _compile(xn, ctx)
    if ln.reads_applicant:  # a list-typed field
        lst = _compile(ln, ctx)
        inner = lst.list.contains(x.cast(pl.String))
        return pl.when(x.is_null() | lst.is_null()).then(pl.lit(None, pl.Boolean)).otherwise(inner)
    env = _Env(ctx.on, ctx.params, ctx.fields)
    values = _scalar_build(ln, env)({})
    if values is None:  # a list parameter with no value in force
        return pl.lit(None, pl.Boolean)
    xt, item = xn.type, ln.type.item
    if xt.kind == "enum":
        dtype: pl.DataType = ENUM_INDEX()
    elif xt.numeric:
        dtype = pl.Float64() if "number" in (xt.kind, item.kind if item else "") else pl.Int64()
    else:
        dtype = _dtype(xt)
    vals = sorted(values) if xt.kind != "boolean" else list(values)
    if isinstance(dtype, pl.Float64):
        vals = [float(v) for v in vals]
    return x.cast(dtype).is_in(pl.Series(vals, dtype=dtype).implode())


# ------------------------------------------------------------------------------------------- screen


def _context(checked: CheckedProgram, df: pl.DataFrame, on: dt.date) -> _Ctx:
    return _Ctx(on, checked.parameters_on(on), checked.fields, frozenset(df.columns))


def _cached_expressions(kind: str, build):
    """Expressions depend only on the programme, the date and the table's columns, and Polars
    expressions are immutable: a server screening small batches builds them once per date."""

    def cached(checked: CheckedProgram, df: pl.DataFrame, *, on: dt.date):
        return checked.memo((kind, on, tuple(df.columns)), lambda: build(checked, df, on=on))

    cached.__doc__ = build.__doc__
    return cached


def _build_criteria(checked: CheckedProgram, df: pl.DataFrame, *, on: dt.date) -> list[pl.Expr]:
    """One Boolean expression per criterion, named `c:<id>`, for a table with `df`'s columns."""
    ctx = _context(checked, df, on)
    return [_compile(cc.node, ctx).alias(criterion_column(cc.criterion.id)) for cc in checked.criteria]


def _build_points(checked: CheckedProgram, df: pl.DataFrame, *, on: dt.date) -> pl.Expr:
    """Sum of the points whose rule is true (unknown earns nothing); null when there is no grid."""
    if not checked.points:
        return pl.lit(None, pl.Int64).alias("points")
    ctx = _context(checked, df, on)
    all_int = all(isinstance(p.points, int) for p, _ in checked.points)
    small = all_int and sum(abs(p.points) for p, _ in checked.points) < 2**31
    acc = pl.Int32 if small else pl.Int64 if all_int else pl.Float64  # narrow sums are faster
    terms = [
        pl.when(_compile(node, ctx)).then(pl.lit(p.points, acc)).otherwise(pl.lit(0, acc)) for p, node in checked.points
    ]
    dtype = pl.Int64 if all_int else pl.Float64
    return reduce(operator.add, terms).cast(dtype).alias("points")


compile_criteria = _cached_expressions("polars-criteria", _build_criteria)
compile_points = _cached_expressions("polars-points", _build_points)


def outcome_expr(checked: CheckedProgram) -> pl.Expr:
    """eligible / ineligible / incomplete from the criterion columns (Kleene `all`)."""
    cols = [pl.col(criterion_column(cc.criterion.id)) for cc in checked.criteria]
    if not cols:
        return pl.lit("eligible", OUTCOME_DTYPE).alias("outcome")
    every = reduce(operator.and_, cols)
    return (
        pl.when(every.is_null())
        .then(pl.lit("incomplete", OUTCOME_DTYPE))
        .when(every)
        .then(pl.lit("eligible", OUTCOME_DTYPE))
        .otherwise(pl.lit("ineligible", OUTCOME_DTYPE))
        .alias("outcome")
    )


def _prepare(program: RuleProgram | CheckedProgram, df: pl.DataFrame, fields: Catalogue):
    checked = check_program(program, fields=fields)
    return checked, ensure_typed(df, fields=checked.fields)


def screen_core(
    program: RuleProgram | CheckedProgram,
    df: pl.DataFrame,
    *,
    on: dt.date,
    id_column: str = "applicant_id",
    fields: Catalogue = FIELDS,
) -> pl.DataFrame:
    """Criterion Booleans (null = missing), outcome and points, one row per applicant in input order."""
    checked, df = _prepare(program, df, fields)
    keep = [pl.col(id_column)] if id_column in df.columns else []
    crit = compile_criteria(checked, df, on=on)
    return (
        df.lazy()
        .select([*keep, *crit, compile_points(checked, df, on=on)])
        .with_columns(outcome_expr(checked))
        .collect()
    )


def _readers(checked: CheckedProgram) -> dict[str, list[int]]:
    """Field -> positions of the criteria that read it, fields sorted (the `missing` order)."""
    readers: dict[str, list[int]] = {}
    for i, cc in enumerate(checked.criteria):
        for f in cc.fields:
            readers.setdefault(f, []).append(i)
    return dict(sorted(readers.items()))


def _packable(checked: CheckedProgram) -> bool:
    """Whether the criterion and field flags fit the 64-bit keys of the fast path."""
    return len(checked.criteria) + len(_readers(checked)) <= 64


def _uint(bits: int) -> pl.DataType:
    """The narrowest unsigned integer holding `bits` flags (narrow keys are cheaper to build)."""
    return pl.UInt8() if bits <= 8 else pl.UInt16() if bits <= 16 else pl.UInt32() if bits <= 32 else pl.UInt64()


def _failed_key(checked: CheckedProgram) -> pl.Expr:
    """Bit i set when criterion i failed (a missing criterion sets nothing)."""
    dtype = _uint(len(checked.criteria))
    zero = pl.lit(0, dtype)
    bits = [
        pl.when(~pl.col(criterion_column(cc.criterion.id))).then(pl.lit(1 << i, dtype)).otherwise(zero)
        for i, cc in enumerate(checked.criteria)
    ]
    return reduce(operator.or_, bits, zero).alias("__failed")


def _missing_key(checked: CheckedProgram, columns: set[str]) -> pl.Expr:
    """Bit i set when criterion i is missing, bit n+j when field j (sorted) is null or absent."""
    n = len(checked.criteria)
    readers = _readers(checked)
    dtype = _uint(n + len(readers))
    zero = pl.lit(0, dtype)

    def flag(cond: pl.Expr, k: int) -> pl.Expr:
        return pl.when(cond).then(pl.lit(1 << k, dtype)).otherwise(zero)

    parts = [flag(pl.col(criterion_column(cc.criterion.id)).is_null(), i) for i, cc in enumerate(checked.criteria)]
    absent = 0
    for j, f in enumerate(readers):
        if f in columns:
            parts.append(flag(pl.col(f).is_null(), n + j))
        else:
            absent |= 1 << (n + j)
    if absent:
        parts.append(pl.lit(absent, dtype))
    return reduce(operator.or_, parts, zero).alias("__missing")


def _labels(keys: pl.Series, text_of) -> pl.Series:
    """`;`-joined names per row, built once per distinct key, not once per row."""
    distinct = keys.unique()
    text = [text_of(k) for k in distinct.to_list()]
    return keys.replace_strict(distinct, pl.Series(text, dtype=pl.String), return_dtype=pl.String)


def _lists_from_keys(
    checked: CheckedProgram, failed_key: pl.Series, missing_key: pl.Series
) -> tuple[pl.Series, pl.Series]:
    """`failed` and `missing` text from the per-row keys, each text built once per distinct key."""
    ids = [cc.criterion.id for cc in checked.criteria]
    n = len(ids)
    readers = _readers(checked)
    fields = list(readers)
    reader_bits = [sum(1 << i for i in readers[f]) for f in fields]
    crit_bits = (1 << n) - 1

    def failed_text(key: int) -> str:
        return ";".join(cid for i, cid in enumerate(ids) if key >> i & 1)

    def missing_text(key: int) -> str:
        unknown, nulls = key & crit_bits, key >> n
        return ";".join(f for j, f in enumerate(fields) if nulls >> j & 1 and unknown & reader_bits[j])

    return _labels(failed_key, failed_text).alias("failed"), _labels(missing_key, missing_text).alias("missing")


def _lists_slow(checked: CheckedProgram, frame: pl.DataFrame, columns: set[str]) -> tuple[pl.Series, pl.Series]:
    """The same lists joined as text directly, for programmes too wide for 64-bit keys."""
    ids = [cc.criterion.id for cc in checked.criteria]
    crit = [pl.col(criterion_column(i)) for i in ids]
    readers = _readers(checked)
    failed = [pl.when(~c).then(pl.lit(i)) for c, i in zip(crit, ids, strict=True)]
    missing = []
    for f, which in readers.items():
        unknown = reduce(operator.or_, [crit[i].is_null() for i in which])
        missing.append(pl.when(unknown & (pl.col(f).is_null() if f in columns else pl.lit(True))).then(pl.lit(f)))

    def joined(parts: list[pl.Expr], name: str) -> pl.Expr:
        if not parts:
            return pl.lit("").alias(name)
        return pl.concat_str(parts, separator=";", ignore_nulls=True).fill_null("").alias(name)

    out = frame.select(joined(failed, "failed"), joined(missing, "missing"))
    return out.get_column("failed"), out.get_column("missing")


def add_lists(
    program: RuleProgram | CheckedProgram,
    core: pl.DataFrame,
    applicants: pl.DataFrame,
    *,
    fields: Catalogue = FIELDS,
) -> pl.DataFrame:
    """The core result with `failed` (programme order) and `missing` (sorted) added, `;`-joined.

    `applicants` is the table that was screened; its null cells are the missing fields.
    """
    checked, applicants = _prepare(program, applicants, fields)
    columns = set(applicants.columns)
    crit_cols = [criterion_column(cc.criterion.id) for cc in checked.criteria]
    read = [f for f in _readers(checked) if f in columns]
    frame = pl.concat([core.select(crit_cols), applicants.select(read)], how="horizontal")
    if _packable(checked):
        keys = frame.select(_failed_key(checked), _missing_key(checked, columns))
        failed, missing = _lists_from_keys(checked, keys["__failed"], keys["__missing"])
    else:
        failed, missing = _lists_slow(checked, frame, columns)
    return core.with_columns(failed, missing)


def screen(
    program: RuleProgram | CheckedProgram,
    df: pl.DataFrame,
    *,
    on: dt.date,
    id_column: str = "applicant_id",
    fields: Catalogue = FIELDS,
) -> pl.DataFrame:
    """Core columns plus `failed` (ids in programme order) and `missing` (sorted fields), `;`-joined.

    The keys behind `failed` and `missing` are computed in the same query as the criteria, so the
    criterion columns are read while they are still in cache.
    """
    checked, df = _prepare(program, df, fields)
    if not _packable(checked):
        return add_lists(checked, screen_core(checked, df, on=on, id_column=id_column), df)
    keep = [id_column] if id_column in df.columns else []
    crit = compile_criteria(checked, df, on=on)
    names = [criterion_column(cc.criterion.id) for cc in checked.criteria]
    out = (
        df.lazy()
        .with_columns(*crit, compile_points(checked, df, on=on))
        .with_columns(outcome_expr(checked), _failed_key(checked), _missing_key(checked, set(df.columns)))
        .select(*keep, *names, "points", "outcome", "__failed", "__missing")
        .collect()
    )
    failed, missing = _lists_from_keys(checked, out["__failed"], out["__missing"])
    return out.drop("__failed", "__missing").with_columns(failed, missing)


def format_results(
    program: RuleProgram | CheckedProgram, screened: pl.DataFrame, *, id_column: str = "applicant_id"
) -> pl.DataFrame:
    """The §4.4 `screen` output: applicant_id, outcome, points, failed, missing, c:<id> as text.

    outcome and c:<id> are Polars Enums (text values, one byte per cell); CSV and Parquet writers
    write them as their text.
    """
    checked = check_program(program)
    cols = [criterion_column(cc.criterion.id) for cc in checked.criteria]
    ident = pl.col(id_column).cast(pl.String) if id_column in screened.columns else pl.lit(None, pl.String)
    text = [
        pl.when(pl.col(c).is_null())
        .then(pl.lit("missing", RESULT_DTYPE))
        .when(pl.col(c))
        .then(pl.lit("pass", RESULT_DTYPE))
        .otherwise(pl.lit("fail", RESULT_DTYPE))
        .alias(c)
        for c in cols
    ]
    return screened.select(
        ident.alias("applicant_id"),
        pl.col("outcome"),
        pl.col("points"),
        pl.col("failed"),
        pl.col("missing"),
        *text,
    )


def compile_expression(
    rule: Any,
    *,
    on: dt.date,
    columns: list[str] | None = None,
    params: Mapping[str, Any] | None = None,
    fields: Catalogue = FIELDS,
) -> pl.Expr:
    """One rule as a Polars expression (enum values come out as positions); for tests and tools."""
    program = RuleProgram(id="expr", parameters=dict(params or {}))
    node, errors = check_rule(rule, params=program.all_parameters(), fields=fields, expect=None)
    if errors:
        raise RuleValidationError(errors)
    cols = frozenset(columns if columns is not None else fields)
    return _compile(node, _Ctx(on, program.resolve_parameters(on), fields, cols))


__all__ = [
    "OUTCOMES",
    "add_lists",
    "compile_criteria",
    "compile_expression",
    "compile_points",
    "criterion_column",
    "format_results",
    "outcome_expr",
    "screen",
    "screen_core",
]
