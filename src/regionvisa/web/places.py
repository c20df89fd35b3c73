"""Region and country names for pages: a code is shown with its name in the reader's language.

`region_label("26")` is "부산광역시(26)" on a Korean page and "Busan (26)" on an English one; a
5-digit district code gets its region's name ("부산광역시(26110)"). Nationality codes are ISO
3166-1 alpha-3; their names come from the CLDR data Babel ships (its territory aliases map each
alpha-3 code to the alpha-2 code its territory names are keyed by). An unknown code is shown as it is.
"""

from __future__ import annotations

from functools import lru_cache

from babel import Locale
from babel.core import get_global

from regionvisa.reports.locale import region_name
from regionvisa.web.i18n import current_language


def _lang(lang: str | None) -> str:
    return "ko" if (lang or current_language.get()) == "ko" else "en"


def region_label(code: str | None, lang: str | None = None) -> str:
    """The region's name with its code, for a 2-digit region or a 5-digit district code."""
    code = (code or "").strip()
    if not code:
        return "–"
    lang = _lang(lang)
    name = region_name(code[:2], lang)
    if name == code[:2]:  # no such region: the code alone
        return code
    return f"{name}({code})" if lang == "ko" else f"{name} ({code})"


def area_label(codes: str | list[str] | None, lang: str | None = None) -> str:
    """Several area codes ("11,26" or a list), each with its name."""
    items = codes.split(",") if isinstance(codes, str) else list(codes or [])
    return ", ".join(region_label(c, lang) for c in items if c.strip()) or "–"


@lru_cache
def _alpha2() -> dict[str, str]:
    aliases = get_global("territory_aliases")
    return {code: targets[0] for code, targets in aliases.items() if len(code) == 3 and code.isalpha() and targets}


@lru_cache
def _territories(lang: str) -> dict[str, str]:
    return dict(Locale.parse(lang).territories)


def country_name(code: str | None, lang: str | None = None) -> str:
    """The country's name for an ISO alpha-3 nationality code (the code when unknown)."""
    code = (code or "").strip().upper()
    if not code:
        return "–"
    two = _alpha2().get(code)
    return _territories(_lang(lang)).get(two, code) if two else code


def country_label(code: str | None, lang: str | None = None) -> str:
    """The country's name with its code: "베트남(VNM)", "Vietnam (VNM)"."""
    name = country_name(code, lang)
    if name in (code, "–"):
        return name
    return f"{name}({code})" if _lang(lang) == "ko" else f"{name} ({code})"
