"""Text that says nothing waits for an operator, and the operator sees why: on the console's
list of tickets waiting for dispatch and on the ticket page."""
from __future__ import annotations

import html

from starlette.testclient import TestClient

from dispatch.routing import CONTENT_REASONS
from dispatch.public import ticket_by_number
from classifier.text import ContentProblem
from tests.web.pages_support import login
from web.services import Services


def file(client: TestClient, body: str, phone: str) -> str:
    response = client.post("/api/v1/tickets", json={"body": body, "phone": phone})
    assert response.status_code == 201, response.text
    return response.json()["number"]


def test_a_meaningless_text_is_left_to_the_operator_with_its_reason(client: TestClient, services: Services) -> None:
    reason = CONTENT_REASONS[ContentProblem.NO_CONTENT_WORDS]
    number = file(client, "某文本", "13803910007")
    with services.sessions() as session:
        routing = ticket_by_number(session, number).routing
    assert routing is not None and routing["manual_triage"] and routing["reason"] == reason
    login(client, "operator")
    console = html.unescape(client.get("/operator").text)
    waiting = console[console.index('id="waiting"'):]
    row = waiting[waiting.index(number):]
    assert reason in row[:row.index("</tr>")]
    page = html.unescape(client.get(f"/tickets/{number}").text)
    assert f"未自动分派：{reason}" in page


def test_a_real_short_complaint_shows_no_content_reason(client: TestClient, services: Services) -> None:
    number = file(client, "路灯坏了", "13803910008")
    with services.sessions() as session:
        routing = ticket_by_number(session, number).routing
    # The demo app has no model yet: it waits for one, not for lack of content.
    assert routing is not None and routing["reason"] not in CONTENT_REASONS.values()
    login(client, "operator")
    page = html.unescape(client.get(f"/tickets/{number}").text)
    assert "需人工分拣" not in page
