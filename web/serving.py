"""Running the app under uvicorn, stopping promptly: when shutdown starts (Ctrl-C, SIGTERM)
the live hub closes first, so the pages' server-sent event streams end on their own
instead of waiting out the graceful timeout and being cancelled with a traceback."""
from __future__ import annotations

import contextlib
import logging
import signal
import socket
import threading
from typing import Any

import uvicorn
from starlette.applications import Starlette

log = logging.getLogger(__name__)


class Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: Starlette) -> None:
        super().__init__(config)
        self._app = app

    async def shutdown(self, sockets: Any = None) -> None:
        hub = getattr(self._app.state, "hub", None)
        if hub is not None:
            hub.close()
        await super().shutdown(sockets)


def run(app: Starlette, **options: Any) -> None:
    """uvicorn.run(app, **options), with the Server above."""
    server = Server(uvicorn.Config(app, **options), app)
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled
        pass


# ---- several workers ----------------------------------------------------------------------
# uvicorn's own workers share one listening socket, and the first worker to wake accepts
# every connection waiting: wrk's 32 keep-alive connections all went to one of two workers,
# which gave 1.05x one worker's rate. Here each worker listens on a socket of its own on
# the same port (SO_REUSEPORT), and the kernel spreads the connections over them.

RESTART_PAUSE_SECONDS = 1.0


def port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port) with SO_REUSEPORT, not yet listening."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on sockets that say so, and without
    # it every answer waited out a delayed ACK (about 40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _worker(host: str, port: int, options: dict[str, Any]) -> None:
    """One worker process: the app from HOTLINE_* on a listening socket of its own."""
    from web.app import from_environment

    app = from_environment()
    server = Server(uvicorn.Config(app, **options), app)
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[port_socket(host, port)])


def run_workers(workers: int, *, host: str, port: int, **options: Any) -> None:
    """`workers` processes serving (host, port), each its own listener; a worker that dies
    is replaced; SIGTERM or Ctrl-C stops them all (each shuts down gracefully)."""
    import multiprocessing

    # Bound, never listening: the port is ours (a second `hotline serve` fails here) and
    # no connection is queued where nobody accepts.
    reserved = port_socket(host, port)
    context = multiprocessing.get_context("spawn")
    stopping = threading.Event()

    def start() -> Any:
        process = context.Process(target=_worker, args=(host, port, options), daemon=False)
        process.start()
        return process

    def stop(_signum: int, _frame: Any) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    processes = [start() for _ in range(workers)]
    try:
        while not stopping.wait(RESTART_PAUSE_SECONDS):
            for index, process in enumerate(processes):
                if not process.is_alive():
                    log.warning("worker %s exited with %s: starting another", process.pid, process.exitcode,
                                extra={"event": "worker_restarted", "exit_code": process.exitcode})
                    processes[index] = start()
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        reserved.close()
