"""The shared form-error pattern (web/forms.py, _form_errors.html): messages worded with labels in
the page's language, limits in human units, and the macro's summary linking to each field."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, ValidationError

from regionvisa.core.errors import Conflict, Forbidden, Invalid
from regionvisa.web import forms, i18n
from regionvisa.web.templating import environment

LABELS = {"share": {"ko": "비율", "en": "Share"}, "amount": "Amount"}


class _In(BaseModel):
    share: int = Field(ge=0, le=100)
    amount: int


def _validation_error(data: dict) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        _In.model_validate(data)
    return info.value


@pytest.mark.parametrize(
    ("lang", "expected"), [("en", "Share must be 100 or less"), ("ko", "비율은 100 이하여야 합니다")]
)
def test_pydantic_messages_use_the_label_in_the_page_language(lang, expected):
    errors = forms.errors_from(_validation_error({"share": 500, "amount": "x"}), labels=LABELS, lang=lang)
    assert errors.status == 422
    assert [e.field for e in errors] == ["share", "amount"]
    assert errors.message("share") == expected
    assert "Input should" not in " ".join(e.message for e in errors)
    assert errors.items[0].id == "share"


def test_domain_error_message_starting_with_the_id_starts_with_the_label():
    exc = Invalid(code="invalid", ko="share = 9: 너무 큼", en="share = 9: too large", field="share")
    errors = forms.errors_from(exc, labels=LABELS, ids={"share": "f-share"}, lang="en")
    assert errors.message("share") == "Share = 9: too large"
    assert errors.items[0].id == "f-share"


def test_conflict_keeps_its_status_and_links_to_the_form():
    errors = forms.errors_from(Conflict(code="x", ko="충돌", en="clash"), labels=LABELS, form_id="app-form", lang="ko")
    assert errors.status == 409
    assert errors.items[0].id == "app-form" and errors.items[0].message == "충돌"


def test_forbidden_is_not_a_form_error():
    with pytest.raises(Forbidden):
        forms.errors_from(Forbidden(), labels=LABELS)


def test_several_field_errors_give_one_item_each():
    exc = Invalid(code="invalid", ko="둘", en="two")
    exc.field_errors = [
        {"field": "share", "ko": "비율 오류", "en": "share bad"},
        {"field": "amount", "ko": "금액 오류", "en": "amount bad"},
    ]
    errors = forms.errors_from(exc, labels=LABELS, lang="ko", order=["amount", "share"])
    assert [e.field for e in errors] == ["amount", "share"]


@pytest.mark.parametrize(
    ("n", "lang", "text"),
    [(10 * 2**20, "en", "10 MB"), (10 * 2**20 + 1, "en", "10 MB"), (1536, "ko", "1.5 KB"), (900, "en", "900 bytes")],
)
def test_sizes_in_human_units(n, lang, text):
    assert forms.size_text(n, lang) == text


def test_counts_and_numbers_in_the_page_format():
    assert forms.count_text(5000, ko="행", en="rows", lang="en") == "5,000 rows"
    assert forms.count_text(5000, ko="행", en="rows", lang="ko") == "5,000행"
    assert forms.number_text(1_000_000.0, "en") == "1,000,000"


@pytest.mark.parametrize(("lang", "title"), [("ko", "입력 내용을 확인해 주세요"), ("en", "There is a problem")])
def test_macro_renders_summary_links_and_field_message(lang, title):
    token = i18n.current_language.set(lang)
    try:
        errors = forms.errors_from(_validation_error({"share": 500, "amount": 1}), labels=LABELS)
        tpl = environment().from_string(
            '{% from "_form_errors.html" import error_summary, field_error, invalid %}'
            '{{ error_summary(errors) }}{{ field_error(errors, "share") }}'
            '<input id="share"{{ invalid(errors, "share") }}>'
            '{{ field_error(errors, "amount") }}'
        )
        html = tpl.render(errors=errors)
    finally:
        i18n.current_language.reset(token)
    assert title in html
    assert 'href="#share"' in html
    assert 'id="share-error"' in html and 'aria-invalid="true"' in html
    assert 'id="amount-error"' not in html
    assert (
        environment()
        .from_string('{% from "_form_errors.html" import error_summary %}[{{ error_summary(errors) }}]')
        .render(errors=None)
        .strip()
        == "[]"
    )
