"""The JSON API as a citizen's browser and the acceptance checks use it."""
from __future__ import annotations

from typing import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from sqlalchemy import func, select

from dispatch import lifecycle, outbox
from dispatch.limits import Limits
from dispatch.models import OutboxMessage, Ticket
from dispatch.actors import Actor
from dispatch.public import ticket_by_number
from dispatch.units import City, unit_by_code
from dispatch.vocabulary import Role
from tests.conftest import unit_staff
from web.app import create_app
from web.config import Settings


@pytest.fixture
def client(database_url: str, sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        yield client


def file_complaint(client: TestClient, **fields: object) -> dict:
    body = {"body": "我叫张三丰，电话13812345678，小区门口垃圾三天没人清运。", "phone": "13812345678",
            "name": "张三丰", "title": "垃圾无人清运", **fields}
    response = client.post("/api/v1/tickets", json=body)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("typed, stored", [
    ("１３８０３９１０１０３", "+8613803910103"), ("86 13803910110", "+8613803910110"),
    ("+86 138 0391 0110", "+8613803910110"), ("0086 138 0391 0110", "+8613803910110"),
    ("0391-6612346", "+863916612346"), ("(0391)6612346", "+863916612346"), ("（０３９１）６６１２３４６", "+863916612346"),
])
def test_the_api_takes_a_phone_as_citizens_write_it(client: TestClient, sessions: sessionmaker[Session],
                                                     typed: str, stored: str) -> None:
    number = file_complaint(client, phone=typed)["number"]
    with sessions() as session:
        assert ticket_by_number(session, number).phone == stored


def test_a_phone_with_a_remark_is_refused_saying_what_is_accepted(client: TestClient) -> None:
    response = client.post("/api/v1/tickets", json={"body": "路灯不亮。", "phone": "13803910114（微信同号）"})
    assert response.status_code == 422 and response.json()["field"] == "phone"
    assert "请填写11位手机号或带区号的固定电话，例如 13812345678 或 0391-6612345" in response.json()["message"]


def test_citizen_files_a_complaint_and_looks_it_up_masked(client: TestClient) -> None:
    created = file_complaint(client, type="投诉", location="沁园街道")
    assert created["state"] == "received" and len(created["query_code"]) == 6
    view = client.get(f"/api/v1/tickets/{created['number']}", params={"code": created["query_code"]}).json()
    assert view["number"] == created["number"] and view["state"] == "received"
    assert view["phone"] == "138****5678" and view["name"] == "张**"
    assert "13812345678" not in str(view) and "张三丰" not in str(view)
    assert [e["action"] for e in view["timeline"]] == ["receive"]
    assert view["deadline"] is not None and view["overdue"] is False


def test_a_wrong_code_is_answered_exactly_like_an_unknown_number(client: TestClient) -> None:
    created = file_complaint(client)
    wrong = client.get(f"/api/v1/tickets/{created['number']}", params={"code": "000000" if created["query_code"] != "000000" else "111111"})
    unknown = client.get("/api/v1/tickets/20000101-9999", params={"code": created["query_code"]})
    missing = client.get(f"/api/v1/tickets/{created['number']}")
    assert wrong.status_code == unknown.status_code == missing.status_code == 404
    assert wrong.json() == unknown.json() == missing.json()


@pytest.mark.parametrize("payload, field", [
    ({"body": ""}, "body"),
    ({"body": "   "}, "body"),
    ({"title": "x"}, "body"),
    ({"body": "字" * 5001}, "body"),
    ({"body": 42}, "body"),
    ({"body": "路灯坏了", "phone": "123"}, "phone"),
    ({"body": "路灯坏了", "type": "gossip"}, "type"),
    ({"body": "路灯坏了", "confidential": "yes"}, "confidential"),
])
def test_bad_input_gets_422_saying_what_is_wrong(client: TestClient, payload: dict, field: str) -> None:
    response = client.post("/api/v1/tickets", json=payload)
    assert response.status_code == 422
    assert response.json()["field"] == field and response.json()["message"]


def test_a_body_that_is_not_a_json_object_gets_422(client: TestClient) -> None:
    assert client.post("/api/v1/tickets", content=b"body=hello").status_code == 422
    assert client.post("/api/v1/tickets", json=["a list"]).status_code == 422


def test_a_repeat_is_joined_without_telling_the_number_or_code(client: TestClient) -> None:
    """Whoever knows a citizen's phone and words must not learn their code: it goes by SMS
    to the phone on file."""
    outbox.install(client.app.state.services.sessions)  # type: ignore[attr-defined]
    first = file_complaint(client)
    again = client.post("/api/v1/tickets", json={"body": "我叫张三丰，电话13812345678，小区门口垃圾三天没人清运。",
                                                 "phone": "+86 138 1234 5678"})
    assert again.status_code == 200 and again.json()["repeat_of_open_ticket"] is True
    assert "query_code" not in again.json() and first["query_code"] not in again.text
    assert first["number"] not in again.text and "短信" in again.json()["message"]
    texts = _outbox(client)
    assert [(m.kind, m.recipient) for m in texts] == [("received", "+8613812345678"),
                                                      ("repeat_code", "+8613812345678")]
    assert first["query_code"] in texts[1].body


def _outbox(client: TestClient) -> list[OutboxMessage]:
    with client.app.state.services.sessions() as session:  # type: ignore[attr-defined]
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_no_text_goes_abroad_and_one_number_gets_at_most_its_cap(database_url: str,
                                                                 sessions: sessionmaker[Session]) -> None:
    settings = Settings(database_url=database_url, limits=Limits.build(api_intake_per_minute=0,
                                                                       sms_per_recipient_per_day=10))
    with TestClient(create_app(settings)) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        outbox.install(services.sessions, limits=settings.limits.sms)
        for n in range(50):
            file_complaint(client, body=f"第{n}件：路灯不亮。", phone=f"+4477009001{n:02d}")
        assert _outbox(client) == []
        for n in range(30):
            file_complaint(client, body=f"第{n}件：井盖丢了。", phone="13812345678")
        assert len(_outbox(client)) == 10


def test_intake_is_limited_per_address_with_a_chinese_429(database_url: str, sessions: sessionmaker[Session],
        minute_to_spare: None) -> None:
    settings = Settings(database_url=database_url, limits=Limits.build(api_intake_per_minute=10))
    with TestClient(create_app(settings)) as client:
        answers = [client.post("/api/v1/tickets", json={"body": f"第{n}件：路灯不亮。"}) for n in range(12)]
        assert [a.status_code for a in answers] == [201] * 10 + [429] * 2
        refused = answers[-1]
        assert 0 < int(refused.headers["retry-after"]) <= 60
        assert refused.json()["error"] == "rate_limited" and "秒后再试" in refused.json()["message"]
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(Ticket)) == 10


