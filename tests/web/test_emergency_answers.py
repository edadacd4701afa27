"""直接办结 of words the emergency rule flags, on every path, over HTTP against a real server:
the console asked before; the ticket page's own 直接办结 and the staff API's `answer` ask the
same question (dispatch.emergency): refused until the operator confirms it is no emergency."""
from __future__ import annotations

import datetime as dt
import html
import re
from typing import Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import api_tokens
from dispatch.models import StaffUser, Ticket
from tests.web.pages_support import csrf, login, version_in
from tests.web.server import ServerThread
from web.app import create_app
from web.services import Services

SMOKE = "楼下着火了，冒了很多烟"
REPLY = "经核实为邻居家做饭油烟，已告知市民无火情"


@pytest.fixture
def client(services: Services) -> Iterator[httpx.Client]:
    with ServerThread(create_app(services.settings, services)) as server, \
            httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as http:
        yield http


def filed(client: httpx.Client, body: str, phone: str) -> str:
    """A ticket filed on the console with 受理 only, as an operator does before checking."""
    response = client.post("/operator/tickets", data={
        "csrf_token": csrf(client, "/operator"), "form_id": phone, "type": "consultation", "urgency": "normal",
        "phone": phone, "body": body})
    assert response.status_code == 303, response.text
    return response.headers["location"].split("/")[2].split("?")[0]


def state_of(services: Services, number: str) -> str:
    with services.sessions() as session:
        return session.scalars(select(Ticket.state).where(Ticket.number == number)).one()


def answer_on_page(client: httpx.Client, number: str, **fields: str) -> httpx.Response:
    page = client.get(f"/tickets/{number}")
    return client.post(f"/tickets/{number}/answer", data={
        "csrf_token": csrf(client, f"/tickets/{number}"), "expected_version": str(version_in(page.text)),
        "text": REPLY, **fields})


def test_the_ticket_pages_direct_answer_of_a_fire_asks_the_operator_first(
        client: httpx.Client, services: Services) -> None:
    login(client, "operator")
    number = filed(client, SMOKE, "13803910131")
    refused = answer_on_page(client, number)
    assert refused.status_code == 303
    page = client.get(refused.headers["location"]).text
    error = html.unescape(re.search(r'id="action-error">([^<]*)<', page).group(1))
    assert "疑似紧急情况（建议即时转 119）" in error and "未直接办结" in error
    # The same form, the reply as typed, and the operator's confirmation beside it.
    assert REPLY in page and 'name="answer_confirmed" value="1"' in page and "不是紧急情况，仍直接办结" in page
    assert state_of(services, number) == "received"

    # The operator has checked with the caller: no fire, and the answer stands.
    done = answer_on_page(client, number, answer_confirmed="1")
    assert done.status_code == 303 and "done=answer" in done.headers["location"]
    assert state_of(services, number) == "answered"

    # Words that point nowhere are answered at once, with no question.
    quiet = filed(client, "请问社保卡丢了怎么补办", "13803910132")
    assert 'name="answer_confirmed"' not in client.get(f"/tickets/{quiet}").text
    assert "done=answer" in answer_on_page(client, quiet).headers["location"]
    assert state_of(services, quiet) == "answered"


def test_the_staff_apis_answer_of_a_fire_is_refused_with_a_code_until_confirmed(
        client: httpx.Client, services: Services) -> None:
    login(client, "operator")
    number = filed(client, SMOKE, "13803910133")

    def make(session: Session) -> str:
        user = session.scalars(select(StaffUser).where(StaffUser.username == "operator")).one()
        return api_tokens.create(session, user, "test", lifetime=dt.timedelta(hours=1))[1]

    headers = {"Authorization": f"Bearer {services.run_sync(make)}"}
    path = f"/api/v1/staff/tickets/{number}/answer"
    refused = client.post(path, json={"reply": REPLY}, headers=headers)
    assert refused.status_code == 422, refused.text
    answer = refused.json()
    assert answer["reason"] == "emergency_not_answered" and answer["field"] == "body"
    assert "疑似紧急情况（建议即时转 119）" in answer["message"]
    assert client.post(path, json={"reply": REPLY, "answer_confirmed": False}, headers=headers).status_code == 422
    assert state_of(services, number) == "received"

    done = client.post(path, json={"reply": REPLY, "answer_confirmed": True}, headers=headers)
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "answered"
