"""`regionvisa keys`: the data keys that encrypt personal identifiers at rest.

`new` prints a fresh key to list first in REGIONVISA_DATA_KEYS (with `--env`, every key a new
installation needs, as environment lines); `rotate` re-encrypts what older
keys wrote with the newest key (after which the older keys can be removed); `status` shows how
many stored values each key id holds, and whether that key is still configured.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from regionvisa.accounts.policy import system_actor
from regionvisa.clitable import WIDE, print_table
from regionvisa.records import pii

KEYS = system_actor("keys")  # the rotation is recorded as the key system's own act

app = typer.Typer(help="Data keys for personal identifiers / 개인식별정보 암호화 키", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


@app.callback()
def _group() -> None:
    """Data keys for personal identifiers / 개인식별정보 암호화 키."""


@app.command("new")
def new_command(
    key_id: str = typer.Option("k1", "--id", help="the id to give the data key"),
    env: bool = typer.Option(
        False, "--env", help="print every key the server needs (secret, data, lookup, audit) as environment lines"
    ),
    legacy_secret: bool = typer.Option(
        False,
        "--legacy-secret",
        help="with --env: keep the keys older versions derived from REGIONVISA_SECRET_KEY (read from stdin)",
    ),
) -> None:
    """Print a fresh random key as an entry of REGIONVISA_DATA_KEYS (`id:base64`), or with --env a
    whole set of keys for a new installation (`regionvisa keys new --env > .env`)."""
    if not env:
        if legacy_secret:
            err.print("--legacy-secret needs --env / --legacy-secret 는 --env 와 함께 쓰십시오")
            raise typer.Exit(2)
        typer.echo(f"{key_id}:{pii.new_key()}")
        return
    from regionvisa.ops.keys import env_lines, generate_keys

    secret = None
    if legacy_secret:
        secret = typer.get_text_stream("stdin").readline().rstrip("\n")
        if not secret:
            err.print("the former secret key is read from stdin / 이전 비밀 키를 표준 입력으로 주십시오")
            raise typer.Exit(2)
    typer.echo(env_lines(generate_keys(data_key_id=key_id, legacy_secret=secret)), nl=False)


@app.command("status")
def status_command(wide: bool = WIDE) -> None:
    """How many encrypted values each key id holds, per table."""
    from regionvisa.db import get_engine

    try:
        ring = pii.keyring()
    except pii.KeyError_ as exc:
        err.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(2) from None
    table = Table(title=f"current key: {ring.current} · configured: {', '.join(ring.keys)}")
    for col in ("table", "key id", "values", "configured"):
        table.add_column(col)
    from regionvisa.applications import documents

    engine = get_engine()
    for name, key_id, count, configured in [*pii.key_status(engine=engine), *documents.key_status(engine=engine)]:
        marker = "current" if key_id == ring.current else ("yes" if configured else "[red]NO[/red]")
        table.add_row(name, str(key_id), f"{count:,}", marker)
    print_table(table, wide=wide, console=out)


@app.command("rotate")
def rotate_command(
    batch: int = typer.Option(pii.ROTATE_BATCH, "--batch", min=1, help="values re-encrypted per statement"),
) -> None:
    """Re-encrypt every value written under an older key with the current key (one transaction per
    table), then every application document (each file in place)."""
    from regionvisa.applications import documents
    from regionvisa.db import get_engine

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    ) as bar:
        tasks: dict[str, int] = {}

        def progress(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = bar.add_task(table, total=max(total, 1))
            bar.update(tasks[table], completed=done if total else 1, total=max(total, 1))

        try:
            counts = pii.rotate(engine=get_engine(), actor=KEYS, batch=batch, progress=progress)
        except pii.KeyError_ as exc:
            err.print(f"[red]{exc}[/red]", highlight=False)
            err.print("[red]이전 키가 설정에 없어 복호화할 수 없습니다; 그 표는 변경되지 않았습니다[/red]")
            raise typer.Exit(1) from None
        try:
            files = documents.rotate(engine=get_engine(), actor=KEYS, progress=progress)
        except documents.DocumentError as exc:
            err.print(f"[red]{exc}[/red]", highlight=False)
            err.print("[red]서류를 다시 암호화하지 못했습니다; 그 파일은 변경되지 않았습니다[/red]")
            raise typer.Exit(1) from None
    current = pii.keyring().current
    for name, n in counts.items():
        out.print(f"{name}: {n:,} values re-encrypted with {current}", highlight=False)
    out.print(f"application_document: {files:,} files re-encrypted with {current}", highlight=False)
