"""Pydantic's refusals in the words people read, in Korean or English (no web import: the pages,
the API's error bodies and the policy-file loaders all word them the same way).

`pydantic_message(err, label, lang)` turns one `ValidationError.errors()` item into a sentence with
the field's label and the numbers in the reader's format: "Input should be less than or equal to
100" becomes "Share must be 100 or less" / "비율은 100 이하여야 합니다". A custom refusal raised as
`worded_error(ko=..., en=...)` inside a validator carries its own two wordings.
"""

from __future__ import annotations

from babel.numbers import format_decimal
from pydantic_core import PydanticCustomError

WORDED = "worded"  # the error type of a refusal that carries its own Korean and English


def worded_error(*, ko: str, en: str) -> PydanticCustomError:
    """A validator's refusal in both languages (raise it instead of a bare ValueError). Its English
    line reads as a ValueError's would ("Value error, …"), so files' error lines do not change."""
    return PydanticCustomError(WORDED, "Value error, {en}", {"ko": ko, "en": en})


def number_text(value, lang: str) -> str:
    """A number as the reader writes it (Babel: 1,000,000; 0.5)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return format_decimal(value, format="#,##0.##########", locale=lang)


def topic(label: str, lang: str) -> str:
    """`label` as the subject of a Korean sentence: 은/는 after the last syllable's final sound."""
    if lang != "ko" or not label:
        return label
    last = label[-1]
    if "가" <= last <= "힣":
        return label + ("은" if (ord(last) - 0xAC00) % 28 else "는")
    return label + "은(는)"


def pydantic_message(err: dict, label: str, lang: str) -> str:
    """A Pydantic error reworded for people, with the field's label and numbers in the page's format."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == WORDED:
        return str(ctx.get("ko" if lang == "ko" else "en", ""))
    subject = topic(label, lang)

    def num(key: str) -> str:
        value = ctx.get(key)
        return number_text(value, lang) if isinstance(value, int | float) else str(value or "")

    date_msg = (f"{subject} 날짜(YYYY-MM-DD)로 입력해 주세요", f"{label} must be a date (YYYY-MM-DD)")
    time_msg = (f"{subject} 날짜와 시각으로 입력해 주세요", f"{label} must be a date and time")
    lo, hi = num("min_length"), num("max_length")
    ko, en = {
        "missing": (f"{label}을(를) 입력해 주세요", f"Enter {label}"),
        "string_too_short": (f"{subject} {lo}자 이상이어야 합니다", f"{label} must be at least {lo} characters"),
        "string_too_long": (f"{subject} {hi}자 이하여야 합니다", f"{label} must be {hi} characters or fewer"),
        "string_pattern_mismatch": (f"{subject} 형식이 올바르지 않습니다", f"{label} is not in the expected format"),
        "int_parsing": (f"{subject} 정수로 입력해 주세요", f"{label} must be a whole number"),
        "int_from_float": (f"{subject} 정수로 입력해 주세요", f"{label} must be a whole number"),
        "float_parsing": (f"{subject} 숫자로 입력해 주세요", f"{label} must be a number"),
        "decimal_parsing": (f"{subject} 숫자로 입력해 주세요", f"{label} must be a number"),
        "bool_parsing": (f"{label}: 예 또는 아니요를 골라 주세요", f"Choose yes or no for {label}"),
        "date_parsing": date_msg,
        "date_from_datetime_parsing": date_msg,
        "datetime_parsing": time_msg,
        "datetime_from_date_parsing": time_msg,
        "greater_than": (f"{subject} {num('gt')}보다 커야 합니다", f"{label} must be more than {num('gt')}"),
        "greater_than_equal": (f"{subject} {num('ge')} 이상이어야 합니다", f"{label} must be {num('ge')} or more"),
        "less_than": (f"{subject} {num('lt')}보다 작아야 합니다", f"{label} must be less than {num('lt')}"),
        "less_than_equal": (f"{subject} {num('le')} 이하여야 합니다", f"{label} must be {num('le')} or less"),
        "too_short": (f"{label}: {lo}개 이상 필요합니다", f"{label} needs at least {lo} items"),
        "too_long": (f"{label}: {hi}개까지 가능합니다", f"{label} takes at most {hi} items"),
        "literal_error": (f"{label}: 목록에서 골라 주세요", f"Choose {label} from the list"),
        "enum": (f"{label}: 목록에서 골라 주세요", f"Choose {label} from the list"),
    }.get(kind, (f"{subject} 올바르지 않습니다", f"{label} is not valid"))
    return ko if lang == "ko" else en
