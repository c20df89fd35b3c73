"""Log-in and log-out, the user's own account page, and user administration pages.

Forms post back with the session's CSRF token; successful changes redirect (303) to a page
that shows a short confirmation, except a new API token, which is shown once on the response
to the form that created it and never stored in plain text.
"""

from __future__ import annotations

import math

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from regionvisa.accounts import ratelimit, service
from regionvisa.accounts.policy import Actor
from regionvisa.accounts.security import SESSION_KEY, rotate_session
from regionvisa.accounts.settings import get_account_settings
from regionvisa.core.actor import ROLE_LABELS, ROLES
from regionvisa.core.errors import DomainError, Invalid
from regionvisa.core.paging import Page, offset_of
from regionvisa.db import session_scope
from regionvisa.regions.service import region_names
from regionvisa.web import forms
from regionvisa.web.deps import check_csrf, require
from regionvisa.web.i18n import current_language, gettext
from regionvisa.web.labels import N_
from regionvisa.web.params import page_number
from regionvisa.web.templating import render

router = APIRouter(include_in_schema=False)

FLASH = {
    "user_created": N_("The user was created."),
    "user_updated": N_("The user was changed."),
    "user_disabled": N_("The user was disabled and signed out everywhere."),
    "user_enabled": N_("The user was enabled."),
    "password_set": N_("The password was changed."),
    "token_revoked": N_("The API token was revoked."),
}


def flash(request: Request, key: str) -> None:
    request.session["flash"] = key


def pop_flash(request: Request) -> str | None:
    key = request.session.pop("flash", None) if "session" in request.scope else None
    return FLASH.get(key) if key else None


def safe_next(target: str | None) -> str:
    """Only a path on this site: never another host (`//host`, `/\\host`, `https://…`)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or "\n" in target:
        return "/"
    return target


CREATE_LABELS = {
    "username": N_("User name"),
    "display_name": N_("Name"),
    "role": N_("Role"),
    "region": N_("Region (regional officials only)"),
    "password": N_("Password"),
}
CREATE_IDS = {
    "username": "new-username",
    "display_name": "new-display-name",
    "role": "new-role",
    "region": "new-region",
    "password": "new-password",
}
EDIT_LABELS = {"display_name": N_("Name"), "role": N_("Role"), "region": N_("Region (regional officials only)")}
EDIT_IDS = {"display_name": "display-name", "role": "role", "region": "region"}
SET_PASSWORD_LABELS = {"password": N_("New password")}  # the service names the field "password"
SET_PASSWORD_IDS = {"password": "set-password"}
TOKEN_LABELS = {"name": N_("Token name"), "expires_days": N_("Valid for")}
TOKEN_IDS = {"name": "token-name", "expires_days": "token-expiry"}
OWN_PASSWORD_LABELS = {
    "current_password": N_("Current password"),
    "password": N_("New password"),
    "confirm_password": N_("New password again"),
}
OWN_PASSWORD_IDS = {
    "current_password": "current-password",
    "password": "new-password",
    "confirm_password": "confirm-password",
}


def _form_errors(exc: DomainError, labels: dict, ids: dict, form_id: str) -> forms.FormErrors:
    """A refusal as the form shows it (401, 403 and 404 are raised again for the error page)."""
    return forms.labelled(forms.errors_from(exc, labels=labels, ids=ids, form_id=form_id, order=labels))


def _one_error(name: str, message: str, labels: dict, ids: dict, status: int = 422) -> forms.FormErrors:
    label = forms.label_text(labels[name], name)
    return forms.labelled(forms.FormErrors(items=[forms.FormError(name, ids[name], label, message)], status=status))


def _regions() -> list[tuple[str, str]]:
    return sorted(region_names(current_language.get()).items())


# --------------------------------------------------------------------------- log-in / log-out


def login_page(
    request: Request, *, status_code: int = 200, error: str | None = None, username: str = "", next_url=None
):
    """The log-in form; a refusal (about no one field) is the summary's item, linked to the user name."""
    if next_url is None:  # shown in place of a page that needs a log-in: come back to it
        query = f"?{request.url.query}" if request.url.query else ""
        next_url = request.url.path + query if request.method == "GET" else "/"
    settings = get_account_settings()
    return render(
        request,
        "login.html",
        {
            "errors": forms.FormErrors(items=[forms.FormError("username", "username", "", error)], status=status_code)
            if error
            else None,
            "username": username,
            "next": safe_next(next_url),
            "needed": status_code == 401 and not error,  # shown in place of a page, not after a refusal
            "lockout": {"failures": settings.login_max_failures, "minutes": settings.login_lockout_minutes},
        },
        status_code=status_code,
    )


