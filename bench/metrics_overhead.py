"""What the request-metrics middleware costs: wrk against GET /healthz (a bare route) on the
hotline's app with and without web.metrics.RequestMetrics, alternating, in one run.

    .venv/bin/python bench/metrics_overhead.py                  # wrk -t2 -c32 -d10s, 3 rounds
    .venv/bin/python bench/metrics_overhead.py --seconds 5 --rounds 2

Each server runs under uvicorn in its own process on loopback (SQLite in a temp folder,
untouched by /healthz); wrk must be installed. Prints each run's requests/s and mean latency,
then the median per variant, and the server's CPU time per request (user + system, from
/proc: less swayed than the rate by whatever else runs). On a 2-core machine wrk and the server share the cores, so
runs vary by several percent: trust the medians of several rounds, and the middleware's own
cost measured in-process (printed last: the middleware around a no-op ASGI app).
"""
from __future__ import annotations

import argparse
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def serve(port: int, database_url: str, with_metrics: bool) -> None:
    """Runs in the child process."""
    sys.path.insert(0, str(ROOT))
    import uvicorn

    from web.app import create_app
    from web.config import Settings
    from web.metrics import RequestMetrics

    app = create_app(Settings(database_url=database_url))
    if not with_metrics:  # the stack is built at the first request: drop it before that
        app.user_middleware = [m for m in app.user_middleware if m.cls is not RequestMetrics]
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_once(with_metrics: bool, database_url: str, seconds: int, connections: int) -> tuple[float, str, float]:
    port = free_port()
    code = f"import sys; sys.path.insert(0, {str(ROOT / 'bench')!r}); import metrics_overhead as m; " \
           f"m.serve({port}, {database_url!r}, {with_metrics})"
    server = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.1)
        cpu_before = cpu_seconds(server.pid)
        out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", url], capture_output=True,
                             text=True, check=True, timeout=seconds + 30).stdout
        cpu = cpu_seconds(server.pid) - cpu_before
    finally:
        server.terminate()
        server.wait(timeout=10)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latency = re.search(r"Latency\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return rate, latency, cpu / requests * 1e6


def in_process_cost(calls: int = 200_000) -> float:
    """Microseconds the middleware adds to one request, around an app that does nothing."""
    import asyncio

    from starlette.routing import Route

    from web.metrics import Metrics, RequestMetrics

    route = Route("/healthz", lambda request: None)

    async def bare(scope, receive, send):  # type: ignore[no-untyped-def]
        scope["route"] = route
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def nothing(*_args):  # type: ignore[no-untyped-def]
        return {}

    async def timed(app) -> float:  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        for _ in range(calls):
            await app({"type": "http", "method": "GET", "path": "/healthz"}, nothing, nothing)
        return (time.perf_counter() - started) / calls * 1e6

    async def both() -> float:
        wrapped = RequestMetrics(bare, Metrics())
        wrapped_times = [await timed(wrapped) for _ in range(3)]
        bare_times = [await timed(bare) for _ in range(3)]
        return min(wrapped_times) - min(bare_times)
    return asyncio.run(both())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from dispatch import db

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        db.upgrade(url)
        rates: dict[bool, list[float]] = {True: [], False: []}
        cpus: dict[bool, list[float]] = {True: [], False: []}
        for round_ in range(args.rounds):
            for with_metrics in ((False, True) if round_ % 2 == 0 else (True, False)):  # no order bias
                rate, latency, cpu = run_once(with_metrics, url, args.seconds, args.connections)
                rates[with_metrics].append(rate)
                cpus[with_metrics].append(cpu)
                print(f"round {round_ + 1} {'with   ' if with_metrics else 'without'} metrics: "
                      f"{rate:8.0f} req/s  mean latency {latency}  server CPU {cpu:.0f} µs a request", flush=True)
    without, with_ = statistics.median(rates[False]), statistics.median(rates[True])
    print(f"median without {without:.0f} req/s, with {with_:.0f} req/s: "
          f"{100 * (with_ - without) / without:+.1f}% (c={args.connections}, wrk -t2, GET /healthz)")
    print(f"server CPU a request, median: without {statistics.median(cpus[False]):.0f} µs, "
          f"with {statistics.median(cpus[True]):.0f} µs")
    print(f"the middleware in-process: {in_process_cost():.1f} µs a request")


if __name__ == "__main__":
    main()
