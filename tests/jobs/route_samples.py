"""Jobs the route walk (routewalk.py) reaches through `{job_id}`: one queued applicant-file import
per region, made by `jobs.service.start` as a regional job. A job is seen by those who may see its
result, so `{job_id}` is a per-region parameter and another region's job must answer 404."""

from __future__ import annotations

from tests.actors import SYSTEM

from regionvisa.db import session_scope
from regionvisa.jobs import service

ALLOWED_MARKER = "route-walk-job-{region}"


def route_samples(engine, region: str) -> dict:
    with session_scope(engine=engine) as session:
        job = service.start(
            session=session,
            actor=SYSTEM,
            kind="applications_import",
            params={"program_id": f"route-walk-{region}", "note": ALLOWED_MARKER.format(region=region)},
            region=region,
        )
        job_id = job.id
    return {"params": {"job_id": job_id}}
