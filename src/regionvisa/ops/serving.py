"""Running the ASGI app under uvicorn, one process or several sharing one listening socket."""

from __future__ import annotations

import socket

APP = "regionvisa.app:create_app"


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


def serve(host: str, port: int, *, workers: int = 1, reload: bool = False, log_level: str = "info") -> None:
    import uvicorn

    if workers > 1 and not reload:
        from uvicorn.supervisors import Multiprocess

        config = uvicorn.Config(APP, factory=True, host=host, port=port, workers=workers, log_level=log_level)
        Multiprocess(config, sockets=[listening_socket(host, port)]).run()
        return
    uvicorn.run(APP, factory=True, host=host, port=port, workers=workers, reload=reload, log_level=log_level)
