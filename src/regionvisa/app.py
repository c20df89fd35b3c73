"""FastAPI application factory: mounts every domain's API router and web pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine

from regionvisa import __version__
from regionvisa.accounts import policy, security
from regionvisa.db import get_engine
from regionvisa.web import errors, i18n

STATIC_DIR = Path(__file__).parent / "web" / "static"


def create_app(engine: Engine | None = None) -> FastAPI:
    app = FastAPI(
        title="RegionVisa API",
        version=__version__,
        description=(
            "Region-led visa programme (광역형 비자): programmes, applications, quotas, compliance, evaluation."
        ),
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.engine = engine or get_engine()

    @app.middleware("http")
    async def language(request: Request, call_next):
        requested = request.query_params.get("lang")
        lang = i18n.pick_language(requested or request.cookies.get("lang"))
        token = i18n.current_language.set(lang)
        try:
            response = await call_next(request)
        finally:
            i18n.current_language.reset(token)
        if requested in i18n.LANGUAGES:
            response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
        response.headers.setdefault("Content-Language", lang)
        return response

    errors.install(app)
    # Outside the language middleware: the session cookie, then the user, nav and CSRF token.
    security.install(app)

    from regionvisa.accounts.pages import router as accounts_pages
    from regionvisa.accounts.router import router as accounts_api
    from regionvisa.audit.pages import router as audit_pages
    from regionvisa.audit.router import router as audit_api
    from regionvisa.records.router import router as records_api
    from regionvisa.stats.pages import router as stats_pages
    from regionvisa.stats.router import router as stats_api

    api = APIRouter(prefix="/api/v1")
    api.include_router(stats_api)
    api.include_router(records_api)
    api.include_router(accounts_api)
    api.include_router(audit_api)

    @api.get("/health", tags=["system"], summary="Liveness and database check")  # public
    def health(request: Request) -> dict:
        with request.app.state.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return {"status": "ok", "version": __version__}

    app.include_router(api)
    app.include_router(stats_pages)
    app.include_router(accounts_pages)
    app.include_router(audit_pages)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    # Every route declares its permission (accounts.policy): refuse to start otherwise.
    missing = policy.undeclared_routes(app)
    if missing:
        raise RuntimeError("routes without a permission policy:\n" + "\n".join(missing))
    return app
