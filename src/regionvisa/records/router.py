"""POST /api/v1/records/{kind}/imports: the same import as the CLI, run as a job whose result is
the same summary; POST /api/v1/records/synthetic: a synthetic dataset, as a job;
GET /api/v1/records/residents: the residents on a date, scoped to the caller's region."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from regionvisa.accounts.policy import Actor
from regionvisa.core.errors import Invalid
from regionvisa.core.paging import Page, offset_of
from regionvisa.jobs.router import ACCEPTED, accepted, launch
from regionvisa.records.feeds import FEEDS, FeedFileError, check_columns
from regionvisa.records.subjects import read_region
from regionvisa.stats import regional
from regionvisa.stats.service import data_as_of
from regionvisa.tabular import TableFileError, display_name, open_table
from regionvisa.web.deps import require
from regionvisa.web.errors import ERROR_RESPONSES, ErrorBody
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
    after: str | None = Query(
        None,
        min_length=1,
        max_length=32,
        description="keyset paging: the `next_after` of the previous answer (the last person_id shown); the "
        "page then starts after that person, as fast on the last page as on the first ('page' is ignored)",
    ),
    user: Actor = Depends(require("records.read")),
) -> dict:

    scoped = read_region(user, region)
    engine = request.app.state.engine
    at = at or data_as_of(engine=engine)
    total, items = regional.residents_page(
        engine=engine, region=scoped, at=at, offset=offset_of(page, page_size), limit=page_size, after=after
    )
    return {
        **Page(number=page, size=page_size, total=total).meta(),
        "region": scoped,
        "at": at.isoformat(),
        "items": items,
        "next_after": items[-1]["person_id"] if len(items) == page_size else None,
    }


class SyntheticRequest(BaseModel):
    residents: int = Field(ge=1, le=3_000_000, strict=True, description="how many foreign residents to generate")
    seed: int = Field(0, ge=0, strict=True)
    replace: bool = Field(False, description="delete every existing record first (otherwise refused when any exist)")


@router.post(
    "/{kind}/imports",
    summary="Import one record feed file (CSV, Parquet or XLSX), in batches, as a job (202 and its Location); "
    "size limit per role",
    status_code=202,
    responses={
        **ACCEPTED,
        413: {"model": ErrorBody, "description": "The file is larger than the sender's role may send"},
    },
)
def import_records(
    request: Request,
    kind: Literal["people", "statuses", "addresses", "movements", "kiip", "employment"],
    file: UploadFile,
    all_or_nothing: bool = Query(False, description="commit nothing if any row is rejected"),
    max_problems: int = Query(1000, ge=0, le=100_000, description="problems returned in the job's result"),
    user: Actor = Depends(require("records.import")),
) -> JSONResponse:
    # The body was spooled to disk by the form parser within the sender's size limit (web.uploads).
    # The header is checked now (a file that is no table of this feed is a 422 at once); the rows
    # are imported by the job, which finds the file in the database (any worker, any machine).
    with received_file(file, default_name=kind) as path:
        name = display_name(file.filename or path.name)
        try:
            table = open_table(path, name=name, formats=("csv", "parquet", "xlsx"))
            check_columns(FEEDS[kind], table.empty(), name)
        except (TableFileError, FeedFileError) as exc:
            raise Invalid(code=exc.code, ko=exc.ko, en=exc.en, field="file") from exc
        data = path.read_bytes()
    job = launch(
        request,
        actor=user,
        kind="records_import",
        params={"kind": kind, "all_or_nothing": all_or_nothing, "max_problems": max_problems, "source_name": name},
        upload=(name, file.content_type or "application/octet-stream", data),
    )
    return accepted(job)


@router.post(
    "/synthetic",
    summary="Generate and load a synthetic national dataset (demonstrations, load tests) as a job",
    status_code=202,
    responses=ACCEPTED,
)
def load_synthetic(
    request: Request, body: SyntheticRequest, user: Actor = Depends(require("records.import"))
) -> JSONResponse:
    job = launch(
        request,
        actor=user,
        kind="synthetic",
        params={"residents": body.residents, "seed": body.seed, "replace": body.replace},
    )
    return accepted(job)
