"""The measuring half of bench/city.py: every route under wrk -c32 beside a bare Starlette route
in the same run, then the month's periodic report beside the stats API's figures of that month."""
from __future__ import annotations

import datetime as dt
import os
import statistics
import time
from typing import Any
from urllib.parse import quote

import httpx

import loadgen  # bench/loadgen.py
import servers  # bench/servers.py

# 2-character words (most typed), longer phrases, and rare ones.
WORDS = ["路灯", "噪音", "小区", "物业", "停车", "垃圾", "工资", "占道", "安全隐患", "噪音扰民", "拖欠工资",
         "人行道", "学苑路", "公交车站", "违章建筑", "油烟扰民", "水管破裂", "济源大道", "暖气不热", "二氧化碳"]
# p95 at c=32: 200 ms, search by words 300 ms; the year's stats 50 ms for one request alone.
DEFAULT_TARGET = 200.0
WORDS_TARGET = 300.0
STATS_TARGET = 50.0


def _samples(url: str) -> dict[str, Any]:
    """Tickets to look up (number and query code, phone) and the months loaded."""
    from sqlalchemy import text

    from dispatch import db
    from dispatch.clock import local_date, utcnow

    engine = db.make_engine(url)
    with engine.connect() as connection:
        top = int(connection.scalar(text("SELECT max(id) FROM tickets")) or 0)
        picks = connection.execute(text(
            "SELECT number, query_code, phone FROM tickets WHERE id IN "
            "(SELECT (random() * :top)::int + 1 FROM generate_series(1, 600)) AND phone IS NOT NULL LIMIT 200"),
            {"top": top}).all()
        tickets = int(connection.scalar(text("SELECT count(*) FROM tickets")))
        first = connection.scalar(text("SELECT min(received_at) FROM tickets"))
    engine.dispose()
    today = local_date(utcnow())
    return {"lookups": [(n, c) for n, c, _ in picks], "phones": [p.removeprefix("+86") for _, _, p in picks],
            "numbers": [n for n, _, _ in picks], "tickets": tickets, "first": first, "today": today}


