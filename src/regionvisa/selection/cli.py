"""`regionvisa selection`: Selection rounds / 선정 심사."""

from __future__ import annotations

import typer

app = typer.Typer(help="Selection rounds / 선정 심사", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Selection rounds / 선정 심사."""
