"""One pattern for every form that can be refused (GOV.UK "error summary" and "error message").

When a form is refused, the same page comes back, with the status of the refusal (422, 409, 413…),
an error summary at its top ("There is a problem" / "입력 내용을 확인해 주세요") whose items link
to the fields (`#<field id>`), the message beside each field worded with the field's label in the
page's language (never its id), and every typed value kept. A bare error page is a dead end: the
officer loses what was typed and has to find the form again.

How to use it in a page module::

    from regionvisa.web import forms

    LABELS = {"amount": N_("Amount"), "reason": N_("Reason")}     # message ids, or {"ko", "en"} dicts

    @router.post("/quotas/{ledger_id}/adjust")
    async def adjust(request: Request, ledger_id: int, user=Depends(require("quotas.adjust"))):
        values = await forms.values(request)        # every typed string, to give back on refusal
        try:
            data = AdjustIn.model_validate(values)  # Pydantic, or parse by hand and raise Invalid
            with session_scope(engine=...) as session:
                service.adjust(session=session, ..., amount=data.amount, reason=data.reason)
        except (ValidationError, DomainError) as exc:
            errors = forms.errors_from(exc, labels=LABELS)   # re-raises 401/403/404: not a form error
            return _ledger_page(request, user, ledger_id, errors=errors, form=values, status=errors.status)
        return RedirectResponse(..., status_code=303)

and in its template::

    {% from "_form_errors.html" import error_summary, field_error, invalid %}
    {{ error_summary(errors) }}                       {# first thing in the page's content #}
    <label for="amount">{{ _("Amount") }}</label>
    {{ field_error(errors, "amount") }}
    <input id="amount" name="amount" value="{{ form.amount or '' }}"{{ invalid(errors, "amount") }}>

Rules of the pattern:

- Read the form in the handler (`await forms.values(request)` or `await request.form()`), not
  through `Form(...)` parameters: FastAPI answers those before the handler runs, with no page.
- The field id in the page is the field's name unless `ids=` maps it (`{"program_id": "program"}`);
  a message about no one field (a conflict) links to the form itself (`form_id=`, default "form").
- A domain error's `field` names the field; an error that holds several (`field_errors`, a list of
  `{"field", "ko", "en"}`, as the applicant profile check raises) gives one item per field.
- Pydantic messages are reworded: "Input should be less than or equal to 100" becomes
  "Share must be 100 or less" / "비율은(는) 100 이하여야 합니다", with numbers in the page's format.
- Size and count limits are said in human units: `forms.size_text(10 * 2**20)` -> "10 MB".
- Uploaded files cannot be given back (browsers refuse to prefill a file input); say so beside it
  (`file_again(errors)` in the template).

Upload pages declare their form with `@forms.upload_form(spec)` on the
route. A body over its size limit is refused by `web.uploads.BodyLimitMiddleware` while it streams,
inside the form parsing, before the handler runs; the page error handler (`web.errors`) then
renders the declared form page with the refusal beside the file field, instead of a bare error
page. The handler's own refusals (a file of the wrong type, a file over its own limit) go through
`spec.errors(exc)`, so both paths word the message the same way::

    DOCUMENT_FORM = forms.UploadForm(render=_refused_upload, file_field="file", labels=..., ids=..., limit=10 * 2**20)

    @router.post("/applications/{application_id}/documents")
    @forms.upload_form(DOCUMENT_FORM)
    async def upload_document(request: Request, application_id: int, user=Depends(require(...))):
        values = await forms.values(request)
        ...
        except DomainError as exc:
            return DOCUMENT_FORM.render(request, DOCUMENT_FORM.errors(exc), values)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from babel.numbers import format_decimal
from fastapi import Request
from pydantic import ValidationError

from regionvisa.core import wording
from regionvisa.core.errors import DomainError, Invalid
from regionvisa.core.wording import pydantic_message
from regionvisa.web import i18n

Label = str | Mapping[str, str]


@dataclass(frozen=True)
class FormError:
    """One refused field: `id` is the element the summary links to, `message` is in the page's language."""

    field: str | None
    id: str
    label: str
    message: str


