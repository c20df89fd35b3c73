"""One Jinja2 environment for every domain's templates, with gettext and shared filters."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from babel import Locale
from babel.numbers import NumberPattern, parse_pattern
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from regionvisa.core import clock
from regionvisa.core.text import SYSTEM_REASONS
from regionvisa.programs.guardrails import parameter_label
from regionvisa.synth.service import holds_synthetic_data
from regionvisa.web import i18n, places
from regionvisa.web.methods import is_get_page, nearest_get_page

PACKAGE_DIR = Path(__file__).resolve().parents[1]


@lru_cache(maxsize=64)
def _pattern(language: str, pattern: str) -> tuple[Locale, NumberPattern]:
    """Babel parses the locale and the pattern on every call; a page shows hundreds of numbers."""
    return Locale.parse(language), parse_pattern(pattern)


def _format(value, pattern: str) -> str:
    locale, parsed = _pattern(i18n.current_language.get(), pattern)
    return parsed.apply(value, locale)


def _reason(text: str | None) -> str:
    if text and text in SYSTEM_REASONS:
        return i18n.gettext(text)
    return text or ""


def _number(value, digits: int = 0) -> str:
    if value is None:
        return "–"
    return _format(value, "#,##0" + ("." + "0" * digits if digits else ""))


def _percent(value, digits: int = 1) -> str:
    """`value` is already in percent (5.17 → 5.2%)."""
    if value is None:
        return "–"
    return _format(value / 100, "#,##0." + "0" * digits + "%")


def _kst(value, seconds: bool = False) -> str:
    """An instant as pages show it: Korea Standard Time, labelled in the page's language."""
    if value is None or value == "":
        return "–"
    return i18n.gettext("%(time)s KST", time=clock.kst_text(value, seconds=seconds))


def _parameter(name: str) -> str:
    """A programme design's parameter (or a national one, `national.x`) by its label in the page's language."""
    return parameter_label(name, i18n.current_language.get())


@lru_cache
def environment() -> Environment:
    template_dirs = sorted(str(p) for p in PACKAGE_DIR.glob("*/templates") if p.is_dir())
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(template_dirs)]),
        autoescape=select_autoescape(["html", "svg", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(
        i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext, npgettext=i18n.npgettext
    )
    env.filters["number"] = _number
    env.filters["percent"] = _percent
    env.filters["local"] = i18n.local
    env.filters["kst"] = _kst  # every timestamp a page shows
    env.filters["region"] = places.region_label  # a region or district code with its name
    env.filters["area"] = places.area_label
    env.filters["country"] = places.country_label  # a nationality code with its country's name
    env.filters["reason"] = _reason  # a stored reason or note: the system's own in the reader's language
    env.filters["parameter"] = _parameter  # a programme parameter by its label, not its key
    return env


def _synthetic_data(request: Request) -> bool:

    engine = getattr(request.app.state, "engine", None)
    return engine is not None and holds_synthetic_data(engine=engine)


def _with_lang(path: str, query: str, lang: str) -> str:
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "lang"]
    return f"{path}?{urlencode([*pairs, ('lang', lang)])}"


def language_switch_url(request: Request, lang: str, canonical: str | None = None) -> str:
    """The same page in the other language: its path, query (filters, page number) and so its
    state. A page answering a form post is not a GET address (switching there used to land on
    405), so it links to the page the form was on (the Referer, same site only), else to the
    page's own GET address (`canonical_url` in its context), else to the nearest address at or
    above the path that GET serves (`web.methods.nearest_get_page`), else to the home page."""
    if request.method in ("GET", "HEAD"):
        return _with_lang(request.url.path, request.url.query, lang)
    referer = urlsplit(request.headers.get("referer", ""))
    same_site = referer.path.startswith("/") and (not referer.netloc or referer.netloc == request.url.netloc)
    # A form posted again from its own refused page names that POST address as its Referer.
    if same_site and is_get_page(request.app, referer.path):
        return _with_lang(referer.path, referer.query, lang)
    if canonical:
        path, _, query = canonical.partition("?")
        return _with_lang(path, query, lang)
    return _with_lang(nearest_get_page(request.app, request.url.path), "", lang)


def render(request: Request, template: str, context: dict | None = None, *, status_code: int = 200) -> HTMLResponse:
    lang = i18n.current_language.get()
    ctx = {
        "request": request,
        "lang": lang,
        "other_lang": "en" if lang == "ko" else "ko",
        "user": getattr(request.state, "user", None),
        "nav": getattr(request.state, "nav", []),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "synthetic_data": _synthetic_data(request),
        **(context or {}),
    }
    ctx["lang_switch_url"] = language_switch_url(request, ctx["other_lang"], ctx.get("canonical_url"))
    html = environment().get_template(template).render(ctx)
    return HTMLResponse(html, status_code=status_code)
