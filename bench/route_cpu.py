"""A route's CPU per request on the server side: the app's process (uvicorn, one worker) and,
on PostgreSQL, the database backends serving it, read from /proc before and after a run of
requests. With one worker a request's CPU bounds the requests/s (1,000 ms / CPU ms on one
core), whatever the clients wait for; bench/city.py measures the latency under load, this
what each request costs.

    .venv/bin/python bench/route_cpu.py --database-url postgresql://postgres@127.0.0.1/city --route inbox
    .venv/bin/python bench/route_cpu.py --database-url ... --route inbox --route board --requests 400

Run from a checkout of other code (its own bench/route_cpu.py) to compare, in the same run,
alternating. The requests are sent one at a time from this process (its own CPU is not
counted); the server's background (the live pages' watcher every second) is measured idle
for as long and taken off."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after ROOT: bench/web.py is not the web package

def backends(url: str) -> list[int]:
    """The database's backend processes but this one's (the app's pool, once warmed up)."""
    if not url.startswith("postgres"):
        return []
    from sqlalchemy import text

    from dispatch import db

    engine = db.make_engine(url)
    with engine.connect() as connection:
        pids = list(connection.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")))
    engine.dispose()
    return pids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--route", action="append", help="as bench/page_costs.py names them (default: inbox)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="runs of --requests each, the server's CPU of each shown")
    parser.add_argument("--serve", choices=["hotline"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        import servers  # bench/servers.py
        servers.serve(args.serve, args.port, args.database_url)
        return

    import httpx

    import city_measure  # bench/city_measure.py
    import loadgen  # bench/loadgen.py
    import servers
    from page_costs import _paths  # bench/page_costs.py

    paths = _paths(args.database_url)
    city_measure._catch_up(args.database_url)   # the scheduler's first pass, done before measuring
    print(f"code {ROOT}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for name in args.route or ["inbox"]:
        who, urls = paths[name]
        child, base = servers.start(__file__, "hotline", ["--database-url", args.database_url])
        try:
            print(f"{name}: the server's start-up work done in {servers.settle(child):.0f} s", flush=True)
            cookie = loadgen.login_cookie(base, who) if who else "x=1"
            with httpx.Client(base_url=base, timeout=60, headers={"Cookie": cookie}) as client:
                for url in (urls * 20)[:20]:   # warm: the pool's connections, the caches
                    assert client.get(url).status_code == 200, url
                groups = ([child.pid], backends(args.database_url))   # the app, the database
                rounds = []
                for _ in range(args.rounds):
                    before, t0 = [servers.cpu_ms(g) for g in groups], time.perf_counter()
                    for i in range(args.requests):
                        response = client.get(urls[i % len(urls)])
                        assert response.status_code == 200, (response.status_code, response.text[:300])
                    wall = time.perf_counter() - t0
                    busy = [servers.cpu_ms(g) - b for g, b in zip(groups, before)]
                    # The idle server's own CPU for as long as the requests took, taken off.
                    before = [servers.cpu_ms(g) for g in groups]
                    time.sleep(wall)
                    idle = [servers.cpu_ms(g) - b for g, b in zip(groups, before)]
                    app, database = ((b - i) / args.requests for b, i in zip(busy, idle))
                    rounds.append((app + database, app, database, wall * 1000 / args.requests))
            shown = "; ".join(f"{total:.1f} (app {app:.1f}, database {database:.1f})"
                              for total, app, database, _ in rounds)
            walls = ", ".join(f"{r[3]:.1f}" for r in rounds)
            print(f"{name:<10} server CPU a request {shown} ms (idle CPU taken off); "
                  f"wall a request one at a time {walls} ms; {args.requests} requests a round, "
                  f"load average {os.getloadavg()[0]:.2f}")
        finally:
            servers.stop(child)


if __name__ == "__main__":
    main()
