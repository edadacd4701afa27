"""The routing rules page: a supervisor adds a phrase -> unit rule, the next ticket follows
it without a restart, and removing it keeps the record."""
from __future__ import annotations

from sqlalchemy import select
from starlette.testclient import TestClient

from dispatch.models import RoutingRule, Ticket
from tests.web.pages_support import csrf, login, token_in
from web.services import Services

BIKES = "小区门口共享单车乱停乱放，堵住了消防通道。"


def file_a_call(client: TestClient, services: Services, body: str, form_id: str) -> Ticket:
    login(client, "operator")
    response = client.post("/operator/tickets", data={
        "csrf_token": csrf(client, "/operator"), "form_id": form_id, "type": "complaint", "urgency": "normal",
        "phone": "13803910123", "body": body})
    assert response.status_code == 303, response.text
    number = response.headers["location"].split("/")[2].split("?")[0]
    with services.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None
        return ticket


def test_a_rule_added_on_the_page_routes_the_next_ticket_and_its_removal_is_kept(
        client: TestClient, services: Services) -> None:
    login(client, "supervisor")
    page = client.get("/supervisor/rules")
    assert page.status_code == 200 and "燃气泄漏" in page.text  # the city file's rules are listed
    added = client.post("/supervisor/rules", data={"csrf_token": token_in(page.text), "phrases": "共享单车，单车乱停",
                                                   "unit": "urban-management", "note": "城管负责共享单车停放"})
    assert added.status_code == 303 and added.headers["location"].endswith("done=added")

    routing = file_a_call(client, services, BIKES, "call-1").routing
    assert routing is not None and (routing["source"], routing["unit_code"]) == ("rule", "urban-management")
    assert "共享单车" in routing["reason"]

    login(client, "supervisor")
    with services.sessions() as session:
        rule = session.scalar(select(RoutingRule))
        assert rule is not None and rule.phrases == ["共享单车", "单车乱停"] and rule.created_by == "supervisor"
    removed = client.post(f"/supervisor/rules/{rule.id}/remove", data={"csrf_token": csrf(client, "/supervisor/rules")})
    assert removed.status_code == 303
    again = file_a_call(client, services, "共享单车堆在盲道上，盲人无法通行。", "call-2").routing
    assert again is None or again["source"] != "rule"
    with services.sessions() as session:
        kept = session.get(RoutingRule, rule.id)
        assert kept is not None and kept.removed_at is not None and kept.removed_by == "supervisor"
    login(client, "supervisor")
    history = client.get("/supervisor/rules").text
    assert "已停用的规则 <span class=\"count\">1</span>" in history


def test_bad_rules_are_explained_and_nothing_is_stored(client: TestClient, services: Services) -> None:
    login(client, "supervisor")
    for phrases, unit, reason in [("", "housing", "关键词"), ("灯", "housing", "应为 2 到 30 个字"),
                                  ("井盖", "no-such-unit", "承办单位")]:
        response = client.post("/supervisor/rules", data={"csrf_token": csrf(client, "/supervisor/rules"),
                                                          "phrases": phrases, "unit": unit})
        assert response.status_code == 422 and reason in response.text, (phrases, unit)
    with services.sessions() as session:
        assert session.scalar(select(RoutingRule)) is None


def test_only_supervisors_edit_rules_and_every_post_needs_its_csrf_token(
        client: TestClient, services: Services) -> None:
    login(client, "housing")
    assert client.get("/supervisor/rules").status_code == 403
    login(client, "supervisor")
    forged = client.post("/supervisor/rules", data={"phrases": "井盖", "unit": "housing"})
    assert forged.status_code == 403
    with services.sessions() as session:
        assert session.scalar(select(RoutingRule)) is None
