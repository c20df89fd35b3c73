"""Route-walk samples (tests/accounts/routewalk.py): one programme, quota ledger and application per
region, so the walk proves that a Busan official cannot reach Seoul's applications or ledger."""

from __future__ import annotations

import copy
import datetime as dt

from tests.actors import SYSTEM

from regionvisa.config import get_settings
from regionvisa.db import session_scope
from regionvisa.policyfiles import read_yaml

ON = dt.date(2025, 6, 2)


def route_samples(engine, region: str) -> dict:
    from regionvisa.applications import documents, intake
    from regionvisa.programs import service as programs
    from regionvisa.programs.files import parse_design
    from regionvisa.quotas import service as quotas

    program_id = f"walk-{region}-d2"
    design = copy.deepcopy(read_yaml(get_settings().policy_dir / "programs" / "26" / "busan-d2.yaml"))
    design.update(id=program_id, region=region, residence_area=[region])
    with session_scope(engine=engine) as session:
        programs.store(
            session=session, design=parse_design(design), actor=SYSTEM, reason="walk sample", status="published"
        )
        ledger = quotas.open_ledger(
            session=session,
            program_id=program_id,
            region=region,
            period="2025",
            start=dt.date(2025, 1, 1),
            end=dt.date(2025, 12, 31),
            allocated=5,
            actor=SYSTEM,
            reason="walk sample",
        )
        app = intake.submit(
            session=session,
            program_id=program_id,
            applicant={"nationality": "VNM", "birth_date": "2001-01-01", "course_type": "degree"},
            name="Walk Sample",
            passport_no=f"WALK{region}0001",
            actor=SYSTEM,
            on=ON,
        )
        document = documents.upload_document(  # a passport scan, so the download route is walked on a real one
            session=session,
            app=app.id,
            doc_type="passport",
            filename="walk-passport.pdf",
            content=b"%PDF-1.4\nwalk sample\n%%EOF\n",
            content_type="application/pdf",
            actor=SYSTEM,
        )
        app_id, ledger_id, document_id = app.id, ledger.id, document.id
    submission = {"program_id": program_id, "name": "Walk", "passport_no": f"WALK{region}0002"}
    return {
        "params": {"application_id": app_id, "ledger_id": ledger_id, "document_id": document_id},
        "bodies": {
            "POST /api/v1/applications": {
                "json": {**submission, "applicant": {"nationality": "VNM"}, "submitted_on": ON.isoformat()}
            },
            "POST /applications/new": {"data": {**submission, "nationality": "VNM"}},
        },
        "markers": [program_id],
    }
