"""Movement and retention records per region for the route walk (tests/accounts/routewalk.py):
a seeded Gyeonggi resident spends the spring in the region and comes back (Gyeonggi → region →
Gyeonggi, so every seeded resident lives where the seed put them, as the other walk tests
count), and two seeded residents of the region hold its programme (Busan's pilot, Seoul's
sample programme of tests/programs/route_samples.py): the flows and retention pages and API
have rows of each region to scope."""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.actors import SYSTEM

from regionvisa.records.service import import_file

HOLDERS = {"26": ("P10000001", "P10000002"), "11": ("P10000004", "P10000005")}
VISITOR = {"26": "P10000007", "11": "P10000008"}  # seeded in Gyeonggi (41)
PROGRAMME = {"26": "busan-d2", "11": "seoul-sample-d2"}


def route_samples(engine, region: str) -> dict:
    visitor = VISITOR[region]
    feeds = {
        "addresses": [
            "person_id,area_code,effective_date,reported_date",
            f"{visitor},{region}110,2025-03-01,2025-03-04",
            f"{visitor},41110,2025-06-01,2025-06-03",
        ],
        "statuses": [
            "person_id,visa,subtype,program_id,region,valid_from,valid_to,granted_on",
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
