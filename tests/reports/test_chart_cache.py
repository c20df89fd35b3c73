"""A chart drawn once is shown again from the cache, in memory and on disk (after a restart),
and any change of its arguments draws it anew."""

from __future__ import annotations

import pytest

from regionvisa.reports import charts


def test_a_chart_is_drawn_once_and_served_from_memory_then_disk(tmp_path, monkeypatch):
    monkeypatch.setattr(charts, "_cache_dir", lambda: tmp_path)
    monkeypatch.setattr(charts, "_MEMORY", {})
    drawn = charts.region_chart([10.0, None, 5.0], [20.0, 20.0, 20.0], missing_text="no value", prefix="region-26")
    assert drawn.lstrip().startswith("<") and "region-26" in drawn
    assert len(list(tmp_path.glob("*.svg"))) == 1

    def no_drawing(*_a, **_k):
        raise AssertionError("drawn again")

    monkeypatch.setattr(charts, "_figure", no_drawing)
    again = charts.region_chart([10.0, None, 5.0], [20.0, 20.0, 20.0], missing_text="no value", prefix="region-26")
    assert again == drawn
    charts._MEMORY.clear()  # as after a restart: the file answers
    assert charts.region_chart([10.0, None, 5.0], [20.0, 20.0, 20.0], missing_text="no value",
                               prefix="region-26") == drawn  # fmt: skip
    with pytest.raises(AssertionError, match="drawn again"):
        charts.region_chart([11.0, None, 5.0], [20.0, 20.0, 20.0], missing_text="no value", prefix="region-26")
