"""The page routes (the public board, the status lookup) under `hotline serve --workers 1`
and `--workers 2` on PostgreSQL, with wrk (c=32), beside a bare Starlette route served by
uvicorn with the same number of workers in the same run.

    .venv/bin/python bench/workers.py --database-url postgresql://postgres@127.0.0.1/bench_intake

The database is rebuilt (migrations, the demo city, `--tickets` complaints through intake);
the status lookups ask for those complaints in turn with their right query codes. The board
is measured as browsers ask for it (gzip accepted) and as a client that accepts no gzip. Target:
two workers give at least 1.6x one worker's requests/s. The bare route's own ratio says
what the machine allows (wrk itself takes a good part of the 2 cores).
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import intake_http  # bench/intake_http.py
import loadgen  # bench/loadgen.py
import servers  # bench/servers.py


def make_bare():  # type: ignore[no-untyped-def]
    """The bare route's app (uvicorn imports it by name in each worker)."""
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    page = "<!doctype html><title>bare</title>" + "热" * 3000

    async def bare(request):  # type: ignore[no-untyped-def]
        return HTMLResponse(page)

    return Starlette(routes=[Route("/", bare)])


def serve_bare(port: int, workers: int) -> None:
    import uvicorn

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    uvicorn.run("workers:make_bare", factory=True, host="127.0.0.1", port=port, workers=workers,
                log_level="warning", access_log=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=False, help="a PostgreSQL database (its tables are rebuilt)")
    parser.add_argument("--tickets", type=int, default=200, help="complaints to look up")
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=2, help="1 and 2 workers alternate this many times")
    parser.add_argument("--port", type=int, default=0, help="a port to serve on (default: any free)")
    parser.add_argument("--model-dir", default="models")
    parser.add_argument("--serve", choices=["bare"], help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_bare(args.port, args.workers)
        return
    if not args.database_url or not args.database_url.startswith("postgres"):
        raise SystemExit("--database-url: a PostgreSQL database (SQLite serves one process)")
    # bench/web.py, whose name the project's web package takes
    spec = importlib.util.spec_from_file_location("bench_web", Path(__file__).with_name("web.py"))
    assert spec is not None and spec.loader is not None
    web_bench = sys.modules["bench_web"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(web_bench)
    lookups = web_bench.prepare(args.database_url, args.tickets)
    # The board as browsers get it (gzipped, 10 KB) and as a client that accepts no gzip (48 KB).
    routes = {"board": (["/board"], True), "board, plain": (["/board"], False),
              "status lookup": ([f"/status?number={n}&code={c}" for n, c in lookups], True)}
    model_dir = Path(args.model_dir).resolve()
    port = args.port or servers.free_port()
    print(f"machine: {intake_http.uptime()}")
    rates: dict[tuple[str, int], list[float]] = {}
    seconds = max(1, round(args.seconds))
    for _ in range(args.rounds):
        for workers in (1, 2):
            child, base = intake_http.start_hotline(args.database_url, model_dir, port, workers)
            try:
                for name, (paths, gzip) in routes.items():
                    loadgen.wrk(base, paths, 2, gzip=gzip)  # warm every worker's caches
                    load = loadgen.wrk(base, paths, seconds, gzip=gzip)
                    assert load.errors == 0, load
                    rates.setdefault((name, workers), []).append(load.rate)
            finally:
                servers.stop(child)
            child, base = servers.start(__file__, "bare", ["--workers", str(workers)], port=port)
            try:
                loadgen.wrk(base, ["/"], 2)
                rates.setdefault(("bare route", workers), []).append(loadgen.wrk(base, ["/"], seconds).rate)
            finally:
                servers.stop(child)
    print(f"machine: {intake_http.uptime()}")
    print(f"wrk -t2 -c32, {args.seconds:g} s each, {args.rounds} rounds of 1 then 2 workers; best round shown, all in brackets")
    for name in ("bare route", *routes):
        one, two = rates[(name, 1)], rates[(name, 2)]
        print(f"{name:<14} 1 worker {max(one):8,.0f} req/s   2 workers {max(two):8,.0f} req/s   "
              f"x{max(two) / max(one):4.2f}   ({', '.join(f'{r:,.0f}' for r in one)} / {', '.join(f'{r:,.0f}' for r in two)})")


if __name__ == "__main__":
    main()
