"""The operator console while a request is typed (/operator/draft): the classifier's proposal
for the ticket the form would file, the figure the filed ticket's page then shows."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.testclient import TestClient

from dispatch.models import Ticket
from tests.web.pages_support import login, token_in
from web.pages.labels import percent
from web.services import Services

NOISE = "楼上装修噪音太大，每天早上七点就开始电钻，周末也不停，严重影响休息，请相关部门管一管。"


def _draft(client: TestClient, token: str, **fields: str) -> dict[str, Any]:
    response = client.post("/operator/draft", data={"csrf_token": token, **fields})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _file(client: TestClient, token: str, form_id: str, body: str, **fields: str) -> str:
    response = client.post("/operator/tickets", data={
        "csrf_token": token, "form_id": form_id, "type": "complaint", "urgency": "normal",
        "phone": "13803910123", "body": body, **fields})
    assert response.status_code == 303, response.text
    return response.headers["location"]


def _ticket(services: Services, number: str) -> Ticket:
    with services.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None
        session.expunge(ticket)
        return ticket


def test_the_console_shows_the_figure_the_filed_tickets_page_shows(client: TestClient, services: Services,
                                                                  small_model: Any) -> None:
    services.router.model = small_model
    login(client, "operator")
    token = token_in(client.get("/operator").text)
    # No title typed: the ticket's title is the start of the body, and routing reads it before
    # the body; the console reads the same text (it read "title body", which scored otherwise).
    shown = _draft(client, token, title="", body=NOISE, location="")
    number = _file(client, token, "draft-1", NOISE).split("/")[2].split("?")[0]
    routing = _ticket(services, number).routing or {}
    stored = routing["suggestions"][0]["probability"]
    assert shown["suggestions"][0]["probability"] == stored
    assert shown["suggestions"][0]["percent"] == percent(stored)
    assert shown["sure"] is (routing["unit_code"] is not None)
    assert shown["threshold"] == percent(services.router.min_confidence)
    assert percent(stored) in client.get(f"/tickets/{number}").text
    # With a title and a location the two still agree.
    shown = _draft(client, token, title="装修噪音扰民", body=NOISE, location="沁园街道")
    number = _file(client, token, "draft-2", NOISE + "又来了", title="装修噪音扰民", location="沁园街道")
    number = number.split("/")[2].split("?")[0]
    again = _draft(client, token, title="装修噪音扰民", body=NOISE + "又来了", location="沁园街道")
    assert again["suggestions"][0]["probability"] == (_ticket(services, number).routing or {})["suggestions"][0]["probability"]
    assert shown["suggestions"]


def test_the_consoles_button_says_it_files_and_filing_leaves_the_transfer_to_the_operator(
        client: TestClient, services: Services, small_model: Any) -> None:
    services.router.model = small_model
    login(client, "operator")
    console = client.get("/operator").text
    assert "受理并派单" not in console
    assert 'id="intake-submit">受理</button>' in console
    location = _file(client, token_in(console), "button-1", NOISE)
    assert location.endswith("?done=filed")
    assert _ticket(services, location.split("/")[2].split("?")[0]).state == "received"
