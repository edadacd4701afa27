"""A city's history in PostgreSQL, then the pages and APIs people use every day measured on it
with wrk (-c32), each beside a bare Starlette route measured in the same run.

    .venv/bin/python bench/city.py --database-url postgresql://postgres@127.0.0.1/bench_city
    .venv/bin/python bench/city.py --database-url ... --tickets 100000 --seconds 10
    .venv/bin/python bench/city.py --database-url ... --skip-load        # measure what is there
    .venv/bin/python bench/city.py --database-url ... --load-only

The load (bench/city_load.py) drops and rebuilds the database's tables, seeds the demo city
(Jiyuan) and writes `--tickets` tickets of history with COPY, about `--per-day` a day ending
today (10 million at 66,000 a day is about five months of Beijing): events, transfers,
extension requests, intake sources, calls and texts, and the running totals the figures read.

Measured, logged in as the demo's staff where the page needs it: the public board, the status
lookup, /api/v1/stats for this month and for this year and for a year without tickets, the
operator console, a unit's inbox, the supervisor dashboard, and /search by ticket number, by
phone and by words (a Lua script asks a different query each request). Then this month's
periodic report (dispatch/periodic_reports.py) is made once and timed beside the stats
API's figures for the same month. Targets with 10 million tickets: p95 < 200 ms for every
route, < 300 ms for search by words, < 50 ms for the year's stats.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL database (its tables are rebuilt)")
    parser.add_argument("--tickets", type=int, default=10_000_000)
    parser.add_argument("--per-day", type=int, default=66_000, help="tickets a day (Beijing: about 66,000)")
    parser.add_argument("--streams", type=int, default=2, help="COPY processes and index builds at once")
    parser.add_argument("--without-index", action="append", default=[], metavar="NAME",
                        help="leave this index unbuilt (repeatable), e.g. ix_tickets_month_words, whose build is most of a big load")
    parser.add_argument("--hash-chain", action="store_true", help="chain the events' hashes (slower)")
    parser.add_argument("--seconds", type=int, default=15, help="per measurement")
    parser.add_argument("--skip-load", action="store_true", help="measure the tickets already loaded")
    parser.add_argument("--load-only", action="store_true", help="load, do not measure")
    parser.add_argument("--routes", action="append", metavar="WORD",
                        help="measure only the routes whose name holds WORD (repeatable), and no report")
    parser.add_argument("--server-port", type=int, help="serve the measured app on this port (else any free one)")
    parser.add_argument("--serve", choices=["bare", "hotline"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        import servers  # bench/servers.py
        servers.serve(args.serve, args.port, args.database_url)
        return
    if not args.skip_load:
        import city_load  # bench/city_load.py
        city_load.load(args.database_url, args.tickets, per_day=args.per_day, streams=args.streams,
                       hash_chain=args.hash_chain, without=tuple(args.without_index), say=lambda line: print(line, flush=True))
    if not args.load_only:
        import city_measure  # bench/city_measure.py
        city_measure.measure(__file__, args.database_url, args.seconds, only=args.routes, port=args.server_port)


if __name__ == "__main__":
    main()
