"""The public board and the status lookup under concurrent load, beside a bare Starlette route
in the same run: requests/s and latency (p50, p99).

    .venv/bin/python bench/web.py                       # SQLite (temp file)
    .venv/bin/python bench/web.py --database-url postgresql://postgres@127.0.0.1/test

Each server runs in its own process under uvicorn (as in production), on loopback; the load
comes from httpx with asyncio, `--concurrency` requests at a time over keep-alive connections,
for at most `--seconds` or `-n` requests per measurement, whichever ends first. The database
holds the demo city and `--tickets` complaints; the status lookups ask for them in turn with
their right query codes. The bare route answers a fixed page as large as the board's.
Target: the board at 50% or more of the bare route's rate (its figures are cached and only
recomputed when a ticket changes). The PostgreSQL database's tables are dropped and rebuilt.
"""
from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

import servers  # bench/servers.py

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BODIES = ["小区门口路灯不亮已经一周", "工地夜间施工噪音扰民", "拖欠农民工工资三个月", "河道有人倾倒建筑垃圾",
          "公交车站台破损需要维修", "学校周边交通拥堵", "医院挂号难排队时间长", "商户占道经营影响通行"]


def serve(kind: str, port: int, database_url: str, page_bytes: int) -> None:
    """Runs in the child process."""
    import uvicorn

    if kind == "bare":
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import HTMLResponse
        from starlette.routing import Route

        page = "<!doctype html><title>bare</title>" + "热" * max(0, (page_bytes - 40) // 3)

        async def bare(request: Request) -> HTMLResponse:
            return HTMLResponse(page)

        app = Starlette(routes=[Route("/", bare)])
    else:
        from web.app import create_app
        from web.config import Settings

        app = create_app(Settings(database_url=database_url, log_level="WARNING"))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def start(kind: str, database_url: str, page_bytes: int = 0) -> tuple[subprocess.Popen[bytes], str]:
    return servers.start(__file__, kind, ["--database-url", database_url, "--page-bytes", str(page_bytes)])


@dataclass(frozen=True)
class Result:
    requests: int
    rate: float
    p50_ms: float
    p99_ms: float


async def run_load(url: str, paths: list[str], *, n: int, seconds: float, concurrency: int,
                   expect: str) -> Result:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    latencies: list[float] = []
    sent = 0
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        end = time.perf_counter() + seconds

        async def one_worker() -> None:
            nonlocal sent
            while sent < n and time.perf_counter() < end:
                path = paths[sent % len(paths)]
                sent += 1
                began = time.perf_counter()
                response = await client.get(path)
                latencies.append(time.perf_counter() - began)
                if response.status_code != 200 or expect not in response.text:
                    raise SystemExit(f"unexpected answer to {path}: {response.status_code} {response.text[:200]}")

        started = time.perf_counter()
        await asyncio.gather(*(one_worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return Result(len(latencies), len(latencies) / elapsed, pct(0.50), pct(0.99))


def measure(url: str, paths: list[str], args: argparse.Namespace, expect: str) -> Result:
    asyncio.run(run_load(url, paths, n=200, seconds=1, concurrency=args.concurrency, expect=expect))  # warm up
    return asyncio.run(run_load(url, paths, n=args.n, seconds=args.seconds, concurrency=args.concurrency,
                                expect=expect))


def prepare(url: str, tickets: int) -> list[tuple[str, str]]:
    """The demo city, its staff and samples, and `tickets` complaints through the real intake."""
    from dispatch import db
    from dispatch.demo import seed
    from dispatch.intake import IntakeRequest, intake
    from dispatch.vocabulary import Channel
    from web.config import Settings
    from web.services import Services

    db.recreate_schema(url)
    services = Services.build(Settings(database_url=url))
    try:
        services.run_sync(lambda s: seed(s, services.city, services.rules))

        def file(session):  # type: ignore[no-untyped-def]
            made = []
            for i in range(tickets):
                t = intake(session, IntakeRequest(channel=Channel.WEB, body=f"{BODIES[i % len(BODIES)]}（第{i}件）",
                                                  phone=f"139{i:08d}"), services.rules).ticket
                made.append((t.number, t.query_code))
            return made

        return services.run_sync(file)
    finally:
        services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a SQLite file in a temp folder")
    parser.add_argument("-n", type=int, default=20_000, help="most requests per measurement")
    parser.add_argument("--seconds", type=float, default=5.0, help="longest time per measurement")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--tickets", type=int, default=200, help="complaints to look up")
    parser.add_argument("--serve", choices=["bare", "hotline"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--page-bytes", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.database_url, args.page_bytes)
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        lookups = prepare(url, args.tickets)
        child, base = start("hotline", url)
        try:
            page_bytes = len(httpx.get(base + "/board").content)
            board = measure(base, ["/board"], args, "办理情况公示")
            status = measure(base, [f"/status?number={n}&code={c}" for n, c in lookups], args, "办理过程")
        finally:
            servers.stop(child)
        child, base = start("bare", url, page_bytes)
        try:
            bare = measure(base, ["/"], args, "bare")
        finally:
            servers.stop(child)
    print(f"database              {url.split('@')[-1]}")
    print(f"concurrency           {args.concurrency}  (at most {args.n} requests or {args.seconds:g} s each)")
    for name, r in (("bare Starlette route", bare), ("public board", board), ("status lookup", status)):
        print(f"{name:<21} {r.rate:8.0f} requests/s   p50 {r.p50_ms:6.1f} ms   p99 {r.p99_ms:6.1f} ms"
              f"   ({r.requests} requests)")
    print(f"board / bare          {board.rate / bare.rate:8.1%}  (target >= 50%; page {page_bytes} bytes each)")
    print(f"lookup / bare         {status.rate / bare.rate:8.1%}")


if __name__ == "__main__":
    main()
