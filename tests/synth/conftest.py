"""One synthetic dataset per session, shared by the read-only generator tests.

Generation at this size takes well under a second; the residents frame is computed the way
the statistics compute it (records as known on the reference date), so the tests check what
the statistics, compliance and evaluation will actually see.
"""

from __future__ import annotations

from types import SimpleNamespace

import polars as pl
import pytest

from regionvisa.records.frames import KNOWN_BY, residents_frame
from regionvisa.synth import profiles
from regionvisa.synth.generate import generate_dataset

RESIDENTS = 40_000
SEED = 2025


def known_on(frames: dict[str, pl.DataFrame], on) -> dict[str, pl.DataFrame]:
    """Each table as known on `on` (the rule of records.frames.read_records)."""
    out = {name: frame for name, frame in frames.items()}
    for name, column in KNOWN_BY.items():
        out[name] = frames[name].filter(pl.col(column) <= on)
    return out


def residents_of(frames: dict[str, pl.DataFrame], on) -> pl.DataFrame:
    known = known_on(frames, on)
    addresses = known["address_report"].filter(pl.col("effective_date") <= on)
    return residents_frame(frames["person"], known["status_grant"], known["movement"], addresses, on)


@pytest.fixture(scope="session")
def synth_helpers() -> SimpleNamespace:
    """Helpers for the test modules (conftest modules are not importable under importlib mode)."""
    return SimpleNamespace(known_on=known_on, residents_of=residents_of)


@pytest.fixture(scope="session")
def dataset() -> SimpleNamespace:
    frames = generate_dataset(RESIDENTS, SEED)
    return SimpleNamespace(
        n=RESIDENTS,
        seed=SEED,
        as_of=profiles.AS_OF,
        frames=frames,
        residents=residents_of(frames, profiles.AS_OF),
    )
