"""`regionvisa applications`: Applications / 신청."""

from __future__ import annotations

import typer

app = typer.Typer(help="Applications / 신청", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Applications / 신청."""
