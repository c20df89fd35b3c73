"""The kinds of long work a job can be, each with the action that starts it, the action its result
needs (who may see the job), and the function a worker runs.

A kind's function calls the same domain functions the command line calls in the foreground; it
reports progress through `work.progress` (which is also where a cancellation is noticed) and
returns the job's result: a summary, and `href`, where the result can be seen.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from regionvisa.core.errors import Invalid
from regionvisa.core.text import NP_
from regionvisa.web import i18n

if TYPE_CHECKING:
    from regionvisa.jobs.runner import Work


KIND_CONTEXT = "job kind"


@dataclass(frozen=True)
class Kind:
    name: str
    start_action: str  # authorised when the job is started, in the job's region
    view_action: str  # who may see the job: those who may see its result
    label: str  # what it is called, a message id of the catalogue (context "job kind")
    run: Callable[[Work], dict]
    max_attempts: int = 2  # a job whose worker died is run again once, then marked failed

    @property
    def en(self) -> str:
        return self.label

    @property
    def ko(self) -> str:
        return i18n.translate("ko", self.label, context=KIND_CONTEXT)


def _phased(work: Work, *, start: float = 0.0, span: float = 1.0):
    """A (phase, done, total) callback, as the domain functions report, onto the job's 0–1 progress."""

    def report(phase: str, done: int, total: int) -> None:
        share = done / total if total else 0.0
        work.progress(start + span * min(max(share, 0.0), 1.0), ko=phase, en=phase)

    return report


def _compliance_run(work: Work) -> dict:
    from regionvisa.compliance import cases

    on = dt.date.fromisoformat(work.params["on"])
    result = cases.record_run(
        engine=work.engine,
        on=on,
        actor=work.actor,
        sync_cases=work.params.get("sync_cases", True),
        progress=_phased(work, span=0.9),
    )
    return {"href": f"/compliance?run={result.run_id}", "summary": result.as_dict()}


def _evaluation_run(work: Work) -> dict:
    from regionvisa.db import session_scope
    from regionvisa.evaluation import service

    work.progress(0.05, ko="지표 계산", en="computing the indicators")
    with session_scope(engine=work.engine) as session:
        run = service.run_evaluation(
            session=session, year=work.params["year"], actor=work.actor, draws=work.params.get("draws")
        )
        summary = {
            "id": run.id,
            "year": run.year,
            "framework": run.framework_id,
            "status": run.status,
            "result_sha256": run.result_sha256,
            "created_by": run.created_by,
            "created_at": run.created_at.isoformat(),
            "published_by": run.published_by,
            "published_at": run.published_at.isoformat() if run.published_at else None,
        }
    return {"href": "/evaluation#manage", "summary": summary}


