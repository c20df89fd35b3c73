"""POST /api/v1/records/{kind}/imports: the same import as the CLI, with the same summary;
GET /api/v1/records/residents: the residents on a date, scoped to the caller's region."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request, UploadFile

from regionvisa.accounts.policy import Actor
from regionvisa.core.errors import Invalid
from regionvisa.records import service
from regionvisa.records.subjects import read_region
from regionvisa.web.deps import require
from regionvisa.web.errors import ERROR_RESPONSES, ErrorBody
from regionvisa.web.pagination import Page
from regionvisa.web.params import IsoDate
from regionvisa.web.uploads import received_file

router = APIRouter(prefix="/records", tags=["records"], responses=ERROR_RESPONSES)


@router.get("/residents", summary="Foreign residents on a date, one row each (region-scoped, paginated)")
def residents(
    request: Request,
    region: str | None = Query(
        None,
        pattern=r"^\d{2}$",
        description="2-digit region code; regional officials get "
        "their own region whatever they ask, and 403 for another one",
    ),
    at: IsoDate | None = Query(None, description="reference date (default: the latest date in the records)"),
    page: int = Query(1, ge=1),
    page_size: int = Query(100, ge=1, le=1000),
    user: Actor = Depends(require("records.read")),
) -> dict:
    from regionvisa.stats import regional
    from regionvisa.stats.service import data_as_of

    scoped = read_region(user, region)
    engine = request.app.state.engine
    at = at or data_as_of(engine)
    total, items = regional.residents_page(engine, scoped, at, offset=(page - 1) * page_size, limit=page_size)
    return {
        **Page(number=page, size=page_size, total=total).meta(),
        "region": scoped,
        "at": at.isoformat(),
        "items": items,
    }


@router.post(
    "/{kind}/imports",
    summary="Import one record feed file (CSV, Parquet or XLSX), in batches; size limit per role",
    responses={413: {"model": ErrorBody, "description": "The file is larger than the sender's role may send"}},
)
def import_records(
    request: Request,
    kind: Literal["people", "statuses", "addresses", "movements", "kiip", "employment"],
    file: UploadFile,
    all_or_nothing: bool = Query(False, description="commit nothing if any row is rejected"),
    max_problems: int = Query(1000, ge=0, le=100_000, description="problems returned in the response"),
    user: Actor = Depends(require("records.import")),
) -> dict:
    # A plain `def`: the import runs in the thread pool, never on the event loop. The body was
    # spooled to disk by the form parser within the sender's size limit (web.uploads).
    with received_file(file, default_name=kind) as path:
        try:
            summary, problems = service.import_file(
                request.app.state.engine,
                kind,
                path,
                actor=user,
                source_name=file.filename,
                channel="api",
                all_or_nothing=all_or_nothing,
                keep_problems=max_problems,
            )
        except service.ImportError_ as exc:
            raise Invalid(code=exc.code, ko=exc.ko, en=exc.en, field="file") from exc
    from regionvisa.stats import regional
    from regionvisa.stats.service import clear_overview_cache

    clear_overview_cache()
    regional.clear_cache()
    return {
        **summary.as_dict(),
        "source": summary.source,
        "message": summary.message,
        "problems": problems.head(max_problems).to_dicts(),
        "problems_truncated": summary.problems > max_problems,
    }
