"""GET /api/v1/mobility/flows, /pairs and /retention: the §4.9 tables (the commands' columns) as
JSON, CSV or XLSX, under `stats.read` with a regional official's rows scoped to their region."""

from __future__ import annotations

import datetime as dt
import io
from typing import Literal

import polars as pl
from fastapi import APIRouter, Depends, Query, Request, Response

from regionvisa.accounts.policy import Actor
from regionvisa.mobility import service
from regionvisa.reports.files import write_csv_safe, write_xlsx_safe
from regionvisa.stats.service import data_as_of
from regionvisa.web.deps import require
from regionvisa.web.errors import ERROR_RESPONSES
from regionvisa.web.params import IsoDate

router = APIRouter(prefix="/mobility", tags=["mobility"], responses=ERROR_RESPONSES)

Format = Literal["json", "csv", "xlsx"]
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
REGION = Query(None, pattern=r"^\d{2}$", description="2-digit region code (a regional official: their own)")


def table_response(frame: pl.DataFrame, *, name: str, format: str, meta: dict) -> Response | dict:
    """`frame` as {…meta, "rows": […]} (dates as YYYY-MM-DD), or as a CSV / XLSX attachment."""
    if format == "json":
        return {**meta, "columns": frame.columns, "rows": frame.to_dicts()}

    buffer = io.BytesIO()
    if format == "csv":
        write_csv_safe(frame, buffer)
    else:
        write_xlsx_safe(frame, buffer, worksheet=name, autofit=True)
    return Response(
        buffer.getvalue(),
        media_type=MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="{name}.{format}"'},
    )


def default_period(request: Request) -> tuple[dt.date, dt.date]:
    """The year up to the latest date in the records."""
    end = data_as_of(engine=request.app.state.engine)
    return end - dt.timedelta(days=364), end


@router.get("/flows", summary="Moves between regions per region and visa (§4.9 `regionvisa flows`; region-scoped)")
def flows(
    request: Request,
    start: IsoDate | None = Query(None, alias="from", description="first day (default: a year before `to`)"),
    end: IsoDate | None = Query(None, alias="to", description="last day (default: the latest date in the records)"),
    holders: bool = Query(False, description="only people holding a programme status on the move date"),
    region: str | None = REGION,
    format: Format = Query("json"),
    user: Actor = Depends(require(service.READ)),
):
    start, end = _period(request, start, end)
    table, _ = service.cached_flows(
        engine=request.app.state.engine, actor=user, start=start, end=end, holders=holders, region=region
    )
    meta = {"from": start.isoformat(), "to": end.isoformat(), "holders": holders}
    return table_response(table, name="flows", format=format, meta=meta)


@router.get(
    "/pairs",
    summary="Moves per origin region, destination region and visa (region-scoped: the moves out of or into it)",
)
def pairs(
    request: Request,
    start: IsoDate | None = Query(None, alias="from", description="first day (default: a year before `to`)"),
    end: IsoDate | None = Query(None, alias="to", description="last day (default: the latest date in the records)"),
    holders: bool = Query(False, description="only people holding a programme status on the move date"),
    region: str | None = REGION,
    format: Format = Query("json"),
    user: Actor = Depends(require(service.READ)),
):
    start, end = _period(request, start, end)
    _, found = service.cached_flows(
        engine=request.app.state.engine, actor=user, start=start, end=end, holders=holders, region=region
    )
    meta = {"from": start.isoformat(), "to": end.isoformat(), "holders": holders}
    return table_response(found, name="pairs", format=format, meta=meta)


@router.get(
    "/retention",
    summary="Programme holders by monthly cohort in the programme's area 6, 12 and 24 months on "
    "(§4.9 `regionvisa retention`; region-scoped)",
)
def retention(
    request: Request,
    on: IsoDate | None = Query(None, description="reference date (default: the latest date in the records)"),
    program_id: str | None = Query(None, description="one programme (default: all)"),
    region: str | None = REGION,
    format: Format = Query("json"),
    user: Actor = Depends(require(service.READ)),
):
    on = on or default_period(request)[1]
    table = service.cached_retention(
        engine=request.app.state.engine, actor=user, on=on, program_id=program_id, region=region
    )
    return table_response(table, name="retention", format=format, meta={"on": on.isoformat()})


def _period(request: Request, start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    if end is None:
        end = default_period(request)[1]
    return start or end - dt.timedelta(days=364), end
