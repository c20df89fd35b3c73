"""Interactive API documentation that works without internet: Swagger UI and ReDoc.

FastAPI's own pages load their bundles from a CDN, which leaves /api/v1/docs blank on a closed
network. These pages load the bundles that the fastapi-offline package ships, served by the
application under /static (web.assets). Swagger UI needs one inline start-up script; its
Content-Security-Policy allows exactly that script by its hash, and nothing from elsewhere (so
the one outside link in the ReDoc bundle, its makers' logo, is blocked and never requested).
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

DOCS_PATH = "/api/v1/docs"
REDOC_PATH = "/api/v1/redoc"
FAVICON = "/static/favicon.png"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def _csp(html: str) -> str:
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
        "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
    )


def _with_korean_font(html: str) -> str:
    return html.replace("</head>", '<link rel="stylesheet" href="/static/apidocs.css">\n</head>', 1)


def install(app: FastAPI) -> None:
    """Add the two documentation pages (public, like the OpenAPI document they show)."""
    title = app.title
    openapi_url = app.openapi_url

    swagger = _with_korean_font(
        get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} · Swagger UI",
            swagger_js_url="/static/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui.css",
            swagger_favicon_url=FAVICON,
        ).body.decode()
    )
    redoc = _with_korean_font(
        get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} · ReDoc",
            redoc_js_url="/static/redoc.standalone.js",
            redoc_favicon_url=FAVICON,
            with_google_fonts=False,
        ).body.decode()
    )

    @app.get(DOCS_PATH, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(swagger, headers={"Content-Security-Policy": _csp(swagger)})

    @app.get(REDOC_PATH, include_in_schema=False)
    def redoc_ui() -> HTMLResponse:
        return HTMLResponse(redoc, headers={"Content-Security-Policy": _csp(redoc)})
