"""What no database can store, and dates no calendar can hold, get the same clear 4xx in
Chinese on SQLite and PostgreSQL, and nothing is stored."""
from __future__ import annotations

import json
from typing import Iterator
from urllib.parse import quote

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient
from twilio.request_validator import RequestValidator

from dispatch.models import SmsInbound, Ticket
from sms_gateway.simulator import ServerThread, TwilioSimulator
from tests.web.pages_support import csrf
from web.app import create_app
from web.config import Secret, Settings, SmsSettings

AUTH_TOKEN = "inputs-auth-token"
PUBLIC_URL = "http://testserver"
UNSTORABLE_MESSAGE = "含有无法保存的字符（空字符或不成对的 Unicode 代理字符），请删除后重试"


@pytest.fixture
def client(database_url: str, sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    twilio = ServerThread()
    twilio.start(TwilioSimulator("AC" + "7" * 32, AUTH_TOKEN, url=twilio.url).app())
    settings = Settings(database_url=database_url, sms=SmsSettings(
        account_sid="AC" + "7" * 32, auth_token=Secret(AUTH_TOKEN), from_number="+12345550100",
        public_url=PUBLIC_URL, api_base=twilio.url))
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client
    twilio.stop()


def tickets(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Ticket)) or 0)


@pytest.mark.parametrize("body", [{"body": "\ud800"}, {"body": "路灯\x00坏了"}, {"body": "路灯坏了", "name": "张\udfff"},
                                  {"body": "路灯坏了", "location": ["\x00"]}, {"body": "路灯坏了", "\x00": 1}])
def test_a_lone_surrogate_or_nul_in_the_api_json_is_refused(body: dict, client: TestClient,
                                                            sessions: sessionmaker[Session]) -> None:
    # ASCII-escaped, as a browser's JSON.stringify sends a lone surrogate: "\ud800"
    response = client.post("/api/v1/tickets", content=json.dumps(body).encode("ascii"),
                           headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_input" and UNSTORABLE_MESSAGE in response.json()["message"]
    assert tickets(sessions) == 0


def test_json_nested_thousands_deep_is_refused_not_a_crash(client: TestClient) -> None:
    response = client.post("/api/v1/tickets", content=b"[" * 100_000 + b"]" * 100_000,
                           headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["message"] == "请求不是有效的 JSON。"


@pytest.mark.parametrize("path", ["/api/v1/tickets/20261101-0001?code=12%0034", "/api/v1/tickets/2026%001101",
                                  "/status?number=20261101-0001&code=%00", "/board?since=2026-11-01%00",
                                  "/api/v1/stats?until=%00"])
def test_nul_in_a_path_or_query_is_refused_the_same_everywhere(path: str, client: TestClient) -> None:
    response = client.get(path)
    assert response.status_code == 422
    assert UNSTORABLE_MESSAGE in response.text


def test_nul_in_the_citizen_form_and_login_form_is_refused(client: TestClient, sessions: sessionmaker[Session]) -> None:
    form = client.post("/", data={"csrf_token": csrf(client, "/"), "body": "路灯\x00坏了", "type": "complaint"})
    login = client.post("/login", data={"csrf_token": csrf(client), "username": "admin\x00", "password": "x"})
    for response in (form, login):
        assert response.status_code == 422 and UNSTORABLE_MESSAGE in response.text
    assert tickets(sessions) == 0


def test_nul_in_a_signed_text_message_is_refused_and_not_stored(client: TestClient,
                                                                 sessions: sessionmaker[Session]) -> None:
    form = {"MessageSid": "SM" + "1" * 32, "AccountSid": "AC" + "7" * 32, "From": "+8613812345678",
            "To": "+12345550100", "Body": "路灯\x00坏了", "NumMedia": "0"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + "/sms/twilio", form)
    response = client.post("/sms/twilio", data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 400 and UNSTORABLE_MESSAGE in response.text
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(SmsInbound)) == 0


@pytest.mark.parametrize("query", ["since=0001-01-01&until=0001-01-29", "until=0001-01-01", "until=9999-12-31",
                                   "since=9999-12-31&until=9999-12-31", "since=1999-12-31"])
def test_dates_near_year_1_or_9999_are_refused_by_stats_and_board(query: str, client: TestClient) -> None:
    stats = client.get(f"/api/v1/stats?{query}")
    board = client.get(f"/board?{query}")
    assert stats.status_code == board.status_code == 422
    assert "日期须在 2000-01-01 至 2099-12-31 之间" in stats.json()["message"]
    assert "日期须在 2000-01-01 至 2099-12-31 之间" in board.text


def test_a_day_count_in_superscript_digits_is_refused(client: TestClient) -> None:
    assert client.get("/board?days=²").status_code == 422
    assert client.get("/board?days=7").status_code == 200


@pytest.mark.parametrize("outbox_id", ["99999999999", "99999999999999999999", "²"])
def test_a_delivery_receipt_naming_an_impossible_message_is_ignored(outbox_id: str, client: TestClient) -> None:
    # The id in the callback's address is ours, but anyone holding a signed callback can alter it.
    form = {"MessageSid": "SM" + "2" * 32, "MessageStatus": "delivered", "AccountSid": "AC" + "7" * 32}
    path = f"/sms/twilio/status?id={quote(outbox_id)}"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + path, form)
    assert client.post(path, data=form, headers={"X-Twilio-Signature": signature}).status_code == 204
