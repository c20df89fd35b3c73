"""Reference data: the 17 regions, loaded from the packaged CSV (with its source line)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from regionvisa.regions.models import Region

REGIONS_CSV = Path(__file__).parent / "data" / "regions.csv"


@lru_cache
def regions_frame() -> pl.DataFrame:
    """The regions table as shipped (comment line skipped), codes kept as strings."""
    return pl.read_csv(
        REGIONS_CSV,
        comment_prefix="#",
        schema_overrides={"code": pl.String, "foreign_residents_is_estimate": pl.Boolean},
    )


def region_codes() -> list[str]:
    return regions_frame()["code"].to_list()


def region_names(lang: str = "ko") -> dict[str, str]:
    col = "name_ko" if lang == "ko" else "name_en"
    return dict(zip(regions_frame()["code"], regions_frame()[col], strict=True))


def load_regions(*, session: Session) -> int:
    """Insert or update the 17 regions; re-running changes nothing."""
    existing = {r.code: r for r in session.scalars(select(Region))}
    for row in regions_frame().iter_rows(named=True):
        region = existing.get(row["code"]) or Region(code=row["code"])
        for key, value in row.items():
            setattr(region, key, value)
        session.add(region)
    session.flush()
    return regions_frame().height


PILOT_CSV = Path(__file__).parent / "data" / "pilot_2025.csv"


@lru_cache
def pilot_programmes() -> pl.DataFrame:
    """The 2025 pilot designs (programme id, region, base visa, quota) as reported."""
    return pl.read_csv(PILOT_CSV, comment_prefix="#", schema_overrides={"region": pl.String})
