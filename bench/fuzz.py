"""Hostile input against a real server: requests tried and 5xx seen per public entry point.

    .venv/bin/python bench/fuzz.py                       # SQLite (temp file)
    .venv/bin/python bench/fuzz.py --database-url postgresql://postgres@127.0.0.1/test
    .venv/bin/python bench/fuzz.py --cases 10000 --login-cases 300 --seed 7

The hotline runs under uvicorn in a child process on loopback, with SMS on (Twilio's
stand-in in the same child) and no rate limits (one client would otherwise mostly see 429).
The requests come from tests/web/fuzzing.py, the generators the test suite uses a few
hundred of; here thousands, one keep-alive connection, signed webhooks. The baseline in
the same run: well-formed requests to the same entry points (a twentieth as many), 5xx seen.
A login costs an argon2 hash, so it gets fewer cases. A connection the server dropped
(uvicorn closes it after an unhandled error) counts as a 5xx. The PostgreSQL database is rebuilt.
"""
from __future__ import annotations

import argparse
import collections
import random
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

import servers  # bench/servers.py

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.web import fuzzing  # noqa: E402

ACCOUNT_SID = "AC" + "5" * 32
AUTH_TOKEN = "fuzz-auth-token"


def serve(port: int, database_url: str) -> None:
    """Runs in the child process."""
    import uvicorn

    from dispatch import db
    from dispatch.limits import Limits as DatabaseLimits
    from sms_gateway.simulator import ServerThread, TwilioSimulator
    from web.app import create_app
    from web.auth import RateLimiter
    from web.config import Secret, Settings, SmsSettings
    from web.pages.site import Limits

    db.recreate_schema(database_url)
    twilio = ServerThread()
    twilio.start(TwilioSimulator(ACCOUNT_SID, AUTH_TOKEN, url=twilio.url).app())
    settings = Settings(database_url=database_url, log_level="WARNING", sms=SmsSettings(
        account_sid=ACCOUNT_SID, auth_token=Secret(AUTH_TOKEN), from_number="+12345550100",
        public_url=f"http://127.0.0.1:{port}", api_base=twilio.url, throttle_max=10**9),
        limits=DatabaseLimits.build(api_intake_per_minute=0, lookup_failures_per_address=0,
                                    lookup_failures_per_ticket_address=0, lookup_failures_per_ticket=0,
                                    login_failures_per_user_address=0,
                                    login_failures_per_address=0, login_failures_per_user=0))
    app = create_app(settings)

    async def unlimited(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            app.state.site.limits = Limits(form_per_client=RateLimiter(10**9, 1))
        await app(scope, receive, send)

    uvicorn.run(unlimited, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def well_formed(entry_point: str, number: str, code: str, csrf: str, sign) -> fuzzing.FuzzRequest:  # type: ignore[no-untyped-def]
    form = {"POST /api/v1/tickets": fuzzing.FuzzRequest(
                "POST", "/api/v1/tickets", '{"body": "小区门口路灯不亮已经一周了"}'.encode(),
                {"content-type": "application/json"}),
            "GET /api/v1/tickets/{n}": fuzzing.FuzzRequest("GET", f"/api/v1/tickets/{number}?code={code}"),
            "GET /api/v1/stats": fuzzing.FuzzRequest("GET", "/api/v1/stats?since=2026-11-01&until=2026-11-30"),
            "GET /board": fuzzing.FuzzRequest("GET", "/board?days=7"),
            "GET /status": fuzzing.FuzzRequest("GET", f"/status?number={number}&code={code}"),
            "POST /": fuzzing.FuzzRequest("POST", "/", f"csrf_token={csrf}&type=complaint&body=%E8%B7%AF%E7%81%AF%E5%9D%8F%E4%BA%86".encode(),
                                          fuzzing.FORM),
            "POST /login": fuzzing.FuzzRequest("POST", "/login", f"csrf_token={csrf}&username=nobody&password=x".encode(),
                                               fuzzing.FORM)}
    if entry_point == "POST /sms/twilio":
        sms = {"MessageSid": f"SM{random.getrandbits(128):032x}", "AccountSid": ACCOUNT_SID,
               "From": "+8613812345678", "To": "+12345550100", "Body": "查询", "NumMedia": "0"}
        return fuzzing.FuzzRequest("POST", "/sms/twilio", urlencode(sms).encode(),
                                   {**fuzzing.FORM, "X-Twilio-Signature": sign("/sms/twilio", sms)})
    return form[entry_point]


def run(url: str, cases: int, login_cases: int, seed: int) -> int:
    from twilio.request_validator import RequestValidator

    def sign(path: str, form: dict[str, str]) -> str:
        return RequestValidator(AUTH_TOKEN).compute_signature(url + path, form)

    total_5xx = 0
    with httpx.Client(base_url=url, timeout=60) as client:
        made = client.post("/api/v1/tickets", json={"body": "小区门口路灯不亮已经一周了", "phone": "13812345678"}).json()
        page = client.get("/").text
        csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        print(f"{'entry point':<26} {'tried':>7} {'5xx':>5} {'2xx':>6} {'4xx':>6} {'req/s':>7}   "
              f"baseline: well-formed tried / 5xx")
        for entry_point, generate in fuzzing.ENTRY_POINTS.items():
            n = login_cases if entry_point == "POST /login" else cases
            rng = random.Random(f"{entry_point}-{seed}")
            classes: collections.Counter[str] = collections.Counter()
            examples: list[str] = []
            started = time.perf_counter()
            for _ in range(n):
                request = generate(rng, number=made["number"], code=made["query_code"], csrf=csrf, sign=sign)
                try:
                    status = client.request(request.method, request.path, content=request.body,
                                            headers=request.headers).status_code
                except httpx.TransportError:
                    # uvicorn closes the connection after an unhandled error: a 5xx all the same
                    status = 599
                classes[f"{status // 100}xx"] += 1
                if status >= 500 and len(examples) < 3:
                    examples.append(f"{request.method} {request.path[:100]} {request.body[:80]!r}")
            rate = n / (time.perf_counter() - started)
            baseline_n = max(1, n // 20)
            bad_baseline = sum(
                client.request(r.method, r.path, content=r.body, headers=r.headers).status_code >= 500
                for r in (well_formed(entry_point, made["number"], made["query_code"], csrf, sign)
                          for _ in range(baseline_n)))
            total_5xx += classes["5xx"]
            print(f"{entry_point:<26} {n:>7} {classes['5xx']:>5} {classes['2xx']:>6} {classes['4xx']:>6} "
                  f"{rate:>7.0f}   {baseline_n} / {bad_baseline}")
            for example in examples:
                print(f"    5xx: {example}")
    return total_5xx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--cases", type=int, default=2000, help="requests per entry point")
    parser.add_argument("--login-cases", type=int, default=100, help="requests to POST /login (argon2 each)")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.port, args.database_url)
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'fuzz.db'}"
        print(f"database: {url.split('://', 1)[0]}, seed {args.seed}")
        child, base = servers.start(__file__, "hotline", ["--database-url", url])
        try:
            total = run(base, args.cases, args.login_cases, args.seed)
        finally:
            servers.stop(child)
    print(f"total 5xx: {total}")
    sys.exit(1 if total else 0)


if __name__ == "__main__":
    main()