def test_guessing_query_codes_gets_429_within_30_tries(client: TestClient) -> None:
    created = file_complaint(client)
    wrong = [f"{n:06d}" for n in range(40) if f"{n:06d}" != created["query_code"]]
    statuses = [client.get(f"/api/v1/tickets/{created['number']}", params={"code": code}).status_code
                for code in wrong[:30]]
    assert 429 in statuses and set(statuses[:statuses.index(429)]) == {404}
    refused = client.get(f"/api/v1/tickets/{created['number']}", params={"code": created["query_code"]})
    assert refused.status_code == 429 and "秒后再试" in refused.json()["message"] and refused.headers["retry-after"]


def test_public_figures_leave_out_the_per_agent_call_figures(client: TestClient) -> None:
    calls = client.get("/api/v1/stats").json()["calls"]
    assert "agents" not in calls and "queues" in calls and "answer_rate" in calls


def test_stats_follow_the_lifecycle(client: TestClient, sessions: sessionmaker[Session], city: City) -> None:
    from dispatch.units import import_units

    with sessions.begin() as session:
        import_units(session, city)
    empty = client.get("/api/v1/stats").json()
    assert empty["tickets"]["received"] == 0 and empty["tickets"]["resolution_rate"] is None
    created = [file_complaint(client, body=f"第{i}件：路灯不亮", phone=f"1380391000{i}") for i in range(4)]

    operator = Actor(label="op", role=Role.OPERATOR)
    with sessions.begin() as session:
        housing = unit_by_code(session, "housing")
        staff = unit_staff(session, "housing")
        t0, t1, t2 = (ticket_by_number(session, c["number"]) for c in created[:3])
        lifecycle.transfer(session, t0, housing, operator)
        lifecycle.accept(session, t0, staff)
        lifecycle.resolve(session, t0, staff, "已修好，经现场核实问题已解决")
        lifecycle.transfer(session, t1, housing, operator)
        lifecycle.return_ticket(session, t1, staff, "非本单位职责")
        lifecycle.answer(session, t2, operator, "已当场答复市民的咨询问题")
    stats = client.get("/api/v1/stats").json()
    tickets = stats["tickets"]
    assert tickets["received"] == 4 and tickets["answered"] == 1 and tickets["resolved"] == 1
    assert tickets["transfer_rate"] == pytest.approx(0.5)
    assert tickets["return_rate"] == pytest.approx(0.5)
    assert tickets["successful_transfer_rate"] == pytest.approx(0.5)
    assert tickets["resolution_rate"] == pytest.approx(0.5)
    assert tickets["on_time_rate"] == pytest.approx(1.0)
    assert tickets["satisfaction_rate"] is None
    assert tickets["overdue"] == 0
    assert [u["unit_code"] for u in stats["units"]] == ["housing"]
    assert stats["calls"]["offered"] == 0 and stats["calls"]["answer_rate"] is None
    resolved_view = client.get(f"/api/v1/tickets/{created[0]['number']}", params={"code": created[0]["query_code"]}).json()
    assert resolved_view["state"] == "resolved" and resolved_view["reply"] == "已修好，经现场核实问题已解决"
    assert [e["action"] for e in resolved_view["timeline"]] == ["receive", "transfer", "accept", "resolve"]


