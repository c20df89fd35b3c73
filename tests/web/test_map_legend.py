"""The tile map's legend: classes over the values themselves, never overlapping or running
backwards, labelled precisely enough to tell them apart, in the page's number format; the
regions' names fit their tiles in both languages."""

from __future__ import annotations

import itertools
import math
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.web.test_overview_map import seed

from regionvisa.regions.tilemap import (
    LABEL_ROOM,
    PALETTE,
    TILE_POSITIONS,
    class_of,
    classes,
    decimals_for,
    label_font,
    tile_grid,
)
from regionvisa.reports.locale import region_name

finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(st.lists(finite, min_size=1, max_size=40))
def test_classes_increase_do_not_overlap_and_cover_every_value(values):
    found = classes(values)
    assert 1 <= len(found) <= len(PALETTE)
    for c in found:
        assert c.low <= c.high
    for before, after in itertools.pairwise(found):
        assert before.high < after.low  # strictly increasing, disjoint
    for v in values:
        c = found[class_of(v, found)]
        assert c.low <= v <= c.high, (v, c)


@settings(max_examples=300, deadline=None)
@given(st.lists(finite.map(lambda v: round(v, 4)), min_size=1, max_size=40))
def test_labels_tell_every_class_end_apart(values):
    """Measured values carry a few decimals: the labels use as many as it takes, no more."""
    found = classes(values)
    digits = decimals_for(found)
    assert digits <= 4
    ends = sorted({e for c in found for e in (c.low, c.high)})
    rounded = [round(e, digits) for e in ends]
    assert len(set(rounded)) == len(rounded)
    assert digits == 0 or len({round(e, digits - 1) for e in ends}) < len(ends)  # no more than needed


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(TILE_POSITIONS)), st.one_of(st.none(), finite), min_size=1))
def test_tile_colours_follow_the_classes(values):
    tiles, legend, _, _ = tile_grid(values, {}, lang="en")
    present = [v for v in values.values() if v is not None]
    assert len(legend) == len(classes(present))
    colours = [colour for colour, _ in legend]
    assert len(set(colours)) == len(colours)
    shown = {t.code: t for t in tiles}
    for code, v in values.items():
        if v is None:
            assert shown[code].bin == -1
        else:
            assert shown[code].fill == colours[shown[code].bin]
    ordered = sorted((v, shown[c].bin) for c, v in values.items() if v is not None)
    assert [b for _, b in ordered] == sorted(b for _, b in ordered)  # a higher value is never lighter


def test_equal_values_give_one_class_not_invented_ranges():
    """All regions at 100 once read '100 – 101 … 104 – 100'."""
    _, legend, _, _ = tile_grid(dict.fromkeys(TILE_POSITIONS, 100.0), {}, lang="en")
    assert [text for _, text in legend] == ["100"]


def test_close_values_get_the_decimals_that_separate_them():
    """Shares of 0.08 %–0.31 % once read '0.1% – 0.1%'."""
    shares = [0.08, 0.09, 0.1, 0.12, 0.16, 0.19, 0.2, 0.21, 0.22, 0.23, 0.24, 0.31]
    values = dict(zip(TILE_POSITIONS, shares, strict=False))
    _, legend, _, _ = tile_grid(values, {}, suffix="%", lang="en", min_decimals=1)
    texts = [text for _, text in legend]
    assert texts[0].startswith("0.08%") and texts[-1].endswith("0.31%"), texts
    assert len(set(texts)) == len(texts)
    for text in texts:
        low, _, high = text.partition(" – ")
        assert low != high


def test_numbers_follow_the_language():
    values = dict(zip(TILE_POSITIONS, [1000.25, 1000.5, 15000.0, 7.0, 99999.75], strict=False))
    _, english, _, _ = tile_grid(values, {}, lang="en")
    _, korean, _, _ = tile_grid(values, {}, lang="ko")
    assert [t for _, t in english] == ["7.0", "1,000.2", "1,000.5", "15,000.0", "99,999.8"]
    assert [t for _, t in korean] == [t for _, t in english]  # Korean groups and points as English does
    _, german, _, _ = tile_grid(values, {}, lang="de")  # Babel's grouping, not Python's
    assert german[-1][1] == "99.999,8"


def test_short_names_fit_their_tiles_in_both_languages():
    for lang in ("ko", "en"):
        for code in TILE_POSITIONS:
            short = region_name(code, lang, short=True)
            assert "(" not in short and " " not in short, short
            size = label_font(short)
            assert size >= 11, (lang, short, size)  # readable, not shrunk to fit
            ems = sum(1.0 if ord(ch) > 0x1100 else 0.6 for ch in short)
            assert ems * size <= LABEL_ROOM + 0.5, (lang, short)
    assert label_font("North Gyeongsang (Gyeongbuk)") * 28 * 0.6 <= LABEL_ROOM + 0.5  # a long name shrinks


LABEL = re.compile(r'font-size="([\d.]+)"[^>]*class="tile-label">([^<]*)<')
LEGEND = re.compile(r'<ul class="legend".*?</ul>', re.S)


def test_overview_map_labels_and_legend_in_both_languages(client, engine, tmp_path):
    seed(engine, tmp_path / "feeds", {"36": 400, "50": 250, "26": 200, "11": 50, "43": 120, "47": 80})
    for lang, chungbuk in (("en", "Chungbuk"), ("ko", "충북")):
        html = client.get(f"/?lang={lang}").text
        labels = dict((name, float(size)) for size, name in LABEL.findall(html))
        assert len(labels) == 17 and chungbuk in labels
        assert all(size >= 11 for size in labels.values())
        assert "North Chungcheong" not in labels
        legend = LEGEND.search(html).group(0)
        entries = re.findall(r"</svg> ([^<]+)</li>", legend)
        assert len(entries) == len(set(entries)) >= 3
        assert all("%" in e for e in entries)
        lows = [float(e.split(" – ")[0].rstrip("%").replace(",", "")) for e in entries]
        assert lows == sorted(lows) and not math.isnan(lows[0])
