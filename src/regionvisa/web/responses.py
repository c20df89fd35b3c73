"""JSON answers built by the service as plain values, sent without FastAPI's per-value encoder."""

from __future__ import annotations

import datetime as dt
import json

from fastapi.responses import Response

from regionvisa.core.clock import rfc3339


def _plain(value):
    if isinstance(value, dt.datetime):  # an instant always leaves with its offset (naive = UTC)
        return rfc3339(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def json_response(payload, *, status_code: int = 200) -> Response:
    """FastAPI's `jsonable_encoder` visits every value of a returned dict; for a screened table of a
    few hundred rows that costs more than the screening. Service payloads are already plain JSON
    (text, numbers, lists, dicts, dates), so they are dumped directly, NaN refused as before."""
    body = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_plain)
    return Response(body.encode(), status_code=status_code, media_type="application/json")
