"""Compliance / 체류 준수: the demo data step `regionvisa demo` runs (after the synthetic records)."""

from __future__ import annotations

from sqlalchemy.engine import Engine


def demo_step(engine: Engine) -> None:
    """Nothing yet."""
