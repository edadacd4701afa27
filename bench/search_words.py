"""Search by words on a loaded PostgreSQL city (bench/city.py), and its indexes' build times.

    .venv/bin/python bench/search_words.py --database-url postgresql://postgres@127.0.0.1/big_search --port 23000
    .venv/bin/python bench/search_words.py --database-url ... --build     # drop, then time each CREATE INDEX

Measured: each of bench/city_measure.py's 20 words alone (median of 3 after a warm-up, one
request at a time, logged in as the demo supervisor), then wrk -t2 -c32 over all of them (a
Lua script asks a different word each request), beside a bare Starlette route measured
before and after in the same run. `--build` drops dispatch/text_search.py's indexes and
creates them again one at a time with the loader's settings (maintenance_work_mem 1GB, no
parallel workers), printing each one's seconds and the load average before and after.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx

import loadgen  # bench/loadgen.py
import servers  # bench/servers.py
from city_measure import WORDS  # bench/city_measure.py

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def build(url: str, memory: str) -> None:
    from sqlalchemy import text

    from dispatch import db, text_search

    engine = db.make_engine(url)
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        tickets = connection.scalar(text("SELECT count(*) FROM tickets"))
        connection.exec_driver_sql(f"SET maintenance_work_mem = '{memory}'")
        connection.exec_driver_sql("SET max_parallel_maintenance_workers = 0")
        print(f"{tickets:,} tickets, maintenance_work_mem {memory}")
        for statement in text_search.create_statements():
            if not statement.startswith("CREATE INDEX"):
                connection.exec_driver_sql(statement)
                continue
            name = statement.split(" ON ")[0].split()[-1]
            connection.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
            before, t = _load(), time.monotonic()
            connection.exec_driver_sql(statement)
            size = connection.scalar(text("SELECT pg_size_pretty(pg_relation_size(CAST(:n AS regclass)))"), {"n": name})
            print(f"  {name:<28} {time.monotonic() - t:8.1f} s  {size:>8}   load average {before} -> {_load()}",
                  flush=True)
        connection.exec_driver_sql("ANALYZE tickets")


def measure(script: str, url: str, seconds: int, port: int) -> None:
    paths = [f"/search?q={quote(w)}" for w in WORDS]
    results, alone = {}, {}
    load_before = _load()
    child, base = servers.start(script, "bare", ["--database-url", url], port=port or None)
    try:
        results["bare route"] = loadgen.wrk(base, ["/"], seconds)
    finally:
        servers.stop(child)
    child, base = servers.start(script, "hotline", ["--database-url", url], port=port + 1 if port else None)
    try:
        cookie = loadgen.login_cookie(base)
        with httpx.Client(base_url=base, timeout=120, headers={"Cookie": cookie}) as client:
            for word, path in zip(WORDS, paths):
                times = []
                for _ in range(4):
                    t = time.perf_counter()
                    response = client.get(path)
                    times.append((time.perf_counter() - t) * 1000)
                    if response.status_code != 200:
                        raise SystemExit(f"{path} answered {response.status_code}")
                alone[word] = statistics.median(times[1:])   # the first warms the caches
        results["search by words"] = loadgen.wrk(base, paths, seconds, cookie)
    finally:
        servers.stop(child)
    child, base = servers.start(script, "bare", ["--database-url", url], port=port + 2 if port else None)
    try:
        results["bare route (again)"] = loadgen.wrk(base, ["/"], seconds)
    finally:
        servers.stop(child)
    print(f"database {url.split('@')[-1]}   wrk -t2 -c32 {seconds} s, one uvicorn worker   "
          f"load average {load_before} -> {_load()}")
    print("alone (median of 3, ms): " + ", ".join(f"{w} {ms:.0f}" for w, ms in alone.items()))
    print(f"alone: median {statistics.median(alone.values()):.0f} ms, slowest {max(alone.values()):.0f} ms")
    for name, r in results.items():
        print(f"{name:<20} p50 {r.p50_ms:7.1f} ms   p95 {r.p95_ms:7.1f} ms   p99 {r.p99_ms:7.1f} ms   "
              f"{r.rate:7.0f} requests/s  ({r.requests} requests, {r.errors} errors)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="a loaded PostgreSQL city")
    parser.add_argument("--seconds", type=int, default=15, help="per wrk run")
    parser.add_argument("--port", type=int, default=0, help="first of 3 ports to serve on (0: any free ones)")
    parser.add_argument("--build", action="store_true", help="drop and time the search indexes' builds")
    parser.add_argument("--memory", default="1GB", help="maintenance_work_mem for --build")
    parser.add_argument("--serve", choices=["bare", "hotline"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        servers.serve(args.serve, args.port, args.database_url)
    elif args.build:
        build(args.database_url, args.memory)
    else:
        measure(__file__, args.database_url, args.seconds, args.port)


if __name__ == "__main__":
    main()
