"""Staff search (/search) on a PostgreSQL table of many tickets: by words, by ticket number
and by phone, beside a bare Starlette route in the same run. Latency p50/p95/p99 from wrk.

    .venv/bin/python bench/search.py --database-url postgresql://postgres@127.0.0.1/bench_search
    .venv/bin/python bench/search.py --database-url ... --tickets 200000 --seconds 20

The database's tables are dropped and rebuilt (migrations, then the demo city), then
`--tickets` closed tickets are loaded with COPY: real texts from classifier/data/dev.csv,
varied by district and a number, spread over three years, each with its own phone. The search
indexes are dropped during the load and built after it (faster than keeping them up). Each
measurement runs wrk (-c32) with a Lua script that asks a different query each request,
logged in as the demo supervisor. Target: words p95 < 300 ms at 10 million tickets.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import random
import sys
import time
from pathlib import Path

import servers  # bench/servers.py
from loadgen import login_cookie, wrk  # bench/loadgen.py

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DISTRICTS = ["东城", "西湖", "金水", "二七", "中原", "惠济", "管城", "上街", "高新", "航空港"]
# 2-character words (most typed), 3-6 character phrases, and rare ones.
WORDS = ["路灯", "噪音", "小区", "物业", "停车", "垃圾", "工资", "占道", "安全隐患", "噪音扰民", "拖欠工资",
         "人行道", "燕子山安置房", "磁悬浮", "公交车站", "违章建筑", "油烟扰民", "水管破裂"]
START = dt.datetime(2023, 1, 1)
BATCH = 50_000

def serve(kind: str, port: int, database_url: str) -> None:
    """Runs in the child process."""
    import uvicorn

    if kind == "bare":
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import HTMLResponse
        from starlette.routing import Route

        async def bare(request: Request) -> HTMLResponse:
            return HTMLResponse("<!doctype html><title>bare</title>" + "热" * 5000)

        app = Starlette(routes=[Route("/", bare), Route("/search", bare)])
    else:
        from web.app import create_app
        from web.config import Settings

        app = create_app(Settings(database_url=database_url, log_level="WARNING"))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _texts() -> list[tuple[str, str]]:
    with (ROOT / "classifier" / "data" / "dev.csv").open(encoding="utf-8") as file:
        return [(row["title"], row["body"]) for row in csv.DictReader(file)]


def load(url: str, tickets: int) -> list[tuple[str, str]]:
    """Schema, demo city, then `tickets` rows by COPY; returns sample (number, phone) pairs."""
    from sqlalchemy import text

    from dispatch import db, text_search
    from dispatch.demo import seed
    from web.config import Settings
    from web.services import Services

    db.recreate_schema(url)
    services = Services.build(Settings(database_url=url))
    try:
        services.run_sync(lambda s: seed(s, services.city, services.rules))
    finally:
        services.close()
    engine = db.make_engine(url)
    texts, rng, samples = _texts(), random.Random(12345), []
    with engine.begin() as connection:
        for name in text_search.INDEXES:
            connection.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
        first = int(connection.scalar(text("SELECT coalesce(max(id), 0) FROM tickets"))) + 1
    started = time.monotonic()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for offset in range(0, tickets, BATCH):
            buffer = io.StringIO()
            out = csv.writer(buffer)
            for i in range(offset, min(tickets, offset + BATCH)):
                title, body = texts[i % len(texts)]
                place = rng.choice(DISTRICTS) + "区"
                at = START + dt.timedelta(seconds=int(i * 3 * 365 * 86400 / tickets))
                number = f"{at:%Y%m%d}-{i % 100000 + 1:06d}"   # unique: i < 10^5 per day at 10M
                phone = f"+86139{i:08d}"
                out.writerow([first + i, number, f"{i % 900000 + 100000}", "web", "complaint", "normal",
                              title.replace("A市", place)[:200],
                              body.replace("A市", place)[:1500] + f" 编号{rng.randint(1, 99999)}",
                              phone, "f", "closed", at.isoformat(), 0, 0, 0, 1, 0])
                if i % max(1, tickets // 200) == 0:
                    samples.append((number, phone[3:]))
            with cursor.copy("COPY tickets (id, number, query_code, channel, request_type, urgency, title, body, "
                             "phone, confidential, state, received_at, transfer_count, accepted_transfer_count, "
                             "return_count, version, follow_up_attempts) FROM STDIN WITH (FORMAT csv)") as copy:
                copy.write(buffer.getvalue())
            raw.commit()
            done = min(tickets, offset + BATCH)
            print(f"  loaded {done:>10,} / {tickets:,}  ({time.monotonic() - started:.0f} s)", flush=True)
        cursor.execute("SELECT setval(pg_get_serial_sequence('tickets', 'id'), (SELECT max(id) FROM tickets))")
        raw.commit()
    finally:
        raw.close()
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.exec_driver_sql("SET maintenance_work_mem = '512MB'")
        for statement in text_search.create_statements():
            began = time.monotonic()
            connection.exec_driver_sql(statement)
            print(f"  {statement.split(' ON ')[0][:60]:<60} {time.monotonic() - began:6.0f} s", flush=True)
        connection.exec_driver_sql("ANALYZE tickets")
    engine.dispose()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL database (its tables are rebuilt)")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=15, help="per measurement")
    parser.add_argument("--skip-load", action="store_true", help="measure the tickets already loaded")
    parser.add_argument("--serve", choices=["bare", "hotline"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.database_url)
        return
    if args.skip_load:
        from sqlalchemy import text

        from dispatch import db
        with db.make_engine(args.database_url).connect() as connection:
            samples = [(n, p[3:]) for n, p in connection.execute(text(
                "SELECT number, phone FROM tickets WHERE phone IS NOT NULL ORDER BY random() LIMIT 200"))]
    else:
        samples = load(args.database_url, args.tickets)
    from urllib.parse import quote
    kinds = {"words": [f"/search?q={quote(w)}" for w in WORDS],
             "ticket number": [f"/search?q={n}" for n, _ in samples],
             "phone": [f"/search?q={p}" for _, p in samples]}
    results = {}
    child, base = servers.start(__file__, "hotline", ["--database-url", args.database_url])
    try:
        cookie = login_cookie(base)
        for kind, paths in kinds.items():
            results[kind] = wrk(base, paths, args.seconds, cookie)
    finally:
        servers.stop(child)
    child, base = servers.start(__file__, "bare", ["--database-url", args.database_url])
    try:
        results["bare route"] = wrk(base, ["/"], args.seconds)
    finally:
        servers.stop(child)
    print(f"database   {args.database_url.split('@')[-1]}   tickets {args.tickets:,}   wrk -c32 {args.seconds} s each")
    for kind, r in results.items():
        print(f"{kind:<14} p50 {r.p50_ms:7.1f} ms   p95 {r.p95_ms:7.1f} ms   p99 {r.p99_ms:7.1f} ms   "
              f"{r.rate:7.0f} requests/s  ({r.requests} requests, {r.errors} errors)")


if __name__ == "__main__":
    main()
