"""Uploads in bounded memory: per-endpoint, per-role size limits enforced while the body streams,
and received files kept on disk, never in memory.

- The limits are data: `policy/national/uploads.yaml` (endpoint -> role -> size, in human units).
- `BodyLimitMiddleware` sits inside the authentication middleware, so it knows the sender's role
  before a byte of the body is read. It refuses a role that lacks the endpoint's permission at
  once, refuses a declared `Content-Length` over the limit at once, and otherwise counts the body
  as it streams and stops at the limit: 413 in the one error shape, in Korean and English, with
  the limit in MB. JSON bodies are also checked for lone UTF-16 surrogates on the way in.
- `received_file(upload)` copies an upload (which Starlette has already spooled to a temporary
  file) into a private temporary folder under the file's own name, so readers that want a path
  get one, and messages name the file as the sender called it.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from regionvisa.accounts.policy import grant, refusal
from regionvisa.config import get_settings
from regionvisa.core.actor import ROLE_LABELS
from regionvisa.core.errors import DomainError
from regionvisa.limits import Endpoint, human_size, upload_limits
from regionvisa.tabular import display_name, find_lone_surrogate
from regionvisa.web.i18n import translations

# ------------------------------------------------------------------------------------ refusals


class UploadRefused(DomainError, StarletteHTTPException):
    """A DomainError that FastAPI's body parsing passes on unchanged (it re-raises HTTP exceptions
    and wraps anything else in a 400), so the one error handler answers it."""

    def __init__(self, *, status: int, code: str, ko: str, en: str, field: str | None = None, headers=None) -> None:
        DomainError.__init__(self, status=status, code=code, ko=ko, en=en, field=field, headers=headers)
        self.status_code = status
        self.detail = en


def too_large(limit: int, endpoint: Endpoint | None, role: str | None) -> UploadRefused:
    size = human_size(limit)
    if endpoint is None:
        ko, en = f"요청이 너무 큽니다; 한도는 {size}입니다", f"the request is too large; the limit is {size}"
        return UploadRefused(status=413, code="too_large", ko=ko, en=en)

    label = str(ROLE_LABELS.get(role or "", role or ""))
    return UploadRefused(
        status=413,
        code="too_large",
        ko=f"파일이 너무 큽니다: {translations('ko').gettext(label)} 역할은 여기에 최대 {size}까지 보낼 수 있습니다"
        f" ({endpoint.name})",
        en=f"the file is too large: a {label.lower()} may send at most {size} here ({endpoint.name})",
        field="file",
    )


def _forbidden(endpoint: Endpoint) -> UploadRefused:
    """The permission refusal in the words of every other one (what the action does), and its id."""
    said = refusal(endpoint.action)
    return UploadRefused(
        status=403, code="forbidden", ko=f"{said.ko} ({endpoint.action})", en=f"{said.en} ({endpoint.action})"
    )


def _unauthenticated(state: dict) -> UploadRefused:
    if state.get("auth_error"):
        return UploadRefused(
            status=401,
            code="invalid_token",
            ko="API 토큰이 올바르지 않거나 만료 또는 폐기되었습니다",
            en=state["auth_error"],
            headers={"WWW-Authenticate": "Bearer"},
        )
    return UploadRefused(status=401, code="unauthenticated", ko="로그인이 필요합니다", en="authentication required",
                         headers={"WWW-Authenticate": "Bearer"})  # fmt: skip


def _surrogate() -> UploadRefused:
    return UploadRefused(
        status=422,
        code="invalid_text",
        ko="요청 본문에 짝이 없는 UTF-16 대리 코드(\\ud800–\\udfff)가 있습니다; 문자가 아니므로 받을 수 없습니다",
        en="the request body holds a lone UTF-16 surrogate (\\ud800–\\udfff), which is not a character",
    )


# ------------------------------------------------------------------------------------ middleware


class BodyLimitMiddleware:
    """Counts every request body against its limit while it streams (see the module docstring).

    The refusal is raised from `receive`, that is inside whatever reads the body (FastAPI's form
    or JSON parsing, a page's `await request.form()`), so the app's own error handlers answer it:
    JSON for the API, a page otherwise. Nothing past the limit is ever read.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limits = upload_limits()
        state = scope.get("state") or {}
        user = state.get("user")
        role = getattr(user, "role", None)
        endpoint = limits.endpoint(scope["method"], scope["path"])
        refusal: UploadRefused | None = None
        if endpoint is None:
            limit = limits.default
        elif user is None:
            limit, refusal = 0, _unauthenticated(state)
        elif grant(user, endpoint.action) is None or role not in endpoint.limits:
            limit, refusal = 0, _forbidden(endpoint)
        else:
            limit = endpoint.limits[role]
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if refusal is None and declared is not None and declared.isdigit() and int(declared) > limit:
            refusal = too_large(limit, endpoint, role)
        is_json = headers.get(b"content-type", b"").split(b";")[0].strip().lower().endswith(b"json")
        received = 0
        tail = b""

        async def limited_receive() -> Message:
            nonlocal received, tail
            if refusal is not None:
                raise refusal
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                received += len(body)
                if received > limit:
                    raise too_large(limit, endpoint, role)
                if is_json and body:
                    window = tail + body  # an escape may straddle two chunks
                    if find_lone_surrogate(window) is not None:
                        raise _surrogate()
                    tail = window[-16:]
            return message

        await self.app(scope, limited_receive, send)


def install(app) -> None:
    """Inside the authentication middleware (add it before `accounts.security.install`)."""
    app.add_middleware(BodyLimitMiddleware)


# ------------------------------------------------------------------------------------ files on disk


def upload_folder() -> Path:
    """Where received files wait while they are read: the project's var/tmp, else the system's."""

    folder = Path(get_settings().upload_dir).parent / "tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    except OSError:
        return Path(tempfile.gettempdir())


@contextmanager
def received_file(upload, *, default_name: str = "upload") -> Iterator[Path]:
    """The upload as a file on disk named as its sender named it (folder removed afterwards).

    Starlette has already spooled the body to a temporary file; this copies it in 1 MB blocks.
    """
    name = display_name(getattr(upload, "filename", None), default_name)
    with tempfile.TemporaryDirectory(prefix="upload-", dir=upload_folder()) as folder:
        path = Path(folder) / name
        source = upload.file
        source.seek(0)
        with path.open("wb") as out:
            shutil.copyfileobj(source, out, 1024 * 1024)
        yield path
