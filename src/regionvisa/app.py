"""FastAPI application factory: mounts every domain's API router and web pages."""

from __future__ import annotations

import importlib
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from sqlalchemy.engine import Engine

from regionvisa import __version__
from regionvisa.accounts import security
from regionvisa.config import require_keys
from regionvisa.db import get_engine
from regionvisa.jobs import worker as job_worker
from regionvisa.ops import faults, headers
from regionvisa.web import apidocs, assets, deps, errors, i18n, uploads
from regionvisa.web.methods import AllowHeader

STATIC_DIR = Path(__file__).parent / "web" / "static"
# Each domain has router.py (API under /api/v1) and, except records, pages.py (web pages).
PAGE_DOMAINS = (
    "stats",
    "accounts",
    "audit",
    "programs",
    "applications",
    "quotas",
    "compliance",
    "evaluation",
    "selection",
    "jobs",
    "processing",
    "mobility",
    "outcomes",
)
API_DOMAINS = ("records", *PAGE_DOMAINS)


def create_app(*, engine: Engine | None = None) -> FastAPI:
    # A server or worker never runs on missing or development keys (config.require_keys names them).
    require_keys()
    app = FastAPI(
        title="RegionVisa API",
        version=__version__,
        description=(
            "Region-led visa programme (광역형 비자): programmes, applications, quotas, compliance, evaluation."
        ),
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # served offline by web.apidocs
        redoc_url=None,
    )
    app.state.engine = engine or get_engine()
    # Request bodies counted against their size limits: innermost, so that a refusal reaches the
    # error handlers as itself, and inside security, which names the sender first.
    uploads.install(app)

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

    app.add_middleware(AllowHeader)  # a 405 (OPTIONS too) names every method of its path in Allow
    # Outside the language middleware: the session cookie, then the user, nav and CSRF token.
    security.install(app)
    # Database faults answer 503 in the error shape, the session lookup's included (so: after security).
    faults.install(app)
    # Outermost: every response, errors included, carries the security headers.
    headers.install(app)

    api = APIRouter(prefix="/api/v1")
    for domain in API_DOMAINS:
        api.include_router(importlib.import_module(f"regionvisa.{domain}.router").router)

    @api.get("/health", tags=["system"], summary="Liveness and database check")  # public
    def health(request: Request) -> dict:
        with request.app.state.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return {"status": "ok", "version": __version__}

    app.include_router(api)
    for domain in PAGE_DOMAINS:
        app.include_router(importlib.import_module(f"regionvisa.{domain}.pages").router)
    apidocs.install(app)

    job_worker.install(app)  # SQLite: a job worker thread serves with the app (jobs.worker)
    app.mount("/static", assets.static_app(STATIC_DIR), name="static")

    # Every route declares its permission (accounts.policy, web.deps): refuse to start otherwise.
    missing = deps.undeclared_routes(app)
    if missing:
        raise RuntimeError("routes without a permission policy:\n" + "\n".join(missing))
    return app
