"""Role-dependent navigation, built in one place from the permission policy.

Later domains add their pages with `register(N_("Label"), "/path", action="domain.read")`; an
entry shows only to users who hold its action (for any region), and `href` may be a function
of the user (a regional official's link goes straight to their own region).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from regionvisa.accounts.policy import Actor, grant
from regionvisa.core.text import N_


@dataclass(frozen=True)
class NavEntry:
    label: str  # an English message id, translated by the template
    href: str | Callable[[Actor | None], str]
    action: str | None = None  # None: everyone, signed in or not
    order: int = 100


NAV: list[NavEntry] = []


def register(label: str, href: str | Callable[[Actor | None], str], *, action: str | None = None, order: int = 100):
    NAV[:] = [e for e in NAV if e.label != label]
    NAV.append(NavEntry(label, href, action, order))
    NAV.sort(key=lambda e: e.order)


def _region_href(user: Actor | None) -> str:
    return f"/regions/{user.region}" if user and user.region else "/regions"


register(N_("Overview"), "/", order=0)
register(N_("Region statistics"), _region_href, action="stats.read", order=10)
register(N_("Audit log"), "/audit", action="audit.read", order=80)
register(N_("Users"), "/admin/users", action="users.manage", order=90)
register(N_("My account"), "/account", action="account.self", order=95)


def build_nav(user: Actor | None, path: str) -> list[dict]:
    items = []
    for entry in NAV:
        if entry.action is not None and grant(user, entry.action) is None:
            continue
        href = entry.href(user) if callable(entry.href) else entry.href
        base = href.split("?")[0]
        current = path == base if base == "/" else (path == base or path.startswith(base.rstrip("/") + "/"))
        items.append({"label": entry.label, "href": href, "current": current})
    return items
