"""修改受理信息 on the ticket page: an operator corrects what was taken down at 受理 while the
ticket has not gone to a unit; the record keeps the old and new values, the deadline follows
the type where the type set it, and a ticket with a unit keeps what it was sent."""
from __future__ import annotations

from sqlalchemy import select
from starlette.testclient import TestClient

from dispatch.deadlines import DeadlinePolicy
from dispatch.models import Ticket, TicketEvent
from dispatch.vocabulary import RequestType, Urgency
from tests.web.pages_support import act, login, refusal, token_in
from web.services import Services

BODY = "小区门口的烧烤摊每晚营业到凌晨两点，油烟很大，严重影响休息。"


def _file(client: TestClient, form_id: str, **fields: str) -> str:
    token = token_in(client.get("/operator").text)
    response = client.post("/operator/tickets", data={
        "csrf_token": token, "form_id": form_id, "type": "consultation", "urgency": "normal",
        "phone": "13803910123", "body": BODY, "location": "沁园街道", **fields})
    assert response.status_code == 303, response.text
    return response.headers["location"].split("/")[2].split("?")[0]


def _ticket(services: Services, number: str) -> tuple[Ticket, list[TicketEvent]]:
    with services.sessions() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        events = list(session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                      .order_by(TicketEvent.id)))
        session.expunge_all()
        return ticket, events


def test_an_operator_corrects_the_type_the_request_and_the_place_and_the_record_keeps_both(
        client: TestClient, services: Services) -> None:
    login(client, "operator")
    number = _file(client, "correct-1")
    page = client.get(f"/tickets/{number}").text
    assert 'id="correct-form"' in page and "修改受理信息" in page
    filed, _ = _ticket(services, number)
    new_body = BODY + "已经持续一个月了。"
    response = act(client, number, "correct", type="complaint", urgency="urgent", phone="138 0391 0123",
                   body=new_body, location="济水街道文化路12号")
    assert "done=correct" in response.headers["location"]  # type: ignore[attr-defined]
    ticket, events = _ticket(services, number)
    assert (ticket.request_type, ticket.urgency, ticket.body, ticket.location) == (
        "complaint", "urgent", new_body, "济水街道文化路12号")
    # Filed as a consultation (3 working days); a complaint, urgent, has 2 from receipt.
    assert ticket.deadline == DeadlinePolicy().deadline(ticket.received_at, RequestType.COMPLAINT, Urgency.URGENT)
    assert ticket.deadline != filed.deadline
    assert ticket.state == "received" and ticket.number == filed.number
    correction = events[-1]
    assert correction.action == "correct" and correction.from_state == correction.to_state == "received"
    changes = (correction.data or {})["changes"]
    assert changes["type"] == {"old": "consultation", "new": "complaint"}
    assert changes["urgency"] == {"old": "normal", "new": "urgent"}
    assert changes["body"] == {"old": BODY, "new": new_body}
    assert changes["location"] == {"old": "沁园街道", "new": "济水街道文化路12号"}
    assert "phone" not in changes   # the same number, written another way
    assert (correction.data or {})["deadline"]["old"] == filed.deadline.isoformat()
    shown = client.get(f"/tickets/{number}?done=correct").text
    assert "受理信息已修改" in shown
    record = shown[shown.index('id="audit-log"'):]
    assert "修改受理信息" in record and "咨询 → 投诉" in record and "一般 → 紧急" in record
    assert "<del>沁园街道</del>" in record and "办理时限" in record


def test_a_correction_that_changes_nothing_is_refused_in_chinese_and_its_form_stays_open(
        client: TestClient, services: Services) -> None:
    login(client, "operator")
    number = _file(client, "correct-2")
    page = refusal(client, number, "correct", type="consultation", urgency="normal", phone="13803910123",
                   body=BODY, location="沁园街道")
    assert "没有修改任何受理信息" in page
    assert '<details class="card" id="correct" open>' in page
    wrong = refusal(client, number, "correct", type="consultation", urgency="normal", phone="12",
                    body=BODY + "补充", location="沁园街道")
    assert 'id="action-error"' in wrong and "补充" in wrong   # what was typed comes back
    _, events = _ticket(services, number)
    assert [e.action for e in events] == ["receive"]


def test_a_ticket_with_a_unit_offers_no_correction_and_refuses_one(client: TestClient, services: Services) -> None:
    login(client, "operator")
    number = _file(client, "correct-3")
    act(client, number, "transfer", unit_code="urban-management")
    page = client.get(f"/tickets/{number}").text
    assert 'id="correct-form"' not in page
    refused = refusal(client, number, "correct", type="complaint")
    assert "不能执行" in refused
    ticket, _ = _ticket(services, number)
    assert ticket.request_type == "consultation"


def test_a_deadline_set_by_a_deadline_class_stays_when_the_type_is_corrected(
        client: TestClient, services: Services) -> None:
    login(client, "operator")
    number = _file(client, "correct-4")

    def classed(session) -> None:  # type: ignore[no-untyped-def]
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        ticket.deadline_class = "urgent"

    services.run_sync(classed)
    before, _ = _ticket(services, number)
    act(client, number, "correct", type="complaint")
    after, events = _ticket(services, number)
    assert after.request_type == "complaint" and after.deadline == before.deadline
    assert "deadline" not in (events[-1].data or {})
