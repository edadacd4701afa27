"""Intake over HTTP: POST /api/v1/tickets under wrk (c=32), one uvicorn worker (`hotline
serve`), on SQLite and PostgreSQL, beside a bare Starlette POST route in the same run.

    .venv/bin/python bench/intake_http.py                                   # SQLite only
    .venv/bin/python bench/intake_http.py --database-url sqlite \\
        --database-url postgresql://postgres@127.0.0.1/bench_intake --seconds 15

Each database is rebuilt (migrations, then the demo city as `hotline serve --demo` seeds it,
without its history). The requests post real citizen messages from classifier/data/dev.csv
(title and body), four in five with a phone number of their own (so none is a repeat), as
JSON from a wrk Lua script; the bare route reads and parses the same JSON and answers a body
of the same shape. The per-address intake limit is raised out of the way (it is still
counted, one upsert per request, as in production).

Before the load, `--count` tickets go through the same app in-process, and SQLAlchemy event
hooks count what each costs the database: statements, transactions, and connections taken
from the pool (each one a `SELECT 1` round trip when the pool pings before use).
`--show-sql` prints one ticket's statements. `--py-spy FILE` records the server under load.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

import servers  # bench/servers.py
from request_marks import IN_REQUEST, marking  # bench/request_marks.py

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LUA = """
local bodies = {%(bodies)s}
local next_tid = 1
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end
local i = 0
local base = 0
function init(args)
  base = tonumber(args[1] or "0")
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
function request()
  i = i + 1
  local body = bodies[(i * 7919 + tid * 104729) %% #bodies + 1]
  local phone = ""
  if i %% 5 ~= 0 then
    phone = string.format(',"phone":"13%%d%%08d"', tid, base + i)
  end
  return wrk.format(nil, "/api/v1/tickets", nil, body .. phone .. "}")
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%.1f %%.1f %%.1f\\n", summary.requests, summary.duration,
    e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""


def texts(count: int, seed: int = 14) -> list[dict[str, str]]:
    """`count` real messages (title and body) from the classifier's data, in a fixed random order."""
    with (ROOT / "classifier" / "data" / "dev.csv").open(encoding="utf-8") as file:
        rows = [{"title": r["title"].strip()[:200], "body": r["body"].strip()} for r in csv.DictReader(file)]
    rows = [r for r in rows if r["title"] and r["body"] and len(r["body"]) <= 5000]
    random.Random(seed).shuffle(rows)
    return rows[:count]


def lua_script(messages: list[dict[str, str]]) -> str:
    # Each entry is a JSON object without its closing brace: the script adds the phone.
    entries = []
    for message in messages:
        encoded = json.dumps(message, ensure_ascii=False)[:-1]
        assert "]==]" not in encoded
        entries.append(f"[==[{encoded}]==]")
    return LUA % {"bodies": ",\n".join(entries)}


# ---- the servers ------------------------------------------------------------------------

def serve_bare(port: int) -> None:
    """Runs in the child process: a POST route that reads the same JSON and answers alike."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, PlainTextResponse
    from starlette.routing import Route

    async def bare(request: Request) -> JSONResponse:
        data = await request.json()
        if not isinstance(data, dict) or not data.get("body"):
            return JSONResponse({"error": "body"}, status_code=400)
        return JSONResponse({"number": "20261203-0001", "query_code": "123456", "state": "received",
                             "deadline": "2026-12-17T09:00:00+00:00", "received_at": "2026-12-03T09:00:00+00:00",
                             "repeat_of_open_ticket": False}, status_code=201)

    async def root(request: Request) -> PlainTextResponse:
        return PlainTextResponse("bare")

    app = Starlette(routes=[Route("/", root), Route("/api/v1/tickets", bare, methods=["POST"])])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def hotline_env(url: str, model_dir: Path) -> dict[str, str]:
    return {"HOTLINE_DATABASE_URL": url, "HOTLINE_MODEL_DIR": str(model_dir), "HOTLINE_TRAIN_ON_START": "no",
            "HOTLINE_LOG_LEVEL": "WARNING", "HOTLINE_REPORTS": "no", "HOTLINE_REPORT_PDF": "off",
            "HOTLINE_API_INTAKE_PER_MINUTE": "100000000"}


def start_hotline(url: str, model_dir: Path, port: int, workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    """`hotline serve` as a city runs it; returns once /readyz says ready (model loaded)."""
    env = os.environ | hotline_env(url, model_dir)
    hotline = str(Path(sys.executable).parent / "hotline")
    child = subprocess.Popen([hotline, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
                             env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240  # worker processes took over 60 s to start on the loaded machine
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise SystemExit(f"hotline serve exited with {child.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return child, base
        time.sleep(0.2)
    servers.stop(child)
    raise SystemExit("hotline serve did not become ready")


def prepare(url: str) -> None:
    """A fresh schema with the demo city, its staff and sample tickets."""
    from dispatch import db
    from dispatch.demo import seed
    from web.config import Settings
    from web.services import Services

    db.recreate_schema(url)
    services = Services.build(Settings(database_url=url))
    try:
        services.run_sync(lambda s: seed(s, services.city, services.rules))
    finally:
        services.close()


def count_tickets(url: str) -> int:
    from sqlalchemy import text

    from dispatch import db
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM tickets")).scalar_one())
    finally:
        engine.dispose()


# ---- load -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    status_errors: int
    socket_errors: int
    p50: float
    p95: float
    p99: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def wrk(base: str, script: Path, seconds: float, offset: int, connections: int = 32) -> Load:
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "30s", "-s", str(script),
                          base, "--", str(offset)], capture_output=True, text=True, check=True).stdout
    found = re.search(r"^RESULT (\d+) (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+)$", out, re.M)
    assert found, out
    n, micros, status, sockets, p50, p95, p99 = found.groups()
    return Load(int(n), int(micros) / 1e6, int(status), int(sockets), float(p50), float(p95), float(p99))


# ---- round trips ------------------------------------------------------------------------



@dataclass
class RoundTrips:
    """What requests cost the database, counted by SQLAlchemy event hooks. Only work done for
    a request counts (the leader election and the relay run beside it): the context variable
    follows the request into its worker threads."""

    statements: int = 0
    transactions: int = 0
    commits: int = 0
    checkouts: int = 0
    pinged: bool = False
    seen: list[str] = field(default_factory=list)

    def install(self, engine: Any) -> None:
        from sqlalchemy import event

        self.pinged = bool(getattr(engine.pool, "_pre_ping", False))

        @event.listens_for(engine, "before_cursor_execute")
        def statement(conn, cursor, sql, parameters, context, executemany):  # type: ignore[no-untyped-def]
            if IN_REQUEST.get():
                self.statements += 1
                self.seen.append(" ".join(sql.split())[:150])

        @event.listens_for(engine, "begin")
        def begin(conn):  # type: ignore[no-untyped-def]
            if IN_REQUEST.get():
                self.transactions += 1

        @event.listens_for(engine, "commit")
        def commit(conn):  # type: ignore[no-untyped-def]
            if IN_REQUEST.get():
                self.commits += 1

        @event.listens_for(engine.pool, "checkout")
        def checkout(dbapi_connection, record, proxy):  # type: ignore[no-untyped-def]
            if IN_REQUEST.get():
                self.checkouts += 1

    def per_ticket(self, n: int) -> str:
        pings = self.checkouts if self.pinged else 0
        trips = self.statements + self.transactions + self.commits + pings
        return (f"{self.statements / n:.1f} statements, {self.transactions / n:.1f} transactions "
                f"({self.commits / n:.1f} commits), {self.checkouts / n:.1f} pool checkouts "
                f"({'each pinged' if self.pinged else 'no ping'}): ~{trips / n:.1f} round trips a ticket on PostgreSQL")


def count_round_trips(url: str, model_dir: Path, messages: list[dict[str, str]], n: int,
                      show_sql: bool) -> tuple[RoundTrips, int]:
    """`n` tickets through the app in-process, counting what they cost the database."""
    from starlette.testclient import TestClient

    from web.app import create_app
    from web.config import Settings

    os_env = hotline_env(url, model_dir)
    settings = Settings.from_env(os_env)
    app = create_app(settings)
    counts = RoundTrips()

    counting = marking(app)

    made = 0
    with TestClient(counting) as client:
        services = app.state.services
        deadline = time.monotonic() + 60
        while services.router.model is None and time.monotonic() < deadline:
            time.sleep(0.1)
        for i, message in enumerate(messages[:20]):  # warm: first-use costs are not per ticket
            client.post("/api/v1/tickets", json={**message, "phone": f"1370000{i:04d}"})
        counts.install(services.engine)
        for i in range(n):
            message = messages[(20 + i) % len(messages)]
            body = {**message, "phone": f"1380000{i:04d}"} if i % 5 else message
            response = client.post("/api/v1/tickets", json=body)
            assert response.status_code in (200, 201), response.text
            made += response.status_code == 201
            if i == 0 and show_sql:
                print("  one ticket's statements:")
                for line in counts.seen:
                    print("   ", line)
    return counts, made


# ---- the run ----------------------------------------------------------------------------

def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and its children so far, from /proc."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    while pids:
        current = pids.pop()
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            for task in Path(f"/proc/{current}/task").iterdir():
                with contextlib.suppress(OSError):
                    pids.extend(int(c) for c in (task / "children").read_text().split())
    return total


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", action="append",
                        help="'sqlite' (a temp file) or a PostgreSQL URL (its tables are rebuilt); repeat for both. "
                             "Default: sqlite")
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--warm-seconds", type=float, default=3.0)
    parser.add_argument("--messages", type=int, default=1000, help="distinct texts posted")
    parser.add_argument("--count", type=int, default=200, help="tickets for the round-trip count")
    parser.add_argument("--show-sql", action="store_true")
    parser.add_argument("--model-dir", default="models", help="classifier models (the default one is trained if none)")
    parser.add_argument("--port", type=int, default=0, help="first of two ports to serve on (default: any free)")
    parser.add_argument("--workers", type=int, action="append",
                        help="hotline serve --workers N (repeat to measure several, e.g. 1 and 2); default 1")
    parser.add_argument("--py-spy", help="record the hotline server under load into this file (py-spy, raw format)")
    parser.add_argument("--serve", choices=["bare"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_bare(args.port)
        return
    from classifier import ensure_default_model
    model_dir = Path(args.model_dir).resolve()
    ensure_default_model(model_dir)
    messages = texts(args.messages)
    ports = (args.port, args.port + 1) if args.port else (servers.free_port(), servers.free_port())
    print(f"machine: {uptime()}")
    results: list[tuple[str, Load, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "intake.lua"
        script.write_text(lua_script(messages), encoding="utf-8")
        offset = 0

        def measure(base: str, before_load: Any = None) -> Load:
            nonlocal offset
            for _ in range(10):  # a worker still loading its model answers nothing: warm until all answer
                warm = wrk(base, script, args.warm_seconds, offset)
                offset += 5_000_000
                if warm.rate >= 1 and warm.p50 < 1000 * args.warm_seconds / 2:
                    break
            if before_load is not None:
                before_load()
            load = wrk(base, script, args.seconds, offset)
            offset += 5_000_000
            return load

        def bare(label: str) -> None:
            child, base = servers.start(__file__, "bare", [], port=ports[1])
            try:
                results.append((label, measure(base), ""))
            finally:
                servers.stop(child)

        def load_hotline(url: str, name: str, workers: int) -> tuple[str, Load, str]:
            nonlocal offset
            child, base = start_hotline(url, model_dir, ports[0], workers)
            spy = None
            start: dict[str, float] = {}

            def before_load() -> None:  # after the warm-up: every worker has its model by then
                start.update(tickets=count_tickets(url), cpu=server_cpu(child.pid))

            try:
                if args.py_spy:
                    wrk(base, script, args.warm_seconds, offset)
                    offset += 5_000_000
                    spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--format", "raw",
                                            "-o", f"{args.py_spy}.{name}.{workers}", "-d", str(int(args.seconds)),
                                            "-p", str(child.pid), "--subprocesses"],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                load = measure(base, before_load)
                cpu = server_cpu(child.pid) - start["cpu"]
                if spy is not None:
                    spy.wait(60)
            finally:
                servers.stop(child)
            stored = count_tickets(url) - int(start["tickets"])
            return (f"POST /api/v1/tickets, {name}, {workers} worker{'s' if workers > 1 else ''}", load,
                    f"{stored:,} tickets stored during the load (the requests still open at its end included); "
                    f"server CPU {cpu * 1000 / max(1, stored):.1f} ms a ticket (all its processes); "
                    f"load average after {os.getloadavg()[0]:.1f}")

        bare("bare POST route (first)")
        for given in args.database_url or ["sqlite"]:
            url = f"sqlite:///{Path(tmp) / 'intake.db'}" if given == "sqlite" else given
            name = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
            prepare(url)
            counts, made = count_round_trips(url, model_dir, messages, args.count, args.show_sql)
            print(f"{name}: {args.count} tickets in-process ({made} new): {counts.per_ticket(args.count)}")
            for workers in args.workers or [1]:
                if workers == 1 or name == "PostgreSQL":  # SQLite serves one process only
                    results.append(load_hotline(url, name, workers))
        bare("bare POST route (last)")
    print(f"machine: {uptime()}")
    print(f"wrk -t2 -c32, {args.seconds:g} s each after {args.warm_seconds:g} s warm-up, "
          f"{len(messages)} distinct texts")
    bare_rates = [load.rate for label, load, _ in results if label.startswith("bare")]
    for label, load, note in results:
        share = "" if label.startswith("bare") else f"  {load.rate / max(bare_rates):6.1%} of the bare route"
        print(f"{label:<34} {load.rate:8,.0f} req/s  p50 {load.p50:6.1f} ms  p95 {load.p95:6.1f} ms  "
              f"p99 {load.p99:7.1f} ms  ({load.requests:,} requests, {load.status_errors} non-2xx, "
              f"{load.socket_errors} socket errors){share}")
        if note:
            print(f"{'':<34} {note}")


if __name__ == "__main__":
    main()
