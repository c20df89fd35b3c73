"""The residents list pages by key (`after`) as well as by number: the same people in the same
order, the region scope kept, and `next_after` ending the walk on the last page."""

from __future__ import annotations

from tests.conftest import SEED_PEOPLE

AT = "2025-06-01"


def walk(client, query: str) -> list[list[str]]:
    pages, after = [], None
    while True:
        url = f"/api/v1/records/residents?at={AT}&page_size=3{query}" + (f"&after={after}" if after else "")
        body = client.get(url).json()
        pages.append([i["person_id"] for i in body["items"]])
        after = body["next_after"]
        if after is None:
            return pages
        assert len(pages) < 10, pages


def test_keyset_pages_match_numbered_pages(client, login, role_users, records):
    login(client, role_users["ministry_officer"]["username"])
    by_number = [
        [i["person_id"] for i in client.get(f"/api/v1/records/residents?at={AT}&page_size=3&page={n}").json()["items"]]
        for n in (1, 2, 3)
    ]
    assert by_number == [["P10000001", "P10000002", "P10000003"], ["P10000004", "P10000005", "P10000006"],
                         ["P10000007", "P10000008"]]  # fmt: skip
    assert walk(client, "") == by_number
    assert [p for page in walk(client, "") for p in page] == sorted(pid for pid, _, _ in SEED_PEOPLE)
    first = client.get(f"/api/v1/records/residents?at={AT}&page_size=3&page=2&after=P10000005").json()
    assert [i["person_id"] for i in first["items"]] == ["P10000006", "P10000007", "P10000008"]  # page ignored


def test_keyset_paging_keeps_the_region_scope(client, login, role_users, records):
    login(client, role_users["regional_official"]["username"])
    pages = walk(client, "")
    assert pages == [["P10000001", "P10000002", "P10000003"], []]  # Busan's only, whatever the key
    after = client.get(f"/api/v1/records/residents?at={AT}&after=P10000003").json()
    assert after["items"] == [] and after["region"] == "26" and after["next_after"] is None