def _month(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last complete month: what the monthly report covers."""
    end = today.replace(day=1) - dt.timedelta(days=1)
    return end.replace(day=1), end


def measure(script: str, url: str, seconds: int, connections: int = 32, only: list[str] | None = None,
            port: int | None = None) -> None:
    """`only`: measure the routes whose name holds one of these words (and the bare route);
    `port`: serve on this one (a shared machine hands each user a range), else any free one."""
    from dispatch.text_search import WORDS_INDEX

    s = _samples(url)
    since, until = _month(s["today"])
    year = s["today"].year
    routes: list[tuple[str, str | None, list[str]]] = [
        ("public board", None, ["/board"]),
        ("status lookup", None, [f"/status?number={n}&code={c}" for n, c in s["lookups"]]),
        (f"stats month {since:%Y-%m}", None, [f"/api/v1/stats?since={since}&until={until}"]),
        (f"stats year {year}", None, [f"/api/v1/stats?since={year}-01-01&until={year}-12-31"]),
        ("stats year 2020 (empty)", None, ["/api/v1/stats?since=2020-01-01&until=2020-12-31"]),
        ("operator console", "operator", ["/operator"]),
        ("unit inbox (housing)", "housing", ["/unit"]),
        ("supervisor dashboard", "supervisor", ["/supervisor"]),
        ("search by number", "supervisor", [f"/search?q={n}" for n in s["numbers"]]),
        ("search by phone", "supervisor", [f"/search?q={p}" for p in s["phones"]]),
        ("search by words", "supervisor", [f"/search?q={quote(w)}" for w in WORDS]),
    ]
    routes = [r for r in routes if not only or any(word in r[0] for word in only)]
    if any(name == "search by words" for name, _, _ in routes) and not _has_index(url, WORDS_INDEX):
        print(f"  note: {WORDS_INDEX} is not built (loaded with --without-index?): search by words "
              "reads every ticket's text, which is not what a city runs", flush=True)
    results: dict[str, loadgen.Result] = {}
    alone_ms: dict[str, float] = {}
    caught_up = _catch_up(url)
    print(f"  the scheduler's jobs run once before measuring: {caught_up:.0f} s", flush=True)
    began = time.monotonic()
    load_before = os.getloadavg()
    child, base = servers.start(script, "bare", ["--database-url", url], port=port)
    try:
        results["bare Starlette route"] = loadgen.wrk(base, ["/"], seconds, connections=connections)
    finally:
        servers.stop(child)
    # A fresh server per route: requests a slow route left queued would weigh on the next one.
    for name, who, paths in routes:
        child, base = servers.start(script, "hotline", ["--database-url", url], port=port)
        try:
            print(f"  {name}: the server's start-up work done in {servers.settle(child):.0f} s", flush=True)
            cookie = loadgen.login_cookie(base, who) if who else "x=1"
            with httpx.Client(base_url=base, timeout=120) as client:
                times = []
                for path in (paths * 6)[:6]:
                    t = time.perf_counter()
                    response = client.get(path, headers={"Cookie": cookie})
                    times.append((time.perf_counter() - t) * 1000)
                    if response.status_code != 200:
                        raise SystemExit(f"{name}: {path} answered {response.status_code}: {response.text[:300]}")
                alone_ms[name] = statistics.median(times[1:])   # the first warms the caches
            results[name] = loadgen.wrk(base, paths, seconds, cookie, connections)
            print(f"  measured {name}", flush=True)
        finally:
            servers.stop(child)
    child, base = servers.start(script, "bare", ["--database-url", url], port=port)
    try:
        results["bare Starlette route (again)"] = loadgen.wrk(base, ["/"], seconds, connections=connections)
    finally:
        servers.stop(child)
    load_after = os.getloadavg()
    report = _report(url, since, until) if not only else None
    _print(url, s, seconds, connections, results, alone_ms, report, load_before, load_after, began)


def _has_index(url: str, name: str) -> bool:
    from sqlalchemy import text

    from dispatch import db

    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(text("SELECT to_regclass(:name) IS NOT NULL"), {"name": name}) is True
    finally:
        engine.dispose()


def _catch_up(url: str) -> float:
    """A running city's scheduler has caught up: its jobs (closing, chasing, the day's, week's
    and month's reports) run once here, so that each fresh server's first pass finds its work
    done instead of weighing on the route being measured. Returns the seconds it took."""
    import asyncio

    from web import scheduler
    from web.config import Settings
    from web.services import Services

    services = Services.build(Settings(database_url=url, report_pdf=False))
    try:
        t = time.perf_counter()
        asyncio.run(scheduler.run_once(services))
        return time.perf_counter() - t
    finally:
        services.close()


def _report(url: str, since: dt.date, until: dt.date) -> dict[str, float]:
    """The monthly report's figures, HTML and CSV, beside reports.summary() of the month
    (what /api/v1/stats computes), each timed once after one warm-up of the summary."""
    from dispatch import periodic_reports, reports
    from dispatch.clock import utcnow
    from web import report_files
    from web.config import Settings
    from web.services import Services

    services = Services.build(Settings(database_url=url))
    try:
        period, now, policy = reports.Period(since, until), utcnow(), services.call_policy()

        def timed(work: Any) -> tuple[float, Any]:
            t = time.perf_counter()
            value = work()
            return time.perf_counter() - t, value

        summary = lambda: services.run_sync(lambda s: reports.summary(s, period, now=now, calls=policy))  # noqa: E731
        summary()
        baseline = statistics.median(timed(summary)[0] for _ in range(3))
        build, data = timed(lambda: services.run_sync(lambda s: periodic_reports.build(s, "month", period, now, policy)))
        files, _ = timed(lambda: (report_files.render_html(data), report_files.render_csv(data)))
        return {"summary": baseline, "build": build, "files": files}
    finally:
        services.close()


def _print(url: str, s: dict[str, Any], seconds: int, connections: int, results: dict[str, loadgen.Result],
           alone_ms: dict[str, float], report: dict[str, float] | None, load_before: tuple[float, ...],
           load_after: tuple[float, ...], began: float) -> None:
    print()
    print(f"database {url.split('@')[-1]}: {s['tickets']:,} tickets since {s['first']:%Y-%m-%d}; "
          f"wrk -t2 -c{connections} -d{seconds}s per route, one uvicorn worker; "
          f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} ({time.monotonic() - began:.0f} s)")
    print("alone: median of 5 requests one at a time, before the load (the stats target is for these)")
    print(f"{'route':<28} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7} {'alone ms':>9}  target")
    for name, r in results.items():
        alone = alone_ms.get(name)
        if name.startswith("bare"):
            verdict = ""
        elif r.requests == 0:
            verdict = "NOT MET: no request finished within the run"
        elif name.startswith("stats year"):
            verdict = f"alone < {STATS_TARGET:.0f} ms: {'met' if alone is not None and alone < STATS_TARGET else 'NOT MET'}"
        else:
            target = WORDS_TARGET if name == "search by words" else DEFAULT_TARGET
            verdict = f"p95 < {target:.0f} ms: {'met' if r.p95_ms < target else 'NOT MET'}"
        shown = f"{alone:9.1f}" if alone is not None else " " * 9
        print(f"{name:<28} {r.rate:8.0f} {r.p50_ms:8.1f} {r.p95_ms:8.1f} {r.p99_ms:8.1f} {r.errors:7d} {shown}  {verdict}")
    if report is None:
        return
    print(f"monthly report: figures {report['build']:.2f} s, HTML + CSV {report['files']:.2f} s "
          f"(target < 60 s); beside reports.summary() of the month (/api/v1/stats) {report['summary'] * 1000:.0f} ms")
