"""Tables for people fit 80 columns without cutting values; --wide prints every column."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table

from regionvisa.clitable import print_table

HEADERS = ["region", "name_ko", "name_en", "population_2024", "residents", "share_pct", *[f"s{i}" for i in range(8)]]


def _table() -> Table:
    table = Table(title="foreign residents by region")
    for h in HEADERS:
        table.add_column(h, justify="right")
    table.add_row("11", "서울특별시", "Seoul", "9,386,034", "1,991", "0.02", *["12,345"] * 8)
    return table


def _printed(*, wide: bool) -> str:
    buffer = io.StringIO()
    print_table(_table(), wide=wide, console=Console(file=buffer, width=80, color_system=None))
    return buffer.getvalue()


def test_narrow_output_fits_80_columns_without_ellipsis():
    text = _printed(wide=False)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text and "9,386,034" in text and "1,991" in text  # whole values
    assert "--wide" in text and "s7" in text  # the caption names what was left out


def test_wide_output_has_every_column_in_full():
    text = _printed(wide=True)
    header = next(line for line in text.splitlines() if "region" in line and "s7" in line)
    assert all(h in header for h in HEADERS) and "…" not in text


def test_stats_by_region_at_80_columns(records, cli):
    narrow = cli("stats", "--by", "region", "--at", "2025-06-30")
    assert narrow.exit_code == 0, narrow.output
    lines = narrow.output.splitlines()
    assert max(len(line) for line in lines) <= 80 and "…" not in narrow.output
    assert any(line.strip().startswith("│ 11") or " 11 " in line for line in lines)
    wide = cli("stats", "--by", "region", "--at", "2025-06-30", "--wide")
    assert wide.exit_code == 0 and "illegal" in wide.output and "…" not in wide.output


def _commands():
    import typer

    from regionvisa.cli import app

    def walk(command, path):
        subs = getattr(command, "commands", None)
        if subs:
            for name, sub in subs.items():
                yield from walk(sub, [*path, name])
        else:
            yield " ".join(path), command

    return dict(walk(typer.main.get_command(app), []))


TABLE_COMMANDS = [
    "stats",
    "records import",
    "keys status",
    "users list",
    "quotas allocate",
    "quotas reallocate",
    "compliance run",
    "selection rounds",
    "selection tally",
    "jobs list",
]


def test_every_command_that_prints_a_table_takes_wide():
    commands = _commands()
    missing = [name for name in TABLE_COMMANDS if not any(p.name == "wide" for p in commands[name].params)]
    assert missing == []


def test_every_table_printed_for_people_passes_the_wide_choice():
    """A new table printed without `wide=` would ignore the option: every call site passes it."""
    import re
    from pathlib import Path

    import regionvisa

    root = Path(regionvisa.__file__).parent
    calls = [
        (path.relative_to(root), call)
        for path in root.rglob("*.py")
        if path.name != "clitable.py"
        for call in re.findall(r"print_table\([^)]*\)", path.read_text(encoding="utf-8"))
    ]
    assert len(calls) >= len(TABLE_COMMANDS)
    assert [c for c in calls if "wide=" not in c[1]] == []


def test_jobs_list_fits_80_columns(cli):
    result = cli("jobs", "list")
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
