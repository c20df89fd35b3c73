"""The national overview: a server-rendered SVG tile map of the 17 regions, coloured by the
foreign-resident share, beside the region table, without JavaScript."""

from __future__ import annotations

import itertools
import re

from tests.actors import SYSTEM

TILE = re.compile(
    r'<g class="tile" data-region="(\d\d)">\s*<title>([^<]*)</title>\s*'
    r'<rect x="(\d+)" y="(\d+)"[^>]*fill="(#[0-9a-f]{6})"'
)
ROW = re.compile(
    r'<tr data-region="(\d\d)">\s*<th scope="row">([^<]*)</th>\s*<td[^>]*>[^<]*</td>\s*<td[^>]*>([^<]*)</td>'
)


def luminance(colour: str) -> float:
    def channel(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def seed(engine, folder, counts: dict[str, int]) -> None:
    """Import `counts[region]` residents per region through the real feed import."""
    from regionvisa.records.service import import_file
    from regionvisa.stats import regional
    from regionvisa.stats.service import clear_overview_cache

    folder.mkdir(parents=True, exist_ok=True)
    people = ["person_id,name,nationality,birth_date,sex,passport_no"]
    statuses = ["person_id,visa,subtype,program_id,region,valid_from,valid_to,granted_on"]
    addresses = ["person_id,area_code,effective_date,reported_date"]
    n = 0
    for region, count in counts.items():
        for _ in range(count):
            n += 1
            pid = f"M{n:08d}"
            people.append(f"{pid},Map Person {n},VNM,1990-01-01,F,M{n:07d}")
            statuses.append(f"{pid},E-9,,,{region},2025-01-01,2027-12-31,2024-12-20")
            addresses.append(f"{pid},{region}110,2025-01-02,2025-01-05")
    for kind, lines in (("people", people), ("statuses", statuses), ("addresses", addresses)):
        path = folder / f"{kind}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        summary, _ = import_file(engine=engine, kind=kind, path=path, actor=SYSTEM)
        assert summary.outcome == "committed", summary
    clear_overview_cache()
    regional.clear_cache()


def test_tile_map_is_coloured_by_share_beside_the_table(client, engine, tmp_path):
    seed(engine, tmp_path / "feeds", {"36": 400, "50": 250, "26": 200, "11": 50})
    page = client.get("/?lang=en")
    assert page.status_code == 200
    html = page.text
    assert "<script" not in html  # drawn on the server
    tiles = {code: (title, int(x), int(y), fill) for code, title, x, y, fill in TILE.findall(html)}
    assert len(tiles) == 17
    assert len({(x, y) for _, x, y, _ in tiles.values()}) == 17  # one square each, no overlaps
    assert len({x for _, x, _, _ in tiles.values()}) == 4 and len({y for _, _, y, _ in tiles.values()}) == 6
    names = {code: name for code, name, _ in ROW.findall(html)}
    assert len(names) == 17
    for code, name in names.items():
        assert tiles[code][0].startswith(name.split(" (")[0]), (code, tiles[code][0], name)
    rows = client.get("/api/v1/stats/residents?by=region").json()["rows"]
    shares = {row["region"]: row["residents"] / row["population_2024"] for row in rows}
    assert set(shares) == set(tiles)
    assert max(shares, key=shares.get) == "36" and shares["30"] == 0  # Sejong is small
    assert len({fill for *_, fill in tiles.values()}) >= 3
    # a higher share is never lighter
    ordered = sorted(shares, key=lambda code: shares[code])
    for lower, higher in itertools.pairwise(ordered):
        assert luminance(tiles[higher][3]) <= luminance(tiles[lower][3]), (lower, higher)
    assert luminance(tiles[max(shares, key=shares.get)][3]) < luminance(tiles["30"][3])
    # north at the top: Seoul above Busan, Busan in the east
    assert tiles["11"][2] < tiles["26"][2] and tiles["26"][1] > tiles["11"][1]
    overview = html[html.index('<div class="overview">') :]
    assert overview.index('role="img"') < overview.index('id="region-table"')
    assert "legend" in overview
