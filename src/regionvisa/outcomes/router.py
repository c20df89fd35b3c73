"""GET /api/v1/outcomes and /api/v1/outcomes/export.xlsx: the pilot outcome report
(docs/indicators.md) under `outcomes.read`, a regional official's rows scoped to their region."""

from __future__ import annotations

import datetime as dt
import io

from fastapi import APIRouter, Depends, Query, Request, Response

from regionvisa.accounts.policy import Actor
from regionvisa.outcomes import service
from regionvisa.web.deps import require
from regionvisa.web.errors import ERROR_RESPONSES
from regionvisa.web.params import IsoDate

router = APIRouter(prefix="/outcomes", tags=["outcomes"], responses=ERROR_RESPONSES)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REGION = Query(None, pattern=r"^\d{2}$", description="2-digit region code (a regional official: their own)")
ON = Query(None, description="reference date (default: the latest date in the records)")
SINCE = Query(None, description="first day of the period (default: 1 January two years before `on`)")


def _report(request: Request, user: Actor, on: dt.date | None, since: dt.date | None, region: str | None):
    from regionvisa.stats.service import data_as_of

    engine = request.app.state.engine
    on = on or data_as_of(engine=engine)
    since = since or service.default_since(on)
    return service.report(engine=engine, actor=user, on=on, since=since, region=region)


@router.get(
    "",
    summary="The pilot outcome report: each programme's holders per region beside non-pilot holders of the "
    "same base visa in the same region (region-scoped)",
)
def outcomes(
    request: Request,
    on: IsoDate | None = ON,
    since: IsoDate | None = SINCE,
    region: str | None = REGION,
    user: Actor = Depends(require(service.READ)),
) -> dict:
    result = _report(request, user, on, since, region)
    return {
        "since": result.since.isoformat(),
        "on": result.on.isoformat(),
        "indicators": {"columns": result.indicators.columns, "rows": result.indicators.to_dicts()},
        "takeup": {"columns": result.takeup.columns, "rows": result.takeup.to_dicts()},
    }


@router.get(
    "/export.xlsx",
    summary="The pilot outcome report as XLSX: indicators and monthly take-up sheets",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
)
def export_xlsx(
    request: Request,
    on: IsoDate | None = ON,
    since: IsoDate | None = SINCE,
    region: str | None = REGION,
    user: Actor = Depends(require(service.READ)),
) -> Response:
    import xlsxwriter

    from regionvisa.reports.files import write_xlsx_safe

    result = _report(request, user, on, since, region)
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer) as workbook:
        write_xlsx_safe(result.indicators, workbook, worksheet="indicators", autofit=True)
        write_xlsx_safe(result.takeup, workbook, worksheet="takeup", autofit=True)
    name = f"outcomes-{result.since.isoformat()}-{result.on.isoformat()}.xlsx"
    return Response(
        buffer.getvalue(), media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
