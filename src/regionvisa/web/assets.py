"""Static assets under /static: the project's CSS and scripts, the Korean web font, the API docs bundle.

Nothing is fetched from outside: the NanumGothic font comes from the koreanize-matplotlib
package (the same files the PDF reports embed, see reports.fonts), and the Swagger UI and ReDoc
bundles from the fastapi-offline package. Browsers refuse the TrueType files as shipped (their
empty VTT source tables, TSI*, fail Chrome's font sanitiser), so each is rewritten once per
process without them as WOFF (zlib-compressed, 2.4 MB instead of 4.7 MB), off the event loop,
kept in memory and cached by the browser for a year.
"""

from __future__ import annotations

import io
import threading

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from regionvisa.reports import fonts

# Web font file name -> bold? (the two weights the pages use)
WEB_FONTS = {"NanumGothic.woff": False, "NanumGothicBold.woff": True}
FONT_CACHE_CONTROL = "public, max-age=31536000, immutable"
DOCS_PACKAGE = ("fastapi_offline", "static")

_web_fonts: dict[str, bytes] = {}
_lock = threading.Lock()


def web_font(name: str) -> bytes:
    """The WOFF file for `name`, built from the package's TrueType file on first use."""
    from fontTools.ttLib import TTFont

    with _lock:
        if name not in _web_fonts:
            face = TTFont(str(fonts.font_path(bold=WEB_FONTS[name])))
            for table in [tag for tag in face.keys() if tag.startswith("TSI")]:  # noqa: SIM118 (TTFont is no dict)
                del face[table]
            face.flavor = "woff"
            out = io.BytesIO()
            face.save(out)
            _web_fonts[name] = out.getvalue()
        return _web_fonts[name]


async def font(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in WEB_FONTS:
        return Response("not found", status_code=404, media_type="text/plain")
    body = await run_in_threadpool(web_font, name)
    return Response(body, media_type="font/woff", headers={"Cache-Control": FONT_CACHE_CONTROL})


def static_app(directory) -> Starlette:
    """The ASGI app mounted at /static."""
    files = StaticFiles(directory=directory, packages=[DOCS_PACKAGE])
    return Starlette(routes=[Route("/fonts/{name}", font), Mount("/", app=files)])
