"""/api/v1/stats and the supervisor's dashboard on a city's database (one bench/city.py
loaded, or the demo's), alone and under wrk -c32 with one uvicorn worker, beside a bare
Starlette route, and, with --before-src, beside an older checkout's code on the same database in
the same run.

    .venv/bin/python bench/stats.py --database-url postgresql://postgres@127.0.0.1/big_city \\
        [--before-src /path/to/older/checkout] [--seconds 10] [--port 21010] [--routes WORD]

Figures: alone = the median of 5 requests one at a time after one warm-up (what the stats
target, < 50 ms for a year, is read against); req/s and wrk's p50 / p95 / p99 under load.
The month is the last complete month, the year this year, the empty year 2020; "decades" asks
2000..2099 with the figures per catalogue level 3, from another first day each request (alone
too), so that no answer comes from the figures cache: what anyone, without logging in, can make
the server do.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

import httpx

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import loadgen  # noqa: E402  bench/loadgen.py
import servers  # noqa: E402  bench/servers.py


# Enough first days that wrk never asks one twice in a run (each answer is then computed).
DECADES_PERIODS = 20_000


def routes(today: dt.date) -> list[tuple[str, str | None, list[str]]]:
    end = today.replace(day=1) - dt.timedelta(days=1)
    since = end.replace(day=1)
    first = dt.date(2000, 1, 1)
    return [
        (f"stats month {since:%Y-%m}", None, [f"/api/v1/stats?since={since}&until={end}"]),
        (f"stats year {today.year}", None, [f"/api/v1/stats?since={today.year}-01-01&until={today.year}-12-31"]),
        ("stats year 2020 (empty)", None, ["/api/v1/stats?since=2020-01-01&until=2020-12-31"]),
        ("stats decades level 3, a new period each", None,
         [f"/api/v1/stats?since={first + dt.timedelta(days=k)}&until=2099-12-31&level=3"
          for k in range(DECADES_PERIODS)]),
        ("supervisor dashboard", "supervisor", ["/supervisor"]),
        ("dashboard, overdue page 50", "supervisor", ["/supervisor?overdue_page=50"]),
    ]


def measure_code(label: str, src: Path, url: str, port: int, seconds: int,
                 todo: list[tuple[str, str | None, list[str]]]) -> list[tuple[str, float, loadgen.Result]]:
    """Each route on a fresh server of the code at `src` (bench/city.py --serve hotline). A route
    of several paths asks a different one each request, alone as under wrk."""
    found = []
    for name, who, paths in todo:
        child, base = servers.start(str(src / "bench" / "city.py"), "hotline", ["--database-url", url], port=port)
        try:
            cookie = loadgen.login_cookie(base, who) if who else "x=1"
            with httpx.Client(base_url=base, timeout=120) as client:
                times = []
                for k in range(6):
                    t = time.perf_counter()
                    response = client.get(paths[k % len(paths)], headers={"Cookie": cookie})
                    times.append((time.perf_counter() - t) * 1000)
                    if response.status_code != 200:
                        raise SystemExit(f"{label} {name}: {response.status_code} {response.text[:200]}")
            alone = statistics.median(times[1:])
            found.append((f"{label}: {name}", alone, loadgen.wrk(base, paths[6:] or paths, seconds, cookie)))
            print(f"  measured {label}: {name} (alone {alone:.1f} ms)", flush=True)
        finally:
            servers.stop(child)
    return found


def bare(port: int, seconds: int) -> loadgen.Result:
    child, base = servers.start(str(BENCH / "city.py"), "bare", ["--database-url", "unused"], port=port)
    try:
        return loadgen.wrk(base, ["/"], seconds)
    finally:
        servers.stop(child)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--before-src", type=Path, help="an older checkout, measured on the same database")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--port", type=int, default=21010, help="the servers' port (a shared machine's range)")
    parser.add_argument("--routes", action="append", metavar="WORD",
                        help="measure only the routes whose name holds WORD (repeatable)")
    args = parser.parse_args()
    from dispatch.clock import local_date, utcnow

    todo = [r for r in routes(local_date(utcnow())) if not args.routes or any(w in r[0] for w in args.routes)]
    load_before, began = os.getloadavg(), time.monotonic()
    rows: list[tuple[str, float | None, loadgen.Result]] = [("bare Starlette route", None, bare(args.port, args.seconds))]
    rows += measure_code("this code", BENCH.parent, args.database_url, args.port, args.seconds, todo)
    if args.before_src:
        rows += measure_code("before", args.before_src.resolve(), args.database_url, args.port, args.seconds,
                             [r for r in todo if "page 50" not in r[0]])
    rows.append(("bare Starlette route (again)", None, bare(args.port, args.seconds)))
    load_after = os.getloadavg()
    print(f"\n{args.database_url.split('@')[-1]}; wrk -t2 -c32 -d{args.seconds}s, one uvicorn worker; "
          f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after ({time.monotonic() - began:.0f} s)")
    print(f"{'route':<44} {'alone ms':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, alone, r in rows:
        shown = f"{alone:9.1f}" if alone is not None else " " * 9
        print(f"{name:<44} {shown} {r.rate:8.0f} {r.p50_ms:8.1f} {r.p95_ms:8.1f} {r.p99_ms:8.1f} {r.errors:7d}")


if __name__ == "__main__":
    main()
