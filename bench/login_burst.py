"""Unrelated reads while a burst of failed staff logins runs, beside the same reads without
the burst in the same run: does the argon2 check hold up everyone else?

    .venv/bin/python bench/login_burst.py                          # this checkout, SQLite
    .venv/bin/python bench/login_burst.py --before-src /work/main  # also an older checkout

The server runs in its own process under uvicorn, on a SQLite file with the demo city and
staff. The reads are `GET /api/v1/tickets/N?code=C` (a right code: one short database read
each) by `wrk` (4 connections); the burst is `--concurrency` clients posting wrong passwords
for as long as wrk runs. The login limits are switched off in the server so that every
attempt runs argon2 (the worst case; with them on, most attempts are refused before argon2).
"""
from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

import servers  # bench/servers.py

ROOT = Path(__file__).resolve().parent.parent


def serve(kind: str, port: int, database_url: str, src: str) -> None:
    """Runs in the child process: the app of the checkout at `src`."""
    sys.path.insert(0, src)
    import uvicorn

    from dispatch import db
    from dispatch.demo import seed
    from web.app import create_app
    from web.config import Settings
    from web.services import Services

    try:
        from dispatch.limits import Limits
        off = {"login_failures_per_user_address": 0, "login_failures_per_address": 0, "api_intake_per_minute": 0}
        if "login_failures_per_user" in Limits.build.__code__.co_varnames:  # the cap per account, since Dec 2026
            off["login_failures_per_user"] = 0
        settings = Settings(database_url=database_url, log_level="WARNING", limits=Limits.build(**off))
    except ImportError:  # a checkout from before the database-counted limits
        from web import auth

        auth.RateLimiter.blocked = lambda self, key: False  # type: ignore[method-assign]
        settings = Settings(database_url=database_url, log_level="WARNING")
    db.upgrade(database_url)
    services = Services.build(settings)
    services.run_sync(lambda s: seed(s, services.city, services.rules))
    uvicorn.run(create_app(settings, services), host="127.0.0.1", port=port, log_level="warning",
                access_log=False)


def wrk(url: str, seconds: int) -> dict[str, float]:
    out = subprocess.run(["wrk", "-t1", "-c4", f"-d{seconds}s", "--latency", url], capture_output=True,
                         text=True, check=True).stdout

    def ms(label: str) -> float:
        value, unit = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    timeouts = re.search(r"timeout (\d+)", out)
    return {"p50": ms("50%"), "p99": ms("99%"), "rps": rate, "timeouts": int(timeouts.group(1)) if timeouts else 0}


async def burst(url: str, concurrency: int, stop: threading.Event, done: list[int]) -> None:
    async def one_client() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            page = await client.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
            while not stop.is_set():
                answer = await client.post("/login", data={"csrf_token": token, "username": "operator",
                                                           "password": "not-the-password"})
                assert answer.status_code == 401, answer.status_code
                done[0] += 1

    await asyncio.gather(*(one_client() for _ in range(concurrency)))


def measure(src: str, seconds: int, concurrency: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        database_url = f"sqlite:///{tmp}/bench.db"
        child, url = servers.start(__file__, "hotline", ["--database-url", database_url, "--src", src])
        try:
            created = httpx.post(url + "/api/v1/tickets", json={"body": "小区门口路灯不亮已经一周"}).json()
            read = f"{url}/api/v1/tickets/{created['number']}?code={created['query_code']}"
            quiet = wrk(read, seconds)
            stop, done = threading.Event(), [0]
            runner = threading.Thread(target=lambda: asyncio.run(burst(url, concurrency, stop, done)))
            runner.start()
            time.sleep(1)  # let the burst get going
            started, before = time.monotonic(), done[0]
            loaded = wrk(read, seconds)
            logins = (done[0] - before) / (time.monotonic() - started)
            stop.set()
            runner.join()
        finally:
            servers.stop(child)
    return {"quiet": quiet, "burst": loaded, "failed_logins_per_s": logins}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve")
    parser.add_argument("--port", type=int)
    parser.add_argument("--database-url")
    parser.add_argument("--src", default=str(ROOT))
    parser.add_argument("--before-src", help="another checkout to measure the same way (e.g. /work/main)")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.database_url, args.src)
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed (apt-get install wrk)")
    runs = [("before", args.before_src)] if args.before_src else []
    runs.append(("this checkout", str(ROOT)))
    print(f"reads: GET /api/v1/tickets/N?code=C by wrk, 4 connections, {args.seconds} s; "
          f"burst: {args.concurrency} clients posting wrong passwords")
    for name, src in runs:
        r = measure(src, args.seconds, args.concurrency)
        quiet, loaded = r["quiet"], r["burst"]
        if loaded["timeouts"] and not loaded["p50"]:  # type: ignore[index]
            loaded["p50"] = loaded["p99"] = float("nan")  # type: ignore[index]  # no read came back in time
        print(f"{name:>14}: reads alone p50 {quiet['p50']:.1f} ms p99 {quiet['p99']:.1f} ms {quiet['rps']:.0f}/s | "  # type: ignore[index]
              f"during the burst p50 {loaded['p50']:.1f} ms p99 {loaded['p99']:.1f} ms {loaded['rps']:.0f}/s "  # type: ignore[index]
              f"({loaded['timeouts']} reads over wrk's 2 s timeout, not in the percentiles) | "  # type: ignore[index]
              f"{r['failed_logins_per_s']:.1f} failed logins/s")


if __name__ == "__main__":
    main()
