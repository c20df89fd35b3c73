"""Running the ASGI app under uvicorn, one process or several sharing one listening socket.

Proxy headers (`X-Forwarded-For`, `X-Forwarded-Proto`) are trusted only from the proxies named in
REGIONVISA_FORWARDED_ALLOW_IPS (addresses or networks, comma-separated; default: none). uvicorn
itself would trust them from 127.0.0.1, which lets any local client choose the address the log-in
and matching rate limits count it under.
"""

from __future__ import annotations

import gc
import importlib
import socket

from fastapi import FastAPI
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

APP = "regionvisa.ops.serving:server_app"

# Imported by request paths on first use (function-local imports); a server loads them at start, so
# that no request pays for them and they are frozen with the rest (see `server_app`).
REQUEST_TIME_MODULES = (
    "polars",
    "pyarrow",
    "pyarrow.csv",
    "pyarrow.parquet",
    "regionvisa.tabular",
    "regionvisa.programs.filescreen",
    "regionvisa.records.service",
    "regionvisa.stats.service",
    "regionvisa.stats.regional",
    "regionvisa.evaluation.service",
    "regionvisa.compliance.service",
)


def server_app() -> FastAPI:
    """The app as a server process runs it: built, its request-time modules loaded, then every
    object that exists so far moved out of the garbage collector's reach (`gc.freeze`).

    Why: a full collection walks every tracked object of the process, and with the app, its policy
    and its libraries loaded that is over a million objects. A collection triggered by a large
    upload's work in a worker thread held the GIL for 150-250 ms, and the health check waited with
    it (`benchmarks/uploads.py`). The objects alive at start live as long as the process anyway.
    """
    from regionvisa.app import create_app

    app = create_app()
    for name in REQUEST_TIME_MODULES:
        importlib.import_module(name)
    warm_up()
    gc.collect()
    gc.freeze()
    return app


def warm_up() -> None:
    """What the first request of each page would otherwise pay for, done at start: every page and
    report template compiled (the evaluation report's took ~0.2 s to compile) and the catalogues
    of both languages read (~0.1 s). Nothing here reads the database."""
    from regionvisa.reports import evaluation_report
    from regionvisa.web import i18n, templating

    for lang in i18n.LANGUAGES:
        i18n.translations(lang)
    for env in (templating.environment(), evaluation_report.environment()):
        for name in env.list_templates(extensions=("html", "svg")):
            env.get_template(name)


class ServingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REGIONVISA_", env_file=".env", extra="ignore")

    forwarded_allow_ips: str = Field(
        default="",
        description="reverse proxies whose X-Forwarded-For/-Proto headers are trusted (IPs or networks, "
        "comma-separated; '*' trusts every peer); empty: none, the connection's peer is the client",
    )


def proxy_options(settings: ServingSettings | None = None) -> dict:
    """uvicorn's proxy settings: off unless proxies are configured, and then only for those."""
    trusted = [ip.strip() for ip in (settings or ServingSettings()).forwarded_allow_ips.split(",") if ip.strip()]
    if not trusted:
        return {"proxy_headers": False, "forwarded_allow_ips": []}
    return {"proxy_headers": True, "forwarded_allow_ips": trusted}


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP listener created with `IPPROTO_TCP`, to be shared by the worker processes.

    uvicorn's own multi-worker listener leaves `proto` at 0; accepted connections inherit it, asyncio
    then skips TCP_NODELAY, and every keep-alive request after the first waits ~40 ms for a delayed
    ACK (uvicorn issue #3149). Creating the listener with the protocol named avoids that.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


WORKER_HEALTHCHECK_SECONDS = 30


def serve(host: str, port: int, *, workers: int = 1, reload: bool = False, log_level: str = "info") -> None:
    import uvicorn

    proxies = proxy_options()
    if workers > 1 and not reload:
        from uvicorn.supervisors import Multiprocess

        # The supervisor replaces a worker that misses its health ping; at uvicorn's 5 s a worker busy
        # with a long request on a loaded machine was replaced mid-request (a reset connection).
        config = uvicorn.Config(
            APP,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
            **proxies,
        )
        Multiprocess(config, sockets=[listening_socket(host, port)]).run()
        return
    uvicorn.run(APP, factory=True, host=host, port=port, workers=workers, reload=reload, log_level=log_level, **proxies)
