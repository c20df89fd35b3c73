"""The one way the command line prints a table for people: it fits the terminal (80 columns
when the output is not a terminal), never by cutting a value to "1…".

Columns on the right go first when the table is too wide (commands put their key columns on
the left), and the caption names what was left out; `--wide` prints every column at its full
width. What is left that still does not fit wraps inside its cell. Machine output (`--out`
files, `--json`) never passes through here, so its columns stay the DESIGN.md contract.
"""

from __future__ import annotations

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

NARROW = 80  # the width a table must fit without --wide when the terminal does not say

# Every command that prints a table takes this option.
WIDE = typer.Option(False, "--wide", help="every column in full, however wide / 모든 열을 전체 너비로")


def _text(cell) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def _natural(table: Table, index: int) -> int:
    column = table.columns[index]
    cells = [_text(c) for c in column._cells]
    widest_line = max((cell_len(line) for c in cells for line in c.splitlines() or [""]), default=0)
    return max(cell_len(_text(column.header)), widest_line)


def _outer(table: Table, widths: list[int]) -> int:
    """Characters a row takes: cells, their padding, and the borders between and around them."""
    pad = 2 if table.padding else 0
    borders = len(widths) + 1 if table.box else max(len(widths) - 1, 0)
    return sum(widths) + pad * len(widths) + borders


def fit(table: Table, *, width: int, wide: bool = False, keep: int = 1) -> list[str]:
    """Make `table` fit `width` columns (in place); returns the headers of the columns left out.

    `keep` is how many columns on the left stay whatever the width (the key of a row)."""
    for column in table.columns:
        column.overflow = "fold"  # wrap inside the cell; never an ellipsis
        column.no_wrap = False
    if wide:
        return []
    dropped: list[str] = []
    widths = [_natural(table, i) for i in range(len(table.columns))]
    while len(table.columns) > keep and _outer(table, widths) > width:
        dropped.insert(0, _text(table.columns[-1].header))
        table.columns.pop()
        widths.pop()
    if dropped:
        hidden = ", ".join(dropped)
        note = f"{len(dropped)} more columns: {hidden} (--wide shows them)"
        note += f" / 열 {len(dropped)}개 생략: --wide로 모두 표시"
        table.caption = f"{table.caption}\n{note}" if table.caption else note
        table.caption_justify = "left"
    return dropped


def print_table(table: Table, *, wide: bool = False, keep: int = 1, console: Console | None = None) -> None:
    """Print `table` for people: fitted to the terminal, or every column in full with `wide`."""
    console = console or Console()
    if wide:
        widths = [_natural(table, i) for i in range(len(table.columns))]
        console = Console(width=max(console.width, _outer(table, widths) + 2), file=console.file)
        fit(table, width=console.width, wide=True)
    else:
        fit(table, width=min(console.width, NARROW) if not console.is_terminal else console.width, keep=keep)
    console.print(table)
