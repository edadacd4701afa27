"""Start the benchmarked servers in child processes, so load generator and server do not
share one Python interpreter (and its GIL)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx


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
