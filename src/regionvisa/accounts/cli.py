"""`regionvisa users …`: create, list, disable/enable, set passwords, API tokens, demo log-ins.

The command line acts as a named system actor, `system:cli:<os user>`, recorded in the audit
log: whoever runs it already holds the database credentials, so the policy cannot stop them.
With `--as USER` a command acts as that user instead: the same permission policy as the API
and the pages is checked, and the audit log names that user.
"""

from __future__ import annotations

import getpass
import sys

import typer
from rich.console import Console
from rich.table import Table

from regionvisa.accounts import policy
from regionvisa.accounts.policy import ROLES, authorize, policy_markdown
from regionvisa.clitable import WIDE, print_table
from regionvisa.core.actor import Actor
from regionvisa.core.errors import DomainError

app = typer.Typer(help="Users, roles and API tokens / 사용자와 권한", no_args_is_help=True)
err = Console(stderr=True)

AS_OPTION = typer.Option(None, "--as", help="act as this user: their role must allow the change")


def system_actor() -> Actor:
    """The command line's declared system actor, named after the operator's login."""
    try:
        who = getpass.getuser()
    except Exception:  # no login name (containers)
        who = "unknown"
    return policy.system_actor("cli", detail=who)


def _actor(session, as_user: str | None, action: str) -> Actor:
    if as_user is None:
        return system_actor()
    from regionvisa.accounts import service

    user = service.get_user_by_name(session=session, username=as_user)
    if not user.is_active:
        raise DomainError(status=403, code="disabled", ko="사용 중지된 계정입니다", en=f"user {as_user!r} is disabled")
    principal = service.principal_of(user, via="cli")
    authorize(principal, action)
    return principal


def _fail(exc: DomainError) -> None:
    err.print(f"[red]{exc.en} / {exc.ko}[/red]", highlight=False)
    raise typer.Exit(1)


def _read_password(password_stdin: bool, *, confirm: bool = True) -> str:
    if password_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    return typer.prompt("Password / 비밀번호", hide_input=True, confirmation_prompt=confirm)


