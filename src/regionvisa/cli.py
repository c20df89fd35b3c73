"""`regionvisa`: the command-line tool. Each domain mounts its own commands here.

The command modules (`<domain>/cli.py`) import most of their services inside each command on
purpose, so that `regionvisa --help`, shell completion and a command's own `--help` do not pay
for loading what only the command's work needs (report renderers, the database drivers).
Everywhere else imports sit at the top of the module, unless a comment names what forces them
inside.
"""

from __future__ import annotations

import shutil
import sys

import typer
from rich.console import Console
from typer.core import TyperGroup

from regionvisa.accounts.cli import app as users_app
from regionvisa.applications.cli import app as applications_app
from regionvisa.audit.cli import app as audit_app
from regionvisa.compliance.cli import app as compliance_app
from regionvisa.config import PROJECT_ROOT, KeysNotConfigured, get_settings, require_keys
from regionvisa.db import get_engine
from regionvisa.evaluation.cli import evaluate_command
from regionvisa.jobs.cli import app as jobs_app
from regionvisa.jobs.cli import worker_command
from regionvisa.mobility.cli import flows_command, retention_command
from regionvisa.ops.cli import backup_command, restore_command
from regionvisa.outcomes.cli import app as outcomes_app
from regionvisa.programs.cli import TOP_LEVEL as programs_top_level
from regionvisa.programs.cli import app as programs_app
from regionvisa.quotas.cli import app as quotas_app
from regionvisa.records.cli import app as records_app
from regionvisa.records.keys_cli import app as keys_app
from regionvisa.selection.cli import app as selection_app
from regionvisa.stats.cli import stats_command

# Commands that read or write personal data (None: every command of the group) refuse to run,
# before doing anything, without configured keys; records.pii refuses as well, for any path missed.
PERSONAL_DATA_COMMANDS: dict[str, frozenset[str] | None] = {
    "serve": None,
    "worker": None,
    "synth": None,
    "records": None,
    "applications": None,
    "compliance": None,
    "keys": frozenset({"status", "rotate"}),
}
console = Console(stderr=True)


