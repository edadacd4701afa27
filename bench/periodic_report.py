"""Time to make one monthly report (日报/周报/月报's largest) on the demo database, beside
a baseline measured in the same run: every figure of /api/v1/stats for the same month
(dispatch.reports.summary, what the supervisor dashboard computes).

    .venv/bin/python bench/periodic_report.py                 # SQLite (temp file), 90 days of history
    .venv/bin/python bench/periodic_report.py --database-url postgresql://postgres@127.0.0.1/test_x
    .venv/bin/python bench/periodic_report.py --reuse --database-url sqlite:////tmp/streets.db   # a database as it is

The database's tables are dropped and rebuilt, then loaded as `hotline serve --demo` loads
them (dispatch/demo_history.py, ~300 tickets a working day). Prints, for the last complete
month: the report's figures (build), HTML and CSV, PDF (chromium, when present), in seconds.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from dispatch import db, periodic_reports, reports  # noqa: E402
from dispatch.clock import utcnow  # noqa: E402
from dispatch.demo import seed_with_history  # noqa: E402
from dispatch.demo_history import HistorySize  # noqa: E402
from dispatch.models import Ticket  # noqa: E402
from web import report_files, report_pdf  # noqa: E402
from web.config import Settings  # noqa: E402
from web.services import Services  # noqa: E402


def timed(work, repeat: int) -> float:  # type: ignore[no-untyped-def]
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reuse", action="store_true",
                        help="measure the database at --database-url as it is (e.g. bench/assessment.py's city)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        now = utcnow()
        loaded = 0.0
        if args.reuse and args.database_url:
            db.upgrade(url)   # to this branch's head (the escalations' index)
            services = Services.build(Settings(database_url=url))
        else:
            db.recreate_schema(url)
            services = Services.build(Settings(database_url=url))
            started = time.perf_counter()
            services.run_sync(lambda s: seed_with_history(s, services.city, services.rules,
                                                          HistorySize(days=args.days), now=now))
            loaded = time.perf_counter() - started
        (kind, period), = [(k, p) for k, p in periodic_reports.due_periods(now) if k == "month"]
        with services.sessions() as s:
            total = s.scalar(select(func.count(Ticket.id)))
            in_month = s.scalar(select(func.count(Ticket.id)).where(Ticket.received_at >= period.start,
                                                                   Ticket.received_at < period.end))
        made = "as found" if args.reuse else f"{args.days} days, loaded in {loaded:.0f} s"
        print(f"database: {services.engine.dialect.name}, {total:,} tickets ({made}); "
              f"month {period.since} to {period.until}: {in_month:,} tickets")
        policy = services.call_policy()
        data: dict = {}

        def figures() -> None:
            data.clear()
            data.update(services.run_sync(lambda s: periodic_reports.build(s, kind, period, now, policy)))

        baseline = timed(lambda: services.run_sync(lambda s: reports.summary(s, period, now=now, calls=policy)),
                         args.repeat)
        # Each section alone, once: which one a big database makes slow.
        with services.sessions() as s:
            ctx = periodic_reports.ReportContext(s, kind, period, now, policy)
            for section in periodic_reports.SECTIONS:
                print(f"  section {section.__name__:<20} {timed(lambda: section(ctx), 1):7.3f} s")
        build = timed(figures, args.repeat)
        files = timed(lambda: (report_files.render_html(data), report_files.render_csv(data)), args.repeat)
        html = report_files.render_html(data)
        print(f"baseline  reports.summary() of the month (/api/v1/stats):  {baseline:7.3f} s")
        print(f"report    figures of every section:                       {build:7.3f} s")
        print(f"report    HTML with charts + CSV:                         {files:7.3f} s")
        try:
            pdf = timed(lambda: asyncio.run(report_pdf.print_pdf(html)), 1)
            print(f"report    PDF through chromium (launch included):         {pdf:7.3f} s")
        except report_pdf.NoEngine as exc:
            pdf = 0.0
            print(f"report    PDF: none ({exc})")
        print(f"report    in all:                                         {build + files + pdf:7.3f} s "
              f"(HTML {len(html):,} chars)")
        services.close()


if __name__ == "__main__":
    main()
