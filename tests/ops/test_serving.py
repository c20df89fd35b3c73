"""The shared listener of a multi-worker server gives accepted connections TCP_NODELAY."""

from __future__ import annotations

import asyncio
import socket

from regionvisa.ops.serving import listening_socket


def _nodelay_of_accepted(listener: socket.socket) -> int:
    """Serve one connection on `listener` the way uvicorn's workers do, and read TCP_NODELAY."""

    async def run() -> int:
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport):
                sock = transport.get_extra_info("socket")
                seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        port = listener.getsockname()[1]
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await asyncio.wait_for(seen, 5)
        finally:
            writer.close()
            server.close()
            await server.wait_closed()

    return asyncio.run(run())


def test_listener_names_tcp_so_connections_get_nodelay():
    listener = listening_socket("127.0.0.1", 0)
    assert listener.proto == socket.IPPROTO_TCP
    assert _nodelay_of_accepted(listener) != 0


def test_a_listener_without_the_protocol_would_leave_nagle_on():
    """The failure the listener avoids (uvicorn's own multi-worker socket): proves the probe can fail."""
    plain = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    plain.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    plain.bind(("127.0.0.1", 0))
    assert _nodelay_of_accepted(plain) == 0


def test_serve_with_two_workers_answers_on_a_kept_alive_connection(tmp_path):
    """`regionvisa serve --workers 2` runs uvicorn's supervisor over the shared listener."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    import httpx

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    env = {**os.environ, "REGIONVISA_DATABASE_URL": f"sqlite:///{tmp_path}/serve.sqlite3"}
    cli = Path(sys.executable).parent / "regionvisa"
    cmd = [str(cli), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            while True:
                assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
                try:
                    if client.get("/api/v1/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
            answers = [client.get("/api/v1/health") for _ in range(3)]  # one connection, kept alive
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert all(a.json()["status"] == "ok" for a in answers)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_server_app_freezes_what_exists_at_start(tmp_path):
    """A server process's start-up objects are out of the collector's reach, so that a full
    collection during a large upload walks only the upload's objects (a walk of the whole heap
    held the GIL for 150-250 ms and stalled the health check); the modules requests import
    lazily are loaded before the freeze."""
    import json
    import os
    import subprocess
    import sys

    script = (
        "import gc, json, sys\n"
        "before = gc.get_freeze_count()\n"
        "from regionvisa.ops.serving import APP, REQUEST_TIME_MODULES, server_app\n"
        "app = server_app()\n"
        "print(json.dumps({'before': before, 'after': gc.get_freeze_count(), 'app': APP,\n"
        "  'title': app.title, 'missing': [m for m in REQUEST_TIME_MODULES if m not in sys.modules]}))\n"
    )
    env = {**os.environ, "REGIONVISA_DATABASE_URL": f"sqlite:///{tmp_path}/app.sqlite3"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["before"] == 0
    assert seen["after"] > 100_000  # the app, its policy and its libraries
    assert seen["app"] == "regionvisa.ops.serving:server_app"  # what `serve` runs
    assert seen["title"] == "RegionVisa API"
    assert seen["missing"] == []