@router.get("/login")
def login_form(request: Request, next: str = "/"):
    if getattr(request.state, "user", None) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return login_page(request, next_url=next)


@router.post("/login", dependencies=[Depends(check_csrf)])
def login(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/")):
    engine = request.app.state.engine
    try:  # counted before the password is looked at, whether the name exists or not; a success gives it back
        taken = ratelimit.enforce(
            request,
            ("login.address", ratelimit.client_address(request)),
            ("login.account", username.strip().lower()[:64]),
        )
    except ratelimit.RateLimited as exc:
        error = gettext("Too many log-in attempts. Try again in %(seconds)s seconds.", seconds=exc.retry_after)
        response = login_page(request, status_code=429, error=error, username=username.strip()[:64], next_url=next)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    key = None
    with session_scope(engine=engine) as session:
        result = service.authenticate(session=session, username=username, password=password)
        if result.ok:
            assert result.user is not None
            key = service.start_session(session=session, user=result.user, replaces=request.session.get(SESSION_KEY))
    if key is None:
        if result.outcome == "locked":
            minutes = get_account_settings().login_lockout_minutes
            error = gettext(
                "Too many failed log-ins: the account is locked for %(minutes)s minutes. Try again later.",
                minutes=minutes,
            )
            status = 429
        else:
            error = gettext("The user name or the password is wrong.")
            status = 401
        response = login_page(request, status_code=status, error=error, username=username.strip()[:64], next_url=next)
        if result.locked_until is not None:
            wait = (result.locked_until - service.utcnow()).total_seconds()
            response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response
    ratelimit.release(engine=engine, decisions=taken)
    rotate_session(session=request.session, key=key)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout(request: Request):
    key = request.session.get(SESSION_KEY)
    user = getattr(request.state, "user", None)
    if key:
        with session_scope(engine=request.app.state.engine) as session:
            service.end_session(session=session, key=key, actor=user or service.SIGN_IN)
    request.session.clear()
    return RedirectResponse("/", status_code=303)


# --------------------------------------------------------------------------- own account


def _account_page(request: Request, user: Actor, *, new_token: str | None = None, errors=None, form=None, which=""):
    with session_scope(engine=request.app.state.engine) as session:
        tokens = service.list_tokens(session=session, user_id=user.id)
    response = render(
        request,
        "account.html",
        {
            "me": user,
            "tokens": tokens,
            "new_token": new_token,
            "errors": errors,
            "which": which,
            "form": form or {},
            "flash": pop_flash(request),
            "region_names": dict(_regions()),
            "canonical_url": "/account",
        },
        status_code=errors.status if errors else 200,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/account")
def account(request: Request, user: Actor = Depends(require("account.self"))):
    return _account_page(request, user)


@router.post("/account/tokens")
def account_create_token(
    request: Request,
    name: str = Form(""),
    expires_days: str = Form(""),
    user: Actor = Depends(require("tokens.manage")),
):
    form = {"name": name, "expires_days": expires_days}
    try:
        days = int(expires_days) if expires_days.strip() else None
        if days is not None and not 1 <= days <= 3650:
            raise ValueError
    except ValueError:
        errors = _one_error("expires_days", gettext("Choose a validity period from the list."), TOKEN_LABELS, TOKEN_IDS)
        return _account_page(request, user, errors=errors, form=form, which="token")
    try:
        with session_scope(engine=request.app.state.engine) as session:
            owner = service.get_user(session=session, user_id=user.id)
            _, plain = service.create_token(session=session, actor=user, user=owner, name=name, expires_days=days)
    except DomainError as exc:
        errors = _form_errors(exc, TOKEN_LABELS, TOKEN_IDS, "token-form")
        return _account_page(request, user, errors=errors, form=form, which="token")
    return _account_page(request, user, new_token=plain)


@router.post("/account/tokens/{token_id}/revoke")
def account_revoke_token(request: Request, token_id: int, user: Actor = Depends(require("tokens.manage"))):
    with session_scope(engine=request.app.state.engine) as session:
        token = service.get_token(session=session, token_id=token_id)
        if token.user_id != user.id:
            raise DomainError(status=404, code="not_found", ko="찾을 수 없습니다", en="API token not found")
        service.revoke_token(session=session, actor=user, token=token)
    flash(request, "token_revoked")
    return RedirectResponse("/account", status_code=303)


@router.post("/account/password")
def account_password(
    request: Request,
    current_password: str = Form(""),
    new_password: str = Form(""),
    confirm_password: str = Form(""),
    user: Actor = Depends(require("account.self")),
):
    if new_password != confirm_password:
        message = gettext("The two new passwords differ.")
        errors = _one_error("confirm_password", message, OWN_PASSWORD_LABELS, OWN_PASSWORD_IDS)
        return _account_page(request, user, errors=errors, which="password")
    try:
        with session_scope(engine=request.app.state.engine) as session:
            me = service.get_user(session=session, user_id=user.id)
            if not service.check_password(me.password_hash, current_password):
                raise Invalid(
                    code="wrong_password",
                    ko="현재 비밀번호가 틀렸습니다",
                    en="the current password is wrong",
                    field="current_password",
                )
            service.set_password(
                session=session,
                actor=user,
                user=me,
                password=new_password,
                keep_session=request.session.get(SESSION_KEY),
                reason="changed own password",
            )
    except DomainError as exc:
        errors = _form_errors(exc, OWN_PASSWORD_LABELS, OWN_PASSWORD_IDS, "password-form")
        return _account_page(request, user, errors=errors, which="password")
    flash(request, "password_set")
    return RedirectResponse("/account", status_code=303)


# --------------------------------------------------------------------------- administration


def _users_page(request: Request, *, page: int, form: dict | None = None, errors=None):
    size = 50
    with session_scope(engine=request.app.state.engine) as session:
        total, users = service.list_users(session=session, offset=offset_of(page, size), limit=size)
    return render(
        request,
        "users.html",
        {
            "users": users,
            "page": Page(number=page, size=size, total=total, base_path="/admin/users"),
            "roles": [(r, ROLE_LABELS[r]) for r in ROLES],
            "role_labels": ROLE_LABELS,
            "regions": _regions(),
            "form": form or {},
            "errors": errors,
            "flash": pop_flash(request),
            "canonical_url": "/admin/users" if page == 1 else f"/admin/users?page={page}",
        },
        status_code=errors.status if errors else 200,
    )


@router.get("/admin/users")
def users_list(request: Request, page: str = "1", _: Actor = Depends(require("users.manage"))):
    return _users_page(request, page=page_number(page))


@router.post("/admin/users")
def users_create(
    request: Request,
    username: str = Form(""),
    display_name: str = Form(""),
    role: str = Form(""),
    region: str = Form(""),
    password: str = Form(""),
    admin: Actor = Depends(require("users.manage")),
):
    form = {"username": username, "display_name": display_name, "role": role, "region": region}  # never the password
    try:
        with session_scope(engine=request.app.state.engine) as session:
            user = service.create_user(
                session=session,
                actor=admin,
                username=username,
                display_name=display_name,
                role=role,
                region=region or None,
                password=password,
            )
            user_id = user.id
    except DomainError as exc:
        return _users_page(
            request, page=1, form=form, errors=_form_errors(exc, CREATE_LABELS, CREATE_IDS, "create-form")
        )
    flash(request, "user_created")
    return RedirectResponse(f"/admin/users/{user_id}", status_code=303)


def _user_page(request: Request, user_id: int, *, errors=None, form=None, which="", extra: dict | None = None):
    with session_scope(engine=request.app.state.engine) as session:
        target = service.get_user(session=session, user_id=user_id)
        tokens = service.list_tokens(session=session, user_id=user_id)
        locked = service.locked_until(session=session, username=target.username) is not None
    return render(
        request,
        "user.html",
        {
            "target": target,
            "tokens": tokens,
            "roles": [(r, ROLE_LABELS[r]) for r in ROLES],
            "role_labels": ROLE_LABELS,
            "regions": _regions(),
            "region_names": dict(_regions()),
            "errors": errors,
            "form": form or {},
            "which": which,
            "flash": pop_flash(request),
            "locked": locked,
            "canonical_url": f"/admin/users/{user_id}",
            **(extra or {}),
        },
        status_code=errors.status if errors else 200,
    )


@router.get("/admin/users/{user_id}")
def user_detail(request: Request, user_id: int, _: Actor = Depends(require("users.manage"))):
    return _user_page(request, user_id)


@router.post("/admin/users/{user_id}")
def user_update(
    request: Request,
    user_id: int,
    display_name: str = Form(""),
    role: str = Form(""),
    region: str = Form(""),
    admin: Actor = Depends(require("users.manage")),
):
    try:
        with session_scope(engine=request.app.state.engine) as session:
            target = service.get_user(session=session, user_id=user_id)
            service.update_user(
                session=session,
                actor=admin,
                user=target,
                display_name=display_name,
                role=role or target.role,
                region=region,
            )
    except DomainError as exc:
        errors = _form_errors(exc, EDIT_LABELS, EDIT_IDS, "edit-form")
        form = {"display_name": display_name, "role": role, "region": region}
        return _user_page(request, user_id, errors=errors, form=form, which="edit")
    flash(request, "user_updated")
    return RedirectResponse(f"/admin/users/{user_id}", status_code=303)


@router.post("/admin/users/{user_id}/active")
def user_set_active(
    request: Request,
    user_id: int,
    active: str = Form(""),
    confirm: str = Form(""),
    admin: Actor = Depends(require("users.manage")),
):
    """Retiring an account ends its sessions and tokens, so it is asked for twice: the first post
    answers a confirmation page (GOV.UK's pattern for a destructive action, no script needed)."""
    enable = active == "1"
    if not enable and confirm != "1":
        return _user_page(request, user_id, extra={"confirm_disable": True})
    try:
        with session_scope(engine=request.app.state.engine) as session:
            target = service.get_user(session=session, user_id=user_id)
            service.update_user(session=session, actor=admin, user=target, is_active=enable)
    except DomainError as exc:
        return _user_page(request, user_id, errors=_form_errors(exc, {}, {}, "active-form"), which="active")
    flash(request, "user_enabled" if enable else "user_disabled")
    return RedirectResponse(f"/admin/users/{user_id}", status_code=303)


@router.post("/admin/users/{user_id}/password")
def user_set_password(
    request: Request,
    user_id: int,
    new_password: str = Form(""),
    admin: Actor = Depends(require("users.manage")),
):
    try:
        with session_scope(engine=request.app.state.engine) as session:
            target = service.get_user(session=session, user_id=user_id)
            service.set_password(
                session=session, actor=admin, user=target, password=new_password, reason="set by an administrator"
            )
    except DomainError as exc:
        errors = _form_errors(exc, SET_PASSWORD_LABELS, SET_PASSWORD_IDS, "password-form")
        return _user_page(request, user_id, errors=errors, which="password")
    flash(request, "password_set")
    return RedirectResponse(f"/admin/users/{user_id}", status_code=303)


@router.post("/admin/users/{user_id}/tokens/{token_id}/revoke")
def user_revoke_token(request: Request, user_id: int, token_id: int, admin: Actor = Depends(require("users.manage"))):
    with session_scope(engine=request.app.state.engine) as session:
        token = service.get_token(session=session, token_id=token_id)
        if token.user_id != user_id:
            raise DomainError(status=404, code="not_found", ko="찾을 수 없습니다", en="API token not found")
        service.revoke_token(session=session, actor=admin, token=token)
    flash(request, "token_revoked")
    return RedirectResponse(f"/admin/users/{user_id}", status_code=303)
