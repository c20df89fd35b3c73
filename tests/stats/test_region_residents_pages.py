"""The region page's residents list pages by key: following its "Next" links (plain links, no
JavaScript) gives every resident of the region once, in person_id order, with the same rows as
the numbered pages, whatever the page size; the first page links no "First page"."""

from __future__ import annotations

import re

import pytest
from tests.actors import SYSTEM

from regionvisa.records.service import import_file
from regionvisa.stats import pages, regional
from regionvisa.stats.service import clear_overview_cache

AT = "2025-06-01"
BUSAN = [f"P2{n:07d}" for n in range(1, 24)]  # 23 residents of Busan
ROW = re.compile(r'<tr><th scope="row">(P\d+)</th>')
NEXT = re.compile(r'<a href="([^"]+)" rel="next">')


@pytest.fixture
def busan(engine, tmp_path):
    people = ["person_id,name,nationality,birth_date,sex,passport_no"]
    statuses = ["person_id,visa,subtype,program_id,region,valid_from,valid_to,granted_on"]
    addresses = ["person_id,area_code,effective_date,reported_date"]
    for i, pid in enumerate(reversed(BUSAN)):  # imported out of order: the list sorts by person_id
        people.append(f"{pid},Person {i},VNM,1990-01-01,F,Y{2000000 + i}")
        statuses.append(f"{pid},E-9,,,26,2025-01-01,2027-12-31,2024-12-20")
        addresses.append(f"{pid},26110,2025-01-02,2025-01-05")
    for kind, lines in (("people", people), ("statuses", statuses), ("addresses", addresses)):
        path = tmp_path / f"{kind}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        summary, _ = import_file(engine=engine, kind=kind, path=path, actor=SYSTEM)
        assert summary.outcome == "committed", summary
    clear_overview_cache()
    regional.clear_cache()
    return BUSAN


def walk(client, first: str) -> list[list[str]]:
    """The person ids of each page, following "Next" from `first` until there is none."""
    out, url = [], first
    while url is not None:
        page = client.get(url.replace("&amp;", "&"))
        assert page.status_code == 200, page.text[:500]
        out.append(ROW.findall(page.text))
        found = NEXT.search(page.text)
        url = found.group(1) if found else None
        assert len(out) <= len(BUSAN) + 1
    return out


def test_next_links_walk_the_region_once_in_order(client, login, role_users, busan, monkeypatch):
    login(client, role_users["ministry_officer"]["username"])
    for size in (1, 2, 3, 5, 22, 23, 24, 50):
        monkeypatch.setattr(pages, "RESIDENTS_PAGE", size)
        by_key = walk(client, f"/regions/26?at={AT}")
        assert [p for page in by_key for p in page] == busan, size  # no gap, no repeat, in order
        assert all(len(page) == size for page in by_key[:-1]) and 1 <= len(by_key[-1]) <= size
        by_number = [ROW.findall(client.get(f"/regions/26?at={AT}&page={n}").text) for n in range(1, len(by_key) + 1)]
        assert by_key == by_number, size


def test_keyset_page_numbers_and_first_link(client, login, role_users, busan, monkeypatch):
    login(client, role_users["ministry_officer"]["username"])
    monkeypatch.setattr(pages, "RESIDENTS_PAGE", 10)
    first = client.get(f"/regions/26?at={AT}&lang=en").text
    assert 'rel="first"' not in first and "Page 1 of 3" in first
    second_url = NEXT.search(first).group(1).replace("&amp;", "&")
    assert f"after={busan[9]}" in second_url and "page=2" in second_url
    second = client.get(second_url + "&lang=en").text
    assert ROW.findall(second) == busan[10:20] and "Page 2 of 3" in second and 'rel="first"' in second
    # a key alone (an edited address) gives the rows after it; the number is only a label
    keyed = client.get(f"/regions/26?at={AT}&after={busan[4]}").text
    assert ROW.findall(keyed) == busan[5:15]
    past = client.get(f"/regions/26?at={AT}&after={busan[-1]}&page=9").text
    assert ROW.findall(past) == [] and 'rel="next"' not in past
