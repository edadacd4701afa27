"""The township backfill (migration 0030) on PostgreSQL: one UPDATE with a regular expression
against the Python pass (intake's gazetteer, one UPDATE per ticket), on the same tickets.

    .venv/bin/python bench/township_backfill.py --database-url postgresql://postgres@127.0.0.1/COPY_OF_A_CITY \
        [--tickets 200000]

It rewrites the database's tickets: run it on a copy (`CREATE DATABASE x TEMPLATE city`). The
first --tickets tickets have their township cleared (and VACUUMed) before each pass, as the
migration finds them; drop the character-pair and hotspot-cell indexes first to time it as the
migration runs (they are built after it). Each pass's answers are checked against the township
the tickets had.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dispatch import db, townships  # noqa: E402
from dispatch.routing import Gazetteer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--tickets", type=int, default=200_000)
    args = parser.parse_args()
    engine = db.make_engine(args.database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS bench_kept_township"))
        connection.execute(text("CREATE TABLE bench_kept_township AS SELECT id, township FROM tickets "
                                "ORDER BY id LIMIT :n"), {"n": args.tickets})
        names = townships.unit_names(connection)
    passes = {"SQL": lambda c: townships.backfill(c, names),
              "Python": lambda c: townships._backfill_in_python(c, townships.gazetteer_places(Gazetteer(names)), None)}
    for label, backfill in passes.items():
        with engine.begin() as connection:
            connection.execute(text("UPDATE tickets SET township = NULL WHERE id IN (SELECT id FROM bench_kept_township)"))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM tickets"))
        with engine.begin() as connection:
            start = time.perf_counter()
            found = backfill(connection)
            seconds = time.perf_counter() - start
            differ = connection.execute(text(
                "SELECT count(*) FROM tickets JOIN bench_kept_township k USING (id) "
                "WHERE tickets.township IS DISTINCT FROM k.township")).scalar()
        load = Path("/proc/loadavg").read_text().split()[0]
        print(f"{label:7} {found:,} set in {seconds:.1f} s ({found / seconds:,.0f} tickets/s), "
              f"{differ} differ from before, load {load}", flush=True)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE bench_kept_township"))


if __name__ == "__main__":
    main()
