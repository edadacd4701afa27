"""A real uvicorn server on a free loopback port, in a thread, for the tests that need one
(the browser, server-sent events)."""
from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from typing import Any, Callable

import uvicorn

from web.serving import Server


def _bind(sock: socket.socket) -> None:
    """A free loopback port: any, or the first free one of TEST_SERVER_PORTS (`23000-23999`) on a
    machine where each test run keeps to its own ports."""
    wanted = os.environ.get("TEST_SERVER_PORTS", "")
    if not wanted:
        sock.bind(("127.0.0.1", 0))
        return
    low, _, high = wanted.partition("-")
    for port in range(int(low), int(high or low) + 1):
        try:
            sock.bind(("127.0.0.1", port))
            return
        except OSError:
            continue
    raise RuntimeError(f"no free port in TEST_SERVER_PORTS={wanted}")


class ServerThread:
    def __init__(self, app: Any, **config: Any) -> None:
        """`config`: more uvicorn.Config options (proxy_headers=False, as `hotline serve` runs)."""
        self.app = app
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        _bind(self._socket)
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        # log_config None: uvicorn's records go to the test's log capture, not a stream it bound earlier.
        self.server = Server(uvicorn.Config(app, **{"log_level": "warning", "lifespan": "on", "log_config": None,
                                                    "timeout_graceful_shutdown": 1, **config}), app)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="uvicorn-test", daemon=True)
        self.failure: BaseException | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.server.serve(sockets=[self._socket]))
        except BaseException as exc:   # said by __enter__: a thread's error is otherwise lost
            self.failure = exc
            raise

    def __enter__(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + 60   # a loaded machine: another app over the same database may start slowly
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the test server did not start: {self.failure!r}") from self.failure
            time.sleep(0.02)
        return self

    def call(self, function: Callable[..., Any], *args: Any) -> None:
        """Run a function on the server's event loop (the live hub is not thread-safe)."""
        self.loop.call_soon_threadsafe(function, *args)

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
