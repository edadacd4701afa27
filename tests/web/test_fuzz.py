"""Hostile input at every public entry point gets a 4xx, never a 5xx, on either database:
a few hundred seeded requests each (bench/fuzz.py sends thousands to a real server)."""
from __future__ import annotations

import random
from typing import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient
from twilio.request_validator import RequestValidator

from dispatch.limits import Limits as DatabaseLimits
from sms_gateway.simulator import ServerThread, TwilioSimulator
from tests.web import fuzzing
from tests.web.pages_support import csrf
from web.app import create_app
from web.config import Secret, Settings, SmsSettings

CASES_PER_ENTRY_POINT = 200
# Every login attempt costs an argon2 hash (~0.1 s), wanted or not: fewer of those.
CASES = {"POST /login": 12}
ACCOUNT_SID = "AC" + "5" * 32
AUTH_TOKEN = "fuzz-auth-token"
PUBLIC_URL = "http://testserver"


# The fuzzer is one client: without these it would mostly see 429 (0 turns a limit off).
NO_LIMITS = DatabaseLimits.build(api_intake_per_minute=0, web_form_per_address=0, lookup_failures_per_address=0,
                                 lookup_failures_per_ticket_address=0, lookup_failures_per_ticket=0,
                                 login_failures_per_user_address=0, login_failures_per_address=0,
                                 login_failures_per_user=0)


@pytest.fixture
def client(database_url: str, sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    twilio = ServerThread()
    twilio.start(TwilioSimulator(ACCOUNT_SID, AUTH_TOKEN, url=twilio.url).app())
    settings = Settings(database_url=database_url, sms=SmsSettings(
        account_sid=ACCOUNT_SID, auth_token=Secret(AUTH_TOKEN), from_number="+12345550100",
        public_url=PUBLIC_URL, api_base=twilio.url, throttle_max=10**9), limits=NO_LIMITS)
    with TestClient(create_app(settings), raise_server_exceptions=False, follow_redirects=False) as client:
        yield client
    twilio.stop()


def sign(path: str, form: dict[str, str]) -> str:
    return RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + path, form)


@pytest.mark.parametrize("entry_point", list(fuzzing.ENTRY_POINTS))
def test_hostile_input_gets_a_4xx_never_a_5xx(entry_point: str, client: TestClient) -> None:
    made = client.post("/api/v1/tickets", json={"body": "小区门口路灯不亮已经一周了", "phone": "13812345678"}).json()
    token = csrf(client, "/") if entry_point in ("POST /", "POST /login") else ""
    generate = fuzzing.ENTRY_POINTS[entry_point]
    rng = random.Random(f"{entry_point}-12345")
    failures = []
    cases = CASES.get(entry_point, CASES_PER_ENTRY_POINT)
    for _ in range(cases):
        request = generate(rng, number=made["number"], code=made["query_code"], csrf=token, sign=sign)
        response = client.request(request.method, request.path, content=request.body, headers=request.headers)
        if response.status_code >= 500:
            failures.append((response.status_code, request.path[:120], request.body[:120]))
    assert failures == [], f"{len(failures)} of {cases}: {failures[:5]}"
