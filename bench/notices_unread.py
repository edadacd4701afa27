"""How long a unit's inbox takes to count its unread notices when it never marks any read: one
notice for each of the unit's tickets, most of them about finished tickets (which the
count leaves out), in a city loaded by bench/city.py --load-only.

    .venv/bin/python bench/notices_unread.py --database-url postgresql://postgres@127.0.0.1/bench_city

Adds the notices once (kind 'bench', removed with --clean), then times dispatch.notices.latest
(the inbox's statement: the newest 20 and the unread count up to 1,000) and the notices page's
unread-only list beside, in the same run, the same count without the finished-or-left check
and a bare `select 1`."""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from dispatch.db import make_engine  # noqa: E402
from dispatch.notices import latest, listed  # noqa: E402
from dispatch.states import FINISHED_STATES  # noqa: E402

_ADD = text("""insert into notices (unit_id, ticket_id, kind, key, text, created_at, read_at)
               select unit_id, id, 'bench', 'bench:' || id, '工单即将超期', received_at, null
               from tickets where unit_id = :unit on conflict do nothing""")
_PLAIN_COUNT = text("""select count(*) from (select id from notices where unit_id = :unit and read_at is null
                       limit 1001) as unread""")


def _timed(run, repeat: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--clean", action="store_true", help="remove the bench's notices and stop")
    args = parser.parse_args()
    engine = make_engine(args.database_url)
    with engine.begin() as connection:
        if args.clean:
            connection.execute(text("delete from notices where kind = 'bench'"))
            return
        unit, tickets = connection.execute(text(
            "select unit_id, count(*) from tickets where unit_id is not null group by unit_id order by 2 desc limit 1")).one()
        started = time.perf_counter()
        added = connection.execute(_ADD, {"unit": unit}).rowcount
        connection.execute(text("analyze notices"))
        finished = ", ".join(f"'{state.value}'" for state in FINISHED_STATES)
        open_ = connection.execute(text(
            f"select count(*) from tickets where unit_id = :unit and state not in ({finished})"), {"unit": unit}).scalar()
        print(f"unit {unit}: {tickets:,} tickets ({open_:,} not finished), {added:,} notices added in "
              f"{time.perf_counter() - started:.1f} s")
    with Session(engine) as session:
        unread = latest(session, unit).unread
        print(f"unread as the inbox counts them: {unread}")
        rows = [("dispatch.notices.latest (the inbox)", lambda: latest(session, unit)),
                ("dispatch.notices.listed, unread only (first page)", lambda: listed(session, unit_id=unit, unread_only=True)),
                ("baseline: unread count without the done check", lambda: session.execute(_PLAIN_COUNT, {"unit": unit}).scalar()),
                ("baseline: select 1", lambda: session.execute(text("select 1")).scalar())]
        for name, run in rows:
            run()
            p50, p95 = _timed(run, args.repeat)
            print(f"  {name:50} p50 {p50:8.2f} ms   p95 {p95:8.2f} ms")


if __name__ == "__main__":
    main()
