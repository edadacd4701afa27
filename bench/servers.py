"""Start the benchmarked servers in child processes, so load generator and server do not
share one Python interpreter (and its GIL)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx


def serve(kind: str, port: int, database_url: str) -> None:
    """`script --serve KIND`, in the child process: a bare Starlette route (the baseline) or the
    hotline on `database_url`."""
    import uvicorn

    if kind == "bare":
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import HTMLResponse
        from starlette.routing import Route

        async def bare(request: Request) -> HTMLResponse:
            return HTMLResponse("<!doctype html><title>bare</title>" + "热" * 5000)

        app = Starlette(routes=[Route("/{path:path}", bare)])
    else:
        from web.app import create_app
        from web.config import Settings

        app = create_app(Settings(database_url=database_url, log_level="WARNING"))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(script: str, kind: str, args: list[str], *, port: int | None = None,
          env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """Run `script --serve KIND --port P ARGS...` and wait until it answers on /.
    `port`: a fixed one (a shared machine hands each user a range); else any free one."""
    port = port or free_port()
    env = os.environ | {"HOTLINE_TRAIN_ON_START": "no"} | (env or {})
    child = subprocess.Popen([sys.executable, script, "--serve", kind, "--port", str(port), *args], env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/", timeout=1)
            return child, url
        except httpx.HTTPError:
            time.sleep(0.1)
    child.kill()
    raise SystemExit(f"{kind} server did not start")


def stop(child: subprocess.Popen[bytes]) -> None:
    child.terminate()
    try:
        child.wait(10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait(5)


def cpu_ms(pids: list[int]) -> float:
    """User + system CPU of these processes so far, in ms (those gone are left out)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])   # utime, stime (fields 14 and 15 of stat)
    return total * 1000 / os.sysconf("SC_CLK_TCK")


def settle(child: subprocess.Popen[bytes], *, busy_share: float = 0.05, longest: float = 180.0) -> float:
    """Wait until the server's start-up work is done: the scheduler's first pass runs when a
    server starts (on ten million tickets chasing deadlines is 2.5 s of work, every 10 minutes
    after), and measured beside it a route would carry it. Done when the process used under
    `busy_share` of a core for a whole second (its watcher's stamps alone are less). Returns the
    seconds waited."""
    began = time.monotonic()
    while time.monotonic() - began < longest:
        before = cpu_ms([child.pid])
        time.sleep(1.0)
        if cpu_ms([child.pid]) - before < busy_share * 1000:
            break
    return time.monotonic() - began
