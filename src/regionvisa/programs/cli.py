"""`regionvisa programs …` and the top-level `screen`, `explain`, `match`, `simulate` (DESIGN §4.4)."""

from __future__ import annotations

from collections.abc import Callable

import typer

app = typer.Typer(help="Regional visa programmes / 지역 특화형 비자 프로그램", no_args_is_help=True)

# Commands mounted at the top level of `regionvisa` (name, function), e.g. ("screen", screen_command).
TOP_LEVEL: list[tuple[str, Callable]] = []


@app.callback()
def _group() -> None:
    """Validate, load and publish programme designs."""