@dataclass
class FormErrors:
    """What a refused form shows: the summary items in field order and the status to answer with."""

    items: list[FormError] = field(default_factory=list)
    status: int = 422

    def __bool__(self) -> bool:
        return bool(self.items)

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def for_field(self, name: str) -> list[FormError]:
        return [e for e in self.items if e.field == name]

    def message(self, name: str) -> str | None:
        """The message beside field `name` (several joined), or None."""
        found = self.for_field(name)
        return " ".join(e.message for e in found) if found else None

    @property
    def fields(self) -> list[str]:
        return [e.field for e in self.items if e.field]


NO_ERRORS = FormErrors()


def _lang(lang: str | None) -> str:
    return i18n.pick_language(lang or i18n.current_language.get())


def label_text(label: Label | None, name: str | None, lang: str | None = None) -> str:
    """A field's label in `lang`: a {"ko", "en"} dict, or an English message id through gettext."""
    lang = _lang(lang)
    if label is None:
        return name or ""
    if isinstance(label, Mapping):
        return i18n.local(dict(label), lang)
    return i18n.translate(lang, label)


def number_text(value, lang: str | None = None) -> str:
    """A number as the page writes it (Babel: 1,000,000; 0.5)."""
    return wording.number_text(value, _lang(lang))


def size_text(n_bytes: int | float, lang: str | None = None) -> str:
    """A size in the unit people use: 10 MB, 512 KB, 900 bytes (binary multiples, as limits are set)."""
    lang = _lang(lang)
    n = float(n_bytes)
    for unit, factor in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= factor:
            return f"{format_decimal(n / factor, format='#,##0.#', locale=lang)} {unit}"
    count = format_decimal(int(n), format="#,##0", locale=lang)
    return f"{count}바이트" if lang == "ko" else f"{count} bytes"


def count_text(n: int, *, ko: str, en: str, lang: str | None = None) -> str:
    """A count with its noun: count_text(5000, ko="행", en="rows") -> "5,000 rows" / "5,000행"."""
    lang = _lang(lang)
    num = format_decimal(n, format="#,##0", locale=lang)
    return f"{num}{ko}" if lang == "ko" else f"{num} {en}"


def _name_of(loc: Iterable) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form")]
    return ".".join(parts) if parts else None


def _relabel(message: str, name: str | None, label: str) -> str:
    """A domain message that begins with the field's id ("topik_level = 9: …") begins with its label."""
    if name and message.startswith(name) and message[len(name) : len(name) + 1] in (" ", ":"):
        return label + message[len(name) :]
    return message


def errors_from(
    exc: ValidationError | DomainError,
    *,
    labels: Mapping[str, Label] | None = None,
    ids: Mapping[str, str] | None = None,
    form_id: str = "form",
    order: Iterable[str] | None = None,
    lang: str | None = None,
) -> FormErrors:
    """The summary and field messages of a refused form, in the page's language.

    401, 403 and 404 are not the form's fault: they are raised again for the usual error page."""
    lang = _lang(lang)
    labels = labels or {}
    ids = ids or {}

    def item(name: str | None, make_message) -> FormError:
        base = name.split(".")[0] if name else None
        key = name if name in labels else base
        label = label_text(labels.get(key), key, lang) if key else ""
        anchor = ids.get(key, key) if key and (key in labels or key in ids) else (key or form_id)
        return FormError(field=key, id=anchor, label=label, message=make_message(label, key))

    items: list[FormError] = []
    status = 422
    if isinstance(exc, ValidationError):
        for err in exc.errors(include_url=False):
            name = _name_of(err.get("loc", ()))
            items.append(item(name, lambda label, key, err=err: pydantic_message(err, label or key or "", lang)))
    elif isinstance(exc, DomainError):
        if exc.status in (401, 403, 404):
            raise exc
        status = exc.status
        many = getattr(exc, "field_errors", None) or []
        for fe in many:
            text = fe["ko"] if lang == "ko" else fe["en"]
            items.append(item(fe.get("field"), lambda label, key, text=text: _relabel(text, key, label)))
        if not many:
            text = exc.ko if lang == "ko" else exc.en
            items.append(item(exc.field, lambda label, key, text=text: _relabel(text, key, label)))
    else:  # pragma: no cover - a programming error, not bad input
        raise TypeError(f"not a form error: {exc!r}")
    if order is not None:
        rank = {n: i for i, n in enumerate(order)}
        items.sort(key=lambda e: rank.get(e.field or "", len(rank)))
    return FormErrors(items=items, status=status)


