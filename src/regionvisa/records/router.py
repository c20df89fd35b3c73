"""POST /api/v1/records/{kind}/imports: the same import as the CLI, with the same summary."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Query, Request, UploadFile

from regionvisa.records import service
from regionvisa.web.errors import AppError

router = APIRouter(prefix="/records", tags=["records"])

MAX_UPLOAD_BYTES = 512 * 1024 * 1024


@router.post("/{kind}/imports", summary="Import one record feed file (CSV, Parquet or XLSX)")
def import_records(
    request: Request,
    kind: Literal["people", "statuses", "addresses", "movements", "kiip", "employment"],
    file: UploadFile,
    all_or_nothing: bool = Query(False, description="commit nothing if any row is rejected"),
    max_problems: int = Query(1000, ge=0, le=100_000, description="problems returned in the response"),
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
        with path.open("wb") as out:
            while chunk := file.file.read(1 << 20):
                size += len(chunk)
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
    from regionvisa.stats.service import clear_overview_cache

    clear_overview_cache()
    return {
        **summary.as_dict(),
        "source": file.filename,
        "message": summary.message,
        "problems": problems.head(max_problems).to_dicts(),
        "problems_truncated": problems.height > max_problems,
    }
