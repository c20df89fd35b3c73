"""Records for the mobility tests: the seeded people (tests/conftest.py), Busan's first resident
moving to Seoul in June 2025, and two busan-d2 holders in Busan (one of them the mover)."""

from __future__ import annotations

import pytest
from tests.actors import SYSTEM

from regionvisa.records.service import import_file

HOLDER_GRANTS = [  # person index in Busan's list, grant date
    (0, "2025-02-10"),
    (1, "2025-02-20"),
]


def seed_moves(engine, records, folder) -> str:
    """The move and the holders' grants, through the real import; returns the mover's id."""
    folder.mkdir(parents=True, exist_ok=True)
    busan = records["26"]
    person = busan[0]
    feeds = {
        "addresses": [
            "person_id,area_code,effective_date,reported_date",
            f"{person},11110,2025-06-01,2025-06-03",
        ],
        "statuses": [
            "person_id,visa,subtype,program_id,region,valid_from,valid_to,granted_on",
            *(f"{busan[i]},D-2,,busan-d2,26,{day},2027-12-31,{day}" for i, day in HOLDER_GRANTS),
        ],
    }
    for kind, lines in feeds.items():
        path = folder / f"{kind}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        summary, _ = import_file(engine=engine, kind=kind, path=path, actor=SYSTEM)
        assert summary.outcome == "committed", summary
    return person


@pytest.fixture
def moved(engine, records, tmp_path):
    return seed_moves(engine, records, tmp_path / "moves")