def labelled(errors: FormErrors, *, fields: Iterable[str] | None = None) -> FormErrors:
    """Each message begins with its field's label ("Reason: …"): a service's message names no
    field. With `fields`, only the messages about those fields."""
    chosen = None if fields is None else set(fields)

    def named(e: FormError) -> bool:
        return not e.label or (chosen is not None and e.field not in chosen) or e.message.startswith(e.label)

    items = [e if named(e) else FormError(e.field, e.id, e.label, f"{e.label}: {e.message}") for e in errors]
    return FormErrors(items=items, status=errors.status)


def single(field_name: str | None, *, ko: str, en: str, label: Label | None = None, status: int = 422) -> FormErrors:
    """One error written by the page itself (a date that is not a date, a missing choice)."""
    lang = _lang(None)
    return FormErrors(
        items=[
            FormError(
                field=field_name,
                id=field_name or "form",
                label=label_text(label, field_name, lang),
                message=ko if lang == "ko" else en,
            )
        ],
        status=status,
    )


def confirmed(values: Mapping[str, str], *, ko: str, en: str) -> None:
    """Refuse (422 on the `confirm` box) a destructive step whose confirmation box was not ticked:
    the page asks first, without JavaScript."""
    if values.get("confirm") != "yes":
        raise Invalid(code="confirmation_required", field="confirm", ko=ko, en=en)


async def values(request: Request) -> dict[str, str]:
    """Every typed text value of the posted form (the last of repeated names), to give back."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


# ------------------------------------------------------------------------------------ upload forms


@dataclass(frozen=True)
class UploadForm:
    """The form page of an upload route, for refusals raised while its body is read.

    `render(request, errors, values)` answers the form page with `errors` (status `errors.status`)
    and the typed `values` given back; `file_field` is the file input's name, `limit` the file's own
    size limit as the page states it (None: the refusal's own message)."""

    render: Callable
    file_field: str = "file"
    labels: Mapping[str, Label] = field(default_factory=dict)
    ids: Mapping[str, str] = field(default_factory=dict)
    limit: int | None = None

    @property
    def anchor(self) -> str:
        return self.ids.get(self.file_field, self.file_field)

    def errors(self, exc: DomainError, lang: str | None = None) -> FormErrors:
        """The refusal as the form shows it: a message about no field is about the file field;
        a body over the limit is said with the file's limit in human units."""
        lang = _lang(lang)
        if exc.code == "too_large" and self.limit is not None:
            label = label_text(self.labels.get(self.file_field), self.file_field, lang)
            size = size_text(self.limit, lang)
            ko = f"{label}: 파일이 너무 큽니다. {size} 이하의 파일을 보내 주세요"
            en = f"{label}: the file is too large; send a file of at most {size}"
            item = FormError(field=self.file_field, id=self.anchor, label=label, message=ko if lang == "ko" else en)
            return FormErrors(items=[item], status=exc.status)
        found = errors_from(exc, labels=self.labels, ids=self.ids, form_id=self.anchor, lang=lang)
        label = label_text(self.labels.get(self.file_field), self.file_field, lang)
        items = [e if e.field else FormError(self.file_field, self.anchor, label, e.message) for e in found]
        return FormErrors(items=items, status=found.status)


def upload_form(spec: UploadForm):
    """Marks a route with its form page (read by the page error handler through `upload_form_of`)."""

    def mark(handler):
        handler.upload_form = spec
        return handler

    return mark


def upload_form_of(request: Request) -> UploadForm | None:
    """The form page the matched route declared, or None."""
    return getattr(request.scope.get("endpoint"), "upload_form", None)
