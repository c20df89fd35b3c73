"""POST /api/v1/records/{kind}/imports: the same import as the CLI, with the same summary;
GET /api/v1/records/residents: the residents on a date, scoped to the caller's region."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request, UploadFile

from regionvisa.accounts.policy import Principal, require, scope_region
from regionvisa.audit.service import record
from regionvisa.db import session_scope
from regionvisa.records import service
from regionvisa.web.errors import ERROR_RESPONSES, AppError
from regionvisa.web.pagination import Page
from regionvisa.web.params import IsoDate

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
    user: Principal = Depends(require("records.read")),
) -> dict:
    from regionvisa.stats import regional
    from regionvisa.stats.service import data_as_of

    scoped = scope_region(user, region, action="records.read")
    engine = request.app.state.engine
    at = at or data_as_of(engine)
    total, items = regional.residents_page(engine, scoped, at, offset=(page - 1) * page_size, limit=page_size)
    return {
        **Page(number=page, size=page_size, total=total).meta(),
        "region": scoped,
        "at": at.isoformat(),
        "items": items,
    }


MAX_UPLOAD_BYTES = 512 * 1024 * 1024


@router.post("/{kind}/imports", summary="Import one record feed file (CSV, Parquet or XLSX)")
def import_records(
    request: Request,
    kind: Literal["people", "statuses", "addresses", "movements", "kiip", "employment"],
    file: UploadFile,
    all_or_nothing: bool = Query(False, description="commit nothing if any row is rejected"),
    max_problems: int = Query(1000, ge=0, le=100_000, description="problems returned in the response"),
    user: Principal = Depends(require("records.import")),
) -> dict:
    suffix = Path(file.filename or "").suffix.lower()
    if suffix not in (".csv", ".parquet", ".xlsx"):
        raise AppError(
            400,
            "unsupported_file",
            "CSV, Parquet 또는 XLSX 파일만 받습니다",
            "only .csv, .parquet and .xlsx files are accepted",
            field="file",
        )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{kind}{suffix}"
        size = 0
        digest = hashlib.sha256()
        with path.open("wb") as out:
            while chunk := file.file.read(1 << 20):
                size += len(chunk)
                digest.update(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise AppError(413, "too_large", "파일이 너무 큽니다", "file too large", field="file")
                out.write(chunk)
        try:
            summary, problems = service.import_file(request.app.state.engine, kind, path, all_or_nothing=all_or_nothing)
        except service.ImportError_ as exc:
            raise AppError(
                400,
                "unreadable_feed",
                "파일을 읽을 수 없습니다",
                str(exc).replace(str(path), file.filename or kind),
                field="file",
            ) from exc
    from regionvisa.stats import regional
    from regionvisa.stats.service import clear_overview_cache

    clear_overview_cache()
    regional.clear_cache()
    with session_scope(request.app.state.engine) as session:
        record(
            session,
            actor=user,
            action="records.import",
            subject=("feed", kind),
            reason=f"{kind} feed imported through the API: {summary.outcome}",
            inputs={
                "file_name": file.filename,
                "file_sha256": digest.hexdigest(),
                "bytes": size,
                "all_or_nothing": all_or_nothing,
                **{k: v for k, v in summary.as_dict().items() if k not in ("source", "seconds")},
            },
        )
    return {
        **summary.as_dict(),
        "source": file.filename,
        "message": summary.message,
        "problems": problems.head(max_problems).to_dicts(),
        "problems_truncated": problems.height > max_problems,
    }
