"""The annual evaluation report: one context, rendered as HTML, PDF (WeasyPrint) and XLSX.

`evaluation_context.build_context(result, framework, lang)` turns a §4.5 result (as returned by
`evaluation.compute.evaluate`) into everything a reader needs, already translated and with the
charts drawn; `render_html`, `render_pdf` (here) and `evaluation_xlsx.render_xlsx` only lay it
out, so the three files and the web page (which reuses `build_context` and the
`reports/_evaluation_body.html` partial) cannot disagree. `render` and `write_report` pick the
format by file suffix.

The templates are rendered by a small Jinja2 environment of this module rather than the web
one: it offers the same `_`, `number`, `percent` and `local`, and it finds the shared
`_tilemap.html`, but it does not import FastAPI, which would add a second to every CLI run.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from regionvisa.evaluation.compute import dumps
from regionvisa.evaluation.framework import Framework
from regionvisa.reports import fonts
from regionvisa.reports.evaluation_context import build_context
from regionvisa.reports.evaluation_xlsx import render_xlsx
from regionvisa.reports.files import write_atomic
from regionvisa.reports.locale import language, num, pct
from regionvisa.web import i18n

PACKAGE_DIR = Path(__file__).resolve().parents[1]
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
FORMATS = (".json", ".html", ".pdf", ".xlsx")


# --------------------------------------------------------------------------------------------
# HTML and PDF


def _number_filter(value, digits: int = 0) -> str:
    return num(value, digits)


def _percent_filter(value, digits: int = 1) -> str:
    """`value` is already in percent (5.17 → 5.2%), as the web filter of the same name."""
    return "–" if value is None else pct(value / 100, digits)


@lru_cache
def environment() -> Environment:
    """Report templates first, then the shared web templates (for `_tilemap.html`)."""
    dirs = [str(TEMPLATE_DIR), str(PACKAGE_DIR / "web" / "templates")]
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(dirs)]),
        autoescape=select_autoescape(["html", "svg", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
    env.filters["number"] = _number_filter
    env.filters["percent"] = _percent_filter
    env.filters["local"] = i18n.local
    return env


def report_css() -> str:
    return (TEMPLATE_DIR / "reports" / "report.css").read_text(encoding="utf-8")


def render_body(context: Mapping[str, Any]) -> str:
    """The report's sections without <html>/<head>, for embedding in a web page."""
    with language(context["lang"]):
        return environment().get_template("reports/_evaluation_body.html").render(context)


def render_html(context: Mapping[str, Any]) -> str:
    """A self-contained HTML document: inline CSS and SVG; the Korean font is referenced by file:// URL."""
    with language(context["lang"]):
        return (
            environment()
            .get_template("reports/evaluation.html")
            .render(
                {
                    **context,
                    "css": Markup(report_css()),
                    "font_face": Markup(fonts.font_face_css()),
                    "font_stack": Markup(fonts.CSS_STACK),
                }
            )
        )


def render_pdf(context: Mapping[str, Any]) -> bytes:
    """The same HTML laid out on A4 pages by WeasyPrint, with NanumGothic embedded, tagged (a
    structure tree of headings, tables and figures) so screen readers can read it."""
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    font_config = FontConfiguration()
    html = render_html(context)
    return HTML(string=html, base_url=str(TEMPLATE_DIR)).write_pdf(font_config=font_config, pdf_tags=True)


# --------------------------------------------------------------------------------------------
# Files


def render(result: Mapping[str, Any], framework: Framework, fmt: str, lang: str = "ko") -> bytes:
    """The report in one of FORMATS ('.json', '.html', '.pdf', '.xlsx') as bytes."""
    fmt = fmt.lower()
    if fmt == ".json":
        return (dumps(result) + "\n").encode("utf-8")
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r} (expected one of {', '.join(FORMATS)})")
    context = build_context(result, framework, lang)
    if fmt == ".html":
        return render_html(context).encode("utf-8")
    if fmt == ".pdf":
        return render_pdf(context)
    return render_xlsx(context)


def write_report(result: Mapping[str, Any], framework: Framework, path: str | Path, lang: str = "ko") -> Path:
    """Render the report in the format named by the file's suffix and write it atomically."""
    path = Path(path)
    return write_atomic(path, render(result, framework, path.suffix, lang))
