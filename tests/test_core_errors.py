"""Domain errors: keyword arguments only, the one error shape, and they survive copy and pickle."""

from __future__ import annotations

import copy
import pickle

import pytest

from regionvisa.core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unauthenticated
from regionvisa.locking import ConcurrentChange
from regionvisa.programs.designs import DesignInvalid


def test_positional_arguments_are_refused():
    """A Korean text passed where the English one belongs cannot happen silently."""
    with pytest.raises(TypeError):
        DomainError(409, "code", "한국어", "english")  # type: ignore[misc]
    with pytest.raises(TypeError):
        Conflict("code", "한국어", "english")  # type: ignore[misc]
    with pytest.raises(TypeError):
        NotFound("thing")  # type: ignore[misc]


def message(ko: str, en: str, code: str, **extra) -> dict:
    return {"error": {"code": code, "message": {"ko": ko, "en": en}, **extra}}


def test_each_kind_carries_its_status_code_and_the_one_body_shape():
    cases = [
        (NotFound(what="programme X"), 404, message("찾을 수 없습니다", "programme X not found", "not_found")),
        (Conflict(code="taken", ko="가", en="taken", field="name"), 409, message("가", "taken", "taken", field="name")),
        (Invalid(code="invalid", ko="나", en="bad"), 422, message("나", "bad", "invalid")),
        (Forbidden(), 403, message("권한이 없습니다", "you do not have permission for this", "forbidden")),
        (Unauthenticated(), 401, message("로그인이 필요합니다", "authentication required", "unauthenticated")),
    ]
    for error, status, body in cases:
        assert isinstance(error, DomainError)
        assert error.status == status
        assert error.body() == body
        assert str(error) == body["error"]["message"]["en"]
    assert Unauthenticated().headers == {"WWW-Authenticate": "Bearer"}


def test_errors_survive_copy_and_pickle():
    for error in (
        Conflict(code="taken", ko="가", en="taken", field="name"),
        ConcurrentChange(),
        DesignInvalid(errors=["a.yaml:x: missing", "a.yaml:y: wrong"]),
    ):
        for clone in (copy.copy(error), pickle.loads(pickle.dumps(error))):
            assert type(clone) is type(error)
            assert clone.body() == error.body()
            assert (clone.status, str(clone), clone.args) == (error.status, str(error), error.args)
