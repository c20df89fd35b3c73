"""The rule language (DESIGN §4.2): field catalogue, validation, scalar and batch evaluation.

Pure computation: no database or web imports, so it can be tested and benchmarked on its own.
"""

from .compile import (
    OUTCOMES,
    add_lists,
    compile_criteria,
    compile_expression,
    compile_points,
    criterion_column,
    format_results,
    outcome_expr,
    screen,
    screen_core,
)
from .fields import FIELDS, Catalogue, Field, catalogue_json
from .parse import ParseProblem, ParseResult, coerce_applicant, coerce_value, ensure_typed, parse_applicants
from .program import Criterion, PointsRule, RuleProgram, value_in_force
from .scalar import CriterionExplanation, Evaluation, Explanation, evaluate, evaluate_expression, explain
from .schema import OPERATORS, Node, Type
from .text import render
from .validate import (
    CheckedProgram,
    ParamSpec,
    RuleError,
    RuleValidationError,
    check_program,
    check_rule,
    infer_types,
    validate_program,
    validate_rule,
)

__all__ = [
    "FIELDS",
    "OPERATORS",
    "OUTCOMES",
    "Catalogue",
    "CheckedProgram",
    "Criterion",
    "CriterionExplanation",
    "Evaluation",
    "Explanation",
    "Field",
    "Node",
    "ParamSpec",
    "ParseProblem",
    "ParseResult",
    "PointsRule",
    "RuleError",
    "RuleProgram",
    "RuleValidationError",
    "Type",
    "add_lists",
    "catalogue_json",
    "check_program",
    "check_rule",
    "coerce_applicant",
    "coerce_value",
    "compile_criteria",
    "compile_expression",
    "compile_points",
    "criterion_column",
    "ensure_typed",
    "evaluate",
    "evaluate_expression",
    "explain",
    "format_results",
    "infer_types",
    "outcome_expr",
    "parse_applicants",
    "render",
    "screen",
    "screen_core",
    "validate_program",
    "validate_rule",
    "value_in_force",
]
