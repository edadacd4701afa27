"""Where one request of a daily page spends its time, in-process: the statements it runs
(count, and each one's time), the request's wall time and the process's CPU time over it
(the server's Python work, which under load decides the throughput of one worker), and with
--profile the functions that take the most. For finding what to cut; throughput under load is bench/city.py's.

    .venv/bin/python bench/page_costs.py --database-url postgresql://postgres@127.0.0.1/big_x
    .venv/bin/python bench/page_costs.py --database-url ... --route inbox --profile

Each route is asked once to warm up, then --repeat times; the figures are of the median one.
The statements are timed between SQLAlchemy's before/after cursor hooks (the round trip)."""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import re
import contextlib
import functools
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

# The watcher's stamps (web/pages/site.py), read every second whatever else happens.
_WATCHER = re.compile(r"max\((ticket_events|notices)\.id\)|^(BEGIN|COMMIT|ROLLBACK)|^select 1", re.I)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after ROOT: bench/web.py is not the web package

from request_marks import IN_REQUEST, marking  # noqa: E402  (bench/request_marks.py)


def _paths(url: str) -> dict[str, tuple[str | None, list[str]]]:
    from urllib.parse import quote

    from city_measure import WORDS, _month, _samples  # bench/city_measure.py

    s = _samples(url)
    since, until = _month(s["today"])
    return {
        "status": (None, [f"/status?number={n}&code={c}" for n, c in s["lookups"]]),
        "operator": ("operator", ["/operator"]),
        "inbox": ("housing", ["/unit"]),
        "number": ("supervisor", [f"/search?q={n}" for n in s["numbers"]]),
        "phone": ("supervisor", [f"/search?q={p}" for p in s["phones"]]),
        "words": ("supervisor", [f"/search?q={quote(w)}" for w in WORDS]),
        # A unit's search also leaves out what has left the unit (one more check a ticket found).
        "unit_phone": ("housing", [f"/search?q={p}" for p in s["phones"]]),
        "unit_words": ("housing", [f"/search?q={quote(w)}" for w in WORDS]),
        "board": (None, ["/board"]),
        "stats_month": (None, [f"/api/v1/stats?since={since}&until={until}"]),
        "stats_year": (None, [f"/api/v1/stats?since={s['today'].year}-01-01&until={s['today'].year}-12-31"]),
        "stats_empty": (None, ["/api/v1/stats?since=2020-01-01&until=2020-12-31"]),
        "dashboard": ("supervisor", ["/supervisor"]),
    }


