"""Programme objects per region for the route walk (tests/accounts/routewalk.py).

Busan (26) gets its pilot design, Seoul (11) a sample design of its own; both are published, so
every programme route has something real to read, screen, explain and simulate.
"""

from __future__ import annotations

import copy

from tests.actors import SYSTEM

from regionvisa.config import PROJECT_ROOT
from regionvisa.db import session_scope
from regionvisa.programs import designs, service
from regionvisa.programs.files import load_program_file, parse_design

BUSAN_FILE = PROJECT_ROOT / "policy" / "programs" / "26" / "busan-d2.yaml"
SEOUL_TITLE = "Seoul sample student visa (route walk)"
ON = "2025-06-01"
APPLICANT = {"applicant_id": "W-1", "topik_level": 3, "bank_balance_krw": 9000000, "course_type": "degree"}


def design_for(region: str) -> dict:
    design = load_program_file(BUSAN_FILE).as_dict()
    if region == "26":
        return design
    design = copy.deepcopy(design)
    design.update(
        id="seoul-sample-d2",
        region=region,
        residence_area=[region],
        title={"ko": "서울 시험용 유학 비자 (경로 점검)", "en": SEOUL_TITLE},
    )
    return design


def route_samples(engine, region: str) -> dict:
    design = design_for(region)
    with session_scope(engine=engine) as session:
        service.store(
            session=session, design=parse_design(design, source="walk"), actor=SYSTEM, reason="walk", status="published"
        )
    pid = design["id"]
    draft = {**design, "version": 2}
    return {
        "params": {"program_id": pid, "version": 1},
        "bodies": {
            "POST /api/v1/programs/drafts": {"json": {"design": draft, "reason": "walk"}},
            "POST /program-drafts": {"data": {"yaml": designs.design_yaml(draft), "reason": "walk"}},
            "POST /api/v1/programs/simulate": {
                "json": {"on": ON, "baseline": pid, "reform": pid, "applicants": [APPLICANT]}
            },
            "POST /api/v1/programs/{program_id}/screen": {"json": {"on": ON, "applicants": [APPLICANT]}},
            "POST /api/v1/programs/{program_id}/rank": {"json": {"on": ON, "applicants": [APPLICANT]}},
            "POST /api/v1/programs/{program_id}/explain": {"json": {"on": ON, "applicant": APPLICANT}},
            **{
                f"POST /api/v1/programs/{{program_id}}/versions/{{version}}/{move}": {"json": {"reason": "walk"}}
                for move in ("submit", "approve", "publish", "retire", "reopen")
            },
            **{
                f"POST /programs/{{program_id}}/versions/{{version}}/{move}": {"data": {"reason": "walk"}}
                for move in ("submit", "approve", "publish", "retire", "reopen")
            },
        },
        "markers": [SEOUL_TITLE, "seoul-sample-d2"] if region != "26" else [],
    }
