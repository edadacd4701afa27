"""修改受理信息 on the ticket page: an operator corrects what was taken down at 受理 while the
ticket has not gone to a unit; the record keeps the old and new values, the deadline follows
the type where the type set it, and a ticket with a unit keeps what it was sent, but for what a
supervisor corrects until the unit has replied (the name, 保密...)."""
from __future__ import annotations

import re

from sqlalchemy import select
from starlette.testclient import TestClient

from dispatch.deadlines import DeadlinePolicy
from dispatch.models import Ticket, TicketEvent
from dispatch.vocabulary import RequestType, Urgency
from dispatch.demo import DEMO_PASSWORD
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


def _form(**fields: str) -> dict[str, str]:
    """The correction form as a browser posts it: every field, changed or not."""
    return {"type": "consultation", "urgency": "normal", "phone": "13803910123", "body": BODY,
            "location": "沁园街道", "name": "张山", "confidential": "0", **fields}


def test_a_supervisor_makes_a_ticket_a_unit_holds_confidential_and_the_public_and_the_unit_lose_sight_at_once(
        client: TestClient, services: Services) -> None:
    """The citizen calls back after the unit has 签收: their name was taken down wrong, and
    they are afraid of the barbecue stall's owner. The supervisor corrects the name and marks
    the ticket 保密: Open311's public list drops it and the unit's page hides who filed it,
    with the next request, not after some cache runs out."""
    login(client, "operator")
    number = _file(client, "correct-5", name="张山")
    act(client, number, "transfer", unit_code="housing")
    login(client, "housing")
    act(client, number, "accept")
    assert "张山" in client.get(f"/tickets/{number}").text
    public = client.get("/open311/v2/requests.json").json()
    assert number in [r["service_request_id"] for r in public]
    assert client.get(f"/open311/v2/requests/{number}.json").status_code == 200

    login(client, "operator")   # operators keep to tickets not yet with a unit
    assert 'id="correct-form"' not in client.get(f"/tickets/{number}").text
    assert "不能执行" in refusal(client, number, "correct", **_form(name="张三"))

    login(client, "supervisor")
    page = client.get(f"/tickets/{number}").text
    assert 'id="correct-form"' in page and "督办员可改" in page
    act(client, number, "correct", **_form(name="张三", confidential="1"))
    ticket, events = _ticket(services, number)
    assert (ticket.name, ticket.confidential, ticket.state) == ("张三", True, "in_progress")
    assert (events[-1].data or {})["changes"] == {"name": {"old": "张山", "new": "张三"},
                                                  "confidential": {"old": False, "new": True}}
    record = client.get(f"/tickets/{number}").text.split('id="audit-log"')[1]
    assert re.search(r'data-field="name">姓名：\s*<del>张山</del> → <ins>张三</ins>', record)
    assert re.search(r'data-field="confidential">保密：\s*否 → 是<', record)

    public = client.get("/open311/v2/requests.json").json()
    assert number not in [r["service_request_id"] for r in public]
    assert client.get(f"/open311/v2/requests/{number}.json").status_code == 404
    login(client, "housing")
    seen = client.get(f"/tickets/{number}").text
    assert "张三" not in seen and "张山" not in seen and "（保密）" in seen


def test_a_supervisor_corrects_through_the_api_and_a_unit_is_refused_with_403(
        client: TestClient, services: Services) -> None:
    login(client, "operator")
    number = _file(client, "correct-6")
    act(client, number, "transfer", unit_code="housing")

    def bearer(username: str) -> dict[str, str]:
        issued = client.post("/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD})
        assert issued.status_code == 200, issued.text
        return {"Authorization": f"Bearer {issued.json()['token']}"}

    api = f"/api/v1/staff/tickets/{number}/correct"
    refused = client.post(api, json={"confidential": True}, headers=bearer("housing"))
    assert refused.status_code == 403
    late = client.post(api, json={"confidential": True}, headers=bearer("operator"))
    assert late.status_code == 409 and late.json()["reason"] == "illegal_transition"
    done = client.post(api, json={"name": "王五", "confidential": True}, headers=bearer("supervisor"))
    assert done.status_code == 200 and done.json()["state"] == "transferred"
    ticket, events = _ticket(services, number)
    assert (ticket.name, ticket.confidential) == ("王五", True)
    assert events[-1].actor == "supervisor" and set((events[-1].data or {})["changes"]) == {"name", "confidential"}
