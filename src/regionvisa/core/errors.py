"""Domain errors: what went wrong, in Korean and in English, and the status a client is answered with.

Services, rules and the command line raise these; `regionvisa.web.errors` only maps them to HTTP
(the one JSON shape on /api, the error page elsewhere), so importing a service loads no web
framework. Every argument is a keyword: a call names which text is Korean and which is English.
"""

from __future__ import annotations


class DomainError(Exception):
    """A refusal the user can act on: `code` is stable for clients, `ko`/`en` say why."""

    def __init__(
        self,
        *,
        status: int,
        code: str,
        ko: str,
        en: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(en)
        self.status, self.code, self.ko, self.en, self.field = status, code, ko, en, field
        self.headers = headers

    def body(self) -> dict:
        """The error shape: {"error": {"code", "message": {"ko", "en"}, "field"?}}."""
        error: dict = {"code": self.code, "message": {"ko": self.ko, "en": self.en}}
        if self.field:
            error["field"] = self.field
        return {"error": error}

    def __reduce__(self):
        # Keyword-only constructors cannot be called with `self.args`; copy and pickle by state.
        return _rebuild, (type(self), self.args), self.__dict__


def _rebuild(cls: type[DomainError], args: tuple) -> DomainError:
    error = cls.__new__(cls)
    error.args = args
    return error


class NotFound(DomainError):
    def __init__(self, *, what: str = "resource") -> None:
        super().__init__(status=404, code="not_found", ko="찾을 수 없습니다", en=f"{what} not found")


class Conflict(DomainError):
    """The request is valid but clashes with the current state (409)."""

    def __init__(self, *, code: str, ko: str, en: str, field: str | None = None) -> None:
        super().__init__(status=409, code=code, ko=ko, en=en, field=field)


class Invalid(DomainError):
    """Input that is well-formed but not acceptable (422); `field` names the offending value."""

    def __init__(self, *, code: str, ko: str, en: str, field: str | None = None) -> None:
        super().__init__(status=422, code=code, ko=ko, en=en, field=field)


class Forbidden(DomainError):
    def __init__(self, *, en: str = "you do not have permission for this", ko: str = "권한이 없습니다") -> None:
        super().__init__(status=403, code="forbidden", ko=ko, en=en)


class Unauthenticated(DomainError):
    def __init__(
        self,
        *,
        code: str = "unauthenticated",
        en: str = "authentication required",
        ko: str = "로그인이 필요합니다",
    ) -> None:
        super().__init__(status=401, code=code, ko=ko, en=en, headers={"WWW-Authenticate": "Bearer"})
