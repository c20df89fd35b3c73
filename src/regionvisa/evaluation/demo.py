"""Annual regional evaluation / 연간 지역 평가: the demo step.

`regionvisa demo` runs it after the synthetic records."""

from __future__ import annotations

from sqlalchemy.engine import Engine


def demo_step(engine: Engine) -> None:
    """Nothing yet."""
