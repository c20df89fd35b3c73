"""Regional visa programmes / 지역 특화형 비자 프로그램: the demo step.

`regionvisa demo` runs it after the synthetic records."""

from __future__ import annotations

from sqlalchemy.engine import Engine


def demo_step(engine: Engine) -> None:
    """Nothing yet."""