@pytest.mark.parametrize("query", ["since=2026-13-01", "until=yesterday", "since=2026-11-10&until=2026-11-01"])
def test_stats_refuse_bad_dates(client: TestClient, query: str) -> None:
    response = client.get(f"/api/v1/stats?{query}")
    assert response.status_code == 422 and response.json()["field"] in ("since", "until")


def test_a_gbk_json_body_is_refused_as_not_utf8_and_nothing_is_filed(client: TestClient,
                                                                      sessions: sessionmaker[Session]) -> None:
    body = '{"body": "人民路路灯坏了一个星期，晚上很黑。", "phone": "13812345678"}'.encode("gbk")
    refused = client.post("/api/v1/tickets", content=body, headers={"Content-Type": "application/json; charset=gbk"})
    assert refused.status_code == 415
    assert refused.json()["error"] == "invalid_input" and "UTF-8" in refused.json()["message"]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer_and_files_nothing_more(
        client: TestClient, sessions: sessionmaker[Session]) -> None:
    body = {"body": "人民路路灯坏了一个星期，晚上很黑。", "phone": "13812345678"}
    key = {"Idempotency-Key": "5f0c4e0e-6a43-4a8e-9a57-1b1f2f0c9b11"}
    first = client.post("/api/v1/tickets", json=body, headers=key)
    again = client.post("/api/v1/tickets", json=dict(reversed(body.items())), headers=key)
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"].startswith("application/json")
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 1
    other = client.post("/api/v1/tickets", json={**body, "body": "另一件事：小区噪音扰民。"}, headers=key)
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["message"]
    assert client.post("/api/v1/tickets", json=body, headers={"Idempotency-Key": "x" * 201}).status_code == 422


def test_a_key_whose_first_attempt_was_refused_may_be_tried_again(client: TestClient) -> None:
    key = {"Idempotency-Key": "retry-1"}
    assert client.post("/api/v1/tickets", json={"body": ""}, headers=key).status_code == 422
    assert client.post("/api/v1/tickets", json={"body": "路灯坏了", "phone": "13812345678"}, headers=key).status_code == 201