@app.command("create")
def create(
    username: str = typer.Argument(...),
    role: str = typer.Option(..., "--role", help=" | ".join(ROLES)),
    region: str | None = typer.Option(None, "--region", help="2-digit region code (regional officials only)"),
    display_name: str | None = typer.Option(None, "--display-name", "--name"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from standard input"),
    as_user: str | None = AS_OPTION,
) -> None:
    """Create a user; the password is asked for (never echoed) or read from stdin."""
    from regionvisa.accounts import service
    from regionvisa.db import get_engine, session_scope

    password = _read_password(password_stdin)
    try:
        with session_scope(engine=get_engine()) as session:
            actor = _actor(session, as_user, "users.manage")
            user = service.create_user(
                session=session,
                actor=actor,
                username=username,
                display_name=display_name or username,
                role=role,
                region=region,
                password=password,
            )
            typer.echo(f"created {user.username} ({user.role}{', ' + user.region if user.region else ''})")
    except DomainError as exc:
        _fail(exc)


@app.command("list")
def list_users(wide: bool = WIDE) -> None:
    """List the users."""
    from regionvisa.accounts import service
    from regionvisa.db import get_engine, session_scope

    with session_scope(engine=get_engine()) as session:
        total, users = service.list_users(session=session, offset=0, limit=100_000)
        table = Table(title=f"{total} users")
        for col in ("user", "name", "role", "region", "status", "last log-in (UTC)"):
            table.add_column(col)
        locked_names = service.locks(session=session, usernames=[u.username for u in users])
        for u in users:
            locked = u.username in locked_names
            status = ("active" if u.is_active else "disabled") + (" (locked)" if locked else "")
            last = u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else ""
            table.add_row(u.username, u.display_name, u.role, u.region or "", status, last)
    print_table(table, wide=wide)


def _set_active(username: str, active: bool, as_user: str | None, reason: str) -> None:
    from regionvisa.accounts import service
    from regionvisa.db import get_engine, session_scope

    try:
        with session_scope(engine=get_engine()) as session:
            actor = _actor(session, as_user, "users.manage")
            user = service.get_user_by_name(session=session, username=username)
            service.update_user(session=session, actor=actor, user=user, is_active=active, reason=reason)
    except DomainError as exc:
        _fail(exc)
    typer.echo(f"{username}: {'enabled' if active else 'disabled'}")


@app.command("disable")
def disable(
    username: str = typer.Argument(...),
    reason: str = typer.Option("disabled from the command line", "--reason"),
    as_user: str | None = AS_OPTION,
) -> None:
    """Disable a user: their sessions end and their API tokens stop working."""
    _set_active(username, False, as_user, reason)


@app.command("enable")
def enable(
    username: str = typer.Argument(...),
    reason: str = typer.Option("enabled from the command line", "--reason"),
    as_user: str | None = AS_OPTION,
) -> None:
    """Enable a disabled user again."""
    _set_active(username, True, as_user, reason)


@app.command("set-password")
def set_password(
    username: str = typer.Argument(...),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from standard input"),
    as_user: str | None = AS_OPTION,
) -> None:
    """Set a user's password (also unlocks the account and ends its sessions)."""
    from regionvisa.accounts import service
    from regionvisa.db import get_engine, session_scope

    password = _read_password(password_stdin)
    try:
        with session_scope(engine=get_engine()) as session:
            actor = _actor(session, as_user, "users.manage")
            user = service.get_user_by_name(session=session, username=username)
            service.set_password(
                session=session, actor=actor, user=user, password=password, reason="set from the command line"
            )
    except DomainError as exc:
        _fail(exc)
    typer.echo(f"{username}: password set")


@app.command("create-token")
def create_token(
    username: str = typer.Argument(...),
    name: str = typer.Option(..., "--name", help="what the token is for"),
    expires_days: int | None = typer.Option(90, "--expires-days", help="0 for no expiry"),
    as_user: str | None = AS_OPTION,
) -> None:
    """Create an API token and print it once (it is stored only as a hash)."""
    from regionvisa.accounts import service
    from regionvisa.db import get_engine, session_scope

    try:
        with session_scope(engine=get_engine()) as session:
            user = service.get_user_by_name(session=session, username=username)
            if as_user and as_user.strip().lower() == user.username:
                actor = _actor(session, as_user, "tokens.manage")
            else:
                actor = _actor(session, as_user, "users.manage")
            token, plain = service.create_token(
                session=session, actor=actor, user=user, name=name, expires_days=expires_days or None
            )
    except DomainError as exc:
        _fail(exc)
    err.print(f"token {token.id} for {username}; it is shown only now / 지금 한 번만 표시됩니다:")
    typer.echo(plain)


@app.command("revoke-token")
def revoke_token(token_id: int = typer.Argument(...), as_user: str | None = AS_OPTION) -> None:
    """Revoke an API token."""
    from regionvisa.accounts import service
    from regionvisa.db import get_engine, session_scope

    try:
        with session_scope(engine=get_engine()) as session:
            token = service.get_token(session=session, token_id=token_id)
            owner = service.get_user(session=session, user_id=token.user_id)
            own = as_user is not None and as_user.strip().lower() == owner.username
            actor = _actor(session, as_user, "tokens.manage" if own else "users.manage")
            service.revoke_token(session=session, actor=actor, token=token)
    except DomainError as exc:
        _fail(exc)
    typer.echo(f"token {token_id}: revoked")


@app.command("policy")
def show_policy() -> None:
    """Print the permission policy (action × role × scope) as Markdown: docs/permissions.md."""
    typer.echo(policy_markdown(), nl=False)


@app.command("routes")
def show_routes() -> None:
    """Print every route of the application with the action it requires (or 'public')."""
    from regionvisa.app import create_app
    from regionvisa.db import get_engine
    from regionvisa.web.deps import iter_routes, route_policy

    for route in iter_routes(create_app(engine=get_engine())):
        typer.echo(f"{','.join(route.methods):<7} {route.path:<64} {route_policy(route) or 'NO POLICY'}")


@app.command("demo-logins")
def demo_logins() -> None:
    """Print the demo accounts that `regionvisa demo` creates (user, password, role)."""
    from regionvisa.accounts.demo import DEMO_ACCOUNTS

    width = max(len(a["username"]) for a in DEMO_ACCOUNTS)
    for a in DEMO_ACCOUNTS:
        scope = f" (region {a['region']})" if a["region"] else ""
        typer.echo(f"  {a['username']:<{width}}  {a['password']:<22} {a['role']}{scope}")
