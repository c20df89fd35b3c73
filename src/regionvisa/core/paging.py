"""Paging, the one way every list page, list endpoint and paged service query cuts a list:
`offset_of` for a query (`OFFSET … LIMIT size`), `Page` for what the answer says about it."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from urllib.parse import urlencode


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