class ServerProfile:
    """cProfile in the threads that serve the requests: the event loop's (routes, templates)
    and the worker threads that run their database work. A profiler sees only the thread
    that enabled it, and TestClient serves from threads of its own."""

    def __init__(self, order: str = "cumulative") -> None:
        self.on = False
        self.order = order
        self._by_thread: dict[int, cProfile.Profile] = {}

    @contextlib.contextmanager
    def running(self) -> Any:
        if not (self.on and IN_REQUEST.get()):
            yield
            return
        profiler = self._by_thread.setdefault(threading.get_ident(), cProfile.Profile())
        profiler.enable()
        try:
            yield
        finally:
            profiler.disable()

    def wrap_app(self, app: Any) -> Any:
        async def profiled(scope: Any, receive: Any, send: Any) -> None:
            with self.running():
                await app(scope, receive, send)
        return profiled

    def wrap_off_loop(self, services: Any) -> None:
        """Profile what the app's Services send to worker threads."""
        off_loop = services.off_loop

        def profiled_call(function: Any, *args: Any) -> Any:
            with self.running():
                return function(*args)

        async def profiled(function: Any, *args: Any) -> Any:
            return await off_loop(functools.partial(profiled_call, function), *args)
        services.off_loop = profiled

    def print(self, top: int) -> None:
        out = io.StringIO()
        profilers = list(self._by_thread.values())
        if profilers:
            stats = pstats.Stats(profilers[0], stream=out)
            for more in profilers[1:]:
                stats.add(more)
            stats.sort_stats(self.order).print_stats(top)
        print(out.getvalue())
        self._by_thread.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--route", action="append", help="status, operator, inbox, number, phone, words, unit_phone, unit_words, board, stats_month, stats_year, stats_empty, dashboard (default: all)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the server side of the requests (event loop and worker threads), print the top functions")
    parser.add_argument("--profile-order", default="cumulative", help="pstats order: cumulative, tottime, ...")
    parser.add_argument("--statements", action="store_true", help="print every statement of the median request")
    parser.add_argument("--each", action="store_true",
                        help="each of a route's addresses on its own line (median of --repeat): the time of each statement, "
                             "in order, e.g. which of a search by words' listings costs what for each word")
    args = parser.parse_args()

    from sqlalchemy import event
    from starlette.testclient import TestClient

    from web.app import create_app
    from web.config import Settings

    paths = _paths(args.database_url)
    app = create_app(Settings(database_url=args.database_url, log_level="WARNING"))

    profile = ServerProfile(args.profile_order)
    marked = marking(profile.wrap_app(app))   # marked outside: the profile asks IN_REQUEST

    with TestClient(marked, base_url="http://127.0.0.1") as client:
        engine = app.state.services.engine
        profile.wrap_off_loop(app.state.services)
        log: list[tuple[str, float]] = []

        @event.listens_for(engine, "before_cursor_execute")
        def _before(conn: Any, *_: Any) -> None:
            conn.info["page_costs_t0"] = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            ms = (time.perf_counter() - conn.info.pop("page_costs_t0", time.perf_counter())) * 1000
            # The request's own statements only: the site's watcher reads its stamps every
            # second, and the worker threads carry the request's context (anyio copies it).
            (log if IN_REQUEST.get() else background).append((statement, ms))

        # The scheduler's first pass (chasing every overdue ticket) runs at start: let it end
        # (quiet but for the watcher's stamps), or it would weigh on the page measured.
        background: list[tuple[str, float]] = []
        quiet_since, seen = time.monotonic(), -1
        while time.monotonic() - quiet_since < 3 and len(background) < 1_000_000:
            busy = sum(1 for statement, _ in background if not _WATCHER.search(statement))
            if busy != seen:
                seen, quiet_since = busy, time.monotonic()
            time.sleep(0.5)
        print(f"(start-up work: {seen} statements)")
        cookies: dict[str, str] = {}
        for name in args.route or list(paths):
            who, urls = paths[name]
            client.cookies.clear()
            if who:
                if who not in cookies:
                    page = client.get("/login").text
                    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
                    answer = client.post("/login", data={"csrf_token": token, "username": who,
                                                         "password": "hotline-demo"}, follow_redirects=False)
                    assert answer.status_code == 303, answer.text[:300]
                    cookies[who] = client.cookies.get("hotline_session") or ""
                # Cleared above for the next route: a second route of the same user sets it again.
                client.cookies.set("hotline_session", cookies[who])
            if args.each:
                for url in dict.fromkeys(urls):
                    _each(client, url, args.repeat, log)
                continue
            runs = _runs(client, urls, args.repeat, log, profile if args.profile else None)
            wall, statements, size, _ = runs[len(runs) // 2]
            db = sum(ms for _, ms in statements)
            print(f"{name:<9} wall {wall:7.1f} ms (min {runs[0][0]:.1f}, max {runs[-1][0]:.1f}); "
                  f"cpu {statistics.median(r[3] for r in runs):.1f} ms; {len(statements)} statements {db:.1f} ms; "
                  f"page {size:,} bytes")
            if args.statements:
                for statement, ms in statements:
                    print(f"    {ms:7.2f} ms  {' '.join(statement.split())[:220]}")
            if args.profile:
                profile.print(45)
            print(f"  (median of {len(runs)}: {statistics.median(r[0] for r in runs):.1f} ms)")


def _runs(client: Any, urls: list[str], repeat: int, log: list[tuple[str, float]],
          profile: ServerProfile | None = None) -> list[tuple[float, list[tuple[str, float]], int, float]]:
    """The addresses asked in turn, the first request a warm-up, then `repeat` more: (wall ms,
    statements, page bytes, CPU ms) of each, fastest first."""
    runs = []
    for i, url in enumerate((urls * (repeat + 1))[:repeat + 1]):
        log.clear()
        if profile is not None:
            profile.on = bool(i)
        t, cpu = time.perf_counter(), time.process_time()
        answer = client.get(url)
        wall = (time.perf_counter() - t) * 1000
        cpu = (time.process_time() - cpu) * 1000
        if profile is not None:
            profile.on = False
        assert answer.status_code == 200, (url, answer.status_code, answer.text[:300])
        if i:
            runs.append((wall, list(log), len(answer.content), cpu))
    return sorted(runs, key=lambda r: r[0])


def _each(client: Any, url: str, repeat: int, log: list[tuple[str, float]]) -> None:
    """One address's median request: the time of each of its statements, in order."""
    runs = _runs(client, [url], repeat, log)
    wall, statements, _, _ = runs[len(runs) // 2]
    print(f"  {unquote(url):<28} wall {wall:6.1f} ms; {len(statements)} statements "
          f"{sum(ms for _, ms in statements):6.1f} ms: " + " ".join(f"{ms:.1f}" for _, ms in statements), flush=True)


if __name__ == "__main__":
    main()
