"""How long `hotline serve --demo` takes to write its history on a fresh database: the demo
city, its accounts and sample tickets, and 90 days of history (dispatch/demo.seed_with_history),
in one transaction, as the first start loads them.

    .venv/bin/python bench/demo_build.py --database-url sqlite:////tmp/demo.db   # a new file
    .venv/bin/python bench/demo_build.py --database-url postgresql+psycopg://postgres@127.0.0.1/test_x   # empty

The database must be new or empty (a database with the demo gets nothing). Prints the history's
size, the seconds and the machine's load average.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dispatch import db  # noqa: E402
from dispatch.demo import seed_with_history  # noqa: E402
from dispatch.demo_history import HistorySize  # noqa: E402
from dispatch.intake import IntakeRules  # noqa: E402
from dispatch.units import DEMO_CITY, load_city  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--days", type=int, default=HistorySize().days)
    args = parser.parse_args()
    db.upgrade(args.database_url)
    engine = db.make_engine(args.database_url)
    sessions = db.make_sessionmaker(engine)
    city = load_city(DEMO_CITY)
    started = time.perf_counter()
    with sessions.begin() as session:
        summary = seed_with_history(session, city, IntakeRules(), HistorySize(days=args.days))
    seconds = time.perf_counter() - started
    engine.dispose()
    if summary is None:
        sys.exit("the demo is already in this database: give a new or empty one")
    print(f"{summary.tickets} tickets, {summary.events} events, {summary.calls} calls over {summary.days} days: "
          f"{seconds:.1f} s (load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
