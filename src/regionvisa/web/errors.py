"""One error shape for the whole API: {"error": {"code", "message": {"ko", "en"}, "field"?}}.

Domain code raises `regionvisa.core.errors.DomainError` (and its kinds) with a bilingual message;
the handlers here turn it, FastAPI's validation errors and plain HTTP errors into that shape
(JSON for /api, a page otherwise). This module only maps errors to HTTP.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from regionvisa.accounts.pages import login_page  # a page module: the error mapping stays below the pages
from regionvisa.core.errors import DomainError
from regionvisa.core.text import N_
from regionvisa.policyfiles import key_path
from regionvisa.web import forms, i18n
from regionvisa.web.forms import pydantic_message
from regionvisa.web.templating import render


class ErrorMessage(BaseModel):
    ko: str
    en: str


class ErrorDetail(BaseModel):
    code: str
    message: ErrorMessage
    field: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


# For `responses=` on API routers, so the OpenAPI document shows the one error shape.
ERROR_RESPONSES: dict = {
    400: {"model": ErrorBody, "description": "Bad request"},
    401: {"model": ErrorBody, "description": "Not signed in, or the API token is unknown, expired or revoked"},
    403: {"model": ErrorBody, "description": "The role lacks the action, or the data belongs to another region"},
    404: {"model": ErrorBody, "description": "Not found"},
    409: {"model": ErrorBody, "description": "Conflicts with the current state"},
    422: {"model": ErrorBody, "description": "Invalid input; `field` names the first offending field"},
}


STATUS_TEXT = {
    400: ("bad_request", "잘못된 요청입니다", "bad request"),
    401: ("unauthenticated", "로그인이 필요합니다", "authentication required"),
    403: ("forbidden", "권한이 없습니다", "you do not have permission for this"),
    404: ("not_found", "찾을 수 없습니다", "not found"),
    405: ("method_not_allowed", "허용되지 않는 메서드입니다", "method not allowed"),
    409: ("conflict", "현재 상태와 충돌합니다", "conflicts with the current state"),
    413: ("too_large", "요청이 너무 큽니다", "request too large"),
    422: ("invalid", "입력값이 올바르지 않습니다", "invalid input"),
    429: ("rate_limited", "요청이 너무 많습니다", "too many requests"),
    503: ("unavailable", "일시적으로 사용할 수 없습니다", "temporarily unavailable"),
}


# The query parameters pages take, by their labels: a refused one is named in the reader's words.
ADDRESS_LABELS = {
    "page": N_("page number"),
    "region": N_("Region"),
    "year": N_("Year"),
    "on": N_("Date"),
}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def _page(request: Request, status: int, ko: str, en: str):
    lang = i18n.current_language.get()
    if status == 401:  # the log-in form itself, coming back here afterwards
        return login_page(request, status_code=401)
    title = f"{status}"
    return render(request, "error.html", {"title": title, "message": ko if lang == "ko" else en}, status_code=status)


def _field(loc) -> str | None:
    """`body.applicant.age` -> `applicant.age`: where the value came from is not part of its name."""
    parts = tuple(x for x in loc if x not in ("body", "query", "path", "form", "header", "cookie"))
    return key_path(parts) if parts else None


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError):
        if _wants_json(request):
            return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)
        spec = forms.upload_form_of(request)
        if spec is not None and exc.status not in (401, 403, 404):
            # Refused while the body was read (over its size limit), before the route's handler
            # ran: the route's form page, with the refusal beside the file field. What was typed
            # cannot be given back, since the rest of the body was never read.
            return await run_in_threadpool(spec.render, request, spec.errors(exc), {})
        return _page(request, exc.status, exc.ko, exc.en)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid input"}
        if first.get("type") == "json_invalid":  # not JSON at all: a malformed request, not invalid values
            reason = first.get("ctx", {}).get("error", first.get("msg", ""))
            return JSONResponse(
                {
                    "error": {
                        "code": "bad_request",
                        "message": {
                            "ko": f"요청 본문이 올바른 JSON이 아닙니다: {reason}",
                            "en": f"the request body is not valid JSON: {reason}",
                        },
                    }
                },
                status_code=400,
            )
        field = _field(first.get("loc", ()))
        if not _wants_json(request):  # a page's form or query: the error page, in the page's language
            name = str(first.get("loc", ())[-1]) if first.get("loc") else ""
            label = ADDRESS_LABELS.get(name, N_("a value in the page's address"))
            return _page(
                request,
                422,
                pydantic_message(first, i18n.translate("ko", label), "ko"),
                pydantic_message(first, label, "en"),
            )
        body = {
            "error": {
                "code": "invalid",
                "message": {
                    "ko": f"입력값이 올바르지 않습니다: {first['msg']}",
                    "en": f"invalid input: {first['msg']}",
                },
                "details": [{"field": _field(e.get("loc", ())), "message": e.get("msg", "")} for e in errors],
            }
        }
        if field:
            body["error"]["field"] = field
        return JSONResponse(body, status_code=422)

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def out_of_range(request: Request, exc: Exception):
        """A number or text the database cannot hold (an id past 2**63 on SQLite, past 2**31 or a
        string longer than its column on PostgreSQL): bad input, not a server fault."""
        ko, en = "값이 허용 범위를 벗어났습니다", "a value is out of the accepted range"
        if _wants_json(request):
            return JSONResponse({"error": {"code": "out_of_range", "message": {"ko": ko, "en": en}}}, status_code=422)
        return _page(request, 422, ko, en)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        code, ko, en = STATUS_TEXT.get(exc.status_code, ("error", "오류가 발생했습니다", "error"))
        if isinstance(exc.detail, str) and exc.detail and exc.detail not in ("Not Found", "Method Not Allowed"):
            en = exc.detail
        if _wants_json(request):
            return JSONResponse(
                {"error": {"code": code, "message": {"ko": ko, "en": en}}},
                status_code=exc.status_code,
                headers=getattr(exc, "headers", None),
            )
        return _page(request, exc.status_code, ko, en)
