"""`regionvisa evaluate`: the annual evaluation from a supplied table or from the database.

With `--indicators FILE.csv` the command needs no database at all: nothing on that path imports
the database layer, so the method can be checked on any machine. Report rendering (matplotlib,
WeasyPrint, XlsxWriter) is imported only when the output asks for it, so a JSON run stays fast.

Without `--indicators`, indicators come from the records (evaluation.service). `--store` keeps the
run in the database as a draft and `--publish` also publishes it (benefits and sanctions take
effect, audited). `--what-if REGION --set id=value …` prints that region's score, rank and grade
with the changes, every other region as published (or, with `--indicators`, as the table scores).

Exit codes: 0 done; 1 invalid input (framework file, indicator table); 2 usage (options, output
format, or the database path when it is not available).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from regionvisa.accounts.policy import system_actor
from regionvisa.core.errors import DomainError
from regionvisa.evaluation.compute import IndicatorInputError, dumps, evaluate, read_indicator_csv
from regionvisa.evaluation.framework import MAX_DRAWS, Framework, FrameworkError, default_framework_path, load_framework

FORMATS = (".json", ".html", ".pdf", ".xlsx")
LANGUAGES = ("ko", "en")
SERVICE_MODULE = "regionvisa.evaluation.service"

app = typer.Typer(help="Annual regional evaluation / 연간 지역 평가", no_args_is_help=True)
console = Console(stderr=True)


def _fail(code: int, message: str, details: list[str] | None = None) -> typer.Exit:
    console.print(message, style="red", highlight=False, markup=False, soft_wrap=True)
    for line in details or []:
        console.print(f"  {line}", highlight=False, markup=False, soft_wrap=True)
    return typer.Exit(code)


def _database_source() -> Callable[[int, Framework], Mapping[str, Mapping[str, float | None]]] | None:
    """`evaluation.service.indicators_from_database`, imported only when asked for, or None if absent."""
    try:
        service = importlib.import_module(SERVICE_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != SERVICE_MODULE:  # the module exists but something it imports is broken: show that
            raise
        return None
    return getattr(service, "indicators_from_database", None)


def evaluate_command(
    year: int = typer.Option(..., "--year", help="evaluation year / 평가 연도"),
    framework: Path | None = typer.Option(
        None,
        "--framework",
        exists=True,
        dir_okay=False,
        help="framework YAML (default policy/evaluation/rsv-2025.yaml)",
    ),
    indicators: Path | None = typer.Option(
        None,
        "--indicators",
        exists=True,
        dir_okay=False,
        help="CSV with a 'region' column and one column per indicator id; skips the database",
    ),
    draws: int | None = typer.Option(None, "--draws", help="sensitivity draws (default: the framework's)"),
    lang: str = typer.Option("ko", "--lang", help="report language: ko | en"),
    out: Path | None = typer.Option(None, "--out", help="output file: .json, .html, .pdf or .xlsx"),
    store: bool = typer.Option(False, "--store", help="store the run in the database as a draft / 초안으로 저장"),
    publish: bool = typer.Option(
        False, "--publish", help="store the run and publish it: benefits and sanctions take effect / 공표"
    ),
    what_if_region: str | None = typer.Option(
        None,
        "--what-if",
        help="region code: show its score, rank and grade with --set changes, others as published / 가정 분석",
    ),
    changes: list[str] = typer.Option(
        [], "--set", help="with --what-if: indicator=value (repeatable; empty value = missing)"
    ),
) -> None:
    """Score, rank and grade the regions with uncertainty analysis, and write the result or report.
    / 지역별 점수·순위·등급과 불확실성 분석을 계산해 결과 또는 보고서를 저장합니다."""
    if what_if_region is not None:
        _what_if(year, framework, indicators, what_if_region, changes, out)
        return
    if out is None:
        raise _fail(2, "--out is required (or --what-if REGION) / --out 을 지정하십시오")
    if (store or publish) and indicators is not None:
        console.print(
            "note: the run is stored with the supplied table as its inputs / 참고: 제공된 표를 입력으로 저장합니다",
            highlight=False,
            markup=False,
        )
    fmt = out.suffix.lower()
    _check_options(year=year, out=out, fmt=fmt, lang=lang, draws=draws)
    fw = _framework(framework, year)
    table = _indicator_table(indicators, year, fw)

    n_draws = fw.sensitivity.draws if draws is None else draws
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(f"sensitivity analysis, {n_draws:,} draws / 민감도 분석", total=1)
        try:
            result = evaluate(fw, table, draws=n_draws, year=year)
        except IndicatorInputError as exc:
            raise _fail(1, "invalid indicator values / 지표 값 오류", exc.errors) from exc
        progress.update(task, completed=1)
        if store or publish:
            run_id = _store(result, publish=publish, source="table" if indicators is not None else "database")
            console.print(
                f"stored run {run_id}" + (" and published it" if publish else " as a draft") + " / 저장했습니다",
                highlight=False,
                markup=False,
            )
        task = progress.add_task(f"writing {out.name} / 저장", total=1)
        try:
            _write(result, fw, out, fmt, lang)
        except OSError as exc:
            raise _fail(1, f"cannot write {out}: {exc.strerror or exc} / 파일을 쓸 수 없습니다") from exc
        progress.update(task, completed=1)
    _summary(result, out)


def _check_options(*, year: int, out: Path, fmt: str, lang: str, draws: int | None) -> None:
    """Usage errors (exit 2), before any file or the database is read."""
    if lang not in LANGUAGES:
        raise _fail(2, f"--lang must be ko or en, got {lang!r} / --lang 은 ko 또는 en 이어야 합니다")
    if fmt not in FORMATS:
        raise _fail(
            2,
            f"--out {out}: unknown format {out.suffix or '(none)'!r}; use {', '.join(FORMATS)} "
            f"/ 지원하지 않는 출력 형식입니다",
        )
    if not 2000 <= year <= 2100:
        raise _fail(2, f"--year must be between 2000 and 2100, got {year} / 평가 연도가 올바르지 않습니다")
    if draws is not None and not 1 <= draws <= MAX_DRAWS:
        raise _fail(2, f"--draws must be between 1 and {MAX_DRAWS:,}, got {draws} / 추출 횟수가 범위를 벗어났습니다")


def _framework(framework: Path | None, year: int) -> Framework:
    """The framework file (exit 1 when invalid), with a note when it is another year's."""
    framework_path = framework or default_framework_path()
    try:
        fw = load_framework(framework_path)
    except FrameworkError as exc:
        raise _fail(1, f"invalid framework file / 평가 체계 파일 오류: {framework_path}", exc.errors) from exc
    if fw.year != year:
        console.print(
            f"note: framework {fw.id} is for {fw.year}; evaluating {year} with it "
            f"/ 참고: {fw.year}년 평가 체계로 {year}년을 평가합니다",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    return fw


def _indicator_table(indicators: Path | None, year: int, fw: Framework) -> Mapping[str, Mapping[str, Any]]:
    """The supplied table (exit 1 when invalid), else the indicators computed from the database."""
    if indicators is not None:
        try:
            return read_indicator_csv(indicators, fw)
        except IndicatorInputError as exc:
            raise _fail(1, f"invalid indicator table / 지표 표 오류: {indicators}", exc.errors) from exc
    source = _database_source()
    if source is None:
        raise _fail(
            2,
            "the database path is not available in this build: regionvisa.evaluation.service."
            "indicators_from_database is missing; pass --indicators FILE.csv "
            "/ 데이터베이스에서 지표를 계산하는 기능을 아직 사용할 수 없습니다. "
            "--indicators FILE.csv 를 지정하십시오",
        )
    return source(year, fw)


def _summary(result: Mapping[str, Any], out: Path) -> None:
    regions = result["regions"]
    top = regions[0] if regions else None
    sens = result["sensitivity"].get("most_sensitive_indicator") or "–"
    console.print(
        f"wrote {out}: {len(regions)} regions evaluated"
        + (f", first {top['region']} ({top['score']:.1f}, {top['grade']})" if top else "")
        + f", ranking most sensitive to {sens} / 저장했습니다",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


CLI_ACTOR = system_actor("cli")


def _store(result: Mapping[str, Any], *, publish: bool, source: str) -> int:
    from regionvisa.db import get_engine, session_scope
    from regionvisa.evaluation import flows, service

    with session_scope(engine=get_engine()) as session:
        run = service.store_run(session=session, result=result, actor=CLI_ACTOR, source=source)
        if publish:
            flows.publish_evaluation(
                session=session, run_id=run.id, actor=CLI_ACTOR, reason="published from the command line"
            )
        return run.id


def _parse_changes(changes: list[str]) -> dict[str, float | None]:
    parsed: dict[str, float | None] = {}
    for item in changes:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise _fail(2, f"--set {item!r}: expected indicator=value / 지표=값 형식이어야 합니다")
        if value.strip() == "":
            parsed[key.strip()] = None
            continue
        try:
            parsed[key.strip()] = float(value)
        except ValueError:
            raise _fail(2, f"--set {item!r}: {value!r} is not a number / 숫자가 아닙니다") from None
    return parsed


def _what_if(
    year: int, framework: Path | None, indicators: Path | None, region: str, changes: list[str], out: Path | None
) -> None:
    """What-if against the published evaluation (database) or against the table's own evaluation."""
    from regionvisa.evaluation import whatif

    parsed = _parse_changes(changes)
    if indicators is not None:
        try:
            fw = load_framework(framework or default_framework_path())
            published = evaluate(fw, read_indicator_csv(indicators, fw), draws=1, year=year)
        except (FrameworkError, IndicatorInputError) as exc:
            raise _fail(1, "invalid input / 입력 오류", exc.errors) from exc
        try:
            answer = {"year": year, **whatif.what_if(fw, published, region, parsed)}
        except KeyError:
            raise _fail(1, f"region {region} is not in the table / 표에 없는 지역입니다") from None
        except (ValueError, IndicatorInputError) as exc:
            raise _fail(1, str(exc)) from None
    else:
        from regionvisa.db import get_engine, session_scope
        from regionvisa.evaluation import service

        try:
            with session_scope(engine=get_engine()) as session:
                answer = service.what_if(session=session, actor=CLI_ACTOR, region=region, changes=parsed, year=year)
        except DomainError as exc:
            raise _fail(1, f"{exc.en} / {exc.ko}") from None
    text = dumps(answer) + "\n"
    if out is not None:
        from regionvisa.reports.files import write_atomic

        write_atomic(out, text.encode("utf-8"))
    else:
        typer.echo(text, nl=False)


def _write(result: Mapping[str, Any], framework: Framework, out: Path, fmt: str, lang: str) -> None:
    from regionvisa.reports.files import write_atomic

    if fmt == ".json":
        write_atomic(out, (dumps(result) + "\n").encode("utf-8"))
        return
    from regionvisa.reports.evaluation_report import write_report

    write_report(result, framework, out, lang)


@app.callback()
def _group() -> None:
    """Annual regional evaluation / 연간 지역 평가 (a group, so `evaluate` stays a named subcommand)."""


app.command("evaluate")(evaluate_command)
