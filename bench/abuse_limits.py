"""The abuse limits seen from outside, on a real server with its default settings: how many
texts reach a foreign number and one Chinese number, when wrong query codes and API
intakes get 429, and what a repeat reveals. Not a speed benchmark: it prints counts.

    .venv/bin/python bench/abuse_limits.py

The hotline runs in its own process under uvicorn on a SQLite file, sending its texts
through the Twilio stand-in (sms_gateway/simulator.py), whose list of sent messages is what
is counted. The script plays many clients behind one trusted proxy (X-Forwarded-For from
127.0.0.1, HOTLINE_TRUSTED_PROXIES=127.0.0.1), so that the per-address intake limit does not
hide the SMS caps; a last part plays one address alone.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

import servers  # bench/servers.py

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ACCOUNT_SID = "AC" + "7" * 32
AUTH_TOKEN = "bench-auth-token"


def serve(port: int) -> None:
    """Runs in the child process; the settings come from the environment, defaults and all."""
    import uvicorn

    from dispatch import db
    from web.app import create_app
    from web.config import Settings

    settings = Settings.from_env()
    db.upgrade(settings.database_url)
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def settle(sim, seconds: float = 3.0) -> None:  # type: ignore[no-untyped-def]
    """Wait until the outbox worker has sent nothing new for a second."""
    deadline, seen, quiet_since = time.monotonic() + seconds + 10, -1, time.monotonic()
    while time.monotonic() < deadline:
        if len(sim.messages) != seen:
            seen, quiet_since = len(sim.messages), time.monotonic()
        elif time.monotonic() - quiet_since > max(1.0, seconds / 3):
            return
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve")
    parser.add_argument("--port", type=int)
    parser.add_argument("--foreign", type=int, default=50, help="intakes with +44 numbers")
    parser.add_argument("--same-number", type=int, default=30, help="intakes with one Chinese number")
    args = parser.parse_args()
    if args.serve:
        serve(args.port)
        return
    from sms_gateway.simulator import ServerThread, TwilioSimulator

    sim = TwilioSimulator(ACCOUNT_SID, AUTH_TOKEN, callback_delay=0.01)
    sim_server = ServerThread()
    sim.url = sim_server.url
    sim_server.start(sim.app())
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update({"HOTLINE_DATABASE_URL": f"sqlite:///{tmp}/abuse.db", "HOTLINE_TRAIN_ON_START": "no",
                           "HOTLINE_LOG_LEVEL": "WARNING", "HOTLINE_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                           "HOTLINE_TWILIO_AUTH_TOKEN": AUTH_TOKEN, "HOTLINE_TWILIO_FROM": "+12345550100",
                           "HOTLINE_PUBLIC_URL": "http://127.0.0.1", "HOTLINE_TWILIO_API_BASE": sim_server.url,
                           "HOTLINE_TRUSTED_PROXIES": "127.0.0.1"})
        child, url = servers.start(__file__, "hotline", [])
        try:
            run(url, sim, args)
        finally:
            servers.stop(child)
            sim_server.stop()


def run(url: str, sim, args: argparse.Namespace) -> None:  # type: ignore[no-untyped-def]
    client = httpx.Client(base_url=url, timeout=30)
    addresses = (f"198.51.{n // 250}.{n % 250 + 1}" for n in range(10_000))

    def post(body: str, phone: str, address: str | None = None) -> httpx.Response:
        headers = {"x-forwarded-for": address or next(addresses)}
        return client.post("/api/v1/tickets", json={"body": body, "phone": phone}, headers=headers)

    foreign = [post(f"第{n}件：路灯不亮。", f"+4477009{n:05d}") for n in range(args.foreign)]
    settle(sim)
    to_foreign = [m for m in sim.messages if m.to.startswith("+44")]
    print(f"{args.foreign} API intakes with +44 numbers ({sum(r.status_code == 201 for r in foreign)} filed): "
          f"{len(to_foreign)} texts sent to +44 numbers")

    one = "+8613800138000"
    same = [post(f"第{n}件：井盖丢了。", one) for n in range(args.same_number)]
    settle(sim)
    print(f"{args.same_number} API intakes with one number ({sum(r.status_code == 201 for r in same)} filed): "
          f"{len(sim.sent_to(one))} texts sent to it (cap HOTLINE_SMS_PER_RECIPIENT_PER_DAY)")

    victim = post("小区门口垃圾三天没人清运。", "13900139000").json()
    repeat = post("小区门口垃圾，三天没人清运！", "139 0013 9000")
    settle(sim)
    print(f"a repeat through the API: HTTP {repeat.status_code}, query_code in the answer: "
          f"{'query_code' in repeat.json()}, the code in the answer text: {victim['query_code'] in repeat.text}; "
          f"texts to the phone on file: {[m.body[:22] for m in sim.sent_to('+8613900139000')]}")

    number, code = victim["number"], victim["query_code"]
    lone = "203.0.113.9"
    tries = 0
    for guess in (f"{n:06d}" for n in range(2000)):
        if guess == code:
            continue
        tries += 1
        answer = client.get(f"/api/v1/tickets/{number}", params={"code": guess}, headers={"x-forwarded-for": lone})
        if answer.status_code == 429:
            print(f"wrong query codes from one address: 429 at try {tries} "
                  f"(Retry-After {answer.headers['retry-after']} s, message {answer.json()['message']!r})")
            break
    else:
        print(f"wrong query codes from one address: no 429 in {tries} tries")

    statuses = [post(f"第{n}件：井盖丢了。", "13700137000", "203.0.113.10").status_code for n in range(15)]
    print(f"15 API intakes from one address within a minute: {statuses.count(201)} filed, "
          f"{statuses.count(429)} answered 429")


if __name__ == "__main__":
    main()
