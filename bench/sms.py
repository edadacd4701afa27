"""Signed Twilio webhooks per second, end to end, beside a bare Starlette route in the same run.

    .venv/bin/python bench/sms.py                       # SQLite (temp file)
    .venv/bin/python bench/sms.py --database-url postgresql://postgres@127.0.0.1/test
    .venv/bin/python bench/sms.py --no-model            # without the classifier

Each server runs in its own process under uvicorn (as in production); a client process
posts pre-signed webhooks over keep-alive connections, `--concurrency` at a time. Every
webhook is a new complaint from its own number, so each one is a full pass: signature
check, the inbound log, the throttle count, intake (routing with the classifier, numbering,
repeat check, events), the commit and the TwiML reply. The default model is trained into
--model-dir first if there is none (not timed). The bare route reads the same form and answers a fixed TwiML.
Target: the webhook rate is at least 30% of the bare route's. The PostgreSQL database's
tables are dropped and rebuilt.
"""
from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

import servers  # bench/servers.py

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "bench-auth-token"
BODIES = ["小区门口路灯不亮已经一周", "工地夜间施工噪音扰民", "拖欠农民工工资三个月", "河道有人倾倒建筑垃圾",
          "公交车站台破损需要维修", "学校周边交通拥堵", "医院挂号难排队时间长", "商户占道经营影响通行"]
TWIML_OK = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>ok</Message></Response>'


def serve(kind: str, port: int, database_url: str, model_dir: str | None) -> None:
    """Runs in the child process."""
    import uvicorn

    if kind == "bare":
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import Response
        from starlette.routing import Route

        from sms_gateway.webhook import parse_form

        async def bare(request: Request) -> Response:
            parse_form(await request.body())
            return Response(TWIML_OK, media_type="application/xml")

        app = Starlette(routes=[Route("/sms/twilio", bare, methods=["POST"])])
    else:
        from web.app import create_app
        from web.config import Secret, Settings, SmsSettings

        app = create_app(Settings(database_url=database_url, log_level="WARNING",
                                  model_dir=Path(model_dir or tempfile.mkdtemp()), sms=SmsSettings(
            account_sid=ACCOUNT_SID, auth_token=Secret(AUTH_TOKEN), from_number="+10000012345",
            public_url=f"http://127.0.0.1:{port}", api_base="http://127.0.0.1:9")))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def start(kind: str, database_url: str, model_dir: str | None) -> tuple[subprocess.Popen[bytes], str]:
    return servers.start(__file__, kind, ["--database-url", database_url]
                         + (["--model-dir", model_dir] if model_dir else ["--no-model"]))


def signed_requests(url: str, n: int, offset: int) -> list[tuple[dict[str, str], str]]:
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(AUTH_TOKEN)
    out = []
    for i in range(offset, offset + n):
        form = {"MessageSid": f"SM{i:032x}", "AccountSid": ACCOUNT_SID, "From": f"+86139{i:08d}",
                "To": "+10000012345", "Body": f"{BODIES[i % len(BODIES)]}（第{i}件）", "NumMedia": "0",
                "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01"}
        out.append((form, validator.compute_signature(url + "/sms/twilio", form)))
    return out


async def run_load(url: str, requests: list[tuple[dict[str, str], str]], concurrency: int) -> float:
    queue = list(reversed(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        async def one_worker() -> None:
            while queue:
                form, signature = queue.pop()
                response = await client.post("/sms/twilio", data=form, headers={"X-Twilio-Signature": signature})
                if response.status_code != 200 or "<Message>" not in response.text:
                    raise SystemExit(f"unexpected answer {response.status_code}: {response.text[:200]}")

        started = time.perf_counter()
        await asyncio.gather(*(one_worker() for _ in range(concurrency)))
        return len(requests) / (time.perf_counter() - started)


def measure(kind: str, database_url: str, model_dir: str | None, n: int, concurrency: int) -> float:
    child, url = start(kind, database_url, model_dir)
    try:
        asyncio.run(run_load(url, signed_requests(url, min(200, n), 10**7), concurrency))  # warm up
        return asyncio.run(run_load(url, signed_requests(url, n, 0), concurrency))
    finally:
        servers.stop(child)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a SQLite file in a temp folder")
    parser.add_argument("-n", type=int, default=2000, help="webhooks per measurement")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--model-dir", default="models", help="classifier models (the default one is trained there if none)")
    parser.add_argument("--no-model", action="store_true", help="route without the classifier")
    parser.add_argument("--serve", choices=["bare", "hotline"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    model_dir = None if args.no_model else args.model_dir
    if args.serve:
        serve(args.serve, args.port, args.database_url, model_dir)
        return
    if model_dir:
        from classifier import ensure_default_model

        ensure_default_model(model_dir, lambda message: print(message, file=sys.stderr))
    with tempfile.TemporaryDirectory() as tmp:
        from dispatch import db

        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        db.recreate_schema(url)
        bare = measure("bare", url, model_dir, args.n, args.concurrency)
        hotline = measure("hotline", url, model_dir, args.n, args.concurrency)
        by_model = _routed_by_model(url)
    print(f"database            {url.split('@')[-1]}")
    print(f"bare Starlette route {bare:8.0f} requests/s")
    routing = "no classifier" if model_dir is None else "classifier"
    print(f"signed SMS webhook   {hotline:8.0f} webhooks/s  (validation, intake with {routing}, TwiML)")
    print(f"ratio                {hotline / bare:8.1%}  (target >= 30%)")
    print(f"tickets the classifier scored: {by_model[0]} of {by_model[1]} (warm-up included)")


def _routed_by_model(database_url: str) -> tuple[int, int]:
    """Checks the run measured what it says: how many tickets the model gave a probability."""
    from sqlalchemy import select

    from dispatch import db
    from dispatch.models import Ticket

    engine = db.make_engine(database_url)
    with engine.connect() as connection:
        routings = connection.execute(select(Ticket.routing)).scalars().all()
    engine.dispose()
    return sum(1 for r in routings if r and r.get("probability") is not None), len(routings)


if __name__ == "__main__":
    main()