def _keys_or_exit() -> None:
    try:
        require_keys(get_settings())
    except KeysNotConfigured as exc:
        console.print(str(exc), style="red", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(2) from None


class _KeyedGroup(TyperGroup):
    """The root group: checks the keys once the command is known and before it runs (`--help` excepted)."""

    def resolve_command(self, ctx, args):
        name, command, rest = super().resolve_command(ctx, args)
        if name in PERSONAL_DATA_COMMANDS and not ctx.resilient_parsing and "--help" not in rest:
            only = PERSONAL_DATA_COMMANDS[name]
            if only is None or (rest and rest[0] in only):
                _keys_or_exit()
        return name, command, rest


app = typer.Typer(
    cls=_KeyedGroup,
    help="RegionVisa: region-led visa programme / 광역형 비자",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="Database schema and reference data", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(records_app, name="records")
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(programs_app, name="programs")
app.add_typer(applications_app, name="applications")
app.add_typer(quotas_app, name="quotas")
app.add_typer(compliance_app, name="compliance")
app.add_typer(selection_app, name="selection")
app.add_typer(outcomes_app, name="outcomes")
app.command("stats")(stats_command)
app.add_typer(jobs_app, name="jobs")
app.command("worker")(worker_command)
app.command("evaluate")(evaluate_command)
app.command("flows")(flows_command)
app.command("retention")(retention_command)
app.command("backup")(backup_command)
app.command("restore")(restore_command)
for _name, _command in programs_top_level:
    app.command(_name)(_command)


def _reference_data() -> None:
    from regionvisa.db import session_scope
    from regionvisa.regions.service import load_regions

    with session_scope() as session:
        load_regions(session=session)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default head)."""
    from regionvisa import migrate

    migrate.upgrade(engine=get_engine(), revision=revision)
    console.print(f"database at revision {migrate.current_revision(engine=get_engine())}")


@db_app.command("current")
def db_current() -> None:
    """Print the database's migration revision and the newest one available."""
    from regionvisa import migrate

    current = migrate.current_revision(engine=get_engine())
    head = migrate.head_revision()
    typer.echo(f"current: {current or '(none)'}\nhead:    {head}")
    if current != head:
        raise typer.Exit(1)


@db_app.command("init")
def db_init() -> None:
    """Migrations plus reference data (regions, national parameters, occupations); no synthetic data."""
    from regionvisa import migrate
    from regionvisa.regions.catalogue import e7_occupations, visa_categories
    from regionvisa.regions.parameters import national_parameters

    national_parameters()
    visa_categories()
    e7_occupations()
    migrate.upgrade(engine=get_engine())
    _reference_data()
    console.print("database initialised: schema and reference data / 스키마와 기준정보를 준비했습니다")


@app.command("synth")
def synth(
    residents: int = typer.Option(100_000, "--residents", min=100, help="number of foreign residents"),
    seed: int = typer.Option(2025, "--seed"),
    replace: bool = typer.Option(False, "--replace", help="delete existing records first"),
) -> None:
    """Generate the synthetic national dataset into the configured database (deterministic)."""
    from regionvisa.synth.service import SynthError, write_dataset

    try:
        counts = write_dataset(engine=get_engine(), residents=residents, seed=seed, replace=replace, progress=True)
    except SynthError as exc:
        console.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(1) from None
    for table, n in counts.items():
        typer.echo(f"{table:16} {n:>12,}")


@app.command("demo")
def demo(
    residents: int = typer.Option(100_000, "--residents", min=100, help="synthetic foreign residents"),
    seed: int = typer.Option(2025, "--seed"),
    force: bool = typer.Option(False, "--force", help="rebuild even if the demo database exists"),
) -> None:
    """Build var/regionvisa.sqlite3: schema, reference data, synthetic records and demo accounts.

    Without configured keys, the demo makes random ones for its database, once, in the demo keys
    file (var/demo-keys.json, mode 0600), which later commands on that database read."""
    from regionvisa import flows

    if _prepare_demo_keys(get_settings()):
        _start_afresh()
    flows.build_demo(settings=get_settings(), residents=residents, seed=seed, force=force)
    typer.echo(SYNTHETIC_BANNER)


def _prepare_demo_keys(settings) -> bool:
    """Make sure the demo's database has keys (the environment's, or the demo's own, made once);
    True when it already holds personal data under other keys, which these cannot read."""
    from regionvisa.config import Settings, key_problems
    from regionvisa.ops.keys import ensure_demo_keys
    from regionvisa.records import pii

    if key_problems(Settings()):  # the environment has no (complete) keys: the demo's own
        _keys, created = ensure_demo_keys(settings)
        pii.reset_keyring()  # and the settings: the keys apply from here on
        verb = "created" if created else "reused"
        console.print(f"demo keys {verb}: {settings.demo_keys_file} (mode 0600) / 데모 키", soft_wrap=True)
    _keys_or_exit()
    try:
        stale = sorted({key for _table, key, _n, configured in pii.key_status(engine=get_engine()) if not configured})
    except Exception:  # no tables yet: nothing stored under any key
        return False
    if stale:
        console.print(
            f"the demo database holds personal data under other keys ({', '.join(stale)}), which cannot be read "
            "with these; starting it afresh / 다른 키로 암호화된 자료가 있어 데모 데이터베이스를 새로 만듭니다",
            soft_wrap=True,
        )
    return bool(stale)


def _start_afresh() -> None:
    """Remove a SQLite demo database (and its WAL) so the build starts empty; other databases are not dropped."""
    from pathlib import Path

    engine = get_engine()
    if engine.dialect.name != "sqlite" or not engine.url.database:
        console.print(
            "[red]the database holds data under keys that are not configured; the demo will not overwrite it. "
            "Use an empty database, or set the keys it was written with / 설정되지 않은 키로 암호화된 자료가 있어 "
            "데모가 덮어쓰지 않습니다[/red]",
            soft_wrap=True,
        )
        raise typer.Exit(1)
    engine.dispose()
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(engine.url.database + suffix).unlink(missing_ok=True)


SYNTHETIC_BANNER = (
    "SYNTHETIC DATA: every person, record and figure in this database was generated for the demonstration;"
    " none is real.\n합성 자료: 이 데이터베이스의 모든 사람, 기록과 수치는 시연용으로 만든 것이며 실제가 아닙니다."
)


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    workers: int = typer.Option(1, "--workers"),
    reload: bool = typer.Option(False, "--reload"),
) -> None:
    """Serve the web application and the API (refused without configured keys)."""
    from regionvisa.config import demo_keys_for
    from regionvisa.ops.serving import serve as run_server
    from regionvisa.synth.service import holds_synthetic_data

    settings = get_settings()
    demo = demo_keys_for(settings)
    if demo and demo.get("REGIONVISA_DATA_KEYS") == settings.data_keys:
        console.print(f"demo database: keys from {settings.demo_keys_file} / 데모 키 사용", soft_wrap=True)
    typer.echo(f"RegionVisa on http://{host}:{port}/  (API: http://{host}:{port}/api/v1/docs)")
    if holds_synthetic_data(engine=get_engine()):
        typer.echo(SYNTHETIC_BANNER)
    run_server(host, port, workers=workers, reload=reload)


def main() -> None:
    """Entry point: policy and input errors print as `file:key.path: message`, not tracebacks."""
    from regionvisa.policyfiles import PolicyError

    try:
        app(standalone_mode=True)
    except PolicyError as exc:
        for line in exc.errors:
            console.print(f"[red]{line}[/red]", highlight=False)
        raise SystemExit(1) from None
    except KeysNotConfigured as exc:
        console.print(str(exc), style="red", highlight=False, markup=False, soft_wrap=True)
        raise SystemExit(2) from None


if __name__ == "__main__":  # pragma: no cover
    if shutil.which("regionvisa") is None:
        sys.path.insert(0, str(PROJECT_ROOT / "src"))
    main()
