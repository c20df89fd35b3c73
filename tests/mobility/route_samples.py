"""Movement and retention records per region for the route walk (tests/accounts/routewalk.py):
a resident of its own moves out of the region (Busan → Seoul, Seoul → Gyeonggi: the seeded
residents stay where they are) and two seeded residents hold the region's programme (Busan's
pilot, Seoul's sample programme of tests/programs/route_samples.py), so the flows and retention
pages and API have rows of each region to scope."""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.actors import SYSTEM

from regionvisa.records.service import import_file

HOLDERS = {"26": ("P10000001", "P10000002"), "11": ("P10000004", "P10000005")}
MOVE_TO = {"26": "11110", "11": "41110"}
PROGRAMME = {"26": "busan-d2", "11": "seoul-sample-d2"}


def route_samples(engine, region: str) -> dict:
    mover = f"PW{region}00001"
    feeds = {
        "people": [
            "person_id,name,nationality,birth_date,sex,passport_no",
            f"{mover},Walk Mover {region},VNM,1995-05-05,F,W{region}000001",
        ],
        "addresses": [
            "person_id,area_code,effective_date,reported_date",
            f"{mover},{region}110,2025-01-02,2025-01-05",
            f"{mover},{MOVE_TO[region]},2025-06-01,2025-06-03",
        ],
        "statuses": [
            "person_id,visa,subtype,program_id,region,valid_from,valid_to,granted_on",
            f"{mover},E-9,,,{region},2025-01-01,2027-12-31,2024-12-20",
            *(f"{p},D-2,,{PROGRAMME[region]},{region},2025-02-10,2027-12-31,2025-02-10" for p in HOLDERS[region]),
        ],
    }
    with tempfile.TemporaryDirectory() as folder:
        for kind, lines in feeds.items():
            path = Path(folder) / f"{kind}.csv"
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            summary, _ = import_file(engine=engine, kind=kind, path=path, actor=SYSTEM)
            assert summary.outcome == "committed", summary
    return {"markers": [PROGRAMME[region]]}
