"""Intake throughput and /api/v1/stats time, each beside a baseline measured in the same run.

    .venv/bin/python bench/intake.py                       # SQLite (temp file)
    .venv/bin/python bench/intake.py --database-url postgresql://postgres@127.0.0.1/test

Prints tickets/s through dispatch.intake (one transaction per ticket, as requests do), a
bulk INSERT of the same rows, and the time to compute every figure of /api/v1/stats over
--stats-rows tickets. The PostgreSQL database's tables are dropped and rebuilt.
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dispatch import db, reports, rollup  # noqa: E402
from dispatch.clock import local_date, utcnow  # noqa: E402
from dispatch.intake import IntakeRequest, IntakeRules, intake  # noqa: E402
from dispatch.models import Ticket, Transfer  # noqa: E402
from dispatch.units import DEMO_CITY, import_units, load_city  # noqa: E402
from dispatch.routing import Router, city_router  # noqa: E402
from dispatch.vocabulary import Channel  # noqa: E402
from classifier import ensure_default_model  # noqa: E402

BODIES = ["小区门口路灯不亮已经一周", "工地夜间施工噪音扰民", "拖欠农民工工资三个月", "河道有人倾倒建筑垃圾",
          "公交车站台破损需要维修", "学校周边交通拥堵", "医院挂号难排队时间长", "商户占道经营影响通行"]


def bench_intake(url: str, n: int, router: Router | None = None) -> float:
    engine = db.make_engine(url)
    sessions = db.make_sessionmaker(engine)
    rules = IntakeRules()
    start = time.perf_counter()
    for i in range(n):
        with sessions.begin() as session:
            intake(session, IntakeRequest(channel=Channel.WEB, body=f"{BODIES[i % len(BODIES)]}（第{i}件）",
                                          phone=f"138{i % 100_000_000:08d}"), rules, router=router)
    elapsed = time.perf_counter() - start
    engine.dispose()
    return n / elapsed


def ticket_rows(n: int, start_id: int, now: dt.datetime, rng: random.Random) -> list[dict]:
    rows = []
    for i in range(start_id, start_id + n):
        received = now - dt.timedelta(minutes=rng.randrange(0, 60 * 24 * 60))
        # As in a real city: work older than a few weeks is nearly all finished.
        old = now - received > dt.timedelta(days=20)
        if old and rng.random() < 0.97:
            state = rng.choice(["resolved", "closed", "closed", "answered"])
        else:
            state = rng.choice(["received", "transferred", "in_progress", "resolved", "closed", "answered"])
        transferred = state in ("transferred", "in_progress", "resolved", "closed")
        rows.append({
            "id": i, "number": f"B{i:011d}", "query_code": "123456", "channel": "web",
            "request_type": "complaint", "urgency": "normal", "title": "t", "body": BODIES[i % len(BODIES)],
            "phone": None, "name": None, "location": None, "confidential": False,
            "category": rng.choice(["城乡建设", "环境保护", "交通运输", None]),
            "unit_id": rng.randrange(3, 20) if transferred else None, "state": state,
            "received_at": received, "deadline": received + dt.timedelta(days=14), "merged_into_id": None,
            "reply": None, "transfer_count": int(transferred), "accepted_transfer_count": int(state != "transferred" and transferred),
            "return_count": 0, "resolved_at": received + dt.timedelta(days=3) if state in ("resolved", "closed", "answered") else None,
            "resolved_on_time": True if state in ("resolved", "closed") else None,
            "rating": rng.choice(["satisfied", "partly", "unsatisfied", None]) if state == "closed" else None,
            "version": 1,
        })
    return rows


def bench_bulk_insert(url: str, n: int) -> float:
    """Baseline: the same number of ticket rows in one executemany INSERT."""
    engine = db.make_engine(url)
    # Rows as intake makes them: just received, with no unit yet.
    rows = [{**r, "unit_id": None, "state": "received"} for r in ticket_rows(n, 10_000_000, utcnow(), random.Random(1))]
    start = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(insert(Ticket), rows)
    elapsed = time.perf_counter() - start
    engine.dispose()
    return n / elapsed


def fill(url: str, total: int) -> None:
    engine = db.make_engine(url)
    rng = random.Random(7)
    now = utcnow()
    chunk = 50_000
    with Session(engine) as session:
        import_units(session, load_city(DEMO_CITY))
        session.commit()
    for offset in range(0, total, chunk):
        rows = ticket_rows(min(chunk, total - offset), 20_000_000 + offset, now, rng)
        with engine.begin() as connection:
            connection.execute(insert(Ticket), rows)
            transfers = [{"ticket_id": r["id"], "unit_id": r["unit_id"], "transferred_at": r["received_at"],
                          "received_day": local_date(r["received_at"]),
                          "outcome": "accepted" if r["accepted_transfer_count"] else "pending",
                          "resolved_at": r["resolved_at"] if r["unit_id"] else None,
                          "resolved_on_time": r["resolved_on_time"]} for r in rows if r["unit_id"]]
            connection.execute(insert(Transfer), transfers)
        print(f"  filled {offset + len(rows):,}/{total:,} tickets", file=sys.stderr, flush=True)
    start = time.perf_counter()
    with db.make_sessionmaker(engine).begin() as session:
        rollup.rebuild(session)
    print(f"  running totals rebuilt in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    engine.dispose()


def bench_stats(url: str, repeats: int = 3) -> tuple[float, int]:
    engine = db.make_engine(url)
    sessions = db.make_sessionmaker(engine)
    today = local_date(utcnow())
    period = reports.Period(today - dt.timedelta(days=90), today)
    best = float("inf")
    received = 0
    for _ in range(repeats):
        start = time.perf_counter()
        with sessions() as session:
            figures = reports.summary(session, period)
        best = min(best, time.perf_counter() - start)
        received = figures["tickets"]["received"]
    engine.dispose()
    return best, received


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--tickets", type=int, default=3000, help="tickets through intake")
    parser.add_argument("--stats-rows", type=int, default=1_000_000, help="tickets for the stats timing")
    parser.add_argument("--model-dir", default="models", help="classifier models (the default one is trained there if none)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        print(f"database: {db.make_engine(url).dialect.name}")
        db.recreate_schema(url)
        through_intake = bench_intake(url, args.tickets)
        bulk = bench_bulk_insert(url, args.tickets)
        router = city_router(load_city(DEMO_CITY), ensure_default_model(args.model_dir))
        db.recreate_schema(url)
        routed = bench_intake(url, args.tickets, router)
        print(f"intake:      {through_intake:10,.0f} tickets/s  (one transaction per ticket, {args.tickets:,} tickets)")
        print(f"  + routing: {routed:10,.0f} tickets/s  (the same, each classified and routed as the app does)")
        print(f"bulk INSERT: {bulk:10,.0f} rows/s     (baseline, one executemany)  -> intake is {through_intake / bulk:.1%} of it")
        db.recreate_schema(url)
        fill(url, args.stats_rows)
        seconds, received = bench_stats(url)
        print(f"stats:       {seconds * 1000:10,.0f} ms over {args.stats_rows:,} tickets "
              f"({received:,} in the 91-day period; every figure of /api/v1/stats, best of 3)")


if __name__ == "__main__":
    main()
