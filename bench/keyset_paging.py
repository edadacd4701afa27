"""Deep pages of the staff API's ticket list (`GET /api/v1/staff/tickets`): page N asked by
number (`page=N`, OFFSET: the baseline) beside the same page asked by cursor (`cursor=`, keyset
on received_at and id), in the same run on the same database. Each is the dispatch call the
route makes (queries.staff_tickets, 50 a page, newest first, as an operator sees the list),
timed in-process; the two pages are checked to hold the same tickets.

    .venv/bin/python bench/keyset_paging.py --database-url postgresql://postgres@127.0.0.1/bench_paging
    .venv/bin/python bench/keyset_paging.py --database-url ... --skip-load --pages 1 100 1000 4000

The database's tables are rebuilt and `--tickets` tickets loaded as bench/search.py loads them
(COPY, spread over three years; PostgreSQL), without its word index unless `--word-index`: a
list without `q` never reads it, and building it is most of the load (over 11 minutes for
200,000 tickets on a loaded 2-core machine). Figures: the median and the 90th percentile of
`--repeats` calls each.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import search  # bench/search.py: the data builder

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGE_SIZE = 50


def _timed(call, repeats: int) -> tuple[float, float, object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeats):
        began = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.9))], result


def measure(url: str, pages: list[int], repeats: int, state: str | None) -> None:
    from sqlalchemy import func, select

    from dispatch import db, queries
    from dispatch.models import Ticket
    from dispatch.paging import keyset_of

    engine = db.make_engine(url)
    sessions = db.make_sessionmaker(engine)
    wanted = queries.TicketFilter(state=state)
    with sessions() as session:
        total = session.scalar(select(func.count()).select_from(Ticket))
        print(f"{total:,} tickets on {engine.dialect.name}; 50 a page; state={state or 'any'}; "
              f"{repeats} calls each (median / p90, ms)")
        print(f"{'page':>7} {'rows skipped':>13} {'OFFSET (page=N)':>19} {'cursor':>17} {'OFFSET/cursor':>14}")
        for page in pages:
            # The cursor a client holds after page N - 1 (its next_cursor), made outside the timing.
            before = queries.staff_tickets(session, wanted=wanted, page=page - 1, page_size=PAGE_SIZE) \
                if page > 1 else None
            after = keyset_of(queries.TICKETS_CURSOR, before.next_cursor, timed=True) if before else None
            by_offset = _timed(lambda: queries.staff_tickets(session, wanted=wanted, page=page,
                                                             page_size=PAGE_SIZE), repeats)
            if after is None:
                by_cursor = by_offset
            else:
                by_cursor = _timed(lambda: queries.staff_tickets(session, wanted=wanted, page_size=PAGE_SIZE,
                                                                 after=after), repeats)
            same = [t.id for t in by_offset[2].tickets] == [t.id for t in by_cursor[2].tickets]  # type: ignore[attr-defined]
            print(f"{page:>7} {(page - 1) * PAGE_SIZE:>13,} {by_offset[0]:>9.1f} / {by_offset[1]:>7.1f} "
                  f"{by_cursor[0]:>7.1f} / {by_cursor[1]:>7.1f} {by_offset[0] / by_cursor[0]:>13.1f}x"
                  + ("" if same else "  DIFFERENT ROWS"), flush=True)
            session.rollback()
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL database (its tables are rebuilt)")
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--skip-load", action="store_true", help="measure the tickets already loaded")
    parser.add_argument("--pages", type=int, nargs="+", default=[1, 2, 20, 200, 1000, 2000, 3999])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--word-index", action="store_true", help="build the search's word index too")
    parser.add_argument("--state", help="the list of one state only (e.g. closed)")
    args = parser.parse_args()
    if not args.skip_load:
        if not args.word_index:
            from dispatch import text_search
            text_search.create_statements = lambda **_: ["ANALYZE tickets"]  # type: ignore[assignment]
        search.load(args.database_url, args.tickets)
    measure(args.database_url, args.pages, args.repeats, args.state)


if __name__ == "__main__":
    main()
