"""Paging, the one way every list page, list endpoint and paged service query cuts a list:
`offset_of` for a query (`OFFSET … LIMIT size`), `Page` for what the answer says about it."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from urllib.parse import urlencode

from regionvisa.core.errors import DomainError


class PageOutOfRange(DomainError):
    """A page number the list does not have (page 9999 of 3, or 0). A bookmarked or edited address
    asks for a page that does not exist, so it is answered as one that does not exist (404, as
    GOV.UK answers any address it does not have), saying which pages there are, instead of an
    empty table that reads as "no results"."""

    def __init__(self, *, number: int, pages: int) -> None:
        super().__init__(
            status=404,
            code="page_out_of_range",
            ko=f"{number}쪽은 없습니다. 이 목록은 1쪽부터 {pages}쪽까지 있습니다.",
            en=f"There is no page {number}: this list has pages 1 to {pages}.",
            field="page",
        )
        self.number, self.pages = number, pages


def offset_of(page: int, size: int) -> int:
    """Where page `page` (from 1) of `size` rows starts."""
    return (page - 1) * size


@dataclass
class Page:
    number: int
    size: int
    total: int
    base_path: str = ""
    query: dict | None = None

    def __post_init__(self) -> None:
        """A page of a web list (it has a `base_path`) must exist; API lists keep answering an
        empty `items` past the end, as their paged shape documents."""
        if self.base_path and not 1 <= self.number <= self.pages:
            raise PageOutOfRange(number=self.number, pages=self.pages)

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.size))

    @property
    def offset(self) -> int:
        return offset_of(self.number, self.size)

    def window(self, items):
        """This page's part of a list (or frame) already in memory."""
        return items[self.offset : self.offset + self.size]

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    def url(self, number: int) -> str:
        query = {**(self.query or {}), "page": number}
        return f"{self.base_path}?{urlencode(query)}"

    def meta(self) -> dict:
        return {"page": self.number, "page_size": self.size, "total": self.total, "pages": self.pages}


def page_of(items: list, page: int, page_size: int) -> dict:
    """A short list already in memory (runs, plans), in the same paged shape as every list endpoint."""
    pager = Page(number=page, size=page_size, total=len(items))
    return {"items": pager.window(items), **pager.meta()}