REPORT_MEDIA = {
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


def _evaluation_report(work: Work) -> dict:
    from regionvisa.db import session_scope
    from regionvisa.evaluation import service
    from regionvisa.reports.evaluation_report import render

    fmt, lang = work.params["format"], work.params.get("lang", "ko")
    work.progress(0.05, ko="평가 결과 읽기", en="reading the published evaluation")
    with session_scope(engine=work.engine) as session:
        run = service.require_published(session=session, year=work.params.get("year"))
        result = service.result_of(run)
        year = run.year
    work.progress(0.2, ko="보고서 작성", en="rendering the report")
    data = render(result, service.framework_of(result), f".{fmt}", lang)
    name = f"evaluation-{year}-{lang}.{fmt}"
    work.save_output(name=name, media_type=REPORT_MEDIA[fmt], data=data)
    return {
        "href": f"/api/v1/jobs/{work.job_id}/file",
        "summary": {"year": year, "format": fmt, "lang": lang, "file": name, "bytes": len(data)},
    }


def _monthly_statistics(work: Work) -> dict:
    """The monthly statistics workbook (stats.monthly), Korean or English, as the job's file."""
    from regionvisa.stats import monthly

    month, lang = work.params["month"], work.params.get("lang", "ko")
    work.progress(0.05, ko="기록 읽기", en="reading the records")
    stats = monthly.monthly_statistics(engine=work.engine, month=month)
    work.progress(0.8, ko="통계표 작성", en="writing the workbook")
    data = monthly.workbook_bytes(stats, lang=lang)
    name = f"foreign-residents-{month}-{lang}.xlsx"
    work.save_output(name=name, media_type=REPORT_MEDIA["xlsx"], data=data)
    return {
        "href": f"/api/v1/jobs/{work.job_id}/file",
        "summary": {"month": month, "lang": lang, "file": name, **stats.summary},
    }


def _outcomes_report(work: Work) -> dict:
    """The pilot outcome report (PDF or XLSX, Korean or English) from a stored run: the one named
    by `run_id`, else a run stored now for the period and the region the job was started for."""
    from regionvisa.db import session_scope
    from regionvisa.outcomes import report, service

    fmt, lang, params = work.params["format"], work.params.get("lang", "ko"), work.params
    work.progress(0.05, ko="성과 지표 계산", en="computing the outcome indicators")
    with session_scope(engine=work.engine) as session:
        if params.get("run_id") is not None:
            run = service.get_run(session=session, actor=work.actor, run_id=int(params["run_id"]))
        else:
            on, since = dt.date.fromisoformat(params["on"]), dt.date.fromisoformat(params["since"])
            run = service.store_run(session=session, actor=work.actor, on=on, since=since, region=params.get("region"))
        run_id, digest, result = run.id, run.result_sha256, service.result_of(run)
    work.progress(0.6, ko="보고서 작성", en="rendering the report")
    data = report.render(result, f".{fmt}", lang, run_id=run_id, sha256=digest)
    name = f"outcomes-{result['since']}-{result['on']}-{result.get('region') or 'all'}-{lang}.{fmt}"
    work.save_output(name=name, media_type=REPORT_MEDIA[fmt], data=data)
    return {
        "href": f"/api/v1/jobs/{work.job_id}/file",
        "summary": {"run_id": run_id, "result_sha256": digest, "format": fmt, "lang": lang, "file": name,
                    "bytes": len(data)},
    }  # fmt: skip


def _spooled(work: Work):
    """The job's uploaded file written to a temporary path for the readers that take a path."""
    name, data = work.input_file()
    folder = tempfile.TemporaryDirectory(prefix="regionvisa-job-")
    path = Path(folder.name) / (Path(name).name or "upload")
    path.write_bytes(data)
    return folder, path, name


def _records_import(work: Work) -> dict:
    from regionvisa.records import service

    folder, path, name = _spooled(work)
    keep = work.params.get("max_problems", 1000)
    with folder:
        try:
            summary, problems = service.import_file(  # a use case running its own transaction
                engine=work.engine,
                kind=work.params["kind"],
                path=path,
                actor=work.actor,
                source_name=name,
                channel="api",
                all_or_nothing=work.params.get("all_or_nothing", False),
                keep_problems=keep,
                progress=_phased(work, span=0.95),
            )
        except service.ImportError_ as exc:  # a file found bad while reading it: the job says why
            raise Invalid(code=exc.code, ko=exc.ko, en=exc.en, field="file") from None
    _statistics_changed()
    return {
        "href": "/",
        "summary": {
            **summary.as_dict(),
            "source": summary.source,
            "message": summary.message,
            "problems": problems.head(keep).to_dicts(),
            "problems_truncated": summary.problems > keep,
        },
    }


def _statistics_changed() -> None:
    """Drop this process's cached statistics after an import (other processes see the new fingerprint)."""
    from regionvisa.stats import regional
    from regionvisa.stats.service import clear_overview_cache

    clear_overview_cache()
    regional.clear_cache()


def _applications_import(work: Work) -> dict:
    from regionvisa.applications import bulk_intake
    from regionvisa.db import session_scope
    from regionvisa.tabular import TableFileError, display_name, open_table

    folder, path, name = _spooled(work)
    with folder:
        try:
            frame = open_table(path, name=name, formats=("csv", "xlsx")).read()
        except TableFileError as exc:
            raise exc.app_error() from exc
    work.progress(0.2, ko="심사", en="screening the rows")
    on = work.params.get("submitted_on")
    with session_scope(engine=work.engine) as session:
        result = bulk_intake.import_applications(
            session=session,
            program_id=work.params["program_id"],
            source=frame,
            actor=work.actor,
            on=dt.date.fromisoformat(on) if on else None,
            source_name=display_name(name, "intake"),
        )
        summary = {
            **result.summary(),
            "problems": result.rejects.head(work.params.get("max_problems", 1000)).to_dicts(),
        }
    return {"href": f"/applications?program_id={work.params['program_id']}", "summary": summary}


def _synthetic(work: Work) -> dict:
    from regionvisa.synth.service import load_synthetic

    work.progress(0.02, ko="합성 데이터 생성", en="generating the synthetic records")
    counts = load_synthetic(  # a use case running its own transaction: engine first
        engine=work.engine,
        residents=work.params["residents"],
        seed=work.params["seed"],
        actor=work.actor,
        progress=False,
        replace=work.params.get("replace", False),
    )
    _statistics_changed()
    return {"href": "/", "summary": {"rows": counts, "residents": work.params["residents"]}}


def _audit_verify(work: Work) -> dict:
    """The whole hash chain walked (the same check as `regionvisa audit verify`); the result,
    intact or the first broken entry, is what the audit chain check page and API show until the next run."""
    from regionvisa.audit import service
    from regionvisa.db import utcnow

    work.progress(0.0, ko="감사 기록 체인 검증", en="checking the audit chain")

    def report(done: int, total: int) -> None:
        work.progress(done / total if total else 0.0, ko=f"{done:,} / {total:,}", en=f"{done:,} / {total:,}")

    result = service.verify(engine=work.engine, progress=report)
    head = result.head
    summary = {
        **result.as_dict(),
        "head_seq": head.seq if head is not None else 0,
        "checked_at": utcnow().isoformat(),
    }
    return {"href": "/audit/verify", "summary": summary}


def _probe(work: Work) -> dict:
    """An operator's check that workers take jobs: waits the given seconds, reporting progress."""
    seconds = float(work.params.get("seconds", 1.0))
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < seconds:
        work.progress(elapsed / seconds, ko="대기 중", en="waiting")
        time.sleep(min(0.05, seconds))
    return {"href": None, "summary": {"seconds": seconds, "worker": work.worker}}


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("compliance_run", "cases.act", "compliance.read", NP_("job kind", "compliance run"), _compliance_run),
        Kind(
            "evaluation_run",
            "evaluation.publish",
            "evaluation.publish",
            NP_("job kind", "evaluation run"),
            _evaluation_run,
        ),
        Kind(
            "evaluation_report",
            "evaluation.publish",
            "evaluation.publish",
            NP_("job kind", "evaluation report"),
            _evaluation_report,
        ),
        Kind("records_import", "records.import", "records.import", NP_("job kind", "records import"), _records_import),
        Kind(
            "applications_import",
            "applications.recommend",
            "applications.read",
            NP_("job kind", "applications import"),
            _applications_import,
        ),
        Kind("synthetic", "records.import", "records.import", NP_("job kind", "synthetic data"), _synthetic),
        Kind(
            "monthly_statistics",
            "stats.read",
            "stats.read",
            NP_("job kind", "monthly statistics"),
            _monthly_statistics,
        ),
        Kind(
            "outcomes_report",
            "outcomes.read",
            "outcomes.read",
            NP_("job kind", "pilot outcome report"),
            _outcomes_report,
        ),
        Kind("audit_verify", "audit.read", "audit.read", NP_("job kind", "audit chain check"), _audit_verify),
        Kind("probe", "users.manage", "users.manage", NP_("job kind", "worker check"), _probe),
    )
}


def kind_of(name: str) -> Kind:
    if name not in KINDS:
        raise KeyError(f"unknown job kind {name!r}")
    return KINDS[name]


def view_actions() -> set[str]:
    return {k.view_action for k in KINDS.values()}


def describe(name: str) -> dict[str, Any]:
    kind = kind_of(name)
    return {"ko": kind.ko, "en": kind.en}
