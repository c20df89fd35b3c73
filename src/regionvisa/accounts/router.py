"""/api/v1/me, /api/v1/users and /api/v1/tokens."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response

from regionvisa.accounts import service
from regionvisa.accounts.policy import ACTIONS, Actor, can, grant, policy_table
from regionvisa.accounts.schemas import (
    Me,
    PasswordSet,
    TokenCreate,
    TokenCreated,
    TokenOut,
    TokenPage,
    UserCreate,
    UserOut,
    UserPage,
    UserUpdate,
)
from regionvisa.core.errors import NotFound
from regionvisa.core.paging import Page, offset_of
from regionvisa.db import session_scope
from regionvisa.web.deps import require
from regionvisa.web.errors import ERROR_RESPONSES

router = APIRouter(tags=["accounts"], responses=ERROR_RESPONSES)


@router.get("/me", summary="The signed-in user and the actions they hold", response_model=Me)
def me(user: Actor = Depends(require("account.self"))) -> Me:
    actions = {name: scope for name in ACTIONS if (scope := grant(user, name))}
    return Me(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        region=user.region,
        via=user.via,
        actions=actions,
    )


@router.get("/policy", summary="The permission policy: action × role × scope")
def policy(
    page: int = Query(1, ge=1),
    page_size: int = Query(50, ge=1, le=500),
    _: Actor = Depends(require("account.self")),
) -> dict:
    rows = policy_table()
    pager = Page(number=page, size=page_size, total=len(rows))
    return {**pager.meta(), "items": pager.window(rows)}


# --------------------------------------------------------------------------- users


def user_out(session, users: list) -> list[UserOut]:
    """Users as the API shows them, each with the end of the lock on its name (None when not locked)."""
    locked = service.locks(session=session, usernames=[u.username for u in users])
    return [UserOut.model_validate(u).model_copy(update={"locked_until": locked.get(u.username)}) for u in users]


@router.get("/users", summary="List users", response_model=UserPage)
def list_users(
    request: Request,
    page: int = Query(1, ge=1),
    page_size: int = Query(50, ge=1, le=500),
    _: Actor = Depends(require("users.manage")),
) -> dict:
    with session_scope(engine=request.app.state.engine) as session:
        total, users = service.list_users(session=session, offset=offset_of(page, page_size), limit=page_size)
        items = user_out(session, users)
    return {**Page(number=page, size=page_size, total=total).meta(), "items": items}


@router.post("/users", status_code=201, summary="Create a user", response_model=UserOut)
def create_user(request: Request, body: UserCreate, admin: Actor = Depends(require("users.manage"))) -> UserOut:
    with session_scope(engine=request.app.state.engine) as session:
        user = service.create_user(
            session=session,
            actor=admin,
            username=body.username,
            display_name=body.display_name,
            role=body.role,
            region=body.region,
            password=body.password,
        )
        return user_out(session, [user])[0]


@router.get("/users/{user_id}", summary="One user", response_model=UserOut)
def get_user(request: Request, user_id: int, _: Actor = Depends(require("users.manage"))) -> UserOut:
    with session_scope(engine=request.app.state.engine) as session:
        return user_out(session, [service.get_user(session=session, user_id=user_id)])[0]


@router.patch("/users/{user_id}", summary="Change a user's name, role, region or status", response_model=UserOut)
def update_user(
    request: Request, user_id: int, body: UserUpdate, admin: Actor = Depends(require("users.manage"))
) -> UserOut:
    with session_scope(engine=request.app.state.engine) as session:
        user = service.get_user(session=session, user_id=user_id)
        service.update_user(
            session=session,
            actor=admin,
            user=user,
            display_name=body.display_name,
            role=body.role,
            region=body.region,
            is_active=body.is_active,
            reason=body.reason,
        )
        return user_out(session, [user])[0]


@router.put("/users/{user_id}/password", status_code=204, summary="Set a user's password (ends their sessions)")
def set_password(
    request: Request, user_id: int, body: PasswordSet, admin: Actor = Depends(require("users.manage"))
) -> Response:
    with session_scope(engine=request.app.state.engine) as session:
        user = service.get_user(session=session, user_id=user_id)
        service.set_password(
            session=session, actor=admin, user=user, password=body.password, reason="set by an administrator"
        )
    return Response(status_code=204)


# --------------------------------------------------------------------------- tokens


@router.get("/tokens", summary="List API tokens (yours, or a user's for administrators)", response_model=TokenPage)
def list_tokens(
    request: Request,
    user_id: int | None = Query(None, description="another user's id (administrators only)"),
    page: int = Query(1, ge=1),
    page_size: int = Query(50, ge=1, le=500),
    user: Actor = Depends(require("tokens.manage")),
) -> dict:
    owner = service.token_owner(actor=user, user_id=user_id)
    with session_scope(engine=request.app.state.engine) as session:
        service.get_user(session=session, user_id=owner)
        tokens = service.list_tokens(session=session, user_id=owner)
    pager = Page(number=page, size=page_size, total=len(tokens))
    return {**pager.meta(), "items": [TokenOut.model_validate(t) for t in pager.window(tokens)]}


@router.post("/tokens", status_code=201, summary="Create an API token (the plain text is shown once)")
def create_token(
    request: Request, body: TokenCreate, response: Response, user: Actor = Depends(require("tokens.manage"))
) -> TokenCreated:
    owner_id = service.token_owner(actor=user, user_id=body.user_id)
    with session_scope(engine=request.app.state.engine) as session:
        owner = service.get_user(session=session, user_id=owner_id)
        token, plain = service.create_token(
            session=session, actor=user, user=owner, name=body.name, expires_days=body.expires_days
        )
        out = TokenCreated(**TokenOut.model_validate(token).model_dump(), token=plain)
    response.headers["Cache-Control"] = "no-store"
    return out


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke an API token")
def revoke_token(request: Request, token_id: int, user: Actor = Depends(require("tokens.manage"))) -> Response:
    with session_scope(engine=request.app.state.engine) as session:
        token = service.get_token(session=session, token_id=token_id)
        if token.user_id != user.id and not can(user, "users.manage"):
            raise NotFound(what="API token")
        service.revoke_token(session=session, actor=user, token=token)
    return Response(status_code=204)
